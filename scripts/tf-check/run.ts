/**
 * `validate` and `rehearse` over environments: generate each check root, init it once, run Terraform,
 * environments side by side. Exit codes: 0 passed, 1 a check failed, 2 usage or missing synth output,
 * 3 the Terraform binary is missing (nothing was checked; the Makefile says so loudly).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CheckRoot, GenerateError, ROOT_FILE, buildCheckRoot } from "./generate";
import { Json, JsonObject, isObject } from "./json";
import { readMirror } from "./mirror";
import { SynthOutput, UsageError, readSynthOutput } from "./stacks";
import { countPlan, planMismatches, summaryMarkdown } from "./summary";
import { RunResult, Terraform, initOnce, runTerraform, terraformFor, terraformVersion } from "./terraform";

export const EXIT = { ok: 0, failed: 1, usage: 2, noTerraform: 3 } as const;

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const USAGE = `usage: tf-check.ts validate|rehearse [env...]
  validate  terraform init -backend=false + validate of each environment's check root
  rehearse  offline plan rehearsal of a first apply into an empty account (cdktf.out/rehearsal/<env>/)
  Without env: every environment in the synthesized output.
  Reads CDKTF_OUTDIR (default cdktf.out), TF (default terraform), TF_PLUGIN_DIR (default /opt/tf-plugins;
  empty: use the registry), TF_CHECK_JOBS (environments run at once, default: number of CPUs).`;

type Command = "validate" | "rehearse";

export async function main(argv: readonly string[], io: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): Promise<number> {
  const [command, ...requested] = argv;
  if (command !== "validate" && command !== "rehearse") {
    io.err(`${USAGE}\n`);
    return EXIT.usage;
  }
  const outdir = path.resolve(process.env.CDKTF_OUTDIR || "cdktf.out");
  const pluginDir = process.env.TF_PLUGIN_DIR ?? "/opt/tf-plugins";
  const bin = process.env.TF || "terraform";

  let synth: SynthOutput;
  try {
    synth = readSynthOutput(outdir);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`tf-check: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  const envs = requested.length > 0 ? requested : [...synth.environments.keys()];
  const absent = envs.filter((e) => !synth.environments.has(e));
  if (envs.length === 0 || absent.length > 0) {
    io.err(
      `tf-check: no synthesized stacks for ${absent.join(", ") || "any environment"} in ${outdir} (found: ${[...synth.environments.keys()].join(", ") || "none"}). Synthesize first: make synth ENV=<env>.\n`,
    );
    return EXIT.usage;
  }
  for (const name of synth.ignored) io.err(`tf-check: note: stack ${name} does not follow <project>-<env>-<phase> and is not checked.\n`);

  const checkDir = path.join(outdir, "check");
  const mirror = readMirror(pluginDir || undefined);
  const roots: CheckRoot[] = [];
  let generationFailed = 0;
  for (const env of envs) {
    try {
      roots.push(buildCheckRoot(env, synth.environments.get(env)!, checkDir, mirror));
    } catch (error) {
      if (!(error instanceof GenerateError)) throw error;
      io.err(`tf-check: ${command} ${env}: FAILED: ${error.message}\n`);
      generationFailed += 1;
    }
  }
  for (const root of roots) writeCheckRoot(root);

  const tf = terraformFor(bin, mirror, checkDir);
  const version = await terraformVersion(tf);
  if (!version) {
    const what = command === "validate" ? "terraform validate" : "the offline plan rehearsal";
    io.err(
      `tf-check: SKIPPED: Terraform binary "${bin}" not found or not runnable (set TF, e.g. TF=tofu).\n` +
        `tf-check: SKIPPED: ${what} of ${envs.join(", ")}: nothing was checked by Terraform.\n`,
    );
    // A wiring fault found without Terraform is still a failure, not a skip.
    return generationFailed > 0 ? EXIT.failed : EXIT.noTerraform;
  }
  io.out(
    `tf-check ${command} ${envs.join(" ")}: ${version}; providers from ${mirror ? `the mirror ${mirror.dir}` : "the registry (no mirror)"}` +
      `${command === "rehearse" ? "; a rehearsal of a first apply into an empty account, not a plan of real infrastructure" : ""}\n`,
  );
  for (const root of roots) {
    for (const s of root.standIns) {
      io.out(
        `tf-check: ${root.env}/${s.phase}: ${s.address} stands in as sensitive input(s) ${s.inputs.map((i) => `var.${i.variable}`).join(", ") || "(not read)"}: ${s.reason ?? `provider ${s.provider} is not in the plugin mirror`}, so it is not checked.\n`,
      );
    }
  }

  const jobs = Math.max(1, Number(process.env.TF_CHECK_JOBS) || os.cpus().length);
  const results = await pool(roots, jobs, (root) => (command === "validate" ? validateEnv(tf, root, io) : rehearseEnv(tf, root, outdir, io)));
  const failed = results.filter((ok) => !ok).length + generationFailed;
  if (failed > 0) {
    io.err(`tf-check: ${command}: FAILED for ${failed} of ${envs.length} environment(s).\n`);
    return EXIT.failed;
  }
  io.out(`tf-check: ${command}: ${envs.join(", ")} passed.\n`);
  return EXIT.ok;
}

/** Replaces the generated files, keeping what init made (.terraform, the lock file). */
export function writeCheckRoot(root: Pick<CheckRoot, "dir" | "files">): void {
  fs.mkdirSync(root.dir, { recursive: true });
  for (const entry of fs.readdirSync(root.dir)) {
    if (entry === ".terraform" || entry === ".terraform.lock.hcl") continue;
    fs.rmSync(path.join(root.dir, entry), { recursive: true, force: true });
  }
  for (const [rel, content] of root.files) {
    const file = path.join(root.dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
  }
}

/** What init depends on: module calls and provider requirements (not the resources). */
function initFingerprint(root: CheckRoot): string {
  const parts: Json[] = [];
  for (const [rel, content] of [...root.files].sort(([a], [b]) => a.localeCompare(b))) {
    const terraform = isObject(content.terraform) ? content.terraform : {};
    const modules: JsonObject = {};
    if (isObject(content.module)) for (const [name, call] of Object.entries(content.module)) modules[name] = isObject(call) ? (call.source ?? null) : null;
    parts.push([rel, terraform.required_providers ?? null, terraform.required_version ?? null, modules]);
  }
  return JSON.stringify(parts);
}

/** Without a mirror, inits share one plugin cache, which is not safe for concurrent writers. */
let registryInits: Promise<unknown> = Promise.resolve();

async function prepare(tf: Terraform, root: CheckRoot, command: Command, io: Io): Promise<boolean> {
  const initRun = () => initOnce(tf, root.dir, initFingerprint(root));
  let init: RunResult | undefined;
  if (tf.mirror) init = await initRun();
  else {
    const mine = registryInits.then(initRun);
    registryInits = mine.catch(() => undefined);
    init = await mine;
  }
  if (init && init.code !== 0) {
    fail(io, root, command, "terraform init", init);
    return false;
  }
  return true;
}

async function validateEnv(tf: Terraform, root: CheckRoot, io: Io): Promise<boolean> {
  if (!(await prepare(tf, root, "validate", io))) return false;
  const result = await runTerraform(tf, ["validate", "-no-color"], root.dir);
  if (result.code !== 0 || root.problems.length > 0) {
    fail(io, root, "validate", "terraform validate", result);
    return false;
  }
  // Warnings (deprecations, ...) are for the reader; the closing "Success!" paragraph is not.
  const success = result.output.lastIndexOf("Success!");
  const warnings = /Warning:/.test(result.output) ? indent(result.output.slice(0, success >= 0 ? success : undefined).trim()) : "";
  io.out(`tf-check: ${root.env}: valid (${phaseList(root)})\n${warnings ? `${warnings}\n` : ""}`);
  return true;
}

async function rehearseEnv(tf: Terraform, root: CheckRoot, outdir: string, io: Io): Promise<boolean> {
  if (!(await prepare(tf, root, "rehearse", io))) return false;
  const dir = path.join(outdir, "rehearsal", root.env);
  // A failed rehearsal must not leave the previous one's plan looking current.
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const planFile = path.join(dir, "plan.tfplan");
  const plan = await runTerraform(tf, ["plan", "-refresh=false", "-lock=false", "-input=false", "-no-color", `-out=${planFile}`], root.dir);
  if (plan.code !== 0 || root.problems.length > 0) {
    fail(io, root, "rehearse", "terraform plan (rehearsal)", plan);
    return false;
  }
  const [json, text] = await Promise.all([
    runTerraform(tf, ["show", "-json", planFile], root.dir),
    runTerraform(tf, ["show", "-no-color", planFile], root.dir),
  ]);
  for (const [what, r] of [
    ["terraform show -json", json],
    ["terraform show", text],
  ] as const) {
    if (r.code !== 0) {
      fail(io, root, "rehearse", what, r);
      return false;
    }
  }
  fs.writeFileSync(path.join(dir, "plan.json"), json.stdout);
  fs.writeFileSync(path.join(dir, "plan.txt"), text.stdout);
  // A first apply must create exactly what each phase's stack declares: anything else is a harness
  // or wiring fault that would make the rehearsal say less than it seems to.
  const mismatches = planMismatches(root, JSON.parse(json.stdout) as Json);
  if (mismatches.length > 0) {
    io.err(
      `${mismatches.map((m) => `tf-check: ${root.env}/${m}\n`).join("")}tf-check: rehearse ${root.env}: FAILED: the plan does not create exactly the synthesized resources.\n`,
    );
    return false;
  }
  const rel = (p: string) => (path.relative(process.cwd(), p).startsWith("..") ? p : path.relative(process.cwd(), p));
  const counts = countPlan(root, JSON.parse(json.stdout) as Json);
  const summary = summaryMarkdown(root, counts, { checkRoot: rel(path.join(root.dir, ROOT_FILE)), plan: rel(planFile) });
  fs.writeFileSync(path.join(dir, "summary.md"), summary);
  // Warnings (deprecations, ...) come after the plan body, and `terraform show` does not repeat them.
  const warning = plan.output.search(/^Warning:/m);
  // The terminal gets one line per environment; the tables by phase and type are in summary.md.
  const created = (c: (typeof counts)[number]) => [...c.create.values()].reduce((a, b) => a + b, 0);
  const all = counts.reduce((n, c) => n + created(c), 0);
  io.out(
    `tf-check: rehearse ${root.env}: a first apply would create ${all} resources (${counts.map((c) => `${c.phase} ${created(c)}`).join(", ")}); by type: ${rel(path.join(dir, "summary.md"))}; the plan: ${rel(path.join(dir, "plan.txt"))}\n` +
      (warning >= 0 ? `tf-check: ${root.env}: Terraform warnings:\n${indent(plan.output.slice(warning).trim())}\n` : ""),
  );
  return true;
}

function fail(io: Io, root: CheckRoot, command: Command, step: string, result: RunResult): void {
  const named = phasesNamedIn(root, [result.output, ...root.problems].join("\n"));
  const phases =
    named.length > 0
      ? `in phase${named.length > 1 ? "s" : ""} ${named.map((p) => `${p.phase} (${p.stack})`).join(", ")}`
      : `for the whole environment (phases ${phaseList(root)})`;
  const problems = root.problems.map((p) => `tf-check: ${p}\n`).join("");
  const verdict = result.code !== 0 ? `${step} exited ${result.code}; Terraform's message is above` : `${step} passed, but the wiring between phases is broken`;
  io.err(`${indent(result.output.trim())}\n${problems}tf-check: ${command} ${root.env}: FAILED ${phases}: ${verdict}.\n`);
}

/**
 * Phases that the failure points at: where Terraform locates the error (`with module.<phase>.<resource>`,
 * `on <stack>/cdk.tf.json`, `in module.<phase>` at the root's module call) and the wiring faults found
 * while generating. Incidental mentions (`module.network is a object`) do not count.
 */
export function phasesNamedIn(root: CheckRoot, output: string): CheckRoot["phases"][number][] {
  return root.phases.filter((p) =>
    [
      `with module.${p.module}.`,
      `with module.${p.module},`,
      `on ${p.childDir}/`,
      `in module.${p.module}:`,
      `in module "${p.module}"`,
      `${root.env}/${p.phase} (${p.stack})`,
    ].some((s) => output.includes(s)),
  );
}

const phaseList = (root: CheckRoot) => root.phases.map((p) => p.phase).join(", ");
const indent = (text: string) => text.replace(/^/gm, "  | ");

async function pool<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  return results;
}
