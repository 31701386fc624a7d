import { DefaultTokenResolver, StringConcat, TerraformElement, TerraformOutput, TerraformStack, Token, Tokenization } from "cdktf";
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

/** In every encoded token: string, list and map tokens (`${TfToken[...]}`, `#{...}`, `&{...}`). */
const TOKEN_MARK = "TfToken[";

/**
 * The value without its undefined object entries (a resource renders every attribute of its type, set
 * or not: four in ten). Only plain objects and arrays are copied. A token object, and an object with a
 * token among its keys (a map token, a key to resolve), are kept whole: the resolver decides what they
 * become, and raises its own errors for them.
 */
function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (value === null || typeof value !== "object" || Tokenization.isResolvable(value)) return value;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const entries = Object.entries(value);
  if (entries.some(([key]) => key.includes(TOKEN_MARK))) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of entries) if (v !== undefined) out[key] = withoutUndefined(v);
  return out;
}

/**
 * Whether a resolved value still holds a token. One pass resolves everything except what a token's
 * post-processor returns; cdktf's second pass over the merged stack resolves that, and renderStack does
 * the same whenever this finds one.
 */
function holdsToken(value: unknown): boolean {
  if (typeof value === "string") return value.includes(TOKEN_MARK);
  if (typeof value === "number") return Token.isUnresolved(value);
  if (value === null || typeof value !== "object") return false;
  if (Tokenization.isResolvable(value)) return true;
  return Object.entries(value).some(([key, v]) => key.includes(TOKEN_MARK) || holdsToken(v));
}

/**
 * The stack's Terraform JSON, as cdktf 0.21's `TerraformStack.toTerraform` renders it, with less work:
 * resolving tokens is most of a synth, and cdktf resolves each element's attributes, unset ones included,
 * then the whole merged stack once more. Here the unset attributes are dropped first (the resolver drops
 * them too), and after the merge only the top-level blocks that the stack's raw overrides touch are
 * resolved again (`terraform` here), unless a token is left after the first pass (then the whole stack
 * is, as cdktf does). Tests compare it with cdktf's own rendering for every stack of every environment
 * and for the token forms the stacks do not use.
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
  let again = false;
  for (const element of elements) {
    const fragment = resolve(stack, withoutUndefined(element.toTerraform()));
    again ||= holdsToken(fragment);
    deepMerge(tf, fragment);
  }
  // Merged as given (an undefined override deletes), then resolved where they landed.
  deepMerge(tf, internals.rawOverrides);
  if (again) return resolve(stack, tf);
  for (const block of Object.keys(internals.rawOverrides)) {
    const resolved = resolve(stack, tf[block]);
    if (resolved === undefined) delete tf[block];
    else tf[block] = resolved;
  }
  return tf;
}
/* eslint-enable @typescript-eslint/no-explicit-any */
