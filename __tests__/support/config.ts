import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, Testing } from "cdktf";
import { EnvironmentConfig, validateSettings } from "../../src/config/settings";
import { EnvironmentName } from "../../src/naming";
import { buildEnvironment } from "../../src/stacks/registry";
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

/** Builds the stacks of one environment and returns each one's synthesized JSON, by phase. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function synthEnv(cfg: EnvironmentConfig): { stacks: PhaseStack[]; json: Record<string, any> } {
  const app = Testing.app();
  const stacks = buildEnvironment(app, cfg);
  const json = Object.fromEntries(stacks.map((s) => [s.phase, JSON.parse(Testing.synth(s))]));
  return { stacks, json };
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
