/**
 * Running Terraform (and cdktf) as children of the operator: output streamed to the operator, failures
 * and interrupts turned into messages. SIGINT, SIGTERM and SIGHUP are forwarded to the running child and
 * the operator waits for it to stop, so Terraform ends its resource operations in progress and releases
 * its state lock instead of being orphaned while the shell prompt returns.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** A refusal or a failed step: its message is all the operator needs (exit 2). */
export class Refusal extends Error {}

/** A child that failed or was stopped by a signal; `signal` is the one the operator received. */
export class StepFailed extends Refusal {
  constructor(
    message: string,
    readonly signal?: NodeJS.Signals,
    /** The child's stderr, when the caller asked to keep it (RunOptions.keepStderr). */
    readonly stderr = "",
  ) {
    super(message);
  }
}

/** What the operator stops on safely: Ctrl-C, a cancelled job, a closed terminal. */
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * With a terminal on stdin, Terraform stays in the terminal's foreground group so it can ask its
 * questions; a Ctrl-C then reaches it directly, and forwarding that SIGINT again would be its second
 * interrupt, which makes it exit at once without releasing its state lock. Without a terminal (CI, a
 * pipe) it gets a process group of its own and receives each signal exactly once, from here.
 */
const interactive = process.stdin.isTTY === true;

let received: NodeJS.Signals | undefined;
let current: { child: ChildProcess; name: string } | undefined;

export function say(message: string): void {
  process.stdout.write(`${message}\n`);
}

/** The signal that interrupted this run, if any. */
export const interruptedBy = (): NodeJS.Signals | undefined => received;

/** The exit status of a process stopped by `signal`, as shells report it (130 for SIGINT). */
export const exitStatusOf = (signal: NodeJS.Signals): number => 128 + (os.constants.signals[signal] ?? 0);

/** From now on, an interrupt stops the run at the next safe point instead of killing it. */
export function watchSignals(): void {
  for (const signal of SIGNALS) {
    process.on(signal, () => {
      received ??= signal;
      if (!current) return;
      if (!(interactive && signal === "SIGINT")) current.child.kill(signal);
      process.stderr.write(`\n${signal} received: waiting for ${current.name} to stop safely (it finishes what is in progress and releases its state lock)...\n`);
    });
  }
}

/** Terraform's own colours only on a terminal: logs and CI get plain text. */
export const noColor = (): string[] => (process.stdout.isTTY ? [] : ["-no-color"]);

/** A path as the operator would type it: relative to the working directory when inside it. */
export function shownPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith("..") ? file : relative;
}

/** Finds a program on PATH (or a path to one), as the shell would. */
export function which(program: string): string | undefined {
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

export interface RunOptions {
  /** Return stdout instead of showing it. */
  readonly capture?: boolean;
  /** Keep a copy of stderr (still shown) for the caller to read, in StepFailed's `stderr` (always kept off a terminal). */
  readonly keepStderr?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Relay the child's output to stderr: progress that is not what the command was asked for (an init
   * before `make output`, whose stdout `$(...)` captures). @default false
   */
  readonly progressOnly?: boolean;
  /** Exit statuses that answer rather than fail (`-detailed-exitcode`'s 2). @default [0] */
  readonly answers?: readonly number[];
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number;
}

/** Runs a program; throws StepFailed when it fails or when the run was interrupted. */
export async function run(program: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const step = `${path.basename(program)} ${args.find((a) => !a.startsWith("-chdir=")) ?? ""}`;
  if (received) throw new StepFailed(`Interrupted (${received}) before ${step} started.`, received);
  // On stderr: stdout carries only what was asked for (`$(make output NAME=x)` must capture the value alone).
  process.stderr.write(`$ ${[path.basename(program), ...args].join(" ")}\n`);
  // A terminal is handed to the child (colours, progress); anything else is relayed from a pipe.
  const child = spawn(program, args, {
    stdio: ["inherit", options.capture || options.progressOnly || !process.stdout.isTTY ? "pipe" : "inherit", options.keepStderr || !process.stderr.isTTY ? "pipe" : "inherit"],
    env: { ...process.env, ...options.env },
    detached: !interactive,
  });
  current = { child, name: step };
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (options.capture ? (stdout += d.toString("utf8")) : (options.progressOnly ? process.stderr : process.stdout).write(d)));
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString("utf8");
    process.stderr.write(d);
  });
  const status = await new Promise<number | null>((resolve, reject) => {
    child.on("error", (e) => reject(new StepFailed(`${program} could not be started: ${e.message}`)));
    child.on("close", (code, signal) => resolve(code ?? (signal ? exitStatusOf(signal) : null)));
  }).finally(() => (current = undefined));
  if (received) throw new StepFailed(`${step} was interrupted (${received}) and has stopped (exit ${status}).`, received, stderr);
  if (status === null || !(options.answers ?? [0]).includes(status)) throw new StepFailed(`${step} failed (exit ${status}).`, undefined, stderr);
  return { stdout, stderr, status };
}
