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
  const stack = m.stacks.find((s) => s.phase === phase);
  const remote = /^data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_-]+))?$/.exec(inner);
  if (remote && stack) {
    const upstreamName = remoteStateUpstreams(stack, m.stacks).get(remote[1]!);
    const upstream = m.stacks.find((s) => s.name === upstreamName);
    const outputs = upstream && isObject(upstream.config.output) ? upstream.config.output : {};
    const output = outputs[remote[2]!];
    let next = isObject(output) ? output.value : undefined;
    if (remote[3] !== undefined) next = isObject(next) ? next[remote[3]] : undefined;
    return upstream ? resolve(m, upstream.phase, next) : undefined;
  }
  const local = /^([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)/.exec(inner);
  if (!local) return undefined;
  const resource = m.resources.find((r) => r.phase === phase && r.type === local[1] && r.name === local[2]);
  return resource ? { resource, attribute: local[3]! } : undefined;
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
