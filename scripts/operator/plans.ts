/**
 * Saved plans and what they were planned against. Beside each plan `<stack>.tfplan` (and its text
 * `.tfplan.txt`) a record `.tfplan.json` holds the hash of the stack's synthesized configuration, the
 * hashes of every earlier phase's `terraform output -json` at plan time, the id of the `make plan` run
 * that made it, and its status. A plan is applied only while all of that still holds.
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
  /** Earlier phase stack name -> sha256 of its `terraform output -json` when this plan was made. */
  readonly upstream: Readonly<Record<string, string>>;
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

/** Hashes of `terraform output -json` per stack, read once per run until the stack is applied again. */
export class OutputHashes {
  private readonly known = new Map<string, string>();
  constructor(private readonly read: (s: Stack) => Promise<string>) {}

  async of(s: Stack): Promise<string> {
    const cached = this.known.get(s.name);
    if (cached !== undefined) return cached;
    const hash = sha256(JSON.stringify(JSON.parse((await this.read(s)) || "{}")));
    this.known.set(s.name, hash);
    return hash;
  }

  forget(s: Stack): void {
    this.known.delete(s.name);
  }
}
