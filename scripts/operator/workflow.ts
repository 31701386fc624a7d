/**
 * The Terraform commands of the operator workflow, one phase stack at a time, in phase order (reverse
 * for destroy): init, plan, apply, deploy, output, destroy.
 */
import * as fs from "fs";
import * as path from "path";
import { EnvironmentName, PHASES, PhaseName, names } from "../../src/naming";
import { STATEFUL_TYPES } from "../../src/policy/data-protection";
import { OutputHashes, PlanRecord, Stack, configHash, configOf, markApplied, newRunId, readRecord, removePlans, retire, setStatus, textOf, unusable, writeRecord } from "./plans";
import { Refusal, StepFailed, noColor, run, say, shownPath, which } from "./process";

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
    throw new Refusal(
      `${e.message} If the state bucket ${n.stateBucket(ctx.account)} or the lock table ${n.lockTable} does not exist yet, run scripts/setup-backend.sh ${ctx.env} ${ctx.region} first; after a backend change, add INIT_FLAGS=-reconfigure (or -migrate-state).`,
    );
  }
}

/** An init the command needs first: its output is progress, on stderr (stdout stays the command's answer). */
async function ensureInit(ctx: Context, s: Stack): Promise<void> {
  if (!fs.existsSync(path.join(s.dir, ".terraform"))) await init(ctx, s, { progressOnly: true });
}

/** Hashes of the outputs of every earlier phase of `s`, as its plan is made against them. */
async function upstreamOf(ctx: Context, s: Stack): Promise<Record<string, string>> {
  const upstream: Record<string, string> = {};
  for (const e of earlier(ctx, s)) upstream[e.name] = await ctx.outputs.of(e);
  return upstream;
}

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

/** `next`: what the summary tells the operator to do next (make release applies at once). */
export async function plan(ctx: Context, stacks: readonly Stack[], next = `review the plan text, then ${make(ctx, "apply")}`): Promise<void> {
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
    const upstream = await upstreamOf(ctx, s);
    const configSha256 = configHash(s);
    try {
      await tf(ctx, s, "plan", "-input=false", `-out=${s.plan}`);
    } catch (e) {
      const hint = i === 0 ? "" : `\nIf an earlier phase of ${ctx.env} has never been applied, apply it first (make apply ENV=${ctx.env} PHASE=<phase>), then plan this one.`;
      throw stop(`${(e as Error).message} Planning ${s.name} failed.${hint}`, e instanceof StepFailed ? e.signal : undefined);
    }
    // Hashed before and after: a plan is only bound to a configuration that did not move under it.
    if (configHash(s) !== configSha256) {
      throw stop(
        `The synthesized configuration of ${s.name} changed while Terraform was planning it: something outside this make plan wrote ${shownPath(configOf(s))} (npx cdktf synth, an editor). The plan was discarded. Run ${make(ctx, "plan")} again.`,
      );
    }
    fs.writeFileSync(textOf(s), await captured(ctx, s, "show", "-no-color", s.plan));
    const counts = countChanges(JSON.parse(await captured(ctx, s, "show", "-json", s.plan)));
    writeRecord(s, { stack: s.name, runId, createdAt: new Date().toISOString(), configSha256, upstream, status: "planned" });
    rows.push(`  ${s.phase.padEnd(14)} ${String(counts.add).padStart(4)} to add, ${String(counts.change).padStart(4)} to change, ${String(counts.destroy).padStart(4)} to destroy${counts.replace ? ` (${counts.replace} replaced)` : ""}   ${shownPath(textOf(s))}`);
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

/** Reads one line from the operator's terminal (stdin); an interrupt while waiting reads as no answer. */
function ask(question: string): string {
  process.stdout.write(question);
  const buffer = Buffer.alloc(256);
  let answer = "";
  for (;;) {
    let n = 0;
    try {
      n = fs.readSync(0, buffer, 0, buffer.length, null);
    } catch {
      break;
    }
    if (n === 0) break;
    answer += buffer.toString("utf8", 0, n);
    if (answer.includes("\n")) break;
  }
  return answer.split("\n")[0]!.trim();
}

/** Refuses `s`'s plan unless it can be applied now, given what is applied before it in this run. */
async function checkBinding(ctx: Context, s: Stack, appliedFirst: readonly Stack[]): Promise<void> {
  const replan = make(ctx, "plan");
  const record = readRecord(s);
  const why = unusable(s, record, replan);
  if (why || !record) throw new Refusal(why);
  if (record.configSha256 !== configHash(s)) {
    throw new Refusal(`The plan of ${s.name} (${record.createdAt}) is older than the current synthesized configuration: code or settings changed since. Run ${replan} again and review it.`);
  }
  for (const e of earlier(ctx, s).filter((x) => !appliedFirst.includes(x))) {
    const other = readRecord(e);
    if (other && other.runId === record.runId && other.status !== "retired") {
      const next = other.status === "planned" ? `apply ${e.phase} first: ${make(ctx, "apply", e.phase)}` : `re-plan from ${e.phase}: ${make(ctx, "plan", "")}`;
      throw new Refusal(`The plan of ${s.name} was made by the same make plan (run ${record.runId}) as the plan of ${e.name}, which is ${other.status === "planned" ? "not applied yet" : other.status}: phases apply in order, so ${next}.`);
    }
    if (record.upstream[e.name] !== (await ctx.outputs.of(e))) {
      throw new Refusal(
        `The plan of ${s.name} was made against other outputs of ${e.name}: they changed after ${record.createdAt} (${e.phase} was applied or changed since). Re-plan it: ${replan}, review it, then ${make(ctx, "apply")}.`,
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
  const now = await ctx.outputs.of(s);
  const stale = bound.filter((l) => (readRecord(l) as PlanRecord).upstream[s.name] !== now);
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
}

/** What an apply that stopped part-way did and did not do, and the next command. */
function report(ctx: Context, o: Outcome): string {
  const lines = [o.cause, `  applied:        ${list(o.applied)}`];
  if (o.stopped) {
    lines.push(`  ${`${o.stopped.how}:`.padEnd(15)} ${o.stopped.stack.name} (part of it may be applied: Terraform keeps what it did in the state)`);
  }
  lines.push(`  not applied:    ${list(o.notApplied)}`, `  plans retired:  ${list(o.retired)}`);
  const fix = o.stopped?.how === "failed" ? "read Terraform's error above and fix its cause, then " : "";
  const redo = o.stopped || o.retired.length > 0 ? `${make(ctx, "plan")} (it plans again from what is really applied), review it, then ${make(ctx, "apply")}` : "";
  lines.push(`Next: ${fix}${redo}.`);
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
  const config = JSON.parse(fs.readFileSync(configOf(s), "utf8")) as { resource?: { aws_ecs_service?: Record<string, Service>; aws_ecs_task_definition?: Record<string, { container_definitions?: string }> } };
  const found: CodeDeployed[] = [];
  for (const svc of Object.values(config.resource?.aws_ecs_service ?? {})) {
    const controller = [svc.deployment_controller ?? []].flat()[0];
    const address = /^\$\{(aws_ecs_task_definition\.[^.}]+)\.arn\}$/.exec(svc.task_definition ?? "")?.[1];
    if (controller?.type !== "CODE_DEPLOY" || !address) continue;
    let container: { name?: string; image?: string } | undefined;
    try {
      container = (JSON.parse(config.resource?.aws_ecs_task_definition?.[address.split(".")[1]!]?.container_definitions ?? "[]") as { name?: string; image?: string }[])[0];
    } catch {
      container = undefined;
    }
    const serviceName = svc.name ?? address;
    found.push({ service: container?.name ?? serviceName, serviceName, taskDefinition: address, ...(container?.image?.includes(":") ? { tag: container.image.slice(container.image.lastIndexOf(":") + 1) } : {}) });
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
  // Every plan is checked before any is applied: all or nothing is refused.
  for (const [i, s] of stacks.entries()) await checkBinding(ctx, s, stacks.slice(0, i));
  if (ctx.env === "prod" && process.env.AUTO_APPROVE !== "1") {
    say(`About to apply to PROD, in this order: ${list(stacks)}`);
    const answer = ask(`Type "prod" to apply (anything else cancels): `);
    if (answer !== "prod") throw new Refusal(`Apply to prod cancelled (answer was "${answer}"). Set AUTO_APPROVE=1 to skip this question.`);
  }
  const applied: Stack[] = [];
  const retired: Stack[] = [];
  const releases: string[] = [];
  for (const [i, s] of stacks.entries()) {
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
          say(`Could not read the saved plan of ${s.name} (terraform show -json: ${e.message}): if it changes a blue/green service's task definition, only make release deploys it.`);
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
      retired.push(...retireRun(ctx, s, record, `the apply of ${s.name}, an earlier phase planned in the same run, ${how === "failed" ? "failed" : "was interrupted"} at ${clock()}.`));
      const stopped = signal ? `${(e as Error).message} Terraform has stopped and released its state lock.` : (e as Error).message;
      throw new StepFailed(report(ctx, { cause: `Apply of ${ctx.env} stopped: ${stopped}`, applied, stopped: { stack: s, how }, notApplied: stacks.slice(i + 1), retired }), signal);
    }
    markApplied(s);
    ctx.outputs.forget(s);
    applied.push(s);
    releases.push(...pending.map((b) => releaseNeeded(ctx, s, b)));
    retired.push(...(await retireStale(ctx, s)));
  }
  say(`Applied ${list(stacks)}.`);
  for (const r of releases) say(r);
  if (retired.length > 0) say(`The outputs changed, so these later plans were made against old values and are retired: ${list(retired)}. Next: ${make(ctx, "plan", "")}, review, then apply.`);
}

export async function deploy(ctx: Context, stacks: readonly Stack[]): Promise<void> {
  const cdktf = which("cdktf") ?? which(path.resolve("node_modules/.bin/cdktf"));
  if (!cdktf) throw new Refusal("cdktf not found: run make install.");
  const args = ["deploy", stacks[0]!.name];
  if (process.env.AUTO_APPROVE === "1") args.push("--auto-approve");
  // cdktf deploy synthesizes again through cdktf.json's app: ask it for this environment only.
  await run(cdktf, args, { env: { ACCESSWEAVER_ENV: ctx.env, TERRAFORM_BINARY_NAME: ctx.tf } });
}

const outputNames = (s: Stack) => Object.keys(JSON.parse(fs.readFileSync(configOf(s), "utf8")).output ?? {}).filter((o) => !o.startsWith("cross-stack-output-"));

export async function output(ctx: Context, stacks: readonly Stack[]): Promise<void> {
  const wanted = process.env.NAME ?? "";
  const owner = stacks.find((s) => outputNames(s).includes(wanted));
  if (!wanted || !owner) {
    const available = stacks.flatMap((s) => outputNames(s).map((o) => `${o} (${s.phase})`));
    throw new Refusal(`${wanted ? `No output ${JSON.stringify(wanted)} in ${ctx.env}` : "make output needs NAME"}. Outputs: ${available.join(", ") || "none"}.`);
  }
  await ensureInit(ctx, owner);
  const format = process.env.FORMAT === "json" ? "-json" : "-raw";
  let value: string;
  try {
    value = await captured(ctx, owner, "output", format, wanted);
  } catch (e) {
    throw new Refusal(`${(e as Error).message.replace(/\.$/, "")} for ${wanted} of ${owner.name}.${format === "-raw" ? " For a list or map, add FORMAT=json." : ""}`);
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
    if (resources.length > 0) holding.push(`  ${l.name}: ${resources.length} resource(s): ${resources.slice(0, 5).join(", ")}${resources.length > 5 ? ", ..." : ""}`);
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
      const before = later(ctx, first).filter((l) => !stacks.includes(l)).reverse();
      throw new Refusal(
        `Destroying ${list(stacks)} is refused: later phases of ${ctx.env} still have resources in their state, and they depend on it:\n${holding.join("\n")}\nDestroy them first, last phase first (${before.map((l) => `make destroy ENV=${ctx.env} PHASE=${l.phase} CONFIRM=${l.name}`).join(", then ")}), or the whole environment: make destroy ENV=${ctx.env} CONFIRM=${[...ctx.all].reverse().map((l) => l.name).join(",")}`,
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
 * `make drift`: a refresh-only plan of each phase (`-detailed-exitcode`: 0 in sync, 2 changed) that
 * says, per phase, whether the real infrastructure still matches the state and what changed outside
 * Terraform. It changes nothing: the refresh-only plan is read, then thrown away.
 */
export async function drift(ctx: Context, stacks: readonly Stack[]): Promise<void> {
  const rows: string[] = [];
  const drifted: string[] = [];
  fs.mkdirSync(path.join(ctx.outdir, "plans"), { recursive: true });
  for (const s of stacks) {
    await ensureInit(ctx, s);
    const file = path.join(ctx.outdir, "plans", `${s.name}.drift.tfplan`);
    try {
      const r = await run(ctx.tf, [`-chdir=${s.dir}`, "plan", ...noColor(), "-refresh-only", "-detailed-exitcode", "-input=false", "-lock=false", `-out=${file}`], { capture: true, answers: [0, 2] });
      if (r.status === 0) {
        rows.push(`  ${s.phase.padEnd(14)} in sync with its state`);
        continue;
      }
      const changes = ((JSON.parse(await captured(ctx, s, "show", "-json", file)) as { resource_drift?: Drift[] }).resource_drift ?? []).map(
        (d) => `      ${d.change.actions.includes("delete") ? "deleted outside Terraform" : "changed outside Terraform"}: ${d.address}`,
      );
      drifted.push(s.phase);
      rows.push(`  ${s.phase.padEnd(14)} DRIFT: ${changes.length} resource(s) differ from the state`, ...changes);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }
  say(`\nDrift of ${ctx.env} (refresh-only plans, nothing changed):`);
  for (const r of rows) say(r);
  if (drifted.length > 0) {
    throw new Refusal(
      `Drift in ${drifted.join(", ")}. Read each change (terraform -chdir=<stack> plan -refresh-only), then either restore the configuration with ${make(ctx, "plan", "")} and ${make(ctx, "apply", "")}, or bring the change into the code and synthesize it.`,
    );
  }
}
