/**
 * The check root of one environment: `cdktf.out/check/<env>/`.
 *
 *   main.tf.json                 root module: one aliased provider per phase, one module per phase
 *   <stack name>/cdk.tf.json     a copy of each phase stack, as a child module
 *
 * The copies differ from the synthesized stacks only where a check run must differ from a real one:
 * - no backend (the root has none either: an empty local state, as on a fresh account);
 * - no provider blocks: the root passes `providers = { aws = aws.<phase> }`, configured like the stack's
 *   own provider (region, default tags) but with stand-in credentials and no account lock;
 * - `terraform_remote_state` reads of another phase (the project's explicit ones, matched by state key,
 *   and cdktf's own cross-stack ones) become module inputs fed by the upstream module's output,
 *   so one run covers the whole environment and upstream values are unknown until apply;
 * - resources of a provider the mirror lacks become sensitive string inputs with stand-in values.
 * Resource addresses and file names keep the phase and stack in every Terraform message
 * (`module.database.aws_db_instance.x`, `accessweaver-prod-database/cdk.tf.json line 12`).
 */
import * as crypto from "crypto";
import * as path from "path";
import { Json, JsonObject, clone, isObject, mapStrings, objectAt } from "./json";
import { Mirror, fullSource } from "./mirror";
import { SynthStack, remoteStateUpstreams } from "./stacks";

export const CHILD_FILE = "cdk.tf.json";
export const ROOT_FILE = "main.tf.json";

/** A resource that the check replaces with an input because its provider is not in the mirror. */
export interface StandIn {
  readonly phase: string;
  /** Its address in the stack, e.g. `random_password.db`. */
  readonly address: string;
  readonly provider: string;
  /** Inputs standing in for the attributes that the stack reads, with their values. */
  readonly inputs: readonly { readonly variable: string; readonly attribute: string; readonly value: string }[];
  /** Why it is not checked. @default its provider is not in the plugin mirror */
  readonly reason?: string;
}

/** Why an ephemeral resource stands in: Terraform opens it at plan time, calling AWS, which a check never reaches. */
export const EPHEMERAL_REASON = "an ephemeral resource is read from AWS at plan time, which the offline check does not reach";

/** One upstream output read by a downstream phase, now a module input. */
export interface Wire {
  readonly phase: string;
  readonly variable: string;
  readonly upstream: string;
  readonly output: string;
  /** Where the downstream copy reads it, e.g. `aws_subnet.sub (vpc_id)`. */
  readonly readBy: string[];
}

export interface CheckPhase {
  readonly phase: string;
  readonly stack: string;
  /** Module name in the root (`module.<module>`). */
  readonly module: string;
  /** Folder of the copy, relative to the check root. */
  readonly childDir: string;
  /** Managed resource addresses of the copy, relative to the module (stand-ins excluded). */
  readonly resources: readonly string[];
}

export interface CheckRoot {
  readonly env: string;
  readonly dir: string;
  readonly phases: readonly CheckPhase[];
  readonly standIns: readonly StandIn[];
  readonly wires: readonly Wire[];
  /**
   * Faults found while generating that Terraform reports too (at the module call, without the
   * resource): printed beside Terraform's message, and the environment fails even if it did not.
   */
  readonly problems: readonly string[];
  /** Relative path -> content of every file to write. */
  readonly files: ReadonlyMap<string, JsonObject>;
}

/** Stand-in AWS credentials: the provider is configured but nothing can reach an account with them. */
export const STANDIN_AWS = {
  access_key: "rehearsal-standin-access-key",
  secret_key: "rehearsal-standin-secret-key",
  skip_credentials_validation: true,
  skip_requesting_account_id: true,
  skip_metadata_api_check: true,
  // A data source that calls AWS fails at once instead of retrying against an unreachable endpoint.
  max_retries: 1,
} as const;

/** Provider settings that would fetch real credentials or lock to a real account. */
export const AWS_ACCOUNT_SETTINGS = [
  "allowed_account_ids",
  "forbidden_account_ids",
  "profile",
  "token",
  "assume_role",
  "assume_role_with_web_identity",
  "shared_config_files",
  "shared_credentials_files",
];

export class GenerateError extends Error {}

const IDENT = "[A-Za-z_][A-Za-z0-9_-]*";
const NOT_AFTER_IDENT = "(?<![A-Za-z0-9_.-])";

/** Builds the check root of one environment (nothing is written; see writeCheckRoot). */
export function buildCheckRoot(env: string, stacks: readonly SynthStack[], checkDir: string, mirror: Mirror | undefined): CheckRoot {
  const dir = path.join(checkDir, env);
  const moduleOf = new Map(stacks.map((s) => [s.name, s.phase]));
  const outputsOf = new Map(stacks.map((s) => [s.name, new Set(Object.keys(isObject(s.config.output) ? s.config.output : {}))]));

  const files = new Map<string, JsonObject>();
  const phases: CheckPhase[] = [];
  const standIns: StandIn[] = [];
  const wires: Wire[] = [];
  const rootProviders: JsonObject = {};
  const rootRequired: JsonObject = {};
  const rootModules: JsonObject = {};

  for (const stack of stacks) {
    const where = `${env}/${stack.phase} (${stack.name})`;
    const child = clone(stack.config);
    const terraform = objectAt(child, "terraform");
    delete terraform.backend;
    delete terraform.cloud;

    // Providers: which local names are present, and where each one's source comes from.
    const required = objectAt(terraform, "required_providers");
    const sourceOf = (local: string): string => {
      const req = required[local];
      return fullSource(isObject(req) && typeof req.source === "string" ? req.source : local);
    };
    const missing = new Set(Object.keys(required).filter((local) => mirror !== undefined && !mirror.providers.has(sourceOf(local))));

    // Resources of a missing provider: removed, their attributes become stand-in inputs. So do the
    // ephemeral resources, whose values may only reach write-only arguments: their inputs are ephemeral too.
    const removed = removeResourcesOf(child, missing);
    const ephemeral = removeEphemeral(child);
    removed.push(...ephemeral);

    // Provider blocks move to the root as `<provider>.<module>[__<alias>]`.
    const moduleName = stack.phase;
    const passProviders: JsonObject = {};
    const providerBlocks = isObject(child.provider) ? child.provider : {};
    delete child.provider;
    for (const [local, value] of Object.entries(providerBlocks)) {
      if (missing.has(local)) continue;
      const configs = (Array.isArray(value) ? value : [value]).filter(isObject);
      for (const config of configs) {
        const alias = typeof config.alias === "string" ? config.alias : undefined;
        const rootAlias = alias ? `${moduleName}__${alias}` : moduleName;
        // The alias leads (readability) and replaces the stack's own one.
        const { alias: _own, ...settings } = config;
        const body: JsonObject = { alias: rootAlias, ...settings };
        if (sourceOf(local).endsWith("/hashicorp/aws")) {
          for (const key of AWS_ACCOUNT_SETTINGS) delete body[key];
          Object.assign(body, STANDIN_AWS);
        }
        const list = rootProviders[local];
        rootProviders[local] = [...(Array.isArray(list) ? list : []), body];
        passProviders[alias ? `${local}.${alias}` : local] = `${local}.${rootAlias}`;
        if (alias) {
          const req = objectAt(required, local);
          const aliases = Array.isArray(req.configuration_aliases) ? req.configuration_aliases : [];
          req.configuration_aliases = [...aliases, `${local}.${alias}`];
        }
      }
    }
    for (const local of missing) delete required[local];
    for (const [local, req] of Object.entries(required)) {
      // An explicit host, so that a mirror laid out for registry.terraform.io also serves OpenTofu.
      const entry: JsonObject = isObject(req) ? req : {};
      entry.source = sourceOf(local);
      required[local] = entry;
      rootRequired[local] = { source: entry.source };
    }

    // Cross-stack remote state: removed, each output read becomes an input.
    const data = isObject(child.data) ? child.data : {};
    const remote = isObject(data.terraform_remote_state) ? data.terraform_remote_state : {};
    const upstreamOf = new Map<string, string>();
    for (const [name, upstream] of remoteStateUpstreams(stack, stacks)) {
      if (upstream === undefined) {
        const config = isObject(remote[name]) ? (remote[name] as JsonObject).config : undefined;
        throw new GenerateError(
          `${where} reads data.terraform_remote_state.${name} (${JSON.stringify(config ?? null)}), a state that no synthesized stack of environment ${env} writes; tf-check can wire only the environment's own phases.`,
        );
      }
      if (!moduleOf.has(upstream)) {
        throw new GenerateError(`${where} reads the outputs of stack ${upstream}, which is not a synthesized stack of environment ${env}.`);
      }
      upstreamOf.set(name, upstream);
      delete remote[name];
    }
    if (isObject(data.terraform_remote_state) && Object.keys(remote).length === 0) delete data.terraform_remote_state;
    if (isObject(child.data) && Object.keys(data).length === 0) delete child.data;

    // Inputs added by the check; merged into the copy after the rewrite (which builds a new tree).
    const variables: JsonObject = {};
    const moduleArgs: JsonObject = { source: `./${stack.name}`, providers: passProviders };
    const phaseStandIns = new Map<string, { variable: string; attribute: string; value: string }[]>();

    // depends_on on a removed block goes: the module inputs carry the ordering that matters.
    dropDependsOn(child, [...removed.map((r) => r.address), ...[...upstreamOf.keys()].map((n) => `data.terraform_remote_state.${n}`)]);
    const rewritten = mapStrings(child, (text, at) => {
      let out = text.replace(
        new RegExp(`${NOT_AFTER_IDENT}data\\.terraform_remote_state\\.(${IDENT})\\.outputs(?:\\.(${IDENT})|\\["([^"]+)"\\])`, "g"),
        (ref, name: string, dotted?: string, quoted?: string) => {
          const upstream = upstreamOf.get(name);
          if (!upstream) return ref;
          const output = (dotted ?? quoted)!;
          const upstreamModule = moduleOf.get(upstream)!;
          const variable = `${upstreamModule}__${output}`;
          const readBy = readable(at);
          const known = wires.find((w) => w.phase === stack.phase && w.variable === variable);
          if (known && !known.readBy.includes(readBy)) known.readBy.push(readBy);
          if (!variables[variable]) {
            variables[variable] = { type: "any", description: `Output ${output} of ${upstream}, wired by tf-check in place of its remote state` };
            // Remote state outputs lose their sensitivity; so does the wired value, or a downstream
            // that uses it in for_each or a plain output would fail here and not in a real run.
            moduleArgs[variable] = `\${nonsensitive(module.${upstreamModule}.${output})}`;
            wires.push({ phase: stack.phase, variable, upstream, output, readBy: [readBy] });
          }
          return `var.${variable}`;
        },
      );
      out = replaceStandIns(out, removed, stack.name, `${where}: ${at}`, "tf-check", (r, attribute, value) => {
        const variable = standInVariable(r, attribute);
        if (!variables[variable]) {
          const isEphemeral = ephemeral.includes(r);
          variables[variable] = {
            type: "string",
            sensitive: true,
            ...(isEphemeral ? { ephemeral: true } : {}),
            description: `Stand-in for ${r.address}.${attribute}: ${isEphemeral ? EPHEMERAL_REASON : `provider ${r.provider} is not in the plugin mirror`}`,
          };
          moduleArgs[variable] = value;
          phaseStandIns.set(r.address, [...(phaseStandIns.get(r.address) ?? []), { variable, attribute, value }]);
        }
        return `var.${variable}`;
      });
      // Whatever still names a removed block could not be rewired: say where, rather than let
      // Terraform report an undeclared resource with no hint why.
      for (const name of upstreamOf.keys()) {
        if (out.includes(`data.terraform_remote_state.${name}`))
          throw new GenerateError(`${where}: ${at} uses data.terraform_remote_state.${name} other than through .outputs.<name>; tf-check cannot wire it.`);
      }
      return out;
    }) as JsonObject;
    if (Object.keys(variables).length > 0) rewritten.variable = { ...(isObject(rewritten.variable) ? rewritten.variable : {}), ...variables };
    rewriteModuleSources(rewritten, stack.dir, path.join(dir, stack.name));

    for (const r of removed) {
      standIns.push({
        phase: stack.phase,
        address: r.address,
        provider: r.provider,
        inputs: phaseStandIns.get(r.address) ?? [],
        ...(ephemeral.includes(r) ? { reason: EPHEMERAL_REASON } : {}),
      });
    }
    rootModules[moduleName] = moduleArgs;
    files.set(path.join(stack.name, CHILD_FILE), rewritten);
    phases.push({ phase: stack.phase, stack: stack.name, module: moduleName, childDir: stack.name, resources: managedAddresses(rewritten) });
  }

  // A downstream that reads an output its upstream does not declare: Terraform says so at the module
  // call; this adds which resources read it.
  const problems = wires
    .filter((w) => !outputsOf.get(w.upstream)?.has(w.output))
    .map(
      (w) =>
        `${env}/${w.phase} (${stackName(stacks, w.phase)}): ${w.readBy.join(", ")} read(s) output "${w.output}" of ${w.upstream}, which that stack does not declare.`,
    );

  files.set(ROOT_FILE, {
    "//": `tf-check root for environment ${env}: each phase stack as a child module, wired as on a first apply into an empty account. Generated by scripts/tf-check.ts from the synthesized stacks; never apply it.`,
    terraform: { required_providers: rootRequired },
    ...(Object.keys(rootProviders).length > 0 ? { provider: rootProviders } : {}),
    module: rootModules,
  });
  return { env, dir, phases, standIns, wires, problems, files };
}

function stackName(stacks: readonly SynthStack[], phase: string): string {
  return stacks.find((s) => s.phase === phase)?.name ?? phase;
}

/** `resource.aws_subnet.sub.tags.arn` -> `aws_subnet.sub (tags.arn)`, as a reviewer names it. */
function readable(at: string): string {
  const parts = at.split(".");
  if (parts[0] === "resource" && parts.length >= 3) return `${parts[1]}.${parts[2]}${parts.length > 3 ? ` (${parts.slice(3).join(".")})` : ""}`;
  if (parts[0] === "data" && parts.length >= 3) return `data.${parts[1]}.${parts[2]}${parts.length > 3 ? ` (${parts.slice(3).join(".")})` : ""}`;
  if (parts[0] === "output" && parts.length >= 2) return `output ${parts[1]}`;
  return at;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export interface Removed {
  readonly address: string;
  readonly provider: string;
  readonly body: JsonObject;
}

/** Removes the resources and data sources of the given provider local names. */
export function removeResourcesOf(config: JsonObject, missing: ReadonlySet<string>): Removed[] {
  if (missing.size === 0) return [];
  const required = isObject(config.terraform) && isObject(config.terraform.required_providers) ? config.terraform.required_providers : {};
  return removeResources(config, (type, _name, body) => {
    // Terraform's rule: the `provider` meta-argument, else the type's prefix.
    const local = typeof body.provider === "string" ? body.provider.split(".")[0]! : type.split("_")[0]!;
    if (!missing.has(local)) return undefined;
    const req = required[local];
    return fullSource(isObject(req) && typeof req.source === "string" ? req.source : local);
  });
}

/**
 * Removes the resources and data sources for which `providerOf` names a provider (or why they go),
 * returning them; empty blocks go too.
 */
export function removeResources(config: JsonObject, providerOf: (type: string, name: string, body: JsonObject) => string | undefined): Removed[] {
  const removed: Removed[] = [];
  for (const [kind, prefix] of [
    ["resource", ""],
    ["data", "data."],
  ] as const) {
    const blocks = config[kind];
    if (!isObject(blocks)) continue;
    for (const [type, instances] of Object.entries(blocks)) {
      if (!isObject(instances)) continue;
      for (const [name, body] of Object.entries(instances)) {
        if (!isObject(body)) continue;
        const provider = providerOf(type, name, body);
        if (provider === undefined) continue;
        removed.push({ address: `${prefix}${type}.${name}`, provider, body });
        delete instances[name];
      }
      if (Object.keys(instances).length === 0) delete blocks[type];
    }
    if (Object.keys(blocks).length === 0) delete config[kind];
  }
  return removed;
}

/** Removes every ephemeral resource (`ephemeral.<type>.<name>`), returning them. */
export function removeEphemeral(config: JsonObject): Removed[] {
  const blocks = config.ephemeral;
  if (!isObject(blocks)) return [];
  const removed: Removed[] = [];
  for (const [type, instances] of Object.entries(blocks)) {
    if (!isObject(instances)) continue;
    for (const [name, body] of Object.entries(instances)) {
      if (isObject(body)) removed.push({ address: `ephemeral.${type}.${name}`, provider: fullSource(type.split("_")[0]!), body });
    }
  }
  delete config.ephemeral;
  return removed;
}

/**
 * A stand-in value: fixed per stack and attribute, lowercase hex so that it also fits where a name
 * or an id is expected; the integer resources get their lower bound so that they stay numbers.
 */
export function standInValue(removed: Removed, attribute: string, stack: string): string {
  if (/_integer$/.test(removed.address.split(".").slice(-2)[0] ?? "") && (attribute === "result" || attribute === "id")) {
    return String(typeof removed.body.min === "number" ? removed.body.min : 1);
  }
  return crypto.createHash("sha256").update(`${stack}/${removed.address}.${attribute}`).digest("hex").slice(0, 32);
}

/** The input that stands in for one attribute of a removed resource. */
export function standInVariable(removed: Removed, attribute: string): string {
  return `standin__${removed.address.replace(/\./g, "__")}__${attribute}`;
}

/**
 * Replaces each reference to an attribute of a removed resource in `text` (`random_password.db.result`,
 * also indexed) by what `replace` returns for it, given the stand-in value; a reference other than
 * through an attribute cannot be stood in for and fails, naming `where`.
 */
export function replaceStandIns(
  text: string,
  removed: readonly Removed[],
  stack: string,
  where: string,
  tool: string,
  replace: (removed: Removed, attribute: string, value: string) => string,
): string {
  let out = text;
  for (const r of removed) {
    const pattern = new RegExp(`${NOT_AFTER_IDENT}${escape(r.address)}(?:\\[[^\\]]*\\])?\\.(${IDENT})`, "g");
    out = out.replace(pattern, (_ref, attribute: string) => replace(r, attribute, standInValue(r, attribute, stack)));
  }
  for (const r of removed) {
    if (new RegExp(`${NOT_AFTER_IDENT}${escape(r.address)}(?![A-Za-z0-9_-])`).test(out)) {
      throw new GenerateError(
        `${where} uses ${r.address} (provider ${r.provider}, not in the plugin mirror) other than through an attribute; ${tool} cannot stand in for it.`,
      );
    }
  }
  return out;
}

export function dropDependsOn(value: Json, gone: readonly string[]): void {
  if (Array.isArray(value)) value.forEach((v) => dropDependsOn(v, gone));
  else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key === "depends_on" && Array.isArray(item))
        value[key] = item.filter((d) => typeof d !== "string" || !gone.some((g) => d === g || d.startsWith(`${g}.`) || d.startsWith(`${g}[`)));
      else if (key !== "//") dropDependsOn(item, gone);
    }
  }
}

/** Local module sources are relative to the stack folder; the copy lives elsewhere. */
export function rewriteModuleSources(config: JsonObject, stackDir: string, copyDir: string): void {
  if (!isObject(config.module)) return;
  for (const call of Object.values(config.module)) {
    if (!isObject(call) || typeof call.source !== "string" || !/^\.\.?\//.test(call.source)) continue;
    const rel = path.relative(copyDir, path.resolve(stackDir, call.source));
    call.source = rel.startsWith(".") ? rel : `./${rel}`;
  }
}

/** `type.name` of every managed resource in a configuration. */
export function managedAddresses(config: JsonObject): string[] {
  const resources = isObject(config.resource) ? config.resource : {};
  return Object.entries(resources).flatMap(([type, instances]) => (isObject(instances) ? Object.keys(instances).map((name) => `${type}.${name}`) : []));
}
