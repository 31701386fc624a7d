import { SpawnSyncReturns, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { App } from "cdktf";
import { EnvironmentConfig, validateSettings } from "../../src/config/settings";
import { EnvironmentName } from "../../src/naming";
import type { PhaseDefinition } from "../../src/stacks/registry";
import type { PhaseStack } from "../../src/stacks/phase-stack";

/**
 * cdktf and the stacks (the provider classes) are loaded on first use: up to a second of CPU for each
 * test file under jest, which the files that only read settings, names or a cached synth never need.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use: test files that never synthesize skip loading cdktf
const registry = () => require("../../src/stacks/registry") as typeof import("../../src/stacks/registry");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use: test files that never synthesize skip loading cdktf
const cdktf = () => require("cdktf") as typeof import("cdktf");

export const ROOT = path.resolve(__dirname, "../..");

/** Valid raw settings (as parsed from a tfvars) for an environment; tests override single keys. */
export function rawSettings(env: EnvironmentName, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    aws_account_id: "111122223333",
    domain_name: `${env}.example.org`,
    route53_zone_id: "Z0123456789TEST",
    alert_email_addresses: ["oncall@example.org"],
    ecr_registry: "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
    image_tag: "2.3.4",
    cost_center: "CC-42",
    owner: "platform@example.org",
  };
  // prod refuses to run without paging: the tests say who pages, and add endpoints where they test them.
  if (env === "prod") base.alert_paging_handled_elsewhere = "the test suite's on-call";
  const merged = { ...base, ...overrides };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  return merged;
}

export function config(env: EnvironmentName, overrides: Record<string, unknown> = {}): EnvironmentConfig {
  const { settings, sizing } = validateSettings(env, rawSettings(env, overrides), `environments/${env}/terraform.tfvars`);
  return { env, settings, sizing, source: { file: `environments/${env}/terraform.tfvars`, isExample: false } };
}

/** A synthesized cdk.tf.json (any: tests read it as Terraform reads it, key by key). */

export type StackJson = any;

export interface SynthesizedEnv {
  /** The stacks of the environment (built on first read when the JSON came from the disk cache). */
  readonly stacks: PhaseStack[];
  /** Each stack's cdk.tf.json as written by `app.synth()`, by phase. */
  readonly json: Record<string, StackJson>;
  /** The same, by stack name. */
  readonly byStack: Record<string, StackJson>;

  readonly manifest: any;
}

/** Builds (without synthesizing) the stacks of one environment: for tests that change a stack first. */
export function buildEnv(cfg: EnvironmentConfig, phases?: readonly PhaseDefinition[]): { app: App; stacks: PhaseStack[] } {
  const app = new (cdktf().App)({ outdir: tempDir("aw-synth-") });
  return { app, stacks: registry().buildEnvironment(app, cfg, phases) };
}

const synthesized = new Map<string, SynthesizedEnv>();

/**
 * What a synth of the registered phases depends on: the source of the app, this helper, the packages
 * (the lock file, and npm's record of what is installed, node_modules/.package-lock.json, which every
 * install rewrites) and the cdktf context given through the environment (CDKTF_CONTEXT_JSON). The JSON
 * of one configuration is kept on disk under a key made of these and the configuration, so the test
 * files that read the same environment synthesize it once between them; any change to one of them
 * synthesizes again. A hand edit inside node_modules is not seen: `make clean` then.
 */
let sourceDigest: string | undefined;
function digestOfSources(): string {
  if (sourceDigest) return sourceDigest;
  const hash = crypto.createHash("sha256");
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  const installed = path.join(ROOT, "node_modules", ".package-lock.json");
  for (const file of [...walk(path.join(ROOT, "src")).sort(), __filename, path.join(ROOT, "package-lock.json"), installed]) {
    hash
      .update(`${path.relative(ROOT, file)}\0`)
      .update(fs.existsSync(file) ? fs.readFileSync(file) : "(none)")
      .update("\0");
  }
  hash.update(`CDKTF_CONTEXT_JSON\0${process.env.CDKTF_CONTEXT_JSON ?? ""}`);
  return (sourceDigest = hash.digest("hex"));
}
const SYNTH_CACHE = path.join(ROOT, "node_modules", ".cache", "accessweaver-test-synth");

type SynthesizedJson = Omit<SynthesizedEnv, "stacks">;

/** The JSON of `app.synth()` of the environment, and its stacks (built, not synthesized, when first read). */
function withStacks(cfg: EnvironmentConfig, phases: readonly PhaseDefinition[] | undefined, written: SynthesizedJson, stacks?: PhaseStack[]): SynthesizedEnv {
  let built = stacks;
  return {
    ...written,
    get stacks() {
      return (built ??= buildEnv(cfg, phases).stacks);
    },
  };
}

/**
 * Synthesizes the whole environment, every phase, with `app.synth()` (aspects, guardrails and the
 * wiring between phases resolved as in a real synth) and reads each stack's JSON back. The result is
 * shared (per file, and on disk for the registered phases, see digestOfSources): never change it. A
 * test that changes a construct's output (a spy, an override) uses buildEnv and synthesizes itself.
 */
export function synthEnv(cfg: EnvironmentConfig, phases?: readonly PhaseDefinition[]): SynthesizedEnv {
  // Without phases: the registered ones (the stacks are read from the disk cache when it holds them).
  const key = JSON.stringify([cfg, phases ? phases.map((p) => p.phase) : "registered"]);
  const cached = synthesized.get(key);
  if (cached) return cached;
  const file = phases ? undefined : path.join(SYNTH_CACHE, `${crypto.createHash("sha256").update(digestOfSources()).update(key).digest("hex")}.json`);
  if (file && fs.existsSync(file)) {
    const result = withStacks(cfg, phases, JSON.parse(fs.readFileSync(file, "utf8")) as SynthesizedJson);
    synthesized.set(key, result);
    return result;
  }
  const { app, stacks } = buildEnv(cfg, phases);
  app.synth();
  const read = (name: string) => JSON.parse(fs.readFileSync(path.join(app.outdir, name), "utf8"));
  const manifest = read("manifest.json");
  const byStack = Object.fromEntries(stacks.map((s) => [s.node.id, read(manifest.stacks[s.node.id].synthesizedStackPath)]));
  const json = Object.fromEntries(stacks.map((s) => [s.phase, byStack[s.node.id]]));
  fs.rmSync(app.outdir, { recursive: true, force: true });
  const written: SynthesizedJson = { json, byStack, manifest };
  if (file) {
    try {
      fs.mkdirSync(SYNTH_CACHE, { recursive: true });
      fs.writeFileSync(`${file}.${process.pid}`, JSON.stringify(written));
      fs.renameSync(`${file}.${process.pid}`, file);
    } catch {
      // a read-only tree only loses the cache
    }
  }
  const result = withStacks(cfg, phases, written, stacks);
  synthesized.set(key, result);
  return result;
}

/** All resources of a type in a synthesized stack, by address name. */

export function resources(json: any, type: string): Record<string, any> {
  return json.resource?.[type] ?? {};
}

/** The statements of a stack's `aws_iam_policy_document` data source `name`, by sid. */

export const policyStatements = (json: any, name: string): Record<string, any> =>
  Object.fromEntries(json.data.aws_iam_policy_document[name].statement.map((st: any) => [st.sid, st]));

/** This process's environment for a child, telemetry off, with `extra`. */
export const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => ({ ...process.env, CHECKPOINT_DISABLE: "1", ...extra });

export const readJson = (file: string): any => JSON.parse(fs.readFileSync(file, "utf8"));

/** Runs the app (main.ts, as `cdktf.json` does) into `outdir` for ACCESSWEAVER_ENV `selection`. */
export function runApp(outdir: string, selection: string, cwd = ROOT): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ["-r", path.join(ROOT, "scripts/register.js"), path.join(ROOT, "main.ts")], {
    cwd,
    env: childEnv({ CDKTF_OUTDIR: outdir, ACCESSWEAVER_ENV: selection }),
    encoding: "utf8",
  });
}

export function tempDir(prefix = "aw-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
