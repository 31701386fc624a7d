/**
 * Reads the synthesized output (manifest.json and each stack's cdk.tf.json) and groups the stacks by
 * environment. The only thing known about the project is the stack naming, `<project>-<env>-<phase>`
 * (the project from src/naming.ts); the phases of an environment and their order come from the
 * manifest's dependencies and from the remote states each stack reads.
 */
import * as fs from "fs";
import * as path from "path";
import { PHASES, PROJECT } from "../../src/naming";
import { Json, JsonObject, isObject } from "./json";

/** `<project>-<env>-<phase>`: the environment has no dash, the phase may. */
export const STACK_NAME = new RegExp(`^${PROJECT}-([a-z0-9]+)-([a-z0-9][a-z0-9_-]*)$`);

export interface SynthStack {
  readonly name: string;
  readonly env: string;
  readonly phase: string;
  /** Absolute path of the stack's working directory (where cdk.tf.json is). */
  readonly dir: string;
  readonly config: JsonObject;
  /** Names of the stacks this one depends on, from the manifest. */
  readonly dependencies: readonly string[];
}

export interface SynthOutput {
  readonly outdir: string;
  /** Stacks by environment, each list in dependency order. */
  readonly environments: ReadonlyMap<string, readonly SynthStack[]>;
  /** Manifest stacks that do not follow the naming and are therefore not checked. */
  readonly ignored: readonly string[];
}

export class UsageError extends Error {}

export function readSynthOutput(outdir: string): SynthOutput {
  const manifestPath = path.join(outdir, "manifest.json");
  if (!fs.existsSync(manifestPath)) throw new UsageError(`${manifestPath} not found: synthesize first (make synth).`);
  const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as Json;
  const entries = isObject(manifest) && isObject(manifest.stacks) ? manifest.stacks : {};

  const byEnv = new Map<string, SynthStack[]>();
  const ignored: string[] = [];
  for (const [name, entry] of Object.entries(entries)) {
    const match = STACK_NAME.exec(name);
    if (!match || !isObject(entry)) {
      ignored.push(name);
      continue;
    }
    const rel = typeof entry.synthesizedStackPath === "string" ? entry.synthesizedStackPath : `stacks/${name}/cdk.tf.json`;
    const file = path.resolve(outdir, rel);
    if (!fs.existsSync(file)) throw new UsageError(`${file} (stack ${name} in the manifest) not found: synthesize again (make synth).`);
    const config = JSON.parse(fs.readFileSync(file, "utf8")) as Json;
    if (!isObject(config)) throw new UsageError(`${file} is not a Terraform JSON configuration`);
    const dependencies = Array.isArray(entry.dependencies) ? entry.dependencies.filter((d): d is string => typeof d === "string") : [];
    const stack: SynthStack = { name, env: match[1]!, phase: match[2]!, dir: path.dirname(file), config, dependencies };
    byEnv.set(stack.env, [...(byEnv.get(stack.env) ?? []), stack]);
  }

  const environments = new Map<string, readonly SynthStack[]>();
  for (const [env, stacks] of byEnv) environments.set(env, dependencyOrder(stacks));
  return { outdir: path.resolve(outdir), environments, ignored };
}

/**
 * Upstream phases first (a stable topological sort on the manifest's dependencies and on the stacks
 * each one reads through remote state), so output and summaries follow the apply order.
 */
export function dependencyOrder(stacks: readonly SynthStack[]): SynthStack[] {
  const names = new Set(stacks.map((s) => s.name));
  const ordered: SynthStack[] = [];
  const placed = new Set<string>();
  // Phase order where the dependencies leave a choice (cache and database both follow the network only).
  const rank = (s: SynthStack) => ((PHASES as readonly string[]).includes(s.phase) ? PHASES.indexOf(s.phase as (typeof PHASES)[number]) : PHASES.length);
  const remaining = [...stacks].sort((a, b) => rank(a) - rank(b));
  while (remaining.length > 0) {
    const index = remaining.findIndex((s) => upstreamNames(s, stacks).every((u) => placed.has(u) || !names.has(u)));
    // A cycle cannot come out of cdktf; keep going in manifest order rather than loop forever.
    const next = remaining.splice(index === -1 ? 0 : index, 1)[0]!;
    ordered.push(next);
    placed.add(next.name);
  }
  return ordered;
}

export const REMOTE_STATE_PREFIX = "cross-stack-reference-input-";

/** The S3 state a stack's backend writes, `<bucket>/<key>`, or undefined without an S3 backend. */
function stateLocation(config: JsonObject): string | undefined {
  const terraform = isObject(config.terraform) ? config.terraform : {};
  const backend = isObject(terraform.backend) && isObject(terraform.backend.s3) ? terraform.backend.s3 : undefined;
  return backend && typeof backend.bucket === "string" && typeof backend.key === "string" ? `${backend.bucket}/${backend.key}` : undefined;
}

/**
 * The upstream stack of each `terraform_remote_state` a stack reads, by data source name: cdktf's own
 * cross-stack reads name the stack; the project's explicit ones (`data.terraform_remote_state.network`)
 * read an S3 state, matched to the stack whose backend writes that bucket and key. An explicit read
 * of a state no stack of `stacks` writes maps to undefined.
 */
export function remoteStateUpstreams(stack: SynthStack, stacks: readonly SynthStack[]): Map<string, string | undefined> {
  const data = stack.config.data;
  const remote = isObject(data) && isObject(data.terraform_remote_state) ? data.terraform_remote_state : {};
  const writers = new Map(stacks.flatMap((s) => [[stateLocation(s.config), s.name] as const]).filter(([at]) => at !== undefined));
  const out = new Map<string, string | undefined>();
  for (const [name, block] of Object.entries(remote)) {
    if (name.startsWith(REMOTE_STATE_PREFIX)) {
      out.set(name, name.slice(REMOTE_STATE_PREFIX.length));
      continue;
    }
    const config = isObject(block) && block.backend === "s3" && isObject(block.config) ? block.config : undefined;
    const at = config && typeof config.bucket === "string" && typeof config.key === "string" ? `${config.bucket}/${config.key}` : undefined;
    out.set(name, at === undefined ? undefined : writers.get(at));
  }
  return out;
}

/** Stacks this one depends on: from the manifest and from the remote states it reads. */
export function upstreamNames(stack: SynthStack, stacks: readonly SynthStack[] = []): string[] {
  const fromRemote = [...remoteStateUpstreams(stack, stacks).values()].filter((n): n is string => n !== undefined);
  return [...new Set([...stack.dependencies, ...fromRemote])];
}
