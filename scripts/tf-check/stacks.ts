/**
 * Reads the synthesized output (manifest.json and each stack's cdk.tf.json) and groups the stacks by
 * environment. The only thing known about the project is the stack naming, `<project>-<env>-<phase>`;
 * the phases of an environment and their order come from the manifest's dependencies.
 */
import * as fs from "fs";
import * as path from "path";
import { Json, JsonObject, isObject } from "./json";

/** `accessweaver-<env>-<phase>`: the environment has no dash, the phase may. */
export const STACK_NAME = /^accessweaver-([a-z0-9]+)-([a-z0-9][a-z0-9_-]*)$/;

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
  const remaining = [...stacks];
  while (remaining.length > 0) {
    const index = remaining.findIndex((s) => upstreamNames(s).every((u) => placed.has(u) || !names.has(u)));
    // A cycle cannot come out of cdktf; keep going in manifest order rather than loop forever.
    const next = remaining.splice(index === -1 ? 0 : index, 1)[0]!;
    ordered.push(next);
    placed.add(next.name);
  }
  return ordered;
}

export const REMOTE_STATE_PREFIX = "cross-stack-reference-input-";

/** Stacks this one depends on: from the manifest and from its cross-stack remote state data sources. */
export function upstreamNames(stack: SynthStack): string[] {
  const data = stack.config.data;
  const remote = isObject(data) && isObject(data.terraform_remote_state) ? Object.keys(data.terraform_remote_state) : [];
  const fromRemote = remote.filter((n) => n.startsWith(REMOTE_STATE_PREFIX)).map((n) => n.slice(REMOTE_STATE_PREFIX.length));
  return [...new Set([...stack.dependencies, ...fromRemote])];
}
