import * as fs from "fs";
import * as path from "path";
import { EnvironmentName, PROJECT } from "./naming";

/** The HCL rendering of a stack, beside its cdk.tf.json. */
export const HCL_FILE = "cdk.hcl";

/**
 * Moves a finished synth (`scratch`: `stacks/<stack>/...` and `manifest.json`) into the output folder.
 * Files that Terraform keeps beside a stack (`.terraform/`, lock files) survive; a stack of a
 * synthesized environment that no longer exists is removed; other environments' stacks stay.
 */
export function publish(scratch: string, outdir: string, envs: readonly EnvironmentName[]): void {
  const fresh = path.join(scratch, "stacks");
  const target = path.join(outdir, "stacks");
  fs.mkdirSync(target, { recursive: true });
  const names = fs.readdirSync(fresh);
  for (const name of names) {
    const dest = path.join(target, name);
    fs.mkdirSync(dest, { recursive: true });
    // An HCL rendering from an earlier synth would no longer match the JSON.
    fs.rmSync(path.join(dest, HCL_FILE), { force: true });
    for (const file of fs.readdirSync(path.join(fresh, name))) {
      fs.rmSync(path.join(dest, file), { recursive: true, force: true });
      fs.renameSync(path.join(fresh, name, file), path.join(dest, file));
    }
  }
  // A stack of a synthesized environment that no longer exists must not linger where someone could
  // init and apply it; other environments' stacks (and their .terraform) stay as they were.
  const prefixes = envs.map((env) => `${PROJECT}-${env}-`);
  for (const stale of fs.readdirSync(target)) {
    if (prefixes.some((p) => stale.startsWith(p)) && !names.includes(stale)) fs.rmSync(path.join(target, stale), { recursive: true, force: true });
  }
  fs.renameSync(path.join(scratch, "manifest.json"), path.join(outdir, "manifest.json"));
}

/**
 * The HCL rendering of a stack (`cdk.hcl`), written from its `cdk.tf.json` so that it says exactly
 * what the JSON says. cdktf 0.21's own rendering (`toHclTerraform()`) leaves every string holding an
 * interpolation unescaped (a JSON document with a reference in it is broken HCL), turns strings that
 * start with `{` or `[` into expressions and strings of digits into numbers, and writes the terraform
 * block's settings as `<index> = "<name>"`. HCL needs one thing the JSON does not say: whether an
 * object is a nested block (`x { }`) or an attribute (`x = { }`). That comes from the provider schema
 * that cdktf's bindings carry (`blocks`, collected in src/synth.ts from each element's HCL fragment).
 */
export type BlockSchema = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * In a BlockSchema, `<path>/**` marks an attribute that the bindings leave untyped (`any`) while the
 * provider's schema holds blocks there (the WAF rule statements): it and every object below it is a block.
 */
export const UNTYPED_BLOCKS = "**";

/** One piece of a Terraform string template: literal text (as written, escapes included), `${...}` or `%{...}`. */
export type TemplatePart = { readonly kind: "literal" | "interpolation" | "directive"; readonly text: string };

/**
 * Splits a Terraform string (JSON syntax: the string is a template) into literal text and the source
 * of its `${...}`/`%{...}` sequences, following quotes and braces inside them (`${jsonencode({a = "}"})}`
 * is one interpolation). `$${` and `%%{` stay literal text, as written.
 */
export function templateParts(s: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = "";
  let i = 0;
  while (i < s.length) {
    if (s.startsWith("$${", i) || s.startsWith("%%{", i)) {
      literal += s.slice(i, i + 3);
      i += 3;
    } else if (s.startsWith("${", i) || s.startsWith("%{", i)) {
      const end = expressionEnd(s, i + 2);
      if (literal) parts.push({ kind: "literal", text: literal });
      literal = "";
      parts.push({ kind: s[i] === "$" ? "interpolation" : "directive", text: s.slice(i + 2, end) });
      i = end + 1;
    } else {
      literal += s[i];
      i += 1;
    }
  }
  if (literal) parts.push({ kind: "literal", text: literal });
  return parts;
}

/** Index of the `}` that closes the template sequence whose expression starts at `start`. */
function expressionEnd(s: string, start: number): number {
  let depth = 0;
  for (let j = start; j < s.length; j++) {
    const c = s[j];
    if (c === '"') j = quotedEnd(s, j + 1) - 1;
    else if (c === "{") depth += 1;
    else if (c === "}") {
      if (depth === 0) return j;
      depth -= 1;
    }
  }
  throw new Error(`unterminated template sequence in ${JSON.stringify(s)}: expected a closing "}"`);
}

/** Index just after the `"` that closes the quoted template whose text starts at `start`. */
function quotedEnd(s: string, start: number): number {
  let j = start;
  while (j < s.length) {
    if (s[j] === "\\") j += 2;
    else if (s[j] === '"') return j + 1;
    else if (s.startsWith("$${", j) || s.startsWith("%%{", j)) j += 3;
    else if (s.startsWith("${", j) || s.startsWith("%{", j)) j = expressionEnd(s, j + 2) + 1;
    else j += 1;
  }
  throw new Error(`unterminated quoted string in ${JSON.stringify(s)}: expected a closing quote`);
}

/** The expression of a string that is one `${...}` and nothing else (`terraform fmt` unwraps those), or undefined. */
function soleInterpolation(s: string): string | undefined {
  const parts = templateParts(s);
  const only = parts.length === 1 ? parts[0] : undefined;
  if (!only || only.kind !== "interpolation" || /^\s*~|~\s*$/.test(only.text)) return undefined;
  const inner = only.text.trim();
  // As terraform fmt does: a multi-line expression keeps parentheses so that it still parses.
  return inner.includes("\n") && !(inner.startsWith("(") && inner.endsWith(")")) ? `(${inner})` : inner;
}

const HCL_KEYWORDS = new Set(["true", "false", "null", "for", "in", "if", "endif", "else", "endfor"]);

/** An object key: bare when it is an identifier, else a quoted template. */
function hclKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) && !HCL_KEYWORDS.has(key) ? key : quotedTemplate(key);
}

/** Literal template text as it goes between quotes: the template escapes (`$${`, `%%{`) stay. */
function escapeLiteral(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what HCL strings must escape
  return text.replace(/[\\"\u0000-\u001f]/g, (c) => {
    if (c === "\\") return "\\\\";
    if (c === '"') return '\\"';
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

function quotedTemplate(s: string): string {
  return `"${templateParts(s)
    .map((p) => (p.kind === "literal" ? escapeLiteral(p.text) : `${p.kind === "interpolation" ? "$" : "%"}{${p.text}}`))
    .join("")}"`;
}

/** A JSON document held in a string (`{...}` or `[...]`), parsed; undefined for any other string. */
function jsonDocument(s: string): object | undefined {
  const t = s.trim();
  if (!(t.startsWith("{") || t.startsWith("["))) return undefined;
  try {
    const parsed = JSON.parse(t) as unknown;
    return parsed !== null && typeof parsed === "object" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A string value as HCL: a sole interpolation as its bare expression; a JSON document as
 * `jsonencode(<HCL value>)` (`documents`: only where the JSON says a string, not inside one); a
 * multi-line text that ends with a newline as a heredoc; anything else as a quoted template.
 */
function stringExpression(s: string, indent: string, documents: boolean): string {
  const sole = soleInterpolation(s);
  if (sole !== undefined) return sole;
  const document = documents ? jsonDocument(s) : undefined;
  if (document !== undefined) return `jsonencode(${expression(document, indent, false)})`;
  const lines = s.split("\n");
  if (lines.length > 2 && s.endsWith("\n") && !/\r/.test(s)) {
    let marker = "EOT";
    while (lines.includes(marker)) marker += "_";
    return `<<${marker}\n${s}${marker}`;
  }
  return quotedTemplate(s);
}

/** A JSON value as an HCL expression. */
function expression(value: unknown, indent: string, documents = true): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return stringExpression(value, indent, documents);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => `${inner}${expression(v, inner, documents)},`).join("\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, v]) => `${inner}${hclKey(k)} = ${expression(v, inner, documents)}`).join("\n")}\n${indent}}`;
}

/** A reference written as a string in JSON (`depends_on`, `provider`, `ignore_changes`, ...): bare in HCL. */
function reference(value: unknown, indent: string): string {
  if (Array.isArray(value)) return value.length === 0 ? "[]" : `[\n${value.map((v) => `${indent}  ${reference(v, `${indent}  `)},`).join("\n")}\n${indent}]`;
  if (typeof value === "string") return soleInterpolation(value) ?? value;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{\n${entries.map(([k, v]) => `${indent}  ${hclKey(k)} = ${reference(v, `${indent}  `)}`).join("\n")}\n${indent}}`;
  }
  return expression(value, indent);
}

/** An object, or a non-empty list of objects: what a block (or repeated block) looks like in JSON. */
function blockValue(value: unknown): boolean {
  const isObject = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
  return isObject(value) || (Array.isArray(value) && value.length > 0 && value.every(isObject));
}

/** What a body may hold besides plain attributes: its nested blocks, and the attributes that hold references. */
interface BodyKind {
  /** Nested block names at this level (with the JSON value) → the kind of their bodies. */
  readonly blocks: (name: string, value?: unknown) => BodyKind | undefined;
  readonly references: ReadonlySet<string>;
}

const PLAIN: BodyKind = { blocks: () => undefined, references: new Set() };
const CONDITIONS: BodyKind = { blocks: () => undefined, references: new Set() };
const LIFECYCLE: BodyKind = {
  blocks: (name) => (name === "precondition" || name === "postcondition" ? CONDITIONS : undefined),
  references: new Set(["ignore_changes", "replace_triggered_by"]),
};

/** The body of a resource, data source or provider of one type: blocks from the schema, `path` inside it. */
function schemaBody(schema: ReadonlySet<string> | undefined, path: string, meta: boolean, untyped = false): BodyKind {
  return {
    blocks: (name, value) => {
      if (meta && name === "lifecycle") return LIFECYCLE;
      if (meta && name === "connection") return PLAIN;
      const inner = path ? `${path}/${name}` : name;
      if (untyped || schema?.has(`${inner}/${UNTYPED_BLOCKS}`)) return blockValue(value) ? schemaBody(schema, inner, false, true) : undefined;
      return schema?.has(inner) ? schemaBody(schema, inner, false) : undefined;
    },
    references: meta ? new Set(["depends_on", "provider"]) : new Set(),
  };
}

function body(values: Record<string, unknown>, kind: BodyKind, indent: string, where: string): string[] {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (name === "//" || value === undefined) continue;
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) throw new Error(`${where}: "${name}" is not an HCL attribute or block name`);
    const nested = kind.blocks(name, value);
    if (name === "dynamic" && value !== null && typeof value === "object") {
      for (const [label, spec] of Object.entries(value as Record<string, Record<string, unknown>>)) {
        const content = kind.blocks(label) ?? PLAIN;
        const { content: inner, ...args } = spec;
        lines.push(`${indent}dynamic "${label}" {`, ...body(args, PLAIN, `${indent}  `, `${where}.dynamic.${label}`));
        lines.push(
          `${indent}  content {`,
          ...body((inner ?? {}) as Record<string, unknown>, content, `${indent}    `, `${where}.dynamic.${label}.content`),
          `${indent}  }`,
          `${indent}}`,
        );
      }
    } else if (nested) {
      for (const item of Array.isArray(value) ? value : [value]) {
        if (item === null || typeof item !== "object" || Array.isArray(item)) {
          throw new Error(`${where}.${name}: a nested block holds ${JSON.stringify(item)}; expected an object (a dynamic block is written under "dynamic")`);
        }
        const inner = body(item as Record<string, unknown>, nested, `${indent}  `, `${where}.${name}`);
        lines.push(...(inner.length === 0 ? [`${indent}${name} {}`] : [`${indent}${name} {`, ...inner, `${indent}}`]));
      }
    } else {
      lines.push(`${indent}${name} = ${kind.references.has(name) ? reference(value, indent) : expression(value, indent)}`);
    }
  }
  return lines;
}

function block(header: string, lines: string[], comment?: string): string {
  return `${comment ? `# ${comment}\n` : ""}${header} {${lines.length ? `\n${lines.join("\n")}\n` : ""}}\n`;
}

function entries<T>(value: unknown): [string, T][] {
  return Object.entries((value ?? {}) as Record<string, T>);
}

function constructPath(values: Record<string, unknown>): string | undefined {
  const meta = values["//"] as { metadata?: { path?: unknown } } | undefined;
  return typeof meta?.metadata?.path === "string" ? meta.metadata.path : undefined;
}

const OUTPUT: BodyKind = { blocks: (name) => (name === "precondition" ? CONDITIONS : undefined), references: new Set(["depends_on"]) };
const MODULE: BodyKind = { blocks: () => undefined, references: new Set(["depends_on", "providers"]) };
const MOVED: BodyKind = { blocks: () => undefined, references: new Set(["from", "to"]) };
const IMPORT: BodyKind = { blocks: () => undefined, references: new Set(["to", "provider"]) };
const VARIABLE: BodyKind = { blocks: (name) => (name === "validation" ? PLAIN : undefined), references: new Set(["type"]) };

/**
 * Renders a stack's Terraform JSON (`cdk.tf.json`, parsed) as HCL, unformatted (src/synth.ts formats
 * it). `blocks`: per `resource.<type>`, `data.<type>` and `provider.<name>`, the paths ("a/b") of its
 * nested blocks. Refuses (throws, naming the place) what it cannot write, rather than dropping it.
 */
export function renderHcl(stack: string, config: Record<string, unknown>, blocks: BlockSchema): string {
  const out: string[] = [`# ${stack}: the HCL rendering of cdk.tf.json, for reading. Terraform applies the JSON.\n`];
  for (const [section, content] of Object.entries(config)) {
    const where = `${stack}: ${section}`;
    switch (section) {
      case "//":
        break;
      case "terraform": {
        const { required_providers, backend, cloud, ...settings } = content as Record<string, unknown>;
        const lines = body(settings, PLAIN, "  ", where);
        if (required_providers)
          lines.push("  required_providers {", ...body(required_providers as Record<string, unknown>, PLAIN, "    ", `${where}.required_providers`), "  }");
        for (const [name, values] of entries<Record<string, unknown>>(backend))
          lines.push(`  backend "${name}" {`, ...body(values, PLAIN, "    ", `${where}.backend`), "  }");
        if (cloud) lines.push("  cloud {", ...body(cloud as Record<string, unknown>, PLAIN, "    ", `${where}.cloud`), "  }");
        out.push(block("terraform", lines));
        break;
      }
      case "provider":
        for (const [name, configs] of entries<Record<string, unknown>[]>(content)) {
          for (const values of Array.isArray(configs) ? configs : [configs]) {
            out.push(block(`provider "${name}"`, body(values, schemaBody(blocks.get(`provider.${name}`), "", false), "  ", `${where}.${name}`)));
          }
        }
        break;
      case "resource":
      case "data":
      case "ephemeral":
        for (const [type, byName] of entries<Record<string, Record<string, unknown>>>(content)) {
          for (const [name, values] of Object.entries(byName)) {
            const kind = schemaBody(blocks.get(`${section}.${type}`), "", true);
            const lines = [...body(values, kind, "  ", `${where}.${type}.${name}`)];
            const comment = constructPath(values);
            out.push(block(`${section} "${type}" "${name}"`, lines, comment));
          }
        }
        break;
      case "output":
        for (const [name, values] of entries<Record<string, unknown>>(content))
          out.push(block(`output "${name}"`, body(values, OUTPUT, "  ", `${where}.${name}`)));
        break;
      case "locals":
        out.push(block("locals", body(content as Record<string, unknown>, PLAIN, "  ", where)));
        break;
      case "variable":
        for (const [name, values] of entries<Record<string, unknown>>(content))
          out.push(block(`variable "${name}"`, body(values, VARIABLE, "  ", `${where}.${name}`)));
        break;
      case "module":
        for (const [name, values] of entries<Record<string, unknown>>(content))
          out.push(block(`module "${name}"`, body(values, MODULE, "  ", `${where}.${name}`)));
        break;
      case "moved":
      case "import":
        for (const values of content as Record<string, unknown>[]) out.push(block(section, body(values, section === "moved" ? MOVED : IMPORT, "  ", where)));
        break;
      default:
        throw new Error(
          `${where}: no HCL rendering for the top-level "${section}"; expected terraform, provider, resource, data, ephemeral, output, locals, variable, module, moved or import`,
        );
    }
  }
  return out.join("\n");
}
