/**
 * Read-only AWS calls for the preflight: the `aws` CLI with JSON output and the environment's region
 * (a call that names its own `--region`, for a global API such as Budgets, keeps it).
 * A call whose verb could change something is refused here, before it is made.
 */
import { spawnSync } from "child_process";

/** Verbs that only read. `sts get-caller-identity` is a get too; `batch-get-*` reads several at once. */
const READ_ONLY = /^(get|describe|list|head|batch-get)-/;

export interface AwsResult {
  readonly ok: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the AWS CLI's JSON answer, read key by key
  readonly json: any;
  readonly error: string;
  /** The service error code (`ResourceNotFoundException`, `404`, ...) when the CLI names one. */
  readonly code?: string;
}

export type Aws = (service: string, verb: string, ...args: string[]) => AwsResult;

/** What one run of the CLI gave back (the fields of spawnSync's result that the calls read). */
export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error?: Error;
}

/** Runs the CLI with these arguments (after the program name). */
export type CliRunner = (args: readonly string[]) => CliRun;

/** The CLI found on `env`'s PATH (the caller's environment: profile, credentials). */
export function awsCli(region: string, env: NodeJS.ProcessEnv, bin = "aws"): Aws {
  return awsCalls(region, (args) => spawnSync(bin, args, { encoding: "utf8", env: { ...env, AWS_PAGER: "" } }), bin);
}

/**
 * The read-only calls over any runner of the CLI: the verb check, the arguments (the environment's
 * region unless the call names its own, JSON output) and the reading of the answer.
 */
export function awsCalls(region: string, runCli: CliRunner, bin = "aws"): Aws {
  return (service, verb, ...args) => {
    if (!READ_ONLY.test(verb)) throw new Error(`preflight makes read-only calls only; refused: aws ${service} ${verb}`);
    const where = args.includes("--region") ? [] : ["--region", region];
    const r = runCli([service, verb, ...args, ...where, "--output", "json"]);
    if (r.error) return { ok: false, json: undefined, error: `cannot run ${bin}: ${r.error.message}` };
    const error = (r.stderr ?? "").trim();
    if (r.status !== 0) return { ok: false, json: undefined, error: error || `exit ${r.status}`, ...codeOf(error) };
    try {
      return { ok: true, json: r.stdout.trim() === "" ? {} : JSON.parse(r.stdout), error: "" };
    } catch {
      return { ok: false, json: undefined, error: `unreadable answer from aws ${service} ${verb}: ${r.stdout.slice(0, 200)}` };
    }
  };
}

const codeOf = (stderr: string) => {
  const m = /An error occurred \(([^)]+)\)/.exec(stderr);
  return m ? { code: m[1]! } : {};
};
