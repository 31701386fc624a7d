/**
 * `make emulate ENV=<env>`: applies every phase of the environment into an AWS API emulator, phase by
 * phase, then plans each phase again; every resource whose second plan is not empty is a finding
 * unless the allow-list explains it. Then it rehearses a release of the services phase (release.ts)
 * and plans that phase a third time, which must be empty too. Exit codes: 0 the second plans and the
 * plan after the release are empty (apart from allow-listed gaps), 1 a finding or a failed step, 2 usage or nothing synthesized, 3 no Terraform or no emulator
 * (nothing was run; the Makefile says so loudly).
 */
import { ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { GenerateError } from "../tf-check/generate";
import { Json, isObject } from "../tf-check/json";
import { readMirror } from "../tf-check/mirror";
import { writeCheckRoot } from "../tf-check/run";
import { SynthStack, UsageError, readSynthOutput } from "../tf-check/stacks";
import { RunResult, Terraform, runTerraform, terraformFor, terraformVersion } from "../tf-check/terraform";
import { ALLOW_LIST, Rule, editRules, motoSettings, planRules, standInRules } from "./allow-list";
import { Backend, RunningEmulator, Send, createPrerequisites, motoEnvironment, send, startMoto } from "./emulator";
import { Change, Verdict, changesOf, judge } from "./findings";
import { PhaseResult, ReleaseResult, releaseFindings, reportMarkdown, summaryText } from "./report";
import {
  RELEASE_DIR_SUFFIX,
  RELEASE_PLAN,
  RELEASE_TAG_SUFFIX,
  ReleaseSynth,
  THIRD_PLAN,
  checkReleasePlan,
  currentTagOf,
  synthesizeRelease,
  taskDefinitionsRunning,
} from "./release";
import { COPY_FILE, CopyOptions, EmulatedStack, Emulator, emulatedCopy, hostedZonesOf } from "./rewrite";

export const EXIT = { ok: 0, failed: 1, usage: 2, skipped: 3 } as const;

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const USAGE = `usage: emulate.ts <env>
  Applies every phase of <env> into an AWS API emulator, then plans again: the second plan must be empty.
  Then releases the services phase as make release does (a new image tag for every service) and plans
  it again: that plan must be empty too. The settings are only read.
  Reads CDKTF_OUTDIR (default cdktf.out; writes <outdir>/emulate/<env>/), TF (default terraform),
  TF_PLUGIN_DIR (default /opt/tf-plugins), EMULATOR_URL (an emulator already running, e.g. LocalStack's
  http://localhost:4566; default: start MOTO_SERVER, default moto_server, on a free 127.0.0.1 port).`;

/** Stand-in secret key; the access key is the account id (see emulator.ts). */
const SECRET_KEY = "emulate-standin-secret-key";

export interface Dependencies {
  readonly send: Send;
  readonly startMoto: typeof startMoto;
  readonly rules: readonly Rule[];
  /** The release rehearsal's synth (make release's: every service at a new tag). */
  readonly synthesizeRelease: ReleaseSynth;
}

const DEFAULTS: Dependencies = { send, startMoto, rules: ALLOW_LIST, synthesizeRelease };

/** Children to stop on an interrupt: the running Terraform and the emulator we started. */
interface Interrupts {
  signal?: NodeJS.Signals;
  terraform?: ChildProcess;
  emulator?: RunningEmulator;
}

export async function main(
  argv: readonly string[],
  io: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) },
  deps: Dependencies = DEFAULTS,
): Promise<number> {
  const [env, ...rest] = argv;
  if (!env || rest.length > 0 || env.startsWith("-")) {
    io.err(`${USAGE}\n`);
    return EXIT.usage;
  }
  const outdir = path.resolve(process.env.CDKTF_OUTDIR || "cdktf.out");
  let stacks: readonly SynthStack[];
  try {
    const synth = readSynthOutput(outdir);
    const found = synth.environments.get(env);
    if (!found)
      throw new UsageError(
        `no synthesized stacks for ${env} in ${outdir} (found: ${[...synth.environments.keys()].join(", ") || "none"}). Synthesize first: make synth ENV=${env}.`,
      );
    stacks = found;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`emulate: ${error.message}\n`);
    return EXIT.usage;
  }

  const dir = path.join(outdir, "emulate", env);
  const mirror = readMirror((process.env.TF_PLUGIN_DIR ?? "/opt/tf-plugins") || undefined);
  const tf = terraformFor(process.env.TF || "terraform", mirror, dir);
  const version = await terraformVersion(tf);
  if (!version) {
    io.err(`emulate: SKIPPED: Terraform binary "${tf.bin}" not found or not runnable (set TF): nothing was applied.\n`);
    return EXIT.skipped;
  }

  const account = accountOf(stacks);
  const given = process.env.EMULATOR_URL;
  const interrupts: Interrupts = {};
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts.signal ??= signal;
    io.err(`\nemulate: ${signal} received: stopping Terraform and the emulator...\n`);
    interrupts.terraform?.kill(signal);
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const s of signals) process.on(s, onSignal);
  // Whatever happens, the moto server we started does not outlive us (a synchronous kill at exit).
  const atExit = () => {
    const pid = interrupts.emulator?.child?.pid;
    if (pid !== undefined) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already stopped
      }
    }
  };
  process.on("exit", atExit);
  const started = Date.now();
  try {
    let url: string;
    if (given) {
      url = given.replace(/\/$/, "");
      io.out(`emulate ${env}: ${version}; the emulator at ${url} (EMULATOR_URL)\n`);
    } else {
      const bin = process.env.MOTO_SERVER || "moto_server";
      try {
        interrupts.emulator = await deps.startMoto(bin, motoEnvironment(account, motoSettings(deps.rules)));
      } catch (error) {
        const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
        io.err(
          `emulate: ${missing ? "SKIPPED: no emulator: " : "FAILED: "}${(error as Error).message}\n${missing ? "emulate: install moto (pip install 'moto[server]') or set EMULATOR_URL (LocalStack): nothing was applied.\n" : ""}`,
        );
        return missing ? EXIT.skipped : EXIT.failed;
      }
      url = interrupts.emulator.url;
      io.out(`emulate ${env}: ${version}; moto_server on ${url} (started for this run, account ${account})\n`);
    }
    const emulator: Emulator = { url, accessKey: account, secretKey: SECRET_KEY };
    return await emulate(env, stacks, dir, tf, emulator, io, deps, interrupts, started);
  } catch (error) {
    if (!(error instanceof GenerateError)) throw error;
    io.err(`emulate: ${env}: FAILED: ${error.message}\n`);
    return EXIT.failed;
  } finally {
    await interrupts.emulator?.stop();
    for (const s of signals) process.removeListener(s, onSignal);
    process.removeListener("exit", atExit);
  }
}

/** The account the stacks are locked to (their providers' allowed_account_ids), or moto's default. */
export function accountOf(stacks: readonly SynthStack[]): string {
  for (const s of stacks) {
    const providers = isObject(s.config.provider) ? s.config.provider : {};
    const aws = providers.aws;
    for (const block of (Array.isArray(aws) ? aws : [aws]).filter(isObject)) {
      const ids = block.allowed_account_ids;
      if (Array.isArray(ids) && typeof ids[0] === "string") return ids[0];
    }
  }
  return "123456789012";
}

/** Each stack's S3 backend: the bucket and lock table to create in the emulator. */
export function backendsOf(stacks: readonly SynthStack[]): Backend[] {
  return stacks.flatMap((s) => {
    const terraform = isObject(s.config.terraform) ? s.config.terraform : {};
    const b = isObject(terraform.backend) && isObject(terraform.backend.s3) ? terraform.backend.s3 : undefined;
    if (!b || typeof b.bucket !== "string" || typeof b.region !== "string") return [];
    return [{ bucket: b.bucket, region: b.region, table: typeof b.dynamodb_table === "string" ? b.dynamodb_table : "" }].filter((x) => x.table !== "");
  });
}

async function emulate(
  env: string,
  stacks: readonly SynthStack[],
  dir: string,
  tf: Terraform,
  emulator: Emulator,
  io: Io,
  deps: Dependencies,
  interrupts: Interrupts,
  started: number,
): Promise<number> {
  const zoneIds = await createPrerequisites(emulator.url, emulator.accessKey, backendsOf(stacks), hostedZonesOf(stacks), deps.send);
  const copyOptions = (copyDir: string): CopyOptions => ({
    emulator,
    mirror: tf.mirror,
    standInRules: standInRules(deps.rules),
    editRules: editRules(deps.rules),
    zoneIds,
    copyDir,
  });
  const copies = stacks.map((s) => emulatedCopy(s, copyOptions(path.join(dir, s.name))));
  writeCheckRoot({ dir, files: new Map(copies.map((c) => [path.join(c.stack, COPY_FILE), c.config])) });
  for (const c of copies) {
    for (const s of c.standIns)
      io.out(`emulate: ${env}/${c.phase}: ${s.address} stands in (${s.why})${s.created ? `; made in the emulator by a plain ${s.created.what} call` : ""}\n`);
    for (const e of c.edits) io.out(`emulate: ${env}/${c.phase}: in the copy only: ${e}\n`);
  }

  // Each step's whole output is kept beside the copy (<step>.log): the terminal gets the errors only.
  // `folder`: the copy's folder under `dir` (the stack's name; the released services copy has its own).
  const run = async (args: string[], folder: string, log?: string) => {
    const result = await runTerraform(tf, [`-chdir=${path.join(dir, folder)}`, ...args], dir, (child) => (interrupts.terraform = child));
    if (log) fs.writeFileSync(path.join(dir, folder, `${log}.log`), result.output);
    return result;
  };
  const results: PhaseResult[] = [];
  let release: ReleaseResult | undefined;
  const finish = (failed?: { phase: string; step: string; result: RunResult }) => {
    const reportFile = path.join(dir, "report.md");
    const verdict: Verdict = { findings: results.flatMap((r) => r.verdict?.findings ?? []), allowed: results.flatMap((r) => r.verdict?.allowed ?? []) };
    const context = {
      env,
      emulator: emulator.url,
      seconds: Math.round((Date.now() - started) / 1000),
      copies,
      phases: results,
      failed,
      verdict,
      rules: deps.rules,
      release,
    };
    fs.writeFileSync(reportFile, reportMarkdown(context));
    const rel = path.relative(process.cwd(), reportFile);
    io.out(`${summaryText(context)}Report: ${rel.startsWith("..") ? reportFile : rel}\n`);
    if (interrupts.signal) return 128 + (interrupts.signal === "SIGINT" ? 2 : interrupts.signal === "SIGTERM" ? 15 : 1);
    return failed || verdict.findings.length > 0 || releaseFindings(release) > 0 ? EXIT.failed : EXIT.ok;
  };

  // Stood-in resources that other resources need in the emulator: made by a plain call (first copies only:
  // the release continues the same emulator).
  for (const c of copies) {
    for (const s of c.standIns) {
      if (!s.created) continue;
      const answer = await deps.send(emulator.url, s.created.call);
      if (answer.status >= 300)
        return fail(
          io,
          env,
          c,
          `${s.created.what} of the stood-in ${s.address}`,
          {
            code: 1,
            output: `Error: the emulator refused ${s.created.what}: HTTP ${answer.status} ${answer.body.slice(0, 500)}`,
            stdout: "",
            stderr: answer.body,
          },
          finish,
        );
    }
  }

  const initArgs = ["init", "-input=false", "-no-color", "-reconfigure", ...(tf.mirror ? [`-plugin-dir=${tf.mirror.dir}`] : [])];
  // First apply, phase by phase, as an operator does: each later phase reads the earlier states.
  for (const copy of copies) {
    const t0 = Date.now();
    const init = await run(initArgs, copy.stack, "init");
    if (init.code !== 0 || interrupts.signal) return fail(io, env, copy, "terraform init", init, finish);
    const apply = await run(["apply", "-auto-approve", "-input=false", "-no-color"], copy.stack, "apply");
    if (apply.code !== 0 || interrupts.signal) return fail(io, env, copy, "terraform apply", apply, finish);
    results.push({ phase: copy.phase, stack: copy.stack, applySeconds: (Date.now() - t0) / 1000 });
    io.out(`emulate: ${env}/${copy.phase}: applied (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  }

  // Second plan of every phase: it must be empty.
  for (const [i, copy] of copies.entries()) {
    const planFile = "second.tfplan";
    const plan = await run(["plan", "-detailed-exitcode", "-input=false", "-no-color", `-out=${planFile}`], copy.stack, "second-plan");
    if ((plan.code !== 0 && plan.code !== 2) || interrupts.signal) return fail(io, env, copy, "terraform plan (second plan)", plan, finish);
    const shown = await run(["show", "-json", planFile], copy.stack);
    if (shown.code !== 0) return fail(io, env, copy, "terraform show -json", shown, finish);
    fs.writeFileSync(path.join(dir, copy.stack, "second-plan.json"), shown.stdout);
    const text = await run(["show", "-no-color", planFile], copy.stack);
    fs.writeFileSync(path.join(dir, copy.stack, "second-plan.txt"), text.stdout);
    const changes: Change[] = changesOf(copy.phase, JSON.parse(shown.stdout) as Json);
    // -detailed-exitcode says 2 for output-only changes too; only resources count.
    results[i] = { ...results[i]!, verdict: judge(changes, planRules(deps.rules)) };
  }

  // The release rehearsal: make release's synth, plan and apply of the services phase, then a third plan.
  const first = copies.find((c) => c.phase === "services");
  const synthesized = stacks.find((s) => s.phase === "services");
  if (!first || !synthesized) {
    io.out(`emulate: ${env}: no services phase: no release to rehearse.\n`);
    return finish();
  }
  // A step of the rehearsal that is not Terraform's, failed: reported as a failed step is.
  const step = (message: string): RunResult => ({ code: 1, output: `Error: ${message}`, stdout: "", stderr: message });
  const tag = currentTagOf(synthesized);
  if (!tag)
    return fail(
      io,
      env,
      first,
      "release synth",
      step(`no container image with a tag in ${synthesized.name}'s task definitions: there is no tag to release after.`),
      finish,
    );
  const releaseTag = `${tag}${RELEASE_TAG_SUFFIX}`;
  const synthDir = path.join(dir, "release-synth");
  const folder = `${first.stack}${RELEASE_DIR_SUFFIX}`;
  const t0 = Date.now();
  io.out(
    `emulate: ${env}/services: rehearsing a release: every service from image tag ${tag} to ${releaseTag}, synthesized as make release does (the settings are not changed), planned, applied, then planned again\n`,
  );
  try {
    const settingsRoot = path.resolve(process.env.ACCESSWEAVER_SETTINGS_ROOT || ".");
    await deps.synthesizeRelease({
      env,
      tag: releaseTag,
      outdir: synthDir,
      settingsRoot,
      notice: (m) => io.out(`emulate: ${env}/services: release synth: ${m}\n`),
    });
  } catch (error) {
    return fail(io, env, first, "release synth", step(`the release's synth failed: ${(error as Error).message}`), finish);
  }
  if (interrupts.signal) return finish();
  let releasedStack: SynthStack | undefined;
  try {
    releasedStack = readSynthOutput(synthDir)
      .environments.get(env)
      ?.find((s) => s.phase === "services");
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return fail(io, env, first, "release synth", step(error.message), finish);
  }
  if (!releasedStack || taskDefinitionsRunning(releasedStack.config, releaseTag).length === 0) {
    const found = releasedStack ? `no task definition of ${releasedStack.name} runs ${releaseTag}` : `no services stack of ${env} in ${synthDir}`;
    return fail(io, env, first, "release synth", step(`${found}; expected every service's task definition at the released tag.`), finish);
  }
  const copy = emulatedCopy(releasedStack, copyOptions(path.join(dir, folder)));
  writeCheckRoot({ dir: path.join(dir, folder), files: new Map([[COPY_FILE, copy.config]]) });
  release = { phase: copy.phase, stack: copy.stack, folder, tag: releaseTag, previousTag: tag, problems: [] };

  // Same backend key and state as the first copy: the release continues the applied phase.
  const init = await run(initArgs, folder, "init");
  if (init.code !== 0 || interrupts.signal) return fail(io, env, copy, "terraform init (release)", init, finish);
  // As make release: a saved plan, shown, then that plan applied.
  const plan = await run(["plan", "-input=false", "-no-color", `-out=${RELEASE_PLAN}`], folder, "release-plan");
  if (plan.code !== 0 || interrupts.signal) return fail(io, env, copy, "terraform plan (release)", plan, finish);
  const shown = await run(["show", "-json", RELEASE_PLAN], folder);
  if (shown.code !== 0) return fail(io, env, copy, "terraform show -json (release plan)", shown, finish);
  fs.writeFileSync(path.join(dir, folder, "release-plan.json"), shown.stdout);
  fs.writeFileSync(path.join(dir, folder, "release-plan.txt"), (await run(["show", "-no-color", RELEASE_PLAN], folder)).stdout);
  const check = checkReleasePlan(copy.config, releaseTag, changesOf(copy.phase, JSON.parse(shown.stdout) as Json), planRules(deps.rules));
  release = { ...release, ...check };
  const apply = await run(["apply", "-input=false", "-no-color", RELEASE_PLAN], folder, "release-apply");
  if (apply.code !== 0 || interrupts.signal) return fail(io, env, copy, "terraform apply (release)", apply, finish);
  release = { ...release, applySeconds: (Date.now() - t0) / 1000 };
  io.out(
    `emulate: ${env}/services: release applied (${release.applySeconds!.toFixed(1)} s): ${check.registered.length} new task definition revision(s), ${check.services.length} service(s) changed\n`,
  );
  if (check.codeDeploy.length > 0) {
    io.out(
      `emulate: ${env}/services: ${check.codeDeploy.join(", ")} is released by CodeDeploy (blue/green): its deployment is NOT rehearsed (moto has no CODE_DEPLOY deployments); rehearsed is Terraform's side: the new task definition registered, the service left alone\n`,
    );
  }

  const third = await run(["plan", "-detailed-exitcode", "-input=false", "-no-color", `-out=${THIRD_PLAN}`], folder, "third-plan");
  if ((third.code !== 0 && third.code !== 2) || interrupts.signal) return fail(io, env, copy, "terraform plan (after the release)", third, finish);
  const thirdJson = await run(["show", "-json", THIRD_PLAN], folder);
  if (thirdJson.code !== 0) return fail(io, env, copy, "terraform show -json (after the release)", thirdJson, finish);
  fs.writeFileSync(path.join(dir, folder, "third-plan.json"), thirdJson.stdout);
  fs.writeFileSync(path.join(dir, folder, "third-plan.txt"), (await run(["show", "-no-color", THIRD_PLAN], folder)).stdout);
  release = { ...release, verdict: judge(changesOf(copy.phase, JSON.parse(thirdJson.stdout) as Json), planRules(deps.rules)) };
  return finish();
}

function fail(
  io: Io,
  env: string,
  copy: EmulatedStack,
  step: string,
  result: RunResult,
  finish: (failed: { phase: string; step: string; result: RunResult }) => number,
): number {
  // Terraform's errors, not the plan it printed before them.
  const output = result.output.trim();
  const error = output.search(/^(\u2577\n\u2502 )?Error: /m);
  io.err(`${(error >= 0 ? output.slice(error) : output.split("\n").slice(-40).join("\n")).replace(/^/gm, "  | ")}\n`);
  io.err(
    `emulate: ${env}: FAILED in phase ${copy.phase} (${copy.stack}): ${step} exited ${result.code}; ${step.startsWith("terraform") ? "Terraform's message" : "its message"} is above.\n`,
  );
  return finish({ phase: copy.phase, step, result });
}
