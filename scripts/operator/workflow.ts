/**
 * The Terraform commands of the operator workflow, one phase stack at a time, in phase order (reverse
 * for destroy): init, plan, apply, deploy, output, destroy.
 */
import * as fs from "fs";
import * as path from "path";
import { EnvironmentName, PHASES, PhaseName, names } from "../../src/naming";
import { STATEFUL_TYPES } from "../../src/policy/data-protection";
import {
  OutputHashes,
  PlanRecord,
  Stack,
  configHash,
  configOf,
  markApplied,
  newRunId,
  readRecord,
  remoteReads,
  removePlans,
  retire,
  setStatus,
  textOf,
  unusable,
  writeRecord,
} from "./plans";
import { Refusal, StepFailed, noColor, run, say, shownPath, which } from "./process";
import { hungUpDuringRun } from "./process";
import { ask, hungUpBy, tell } from "./terminal";

export interface Context {
  readonly env: EnvironmentName;
  readonly phase?: PhaseName;
  readonly tf: string;
  readonly outdir: string;
  /** From the environment's settings, for hints the operator can paste. */
  readonly account: string;
  readonly region: string;
  /** Every synthesized phase stack of the environment, in phase order. */
  readonly all: readonly Stack[];
  readonly outputs: OutputHashes;
  /**
   * The command that does this run again when it is not make plan then make apply: make release
   * carries its TAG and SERVICE (a make plan of the services phase would plan the tag the settings
   * hold, the old one, before the release records the new one).
   */
  readonly again?: string;
}

/** The make command line for `command` on this environment, with the run's PHASE unless told ("" for none). */
const make = (ctx: Context, command: string, phase: PhaseName | "" = ctx.phase ?? "") => `make ${command} ENV=${ctx.env}${phase ? ` PHASE=${phase}` : ""}`;
const clock = () => `${new Date().toISOString().slice(11, 16)} UTC`;
const list = (stacks: readonly Stack[]) => stacks.map((s) => s.name).join(", ") || "none";
const earlier = (ctx: Context, s: Stack) => ctx.all.filter((e) => PHASES.indexOf(e.phase) < PHASES.indexOf(s.phase));
const later = (ctx: Context, s: Stack) => ctx.all.filter((l) => PHASES.indexOf(l.phase) > PHASES.indexOf(s.phase));

/** `terraform -chdir=<stack> <command> [-no-color] <args>`, for commands whose output the operator reads. */
const tf = (ctx: Context, s: Stack, command: string, ...args: string[]) => run(ctx.tf, [`-chdir=${s.dir}`, command, ...noColor(), ...args]);
/** A Terraform command whose output the operator workflow reads itself. */
const captured = async (ctx: Context, s: Stack, ...args: string[]) => (await run(ctx.tf, [`-chdir=${s.dir}`, ...args], { capture: true })).stdout;

/** The stack's `terraform output -json`, which later plans are bound to. */
export async function outputsJson(ctx: Context, s: Stack): Promise<string> {
  await ensureInit(ctx, s);
  return captured(ctx, s, "output", "-json");
}

/** What Terraform (the S3 backend, STS) prints when credentials are missing, expired or refused. */
const CREDENTIALS_ERROR =
  /no valid credential sources|NoCredentialProviders|InvalidClientTokenId|ExpiredToken|InvalidAccessKeyId|SignatureDoesNotMatch|security token included in the request is (invalid|expired)|failed to refresh cached credentials|could not (load|retrieve) credentials/i;

/** The S3 backend a synthesized stack declares, or undefined when its JSON cannot be read. */
function backendOf(s: Stack): { bucket: string; region: string; dynamodb_table: string } | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(s.dir, "cdk.tf.json"), "utf8")).terraform?.backend?.s3;
  } catch {
    return undefined;
  }
}

/** `terraform init` of one stack, with INIT_FLAGS (e.g. -reconfigure after a backend change). */
export async function init(ctx: Context, s: Stack, options: { readonly progressOnly?: boolean } = {}): Promise<void> {
  const flags = (process.env.INIT_FLAGS ?? "").split(/\s+/).filter(Boolean);
  try {
    await run(ctx.tf, [`-chdir=${s.dir}`, "init", ...noColor(), "-input=false", ...flags], { keepStderr: true, ...options });
  } catch (e) {
    if (!(e instanceof StepFailed) || e.signal) throw e;
    const n = names(ctx.env);
    if (CREDENTIALS_ERROR.test(e.stderr)) {
      throw new Refusal(
        `${e.message} The AWS credentials are missing, expired or refused: Terraform could not reach the state of ${ctx.env} (account ${ctx.account}, ${ctx.region}) with them. Select this account's credentials, e.g. export AWS_PROFILE=<your profile for account ${ctx.account}> (then aws sso login if it uses SSO), check that aws sts get-caller-identity shows account ${ctx.account}, then run make init ENV=${ctx.env} again.`,
      );
    }
    // The stack's own backend: the recovery phase's is the DR backend, in dr_region (setup-backend.sh makes both).
    const backend = backendOf(s) ?? { bucket: n.stateBucket(ctx.account), region: ctx.region, dynamodb_table: n.lockTable };
    throw new Refusal(
      `${e.message} If the state bucket ${backend.bucket} or the lock table ${backend.dynamodb_table} (${backend.region}) does not exist yet, run scripts/setup-backend.sh ${ctx.env} ${ctx.region} first; after a backend change, add INIT_FLAGS=-reconfigure (or -migrate-state).`,
    );
  }
}

/** An init the command needs first: its output is progress, on stderr (stdout stays the command's answer). */
async function ensureInit(ctx: Context, s: Stack): Promise<void> {
  if (!fs.existsSync(path.join(s.dir, ".terraform"))) await init(ctx, s, { progressOnly: true });
}

/**
 * What the plan of `s` is made against: per earlier phase it reads, the names of the outputs it
 * reads (its remote-state references) and their hash. A change to an output `s` does not read (a
 * services task definition ARN that observability never uses) leaves its plan valid.
 */
async function upstreamOf(ctx: Context, s: Stack): Promise<Pick<PlanRecord, "upstream" | "reads">> {
  const upstream: Record<string, string> = {};
  const reads: Record<string, readonly string[]> = {};
  const read = remoteReads(s);
  for (const e of earlier(ctx, s)) {
    const names = read.get(e.phase);
    if (!names) continue;
    reads[e.name] = names;
    upstream[e.name] = await ctx.outputs.of(e, names);
  }
  return { upstream, reads };
}

/** The hash of `e`'s outputs as `record` is bound to them: the outputs it read, or all of them (older records). */
const boundHash = (ctx: Context, record: PlanRecord, e: Stack) => ctx.outputs.of(e, record.reads ? (record.reads[e.name] ?? []) : undefined);

interface PlanCounts {
  add: number;
  change: number;
  destroy: number;
  replace: number;
  stateful: string[];
}

/** Counts a plan's changes from `terraform show -json` and lists stateful resources it deletes or replaces. */
export function countChanges(planJson: { resource_changes?: { address: string; type: string; change: { actions: string[] } }[] }): PlanCounts {
  const counts: PlanCounts = { add: 0, change: 0, destroy: 0, replace: 0, stateful: [] };
  for (const rc of planJson.resource_changes ?? []) {
    const a = rc.change.actions;
    const deletes = a.includes("delete");
    if (a.includes("create")) counts.add++;
    if (a.includes("update")) counts.change++;
    if (deletes) counts.destroy++;
    if (deletes && a.includes("create")) counts.replace++;
    if (deletes && STATEFUL_TYPES.includes(rc.type)) counts.stateful.push(`${rc.address} (${a.includes("create") ? "replaced" : "destroyed"})`);
  }
  return counts;
}

/**
 * `next`: what the summary tells the operator to do next (make release applies at once). A message
 * that says to plan again names ctx.again when set (make release: its TAG and SERVICE).
 */
export async function plan(ctx: Context, stacks: readonly Stack[], next = `review the plan text, then ${make(ctx, "apply")}`): Promise<void> {
  const again = ctx.again ?? make(ctx, "plan");
  fs.mkdirSync(path.join(ctx.outdir, "plans"), { recursive: true });
  const runId = newRunId();
  // The older plans of these phases are retired before any is replaced: a run that fails part-way
  // leaves no older plan of a later phase beside the new ones.
  for (const s of stacks) retire(s, `make plan (run ${runId}) was started to replace it.`);
  const rows: string[] = [];
  const warnings: string[] = [];
  for (const [i, s] of stacks.entries()) {
    const stop = (message: string, signal?: NodeJS.Signals) => {
      retire(s, `its new plan (make plan run ${runId}) did not complete.`);
      const skipped = stacks.slice(i + 1);
      for (const l of skipped) retire(l, `make plan (run ${runId}) stopped at ${s.phase}, before re-planning it.`);
      return new StepFailed(`${message}${skipped.length ? ` Not planned: ${list(skipped)} (their older plans are retired).` : ""}`, signal);
    };
    await ensureInit(ctx, s);
    const bound = await upstreamOf(ctx, s);
    const configSha256 = configHash(s);
    try {
      await tf(ctx, s, "plan", "-input=false", `-out=${s.plan}`);
    } catch (e) {
      // A failure whose cause Terraform's output already names (a held state lock, a protected resource) needs no guess.
      const explained = e instanceof StepFailed && e.found?.explained === true;
      const hint =
        i === 0 || explained
          ? ""
          : `\nIf an earlier phase of ${ctx.env} has never been applied, apply it first (make apply ENV=${ctx.env} PHASE=<phase>), then ${ctx.again ? `run ${ctx.again} again` : "plan this one"}.`;
      throw stop(`${(e as Error).message} Planning ${s.name} failed.${hint}`, e instanceof StepFailed ? e.signal : undefined);
    }
    // Hashed before and after: a plan is only bound to a configuration that did not move under it.
    if (configHash(s) !== configSha256) {
      throw stop(
        `The synthesized configuration of ${s.name} changed while Terraform was planning it: something outside this make plan wrote ${shownPath(configOf(s))} (npx cdktf synth, an editor). The plan was discarded. Run ${again} again.`,
      );
    }
    fs.writeFileSync(textOf(s), await captured(ctx, s, "show", "-no-color", s.plan));
    const counts = countChanges(JSON.parse(await captured(ctx, s, "show", "-json", s.plan)));
    writeRecord(s, { stack: s.name, runId, createdAt: new Date().toISOString(), configSha256, ...bound, status: "planned" });
    rows.push(
      `  ${s.phase.padEnd(14)} ${String(counts.add).padStart(4)} to add, ${String(counts.change).padStart(4)} to change, ${String(counts.destroy).padStart(4)} to destroy${counts.replace ? ` (${counts.replace} replaced)` : ""}   ${shownPath(textOf(s))}`,
    );
    warnings.push(...counts.stateful.map((r) => `${s.name}: ${r}`));
  }
  say(`\nPlan summary for ${ctx.env} (run ${runId}; saved plans in ${shownPath(path.join(ctx.outdir, "plans"))}/):`);
  for (const r of rows) say(r);
  if (warnings.length > 0) {
    say(`\n!!!!!!!!!! WARNING: these plans DESTROY OR REPLACE resources that hold data !!!!!!!!!!`);
    for (const w of warnings) say(`  !! ${w}`);
    say(`Read the plan text before applying; data in these resources is lost unless restored from a backup.`);
  }
  say(`\nNext: ${next}`);
}

/**
 * Asks before applying to prod (scripts/operator/terminal.ts): what was typed before the question is
 * discarded, so only an answer typed after it confirms; a pipe's first line is its answer.
 */
async function confirmProd(ctx: Context, stacks: readonly Stack[]): Promise<void> {
  tell(`About to apply to PROD, in this order: ${list(stacks)}`);
  const answer = await ask(`Type "prod" to apply (anything else cancels): `);
  if (answer.line !== undefined) {
    if (answer.line.trim() === "prod") return;
    throw new Refusal(`Apply to prod cancelled (answer was "${answer.line.trim()}"). Set AUTO_APPROVE=1 to skip this question.`);
  }
  if (answer.why === "signal")
    throw new StepFailed(`Apply to prod cancelled: ${answer.signal} while waiting for the answer. Nothing was applied.`, answer.signal);
  throw new Refusal(
    `Apply to prod cancelled: no answer (${answer.why === "no terminal" ? "stdin is not a terminal and ended without a line, e.g. </dev/null or a CI job" : "stdin ended"}). Nothing was applied. Answer at a terminal, pipe the answer (echo prod | ${make(ctx, "apply")}), or set AUTO_APPROVE=1 to skip this question.`,
  );
}

const appliedText = (s: Stack) => `${s.plan}.applied.txt`;
const hhmm = (d: Date) => `${d.toISOString().slice(11, 16)} UTC`;

/**
 * A whole-environment apply run again after an earlier one stopped part-way: its first phases were
 * applied (their plans are used up), so say where it stopped and what to run, instead of "no saved plan"
 * for a phase that applied fine. Undefined when that is not the case.
 */
function afterPartialApply(ctx: Context, stacks: readonly Stack[]): string | undefined {
  const done: Stack[] = [];
  for (const s of stacks) {
    if (readRecord(s) || !fs.existsSync(appliedText(s))) break;
    done.push(s);
  }
  if (stacks.length < 2 || done.length === 0 || done.length === stacks.length) return undefined;
  const next = stacks[done.length]!;
  const rest = stacks.slice(done.length);
  const at = (s: Stack) => `${s.phase} at ${hhmm(fs.statSync(appliedText(s)).mtime)}`;
  const lines = [
    `${list(done)} ${done.length === 1 ? "was" : "were"} already applied (${done.map(at).join(", ")}; ${done.length === 1 ? "its plan is" : "their plans are"} used up), so ${make(ctx, "apply")} cannot apply every phase from saved plans.`,
  ];
  const record = readRecord(next);
  const replan = `${make(ctx, "plan")} (it plans every phase again from what is really applied: the applied phases show no change), review it, then ${make(ctx, "apply")}`;
  switch (record?.status) {
    case "planned":
      lines.push(
        `The plan of ${next.name} is still to be applied (an earlier apply stopped before it). Apply the remaining phases one at a time, each checked again first: ${rest.map((r) => make(ctx, "apply", r.phase)).join(", then ")}. Or re-plan: ${replan}.`,
      );
      break;
    case "failed":
    case "interrupted":
    case "applying":
      lines.push(
        `The apply of ${next.name} ${record.status === "applying" ? "never finished" : record.status === "failed" ? "failed" : "was interrupted"} at ${record.since ? hhmm(new Date(record.since)) : "an unknown time"}${record.reason ? ` (${record.reason.split("\n")[0]})` : ""}: part of it may be applied. ${record.status === "failed" ? "Fix the cause of its error, then " : "Next: "}${replan}.`,
      );
      break;
    default:
      lines.push(
        `${next.name} has ${record?.status === "retired" ? `a retired plan (${record.reason ?? "no reason recorded"})` : "no saved plan"}. Next: ${replan}.`,
      );
  }
  return lines.join("\n");
}

/** Refuses `s`'s plan unless it can be applied now, given what is applied before it in this run. */
async function checkBinding(ctx: Context, s: Stack, appliedFirst: readonly Stack[]): Promise<void> {
  const replan = ctx.again ?? make(ctx, "plan");
  const record = readRecord(s);
  const why = unusable(s, record, replan);
  if (why || !record) throw new Refusal(why);
  if (record.configSha256 !== configHash(s)) {
    throw new Refusal(
      `The plan of ${s.name} (${record.createdAt}) is older than the current synthesized configuration: code or settings changed since. Run ${replan} again and review it.`,
    );
  }
  for (const e of earlier(ctx, s).filter((x) => !appliedFirst.includes(x))) {
    const other = readRecord(e);
    if (other && other.runId === record.runId && other.status !== "retired") {
      const next = other.status === "planned" ? `apply ${e.phase} first: ${make(ctx, "apply", e.phase)}` : `re-plan from ${e.phase}: ${make(ctx, "plan", "")}`;
      throw new Refusal(
        `The plan of ${s.name} was made by the same make plan (run ${record.runId}) as the plan of ${e.name}, which is ${other.status === "planned" ? "not applied yet" : other.status}: phases apply in order, so ${next}.`,
      );
    }
    // Bound only to the outputs it reads; an older record, to all of them.
    const bound = record.reads ? record.reads[e.name] !== undefined : true;
    if (bound && record.upstream[e.name] !== (await boundHash(ctx, record, e))) {
      const which = record.reads?.[e.name]?.includes("*") === false ? ` (It reads ${record.reads[e.name]!.join(", ")} of ${e.name}.)` : "";
      throw new Refusal(
        `The plan of ${s.name} was made against other outputs of ${e.name}: they changed after ${record.createdAt} (${e.phase} was applied or changed since). ${ctx.again ? `Run ${ctx.again} again.` : `Re-plan it: ${replan}, review it, then ${make(ctx, "apply")}.`}${which}`,
      );
    }
  }
}

/** After `s` was applied: retires the later plans made against its outputs as they were before. */
async function retireStale(ctx: Context, s: Stack): Promise<Stack[]> {
  const bound = later(ctx, s).filter((l) => {
    const r = readRecord(l);
    return r?.status === "planned" && r.upstream[s.name] !== undefined;
  });
  if (bound.length === 0) return [];
  const stale: Stack[] = [];
  for (const l of bound) {
    const record = readRecord(l) as PlanRecord;
    if (record.upstream[s.name] !== (await boundHash(ctx, record, s))) stale.push(l);
  }
  for (const l of stale) retire(l, `it was made against the outputs of ${s.name} as they were before make apply changed them at ${clock()}.`);
  return stale;
}

/** Retires the later plans made by the same make plan as `record`. */
function retireRun(ctx: Context, s: Stack, record: PlanRecord, reason: string): Stack[] {
  const same = later(ctx, s).filter((l) => {
    const r = readRecord(l);
    return r?.runId === record.runId && r.status === "planned";
  });
  for (const l of same) retire(l, reason);
  return same;
}

interface Outcome {
  readonly cause: string;
  readonly applied: readonly Stack[];
  readonly stopped?: { readonly stack: Stack; readonly how: "failed" | "interrupted" };
  readonly notApplied: readonly Stack[];
  readonly retired: readonly Stack[];
  /** The next command, when it is not a new plan (the plans not applied are still good). */
  readonly next?: string;
}

/** What an apply that stopped part-way did and did not do, and the next command. */
function report(ctx: Context, o: Outcome): string {
  const lines = [o.cause, `  applied:        ${list(o.applied)}`];
  if (o.stopped) {
    lines.push(`  ${`${o.stopped.how}:`.padEnd(15)} ${o.stopped.stack.name} (part of it may be applied: Terraform keeps what it did in the state)`);
  }
  lines.push(`  not applied:    ${list(o.notApplied)}`, `  plans retired:  ${list(o.retired)}`);
  const fix = o.stopped?.how === "failed" ? "read Terraform's error above and fix its cause, then " : "";
  const redo =
    o.stopped || o.retired.length > 0 ? `${make(ctx, "plan")} (it plans again from what is really applied), review it, then ${make(ctx, "apply")}` : "";
  lines.push(`Next: ${fix}${o.next ?? redo}.`);
  return lines.join("\n");
}

/** A service that CodeDeploy releases (blue/green), as the synthesized stack declares it. */
interface CodeDeployed {
  /** The catalog name (SERVICE=), e.g. aw-api-gateway. */
  readonly service: string;
  /** Its ECS service's name. */
  readonly serviceName: string;
  /** The address of its task definition, e.g. aws_ecs_task_definition.aw-api-gateway_task-definition. */
  readonly taskDefinition: string;
  /** The image tag of its container, as synthesized. */
  readonly tag?: string;
}

/** The services of `s` under the CODE_DEPLOY deployment controller (the gateway in staging and prod). */
export function codeDeployed(s: Stack): CodeDeployed[] {
  type Service = { name?: string; task_definition?: string; deployment_controller?: { type?: string } | { type?: string }[] };
  const config = JSON.parse(fs.readFileSync(configOf(s), "utf8")) as {
    resource?: { aws_ecs_service?: Record<string, Service>; aws_ecs_task_definition?: Record<string, { container_definitions?: string }> };
  };
  const found: CodeDeployed[] = [];
  for (const svc of Object.values(config.resource?.aws_ecs_service ?? {})) {
    const controller = [svc.deployment_controller ?? []].flat()[0];
    const address = /^\$\{(aws_ecs_task_definition\.[^.}]+)\.arn\}$/.exec(svc.task_definition ?? "")?.[1];
    if (controller?.type !== "CODE_DEPLOY" || !address) continue;
    let container: { name?: string; image?: string } | undefined;
    try {
      container = (
        JSON.parse(config.resource?.aws_ecs_task_definition?.[address.split(".")[1]!]?.container_definitions ?? "[]") as { name?: string; image?: string }[]
      )[0];
    } catch {
      container = undefined;
    }
    const serviceName = svc.name ?? address;
    found.push({
      service: container?.name ?? serviceName,
      serviceName,
      taskDefinition: address,
      ...(container?.image?.includes(":") ? { tag: container.image.slice(container.image.lastIndexOf(":") + 1) } : {}),
    });
  }
  return found;
}

/**
 * The CodeDeploy-released services whose task definition the saved plan of `s` registers anew
 * (`terraform show -json`): applying it deploys nothing to them, since their task_definition is in the
 * service's ignore_changes; only make release hands a new revision to CodeDeploy.
 */
async function undeployedRevisions(ctx: Context, s: Stack): Promise<CodeDeployed[]> {
  const blueGreen = codeDeployed(s);
  if (blueGreen.length === 0) return [];
  const planned = JSON.parse(await captured(ctx, s, "show", "-json", s.plan)) as { resource_changes?: { address: string; change: { actions: string[] } }[] };
  return blueGreen.filter((b) => (planned.resource_changes ?? []).some((rc) => rc.address === b.taskDefinition && rc.change.actions.includes("create")));
}

/** What an apply that registered a new revision of a CodeDeploy-released service must say. */
function releaseNeeded(ctx: Context, s: Stack, b: CodeDeployed): string {
  return [
    `!!! ${s.name}: this apply registered a new task definition for ${b.serviceName} (${b.taskDefinition}${b.tag ? `, image tag ${b.tag}` : ""}), but that service is released by CodeDeploy (blue/green): its task_definition is in ignore_changes, so it still runs the previous revision, and nothing deploys the new one by itself.`,
    `!!! Deploy it: make release ENV=${ctx.env} TAG=${b.tag ?? "<the tag the settings hold for it>"} SERVICE=${b.service}`,
  ].join("\n");
}

export interface ApplyOptions {
  /** make release: it deploys the new revisions itself, so the apply does not ask for a release. */
  readonly releasing?: boolean;
}

export async function apply(ctx: Context, stacks: readonly Stack[], options: ApplyOptions = {}): Promise<void> {
  const partial = afterPartialApply(ctx, stacks);
  if (partial) throw new Refusal(partial);
  // Every plan is checked before any is applied: all or nothing is refused.
  for (const [i, s] of stacks.entries()) await checkBinding(ctx, s, stacks.slice(0, i));
  if (ctx.env === "prod" && process.env.AUTO_APPROVE !== "1") await confirmProd(ctx, stacks);
  const applied: Stack[] = [];
  const retired: Stack[] = [];
  const releases: string[] = [];
  for (const [i, s] of stacks.entries()) {
    // A hangup lets the phase in progress finish (process.ts); no further phase starts with nobody watching.
    if (hungUpDuringRun()) {
      const rest = stacks.slice(i).filter((r) => readRecord(r)?.status === "planned");
      throw new StepFailed(
        report(ctx, {
          cause: `Apply of ${ctx.env} stopped before ${s.name}: the terminal was lost (${hungUpBy()}).${applied.length > 0 ? ` ${list(applied)} ${applied.length === 1 ? "was" : "were"} applied to the end: a hangup does not stop Terraform midway.` : ""} No later phase is started with nobody watching; the plans not applied are kept.`,
          applied,
          notApplied: stacks.slice(i),
          retired,
          // make release plans with its TAG: only the release itself picks up from there.
          ...(ctx.again
            ? { next: `run ${ctx.again} again` }
            : rest.length > 0
              ? { next: `${rest.map((r) => make(ctx, "apply", r.phase)).join(", then ")} (each plan is checked again first)` }
              : {}),
        }),
        "SIGHUP",
      );
    }
    const record = readRecord(s);
    if (record?.status !== "planned") {
      throw new Refusal(
        report(ctx, {
          cause: `Applied ${list(applied)}. The outputs of ${applied[applied.length - 1]?.name} changed, so the saved plans of ${list(retired)} were made against old values: they were not applied and are retired.`,
          applied,
          notApplied: stacks.slice(i),
          retired,
        }),
      );
    }
    setStatus(s, "applying", { pid: process.pid });
    let pending: CodeDeployed[] = [];
    try {
      await ensureInit(ctx, s);
      // Read from the saved plan before it is applied; said once the apply succeeded.
      if (!options.releasing) {
        pending = await undeployedRevisions(ctx, s).catch((e: unknown) => {
          if (!(e instanceof StepFailed) || e.signal) throw e;
          // Not a reason to hold the apply back: say what could not be checked.
          say(
            `Could not read the saved plan of ${s.name} (terraform show -json: ${e.message}): if it changes a blue/green service's task definition, only make release deploys it.`,
          );
          return [];
        });
      }
      await tf(ctx, s, "apply", "-input=false", s.plan);
    } catch (e) {
      const signal = e instanceof StepFailed ? e.signal : undefined;
      const how = signal ? "interrupted" : "failed";
      setStatus(s, how, { reason: (e as Error).message });
      // Terraform refuses a plan of a state that moved on; removing it keeps anyone from trying.
      fs.rmSync(s.plan, { force: true });
      retired.push(
        ...retireRun(
          ctx,
          s,
          record,
          `the apply of ${s.name}, an earlier phase planned in the same run, ${how === "failed" ? "failed" : "was interrupted"} at ${clock()}.`,
        ),
      );
      // Released only when Terraform stopped the normal way; otherwise the message (process.ts) says how to release it.
      const message = (e as Error).message.trimEnd();
      const lockLeft = e instanceof StepFailed && e.found.lockLeft === true;
      const stopped = signal && !lockLeft ? `${message} Terraform stopped after finishing what was in progress, which releases its state lock.` : message;
      throw new StepFailed(
        report(ctx, { cause: `Apply of ${ctx.env} stopped: ${stopped}`, applied, stopped: { stack: s, how }, notApplied: stacks.slice(i + 1), retired }),
        signal,
      );
    }
    markApplied(s);
    ctx.outputs.forget(s);
    applied.push(s);
    releases.push(...pending.map((b) => releaseNeeded(ctx, s, b)));
    retired.push(...(await retireStale(ctx, s)));
  }
  say(`Applied ${list(stacks)}.`);
  for (const r of releases) say(r);
  if (retired.length > 0)
    say(
      `The outputs changed, so these later plans were made against old values and are retired: ${list(retired)}. Next: ${make(ctx, "plan", "")}, review, then apply.`,
    );
}

export async function deploy(ctx: Context, stacks: readonly Stack[]): Promise<void> {
  const s = stacks[0]!;
  const approved = process.env.AUTO_APPROVE === "1";
  // cdktf deploy asks for approval on an interactive screen: without a terminal it fails while its
  // terraform apply may already hold the state lock.
  if (!approved && !process.stdin.isTTY) {
    throw new Refusal(
      `${make(ctx, "deploy", s.phase)} needs a terminal: cdktf deploy shows its plan and asks for approval on an interactive screen, and stdin is not a terminal. Nothing was run. Without a terminal, run ${make(ctx, "plan", s.phase)}, review it, then ${ctx.env === "prod" ? `echo prod | ${make(ctx, "apply", s.phase)}` : make(ctx, "apply", s.phase)}; or, to apply without a review: AUTO_APPROVE=1 ${make(ctx, "deploy", s.phase)}`,
    );
  }
  const cdktf = which("cdktf") ?? which(path.resolve("node_modules/.bin/cdktf"));
  if (!cdktf) throw new Refusal("cdktf not found: run make install.");
  const args = ["deploy", s.name];
  if (approved) args.push("--auto-approve");
  // Off a terminal, cdktf's screen would print spinner frames and colours: CI=1 prints only its final
  // screen, FORCE_COLOR=0 (and NO_COLOR) drop colours and make it run Terraform with -no-color.
  const plain = process.stdout.isTTY ? {} : { CI: "1", FORCE_COLOR: "0", NO_COLOR: "1" };
  // cdktf deploy synthesizes again through cdktf.json's app: ask it for this environment only. It keeps
  // the terminal only to ask (no AUTO_APPROVE); with AUTO_APPROVE it runs like a protected Terraform
  // (own process group, no stdin, output through the operator). A Ctrl-C is not passed on: cdktf would
  // stop its Terraform abruptly, leaving the state lock.
  await run(cdktf, args, { env: { ACCESSWEAVER_ENV: ctx.env, TERRAFORM_BINARY_NAME: ctx.tf, ...plain }, terminal: !approved, forward: false });
}

const outputNames = (s: Stack) =>
  Object.keys(JSON.parse(fs.readFileSync(configOf(s), "utf8")).output ?? {}).filter((o) => !o.startsWith("cross-stack-output-"));

export async function output(ctx: Context, stacks: readonly Stack[]): Promise<void> {
  const wanted = process.env.NAME ?? "";
  const owner = stacks.find((s) => outputNames(s).includes(wanted));
  if (!wanted || !owner) {
    // One per line: about fifty names, read or grepped.
    const available = stacks.flatMap((s) => outputNames(s).map((o) => `  ${o} (${s.phase})`));
    const example = available.length > 0 ? ` e.g. ${make(ctx, "output")} NAME=${outputNames(stacks.find((s) => outputNames(s).length > 0)!)[0]}` : "";
    throw new Refusal(
      `${wanted ? `No output ${JSON.stringify(wanted)} in ${ctx.env}` : "make output needs NAME"}. ${available.length > 0 ? `Outputs of ${ctx.env} (name, phase), one of them as NAME,${example}:\n${available.join("\n")}` : "Outputs: none."}`,
    );
  }
  await ensureInit(ctx, owner);
  const format = process.env.FORMAT === "json" ? "-json" : "-raw";
  let value: string;
  try {
    value = await captured(ctx, owner, "output", format, wanted);
  } catch (e) {
    throw new Refusal(
      `${(e as Error).message.replace(/\.$/, "")} for ${wanted} of ${owner.name}.${format === "-raw" ? " For a list or map, add FORMAT=json." : ""}`,
    );
  }
  process.stdout.write(value.endsWith("\n") ? value : `${value}\n`);
}

/** Resources still in the state of each later phase that is not destroyed with `stacks`. */
async function dependents(ctx: Context, stacks: readonly Stack[]): Promise<string[]> {
  const first = stacks[0]!;
  const holding: string[] = [];
  for (const l of later(ctx, first).filter((x) => !stacks.includes(x))) {
    await ensureInit(ctx, l);
    const resources = (await captured(ctx, l, "state", "list")).split("\n").filter(Boolean);
    if (resources.length > 0)
      holding.push(`  ${l.name}: ${resources.length} resource(s): ${resources.slice(0, 5).join(", ")}${resources.length > 5 ? ", ..." : ""}`);
  }
  return holding;
}

export async function destroy(ctx: Context, stacks: readonly Stack[]): Promise<void> {
  const order = [...stacks].reverse();
  const expected = order.map((s) => s.name).join(",");
  const protectedEnv = ctx.env !== "dev";
  if (protectedEnv && process.env.CONFIRM !== expected) {
    throw new Refusal(
      `Destroying ${ctx.env} is refused unless CONFIRM names exactly what is destroyed. To destroy ${order.length === 1 ? "this phase" : "these phases, in this order"}: make destroy ENV=${ctx.env}${ctx.phase ? ` PHASE=${ctx.phase}` : ""} CONFIRM=${expected}`,
    );
  }
  if (protectedEnv) {
    const holding = await dependents(ctx, stacks);
    if (holding.length > 0) {
      const first = order[order.length - 1]!;
      const before = later(ctx, first)
        .filter((l) => !stacks.includes(l))
        .reverse();
      throw new Refusal(
        `Destroying ${list(stacks)} is refused: later phases of ${ctx.env} still have resources in their state, and they depend on it:\n${holding.join("\n")}\nDestroy them first, last phase first (${before.map((l) => `make destroy ENV=${ctx.env} PHASE=${l.phase} CONFIRM=${l.name}`).join(", then ")}), or the whole environment: make destroy ENV=${ctx.env} CONFIRM=${[
          ...ctx.all,
        ]
          .reverse()
          .map((l) => l.name)
          .join(",")}`,
      );
    }
  }
  // CONFIRM only unlocks staging and prod; Terraform still shows what it destroys and asks, unless AUTO_APPROVE=1.
  const approve = process.env.AUTO_APPROVE === "1" ? ["-input=false", "-auto-approve"] : [];
  for (const s of order) {
    await ensureInit(ctx, s);
    await tf(ctx, s, "destroy", ...approve);
    // No saved plan describes the state any longer.
    removePlans(s);
  }
}

/** One change Terraform found outside its own applies (`resource_drift` of a refresh-only plan). */
interface Drift {
  readonly address: string;
  readonly change: { readonly actions: readonly string[] };
}

/**
 * A drift check that could not be made (Terraform failed: credentials, a phase never initialised or
 * applied, a provider error). Not a Refusal: its exit status is 1, apart from drift's 2.
 */
export class DriftCheckFailed extends Error {}

/** The lines of Terraform's error output worth repeating under the summary (its `Error:` blocks' first lines). */
const terraformErrors = (stderr: string) =>
  stderr
    .split("\n")
    .map((l) => l.replace(/^[\s│╷╵]+/, "").trimEnd())
    .filter((l) => /^Error:/.test(l))
    .slice(0, 3);

/**
 * `make drift`: a refresh-only plan of each phase (`-detailed-exitcode`: 0 in sync, 2 changed) that
 * says, per phase, whether the real infrastructure still matches the state and what changed outside
 * Terraform. It changes nothing: the refresh-only plan is read, then thrown away. A phase whose check
 * fails is reported as such and the others are still checked; the run then fails with exit 1 (not
 * drift's 2: nothing is known about that phase).
 */
export async function drift(ctx: Context, stacks: readonly Stack[]): Promise<void> {
  const rows: string[] = [];
  const drifted: string[] = [];
  const failed: string[] = [];
  fs.mkdirSync(path.join(ctx.outdir, "plans"), { recursive: true });
  for (const s of stacks) {
    const file = path.join(ctx.outdir, "plans", `${s.name}.drift.tfplan`);
    try {
      await ensureInit(ctx, s);
      const r = await run(
        ctx.tf,
        [`-chdir=${s.dir}`, "plan", ...noColor(), "-refresh-only", "-detailed-exitcode", "-input=false", "-lock=false", `-out=${file}`],
        { capture: true, keepStderr: true, answers: [0, 2] },
      );
      if (r.status === 0) {
        rows.push(`  ${s.phase.padEnd(14)} in sync with its state`);
        continue;
      }
      const changes = ((JSON.parse(await captured(ctx, s, "show", "-json", file)) as { resource_drift?: Drift[] }).resource_drift ?? []).map(
        (d) => `      ${d.change.actions.includes("delete") ? "deleted outside Terraform" : "changed outside Terraform"}: ${d.address}`,
      );
      drifted.push(s.phase);
      rows.push(`  ${s.phase.padEnd(14)} DRIFT: ${changes.length} resource(s) differ from the state`, ...changes);
    } catch (e) {
      // An interrupt stops the run; any other failure is this phase's, and the next phases are still checked.
      if (e instanceof StepFailed && e.signal) throw e;
      if (!(e instanceof Error)) throw e;
      failed.push(s.phase);
      const said = e instanceof StepFailed ? terraformErrors(e.stderr) : [];
      rows.push(`  ${s.phase.padEnd(14)} CHECK FAILED: ${e.message.split("\n")[0]}`, ...said.map((l) => `      Terraform: ${l}`));
    } finally {
      fs.rmSync(file, { force: true });
    }
  }
  say(`\nDrift of ${ctx.env} (refresh-only plans, nothing changed):`);
  for (const r of rows) say(r);
  if (failed.length > 0) {
    const one = failed.length === 1 ? failed[0]! : "<phase>";
    throw new DriftCheckFailed(
      `make drift ENV=${ctx.env}: could not check ${failed.join(", ")} (Terraform failed; its error is above): this is not drift, nothing is known about ${failed.length === 1 ? "that phase" : "those phases"}.${drifted.length > 0 ? ` Drift was found in ${drifted.join(", ")}.` : ""} Fix the cause (credentials: aws sts get-caller-identity; a phase not initialised: make init ENV=${ctx.env} PHASE=${one}), then run make drift ENV=${ctx.env}${ctx.phase ? ` PHASE=${ctx.phase}` : ""} again.`,
    );
  }
  if (drifted.length > 0) {
    throw new Refusal(
      `Drift in ${drifted.join(", ")}. Read each change (terraform -chdir=<stack> plan -refresh-only), then either restore the configuration with ${make(ctx, "plan", "")} and ${make(ctx, "apply", "")}, or bring the change into the code and synthesize it.`,
    );
  }
}
