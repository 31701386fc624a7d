/**
 * `make restore ENV=<env> [RESTORE_TIME=<ISO 8601 UTC>]`: stands the environment up again in its
 * `dr_region` from the copies the recovery phase keeps there, then moves the API's name to it; and
 * `make restore-teardown ENV=<env> CONFIRM=<stacks>`, which destroys that DR environment (a drill's, or
 * one no longer needed after a failback). docs/restore.md is the operator's page.
 *
 * A restore, in order; nothing changes before the checks have passed:
 * 1. Checks, each a refusal (exit 2) naming what is missing and the next step: an environment without
 *    `dr_region`; the recovery phase never applied (its state in the DR backend has no replicated
 *    backups); a restore time outside the replicated backups' window (malformed or future: inputs.ts);
 *    a copy missing in `dr_region` (an image tag of the settings, the JWT secret's replica); a DR
 *    environment that already exists (its network state), unless this machine's restore record says
 *    that it is this restore, unfinished: then the restore continues.
 * 2. What it restores from: the backups, their window and the time chosen, the images, the secret.
 * 3. The DR environment's stacks (`accessweaver-<env>-dr-<phase>`, synthesized with `dr: true` and the
 *    restore time), one phase at a time: init, plan to a saved plan, apply, with the workflow's own
 *    protections (plans bound to the upstream outputs they read, prod's question, asked once for the
 *    whole restore, the environment's lock, interrupts, the run's log). After each phase a progress line;
 *    `<outdir>/restore/<env>.json` records each phase's start, end and seconds (a drill's measured RTO).
 * 4. The DNS switch (restore-dns.ts), last, and only once the DR environment answers.
 * A re-run after an interrupt or a failure reads the record and continues from the first phase not
 * applied, or with the DNS switch.
 */
import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig } from "../../src/config/settings";
import { DR_PHASES, PHASES, PhaseName, SERVICES, names } from "../../src/naming";
import { LOADBALANCER_HANDLES, RECOVERY_HANDLES } from "../../src/stacks/handles";
import type { SynthOptions } from "../../src/synth";
import { Inputs, commandLine } from "./inputs";
import { Stack, readRecord } from "./plans";
import { Refusal, StepFailed, run, say, shownPath, which } from "./process";
import type { Target } from "./release";
import {
  ApiName,
  AliasTarget,
  GATEWAY_HEALTH_PATH,
  changeCommand,
  currentRecord,
  dnsFiles,
  healthWait,
  pointsAt,
  switchDns,
  waitForChange,
  waitUntilAnswering,
  writeFailover,
} from "./restore-dns";
import { tell } from "./terminal";
import { Context, apply, destroy, init, outputsJson, plan } from "./workflow";

/** What scripts/operator.ts hands a restore: the inputs, the settings, and its own machinery. */
export interface RestoreRun {
  readonly i: Inputs;
  readonly config: EnvironmentConfig;
  readonly target: Target;
  /** The app's synth (tests: the fixture's). */
  readonly synthesize: (options: SynthOptions) => Promise<string[]>;
  /** The synthesized stacks of `phases`, named by `nameOf`, in phase order. */
  readonly stacksOf: (phases: readonly PhaseName[], nameOf: (phase: PhaseName) => string) => Stack[];
  /** The workflow's context for `all`; `again` is the command that runs this again. */
  readonly contextOf: (all: readonly Stack[], again: string) => Context;
}

type PhaseStatus = "applied" | "failed" | "interrupted" | "not applied";

interface PhaseRecord {
  readonly phase: PhaseName;
  readonly stack: string;
  status: PhaseStatus;
  /** The first attempt's start. */
  start: string;
  /** The last attempt's end. */
  end?: string;
  /** Seconds over every attempt. */
  seconds: number;
  attempts: number;
}

/** `<outdir>/restore/<env>.json`: where a restore stands, and what it measured. */
interface RestoreRecord {
  readonly env: string;
  readonly drRegion: string;
  readonly backupsArn: string;
  /** null: the latest restorable time, when the database phase is applied. */
  readonly restoreTime: string | null;
  readonly startedAt: string;
  status: "restoring" | "switching DNS" | "done";
  phases: PhaseRecord[];
  dns?: { status: "switched" | "unchanged" | "not answering"; start: string; end?: string; seconds: number; changeId?: string; albDnsName: string };
  finishedAt?: string;
}

const recordFile = (outdir: string, env: string) => path.join(outdir, "restore", `${env}.json`);

function readRestore(outdir: string, env: string): RestoreRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(recordFile(outdir, env), "utf8")) as RestoreRecord;
  } catch {
    return undefined;
  }
}

/** Written whole (a rename): an interrupt never leaves half a record. */
function writeRestore(outdir: string, record: RestoreRecord): void {
  const file = recordFile(outdir, record.env);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.${process.pid}`, `${JSON.stringify(record, null, 2)}\n`);
  fs.renameSync(`${file}.${process.pid}`, file);
}

const pad2 = (n: number) => String(n).padStart(2, "0");
/** 4m 05s, 1h 02m 03s. */
export function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h ${pad2(m)}m ${pad2(s)}s` : m > 0 ? `${m}m ${pad2(s)}s` : `${s}s`;
}
const clock = (iso: string) => `${iso.slice(11, 19)} UTC`;
const since = (iso: string, to = Date.now()) => Math.max(0, Math.round((to - Date.parse(iso)) / 1000));

/** `terraform output -json` as name -> value. */
const valuesOf = (json: string): Record<string, unknown> =>
  Object.fromEntries(Object.entries(JSON.parse(json || "{}") as Record<string, { value?: unknown }>).map(([k, v]) => [k, v?.value]));

/** One AWS CLI call in `region`; its standard output. */
const awsIn = async (t: Target, region: string, args: string[]) =>
  (await run(t.aws, [...args, "--region", region], { capture: true, keepStderr: true })).stdout.trim();

/** What AWS answers when the thing asked for is not there (ECR, Secrets Manager, RDS, S3's HEAD). */
const NOT_FOUND = /NotFound|NoSuchKey|\(404\)/;

/** A check that AWS did not answer (credentials, permissions, the CLI): what is not known, and the CLI's words. Interrupts go on. */
function unchecked(e: unknown, what: string, again: string): Refusal {
  if (!(e instanceof StepFailed) || e.signal) throw e;
  const said = e.stderr.trim() || e.message;
  return new Refusal(
    `Could not check ${what}: ${said}\nWhether it is there is not known, so nothing was planned or applied. Check the credentials (aws sts get-caller-identity) and their permissions, then run ${again} again.`,
  );
}

/** Whether an AWS read finds its object: false when AWS says it is not there; a refusal when AWS did not answer. */
async function found(t: Target, region: string, args: string[], what: string, again: string): Promise<boolean> {
  try {
    await awsIn(t, region, args);
    return true;
  } catch (e) {
    if (e instanceof StepFailed && !e.signal && NOT_FOUND.test(e.stderr)) return false;
    throw unchecked(e, what, again);
  }
}

/** The DR environment's synthesized stacks, in phase order; a refusal unless the synth wrote all of them. */
function drStacks(r: RestoreRun): Stack[] {
  const n = names(r.config.env);
  const stacks = r.stacksOf(DR_PHASES, n.drStack);
  if (stacks.length !== DR_PHASES.length) {
    throw new Refusal(
      `The synth wrote ${stacks.length > 0 ? `only ${stacks.map((s) => s.name).join(", ")} of` : "none of"} the DR stacks of ${r.config.env} (${DR_PHASES.map(n.drStack).join(", ")}). Nothing was planned, applied or destroyed.`,
    );
  }
  return stacks;
}

/** make restore-teardown's CONFIRM: the DR stacks, last phase first. */
const teardownConfirm = (env: EnvironmentConfig["env"]) => [...DR_PHASES].reverse().map(names(env).drStack).join(",");

/** What the recovery phase left in the DR backend: the replicated backups' ARN, or a refusal. */
async function recoveryCopies(r: RestoreRun, again: string): Promise<string> {
  const { i, config } = r;
  const env = config.env;
  // Every Terraform command synthesizes first: the recovery stack's folder may not be there yet.
  await r.synthesize({ outdir: i.outdir, envSelection: env, rootDir: i.settingsRoot });
  const primary = r.stacksOf(PHASES, names(env).stack);
  const recovery = primary.find((s) => s.phase === "recovery");
  if (!recovery) throw new Refusal(`The synth wrote no recovery stack of ${env} (${names(env).stack("recovery")}). Nothing was planned or applied.`);
  const ctx = r.contextOf(primary, again);
  await init(ctx, recovery);
  const outputs = valuesOf(await outputsJson(ctx, recovery));
  const arn = outputs[RECOVERY_HANDLES.databaseBackupsArn.output];
  if (typeof arn !== "string" || arn === "") {
    throw new Refusal(
      `The recovery phase of ${env} was never applied: the state of ${recovery.name} (in the DR backend) has no ${RECOVERY_HANDLES.databaseBackupsArn.output}, so there are no replicated backups to restore from. Nothing was planned or applied. Apply the recovery phase first: make plan ENV=${env} PHASE=recovery, then make apply ENV=${env} PHASE=recovery (this needs the primary region: the copies must exist before it is lost).`,
    );
  }
  const region = outputs[RECOVERY_HANDLES.drRegion.output];
  if (typeof region === "string" && region !== config.settings.drRegion) {
    throw new Refusal(
      `The recovery phase of ${env} keeps its copies in ${region}, but ${config.source.file} now says dr_region = "${config.settings.drRegion}". A restore is made where the copies are: set dr_region back to "${region}", then run ${again} again. Nothing was planned or applied.`,
    );
  }
  return arn;
}

interface Window {
  readonly status: string;
  readonly earliest: string;
  readonly latest: string;
}

/** The replicated backups' status and restorable window, checked against the restore time; a refusal when they do not allow it. */
async function restorableWindow(r: RestoreRun, dr: string, arn: string, restoreTime: string | undefined, again: string): Promise<Window> {
  const command = `aws rds describe-db-instance-automated-backups --db-instance-automated-backups-arn ${arn} --region ${dr}`;
  let answer: string;
  try {
    answer = await awsIn(r.target, dr, ["rds", "describe-db-instance-automated-backups", "--db-instance-automated-backups-arn", arn, "--output", "json"]);
  } catch (e) {
    if (e instanceof StepFailed && !e.signal && NOT_FOUND.test(e.stderr)) {
      throw new Refusal(
        `The replicated backups ${arn} of the recovery phase are not in ${dr} (${e.stderr.trim()}). Nothing was planned or applied. Read what the recovery phase holds: make drift ENV=${r.config.env} PHASE=recovery, and docs/disaster-recovery.md.`,
      );
    }
    throw unchecked(e, `the replicated backups ${arn}`, again);
  }
  type Backups = { DBInstanceAutomatedBackups?: { Status?: string; RestoreWindow?: { EarliestTime?: string; LatestTime?: string } }[] };
  const backups = (JSON.parse(answer || "{}") as Backups).DBInstanceAutomatedBackups?.[0];
  const status = backups?.Status ?? "(no status)";
  const earliest = backups?.RestoreWindow?.EarliestTime;
  const latest = backups?.RestoreWindow?.LatestTime;
  const nothing = "Nothing was planned or applied.";
  if (status !== "replicating" && status !== "retained") {
    throw new Refusal(
      `The replicated backups ${arn} in ${dr} are ${status}, not replicating or retained: they cannot be restored from now. ${nothing} Read them: ${command}; docs/disaster-recovery.md says what stops a replication.`,
    );
  }
  if (!earliest || !latest) {
    throw new Refusal(
      `The replicated backups ${arn} in ${dr} have no restorable window yet (the first snapshot is still being copied across regions). ${nothing} Read them: ${command}`,
    );
  }
  const window = `they reach from ${earliest} to ${latest}`;
  if (restoreTime !== undefined && Date.parse(restoreTime) < Date.parse(earliest)) {
    throw new Refusal(
      `RESTORE_TIME ${restoreTime} is before the earliest restorable time of the replicated backups in ${dr}: ${window}. ${nothing} Give a time in that window, or leave RESTORE_TIME out to restore to the latest restorable time.`,
    );
  }
  if (restoreTime !== undefined && Date.parse(restoreTime) > Date.parse(latest)) {
    throw new Refusal(
      `RESTORE_TIME ${restoreTime} is after the latest restorable time of the replicated backups in ${dr}: ${window} (the transaction logs replicated so far). ${nothing} Give a time in that window, or leave RESTORE_TIME out to restore to the latest restorable time.`,
    );
  }
  return { status, earliest, latest };
}

/** Refuses when the DR environment exists already (its network state in the DR backend) and this machine did not start it; else the state's URL. */
async function refuseExisting(r: RestoreRun, dr: string, again: string): Promise<string> {
  const env = r.config.env;
  const bucket = names(env).drStateBucket(r.config.settings.accountId);
  const key = names(env, "dr").stateKey("network");
  const there = await found(r.target, dr, ["s3api", "head-object", "--bucket", bucket, "--key", key], `whether the DR environment of ${env} exists`, again);
  if (!there) return `s3://${bucket}/${key}`;
  throw new Refusal(
    `The DR environment of ${env} already exists: its network state s3://${bucket}/${key} is there, in ${dr}, and this machine holds no record of a restore under way (${shownPath(recordFile(r.i.outdir, env))}). A restore builds a new DR environment; it does not take over one it did not start. Nothing was planned or applied. If it is a drill's, tear it down first: make restore-teardown ENV=${env} CONFIRM=${teardownConfirm(env)}; if a restore started from another machine is under way, continue it there.`,
  );
}

/** The copies the DR environment runs on: each service's image tag in ECR and the JWT secret's replica, in `dr`; a refusal listing every one missing. */
async function checkCopies(r: RestoreRun, dr: string, again: string): Promise<{ images: string[]; secret: string }> {
  const { settings, env } = r.config;
  const missing: string[] = [];
  const images: string[] = [];
  for (const service of SERVICES) {
    const tag = settings.imageTags[service];
    // The registry of ecr_registry, which may be another account's (its owner replicates it).
    const registryId = settings.ecrRegistry.split(".")[0]!;
    const args = ["ecr", "describe-images", "--registry-id", registryId, "--repository-name", service, "--image-ids", `imageTag=${tag}`];
    if (await found(r.target, dr, args, `the image ${service}:${tag} in ${dr}`, again)) images.push(`${service}:${tag}`);
    else missing.push(`the image ${service}:${tag} (ECR repository ${service})`);
  }
  const secret = names(env).secret("jwt");
  if (!(await found(r.target, dr, ["secretsmanager", "describe-secret", "--secret-id", secret], `the secret ${secret} in ${dr}`, again)))
    missing.push(`the replica of the secret ${secret}`);
  if (missing.length > 0) {
    const registry = `${settings.ecrRegistry.split(".")[0]}.dkr.ecr.${dr}.amazonaws.com`;
    throw new Refusal(
      [
        `Restore refused: a copy the DR environment needs is missing in ${dr}:`,
        ...missing.map((m) => `  - ${m}`),
        `Nothing was planned or applied. Images replicate on push: push the tag again while the primary region answers, or push it to ${registry}/<service>:<tag> from your build. The JWT secret's replica is declared by the cache phase (docs/disaster-recovery.md). Then run ${again} again.`,
      ].join("\n"),
    );
  }
  return { images, secret };
}

/** Each step of the restore, and the total: for the progress of a stop and the final summary. */
function table(record: RestoreRecord): string[] {
  const row = (step: string, status: string, start?: string, end?: string, seconds?: number) =>
    `  ${step.padEnd(16)}${status.padEnd(14)}${(start ? clock(start) : "").padEnd(15)}${(end ? clock(end) : "").padEnd(15)}${seconds === undefined ? "" : duration(seconds)}`.trimEnd();
  const lines = [`  ${"step".padEnd(16)}${"status".padEnd(14)}${"started".padEnd(15)}${"ended".padEnd(15)}elapsed`];
  for (const phase of DR_PHASES) {
    const p = record.phases.find((x) => x.phase === phase);
    lines.push(p ? row(phase, p.status, p.start, p.end, p.seconds) : row(phase, "not started"));
  }
  const d = record.dns;
  lines.push(d ? row("dns switch", d.status, d.start, d.end, d.seconds) : row("dns switch", "not started"));
  const last = record.finishedAt ?? [...record.phases.map((p) => p.end ?? p.start), d?.end ?? d?.start ?? record.startedAt].sort().pop()!;
  lines.push(row(record.status === "done" ? "total (RTO)" : "total so far", "", record.startedAt, last, since(record.startedAt, Date.parse(last))));
  return lines;
}

/** Where a restore stopped: the step, how, and what a re-run continues with. */
interface Stop {
  readonly step: string;
  readonly status: string;
  readonly continues: string;
}

/**
 * The message of a restore stopped at a step (failed, interrupted, refused): the step's own message
 * without the workflow's make plan / make apply advice (a restore is run again as a whole), where the
 * restore stands, and the command that continues it.
 */
function stopped(outdir: string, record: RestoreRecord, e: Error, again: string, at: Stop): Refusal {
  const signal = e instanceof StepFailed ? e.signal : undefined;
  const inner = e.message
    .split("\n")
    .filter((l) => !/^(Next: | {2}(applied|not applied|plans retired): )/.test(l))
    .map((l) => l.replace(`| make apply ENV=${record.env}`, `| ${again}`));
  const fix = signal || at.status === "not applied" ? "" : "read the error above and fix its cause, then ";
  const lines = [
    ...inner,
    "",
    `${again} stopped at ${at.step} (${at.status}${signal ? `: ${signal}` : ""}). Where the restore stands (${shownPath(recordFile(outdir, record.env))}):`,
    ...table(record),
    `Next: ${fix}${again}: it continues with ${at.continues}.`,
  ];
  const text = lines.join("\n");
  return e instanceof StepFailed ? new StepFailed(text, signal, e.stderr, e.found) : new Refusal(text);
}

/** Plans and applies each DR phase not applied yet, in order, recording each. */
async function applyPhases(r: RestoreRun, ctx: Context, stacks: readonly Stack[], record: RestoreRecord, again: string): Promise<void> {
  const { i, config } = r;
  const approved = process.env.AUTO_APPROVE;
  try {
    for (const [n, s] of stacks.entries()) {
      const known = record.phases.find((p) => p.phase === s.phase);
      if (known?.status === "applied") {
        say(`${s.phase}: applied at ${clock(known.end!)} by an earlier run of this restore; not planned again.`);
        continue;
      }
      const started = Date.now();
      const p: PhaseRecord = known ?? { phase: s.phase, stack: s.name, status: "not applied", start: new Date(started).toISOString(), seconds: 0, attempts: 0 };
      if (!known) record.phases.push(p);
      p.attempts++;
      writeRestore(i.outdir, record);
      const done = (status: PhaseStatus) => {
        p.status = status;
        p.end = new Date().toISOString();
        p.seconds += Math.round((Date.now() - started) / 1000);
        writeRestore(i.outdir, record);
      };
      try {
        await init(ctx, s);
        await plan(ctx, [s], `${again} applies it now.`);
        if (config.env === "prod" && process.env.AUTO_APPROVE !== "1") {
          tell(
            `${again} applies the DR phases one after another, each planned just before: ${stacks
              .slice(n)
              .map((x) => x.name)
              .join(", ")}. The one answer below approves all of them.`,
          );
        }
        await apply(ctx, [s]);
        // prod's question is asked once per run (apply's own): its answer covered every phase. Put back below.
        if (config.env === "prod") process.env.AUTO_APPROVE = "1";
      } catch (e) {
        const planStatus = readRecord(s)?.status;
        done(planStatus === "failed" || planStatus === "interrupted" ? planStatus : "not applied");
        const planned = p.status === "not applied" ? "" : ", planned again from what is applied";
        throw stopped(i.outdir, record, e as Error, again, { step: s.phase, status: p.status, continues: `${s.phase}${planned}` });
      }
      done("applied");
      say(
        `Restore of ${config.env}: ${s.phase} applied in ${duration(Math.round((Date.now() - started) / 1000))} (${n + 1} of ${stacks.length}; ${duration(since(record.startedAt))} since the restore started at ${clock(record.startedAt)}).`,
      );
    }
  } finally {
    if (approved === undefined) delete process.env.AUTO_APPROVE;
    else process.env.AUTO_APPROVE = approved;
  }
}

/** The DNS switch: once the DR environment answers, the API's name to the DR load balancer. */
async function switchToDr(
  r: RestoreRun,
  ctx: Context,
  stacks: readonly Stack[],
  record: RestoreRecord,
  again: string,
): Promise<{ api: ApiName; target: AliasTarget }> {
  const { i, config, target: t } = r;
  const { env, settings } = config;
  const dr = settings.drRegion!;
  const lb = stacks.find((s) => s.phase === "loadbalancer")!;
  const outputs = valuesOf(await outputsJson(ctx, lb));
  const dnsName = outputs[LOADBALANCER_HANDLES.albDnsName.output];
  const zoneId = outputs[LOADBALANCER_HANDLES.albZoneId.output];
  if (typeof dnsName !== "string" || !dnsName || typeof zoneId !== "string" || !zoneId) {
    throw new StepFailed(
      `The state of ${lb.name} has no ${LOADBALANCER_HANDLES.albDnsName.output} or ${LOADBALANCER_HANDLES.albZoneId.output}: the DR load balancer is not known, so the API's record was not switched. Read them: terraform -chdir=${shownPath(lb.dir)} output -json; then run ${again} again.`,
    );
  }
  const api: ApiName = { domain: settings.domainName, zoneId: settings.hostedZoneId, aws: t.aws };
  const target: AliasTarget = { dnsName, zoneId };
  const start = new Date().toISOString();
  record.status = "switching DNS";
  writeRestore(i.outdir, record);
  const failover = writeFailover(i.outdir, env, api, target, `make restore ENV=${env}: ${api.domain} to the DR load balancer in ${dr}`);
  const url = `https://${api.domain}${GATEWAY_HEALTH_PATH}`;
  const { minutes } = healthWait();
  say(`\nDNS switch: waiting until the DR environment answers ${url} through ${dnsName} (up to ${minutes} minutes)...`);
  const answer = await waitUntilAnswering(api, target);
  if ("why" in answer) {
    record.dns = { status: "not answering", start, end: new Date().toISOString(), seconds: since(start), albDnsName: dnsName };
    writeRestore(i.outdir, record);
    throw new StepFailed(
      [
        `The DR environment of ${env} did not answer within ${minutes} minutes (last try: ${answer.why}).`,
        `The API's record was NOT switched: ${api.domain} points where it did, and nothing in the primary region was changed. The switch is ready in ${shownPath(failover)}.`,
        `Find why the gateway does not answer: aws ecs describe-services --cluster ${names(env).cluster} --services ${names(env).service("aw-api-gateway")} --region ${dr}, and the health of its target group. Once ${url} answers through ${dnsName}, run ${again} again, or switch by hand: ${changeCommand(api, failover)}`,
      ].join("\n"),
    );
  }
  const changeId = await switchDns(i.outdir, env, api, target, `make restore ENV=${env}: ${api.domain} to the DR load balancer in ${dr}`);
  record.dns = { status: changeId ? "switched" : "unchanged", start, seconds: since(start), albDnsName: dnsName, ...(changeId ? { changeId } : {}) };
  writeRestore(i.outdir, record);
  if (changeId) {
    try {
      await waitForChange(api, changeId);
    } catch (e) {
      if (!(e instanceof StepFailed)) throw e;
      throw new StepFailed(
        `${e.message} Route 53 change ${changeId} was applied (${api.domain} points at ${dnsName}); only the wait for it stopped. Read it: aws route53 get-change --id ${changeId} --region us-east-1 (INSYNC: every Route 53 server has it).`,
        e.signal,
        e.stderr,
      );
    }
  }
  const end = new Date().toISOString();
  record.dns = { ...record.dns, end, seconds: since(start, Date.parse(end)) };
  record.status = "done";
  record.finishedAt = end;
  writeRestore(i.outdir, record);
  return { api, target };
}

/** `make restore ENV=<env> [RESTORE_TIME=...]`. */
export async function restore(r: RestoreRun): Promise<void> {
  const { i, config } = r;
  const env = config.env;
  const dr = config.settings.drRegion!;
  const again = commandLine(i);
  const recorded = readRestore(i.outdir, env);
  if (recorded?.status === "done") {
    throw new Refusal(
      `${env} was restored into ${recorded.drRegion} at ${recorded.finishedAt} (${shownPath(recordFile(i.outdir, env))}): its DR environment exists. Nothing was planned or applied. To restore again, fail back (docs/disaster-recovery.md), then tear it down: make restore-teardown ENV=${env} CONFIRM=${teardownConfirm(env)}`,
    );
  }
  if (recorded && (recorded.drRegion !== dr || (i.restoreTime !== undefined && i.restoreTime !== recorded.restoreTime))) {
    const time = recorded.restoreTime ? ` RESTORE_TIME=${recorded.restoreTime}` : "";
    throw new Refusal(
      `A restore of ${env} into ${recorded.drRegion} to ${recorded.restoreTime ?? "the latest restorable time"} is under way (${shownPath(recordFile(i.outdir, env))}, started at ${recorded.startedAt}): this one asks for ${dr}${i.restoreTime ? ` and ${i.restoreTime}` : ""}. Nothing was planned or applied. Continue it: make restore ENV=${env}${time}; or tear it down first: make restore-teardown ENV=${env} CONFIRM=${teardownConfirm(env)}`,
    );
  }
  const restoreTime = i.restoreTime ?? recorded?.restoreTime ?? undefined;

  // 1. The checks: nothing is planned before they pass. The DNS switch's tools first: it comes hours later.
  const absentTools = ["dig", "curl"].filter((tool) => !which(tool));
  if (absentTools.length > 0) {
    throw new Refusal(
      `${absentTools.join(" and ")} not found on PATH: the DNS switch that ends a restore checks the DR environment through its load balancer with dig and curl. Install them (Debian and Ubuntu: dnsutils and curl; Amazon Linux and RHEL: bind-utils and curl), then run ${again} again. Nothing was planned or applied.`,
    );
  }
  const arn = await recoveryCopies(r, again);
  const window = await restorableWindow(r, dr, arn, restoreTime, again);
  const absent = recorded ? undefined : await refuseExisting(r, dr, again);
  const copies = await checkCopies(r, dr, again);

  // 2. What it restores from.
  const stackNames = DR_PHASES.map(names(env).drStack);
  const age = duration(since(window.latest));
  say(`\nRestore of ${env} into ${dr}, from the copies its recovery phase keeps there:`);
  say(`  database   replicated automated backups ${arn} (${window.status})`);
  say(`             restorable from ${window.earliest} to ${window.latest}`);
  say(
    restoreTime
      ? `             restore time: ${restoreTime}`
      : `             latest restorable time: ${window.latest} (${age} ago; the database is restored to the latest restorable time when its phase is applied)`,
  );
  say(`  images     ${copies.images.join(", ")}: found in ECR in ${dr}`);
  say(`  secret     ${copies.secret}: replica present in ${dr}`);
  say(`  cache      created empty: the decision cache is rebuilt from the database`);
  if (absent) say(`  state      no DR environment yet: ${absent} does not exist (the 404 above)`);
  say(`  into       ${stackNames.join(", ")}; then ${config.settings.domainName} is switched to it`);
  if (recorded) {
    const applied = recorded.phases.filter((p) => p.status === "applied").map((p) => p.phase);
    say(
      `Continuing the restore started at ${clock(recorded.startedAt)} (${shownPath(recordFile(i.outdir, env))}): ${applied.length > 0 ? `${applied.join(", ")} applied` : "no phase applied yet"}.`,
    );
  }

  // 3. The DR environment, phase by phase.
  await r.synthesize({ outdir: i.outdir, envSelection: env, rootDir: i.settingsRoot, dr: true, ...(restoreTime ? { restoreTime } : {}) });
  const stacks = drStacks(r);
  const record: RestoreRecord = recorded ?? {
    env,
    drRegion: dr,
    backupsArn: arn,
    restoreTime: restoreTime ?? null,
    startedAt: new Date().toISOString(),
    status: "restoring",
    phases: [],
  };
  writeRestore(i.outdir, record);
  const ctx = r.contextOf(stacks, again);
  await applyPhases(r, ctx, stacks, record, again);

  // 4. The DNS switch.
  let switched: Awaited<ReturnType<typeof switchToDr>>;
  try {
    switched = await switchToDr(r, ctx, stacks, record, again);
  } catch (e) {
    const signal = e instanceof StepFailed ? e.signal : undefined;
    throw stopped(i.outdir, record, e as Error, again, {
      step: "the DNS switch",
      status: signal ? "interrupted" : "failed",
      continues: "the DNS switch (every phase is applied)",
    });
  }
  const { api, target } = switched;
  say(`\nRestore of ${env} into ${dr} complete: ${api.domain} points at the DR load balancer ${target.dnsName}.`);
  say(`Measured (${shownPath(recordFile(i.outdir, env))}):`);
  for (const line of table(record)) say(line);
  say(
    `Failback, once the primary region is back and its database has caught up: docs/disaster-recovery.md. The record as it was: ${shownPath(dnsFiles(i.outdir, env).failback)}. Until then, do not apply the primary's loadbalancer phase: it would point ${api.domain} back at the primary load balancer.`,
  );
}

/** `make restore-teardown ENV=<env> CONFIRM=<stacks>`: the DR environment destroyed, last phase first, then its restore record removed. */
export async function restoreTeardown(r: RestoreRun): Promise<void> {
  const { i, config, target: t } = r;
  const { env, settings } = config;
  const again = commandLine(i);
  const recorded = readRestore(i.outdir, env);
  await r.synthesize({
    outdir: i.outdir,
    envSelection: env,
    rootDir: i.settingsRoot,
    dr: true,
    ...(recorded?.restoreTime ? { restoreTime: recorded.restoreTime } : {}),
  });
  const stacks = drStacks(r);
  const expected = teardownConfirm(env);
  // The CONFIRM that destroy() checks, asked for with the command that tears the DR environment down.
  if (process.env.CONFIRM !== expected) {
    throw new Refusal(
      `Tearing down the DR environment of ${env} (in ${settings.drRegion}) is refused unless CONFIRM names exactly what is destroyed. To destroy these stacks, in this order: make restore-teardown ENV=${env} CONFIRM=${expected}`,
    );
  }
  const ctx = r.contextOf(stacks, again);
  const lb = stacks.find((s) => s.phase === "loadbalancer")!;
  const dnsName = valuesOf(await outputsJson(ctx, lb))[LOADBALANCER_HANDLES.albDnsName.output];
  if (typeof dnsName === "string" && dnsName !== "") {
    const api: ApiName = { domain: settings.domainName, zoneId: settings.hostedZoneId, aws: t.aws };
    let record: Awaited<ReturnType<typeof currentRecord>>;
    try {
      record = await currentRecord(api);
    } catch (e) {
      throw unchecked(e, `where ${api.domain} points (Route 53 zone ${api.zoneId})`, again);
    }
    if (pointsAt(record, dnsName)) {
      throw new Refusal(
        `${api.domain} still points at the DR load balancer ${dnsName}: destroying the DR environment would take the API offline. Nothing was destroyed. Fail back first: docs/disaster-recovery.md (the record as it was before the switch: ${shownPath(dnsFiles(i.outdir, env).failback)}), then run ${again} again.`,
      );
    }
  }
  await destroy(ctx, stacks);
  fs.rmSync(recordFile(i.outdir, env), { force: true });
  say(
    `The DR environment of ${env} is destroyed (${[...stacks]
      .reverse()
      .map((s) => s.name)
      .join(", ")}); its restore record is removed.`,
  );
}
