/**
 * What Terraform's output says about a failed or stopped command, in the terms the operator acts on:
 * a state lock held by another run (its Lock Info block), a state lock Terraform may have left behind
 * (two interrupts, killed by a signal, a failed unlock), and a plan refused because it would replace a
 * resource that has prevent_destroy (after a first create that failed midway: a tainted resource).
 * Each message names the stack and gives the exact command, read from the stack's synthesized
 * configuration (backend, region, resource names).
 */
import * as fs from "fs";
import * as path from "path";
import { plainText } from "./terminal";

/** Terraform's Lock Info block (`terraform` prints it with a state lock error). */
export interface LockInfo {
  readonly id: string;
  readonly path?: string;
  readonly operation?: string;
  readonly who?: string;
  readonly created?: string;
}

/** Terraform's diagnostics without colours or the box drawn around them (`│ `). */
export function plainDiagnostics(output: string): string {
  return plainText(output)
    .split("\n")
    .map((l) => l.replace(/^\s*[│╷╵]\s?/, ""))
    .join("\n");
}

/** The last Lock Info block in Terraform's output, if any. */
export function lockInfoOf(output: string): LockInfo | undefined {
  const text = plainDiagnostics(output);
  const at = text.lastIndexOf("Lock Info:");
  if (at < 0) return undefined;
  const block = text.slice(at, at + 2000);
  const field = (name: string) => new RegExp(`^\\s*${name}:[ \\t]*(\\S[^\\n]*)?$`, "m").exec(block)?.[1]?.trim() || undefined;
  const id = field("ID");
  if (!id) return undefined;
  const more: Record<string, string> = {};
  for (const [key, name] of [
    ["path", "Path"],
    ["operation", "Operation"],
    ["who", "Who"],
    ["created", "Created"],
  ] as const) {
    const value = field(name);
    if (value) more[key] = value;
  }
  return { id, ...more };
}

interface StackConfig {
  terraform?: { backend?: { s3?: { bucket?: string; key?: string; region?: string; dynamodb_table?: string } } };
  provider?: { aws?: { region?: string }[] | { region?: string } };
  resource?: Record<string, Record<string, Record<string, unknown>>>;
}

function configOf(dir: string): StackConfig {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, "cdk.tf.json"), "utf8")) as StackConfig;
  } catch {
    return {};
  }
}

const shown = (file: string) => {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith("..") ? file : relative;
};

/** `make <command> ENV=<env> PHASE=<phase>` for a stack named accessweaver-<env>-<phase>. */
function makeOf(stack: string, command: string): string {
  const m = /^accessweaver-(dev|staging|prod)-([a-z]+)$/.exec(stack);
  return m ? `make ${command} ENV=${m[1]} PHASE=${m[2]}` : `make ${command}`;
}

/** The command that shows whether the stack's state lock is held, from its backend; undefined without one. */
function lockCheckOf(dir: string): string | undefined {
  const s3 = configOf(dir).terraform?.backend?.s3;
  if (!s3?.dynamodb_table || !s3.bucket || !s3.key) return undefined;
  // The S3 backend's lock item: LockID = <bucket>/<key>.
  return `aws dynamodb get-item --table-name ${s3.dynamodb_table} --key '{"LockID":{"S":"${s3.bucket}/${s3.key}"}}'${s3.region ? ` --region ${s3.region}` : ""} (an Item is the held lock; its Info holds the ID)`;
}

export interface Stopped {
  /** The program's name as the operator types it (terraform, tofu). */
  readonly program: string;
  /** The stack's folder (-chdir). */
  readonly dir: string;
  /** Its stdout and stderr, the end of them. */
  readonly output: string;
  /** The signal that killed it, if it was killed. */
  readonly killedBy?: NodeJS.Signals;
}

/** Why Terraform may have exited without releasing its state lock; undefined when it stopped the normal way. */
export function lockLeftBy(t: Stopped): string | undefined {
  const text = plainDiagnostics(t.output);
  if (/Two interrupts received/.test(text)) return `Terraform received a second interrupt and exited at once ("Two interrupts received. Exiting immediately")`;
  if (t.killedBy) return `Terraform was killed by ${t.killedBy} before it could finish`;
  if (/Error releasing the state lock/.test(text)) return "Terraform could not release its state lock (Error releasing the state lock)";
  return undefined;
}

/** The message for a state lock Terraform may have left behind. */
export function lockLeftMessage(t: Stopped, why: string): string {
  const stack = path.basename(t.dir);
  const id = lockInfoOf(t.output)?.id;
  const check = lockCheckOf(t.dir);
  return [
    `${why}, so the state lock of ${stack} is probably still held: the next plan or apply of it fails with "Error acquiring the state lock" until it is released.`,
    `Check first that no Terraform of ${stack} still runs (here: ps -ef | grep ${t.program}; or on another machine), then whether the lock is held: ${makeOf(stack, "plan")} fails with the lock's ID and who holds it${check ? `, or ${check}` : ""}.`,
    `Then release it: ${t.program} -chdir=${shown(t.dir)} force-unlock ${id ?? "<ID>"}${id ? "" : " (the ID shown by that check)"}`,
  ].join("\n");
}

/** The message for a plan or apply that found the state locked by another run. */
export function lockHeldMessage(t: Stopped): string | undefined {
  const text = plainDiagnostics(t.output);
  if (!/Error acquiring the state lock/.test(text)) return undefined;
  const stack = path.basename(t.dir);
  const info = lockInfoOf(t.output);
  const holder = info
    ? ` (lock ID ${info.id}${info.operation ? `, ${info.operation}` : ""}${info.who ? ` by ${info.who}` : ""}${info.created ? `, since ${info.created}` : ""})`
    : "";
  return [
    `The state of ${stack} is locked by another Terraform run${holder}: this is not a missing earlier phase.`,
    `If that run is still going (someone else's plan or apply, a run that lost its terminal), wait for it and run this again.`,
    `If it is over (a Terraform that was killed or stopped by a second Ctrl-C), release the lock: ${t.program} -chdir=${shown(t.dir)} force-unlock ${info?.id ?? "<the ID in Terraform's Lock Info above>"}`,
  ].join("\n");
}

/** What to look at in AWS for a resource that holds data, by type (the identifier from the configuration). */
function awsCheckOf(dir: string, address: string): string | undefined {
  const config = configOf(dir);
  const [type, name] = address.replace(/\[.*\]$/, "").split(".");
  const resource = config.resource?.[type ?? ""]?.[name ?? ""] ?? {};
  const providers = config.provider?.aws;
  const region = config.terraform?.backend?.s3?.region ?? (Array.isArray(providers) ? providers[0]?.region : providers?.region);
  const at = region ? ` --region ${region}` : "";
  const id = (key: string) => (typeof resource[key] === "string" ? (resource[key] as string) : undefined);
  switch (type) {
    case "aws_db_instance":
      return `aws rds describe-db-instances --db-instance-identifier ${id("identifier") ?? "<its identifier>"}${at} --query 'DBInstances[0].DBInstanceStatus' ("available": it was created whole)`;
    case "aws_rds_cluster":
      return `aws rds describe-db-clusters --db-cluster-identifier ${id("cluster_identifier") ?? "<its identifier>"}${at} --query 'DBClusters[0].Status' ("available": it was created whole)`;
    case "aws_elasticache_replication_group":
      return `aws elasticache describe-replication-groups --replication-group-id ${id("replication_group_id") ?? "<its id>"}${at} --query 'ReplicationGroups[0].Status' ("available": it was created whole)`;
    case "aws_s3_bucket":
      return `aws s3api head-bucket --bucket ${id("bucket") ?? "<its name>"}${at} (no error: it exists)`;
    default:
      return undefined;
  }
}

/** The message for a plan refused because it would replace a resource that has prevent_destroy. */
export function protectedReplaceMessage(t: Stopped): string | undefined {
  const text = plainDiagnostics(t.output).replace(/\s+/g, " ");
  if (!/Instance cannot be destroyed/.test(text)) return undefined;
  const addresses = [...new Set([...text.matchAll(/Resource (\S+) has lifecycle\.prevent_destroy set/g)].map((m) => m[1]!))];
  if (addresses.length === 0) return undefined;
  const stack = path.basename(t.dir);
  const chdir = `${t.program} -chdir=${shown(t.dir)}`;
  const lines = [
    `Terraform refuses to plan ${stack}: the plan would replace ${addresses.join(", ")}, which hold${addresses.length === 1 ? "s" : ""} data and ${addresses.length === 1 ? "has" : "have"} prevent_destroy.`,
    `The usual cause: a first apply that created ${addresses.length === 1 ? "it" : "them"} failed or was interrupted midway, so Terraform marked ${addresses.length === 1 ? "it" : "them"} "tainted" (possibly incomplete) and now plans to replace ${addresses.length === 1 ? "it" : "them"}. Check, for each:`,
  ];
  for (const a of addresses) {
    lines.push(`  ${a}: ${chdir} state show ${a} | head -1  (ends in "(tainted)" when this is the cause)`);
    const aws = awsCheckOf(t.dir, a);
    lines.push(`    in AWS: ${aws ?? "check in the AWS console that it exists and is complete"}`);
    lines.push(`    if it is tainted and complete in AWS, keep it: ${chdir} untaint ${a}`);
  }
  lines.push(
    `Then ${makeOf(stack, "plan")} again. If it is not tainted, a changed setting forces the replacement: find "forces replacement" in ${chdir} plan -no-color and restore that setting.`,
  );
  return lines.join("\n");
}
