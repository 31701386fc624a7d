/**
 * The guide's prerequisites ("Prérequis Production") as checks: each reads AWS (never changes it) and
 * answers pass, warn or fail with what to do.
 */
import { spawnSync } from "child_process";
import { EnvironmentConfig } from "../../src/config/settings";
import { SERVICE_CATALOG } from "../../src/config/services";
import { SERVICES, names } from "../../src/naming";
import { Resource } from "../review/model";
import { isObject } from "../tf-check/json";
import { SynthStack } from "../tf-check/stacks";
import { Aws } from "./aws";

export type Status = "pass" | "warn" | "fail";

export interface Check {
  readonly status: Status;
  readonly name: string;
  readonly detail: string;
  /** What to do when it is not a pass. */
  readonly fix?: string;
}

export const pass = (name: string, detail: string): Check => ({ status: "pass", name, detail });
export const warn = (name: string, detail: string, fix: string): Check => ({ status: "warn", name, detail, fix });
export const fail = (name: string, detail: string, fix: string): Check => ({ status: "fail", name, detail, fix });

/** The caller's account, or a failed check. */
export function credentials(aws: Aws, config: EnvironmentConfig, env: NodeJS.ProcessEnv): { checks: Check[]; account?: string } {
  const s = config.settings;
  const profile = env.AWS_PROFILE ? `AWS_PROFILE=${env.AWS_PROFILE}` : "AWS_PROFILE is not set";
  const who = aws("sts", "get-caller-identity");
  if (!who.ok) {
    return {
      checks: [
        fail(
          "credentials",
          `aws sts get-caller-identity failed: ${who.error}`,
          `configure credentials for account ${s.accountId} (e.g. aws configure --profile accessweaver-${config.env}; export AWS_PROFILE=accessweaver-${config.env}); ${profile}`,
        ),
      ],
    };
  }
  const account = String(who.json.Account);
  const checks: Check[] = [];
  if (account !== s.accountId) {
    checks.push(
      fail(
        "credentials",
        `the caller is in account ${account}, ${config.source.file} says aws_account_id = "${s.accountId}"`,
        `use credentials of account ${s.accountId}: ${profile}; select the environment's profile (export AWS_PROFILE=accessweaver-${config.env})`,
      ),
    );
  } else {
    checks.push(pass("credentials", `account ${account} (${who.json.Arn}) is aws_account_id`));
  }
  const shellRegion = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (shellRegion && shellRegion !== s.region) {
    checks.push(
      warn(
        "region",
        `your shell's region is ${shellRegion}; the environment's is ${s.region} (aws_region). These checks pass --region ${s.region}`,
        `export AWS_REGION=${s.region} before running the guide's aws commands (${profile})`,
      ),
    );
  } else {
    checks.push(pass("region", `${s.region} (aws_region)`));
  }
  return { checks, account };
}

/** A Terraform state backend: its bucket and lock table, in one region. */
export interface Backend {
  readonly bucket: string;
  readonly table: string;
  readonly region: string;
  /** What its checks' names start with: "" for the environment's backend, "DR " for the DR region's (whose lines name the region). */
  readonly label: string;
}

/** What makes the environment's backend (and, with a dr_region, the DR one and the replication to it). */
export const setupBackend = (config: EnvironmentConfig) => `run scripts/setup-backend.sh ${config.env} ${config.settings.region}`;

export function stateBackend(aws: Aws, config: EnvironmentConfig): Check[] {
  const n = names(config.env);
  return backendChecks(
    aws,
    { bucket: n.stateBucket(config.settings.accountId), table: n.lockTable, region: config.settings.region, label: "" },
    setupBackend(config),
  );
}

/** The bucket exists, versioned and encrypted; the lock table exists, active and encrypted with KMS. */
export function backendChecks(aws: Aws, b: Backend, setup: string): Check[] {
  const inRegion = ["--region", b.region];
  const at = (name: string) => (b.label ? `${name} in ${b.region}` : name);
  const [bucket, table] = [`${b.label}state bucket`, `${b.label}lock table`];
  const out: Check[] = [];
  const versioning = aws("s3api", "get-bucket-versioning", "--bucket", b.bucket, ...inRegion);
  const encryption = aws("s3api", "get-bucket-encryption", "--bucket", b.bucket, ...inRegion);
  if (!versioning.ok) out.push(fail(bucket, `${at(b.bucket)}: ${versioning.error}`, setup));
  else if (versioning.json.Status !== "Enabled") out.push(fail(bucket, `${at(b.bucket)}: versioning is ${versioning.json.Status ?? "off"}`, setup));
  else if (!encryption.ok || !(encryption.json.ServerSideEncryptionConfiguration?.Rules?.length > 0))
    out.push(fail(bucket, `${at(b.bucket)}: no default encryption (${encryption.error || "no rule"})`, setup));
  else out.push(pass(bucket, `${at(b.bucket)}: versioned, encrypted`));
  const described = aws("dynamodb", "describe-table", "--table-name", b.table, ...inRegion);
  if (!described.ok) out.push(fail(table, `${at(b.table)}: ${described.error}`, setup));
  else if (described.json.Table?.TableStatus !== "ACTIVE")
    out.push(fail(table, `${at(b.table)}: ${described.json.Table?.TableStatus}`, "wait until it is ACTIVE, or run setup-backend.sh again"));
  else if (described.json.Table?.SSEDescription?.Status !== "ENABLED") out.push(warn(table, `${at(b.table)}: not encrypted with KMS`, setup));
  else out.push(pass(table, `${at(b.table)}: active, encrypted`));
  return out;
}

const bare = (name: string) => name.toLowerCase().replace(/\.$/, "");

/** The hosted zone: exists, public, the domain or a parent of it, and delegated to its name servers. */
export function dns(aws: Aws, config: EnvironmentConfig, env: NodeJS.ProcessEnv): Check[] {
  const s = config.settings;
  const zone = aws("route53", "get-hosted-zone", "--id", s.hostedZoneId);
  if (!zone.ok)
    return [fail("hosted zone", `${s.hostedZoneId}: ${zone.error}`, `create it (guide, "Domaine et DNS") or fix route53_zone_id in ${config.source.file}`)];
  const name = bare(String(zone.json.HostedZone?.Name ?? ""));
  const out: Check[] = [];
  if (zone.json.HostedZone?.Config?.PrivateZone === true)
    out.push(fail("hosted zone", `${s.hostedZoneId} (${name}) is private`, "use the public hosted zone of the domain: ACM validates through public DNS"));
  if (s.domainName !== name && !s.domainName.endsWith(`.${name}`)) {
    out.push(
      fail(
        "hosted zone",
        `${s.hostedZoneId} is ${name}, which is not ${s.domainName} (domain_name) nor a parent of it`,
        `fix route53_zone_id or domain_name in ${config.source.file}`,
      ),
    );
  }
  if (out.length > 0) return out;
  out.push(pass("hosted zone", `${s.hostedZoneId} is the public zone ${name}`));
  const expected = ((zone.json.DelegationSet?.NameServers ?? []) as string[]).map(bare).sort();
  const answer = spawnSync("dig", ["+short", "NS", name], { encoding: "utf8", env });
  if (answer.error || answer.status !== 0) {
    out.push(
      warn(
        "delegation",
        `could not ask DNS for the name servers of ${name} (${answer.error?.message ?? answer.stderr.trim()})`,
        `check by hand: dig +short NS ${name} must list ${expected.join(", ")}`,
      ),
    );
    return out;
  }
  const served = answer.stdout.split("\n").map(bare).filter(Boolean).sort();
  if (served.join() === expected.join()) out.push(pass("delegation", `${name} is delegated to the zone's ${expected.length} name servers`));
  else
    out.push(
      fail(
        "delegation",
        `DNS serves ${name} from ${served.join(", ") || "nothing"}, the zone's name servers are ${expected.join(", ")}`,
        `set the domain's NS records at its registrar (or parent zone) to the zone's name servers; ACM validation waits until then`,
      ),
    );
  return out;
}

/** What the configuration needs, from the profile and the catalog. */
export function needs(config: EnvironmentConfig): {
  fargateVcpu: number;
  surgeVcpu: number;
  maxTasksPerService: number;
  eips: number;
  interfaceEndpoints: number;
  dbInstances: number;
  cacheNodes: number;
} {
  const z = config.sizing;
  const maxOf = (s: (typeof SERVICES)[number]) => config.settings.serviceMaxCounts[s];
  const vcpu = (s: (typeof SERVICES)[number]) => z.services[s].cpu / 1024;
  const fargateVcpu = SERVICES.reduce((n, s) => n + maxOf(s) * vcpu(s), 0);
  // The gateway's release starts a full second set of tasks (blue/green) before the old one stops.
  const gateway = SERVICES.find((s) => SERVICE_CATALOG[s].exposure === "alb")!;
  return {
    fargateVcpu,
    surgeVcpu: maxOf(gateway) * vcpu(gateway),
    maxTasksPerService: Math.max(...SERVICES.map(maxOf)),
    eips: z.natGateways === "per-az" ? config.settings.availabilityZones.length : 1,
    interfaceEndpoints: z.interfaceEndpoints ? 5 : 0,
    dbInstances: 1,
    cacheNodes: z.cache.shards * (1 + z.cache.replicasPerShard),
  };
}

interface QuotaSpec {
  readonly name: string;
  readonly service: string;
  /** Quota code, or the quota's name where the code is looked up (list-service-quotas). */
  readonly code?: string;
  readonly quotaName?: string;
  readonly needed: number;
  /** What is already used, when one read tells it. */
  readonly usage?: () => number | undefined;
  readonly unit: string;
}

export function capacity(aws: Aws, config: EnvironmentConfig): Check[] {
  const n = needs(config);
  const count = (service: string, verb: string, key: string) => () => {
    const r = aws(service, verb);
    return r.ok && Array.isArray(r.json[key]) ? r.json[key].length : undefined;
  };
  const quotas: QuotaSpec[] = [
    // The guide's L-1216C47A is EC2's "Running On-Demand Standard instances"; Fargate's vCPU quota is this one.
    { name: "Fargate On-Demand vCPUs", service: "fargate", code: "L-3032A538", needed: n.fargateVcpu + n.surgeVcpu, unit: "vCPU" },
    { name: "ECS tasks per service", service: "ecs", code: "L-9FE1B838", needed: n.maxTasksPerService, unit: "tasks" },
    {
      name: "Elastic IPs (one per NAT gateway)",
      service: "ec2",
      code: "L-0263D0A3",
      needed: n.eips,
      usage: count("ec2", "describe-addresses", "Addresses"),
      unit: "addresses",
    },
    { name: "VPCs", service: "vpc", code: "L-F678F1CE", needed: 1, usage: count("ec2", "describe-vpcs", "Vpcs"), unit: "VPCs" },
    { name: "interface endpoints per VPC", service: "vpc", code: "L-29B6F2EB", needed: n.interfaceEndpoints, unit: "endpoints" },
    {
      name: "RDS DB instances",
      service: "rds",
      code: "L-7B6409FD",
      needed: n.dbInstances,
      usage: count("rds", "describe-db-instances", "DBInstances"),
      unit: "instances",
    },
    {
      name: "ElastiCache nodes",
      service: "elasticache",
      quotaName: "Nodes per Region",
      needed: n.cacheNodes,
      usage: count("elasticache", "describe-cache-clusters", "CacheClusters"),
      unit: "nodes",
    },
  ];
  const out: Check[] = [];
  for (const q of quotas) {
    if (q.needed === 0) continue;
    let value: number | undefined;
    let code = q.code;
    if (code) {
      const r = aws("service-quotas", "get-service-quota", "--service-code", q.service, "--quota-code", code);
      value = r.ok ? Number(r.json.Quota?.Value) : undefined;
      if (!r.ok) {
        out.push(
          warn(`quota: ${q.name}`, `cannot read ${q.service}/${code}: ${r.error}`, `check it in the Service Quotas console: ${q.needed} ${q.unit} needed`),
        );
        continue;
      }
    } else {
      const r = aws("service-quotas", "list-service-quotas", "--service-code", q.service);
      const found = r.ok
        ? ((r.json.Quotas ?? []) as { QuotaName: string; QuotaCode: string; Value: number }[]).find((x) => x.QuotaName === q.quotaName)
        : undefined;
      if (!found) {
        out.push(
          warn(
            `quota: ${q.name}`,
            `cannot read ${q.service} "${q.quotaName}": ${r.error || "not listed"}`,
            `check it in the Service Quotas console: ${q.needed} ${q.unit} needed`,
          ),
        );
        continue;
      }
      value = Number(found.Value);
      code = found.QuotaCode;
    }
    const used = q.usage?.();
    const available = value! - (used ?? 0);
    const detail = `needed ${q.needed} / available ${available} ${q.unit} (quota ${value}${used !== undefined ? `, ${used} in use` : ""})`;
    if (q.needed <= available) out.push(pass(`quota: ${q.name}`, detail));
    else {
      out.push(
        fail(
          `quota: ${q.name}`,
          detail,
          `aws service-quotas request-service-quota-increase --service-code ${q.service} --quota-code ${code} --desired-value ${Math.ceil(q.needed + (used ?? 0))} --region ${config.settings.region}`,
        ),
      );
    }
  }
  return out;
}

/** Every service's image tag exists in the registry, so the services phase starts tasks that can run. */
export function images(aws: Aws, config: EnvironmentConfig): Check[] {
  const s = config.settings;
  const registryAccount = s.ecrRegistry.split(".")[0]!;
  return SERVICES.map((service) => {
    const tag = s.imageTags[service];
    const r = aws("ecr", "describe-images", "--registry-id", registryAccount, "--repository-name", service, "--image-ids", `imageTag=${tag}`);
    const image = `${s.ecrRegistry}/${service}:${tag}`;
    if (r.ok && (r.json.imageDetails ?? []).length > 0) return pass(`image ${service}`, `${image} exists`);
    return fail(
      `image ${service}`,
      `${image}: ${r.code ?? r.error}`,
      `push ${image}, or set image_tag / image_tag_overrides in ${config.source.file} to a tag that exists`,
    );
  });
}

/** Whether a phase has a state (it then holds its own resources): one read per phase. */
export type PhaseApplied = (phase: string) => boolean;

/**
 * Reads each phase's state where its synthesized S3 backend says it is: the environment's bucket, or the
 * DR backend for the recovery phase (bucket and region of its own). A phase not synthesized has none.
 */
export function phaseStates(aws: Aws, stacks: readonly SynthStack[]): PhaseApplied {
  const hasState = new Map<string, boolean>();
  return (phase) => {
    if (!hasState.has(phase)) {
      const terraform = stacks.find((s) => s.phase === phase)?.config.terraform;
      const s3 = isObject(terraform) && isObject(terraform.backend) && isObject(terraform.backend.s3) ? terraform.backend.s3 : undefined;
      const where = s3 && ["--bucket", String(s3.bucket), "--key", String(s3.key), "--region", String(s3.region)];
      hasState.set(phase, where !== undefined && aws("s3api", "head-object", ...where).ok);
    }
    return hasState.get(phase)!;
  };
}

/**
 * Resources this project creates (from the synthesized stacks) that already exist in AWS: made by hand
 * from the guide's prerequisites, they would collide with the apply. Each is named with the command
 * that adopts it into its phase's state. A phase that already has a state holds its own resources.
 */
export function collisions(
  aws: Aws,
  config: EnvironmentConfig,
  resources: readonly Resource[],
  stackDir: (stack: string) => string,
  phaseApplied: PhaseApplied,
): Check[] {
  const applied = (r: Resource) => phaseApplied(r.phase);
  let aliases: string[] | undefined;
  const out: Check[] = [];
  for (const r of resources) {
    let exists: string | undefined; // the id to import it by
    let name: string;
    if (r.type === "aws_kms_alias") {
      name = String(r.config.name);
      aliases ??= (() => {
        const a = aws("kms", "list-aliases");
        return a.ok ? ((a.json.Aliases ?? []) as { AliasName: string }[]).map((x) => x.AliasName) : [];
      })();
      if (aliases.includes(name)) exists = name;
    } else if (r.type === "aws_secretsmanager_secret") {
      name = String(r.config.name);
      const a = aws("secretsmanager", "describe-secret", "--secret-id", name);
      if (a.ok) exists = String(a.json.ARN);
    } else if (r.type === "aws_cloudwatch_log_group") {
      name = String(r.config.name);
      const a = aws("logs", "describe-log-groups", "--log-group-name-prefix", name);
      if (a.ok && ((a.json.logGroups ?? []) as { logGroupName: string }[]).some((g) => g.logGroupName === name)) exists = name;
    } else if (r.type === "aws_s3_bucket") {
      name = String(r.config.bucket);
      const a = aws("s3api", "head-bucket", "--bucket", name);
      if (a.ok) exists = name;
      else if (/\(403\)|Forbidden/.test(a.error)) {
        out.push(fail(`name ${name}`, `bucket ${name} exists in another account`, "bucket names are global: choose another name in src/naming.ts"));
        continue;
      }
    } else continue;
    if (exists === undefined) continue;
    if (applied(r)) {
      out.push(pass(`name ${name}`, `exists; phase ${r.phase} has a state, so it is its own ${r.address}`));
      continue;
    }
    out.push(
      fail(
        `name ${name}`,
        `already exists, and phase ${r.phase} was never applied: the apply would fail on it`,
        `adopt it: terraform -chdir=${stackDir(r.stack)} import '${r.address}' '${exists}' (after make init ENV=${config.env} PHASE=${r.phase}), or delete it if it is a leftover`,
      ),
    );
  }
  return out;
}
