import { DefaultTokenResolver, StringConcat, TerraformElement, TerraformOutput, TerraformStack, Tokenization } from "cdktf";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { deepMerge } = require("cdktf/lib/util") as { deepMerge(target: object, ...sources: unknown[]): object };

const RESOLVER = new DefaultTokenResolver(new StringConcat());

/* eslint-disable @typescript-eslint/no-explicit-any */
const resolve = (stack: TerraformStack, value: unknown): any => Tokenization.resolve(value, { scope: stack, preparing: false, resolver: RESOLVER });

/** The stack's elements, not those of a nested stack (cdktf's own walk, which it does not export). */
function elementsOf(node: { node: { children: readonly unknown[] } }, into: TerraformElement[] = []): TerraformElement[] {
  if (TerraformElement.isTerraformElement(node)) into.push(node);
  for (const child of node.node.children) {
    if (!TerraformStack.isStack(child)) elementsOf(child as { node: { children: readonly unknown[] } }, into);
  }
  return into;
}

/**
 * The value without its undefined object entries (a resource renders every attribute of its type, set
 * or not: four in ten). Only plain objects and arrays are copied; anything else (a token, a resolvable)
 * is kept as it is, for the resolver.
 */
function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (value === null || typeof value !== "object") return value;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = withoutUndefined(v);
  return out;
}

/**
 * The stack's Terraform JSON, as cdktf 0.21's `TerraformStack.toTerraform` renders it, with less work:
 * resolving tokens is most of a synth, and cdktf resolves each element's attributes, unset ones included,
 * then the whole merged stack once more. Here the unset attributes are dropped first (the resolver drops
 * them too), and after the merge only the top-level blocks that the stack's raw overrides touch are
 * resolved again (`terraform` here). The output is the same: a test compares it with cdktf's own
 * rendering for every stack of every environment.
 */
export function renderStack(stack: TerraformStack): any {
  const internals = stack as unknown as { cdktfVersion: string; rawOverrides: Record<string, unknown> };
  const metadata: Record<string, unknown> = {
    version: internals.cdktfVersion,
    stackName: stack.node.id,
    backend: "local", // the backend overwrites it through its own metadata
    cloud: undefined,
    ...(Object.keys(internals.rawOverrides).length > 0 ? { overrides: { stack: Object.keys(internals.rawOverrides) } } : {}),
  };
  const elements = elementsOf(stack);
  for (const element of elements) deepMerge(metadata, resolve(stack, element.toMetadata()));
  const outputs: Record<string, unknown> = {};
  for (const element of elements) {
    if (!TerraformOutput.isTerraformOutput(element)) continue;
    const nested = element.node.path
      .split("/")
      .reduceRight<Record<string, unknown>>((inner, part) => (Object.keys(inner).length === 0 ? { [part]: element.friendlyUniqueId } : { [part]: inner }), {});
    deepMerge(outputs, nested);
  }
  // Resolved like the rest (it drops the unset `cloud`); it is small.
  const tf: Record<string, unknown> = { "//": resolve(stack, { metadata, outputs }) };
  for (const element of elements) deepMerge(tf, resolve(stack, withoutUndefined(element.toTerraform())));
  // Merged as given (an undefined override deletes), then resolved where they landed.
  deepMerge(tf, internals.rawOverrides);
  for (const block of Object.keys(internals.rawOverrides)) {
    const resolved = resolve(stack, tf[block]);
    if (resolved === undefined) delete tf[block];
    else tf[block] = resolved;
  }
  return tf;
}
/* eslint-enable @typescript-eslint/no-explicit-any */
