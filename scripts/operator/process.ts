/**
 * Running Terraform (and cdktf) as children of the operator: output streamed to the operator (and the
 * run's log), failures and interrupts turned into messages.
 *
 * A child that cannot ask anything (Terraform with -input=false or -auto-approve, a captured read) is
 * protected: it runs in a process group of its own with no stdin, and its output comes through the
 * operator. So a Ctrl-C reaches it only from here (exactly once per Ctrl-C the operator receives), a
 * closed terminal (SIGHUP) never reaches it, and a reader that closes the operator's stdout (`| head`)
 * never makes its writes fail (no SIGPIPE): it always finishes or stops the way Terraform stops safely.
 * A child that may ask (Terraform destroy without AUTO_APPROVE, cdktf deploy's approval screen) keeps the
 * terminal, in its foreground group, and gets Ctrl-C from the terminal itself.
 *
 * SIGINT and SIGTERM stop the run at the next safe point: forwarded to a protected child, which is waited
 * for. SIGHUP is never forwarded: the child finishes what it is doing, the output goes on in the log, and
 * the workflow decides where to stop (an apply stops before its next phase).
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { lockHeldMessage, lockLeftBy, lockLeftMessage, protectedReplaceMessage } from "./diagnose";
import { hangup, hungUp, logFile } from "./terminal";

/** A refusal or a failed step: its message is all the operator needs (exit 2). */
export class Refusal extends Error {}

/** A child that failed or was stopped by a signal; `signal` is the one the operator received. */
export class StepFailed extends Refusal {
  constructor(
    message: string,
    readonly signal?: NodeJS.Signals,
    /** The child's stderr, when the caller asked to keep it (RunOptions.keepStderr). */
    readonly stderr = "",
    readonly found: {
      /** Terraform may have exited without releasing its state lock (the message says how to release it). */
      readonly lockLeft?: boolean;
      /** The message names the cause found in Terraform's output (a state lock, a protected resource). */
      readonly explained?: boolean;
    } = {},
  ) {
    super(message);
  }
}

/**
 * With a terminal on stdin, a child that may ask (RunOptions.terminal) stays in the terminal's
 * foreground group so it can ask its questions; a Ctrl-C then reaches it directly, and forwarding that
 * SIGINT again would be its second interrupt, which makes Terraform exit at once without releasing its
 * state lock.
 */
const interactive = process.stdin.isTTY === true;

let received: NodeJS.Signals | undefined;
let current: { child: ChildProcess; name: string; onTerminal: boolean; forward: boolean; forwarded: number } | undefined;

export function say(message: string): void {
  process.stdout.write(`${message}\n`);
}

/** The signal that interrupted this run, if any (SIGINT, SIGTERM; a hangup does not interrupt). */
export const interruptedBy = (): NodeJS.Signals | undefined => received;

/** Whether the terminal hung up (SIGHUP) or went away (EIO) during this run. */
export const hungUpDuringRun = (): boolean => hungUp();

/** The exit status of a process stopped by `signal`, as shells report it (130 for SIGINT). */
export const exitStatusOf = (signal: NodeJS.Signals): number => 128 + (os.constants.signals[signal] ?? 0);

const followLog = () => {
  const file = logFile();
  return file ? ` Its output goes on in ${shownPath(file)}.` : "";
};

/** From now on, an interrupt stops the run at the next safe point instead of killing it; a hangup stops nothing. */
export function watchSignals(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      received ??= signal;
      const c = current;
      if (!c) return;
      if (c.onTerminal && signal === "SIGINT") {
        // It got this Ctrl-C from the terminal itself: passing it on would be its second.
        process.stderr.write(`\nSIGINT received: ${c.name} got it from the terminal too; waiting for it to stop.\n`);
        return;
      }
      if (!c.forward) {
        process.stderr.write(
          `\n${signal} received: not passed on to ${c.name}, which would stop its Terraform abruptly and leave the state lock. It finishes, then the run stops. (To stop it anyway: kill -INT ${c.child.pid}.)\n`,
        );
        return;
      }
      c.forwarded++;
      c.child.kill(signal);
      process.stderr.write(
        c.forwarded > 1
          ? `\n${signal} received again: passed on. Terraform exits at once without finishing what is in progress, and may leave its state lock (the report says how to release it).\n`
          : `\n${signal} received: waiting for ${c.name} to stop safely (it finishes what is in progress and releases its state lock). A second Ctrl-C makes it exit at once and leave the lock.\n`,
      );
    });
  }
  process.on("SIGHUP", () => {
    hangup();
    const c = current;
    if (c && !c.onTerminal)
      process.stderr.write(`\nSIGHUP received (the terminal is gone): ${c.name} is not stopped, it finishes what it is doing.${followLog()}\n`);
  });
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
  /**
   * The child may ask the operator something, so it gets the terminal (stdin, the foreground group).
   * @default true unless it is captured or its arguments hold -input=false or -auto-approve
   */
  readonly terminal?: boolean;
  /** Pass SIGINT and SIGTERM on to the child. @default true */
  readonly forward?: boolean;
}

/** Terraform commands that take the state lock (a stop at the wrong moment may leave it). */
const LOCKING = new Set(["plan", "apply", "destroy", "refresh", "import", "taint", "untaint"]);
/** The end of a child's output kept for reading its errors. */
const TAIL = 65536;

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number;
}

/** Runs a program; throws StepFailed when it fails or when the run was interrupted. */
export async function run(program: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const command = args.find((a) => !a.startsWith("-chdir="));
  const step = `${path.basename(program)} ${command ?? ""}`;
  if (received) throw new StepFailed(`Interrupted (${received}) before ${step} started.`, received);
  // On stderr: stdout carries only what was asked for (`$(make output NAME=x)` must capture the value alone).
  process.stderr.write(`$ ${[path.basename(program), ...args].join(" ")}\n`);
  const asks = options.terminal ?? !(options.capture || args.includes("-input=false") || args.includes("-auto-approve"));
  const onTerminal = asks && interactive;
  // A terminal is handed only to a child that may ask; anything else is relayed from a pipe.
  const child = spawn(program, args, {
    stdio: [
      asks ? "inherit" : "ignore",
      onTerminal && !options.capture && !options.progressOnly && process.stdout.isTTY ? "inherit" : "pipe",
      onTerminal && !options.keepStderr && process.stderr.isTTY ? "inherit" : "pipe",
    ],
    env: { ...process.env, ...options.env },
    detached: !onTerminal,
  });
  current = { child, name: step, onTerminal, forward: options.forward ?? true, forwarded: 0 };
  let stdout = "";
  let stderr = "";
  let tail = "";
  const keep = (d: Buffer) => {
    tail += d.toString("utf8");
    if (tail.length > TAIL) tail = tail.slice(-TAIL);
  };
  child.stdout?.on("data", (d: Buffer) => {
    keep(d);
    if (options.capture) stdout += d.toString("utf8");
    else (options.progressOnly ? process.stderr : process.stdout).write(d);
  });
  child.stderr?.on("data", (d: Buffer) => {
    keep(d);
    stderr += d.toString("utf8");
    process.stderr.write(d);
  });
  const { code, killedBy } = await new Promise<{ code: number | null; killedBy: NodeJS.Signals | null }>((resolve, reject) => {
    child.on("error", (e) => reject(new StepFailed(`${program} could not be started: ${e.message}`)));
    child.on("close", (c, signal) => resolve({ code: c, killedBy: signal }));
  }).finally(() => (current = undefined));
  const status = code ?? (killedBy ? exitStatusOf(killedBy) : null);
  const exit = `exit ${status}${killedBy ? `, killed by ${killedBy}` : ""}`;
  const failed = received !== undefined || status === null || !(options.answers ?? [0]).includes(status);
  if (!failed) return { stdout, stderr, status: status! };
  // What Terraform's output says: a state lock it may have left, one held by another run, a protected resource.
  const chdir = args.find((a) => a.startsWith("-chdir="))?.slice("-chdir=".length);
  const notes: string[] = [];
  let lockLeft = false;
  if (chdir !== undefined) {
    const stopped = { program: path.basename(program), dir: chdir, output: tail, ...(killedBy ? { killedBy } : {}) };
    const left = command && LOCKING.has(command) && !args.includes("-lock=false") ? lockLeftBy(stopped) : undefined;
    if (left) {
      lockLeft = true;
      notes.push(lockLeftMessage(stopped, left));
    } else {
      for (const m of [lockHeldMessage(stopped), protectedReplaceMessage(stopped)]) if (m) notes.push(m);
    }
  }
  // Ends with a line break: callers add their sentence after it, never on the line of a command to paste.
  const more = notes.length > 0 ? `\n${notes.join("\n")}\n` : "";
  const found = { lockLeft, explained: notes.length > 0 };
  if (received) throw new StepFailed(`${step} was interrupted (${received}) and has stopped (${exit}).${more}`, received, stderr, found);
  throw new StepFailed(`${step} failed (${exit}).${more}`, undefined, stderr, found);
}
