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

/** cdktf's pattern for a number token inside a string (tokens/private/encoding.js, NUMBER_TOKEN_REGEX). */
const NUMBER_TOKEN_LIKE = /[-|\d|.+]+(e[-|\d|.|e|E|+]+)/;

/** A number that encodes a token or a list token (cdktf's number encodings). */
const numberToken = (value: number): boolean => Token.isUnresolved(value) || Token.isUnresolved([value]);

/**
 * A value that cdktf's resolver returns as it is: a boolean, null, a number that is not an encoded token,
 * a string with no token marker and nothing the resolver decodes (a number token) or refuses (the map
 * tokens' placeholders).
 */
function plainScalar(value: unknown): boolean {
  if (typeof value === "string") {
    return !value.includes(TOKEN_MARK) && !NUMBER_TOKEN_LIKE.test(value) && value !== Token.STRING_MAP_TOKEN_VALUE && value !== Token.ANY_MAP_TOKEN_VALUE;
  }
  if (typeof value === "number") return value !== Token.NUMBER_MAP_TOKEN_VALUE && !numberToken(value);
  return typeof value === "boolean" || value === null;
}

/**
 * Whether a resolved value still holds a token. One pass of the resolver resolves everything except what
 * a token's post-processor returns; cdktf's second pass over the merged stack resolves that, and
 * renderStack does the same whenever this finds one.
 */
function holdsToken(value: unknown): boolean {
  if (typeof value === "string") return value.includes(TOKEN_MARK);
  if (typeof value === "number") return numberToken(value);
  if (value === null || typeof value !== "object") return false;
  if (Tokenization.isResolvable(value)) return true;
  return Object.entries(value).some(([key, v]) => key.includes(TOKEN_MARK) || holdsToken(v));
}

/**
 * Resolves element fragments as cdktf's resolver does, without calling it on what it would return as it
 * is: a resource renders every attribute of its type, set or not (four in ten are unset), and most set
 * ones are plain strings, numbers and booleans, where the resolver's per-value work is most of a synth.
 * Plain objects and arrays are walked here (unset entries dropped, as the resolver does); everything else
 * goes to the resolver whole: a token object, an object with a token among its keys, an array holding a
 * token element (a list token), any value that is not plainScalar, and anything that is not plain data.
 * `leftover` tells whether the resolver left a token in what it returned.
 */
class FragmentResolver {
  leftover = false;

  constructor(private readonly stack: TerraformStack) {}

  resolve(value: unknown): unknown {
    if (value === undefined || plainScalar(value)) return value;
    if (Array.isArray(value)) {
      if (value.some((v) => (typeof v === "string" || typeof v === "number") && !plainScalar(v))) return this.delegate(value);
      return value.map((v) => this.resolve(v)).filter((v) => v !== undefined);
    }
    if (value === null || typeof value !== "object" || Tokenization.isResolvable(value)) return this.delegate(value);
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return this.delegate(value);
    const entries = Object.entries(value);
    if (!entries.every(([key]) => plainScalar(key))) return this.delegate(value);
    const out: Record<string, unknown> = {};
    for (const [key, v] of entries) {
      const resolved = this.resolve(v);
      if (resolved !== undefined) out[key] = resolved;
    }
    return out;
  }

  private delegate(value: unknown): unknown {
    const resolved = resolve(this.stack, value);
    this.leftover ||= holdsToken(resolved);
    return resolved;
  }
}

/**
 * The stack's Terraform JSON, as cdktf 0.21's `TerraformStack.toTerraform` renders it, with less work:
 * resolving tokens is most of a synth, and cdktf resolves each element's attributes value by value, unset
 * ones included, then the whole merged stack once more. Here the resolver only sees the values that are
 * not plain data (FragmentResolver), and after the merge only the top-level blocks that the stack's raw
 * overrides touch are resolved again (`terraform` here), unless a token is left after the first pass
 * (then the whole stack is, as cdktf does). Tests compare it with cdktf's own rendering for every stack
 * of every environment and for the token forms the stacks do not use.
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
  const fragments = new FragmentResolver(stack);
  for (const element of elements) deepMerge(tf, fragments.resolve(element.toTerraform()) as object);
  // Merged as given (an undefined override deletes), then resolved where they landed.
  deepMerge(tf, internals.rawOverrides);
  if (fragments.leftover) return resolve(stack, tf);
  for (const block of Object.keys(internals.rawOverrides)) {
    const resolved = resolve(stack, tf[block]);
    if (resolved === undefined) delete tf[block];
    else tf[block] = resolved;
  }
  return tf;
}
/* eslint-enable @typescript-eslint/no-explicit-any */
