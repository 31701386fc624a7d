/**
 * One operation at a time per environment: an exclusive lock file in the working folder
 * (`<outdir>/locks/<env>.lock`), held by synth, init, plan, apply, deploy, output and destroy, so two
 * runs cannot interleave their synths, plans and applies. It is created atomically (a hard link that
 * fails when the lock exists); a lock whose process is gone (killed) is taken over.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Refusal, say, shownPath } from "./process";

interface Holder {
  readonly pid: number;
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

const readHolder = (file: string): Holder | undefined => {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Holder;
  } catch {
    return undefined;
  }
};

const clock = (iso: string) => `${iso.slice(11, 16)} UTC`;

/**
 * Takes the lock of `env` for `operation` (e.g. "make plan of prod"), or refuses naming its holder and
 * the command to run again (`retry`) once it is done.
 */
export function lockEnvironment(outdir: string, env: string, operation: string, retry: string): Lock {
  const dir = path.join(outdir, "locks");
  const file = path.join(dir, `${env}.lock`);
  fs.mkdirSync(dir, { recursive: true });
  const mine: Holder = { pid: process.pid, host: os.hostname(), operation, since: new Date().toISOString() };
  const draft = `${file}.${process.pid}`;
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
      const gone = holder !== undefined && holder.host === mine.host && !alive(holder.pid);
      if (!gone || attempt > 0) {
        const who = holder ? `${holder.operation} is running (pid ${holder.pid}${holder.host === mine.host ? "" : ` on ${holder.host}`}) since ${clock(holder.since)}` : "an operation is starting";
        throw new Refusal(
          `Another ${who}: one operation at a time per environment. Wait for it to finish, then run ${retry} again. (Lock: ${shownPath(file)}; remove it only if no such process runs.)`,
        );
      }
      // Moved aside under a name of our own, so two runs taking over the same stale lock cannot both win.
      const aside = `${file}.stale.${process.pid}`;
      try {
        fs.renameSync(file, aside);
        const moved = readHolder(aside);
        // Another run took the stale lock over first: what was moved is its live lock, so put it back.
        if (moved?.pid !== holder!.pid || moved.since !== holder!.since) fs.linkSync(aside, file);
        else say(`Note: the lock left by ${holder!.operation} (pid ${holder!.pid}, since ${clock(holder!.since)}) was taken over: that process no longer runs.`);
      } catch {
        // another run moved it first: the next attempt sees its lock
      } finally {
        fs.rmSync(aside, { force: true });
      }
    }
  } finally {
    fs.rmSync(draft, { force: true });
  }
  return {
    release: () => {
      if (readHolder(file)?.pid === process.pid) fs.rmSync(file, { force: true });
    },
  };
}
