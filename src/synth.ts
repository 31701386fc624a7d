import * as fs from "fs";
import * as path from "path";
import { loadEnvironments, selectEnvironments } from "./config/load";
import { EnvironmentConfig } from "./config/settings";
import { ServiceName } from "./naming";
import { BlockSchema, HCL_FILE, publish, renderHcl, UNTYPED_BLOCKS } from "./synth-output";

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
  /**
   * Also build the DR environment of each selected environment that has a `dr_region` (Region loss,
   * part 2): `make restore`, `make validate` and `make rehearse` set it. @default false
   */
  readonly dr?: boolean;
  /** The DR environment's point in time to restore (ISO 8601 UTC); the latest restorable time without it. */
  readonly restoreTime?: string;
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
  const envs = selectEnvironments(options.envSelection);
  const configs = await loadEnvironments(envs, {
    ...(options.rootDir ? { rootDir: options.rootDir } : {}),
    ...(options.notice ? { notice: options.notice } : {}),
  });
  // cdktf and the stacks (the provider classes: about half a second to load) only once the settings
  // are valid: a bad environment or setting is refused without them.
  const [{ App }, { buildEnvironment, buildDrEnvironment }] = await Promise.all([import("cdktf"), import("./stacks/registry")]);

  const outdir = path.resolve(options.outdir);
  const scratch = `${outdir}.partial-${process.pid}`;
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(outdir), { recursive: true });
  try {
    const app = new App({ outdir: scratch });
    const stacks = configs
      .map((config) => withImageTag(config, options.imageTagOverride))
      .map((config) => (options.reportOnly ? { ...config, sizing: { ...config.sizing, guardrails: "report" as const } } : config))
      .flatMap((config) => [
        ...buildEnvironment(app, config),
        ...(options.dr && config.settings.drRegion ? buildDrEnvironment(app, config, options.restoreTime) : []),
      ]);
    app.synth();
    if (options.hcl) {
      // After app.synth(): the aspects (guardrails) have run, as for the JSON, which the HCL is written from.
      const [{ format }, cdktf] = await Promise.all([import("@cdktf/hcl-tools"), import("cdktf")]);
      const blocks = blockSchema(cdktf, stacks);
      for (const stack of stacks) {
        const dir = path.join(scratch, "stacks", stack.node.id);
        const json = JSON.parse(fs.readFileSync(path.join(dir, "cdk.tf.json"), "utf8")) as Record<string, unknown>;
        fs.writeFileSync(path.join(dir, HCL_FILE), await format(renderHcl(stack.node.id, json, blocks)));
      }
    }
    publish(scratch, outdir, envs);
    return stacks.map((s) => s.node.id);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Which objects of the JSON are nested blocks, per `resource.<type>`, `data.<type>` and
 * `provider.<name>`: the paths ("default_action/redirect") that the provider bindings mark as blocks in
 * each element's HCL fragment (cdktf's public `toHclTerraform()`). Blocks are a property of the schema,
 * so the union over every element of every stack is safe.
 */
export function blockSchema(cdktf: typeof import("cdktf"), stacks: readonly import("cdktf").TerraformStack[]): BlockSchema {
  const schema = new Map<string, Set<string>>();
  const walk = (attrs: unknown, key: string, prefix: string): void => {
    if (attrs === null || typeof attrs !== "object" || Array.isArray(attrs)) return;
    for (const [name, meta] of Object.entries(attrs as Record<string, unknown>)) {
      if (meta === null || typeof meta !== "object" || !("value" in meta)) continue;
      const m = meta as { value: unknown; isBlock?: boolean; is_block?: boolean; storageClassType?: string; storage_class_type?: string };
      const p = `${prefix}${name}`;
      const set = schema.get(key) ?? new Set<string>();
      // The bindings leave a few deep schemas untyped (`any`: the WAF rule statements): below such an
      // attribute, every object is a nested block, as in the provider's schema for them.
      if (!(m.isBlock || m.is_block)) {
        if ((m.storageClassType ?? m.storage_class_type) === "any") schema.set(key, set.add(`${p}/${UNTYPED_BLOCKS}`));
        continue;
      }
      schema.set(key, set.add(p));
      for (const item of Array.isArray(m.value) ? m.value : [m.value]) walk(item, key, `${p}/`);
    }
  };
  for (const stack of stacks) {
    const elements: import("cdktf").TerraformElement[] = [];
    const collect = (node: import("constructs").IConstruct): void => {
      if (cdktf.TerraformElement.isTerraformElement(node)) elements.push(node);
      for (const child of node.node.children) if (!cdktf.TerraformStack.isStack(child)) collect(child);
    };
    collect(stack);
    for (const element of elements) {
      const fragment = cdktf.Tokenization.resolve(element.toHclTerraform(), {
        scope: stack,
        preparing: false,
        resolver: new cdktf.DefaultTokenResolver(new cdktf.StringConcat()),
      }) as Record<string, unknown>;
      for (const section of ["resource", "data"] as const) {
        for (const [type, byName] of Object.entries((fragment[section] ?? {}) as Record<string, Record<string, unknown>>)) {
          for (const attrs of Object.values(byName)) walk(attrs, `${section}.${type}`, "");
        }
      }
      for (const [name, configs] of Object.entries((fragment.provider ?? {}) as Record<string, unknown>)) {
        for (const attrs of Array.isArray(configs) ? configs : [configs]) walk(attrs, `provider.${name}`, "");
      }
    }
  }
  return schema;
}
