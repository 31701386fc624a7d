/**
 * One operation at a time per environment: an exclusive lock file in the working folder
 * (`<outdir>/locks/<env>.lock`), held by synth, init, plan, apply, deploy, output and destroy, so two
 * runs cannot interleave their synths, plans and applies. It is created atomically (a hard link that
 * fails when the lock exists). It names its process by pid and by that process's start time
 * (/proc/<pid>/stat, or ps), so a lock whose process is gone, or whose pid now belongs to another
 * process (pid 1 after a container restart), is taken over; so is a lock file that cannot be read.
 * After taking the lock, the run says what the previous one did if it lost its terminal.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { Refusal, say, shownPath } from "./process";
import { previousRunNotice, unattendedRun } from "./terminal";

interface Holder {
  readonly pid: number;
  /** When that process started (processStart): tells it apart from a later process with the same pid. */
  readonly started?: string;
  readonly host: string;
  readonly operation: string;
  readonly since: string;
}

export interface Lock {
  release(): void;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * When process `pid` started, as a text that differs between two processes that had the same pid:
 * its start time in clock ticks since boot (/proc/<pid>/stat field 22) with the boot's id, or what
 * `ps -o lstart=` says where there is no /proc.
 */
export function processStart(pid: number): string | undefined {
  try {
    const ticks = startTicks(pid);
    let boot = "";
    try {
      boot = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
      // no boot id: the ticks alone
    }
    if (ticks) return `${boot}:${ticks}`;
  } catch {
    // no /proc, or no such process
  }
  const ps = spawnSync("ps", ["-o", "lstart=", "-p", String(pid)], { encoding: "utf8" });
  const started = ps.status === 0 ? ps.stdout.trim() : "";
  return started || undefined;
}

/** The lock's holder; "unreadable" for a file that is not a lock (a half-copied or hand-edited file). */
const readHolder = (file: string): Holder | "unreadable" | undefined => {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined; // gone meanwhile
  }
  try {
    const h = JSON.parse(text) as Holder;
    if (typeof h.pid === "number" && typeof h.host === "string" && typeof h.since === "string") return h;
  } catch {
    // below
  }
  return "unreadable";
};

/** Process `pid`'s start in clock ticks since boot (/proc/<pid>/stat field 22); throws without /proc or the process. */
function startTicks(pid: number): string | undefined {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (field 2, in parentheses, may hold spaces): field 3 is at index 0.
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[22 - 3];
}

/** When process `pid` started, in ms since the epoch (Linux: boot time + its start in ticks of 1/100 s). */
function startedAtMs(pid: number): number | undefined {
  try {
    const btime = /^btime (\d+)$/m.exec(fs.readFileSync("/proc/stat", "utf8"))?.[1];
    const ticks = startTicks(pid);
    return btime && ticks ? Number(btime) * 1000 + Number(ticks) * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the holder's process still runs here: its pid is alive and is still the same process. */
function running(h: Holder): boolean {
  if (!alive(h.pid)) return false;
  if (h.started !== undefined) {
    const now = processStart(h.pid);
    return now === undefined || now === h.started;
  }
  // A lock written without a start time: a process that started after the lock was written is not its holder.
  const at = startedAtMs(h.pid);
  return at === undefined || at <= Date.parse(h.since) + 2000;
}

const clock = (iso: string) => `${iso.slice(11, 16)} UTC`;

/**
 * Takes the lock of `env` for `operation` (e.g. "make plan of prod"), or refuses naming its holder and
 * the command to run again (`retry`) once it is done.
 */
export function lockEnvironment(outdir: string, env: string, operation: string, retry: string): Lock {
  const dir = path.join(outdir, "locks");
  const file = path.join(dir, `${env}.lock`);
  fs.mkdirSync(dir, { recursive: true });
  const started = processStart(process.pid);
  const mine: Holder = { pid: process.pid, ...(started ? { started } : {}), host: os.hostname(), operation, since: new Date().toISOString() };
  const draft = `${file}.${process.pid}`;
  // Written whole before it is linked in: a lock file is never seen half-written.
  fs.writeFileSync(draft, JSON.stringify(mine));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        fs.linkSync(draft, file);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      const holder = readHolder(file);
      if (holder === undefined && attempt < 3) continue; // released meanwhile
      const stale = holder === "unreadable" || (holder !== undefined && holder.host === mine.host && !running(holder));
      if (!stale || attempt > 2) throw new Refusal(refusal(outdir, env, file, holder, mine.host, retry));
      // Moved aside under a name of our own, so two runs taking over the same stale lock cannot both win.
      const aside = `${file}.stale.${process.pid}`;
      try {
        fs.renameSync(file, aside);
        const moved = readHolder(aside);
        const same = holder === "unreadable" ? moved === "unreadable" : moved !== "unreadable" && moved?.pid === holder!.pid && moved.since === holder!.since;
        // Another run took the stale lock over first: what was moved is its live lock, so put it back.
        if (!same) fs.linkSync(aside, file);
        else say(`Note: ${takenOver(holder!)}`);
      } catch {
        // another run moved it first: the next attempt sees its lock
      } finally {
        fs.rmSync(aside, { force: true });
      }
    }
  } finally {
    fs.rmSync(draft, { force: true });
  }
  // On stderr: stdout may be captured (`$(make output ...)`).
  const notice = previousRunNotice(outdir, env);
  if (notice) process.stderr.write(`${notice}\n`);
  return {
    release: () => {
      const h = readHolder(file);
      if (h !== "unreadable" && h?.pid === process.pid) fs.rmSync(file, { force: true });
    },
  };
}

function takenOver(h: Holder | "unreadable"): string {
  if (h === "unreadable") return "the environment's lock file could not be read (not a lock this tool wrote): it was replaced.";
  const why = alive(h.pid) ? `pid ${h.pid} is now another process (it started after that run)` : "that process no longer runs";
  return `the lock left by ${h.operation} (pid ${h.pid}, since ${clock(h.since)}) was taken over: ${why}.`;
}

function refusal(outdir: string, env: string, file: string, h: Holder | "unreadable" | undefined, host: string, retry: string): string {
  const lock = shownPath(file);
  if (!h || h === "unreadable")
    return `Another operation on ${env} is starting: one operation at a time per environment. Run ${retry} again in a moment. (Lock: ${lock}.)`;
  const here = h.host === host;
  const away = unattendedRun(outdir, env, h.pid);
  const lines = [
    `Another ${h.operation} is running (pid ${h.pid}${here ? "" : ` on ${h.host}`}) since ${clock(h.since)}: one operation at a time per environment. Wait for it to finish, then run ${retry} again.`,
  ];
  if (away) lines.push(`It lost its terminal at ${away.at} (${away.how}) and goes on without it: follow it with tail -f ${away.log}`);
  lines.push(
    here
      ? `(Lock: ${lock}. It is that process's own: it goes when the process ends. See it with ps -o pid,lstart,args -p ${h.pid}.)`
      : `(Lock: ${lock}, held from ${h.host}, which this machine cannot check. Once no operation runs there: rm ${lock})`,
  );
  return lines.join("\n");
}
