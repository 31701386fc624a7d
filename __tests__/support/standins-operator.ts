// The operator under test with the recording stand-ins first on PATH: through make (what operators
// type) or straight through node with the three-phase fixture (faster, and with more phases).
//
//   const h = operatorHarness();           // in a describe or at the top of a test file
//   const r = h.multi(["plan", "dev"]);    // r.status, r.stdout, r.stderr, r.log (stand-in calls)
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Dependencies, exitStatusFor, main } from "../../scripts/operator";
import { fakeSynth } from "../fixtures/multi-phase";
import { ROOT, tempDir } from "./config";
import { Standins, makeStandins } from "./standins";

export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  log: string[];
}

/** A settings folder whose terraform.tfvars copies hold real-looking (non-example) values. */
export function settingsRoot(envs: string[] = ["dev", "staging", "prod"], edit: (text: string) => string = (t) => t): string {
  const root = tempDir("aw-settings-");
  for (const env of envs) {
    const example = fs.readFileSync(path.join(ROOT, "environments", env, "terraform.tfvars.example"), "utf8");
    const own = example
      .replace(/123456789012/g, "444455556666")
      .replace("Z0123456789EXAMPLE", "Z04455667788ABCDEF")
      .replace(/platform-team@example\.com/g, "platform-team@accessweaver.com")
      .replace("CC-EXAMPLE", "CC-1042")
      .replace("integration/00000000000000000000000000000000/", "integration/a1b2c3d4e5f60718293a4b5c6d7e8f90/");
    fs.mkdirSync(path.join(root, "environments", env), { recursive: true });
    fs.writeFileSync(path.join(root, "environments", env, "terraform.tfvars.example"), example);
    fs.writeFileSync(path.join(root, "environments", env, "terraform.tfvars"), edit(own));
  }
  return root;
}

/** A run started in the background: `done` settles when its output closes. */
export interface Started {
  readonly child: ChildProcess;
  readonly done: Promise<Run & { exitedAt: number }>;
}

export interface Harness {
  readonly s: Standins;
  /** The output folder (OUTDIR / CDKTF_OUTDIR) of this test. */
  readonly out: string;
  /** ACCESSWEAVER_SETTINGS_ROOT of this test; a test may replace it. */
  root: string;
  /** `make -s <args> OUTDIR=<out>` in the project. */
  make(args: string[], options?: { input?: string; env?: NodeJS.ProcessEnv }): Run;
  /**
   * The operator with three phases (network, database, cache; manifest out of order), run in this
   * process (no start-up cost); what Terraform's stand-ins print goes to the test's own output.
   */
  multi(args: string[], env?: NodeJS.ProcessEnv, deps?: Dependencies): Promise<Run>;
  /** The same as a process of its own, in the background, in its own process group (as a terminal runs it). */
  multiAsync(args: string[], env?: NodeJS.ProcessEnv): Started;
  makeAsync(args: string[], env?: NodeJS.ProcessEnv): Started;
  /** `-chdir=<out>/stacks/accessweaver-<env>-<phase>` */
  dir(env: string, phase: string): string;
  planFile(env: string, phase: string): string;
  /** The saved plan's record (`<plan>.json`), or undefined. */
  record(env: string, phase: string): Record<string, unknown> | undefined;
  /** Resolves once a slow Terraform stand-in (STANDIN_TERRAFORM_SLOW_ON) runs `<command> <stack>` and records signals. */
  waitForSlow(command: string, stack: string): Promise<void>;
  /** Scripts `terraform output -json` of a stack, now or after its next apply. */
  setOutputs(env: string, phase: string, json: string, when?: "now" | "after-apply"): void;
  /**
   * Scripts the aws stand-in: a call starting with `match` (without --region and --output) gets `body`
   * (JSON unless a string; stdout on exit 0, else stderr). The first scripted wins; `once` answers one
   * call, then the next scripted answer for it does (a sequence of states).
   */
  answerAws(match: string, body: unknown, options?: { exit?: number; once?: boolean }): void;
  /** Resolves once the stand-ins have recorded `count` calls starting with `prefix` (e.g. "aws fis get-experiment"). */
  waitForCall(prefix: string, count?: number): Promise<void>;
  /** The Terraform calls that read the outputs of `phases` of `env` (an init, then output -json, each), in order. */
  outputReads(env: string, phases: readonly string[]): string[];
}

/**
 * One test per case: `make <args>` is refused (exit 2) with `message`, before any stand-in is called
 * (the inputs are checked first, as data).
 */
export function refusedThroughMake(h: Harness, cases: readonly (readonly [string[], string])[]): void {
  it.each(cases.map(([args, message]) => [args, message] as [string[], string]))("through make: %j is refused before anything runs", (args, message) => {
    const r = h.make(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.log).toEqual([]);
  });
}

const FIXTURE = path.join(ROOT, "__tests__/fixtures/multi-phase.ts");
const NODE_ARGS = ["-r", path.join(ROOT, "scripts/register.js")];

/**
 * Registers a fresh harness (stand-ins, output folder, settings) around each test of the file: the
 * stand-ins of terraform, cdktf and aws, and of `more` programs (e.g. dig and curl for make restore).
 */
export function operatorHarness(more: readonly string[] = []): Harness {
  let s: Standins;
  let out: string;
  const h = {
    get s() {
      return s;
    },
    get out() {
      return out;
    },
    root: "",
  } as Harness;
  let scripted = 0;
  beforeEach(() => {
    scripted = 0;
    s = makeStandins(["terraform", "cdktf", "aws", ...more]);
    out = path.join(tempDir("aw-out-"), "cdktf.out");
    h.root = settingsRoot();
  });
  afterEach(() => s.cleanup());

  const result = (r: { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }): Run => ({ ...r, log: s.log() });
  const makeArgs = (args: string[]) => ["-s", "-C", ROOT, ...args, `OUTDIR=${out}`];
  const makeEnv = (env: NodeJS.ProcessEnv = {}) => ({ ...s.env, ACCESSWEAVER_SETTINGS_ROOT: h.root, ...env });
  const multiArgs = (args: string[]) => [...NODE_ARGS, FIXTURE, ...args];
  const multiEnv = (env: NodeJS.ProcessEnv = {}) => ({ ...s.env, ACCESSWEAVER_SETTINGS_ROOT: h.root, CDKTF_OUTDIR: out, ...env });
  const started = (program: string, args: string[], env: NodeJS.ProcessEnv): Started => {
    s.clearLog();
    const child = spawn(program, args, { cwd: ROOT, env, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    child.stdin!.end();
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    // Exit time apart from close: an orphaned grandchild would keep the output open after the exit.
    let exitedAt = 0;
    child.on("exit", () => (exitedAt = Date.now()));
    const done = new Promise<Run & { exitedAt: number }>((resolve) =>
      child.on("close", (status, signal) => resolve({ ...result({ status, signal, stdout, stderr }), exitedAt })),
    );
    return { child, done };
  };

  h.make = (args, options = {}) => {
    s.clearLog();
    return result(spawnSync("make", makeArgs(args), { env: makeEnv(options.env), input: options.input ?? "", encoding: "utf8" }));
  };
  h.multi = async (args, env, deps = { synthesize: fakeSynth }) => {
    s.clearLog();
    const saved = { env: process.env, out: process.stdout.write, err: process.stderr.write };
    let stdout = "";
    let stderr = "";
    let status = 0;
    process.env = multiEnv(env);
    process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += chunk.toString()), true)) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += chunk.toString()), true)) as typeof process.stderr.write;
    try {
      await main(args, deps);
    } catch (e) {
      stderr += `${(e as Error).message}\n`;
      status = exitStatusFor(e);
    } finally {
      Object.assign(process, { env: saved.env });
      process.stdout.write = saved.out;
      process.stderr.write = saved.err;
    }
    return result({ status, signal: null, stdout, stderr });
  };
  h.multiAsync = (args, env) => started(process.execPath, multiArgs(args), multiEnv(env));
  h.makeAsync = (args, env) => started("make", makeArgs(args), makeEnv(env));
  h.dir = (env, phase) => `-chdir=${out}/stacks/accessweaver-${env}-${phase}`;
  h.planFile = (env, phase) => `${out}/plans/accessweaver-${env}-${phase}.tfplan`;
  h.record = (env, phase) => {
    const file = `${h.planFile(env, phase)}.json`;
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>) : undefined;
  };
  h.waitForSlow = async (command, stack) => {
    const file = path.join(s.stateDir, "terraform/slow");
    for (let i = 0; i < 1200; i++) {
      if (fs.existsSync(file) && fs.readFileSync(file, "utf8").split("\n").includes(`${command} ${stack}`)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no slow terraform ${command} of ${stack} within 30 s; calls: ${s.log().join("\n")}`);
  };
  h.setOutputs = (env, phase, json, when = "now") => {
    const dir = path.join(s.stateDir, "terraform/outputs", `accessweaver-${env}-${phase}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, when === "now" ? "all.json" : "after-apply.json"), json);
  };
  h.answerAws = (match, body, options = {}) => {
    const dir = path.join(s.stateDir, "aws", "scripted");
    fs.mkdirSync(dir, { recursive: true });
    const text = typeof body === "string" ? body : JSON.stringify(body);
    const file = `${String(scripted++).padStart(5, "0")}${options.once ? ".once" : ""}.answer`;
    fs.writeFileSync(path.join(dir, file), `match: ${match}\nexit: ${options.exit ?? 0}\n---\n${text}`);
  };
  h.outputReads = (env, phases) => phases.flatMap((p) => [`terraform ${h.dir(env, p)} init -no-color -input=false`, `terraform ${h.dir(env, p)} output -json`]);
  h.waitForCall = async (prefix, count = 1) => {
    for (let i = 0; i < 1200; i++) {
      if (s.log().filter((l) => l.startsWith(prefix)).length >= count) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no ${count} call(s) starting with "${prefix}" within 30 s; calls: ${s.log().join("\n")}`);
  };
  return h;
}
