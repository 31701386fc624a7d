// Recording stand-ins for external programs (aws today; terraform and cdktf later).
//
//   const s = makeStandins(["aws"]);
//   spawnSync("bash", ["scripts/setup-backend.sh", "dev", "eu-west-1"], { env: s.env });
//   expect(s.log()).toEqual(["aws sts get-caller-identity ...", ...]);
//   s.cleanup();
//
// Each stand-in is an executable in __tests__/support/standins/<name> (see lib.sh there for
// the shared conventions: STANDIN_LOG, STANDIN_STATE, STANDIN_<PROG>_FAIL_ON, ...).
// makeStandins() makes a temp dir whose bin/ holds copies of the chosen stand-ins and an env whose
// PATH starts with that bin/, so a script under test finds them before any real one. Each copy names
// the bash found on PATH in its first line instead of `#!/usr/bin/env bash`: the suite makes about a
// thousand calls, and env's own start is about a quarter of a call's cost.
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { which } from "../../scripts/operator/process";

export const STANDINS_DIR = path.join(__dirname, "standins");

export interface Standins {
  /** The temp dir holding bin/, state/ and calls.log. */
  readonly dir: string;
  /** The folder put first on PATH. */
  readonly bin: string;
  /** STANDIN_STATE: what the stand-ins created, kept across calls (one subfolder per program). */
  readonly stateDir: string;
  /** STANDIN_LOG: one line per call. */
  readonly logFile: string;
  /** The environment to run a script with (a copy of process.env, stand-ins first on PATH). */
  readonly env: NodeJS.ProcessEnv;
  /** The calls recorded so far, one string per call, e.g. "aws s3api head-bucket --bucket b --region eu-west-1". */
  log(): string[];
  /** The calls recorded so far, each split back into its words (program first). */
  calls(): string[][];
  /** Forgets the recorded calls (the state stays). */
  clearLog(): void;
  /** Runs one stand-in directly (to seed state); its call is recorded like any other. */
  run(program: string, args: string[], extraEnv?: NodeJS.ProcessEnv): SpawnSyncReturns<string>;
  /** Removes the temp dir. */
  cleanup(): void;
}

const ENV_BASH = "#!/usr/bin/env bash\n";
const scripts = new Map<string, string>();

/** The stand-in's text (read once), its first line naming bash on PATH, as env would find it. */
function withBashShebang(source: string): string {
  let text = scripts.get(source);
  if (text === undefined) {
    text = fs.readFileSync(source, "utf8");
    if (text.startsWith(ENV_BASH)) {
      const found = which("bash");
      if (!found) throw new Error(`makeStandins: no bash on PATH (${process.env.PATH ?? ""}): the stand-ins are bash scripts`);
      const bash = path.resolve(found);
      // A first line holds one path without blanks; otherwise env finds bash, as the original does.
      if (!/\s/.test(bash)) text = `#!${bash}\n${text.slice(ENV_BASH.length)}`;
    }
    scripts.set(source, text);
  }
  return text;
}

export function makeStandins(programs: string[], extraEnv: NodeJS.ProcessEnv = {}): Standins {
  if (programs.length === 0) throw new Error("makeStandins: name at least one program");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "standins-"));
  const bin = path.join(dir, "bin");
  const stateDir = path.join(dir, "state");
  const logFile = path.join(dir, "calls.log");
  fs.mkdirSync(bin);
  fs.mkdirSync(stateDir);
  fs.writeFileSync(logFile, "");
  for (const program of programs) {
    const source = path.join(STANDINS_DIR, program);
    try {
      fs.accessSync(source, fs.constants.X_OK);
    } catch {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`makeStandins: no executable stand-in for '${program}' at ${source}`);
    }
    fs.writeFileSync(path.join(bin, program), withBashShebang(source), { mode: 0o755 });
  }

  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("STANDIN_")) env[key] = value; // no knob leaks in from the caller
  }
  Object.assign(env, {
    PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
    STANDIN_LOG: logFile,
    STANDIN_STATE: stateDir,
    STANDIN_DIR: STANDINS_DIR,
    AWS_PAGER: "",
    CHECKPOINT_DISABLE: "1",
    ...extraEnv,
  });

  const log = (): string[] =>
    fs
      .readFileSync(logFile, "utf8")
      .split("\n")
      .filter((line) => line !== "");

  return {
    dir,
    bin,
    stateDir,
    logFile,
    env,
    log,
    calls: () => log().map(splitShellWords),
    clearLog: () => fs.writeFileSync(logFile, ""),
    run: (program, args, more = {}) => spawnSync(path.join(bin, program), args, { env: { ...env, ...more }, encoding: "utf8" }),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Splits one recorded line back into words: bare words, '...' (with '\'' inside) and
 * $'...' (as bash's printf %q writes them), the forms lib.sh's standin_quote produces.
 */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"' };
  while (i < line.length) {
    const c = line.charAt(i);
    if (c === " ") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in: ${line}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === "$" && line.charAt(i + 1) === "'") {
      i += 2;
      while (i < line.length && line.charAt(i) !== "'") {
        if (line.charAt(i) === "\\") {
          const e = line.charAt(i + 1);
          word += escapes[e] ?? e;
          i += 2;
        } else {
          word += line.charAt(i++);
        }
      }
      if (i >= line.length) throw new Error(`unterminated $'...' in: ${line}`);
      inWord = true;
      i++;
    } else if (c === "\\") {
      word += line.charAt(i + 1);
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
