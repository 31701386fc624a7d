/**
 * Saved plans and what they were planned against. Beside each plan `<stack>.tfplan` (and its text
 * `.tfplan.txt`) a record `.tfplan.json` holds the hash of the stack's synthesized configuration, the
 * hashes of the earlier phases' outputs that the stack reads (`terraform output -json`, at plan time),
 * the id of the `make plan` run that made it, and its status. A plan is applied only while all of that
 * still holds.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { PhaseName } from "../../src/naming";

export interface Stack {
  readonly name: string;
  readonly phase: PhaseName;
  readonly dir: string;
  readonly plan: string;
}

/**
 * planned: ready to apply. applying: an apply started (still so after a crash or kill -9).
 * failed / interrupted: its apply stopped part-way. retired: no longer valid (reason says why).
 */
export type PlanStatus = "planned" | "applying" | "failed" | "interrupted" | "retired";

export interface PlanRecord {
  readonly stack: string;
  readonly runId: string;
  readonly createdAt: string;
  readonly configSha256: string;
  /**
   * Earlier phase stack name -> sha256 of the outputs of it that this stack reads (`reads`), as they
   * were when this plan was made. Without `reads` (older records): of its whole `terraform output -json`.
   */
  readonly upstream: Readonly<Record<string, string>>;
  /** Earlier phase stack name -> the names of its outputs this stack reads ("*": all of them). */
  readonly reads?: Readonly<Record<string, readonly string[]>>;
  readonly status: PlanStatus;
  /** When the status was set. */
  readonly since?: string;
  /** The process applying it (status applying). */
  readonly pid?: number;
  /** Why it stopped or was retired. */
  readonly reason?: string;
}

export const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
export const configOf = (s: Stack) => path.join(s.dir, "cdk.tf.json");
export const configHash = (s: Stack) => sha256(fs.readFileSync(configOf(s)));
export const textOf = (s: Stack) => `${s.plan}.txt`;
const recordOf = (s: Stack) => `${s.plan}.json`;
const clock = (iso?: string) => (iso ? `${iso.slice(11, 16)} UTC` : "at an unknown time");

/** An id shared by the plans of one `make plan`: its start time and process. */
export const newRunId = () => `${new Date().toISOString().replace(/[-:]|\.\d+/g, "")}-${process.pid}`;

export function readRecord(s: Stack): PlanRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(recordOf(s), "utf8")) as PlanRecord;
  } catch {
    return undefined;
  }
}

/** Written whole or not at all (a rename), so an interrupted write never leaves half a record. */
export function writeRecord(s: Stack, record: PlanRecord): void {
  const draft = `${recordOf(s)}.${process.pid}`;
  fs.writeFileSync(draft, JSON.stringify(record, null, 2));
  fs.renameSync(draft, recordOf(s));
}

export function setStatus(s: Stack, status: PlanStatus, more: Partial<PlanRecord> = {}): void {
  const record = readRecord(s);
  if (record) writeRecord(s, { ...record, ...more, status, since: new Date().toISOString() });
}

/** Retires a stack's plan; its record says why (the latest reason). True when it was still to be applied. */
export function retire(s: Stack, reason: string): boolean {
  const record = readRecord(s);
  const live = record !== undefined && record.status !== "retired";
  if (record) setStatus(s, "retired", { reason });
  for (const f of [s.plan, textOf(s)]) fs.rmSync(f, { force: true });
  return live;
}

/** A plan is applied once; its text is kept as a record of what was applied. */
export function markApplied(s: Stack): void {
  fs.rmSync(s.plan, { force: true });
  fs.rmSync(recordOf(s), { force: true });
  if (fs.existsSync(textOf(s))) fs.renameSync(textOf(s), `${s.plan}.applied.txt`);
}

/** Removes every saved plan of a stack (after a destroy, none of them describes its state). */
export function removePlans(s: Stack): void {
  for (const f of [s.plan, textOf(s), recordOf(s)]) fs.rmSync(f, { force: true });
}

/** Why this stack's saved plan cannot be applied now, apart from its bindings; undefined when it can. */
export function unusable(s: Stack, record: PlanRecord | undefined, replan: string): string | undefined {
  if (record?.status === "planned" && fs.existsSync(s.plan)) return undefined;
  const again = `Run ${replan}, review it, then apply.`;
  switch (record?.status) {
    case "applying":
      return `The plan of ${s.name} was being applied (pid ${record.pid}, since ${clock(record.since)}) and that apply never finished: part of it may be applied. If Terraform reports its state still locked, it names the lock id for terraform force-unlock. ${again}`;
    case "failed":
    case "interrupted":
      return `The apply of ${s.name} ${record.status === "failed" ? "failed" : "was interrupted"} at ${clock(record.since)}: part of it may be applied, so its plan no longer matches the state. ${again}`;
    case "retired":
      return `The plan of ${s.name} (made ${clock(record.createdAt)}) was retired at ${clock(record.since)}: ${record.reason} ${again}`;
    default:
      return `No saved plan for ${s.name}. ${again}`;
  }
}

/**
 * Hashes of `terraform output -json` per stack, read once per run until the stack is applied again:
 * of all its outputs, or of the named ones ("*": all) as a later stack reads them.
 */
export class OutputHashes {
  private readonly known = new Map<string, Record<string, unknown>>();
  constructor(private readonly read: (s: Stack) => Promise<string>) {}

  async of(s: Stack, names?: readonly string[]): Promise<string> {
    let outputs = this.known.get(s.name);
    if (outputs === undefined) {
      outputs = JSON.parse((await this.read(s)) || "{}") as Record<string, unknown>;
      this.known.set(s.name, outputs);
    }
    if (names === undefined || names.includes("*")) return sha256(JSON.stringify(outputs));
    // An output that does not exist (yet) counts as null, so its appearing later changes the hash.
    return sha256(JSON.stringify(Object.fromEntries([...names].sort().map((n) => [n, outputs![n] ?? null]))));
  }

  forget(s: Stack): void {
    this.known.delete(s.name);
  }
}

const REMOTE_OUTPUT = /data\.terraform_remote_state\.([A-Za-z0-9_-]+)(?:\.outputs(?:\.([A-Za-z_][A-Za-z0-9_-]*)|\[\s*\\?"([^"\\]+)\\?"\s*\])?)?/g;

/**
 * The outputs of earlier phases that a stack's synthesized configuration reads: its
 * `data.terraform_remote_state.<phase>.outputs.<name>` references (also `outputs["<name>"]`), per
 * phase. A reference to a phase's whole remote state or outputs object reads them all ("*"). The data
 * source's state key (`<env>/<phase>/terraform.tfstate`) names the phase; else its own name does.
 */
export function remoteReads(s: Stack): Map<PhaseName | string, string[]> {
  const text = fs.readFileSync(configOf(s), "utf8");
  const config = JSON.parse(text) as { data?: { terraform_remote_state?: Record<string, { config?: { key?: unknown } }> } };
  const sources = config.data?.terraform_remote_state ?? {};
  const phaseOf = (source: string) => {
    const key = sources[source]?.config?.key;
    const fromKey = typeof key === "string" ? /([^/]+)\/terraform\.tfstate$/.exec(key)?.[1] : undefined;
    return fromKey ?? source;
  };
  const reads = new Map<string, Set<string>>();
  for (const m of text.matchAll(REMOTE_OUTPUT)) {
    const phase = phaseOf(m[1]!);
    const names = reads.get(phase) ?? new Set<string>();
    names.add(m[2] ?? m[3] ?? "*");
    reads.set(phase, names);
  }
  return new Map([...reads].map(([phase, names]) => [phase, names.has("*") ? ["*"] : [...names].sort()]));
}
