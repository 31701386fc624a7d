/**
 * The operator's terminal: the question it asks (prod), its output when the terminal or the reader of
 * its output goes away, and the run's log file.
 *
 * - Every run that may start Terraform writes what it shows (and what its children print) to
 *   `<outdir>/logs/<env>-<time>-<command>.log`, colour codes removed, from its start: the log is there
 *   whether or not the terminal stays.
 * - A write to stdout or stderr that fails (EPIPE: `| head` exited; EIO: the terminal hung up) never
 *   stops the run: that stream is left alone for the rest of the run, the log keeps everything.
 * - When the terminal or the reader goes away, `<outdir>/logs/<env>.unattended.json` records it, then the
 *   run's outcome; the next run of that environment says what happened and what to do.
 */
import * as fs from "fs";
import * as path from "path";
import type { ReadStream } from "tty";

/** Logs kept in <outdir>/logs (the newest). */
const KEEP_LOGS = 50;

// eslint-disable-next-line no-control-regex -- matching terminal escape sequences is the point
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;
export const plainText = (text: string): string => text.replace(ANSI, "");

const clock = (iso: string) => `${iso.slice(11, 16)} UTC`;
const shown = (file: string) => {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith("..") ? file : relative;
};

interface RunLog {
  readonly fd: number;
  readonly file: string;
  readonly outdir: string;
  readonly env: string;
  /** The command line the operator typed, e.g. make apply ENV=prod PHASE=network. */
  readonly commandLine: string;
  readonly started: string;
}

let log: RunLog | undefined;
/** What was shown before the log was opened (the first lines of a run). */
let early = "";
/** The end of what the run showed: its outcome, for the record of a run that lost its terminal. */
let recent = "";
/** The streams whose reader is gone, and why (EPIPE, EIO). */
const lost = new Map<"stdout" | "stderr", string>();
/** How the run lost its terminal or its reader, once it did (for the record and the messages). */
let unattended: { readonly how: string; readonly at: string } | undefined;
/** The terminal itself is gone (SIGHUP, or EIO on a write to it), not only the reader of a pipe. */
let terminalGone = false;

/** Whether the terminal hung up or went away during this run (a closed pipe `| head` is not that). */
export const hungUp = (): boolean => terminalGone;
/** How it went: SIGHUP, or a write to it that failed with EIO. */
export const hungUpBy = (): string => (hangupSignal ? "SIGHUP" : "EIO on its output");
let hangupSignal = false;

function toLog(chunk: unknown): void {
  const text = plainText(
    typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString("utf8") : String(chunk),
  );
  recent = (recent + text).slice(-4000);
  if (!log) {
    // Bounded: a run that never opens a log (make synth, a refusal) keeps only its beginning.
    if (early.length < 65536) early += text;
    return;
  }
  try {
    fs.writeSync(log.fd, text);
  } catch {
    // A full disk loses the log, not the run.
  }
}

/** The file the run's output goes to, if it has one. */
export const logFile = (): string | undefined => log?.file;

/** Whether the operator's stdout (or stderr) still reaches someone. */
export const reachable = (stream: "stdout" | "stderr"): boolean => !lost.has(stream);

/** How the terminal or the reader was lost during this run, if it was. */
export const lostTerminal = (): string | undefined => unattended?.how;

/**
 * From now on a failed write to stdout or stderr (EPIPE, EIO) is dropped instead of ending the process,
 * and everything written goes to the run's log as well.
 */
export function guardOutput(): void {
  for (const name of ["stdout", "stderr"] as const) {
    const stream = process[name];
    if ((stream as { __guarded?: boolean }).__guarded) continue;
    (stream as { __guarded?: boolean }).__guarded = true;
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.on("error", (e: NodeJS.ErrnoException) => streamLost(name, e.code ?? e.message));
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      toLog(chunk);
      if (lost.has(name)) {
        const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
        if (callback) process.nextTick(callback);
        return true;
      }
      try {
        return write(chunk, ...rest);
      } catch (e) {
        streamLost(name, (e as NodeJS.ErrnoException).code ?? String(e));
        return true;
      }
    }) as typeof stream.write;
  }
}

function streamLost(name: "stdout" | "stderr", code: string): void {
  if (lost.has(name)) return;
  lost.set(name, code);
  if (code === "EIO") terminalGone = true;
  const why =
    code === "EPIPE" ? `its reader closed the pipe (EPIPE on ${name})` : code === "EIO" ? `the terminal is gone (EIO on ${name})` : `${name} failed (${code})`;
  // Recorded for the next run when nobody sees the end of this one: the terminal is gone, or both
  // outputs are (`2>&1 | head`). A closed stdout alone leaves the report on stderr.
  if (code === "EIO" || lost.size === 2) markUnattended(why);
  if (!lost.has("stderr") && name === "stdout") {
    process.stderr.write(`\nThe output was cut: ${why}. The run goes on; all of its output is in ${log ? shown(log.file) : "no log file"}.\n`);
  }
}

/** The terminal hung up (SIGHUP): said once, recorded for the next run. */
export function hangup(): void {
  terminalGone = true;
  hangupSignal = true;
  markUnattended("the terminal was closed (SIGHUP: a closed window or a dropped ssh connection)");
}

function markUnattended(how: string): void {
  if (unattended) return;
  unattended = { how, at: new Date().toISOString() };
  writeRecord({});
}

/** The record of a run that lost its terminal, read by the next run of the environment. */
interface UnattendedRecord {
  readonly commandLine: string;
  readonly pid: number;
  readonly started: string;
  readonly how: string;
  readonly at: string;
  readonly log: string;
  /** Filled in when the run ends. */
  readonly status?: number;
  readonly outcome?: string;
}

const recordFile = (outdir: string, env: string) => path.join(outdir, "logs", `${env}.unattended.json`);

function writeRecord(end: { status?: number; outcome?: string }): void {
  if (!log || !unattended) return;
  const record: UnattendedRecord = {
    commandLine: log.commandLine,
    pid: process.pid,
    started: log.started,
    how: unattended.how,
    at: unattended.at,
    log: log.file,
    ...end,
  };
  try {
    const file = recordFile(log.outdir, log.env);
    fs.writeFileSync(`${file}.${process.pid}`, JSON.stringify(record, null, 2));
    fs.renameSync(`${file}.${process.pid}`, file);
  } catch {
    // The log still holds the run's output.
  }
}

/**
 * Opens `<outdir>/logs/<env>-<time>-<command>.log` for this run (older logs beyond the newest 50 are
 * removed). What was shown before goes in first.
 */
export function openRunLog(outdir: string, env: string, command: string, commandLine: string): string | undefined {
  if (log) return log.file;
  const dir = path.join(outdir, "logs");
  const started = new Date().toISOString();
  const stamp = started.replace(/[-:]|\.\d+/g, "");
  try {
    fs.mkdirSync(dir, { recursive: true });
    let file = path.join(dir, `${env}-${stamp}-${command}.log`);
    let fd: number;
    try {
      fd = fs.openSync(file, "wx");
    } catch {
      // Two runs started in the same second (the second is refused by the environment's lock).
      file = path.join(dir, `${env}-${stamp}-${command}-${process.pid}.log`);
      fd = fs.openSync(file, "w");
    }
    log = { fd, file, outdir, env, commandLine, started };
    fs.writeSync(fd, `# ${commandLine} (pid ${process.pid}, started ${started})\n${early}`);
    early = "";
    prune(dir);
    return file;
  } catch {
    return undefined;
  }
}

function prune(dir: string): void {
  const logs = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".log"))
    .map((f) => ({ f, t: fs.statSync(path.join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { f } of logs.slice(KEEP_LOGS)) fs.rmSync(path.join(dir, f), { force: true });
}

/** At the end of the run: a run that lost its terminal records how it ended (`outcome`: its last lines unless given), for the next run. */
export function endRun(status: number, outcome?: string): void {
  const said =
    outcome ??
    recent
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.startsWith("$ "))
      .slice(-3)
      .join("\n");
  writeRecord({ status, outcome: plainText(said).trim() });
  if (log) toLog(`# exit ${status}\n`);
}

/** What the last run of `env` did after it lost its terminal, said once by the next run (then forgotten). */
export function previousRunNotice(outdir: string, env: string): string | undefined {
  const file = recordFile(outdir, env);
  let record: UnattendedRecord;
  try {
    record = JSON.parse(fs.readFileSync(file, "utf8")) as UnattendedRecord;
  } catch {
    return undefined;
  }
  if (record.pid === process.pid) return undefined;
  fs.rmSync(file, { force: true });
  const ended =
    record.status === undefined
      ? `It did not record how it ended (it was killed, or the machine stopped): read the end of its log. If it was applying, its plan is refused as "never finished"; run make plan ENV=${env}, review it, then apply.`
      : record.status === 0
        ? `It went on and completed (exit 0).${record.outcome ? ` It said: ${record.outcome}` : ""}`
        : `It went on and ended with exit ${record.status}:\n${record.outcome ?? ""}`;
  return [
    `Note: the last ${record.commandLine} (pid ${record.pid}, started ${clock(record.started)}) lost its terminal at ${clock(record.at)}: ${record.how}.`,
    ended,
    `Its whole output: ${shown(record.log)}`,
  ].join("\n");
}

/** The log of a run of `env` that is still going after it lost its terminal (pid), for the lock's refusal. */
export function unattendedRun(outdir: string, env: string, pid: number): { readonly how: string; readonly at: string; readonly log: string } | undefined {
  try {
    const record = JSON.parse(fs.readFileSync(recordFile(outdir, env), "utf8")) as UnattendedRecord;
    return record.pid === pid && record.status === undefined ? { how: record.how, at: clock(record.at), log: shown(record.log) } : undefined;
  } catch {
    return undefined;
  }
}

/** Where a question is seen: stdout, unless it goes elsewhere (`| tee`) while stderr is the terminal. */
const questionStream = () => (!process.stdout.isTTY && process.stderr.isTTY ? process.stderr : process.stdout);

/** Writes a line where the operator sees the question. */
export function tell(line: string): void {
  questionStream().write(`${line}\n`);
}

/** The answer to a question: the line typed, or why there is none. */
export type Answer =
  | { readonly line: string; readonly discarded: number }
  | { readonly line?: undefined; readonly discarded: number; readonly why: "end of input" | "no terminal"; readonly signal?: undefined }
  | { readonly line?: undefined; readonly discarded: number; readonly why: "signal"; readonly signal: NodeJS.Signals };

/**
 * The path of the terminal on stdin (/proc/self/fd/0 on Linux), opened on its own so that reading it
 * never blocks and never changes how the operator's own stdin is read.
 */
function terminalPath(): string {
  try {
    const target = fs.readlinkSync("/proc/self/fd/0");
    if (target.startsWith("/dev/")) return target;
  } catch {
    // not Linux
  }
  return "/dev/tty";
}

/**
 * Discards what was typed at the terminal before the question (type-ahead: a "prod" typed while the plan
 * ran). The terminal is switched to non-canonical mode for the moment, so a line not yet ended is
 * readable too, and read without waiting until nothing is left (what tcflush(TCIFLUSH) does).
 * Returns how many bytes were discarded.
 */
export function discardTypeAhead(): number {
  const stdin = process.stdin as ReadStream;
  if (!stdin.isTTY || typeof stdin.setRawMode !== "function") return 0;
  let fd: number;
  try {
    fd = fs.openSync(terminalPath(), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch {
    return 0;
  }
  let discarded = 0;
  try {
    stdin.setRawMode(true);
    const buffer = Buffer.alloc(4096);
    for (;;) {
      let n = 0;
      try {
        n = fs.readSync(fd, buffer, 0, buffer.length, null);
      } catch {
        break; // EAGAIN: nothing left
      }
      if (n <= 0) break;
      discarded += n;
    }
  } finally {
    try {
      stdin.setRawMode(false);
    } finally {
      fs.closeSync(fd);
    }
  }
  return discarded;
}

/**
 * Asks `question` and reads one line from stdin, without blocking the process: at a terminal (after
 * discarding type-ahead), from a pipe (`echo prod | make apply ...`: the pipe is the answer), or nothing
 * (`</dev/null`, CI: the end of input). An interrupt or a hangup while waiting is no answer.
 */
export async function ask(question: string): Promise<Answer> {
  const discarded = discardTypeAhead();
  if (discarded > 0) tell(`(${discarded} character(s) typed before this question were discarded: only an answer typed now counts.)`);
  questionStream().write(question);
  const stdin = process.stdin;
  if (stdin.destroyed || stdin.readableEnded) return { discarded, why: "end of input" };
  return new Promise<Answer>((resolve) => {
    let text = "";
    const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
    const onSignal = signals.map((signal) => [signal, () => finish({ discarded, why: "signal", signal })] as const);
    const onData = (d: Buffer | string) => {
      text += d.toString();
      const end = text.indexOf("\n");
      if (end >= 0) finish({ line: text.slice(0, end).replace(/\r$/, ""), discarded });
    };
    const onEnd = () => finish(text ? { line: text.replace(/\r$/, ""), discarded } : { discarded, why: process.stdin.isTTY ? "end of input" : "no terminal" });
    const finish = (answer: Answer) => {
      stdin.off("data", onData);
      stdin.off("end", onEnd);
      stdin.off("error", onEnd);
      for (const [signal, handler] of onSignal) process.off(signal, handler);
      // Stops reading: what is typed afterwards is nobody's answer, and the process may exit.
      stdin.pause();
      if (answer.line === undefined) questionStream().write("\n");
      resolve(answer);
    };
    for (const [signal, handler] of onSignal) process.on(signal, handler);
    stdin.on("data", onData);
    stdin.on("end", onEnd);
    stdin.on("error", onEnd);
    stdin.resume();
  });
}
