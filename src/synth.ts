import * as fs from "fs";
import * as path from "path";
import { loadEnvironments, selectEnvironments } from "./config/load";
import { EnvironmentConfig } from "./config/settings";
import { ServiceName } from "./naming";
import { HCL_FILE, publish } from "./synth-output";
import { skipTokenStackTraces } from "./token-traces";
import { baselineWasmOnly } from "./wasm-baseline";

export interface SynthOptions {
  /** Output folder (cdktf's `CDKTF_OUTDIR`, `cdktf.out` by default). */
  readonly outdir: string;
  /** `ACCESSWEAVER_ENV`: one environment, a comma-separated list, or empty for all. */
  readonly envSelection?: string;
  readonly rootDir?: string;
  readonly notice?: (message: string) => void;
  /**
   * Also write each stack's HCL rendering beside its JSON, as `cdk.hcl` (a name Terraform does not
   * load: the JSON stays the configuration). For reviewers (`make hcl`, `make review`).
   * @default false
   */
  readonly hcl?: boolean;
  /**
   * `make release`: these services run this tag, over the settings' image tags (the caller checked
   * the tag with imageTagProblem and that the images exist).
   */
  readonly imageTagOverride?: { readonly services: readonly ServiceName[]; readonly tag: string };
  /**
   * `make audit`: every environment's guardrails report instead of failing, so that the audit can list
   * all violations of an enforcing environment rather than stop at its first failing stack. Only the
   * audit sets it, with an output folder of its own that it deletes: nothing that Terraform runs on is
   * ever synthesized past a guardrail.
   */
  readonly reportOnly?: boolean;
}

/** `config` with the release's tag over the settings' image tags of the released services. */
export function withImageTag(config: EnvironmentConfig, override: SynthOptions["imageTagOverride"]): EnvironmentConfig {
  if (!override) return config;
  const imageTags = { ...config.settings.imageTags, ...Object.fromEntries(override.services.map((s) => [s, override.tag])) };
  return { ...config, settings: { ...config.settings, imageTags } };
}

export { HCL_FILE } from "./synth-output";

/**
 * Loads and validates the settings of every selected environment, builds their phase stacks and
 * synthesizes them into a scratch folder; only when everything succeeded does it move the result into
 * the output folder. A bad setting or a failed guardrail therefore leaves the output folder as it was.
 * Files that Terraform keeps beside a stack (`.terraform/`, lock files) survive a new synth, and the
 * stack folders of environments not synthesized this time are left alone. The manifest lists the
 * stacks of this synth only.
 */
export async function synthesize(options: SynthOptions): Promise<string[]> {
  skipTokenStackTraces();
  const envs = selectEnvironments(options.envSelection);
  const configs = await loadEnvironments(envs, { ...(options.rootDir ? { rootDir: options.rootDir } : {}), ...(options.notice ? { notice: options.notice } : {}) });
  // cdktf and the stacks (the provider classes: about half a second to load) only once the settings
  // are valid: a bad environment or setting is refused without them.
  const [{ App }, { buildEnvironment }] = await Promise.all([import("cdktf"), import("./stacks/registry")]);

  const outdir = path.resolve(options.outdir);
  const scratch = `${outdir}.partial-${process.pid}`;
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(outdir), { recursive: true });
  try {
    const app = new App({ outdir: scratch });
    const stacks = configs
      .map((config) => withImageTag(config, options.imageTagOverride))
      .map((config) => (options.reportOnly ? { ...config, sizing: { ...config.sizing, guardrails: "report" as const } } : config))
      .flatMap((config) => buildEnvironment(app, config));
    app.synth();
    if (options.hcl) {
      // After app.synth(): the aspects (guardrails) have run, as for the JSON. Formatted as `cdktf synth --hcl` does.
      baselineWasmOnly();
      const { format } = await import("@cdktf/hcl-tools");
      for (const stack of stacks) {
        const json = JSON.parse(fs.readFileSync(path.join(scratch, "stacks", stack.node.id, "cdk.tf.json"), "utf8")) as { terraform?: Record<string, unknown> };
        const hcl = withTerraformSettings(stack.toHclTerraform().hcl, json.terraform ?? {});
        fs.writeFileSync(path.join(scratch, "stacks", stack.node.id, HCL_FILE), await format(hcl));
      }
    }
    publish(scratch, outdir, envs);
    return stacks.map((s) => s.node.id);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * cdktf 0.21 renders the terraform block's plain settings (`required_version`) as `<index> = "<name>"`;
 * this writes them as `<name> = <value>` from the stack's JSON, which stays the source of truth.
 */
export function withTerraformSettings(hcl: string, terraform: Record<string, unknown>): string {
  const plain = Object.keys(terraform).filter((k) => !["required_providers", "backend", "cloud"].includes(k));
  return plain.reduce((text, key, i) => text.replace(`  ${i} = "${key}"`, `  ${key} = ${JSON.stringify(terraform[key])}`), hcl);
}
