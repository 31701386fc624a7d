/**
 * The operator workflow behind `make init|plan|apply|deploy|output|destroy ENV=<env> [PHASE=<phase>]`:
 * real Terraform against the environment's S3 state, one phase stack at a time, in phase order
 * (reverse order for destroy). The phases are read from the synthesized manifest, so a new phase needs
 * no change here or in the Makefile.
 *
 *   node -r sucrase/register scripts/operator.ts <command> <env> [phase]
 *
 * Environment: TF (Terraform binary, default terraform), AUTO_APPROVE=1, CONFIRM (prod destroy),
 * NAME and FORMAT (output), CDKTF_OUTDIR (default cdktf.out), ACCESSWEAVER_SETTINGS_ROOT (folder
 * holding environments/, default the working directory).
 */
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { loadEnvironment } from "../src/config/load";
import { refusalForRealRun } from "../src/config/placeholders";
import { ENVIRONMENTS, EnvironmentName, PHASES, PhaseName, isEnvironmentName, names } from "../src/naming";
import type { SynthOptions } from "../src/synth";

const COMMANDS = ["init", "plan", "apply", "deploy", "output", "destroy"] as const;
type Command = (typeof COMMANDS)[number];

/** Resource types whose destruction loses data: a plan that deletes or replaces one is flagged loudly. */
export const STATEFUL_TYPES = [
  "aws_db_instance",
  "aws_rds_cluster",
  "aws_rds_cluster_instance",
  "aws_elasticache_replication_group",
  "aws_elasticache_cluster",
  "aws_s3_bucket",
  "aws_kms_key",
  "aws_cloudwatch_log_group",
  "aws_dynamodb_table",
  "aws_secretsmanager_secret",
  "aws_cloudtrail",
];

/** Targets that need the Terraform binary, for the message when it is missing. */
const TERRAFORM_TARGETS = "init, validate, rehearse, plan, apply, deploy, output, destroy";

/** A refusal or a failed step: its message is all the operator needs (exit 2). */
export class Refusal extends Error {}

interface Context {
  readonly command: Command;
  readonly env: EnvironmentName;
  readonly phase?: PhaseName;
  readonly outdir: string;
  readonly tf: string;
  readonly settingsRoot: string;
}

interface Stack {
  readonly name: string;
  readonly phase: PhaseName;
  readonly dir: string;
  readonly plan: string;
}

function say(message: string): void {
  process.stdout.write(`${message}\n`);
}

/** Finds a program on PATH (or a path to one), as the shell would. */
function which(program: string): string | undefined {
  if (program.includes("/")) return fs.existsSync(program) ? program : undefined;
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, program);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Runs a program with the operator's terminal; stops the workflow when it fails. */
function run(program: string, args: string[], options: { capture?: boolean; env?: NodeJS.ProcessEnv } = {}): string {
  say(`$ ${[path.basename(program), ...args].join(" ")}`);
  const r = spawnSync(program, args, {
    stdio: options.capture ? ["inherit", "pipe", "inherit"] : "inherit",
    encoding: "utf8",
    env: { ...process.env, ...options.env },
  });
  if (r.error) throw new Refusal(`${program} could not be started: ${r.error.message}`);
  const step = args.find((a) => !a.startsWith("-chdir=")) ?? "";
  if (r.status !== 0) throw new Refusal(`${path.basename(program)} ${step} failed (exit ${r.status}).`);
  return r.stdout ?? "";
}

function parseArgs(argv: string[]): Context {
  const [command, env, phase] = argv;
  if (!command || !(COMMANDS as readonly string[]).includes(command)) {
    throw new Refusal(`Unknown command "${command ?? ""}". Commands: ${COMMANDS.join(", ")}.`);
  }
  if (!env) throw new Refusal(`make ${command} needs ENV: one of ${ENVIRONMENTS.join(", ")}.`);
  if (!isEnvironmentName(env)) throw new Refusal(`Unknown ENV "${env}". Valid environments: ${ENVIRONMENTS.join(", ")}.`);
  if (phase && !(PHASES as readonly string[]).includes(phase)) throw new Refusal(`Unknown PHASE "${phase}". Phases: ${PHASES.join(", ")}.`);
  if (command === "deploy" && !phase) throw new Refusal(`make deploy needs PHASE: the one phase to deploy with the cdktf CLI (${PHASES.join(", ")}).`);
  return {
    command: command as Command,
    env,
    ...(phase ? { phase: phase as PhaseName } : {}),
    outdir: path.resolve(process.env.CDKTF_OUTDIR || "cdktf.out"),
    tf: process.env.TF || "terraform",
    settingsRoot: path.resolve(process.env.ACCESSWEAVER_SETTINGS_ROOT || "."),
  };
}

/** The environment's synthesized stacks in phase order (or the one PHASE). */
function stacksOf(ctx: Context): Stack[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(ctx.outdir, "manifest.json"), "utf8")) as { stacks: Record<string, unknown> };
  const prefix = `${names(ctx.env).prefix}-`;
  const all = Object.keys(manifest.stacks)
    .filter((n) => n.startsWith(prefix) && (PHASES as readonly string[]).includes(n.slice(prefix.length)))
    .map((n) => ({
      name: n,
      phase: n.slice(prefix.length) as PhaseName,
      dir: path.join(ctx.outdir, "stacks", n),
      plan: path.join(ctx.outdir, "plans", `${n}.tfplan`),
    }))
    .sort((a, b) => PHASES.indexOf(a.phase) - PHASES.indexOf(b.phase));
  if (!ctx.phase) return all;
  const one = all.filter((s) => s.phase === ctx.phase);
  if (one.length === 0) throw new Refusal(`Phase "${ctx.phase}" has no stack yet. Synthesized phases of ${ctx.env}: ${all.map((s) => s.phase).join(", ")}.`);
  return one;
}

const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
const configOf = (s: Stack) => path.join(s.dir, "cdk.tf.json");
const metaOf = (s: Stack) => `${s.plan}.json`;

/** `terraform init` of one stack, with INIT_FLAGS (e.g. -reconfigure after a backend change). */
function init(ctx: Context, s: Stack): void {
  const flags = (process.env.INIT_FLAGS ?? "").split(/\s+/).filter(Boolean);
  try {
    run(ctx.tf, [`-chdir=${s.dir}`, "init", "-input=false", ...flags]);
  } catch (e) {
    const bucket = names(ctx.env).stateBucket("000000000000").replace(/000000000000$/, "<account id>");
    throw new Refusal(`${(e as Error).message} If the state bucket ${bucket} or the lock table ${names(ctx.env).lockTable} does not exist yet, run scripts/setup-backend.sh ${ctx.env} <region> first; after a backend change, add INIT_FLAGS=-reconfigure (or -migrate-state).`);
  }
}

function ensureInit(ctx: Context, s: Stack): void {
  if (!fs.existsSync(path.join(s.dir, ".terraform"))) init(ctx, s);
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

function plan(ctx: Context, stacks: Stack[]): void {
  fs.mkdirSync(path.join(ctx.outdir, "plans"), { recursive: true });
  const rows: string[] = [];
  const warnings: string[] = [];
  for (const s of stacks) {
    ensureInit(ctx, s);
    for (const f of [s.plan, `${s.plan}.txt`, metaOf(s)]) fs.rmSync(f, { force: true });
    try {
      run(ctx.tf, [`-chdir=${s.dir}`, "plan", "-input=false", `-out=${s.plan}`]);
    } catch (e) {
      const hint = s.phase === stacks[0]!.phase ? "" : `\nIf an earlier phase of ${ctx.env} has never been applied, apply it first (make apply ENV=${ctx.env} PHASE=<phase>), then plan this one.`;
      throw new Refusal(`${(e as Error).message} Planning ${s.name} failed.${hint}`);
    }
    fs.writeFileSync(`${s.plan}.txt`, run(ctx.tf, [`-chdir=${s.dir}`, "show", "-no-color", s.plan], { capture: true }));
    const counts = countChanges(JSON.parse(run(ctx.tf, [`-chdir=${s.dir}`, "show", "-json", s.plan], { capture: true })));
    fs.writeFileSync(metaOf(s), JSON.stringify({ stack: s.name, configSha256: sha256(configOf(s)), createdAt: new Date().toISOString() }, null, 2));
    rows.push(`  ${s.phase.padEnd(14)} ${String(counts.add).padStart(4)} to add, ${String(counts.change).padStart(4)} to change, ${String(counts.destroy).padStart(4)} to destroy${counts.replace ? ` (${counts.replace} replaced)` : ""}   ${path.relative(process.cwd(), `${s.plan}.txt`)}`);
    warnings.push(...counts.stateful.map((r) => `${s.name}: ${r}`));
  }
  say(`\nPlan summary for ${ctx.env} (saved plans in ${path.relative(process.cwd(), path.join(ctx.outdir, "plans"))}/):`);
  for (const r of rows) say(r);
  if (warnings.length > 0) {
    say(`\n!!!!!!!!!! WARNING: these plans DESTROY OR REPLACE resources that hold data !!!!!!!!!!`);
    for (const w of warnings) say(`  !! ${w}`);
    say(`Read the plan text before applying; data in these resources is lost unless restored from a backup.`);
  }
  say(`\nNext: review the plan text, then make apply ENV=${ctx.env}${ctx.phase ? ` PHASE=${ctx.phase}` : ""}`);
}

/** Reads one line from the operator's terminal (stdin). */
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

function apply(ctx: Context, stacks: Stack[]): void {
  // Every plan is checked before any is applied: all or nothing is refused.
  for (const s of stacks) {
    if (!fs.existsSync(s.plan) || !fs.existsSync(metaOf(s))) {
      throw new Refusal(`No saved plan for ${s.name}. Run make plan ENV=${ctx.env}${ctx.phase ? ` PHASE=${ctx.phase}` : ""} and review it first.`);
    }
    const meta = JSON.parse(fs.readFileSync(metaOf(s), "utf8")) as { configSha256: string; createdAt: string };
    if (meta.configSha256 !== sha256(configOf(s))) {
      throw new Refusal(`The plan of ${s.name} (${meta.createdAt}) is older than the current synthesized configuration: code or settings changed since. Run make plan ENV=${ctx.env} again and review it.`);
    }
  }
  if (ctx.env === "prod" && process.env.AUTO_APPROVE !== "1") {
    say(`About to apply to PROD, in this order: ${stacks.map((s) => s.name).join(", ")}`);
    const answer = ask(`Type "prod" to apply (anything else cancels): `);
    if (answer !== "prod") throw new Refusal(`Apply to prod cancelled (answer was "${answer}"). Set AUTO_APPROVE=1 to skip this question.`);
  }
  const outputs = (s: Stack) => run(ctx.tf, [`-chdir=${s.dir}`, "output", "-json"], { capture: true });
  for (const [i, s] of stacks.entries()) {
    ensureInit(ctx, s);
    const later = stacks.slice(i + 1);
    const before = later.length > 0 ? outputs(s) : "";
    run(ctx.tf, [`-chdir=${s.dir}`, "apply", "-input=false", s.plan]);
    // A plan can be applied once; keep its text as a record of what was applied.
    fs.rmSync(s.plan, { force: true });
    fs.rmSync(metaOf(s), { force: true });
    fs.renameSync(`${s.plan}.txt`, `${s.plan}.applied.txt`);
    // Later phases were planned against this phase's outputs as they were: if they changed, those
    // plans are wrong in ways Terraform cannot see. Retire them rather than apply them.
    if (later.length > 0 && outputs(s) !== before) {
      for (const l of later) for (const f of [l.plan, `${l.plan}.txt`, metaOf(l)]) fs.rmSync(f, { force: true });
      throw new Refusal(
        `Applied ${stacks.slice(0, i + 1).map((x) => x.name).join(", ")}. The outputs of ${s.name} changed, so the saved plans of ${later.map((l) => l.name).join(", ")} were made against old values: they were not applied and are removed. Run make plan ENV=${ctx.env} again, review, then make apply ENV=${ctx.env}.`,
      );
    }
  }
  say(`Applied ${stacks.map((s) => s.name).join(", ")}.`);
}

function deploy(ctx: Context, stacks: Stack[]): void {
  const cdktf = which("cdktf") ?? which(path.resolve("node_modules/.bin/cdktf"));
  if (!cdktf) throw new Refusal("cdktf not found: run make install.");
  const args = ["deploy", stacks[0]!.name];
  if (process.env.AUTO_APPROVE === "1") args.push("--auto-approve");
  // cdktf deploy synthesizes again through cdktf.json's app: ask it for this environment only.
  run(cdktf, args, { env: { ACCESSWEAVER_ENV: ctx.env, TERRAFORM_BINARY_NAME: ctx.tf } });
}

function output(ctx: Context, stacks: Stack[]): void {
  const wanted = process.env.NAME ?? "";
  const owners = stacks.filter((s) => Object.keys(JSON.parse(fs.readFileSync(configOf(s), "utf8")).output ?? {}).includes(wanted));
  if (!wanted || owners.length === 0) {
    const available = stacks.flatMap((s) =>
      Object.keys(JSON.parse(fs.readFileSync(configOf(s), "utf8")).output ?? {})
        .filter((o) => !o.startsWith("cross-stack-output-"))
        .map((o) => `${o} (${s.phase})`),
    );
    throw new Refusal(`${wanted ? `No output "${wanted}" in ${ctx.env}` : "make output needs NAME"}. Outputs: ${available.join(", ") || "none"}.`);
  }
  const s = owners[0]!;
  ensureInit(ctx, s);
  const format = process.env.FORMAT === "json" ? "-json" : "-raw";
  const value = spawnSync(ctx.tf, [`-chdir=${s.dir}`, "output", format, wanted], { stdio: ["inherit", "pipe", "inherit"], encoding: "utf8" });
  if (value.status !== 0) throw new Refusal(`terraform output ${wanted} of ${s.name} failed (exit ${value.status}).${format === "-raw" ? " For a list or map, add FORMAT=json." : ""}`);
  process.stdout.write(value.stdout.endsWith("\n") ? value.stdout : `${value.stdout}\n`);
}

function destroy(ctx: Context, stacks: Stack[]): void {
  const order = [...stacks].reverse();
  const expected = order.map((s) => s.name).join(",");
  const confirmed = process.env.CONFIRM === expected;
  if (ctx.env === "prod" && !confirmed) {
    throw new Refusal(
      `Destroying prod is refused unless CONFIRM names exactly what is destroyed. To destroy ${order.length === 1 ? "this phase" : "these phases, in this order"}: make destroy ENV=prod${ctx.phase ? ` PHASE=${ctx.phase}` : ""} CONFIRM=${expected}`,
    );
  }
  // CONFIRM only unlocks prod; Terraform still shows what it destroys and asks, unless AUTO_APPROVE=1.
  const approve = process.env.AUTO_APPROVE === "1";
  for (const s of order) {
    ensureInit(ctx, s);
    run(ctx.tf, [`-chdir=${s.dir}`, "destroy", ...(approve ? ["-input=false", "-auto-approve"] : [])]);
  }
}

export interface Dependencies {
  /** Builds and writes the environment's stacks (the app's synth; tests pass a stand-in). */
  readonly synthesize: (options: SynthOptions) => Promise<unknown>;
}

// Loaded only when needed: refusals answer without loading cdktf and the provider bindings.
const appSynth: Dependencies = { synthesize: (options) => import("../src/synth").then((m) => m.synthesize(options)) };

export async function main(argv: string[], deps: Dependencies = appSynth): Promise<void> {
  const ctx = parseArgs(argv);
  const config = await loadEnvironment(ctx.env, { rootDir: ctx.settingsRoot });
  const refusal = await refusalForRealRun(config, `make ${ctx.command}`, ctx.settingsRoot);
  if (refusal) throw new Refusal(refusal);
  const needed = ctx.command === "deploy" ? "Terraform (used by cdktf deploy)" : "Terraform";
  if (!which(ctx.tf)) {
    throw new Refusal(
      `${needed} binary "${ctx.tf}" (TF) not found on PATH. It is needed by make ${TERRAFORM_TARGETS}; make synth and make test work without it. Install Terraform, or pick another build with TF=<binary> (e.g. TF=tofu).`,
    );
  }
  await deps.synthesize({ outdir: ctx.outdir, envSelection: ctx.env, rootDir: ctx.settingsRoot });
  const stacks = stacksOf(ctx);
  switch (ctx.command) {
    case "init":
      for (const s of stacks) init(ctx, s);
      break;
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
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = e instanceof Refusal ? 2 : 1;
  });
}
