/**
 * The emulated copy of one phase stack: the synthesized `cdk.tf.json`, changed only where a run
 * against an AWS API emulator must differ from a real one.
 * - the S3 backend, and every `terraform_remote_state` read of an earlier phase, use the emulator's S3
 *   and DynamoDB (path-style, stand-in credentials, no credential or account lookups against AWS): the
 *   phases really read each other's state, as in a real deployment;
 * - every AWS provider block (aliases too) sends every service the stack uses to the emulator, with
 *   stand-in credentials and one retry (an API the emulator lacks fails at once);
 * - resources of a provider that the plugin mirror lacks (`random`), and resources of an API the
 *   emulator does not implement (the allow-list's stand-ins), are removed; each attribute read from
 *   them becomes a sensitive variable with a stand-in value, as in the rehearsal;
 * - hosted zone ids of the settings (zones made by hand) become the ids of zones made in the emulator.
 */
import {
  AWS_ACCOUNT_SETTINGS,
  GenerateError,
  Removed,
  dropDependsOn,
  removeResources,
  removeResourcesOf,
  replaceStandIns,
  rewriteModuleSources,
  standInVariable,
} from "../tf-check/generate";
import { Json, JsonObject, clone, isObject, mapStrings, objectAt } from "../tf-check/json";
import { Mirror, fullSource } from "../tf-check/mirror";
import { SynthStack } from "../tf-check/stacks";
import { EditRule, StandInRule } from "./allow-list";
import { ApiCall, jsonCall } from "./emulator";
import { ALWAYS, serviceOf } from "./endpoints";

export const COPY_FILE = "cdk.tf.json";

export interface Emulator {
  /** Base URL, e.g. http://127.0.0.1:4566. */
  readonly url: string;
  /** Stand-in credentials: the access key is the account id (LocalStack reads it so; moto is told). */
  readonly accessKey: string;
  readonly secretKey: string;
}

export interface StandInCopy {
  readonly address: string;
  /** Why: the provider is not in the mirror, or the allow-list entry's id. */
  readonly why: string;
  readonly attributes: readonly { readonly attribute: string; readonly value: Json }[];
  /** The plain call that still makes it in the emulator before the first apply (the rule's `created`). */
  readonly created?: { readonly call: ApiCall; readonly what: string };
}

export interface EmulatedStack {
  readonly phase: string;
  readonly stack: string;
  readonly config: JsonObject;
  /** Endpoint keys pointed at the emulator, sorted. */
  readonly services: readonly string[];
  readonly standIns: readonly StandInCopy[];
  /** Arguments changed in the copy: `address.attribute: before -> after (rule id)`. */
  readonly edits: readonly string[];
}

export interface CopyOptions {
  readonly emulator: Emulator;
  readonly mirror: Mirror | undefined;
  /** Resources the emulator cannot create, stood in for (allow-list entries with a stand-in). */
  readonly standInRules: readonly StandInRule[];
  /** Arguments the emulated copy sets differently (allow-list entries with a copy edit). */
  readonly editRules: readonly EditRule[];
  /** Hosted zone id of the settings -> id of the zone made in the emulator. */
  readonly zoneIds: ReadonlyMap<string, string>;
  /** Where the copy is written (module sources are relative to it). */
  readonly copyDir: string;
}

/** Backend and remote-state settings that reach the emulator instead of AWS. */
export function s3Settings(emulator: Emulator): JsonObject {
  return {
    endpoints: { s3: emulator.url, dynamodb: emulator.url, iam: emulator.url, sts: emulator.url },
    use_path_style: true,
    access_key: emulator.accessKey,
    secret_key: emulator.secretKey,
    skip_credentials_validation: true,
    skip_requesting_account_id: true,
    skip_metadata_api_check: true,
    skip_region_validation: true,
  };
}

/** Attempts of each emulator call (the SDK's max attempts): 3 rides over a dropped connection. */
export const EMULATOR_MAX_RETRIES = 3;

/** Provider settings that reach the emulator: every endpoint the stack uses, no AWS lookups. */
export function providerSettings(emulator: Emulator, services: readonly string[]): JsonObject {
  return {
    access_key: emulator.accessKey,
    secret_key: emulator.secretKey,
    skip_credentials_validation: true,
    skip_metadata_api_check: true,
    skip_region_validation: true,
    s3_use_path_style: true,
    // An API the emulator lacks answers 500 or 501: fail after a few tries rather than back off for
    // minutes; more than one, because a busy emulator sometimes drops a connection mid-answer.
    max_retries: EMULATOR_MAX_RETRIES,
    endpoints: [Object.fromEntries(services.map((s) => [s, emulator.url]))],
  };
}

/** Endpoint keys a configuration needs; a type the endpoint table lacks is refused. */
export function servicesOf(config: JsonObject, where: string): string[] {
  const services = new Set<string>(ALWAYS);
  // Ephemeral resources call AWS too (at plan and apply time): ephemeral.aws_secretsmanager_random_password.
  for (const kind of ["resource", "data", "ephemeral"] as const) {
    const blocks = config[kind];
    if (!isObject(blocks)) continue;
    for (const type of Object.keys(blocks)) {
      if (!type.startsWith("aws_") || type === "aws_iam_policy_document") continue;
      const service = serviceOf(type);
      if (!service)
        throw new GenerateError(
          `${where}: ${kind} type ${type} calls an AWS API that scripts/emulate/endpoints.ts does not map to an endpoint; add its prefix there, or it would call real AWS.`,
        );
      services.add(service);
    }
  }
  return [...services].sort();
}

/** The emulated copy of one synthesized stack (nothing is written). */
export function emulatedCopy(stack: SynthStack, options: CopyOptions): EmulatedStack {
  const where = `${stack.env}/${stack.phase} (${stack.name})`;
  const config = clone(stack.config);
  const terraform = objectAt(config, "terraform");
  const { emulator } = options;

  // Backend: the emulator's S3 and DynamoDB, same bucket, key and lock table.
  const backend = isObject(terraform.backend) ? terraform.backend : {};
  if (!isObject(backend.s3))
    throw new GenerateError(
      `${where}: no S3 backend in the synthesized stack (found ${JSON.stringify(Object.keys(backend))}); make emulate applies each phase with its own S3 state, as a deployment does.`,
    );
  Object.assign(backend.s3, s3Settings(emulator));
  delete terraform.cloud;

  // Remote state reads of earlier phases: the same bucket and key, in the emulator.
  const data = isObject(config.data) ? config.data : {};
  if (isObject(data.terraform_remote_state)) {
    for (const [name, block] of Object.entries(data.terraform_remote_state)) {
      if (!isObject(block) || block.backend !== "s3" || !isObject(block.config)) {
        throw new GenerateError(
          `${where}: data.terraform_remote_state.${name} does not read an S3 state; make emulate can point only S3 reads at the emulator.`,
        );
      }
      Object.assign(block.config, s3Settings(emulator));
    }
  }

  // Providers the mirror lacks, and resources of APIs the emulator lacks: removed, read as stand-ins.
  const required = objectAt(terraform, "required_providers");
  const sourceOf = (local: string): string => {
    const req = required[local];
    return fullSource(isObject(req) && typeof req.source === "string" ? req.source : local);
  };
  const missing = new Set(Object.keys(required).filter((local) => options.mirror !== undefined && !options.mirror.providers.has(sourceOf(local))));
  const removed: (Removed & { why: string })[] = removeResourcesOf(config, missing).map((r) => ({
    ...r,
    why: `provider ${r.provider} is not in the plugin mirror`,
  }));
  const ruleOf = new Map<string, StandInRule>();
  removed.push(
    ...removeResources(config, (type, name) => {
      const rule = options.standInRules.find((r) => r.type === type && (r.address === undefined || r.address.test(`${type}.${name}`)));
      if (!rule) return undefined;
      ruleOf.set(`${type}.${name}`, rule);
      return `the emulator (allow-list: ${rule.id})`;
    }).map((r) => ({ ...r, why: `allow-list ${ruleOf.get(r.address)!.id}` })),
  );
  for (const local of missing) delete required[local];
  if (isObject(config.provider)) for (const local of missing) delete config.provider[local];

  // Arguments the emulator refuses though AWS accepts them.
  const edits: string[] = [];
  const resources = isObject(config.resource) ? config.resource : {};
  for (const rule of options.editRules) {
    const instances = resources[rule.type];
    if (!isObject(instances)) continue;
    for (const [name, body] of Object.entries(instances)) {
      if (!isObject(body) || body[rule.attribute] === undefined) continue;
      const edited = rule.edit(body[rule.attribute]!);
      if (JSON.stringify(edited) === JSON.stringify(body[rule.attribute])) continue;
      const shown = (v: Json | undefined) =>
        v === undefined ? "(left out)" : JSON.stringify(v).length > 80 ? `${JSON.stringify(v).slice(0, 77)}...` : JSON.stringify(v);
      edits.push(`${rule.type}.${name}.${rule.attribute}: ${shown(body[rule.attribute])} -> ${shown(edited)} (${rule.id})`);
      if (edited === undefined) delete body[rule.attribute];
      else body[rule.attribute] = edited;
    }
  }

  // Every AWS provider block: the emulator for each service the stack uses.
  const services = servicesOf(config, where);
  const providers = isObject(config.provider) ? config.provider : {};
  for (const [local, value] of Object.entries(providers)) {
    if (!sourceOf(local).endsWith("/hashicorp/aws")) continue;
    const blocks = (Array.isArray(value) ? value : [value]).filter(isObject);
    for (const block of blocks) {
      // The account lock stays: the emulator answers with the settings' account (see emulator.ts).
      for (const key of AWS_ACCOUNT_SETTINGS) if (key !== "allowed_account_ids") delete block[key];
      Object.assign(block, providerSettings(emulator, services));
    }
  }

  // Attribute reads of removed resources become sensitive variables with stand-in values.
  dropDependsOn(
    config,
    removed.map((r) => r.address),
  );
  const variables: JsonObject = {};
  const standIns = new Map<string, { attribute: string; value: Json }[]>(removed.map((r) => [r.address, []]));
  const rewritten = mapStrings(config, (text, at) => {
    let out = replaceStandIns(text, removed, stack.name, `${where}: ${at}`, "make emulate", (r, attribute, hashed) => {
      // An argument that is itself a template of other resources' attributes (a scalable target's
      // `service/${cluster}/${service}`) is read as that template, so the reader keeps its ordering.
      const template = ruleOf.has(r.address) && ruleOf.get(r.address)!.values?.[attribute] === undefined ? r.body[attribute] : undefined;
      if (typeof template === "string" && template.includes("${")) {
        if (!standIns.get(r.address)!.some((a) => a.attribute === attribute)) standIns.get(r.address)!.push({ attribute, value: template });
        return `"${template.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
      }
      const variable = standInVariable(r, attribute);
      if (!variables[variable]) {
        const rule = ruleOf.get(r.address);
        // A random result is secret; a stand-in for an emulator gap is not (outputs and for_each read it).
        const value = rule ? standInAttribute(rule, r.body, attribute, hashed) : hashed;
        variables[variable] = {
          type: typeof value === "string" ? "string" : "any",
          ...(rule ? {} : { sensitive: true }),
          default: value,
          description: `Stand-in for ${r.address}.${attribute}: ${(r as Removed & { why: string }).why}`,
        };
        standIns.get(r.address)!.push({ attribute, value });
      }
      return `var.${variable}`;
    });
    for (const [own, emulated] of options.zoneIds) out = out.split(own).join(emulated);
    return out;
  }) as JsonObject;
  if (Object.keys(variables).length > 0) rewritten.variable = { ...(isObject(rewritten.variable) ? rewritten.variable : {}), ...variables };
  rewriteModuleSources(rewritten, stack.dir, options.copyDir);
  return {
    phase: stack.phase,
    stack: stack.name,
    config: rewritten,
    services,
    standIns: removed.map((r) => {
      const request = ruleOf.get(r.address)?.created?.(r.body);
      const created = request
        ? { call: jsonCall(request, regionOf(stack.config, r.body, where), emulator.accessKey), what: request.target.split(".").pop()! }
        : undefined;
      return { address: r.address, why: r.why, attributes: standIns.get(r.address) ?? [], ...(created ? { created } : {}) };
    }),
    edits,
  };
}

/** The region of the AWS provider block a resource uses (its `provider` alias, else the default block). */
export function regionOf(config: JsonObject, body: JsonObject, where: string): string {
  const providers = isObject(config.provider) ? config.provider : {};
  const blocks = (Array.isArray(providers.aws) ? providers.aws : [providers.aws]).filter(isObject);
  const alias = typeof body.provider === "string" && body.provider.includes(".") ? body.provider.split(".")[1] : undefined;
  const block = blocks.find((b) => (alias === undefined ? b.alias === undefined : b.alias === alias));
  if (!block || typeof block.region !== "string" || block.region.includes("${"))
    throw new GenerateError(
      `${where}: no literal region for the AWS provider ${alias ? `aws.${alias}` : "aws"}: a stood-in resource cannot be made in the emulator.`,
    );
  return block.region;
}

/**
 * What a resource the emulator cannot create stands in with: the rule's value for the attribute, else
 * the argument of the same name when the stack sets it as a literal, else the hashed stand-in value.
 */
function standInAttribute(rule: StandInRule, args: JsonObject, attribute: string, hashed: string): Json {
  const own = rule.values?.[attribute]?.(args);
  if (own !== undefined) return own;
  const literal = args[attribute];
  if (typeof literal === "number" || typeof literal === "boolean") return literal;
  return typeof literal === "string" && !literal.includes("${") ? literal : hashed;
}

/** Hosted zones a stack's resources name by a literal id (made by hand before a deployment), with a name for each. */
export function hostedZonesOf(stacks: readonly SynthStack[]): Map<string, string> {
  const names = new Map<string, string[]>();
  for (const stack of stacks) {
    const resources = isObject(stack.config.resource) ? stack.config.resource : {};
    for (const [type, instances] of Object.entries(resources)) {
      if (type === "aws_route53_zone" || !isObject(instances)) continue;
      for (const body of Object.values(instances)) {
        if (!isObject(body)) continue;
        for (const key of ["zone_id", "hosted_zone_id"]) {
          const id = body[key];
          if (typeof id !== "string" || id.includes("${")) continue;
          const list = names.get(id) ?? [];
          if (typeof body.name === "string" && !body.name.includes("${")) list.push(body.name.replace(/\.$/, ""));
          names.set(id, list);
        }
      }
    }
  }
  // The shortest record name stands for the zone (the emulator does not check that records fall inside it).
  return new Map(
    [...names].map(([id, list]) => [id, [...list].sort((a, b) => a.length - b.length || a.localeCompare(b))[0] ?? `${id.toLowerCase()}.emulated.test`]),
  );
}
