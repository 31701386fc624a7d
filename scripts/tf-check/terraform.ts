/** Running Terraform (or OpenTofu) for the checks: one environment, clean output, no credentials. */
import { ChildProcess, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Mirror } from "./mirror";

export interface Terraform {
  /** The binary (`TF`, default `terraform`). */
  readonly bin: string;
  readonly mirror: Mirror | undefined;
  /** Environment for every Terraform process. */
  readonly env: NodeJS.ProcessEnv;
}

export interface RunResult {
  readonly code: number;
  /** stdout and stderr interleaved as Terraform wrote them. */
  readonly output: string;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The Terraform settings of the checks. A CLI config of our own (the machine's may point at a missing
 * file, which makes Terraform print a warning on every run), no AWS credentials or profile from the
 * caller's shell, nothing that redirects state, workspace or arguments.
 */
export function terraformFor(bin: string, mirror: Mirror | undefined, checkDir: string): Terraform {
  fs.mkdirSync(checkDir, { recursive: true });
  const cliConfig = path.join(checkDir, "terraform.rc");
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^AWS_/.test(key) || /^TF_(CLI_ARGS|DATA_DIR|WORKSPACE|LOG|CLI_CONFIG_FILE)/.test(key)) continue;
    env[key] = value;
  }
  const lines = ["# Written by scripts/tf-check.ts for the offline checks.", "disable_checkpoint = true"];
  if (mirror) {
    // A plugin cache would copy the 700 MB provider out of the mirror; -plugin-dir links it.
    delete env.TF_PLUGIN_CACHE_DIR;
  } else if (!env.TF_PLUGIN_CACHE_DIR) {
    // From the registry: download once for all environments.
    const cache = path.join(checkDir, ".plugin-cache");
    fs.mkdirSync(cache, { recursive: true });
    lines.push(`plugin_cache_dir = ${JSON.stringify(cache)}`);
  }
  fs.writeFileSync(cliConfig, `${lines.join("\n")}\n`);
  Object.assign(env, { TF_CLI_CONFIG_FILE: cliConfig, TF_IN_AUTOMATION: "1", TF_INPUT: "0", CHECKPOINT_DISABLE: "1" });
  // Terraform and the AWS provider spend about a third of each run collecting garbage while decoding
  // the provider schema; fewer collections cut CPU by ~25% for ~50 MB more per process.
  env.GOGC ??= "400";
  return { bin, mirror, env };
}

/** `onChild`: the started process, for a caller that forwards signals to it. */
export function runTerraform(tf: Terraform, args: readonly string[], cwd: string, onChild?: (child: ChildProcess) => void): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tf.bin, args, { cwd, env: tf.env, stdio: ["ignore", "pipe", "pipe"] });
    onChild?.(child);
    const all: Buffer[] = [];
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => (all.push(chunk), out.push(chunk)));
    child.stderr.on("data", (chunk: Buffer) => (all.push(chunk), err.push(chunk)));
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({
        code: code ?? (signal ? 128 : 1),
        output: Buffer.concat(all).toString("utf8"),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
  });
}

/** The binary's first version line, or undefined when it cannot be started at all. */
export async function terraformVersion(tf: Terraform): Promise<string | undefined> {
  try {
    const result = await runTerraform(tf, ["version"], process.cwd());
    return result.code === 0 ? (result.stdout.split("\n")[0] ?? "").trim() : undefined;
  } catch {
    return undefined;
  }
}

const INIT_STAMP = path.join(".terraform", "tf-check-init.json");

/**
 * `init -backend=false`, skipped when the root was already initialized for the same module calls,
 * providers, binary and mirror (init re-reads the 700 MB provider to check its hash).
 */
export async function initOnce(tf: Terraform, root: string, fingerprintOf: string): Promise<RunResult | undefined> {
  const stamp = path.join(root, INIT_STAMP);
  const fingerprint = crypto
    .createHash("sha256")
    .update(JSON.stringify([tf.bin, tf.mirror?.dir ?? "registry", fingerprintOf]))
    .digest("hex");
  if (fs.existsSync(path.join(root, ".terraform.lock.hcl")) && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === fingerprint) return undefined;
  const args = ["init", "-backend=false", "-input=false", "-no-color"];
  if (tf.mirror) args.push(`-plugin-dir=${tf.mirror.dir}`);
  const result = await runTerraform(tf, args, root);
  if (result.code === 0) fs.writeFileSync(stamp, fingerprint);
  return result;
}
