import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App } from "cdktf";
import { EnvironmentConfig, validateSettings } from "../../src/config/settings";
import { EnvironmentName } from "../../src/naming";
import { PhaseDefinition, REGISTERED_PHASES, buildEnvironment } from "../../src/stacks/registry";
import { skipTokenStackTraces } from "../../src/synth";
import { PhaseStack } from "../../src/stacks/phase-stack";

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
  const merged = { ...base, ...overrides };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  return merged;
}

export function config(env: EnvironmentName, overrides: Record<string, unknown> = {}): EnvironmentConfig {
  const { settings, sizing } = validateSettings(env, rawSettings(env, overrides), `environments/${env}/terraform.tfvars`);
  return { env, settings, sizing, source: { file: `environments/${env}/terraform.tfvars`, isExample: false } };
}

/** A synthesized cdk.tf.json (any: tests read it as Terraform reads it, key by key). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StackJson = any;

export interface SynthesizedEnv {
  readonly stacks: PhaseStack[];
  /** Each stack's cdk.tf.json as written by `app.synth()`, by phase. */
  readonly json: Record<string, StackJson>;
  /** The same, by stack name. */
  readonly byStack: Record<string, StackJson>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly manifest: any;
}

/** Builds (without synthesizing) the stacks of one environment: for tests that change a stack first. */
export function buildEnv(cfg: EnvironmentConfig, phases: readonly PhaseDefinition[] = REGISTERED_PHASES): { app: App; stacks: PhaseStack[] } {
  skipTokenStackTraces(); // as the app does: no test reads a token's creation stack
  const app = new App({ outdir: tempDir("aw-synth-") });
  return { app, stacks: buildEnvironment(app, cfg, phases) };
}

const synthesized = new Map<string, SynthesizedEnv>();

/**
 * Synthesizes the whole environment, every phase, with `app.synth()` (aspects, guardrails and the
 * wiring between phases resolved as in a real synth) and reads each stack's JSON back. One synth per
 * configuration and phase list per test file: the result is shared, never change it.
 */
export function synthEnv(cfg: EnvironmentConfig, phases: readonly PhaseDefinition[] = REGISTERED_PHASES): SynthesizedEnv {
  const key = JSON.stringify([cfg, phases.map((p) => p.phase), phases === REGISTERED_PHASES]);
  const cached = synthesized.get(key);
  if (cached) return cached;
  const { app, stacks } = buildEnv(cfg, phases);
  app.synth();
  const read = (file: string) => JSON.parse(fs.readFileSync(path.join(app.outdir, file), "utf8"));
  const manifest = read("manifest.json");
  const byStack = Object.fromEntries(stacks.map((s) => [s.node.id, read(manifest.stacks[s.node.id].synthesizedStackPath)]));
  const json = Object.fromEntries(stacks.map((s) => [s.phase, byStack[s.node.id]]));
  fs.rmSync(app.outdir, { recursive: true, force: true });
  const result = { stacks, json, byStack, manifest };
  synthesized.set(key, result);
  return result;
}

/** All resources of a type in a synthesized stack, by address name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function resources(json: any, type: string): Record<string, any> {
  return json.resource?.[type] ?? {};
}

export function tempDir(prefix = "aw-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export { App };
