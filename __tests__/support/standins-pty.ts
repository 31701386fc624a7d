// A command under a real pseudo-terminal, through util-linux `script` (no native module): what is
// written to `type()` is typed at the terminal (Ctrl-C is "\x03"), `output()` is what the terminal shows.
//
//   const t = onPty("make apply ENV=prod PHASE=network", { env, cwd });
//   await t.waitFor('Type "prod"');
//   t.type("prod\r");
//   const r = await t.done;   // r.status: the command's exit status (script -e)
//
// `close()` closes the terminal the way a closed window does: `script` is killed, the pty's master is
// closed, and the kernel hangs up its session (SIGHUP to the session leader, e.g. an interactive bash,
// which sends SIGHUP to its jobs).
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";

export interface Pty {
  readonly child: ChildProcess;
  /** Types at the terminal (as keystrokes: "\r" is Enter, "\x03" is Ctrl-C). */
  type(keys: string): void;
  /** What the terminal showed so far, with "\r\n" as "\n". */
  output(): string;
  /** Resolves once the terminal showed `text` (a string or a pattern); fails after `seconds`. */
  waitFor(text: string | RegExp, seconds?: number): Promise<void>;
  /** Closes the terminal: kills `script`, which hangs up the pty. */
  close(): void;
  readonly done: Promise<{ status: number | null; output: string }>;
}

export function onPty(command: string, options: { env: NodeJS.ProcessEnv; cwd: string }): Pty {
  // -q: no banner; -f: flush at once; -e: exit with the command's status; -c: the command (run by $SHELL -c).
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    cwd: options.cwd,
    env: { SHELL: "/bin/bash", TERM: "xterm", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let shown = "";
  child.stdout!.on("data", (d: Buffer) => (shown += d.toString("utf8")));
  child.stderr!.on("data", (d: Buffer) => (shown += d.toString("utf8")));
  const output = () => shown.replace(/\r\n/g, "\n");
  const done = new Promise<{ status: number | null; output: string }>((resolve) => child.on("close", (status) => resolve({ status, output: output() })));
  return {
    child,
    type: (keys) => {
      child.stdin!.write(keys);
    },
    output,
    waitFor: async (text, seconds = 30) => {
      for (let i = 0; i < seconds * 40; i++) {
        const o = output();
        if (typeof text === "string" ? o.includes(text) : text.test(o)) return;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`the terminal did not show ${String(text)}; it showed:\n${output()}`);
    },
    close: () => {
      child.kill("SIGKILL");
    },
    done,
  };
}

/** Waits until `check` holds (polling), or fails with `what` after `seconds`. */
export async function until(check: () => boolean, what: string, seconds = 30): Promise<void> {
  for (let i = 0; i < seconds * 40; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The file's content, or "" when it does not exist. */
export const readOr = (file: string): string => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");
