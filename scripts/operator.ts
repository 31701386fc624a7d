/**
 * The operator workflow behind `make synth|init|plan|apply|deploy|output|destroy ENV=<env> [PHASE=<phase>]`:
 * real Terraform against the environment's S3 state, one phase stack at a time, in phase order
 * (reverse order for destroy), one operation at a time per environment. The phases are read from the
 * synthesized stacks, so a new phase needs no change here or in the Makefile.
 *
 *   node -r ./scripts/register.js scripts/operator.ts <command> [env] [phase]
 *
 * `make release ENV= TAG= [SERVICE=]` and `make restart ENV= SERVICE=` (scripts/operator/release.ts)
 * act on the services phase only, as does `make db-roles ENV=` (scripts/operator/db-roles.ts: runs the
 * task that creates the services' database roles). `make restore ENV= [RESTORE_TIME=]` and `make
 * restore-teardown ENV= CONFIRM=` (scripts/operator/restore.ts) act on the DR environment's stacks.
 * `make drill ENV= SCENARIO=`, `make alert-test ENV=` and `make cache-flush ENV= PATTERN=`
 * (scripts/operator/drill.ts, alert-test.ts, cache-flush.ts; docs/operations-checks.md) read the
 * outputs of the phases they need and call AWS.
 *
 * Environment: TF (Terraform binary, default terraform), AUTO_APPROVE=1, CONFIRM (staging and prod
 * destroy), NAME and FORMAT (output), TAG and SERVICE (release, restart), AWS_CLI (default aws),
 * INIT_FLAGS, CDKTF_OUTDIR (default cdktf.out),
 * ACCESSWEAVER_SETTINGS_ROOT (folder holding environments/, default the working directory).
 * The parts live in scripts/operator/: inputs (checks), process (children, signals), terminal (the prod
 * question, the run's log, a lost terminal or pipe), diagnose (Terraform's lock and prevent_destroy
 * errors explained), lock, plans (saved plans and their bindings), workflow (the commands), release
 * (release, restart).
 */
import * as fs from "fs";
import * as path from "path";
import { loadEnvironment, selectEnvironments } from "../src/config/load";
import { refusalForRealRun } from "../src/config/placeholders";
import { EnvironmentConfig } from "../src/config/settings";
import { EnvironmentName, PHASES, PhaseName, names } from "../src/naming";
import type { SynthOptions } from "../src/synth";
import { Inputs, TERRAFORM_COMMANDS, commandLine, parseInputs } from "./operator/inputs";
import { endRun, guardOutput, openRunLog } from "./operator/terminal";
import { Lock, lockEnvironment } from "./operator/lock";
import { OutputHashes, Stack } from "./operator/plans";
import { Refusal, StepFailed, exitStatusOf, watchSignals, which } from "./operator/process";
import { Context, apply, deploy, destroy, drift, init, outputsJson, output, plan } from "./operator/workflow";
import { Target, checkImages, release, restart } from "./operator/release";
import { TagRecord, prepareTagRecord } from "./operator/release-settings";
import { imageTagProblem } from "../src/config/settings";
import { SERVICES } from "../src/naming";

export { Refusal } from "./operator/process";
export { countChanges } from "./operator/workflow";

/** Targets that need the Terraform binary, for the message when it is missing. */
const TERRAFORM_TARGETS = "init, validate, rehearse, plan, apply, deploy, output, destroy, drift, release, restore, restore-teardown";

/**
 * The environment's synthesized stacks of `phases`, in phase order: its phase stacks
 * (`accessweaver-<env>-<phase>`), or with `nameOf` another set of them (the DR environment's,
 * `accessweaver-<env>-dr-<phase>`, which the phase stacks never include).
 */
function stacksOf(
  outdir: string,
  env: EnvironmentName,
  phases: readonly PhaseName[] = PHASES,
  nameOf: (phase: PhaseName) => string = names(env).stack,
): Stack[] {
  const root = path.join(outdir, "stacks");
  // Read from the stack folders, which only this environment's (locked) synth writes; the shared
  // manifest.json may be another environment's.
  return phases
    .map((phase) => ({ phase, name: nameOf(phase) }))
    .filter((s) => fs.existsSync(path.join(root, s.name, "cdk.tf.json")))
    .map((s) => ({ ...s, dir: path.join(root, s.name), plan: path.join(outdir, "plans", `${s.name}.tfplan`) }));
}

/** The workflow's context for `all`, stacks of the environment in phase order (`more`: the run's PHASE, or the command that runs it again). */
function contextOf(i: Inputs, config: EnvironmentConfig, all: readonly Stack[], more: Pick<Context, "phase" | "again"> = {}): Context {
  const ctx: Context = {
    env: config.env,
    ...more,
    tf: i.tf,
    outdir: i.outdir,
    account: config.settings.accountId,
    region: config.settings.region,
    all,
    outputs: new OutputHashes((s) => outputsJson(ctx, s)),
  };
  return ctx;
}

/** The refusal of `what` (the recovery phase, a restore) in an environment whose settings set no dr_region. */
function withoutDrRegion(config: EnvironmentConfig, what: string): Refusal {
  return new Refusal(
    `${config.env} has no ${what}: ${config.source.file} sets no dr_region. ${config.env === "dev" ? "dev is rebuilt, not restored." : "Set dr_region (a region of the EU/EEA) to keep DR copies, e.g. to drill a restore."} See docs/disaster-recovery.md.`,
  );
}

export interface Dependencies {
  /** Builds and writes the environment's stacks (the app's synth, before every run too; tests pass a stand-in). */
  readonly synthesize: (options: SynthOptions) => Promise<string[]>;
}

// Loaded only when needed: refusals answer without loading cdktf and the provider bindings.
const appSynth: Dependencies = { synthesize: (options) => import("../src/synth").then((m) => m.synthesize(options)) };

/** Holds the lock of each environment for `fn`. */
async function locked<T>(i: Inputs, envs: readonly EnvironmentName[], fn: () => Promise<T>): Promise<T> {
  const locks: Lock[] = [];
  try {
    for (const env of envs) locks.push(lockEnvironment(i.outdir, env, `make ${i.command} of ${env}`, commandLine(i)));
    return await fn();
  } finally {
    for (const l of locks) l.release();
  }
}

/** `make synth [ENV=x]`: the app's synth under the lock of each environment it writes. */
async function synth(i: Inputs, deps: Dependencies): Promise<void> {
  const envs = selectEnvironments(i.env);
  try {
    // ACCESSWEAVER_HCL=1 (make hcl, make review): each stack's HCL rendering beside its JSON.
    const hcl = process.env.ACCESSWEAVER_HCL === "1";
    // ACCESSWEAVER_DR=1 (make validate, make rehearse): the DR environments too (Region loss, part 2).
    const dr = process.env.ACCESSWEAVER_DR === "1";
    const stacks = await locked(i, envs, () => deps.synthesize({ outdir: i.outdir, envSelection: i.env ?? "", rootDir: i.settingsRoot, hcl, dr }));
    process.stdout.write(`Synthesized ${stacks.length} stack(s): ${stacks.join(", ")}\n`);
  } catch (e) {
    if (e instanceof Refusal) throw e;
    throw new Refusal(`synth failed: ${e instanceof Error ? e.message : String(e)}\nNothing was written to the output folder.`);
  }
}

/** The phases built so far (src/stacks/registry.ts), for make help. */
async function builtPhases(): Promise<void> {
  const { REGISTERED_PHASES } = await import("../src/stacks/registry");
  const built = PHASES.filter((p) => REGISTERED_PHASES.some((d) => d.phase === p));
  process.stdout.write(`${built.join(", ")}\n`);
}

export async function main(argv: string[], deps: Dependencies = appSynth): Promise<void> {
  const i = parseInputs(argv);
  if (i.command === "check") return;
  if (i.command === "phases") return builtPhases();
  if (i.command === "synth") return synth(i, deps);
  const env = i.env!;
  const config = await loadEnvironment(env, { rootDir: i.settingsRoot });
  const refusal = await refusalForRealRun(config, `make ${i.command}`, i.settingsRoot);
  if (refusal) throw new Refusal(refusal);
  const restoring = i.command === "restore" || i.command === "restore-teardown";
  if (!config.settings.drRegion && (i.phase === "recovery" || restoring)) throw withoutDrRegion(config, restoring ? "DR region" : "recovery phase");
  const target: Target = { config, aws: process.env.AWS_CLI || "aws" };
  if (i.command === "restart") return locked(i, [env], () => restart(target, i.service!));
  const tagProblem = i.tag === undefined ? undefined : imageTagProblem(env, i.tag);
  if (tagProblem) throw new Refusal(`TAG refused: ${tagProblem}. Nothing was checked, planned or applied.`);
  if (!which(i.tf)) {
    throw new Refusal(
      `${i.command === "deploy" ? "Terraform (used by cdktf deploy)" : "Terraform"} binary "${i.tf}" (TF) not found on PATH. It is needed by make ${TERRAFORM_TARGETS}; make synth and make test work without it. Install Terraform, or pick another build with TF=<binary> (e.g. TF=tofu).`,
    );
  }
  if (restoring) {
    // Loaded only for these commands: the restore and its DNS switch.
    const { restore, restoreTeardown } = await import("./operator/restore");
    const r = {
      i,
      config,
      target,
      synthesize: deps.synthesize,
      stacksOf: (phases: readonly PhaseName[], nameOf: (phase: PhaseName) => string) => stacksOf(i.outdir, env, phases, nameOf),
      contextOf: (all: readonly Stack[], again: string) => contextOf(i, config, all, { again }),
    };
    return locked(i, [env], () => (i.command === "restore" ? restore(r) : restoreTeardown(r)));
  }
  await locked(i, [env], async () => {
    const released = i.command === "release" ? { services: i.service ? [i.service] : [...SERVICES], tag: i.tag! } : undefined;
    // Before anything is checked or planned: a settings file the release could not record the tag in.
    const record: TagRecord | undefined = released ? await prepareTagRecord(i.settingsRoot, config, released.services, released.tag) : undefined;
    // Before anything is synthesized or planned: a missing image would only fail the tasks, after the apply.
    if (released) await checkImages(target, released.services, released.tag);
    await deps.synthesize({ outdir: i.outdir, envSelection: env, rootDir: i.settingsRoot, ...(released ? { imageTagOverride: released } : {}) });
    const all = stacksOf(i.outdir, env);
    const phase: PhaseName | undefined = released || i.command === "db-roles" ? "services" : i.phase;
    const stacks = phase ? all.filter((s) => s.phase === phase) : all;
    if (stacks.length === 0) throw new Refusal(`Phase "${phase}" has no stack yet. Synthesized phases of ${env}: ${all.map((s) => s.phase).join(", ")}.`);
    const ctx = contextOf(i, config, all, phase ? { phase } : {});
    switch (i.command) {
      case "init":
        for (const s of stacks) await init(ctx, s);
        return;
      case "plan":
        return plan(ctx, stacks);
      case "apply":
        return apply(ctx, stacks);
      case "deploy":
        return deploy(ctx, stacks);
      case "output":
        return output(ctx, stacks);
      case "destroy":
        return destroy(ctx, stacks);
      case "drift":
        return drift(ctx, stacks);
      case "release":
        return release(ctx, target, stacks[0]!, released!, record!);
      case "db-roles": {
        // Loaded only for this command: it reads the handle specs and the task's container name.
        const { dbRoles } = await import("./operator/db-roles");
        return dbRoles(ctx, target, stacks[0]!);
      }
      // Loaded only for these commands (docs/operations-checks.md).
      case "drill":
        return (await import("./operator/drill")).drill(ctx, target, i);
      case "alert-test":
        return (await import("./operator/alert-test")).alertTest(ctx, target);
      case "cache-flush":
        return (await import("./operator/cache-flush")).cacheFlush(ctx, target, i);
    }
  });
}

/** The exit status for a run that ended with `e`: 2 for a refusal, 128+n after signal n, else 1. */
export function exitStatusFor(e: unknown): number {
  const signal = e instanceof StepFailed ? e.signal : undefined;
  return signal ? exitStatusOf(signal) : e instanceof Refusal ? 2 : 1;
}

/** The command-line entry: interrupts are handled, refusals print their message. */
/**
 * The command-line entry: interrupts are handled, refusals print their message. A closed stdout or a
 * lost terminal never ends the run (scripts/operator/terminal.ts); a run that may start Terraform or
 * cdktf writes its output to cdktf.out/logs/ as well (not make output: it prints values, secrets too).
 */
export function cli(argv: string[], deps?: Dependencies): void {
  guardOutput();
  watchSignals();
  try {
    const i = parseInputs(argv);
    if (i.env && i.command !== "output" && (TERRAFORM_COMMANDS as readonly string[]).includes(i.command))
      openRunLog(i.outdir, i.env, i.command, commandLine(i));
  } catch {
    // main() refuses these inputs with its own message.
  }
  main(argv, deps).then(
    () => endRun(0),
    (e: unknown) => {
      const message = e instanceof Error ? e.message : String(e);
      process.stderr.write(`${message}\n`);
      process.exitCode = exitStatusFor(e);
      endRun(process.exitCode, message);
    },
  );
}

if (require.main === module) cli(process.argv.slice(2));
