/**
 * The synth before a Terraform run (`make init|plan|apply|deploy|output|destroy|drift|release`) reuses an
 * earlier synth of exactly the same inputs instead of building the stacks again: `make plan` then
 * `make apply` synthesize once. The inputs are the code (every file under src/, the lock file and the
 * installed cdktf and provider versions) and the validated settings of each environment with the
 * release's tag, so any change to either synthesizes anew. `make synth` (and validate, rehearse, hcl,
 * review, which run it) always synthesizes.
 *
 * A reused synth is published like a new one (src/synth-output.ts): Terraform's files beside each stack
 * stay, the output folder changes only when the whole result is in place. Entries live in
 * node_modules/.cache/accessweaver-synth (the newest KEEP of them); one that is incomplete or unreadable
 * is ignored and the stacks are synthesized.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { loadEnvironments, selectEnvironments } from "../../src/config/load";
import type { SynthOptions } from "../../src/synth";
import { publish } from "../../src/synth-output";

const ROOT = path.resolve(__dirname, "../..");
export const SYNTH_CACHE = path.join(ROOT, "node_modules", ".cache", "accessweaver-synth");
/** Entries kept: a few environments and settings in turn. */
const KEEP = 12;

type Synthesize = (options: SynthOptions) => Promise<string[]>;

/** Everything of the code that a synth's output can depend on. */
export function codeDigest(root = ROOT): string {
  const hash = crypto.createHash("sha256");
  const walk = (dir: string): string[] =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))
      .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  const versions = ["cdktf", "@cdktf/provider-aws", "@cdktf/provider-random", "constructs"].map((p) => path.join(root, "node_modules", p, "package.json"));
  for (const file of [...walk(path.join(root, "src")), path.join(root, "package-lock.json"), ...versions]) {
    hash.update(`${path.relative(root, file)}\0`);
    hash.update(fs.existsSync(file) ? fs.readFileSync(file) : "(none)");
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** The key of a synth: the code, and each selected environment's validated settings and options. */
export async function synthKey(options: SynthOptions, code: string): Promise<string> {
  const envs = selectEnvironments(options.envSelection);
  // The settings as the synth will read them (validated; a bad file throws here as it would there).
  const configs = await loadEnvironments(envs, { ...(options.rootDir ? { rootDir: options.rootDir } : {}), notice: () => undefined });
  // Not the settings file's path (`source`): it is nowhere in the output, and the same settings read
  // from another folder synthesize the same stacks.
  const inputs = { envs, configs: configs.map((c) => ({ env: c.env, settings: c.settings, sizing: c.sizing })), hcl: options.hcl ?? false, imageTagOverride: options.imageTagOverride ?? null, reportOnly: options.reportOnly ?? false };
  return crypto.createHash("sha256").update(code).update("\0").update(JSON.stringify(inputs)).digest("hex");
}

/** The stacks an entry holds, or undefined when it is not complete. */
function entryStacks(entry: string): string[] | undefined {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(entry, "manifest.json"), "utf8")) as { stacks?: Record<string, unknown> };
    const stacks = Object.keys(manifest.stacks ?? {});
    if (stacks.length === 0) return undefined;
    for (const s of stacks) JSON.parse(fs.readFileSync(path.join(entry, "stacks", s, "cdk.tf.json"), "utf8"));
    return stacks;
  } catch {
    return undefined;
  }
}

/** Keeps a published synth's stacks and manifest as the entry of `key` (best effort: a failure only loses the reuse). */
function store(outdir: string, stacks: readonly string[], entry: string, cache: string): void {
  const tmp = `${entry}.tmp-${process.pid}`;
  try {
    fs.rmSync(tmp, { recursive: true, force: true });
    for (const s of stacks) {
      const from = path.join(outdir, "stacks", s);
      // What the synth wrote; Terraform's own files (.terraform/, .terraform.lock.hcl) are not its.
      for (const file of fs.readdirSync(from, { withFileTypes: true }).filter((f) => f.isFile() && !f.name.startsWith(".")).map((f) => f.name)) {
        fs.mkdirSync(path.join(tmp, "stacks", s), { recursive: true });
        fs.copyFileSync(path.join(from, file), path.join(tmp, "stacks", s, file));
      }
    }
    fs.copyFileSync(path.join(outdir, "manifest.json"), path.join(tmp, "manifest.json"));
    fs.renameSync(tmp, entry);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true });
    return;
  }
  const entries = fs
    .readdirSync(cache)
    .filter((n) => /^[0-9a-f]{64}$/.test(n))
    .map((n) => ({ n, t: fs.statSync(path.join(cache, n)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const old of entries.slice(KEEP)) fs.rmSync(path.join(cache, old.n), { recursive: true, force: true });
}

/**
 * Publishes the synth of `options` into its output folder: the cached one when its inputs are the
 * same, otherwise `synthesize`'s (then kept). Returns the stacks (a reused synth: in the manifest's order).
 */
export async function reusingSynth(options: SynthOptions, synthesize: Synthesize, cache = SYNTH_CACHE, code = codeDigest()): Promise<string[]> {
  const entry = path.join(cache, await synthKey(options, code));
  const stacks = entryStacks(entry);
  if (stacks) {
    const outdir = path.resolve(options.outdir);
    const scratch = `${outdir}.partial-${process.pid}`;
    fs.rmSync(scratch, { recursive: true, force: true });
    try {
      fs.cpSync(entry, scratch, { recursive: true });
      publish(scratch, outdir, selectEnvironments(options.envSelection));
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
    fs.utimesSync(entry, new Date(), new Date()); // recently used: kept longest
    return stacks;
  }
  const made = await synthesize(options);
  fs.rmSync(entry, { recursive: true, force: true }); // an incomplete entry of the same key
  fs.mkdirSync(cache, { recursive: true });
  store(options.outdir, made, entry, cache);
  return made;
}
