/**
 * What the review tools read: the synthesized stacks of one environment (never the TypeScript), as a
 * flat list of resources with their phase, and a resolver for the references between them, including
 * a downstream phase's remote-state reads of an upstream phase's outputs.
 */
import * as fs from "fs";
import * as path from "path";
import { Json, JsonObject, isObject } from "../tf-check/json";
import { STACK_NAME, SynthStack, dependencyOrder, remoteStateUpstreams } from "../tf-check/stacks";

export interface Resource {
  readonly phase: string;
  readonly stack: string;
  readonly type: string;
  readonly name: string;
  /** The real state address, e.g. `aws_vpc.vpc_vpc`. */
  readonly address: string;
  readonly config: JsonObject;
}

export interface EnvModel {
  readonly env: string;
  readonly stacks: readonly SynthStack[];
  readonly resources: readonly Resource[];
}

/**
 * The environment's stacks from their folders in `<outdir>/stacks` (which only that environment's synth
 * writes; the shared manifest.json lists the last synth's environment only), upstream phases first.
 */
export function loadEnv(outdir: string, env: string): EnvModel {
  const root = path.join(outdir, "stacks");
  const stacks: SynthStack[] = [];
  for (const name of fs.existsSync(root) ? fs.readdirSync(root).sort() : []) {
    const match = STACK_NAME.exec(name);
    const file = path.join(root, name, "cdk.tf.json");
    if (!match || match[1] !== env || !fs.existsSync(file)) continue;
    stacks.push({ name, env, phase: match[2]!, dir: path.dirname(file), config: JSON.parse(fs.readFileSync(file, "utf8")) as JsonObject, dependencies: [] });
  }
  if (stacks.length === 0) throw new Error(`environment ${env} has no synthesized stacks in ${root}: run make synth ENV=${env} first.`);
  return modelOf(env, dependencyOrder(stacks));
}

export function modelOf(env: string, stacks: readonly SynthStack[]): EnvModel {
  const resources: Resource[] = [];
  for (const stack of stacks) {
    const blocks = isObject(stack.config.resource) ? stack.config.resource : {};
    for (const [type, byName] of Object.entries(blocks)) {
      if (!isObject(byName)) continue;
      for (const [name, config] of Object.entries(byName)) {
        if (isObject(config)) resources.push({ phase: stack.phase, stack: stack.name, type, name, address: `${type}.${name}`, config });
      }
    }
  }
  return { env, stacks, resources };
}

/** A nested block as cdktf writes it: an object, or a list of them. */
export const blocks = (v: Json | undefined): JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : isObject(v) ? [v] : []);

/** The bucket name of `arn:aws:s3:::name`, or the name itself. */
export const bucketName = (v: Json | undefined): string | undefined => (typeof v === "string" ? v.replace(/^arn:[^:]+:s3:::/, "") : undefined);

export const ofType = (m: EnvModel, ...types: string[]): Resource[] => m.resources.filter((r) => types.includes(r.type));

const REF = /^\$\{([^}]+)\}$/;

/**
 * Follows a reference written in `phase` to the resource it names: `${aws_x.y.attr}` in the same stack,
 * or `${data.terraform_remote_state.<p>.outputs.<o>[.key]}` through the upstream phase's output value.
 * Returns the resource and the attribute read, or undefined for a literal or an unknown reference.
 */
export function resolve(m: EnvModel, phase: string, value: Json | undefined): { resource: Resource; attribute: string } | undefined {
  if (typeof value !== "string") return undefined;
  const inner = REF.exec(value)?.[1];
  if (!inner) return undefined;
  const upstream = upstreamOutput(m, phase, inner);
  if (upstream) return upstream.phase === undefined ? undefined : resolve(m, upstream.phase, upstream.value);
  const local = /^([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)/.exec(inner);
  if (!local) return undefined;
  const resource = m.resources.find((r) => r.phase === phase && r.type === local[1] && r.name === local[2]);
  return resource ? { resource, attribute: local[3]! } : undefined;
}

/**
 * The value of the upstream output that `inner` (a reference without its `${}`) reads through a
 * remote state, and the phase that wrote it; undefined when `inner` is no remote-state read.
 */
function upstreamOutput(m: EnvModel, phase: string, inner: string): { phase: string | undefined; value: Json | undefined } | undefined {
  const stack = m.stacks.find((s) => s.phase === phase);
  const remote = /^data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_-]+))?$/.exec(inner);
  if (!remote || !stack) return undefined;
  const upstream = m.stacks.find((s) => s.name === remoteStateUpstreams(stack, m.stacks).get(remote[1]!));
  const outputs = upstream && isObject(upstream.config.output) ? upstream.config.output : {};
  const output = outputs[remote[2]!];
  let next = isObject(output) ? output.value : undefined;
  if (remote[3] !== undefined) next = isObject(next) ? next[remote[3]] : undefined;
  return { phase: upstream?.phase, value: next };
}

/**
 * The literal a value comes to, following remote-state reads to the upstream output that holds it
 * (`${data.terraform_remote_state.observability.outputs.audit_bucket_name}` to the bucket's name);
 * undefined when it ends at a resource's attribute (see `resolve`) or is unknown.
 */
export function literalOf(m: EnvModel, phase: string, value: Json | undefined): Json | undefined {
  if (typeof value !== "string") return value;
  const inner = REF.exec(value)?.[1];
  if (!inner) return value.includes("${") ? undefined : value;
  const upstream = upstreamOutput(m, phase, inner);
  return upstream?.phase === undefined ? undefined : literalOf(m, upstream.phase, upstream.value);
}

/** The region of a stack's AWS provider: the default one (no alias), or the one named `alias`. */
export function providerRegion(stack: SynthStack, alias?: string): string | undefined {
  const aws = isObject(stack.config.provider) ? stack.config.provider.aws : undefined;
  const providers = Array.isArray(aws) ? aws : aws === undefined ? [] : [aws];
  const found = providers.find((p) => isObject(p) && (alias === undefined ? p.alias === undefined : p.alias === alias));
  return isObject(found) && typeof found.region === "string" ? found.region : undefined;
}

/**
 * Where an AWS resource is made: the region of its `provider = "aws.<alias>"` (the network phase's DR
 * key, the recovery phase's settings on the primary's resources), else of its stack's default provider.
 */
export function regionOfResource(m: EnvModel, r: Resource): string | undefined {
  if (!r.type.startsWith("aws_")) return undefined;
  const stack = m.stacks.find((s) => s.name === r.stack);
  if (!stack) return undefined;
  const provider = typeof r.config.provider === "string" ? r.config.provider.replace(/^\$\{(.*)\}$/, "$1") : undefined;
  const alias = provider === undefined ? undefined : /^aws\.(.+)$/.exec(provider)?.[1];
  return provider !== undefined && alias === undefined ? undefined : providerRegion(stack, alias);
}

/** Length of a list value, following a remote-state list output upstream; undefined when unknown. */
export function listLength(m: EnvModel, phase: string, value: Json | undefined): number | undefined {
  if (Array.isArray(value)) return value.length;
  if (typeof value !== "string") return undefined;
  const remote = /^\$\{data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\}$/.exec(value);
  const stack = m.stacks.find((s) => s.phase === phase);
  if (!remote || !stack) return undefined;
  const upstream = m.stacks.find((s) => s.name === remoteStateUpstreams(stack, m.stacks).get(remote[1]!));
  const output = upstream && isObject(upstream.config.output) ? upstream.config.output[remote[2]!] : undefined;
  return upstream && isObject(output) ? listLength(m, upstream.phase, output.value) : undefined;
}

/** Number of availability zones of the environment: its subnets' distinct zones. */
export function zoneCount(m: EnvModel): number {
  return new Set(ofType(m, "aws_subnet").map((s) => String(s.config.availability_zone))).size;
}
