// Comparing a stack's HCL rendering (parsed back to JSON by @cdktf/hcl2json) with its cdk.tf.json.
import { parseHcl } from "../../src/config/load";
import { templateParts } from "../../src/synth-output";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** A template with the whitespace of its `${...}` sequences removed: the formatter respaces expressions. */
function normalized(s: string): string {
  return templateParts(s)
    .map((p) => (p.kind === "literal" ? p.text : `${p.kind === "interpolation" ? "$" : "%"}{${p.text.replace(/\s+/g, "")}}`))
    .join("");
}

/** The JSON document held in a string, or undefined. */
function document(s: string): Json | undefined {
  const t = s.trim();
  if (!t.startsWith("{") && !t.startsWith("[")) return undefined;
  try {
    return JSON.parse(t) as Json;
  } catch {
    return undefined;
  }
}

/**
 * Where `hcl` (hcl2json's reading of cdk.hcl) says something other than `json` (cdk.tf.json), as
 * "<path>: JSON <a>, HCL <b>" lines. Allowed, because hcl2json cannot say otherwise: a block is a list
 * of one object; `${...}` is respaced; a bare reference (`depends_on`, `ignore_changes`, `provider`)
 * reads back as `${ref}`; the JSON's cdktf comments ("//") and empty block lists are absent. A string
 * that holds a JSON document reads back as `${jsonencode(<HCL>)}`: that HCL is parsed in turn and must
 * hold the same document.
 */
export async function differences(json: unknown, hcl: unknown, where: string): Promise<string[]> {
  const differ = (why = "") => [`${where}: JSON ${JSON.stringify(json)?.slice(0, 300)}, HCL ${JSON.stringify(hcl)?.slice(0, 300)}${why}`];
  if (typeof json === "string") {
    if (typeof hcl !== "string") return differ();
    if (json === hcl || normalized(json) === normalized(hcl) || normalized(`\${${json}}`) === normalized(hcl)) return [];
    const encoded = /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(hcl)?.[1];
    const doc = document(json);
    if (encoded !== undefined && doc !== undefined) {
      const parsed = (await parseHcl("jsonencode.hcl", `v = ${encoded}\n`)) as { v: Json };
      return differences(doc, parsed.v, `${where} (jsonencode)`);
    }
    return differ();
  }
  if (isObject(json) && Array.isArray(hcl) && hcl.length === 1 && isObject(hcl[0])) return differences(json, hcl[0], where);
  if (Array.isArray(json)) {
    if (!Array.isArray(hcl) || hcl.length !== json.length) return differ(" (list lengths)");
    return (await Promise.all(json.map((v: unknown, i) => differences(v, hcl[i], `${where}[${i}]`)))).flat();
  }
  if (isObject(json)) {
    if (!isObject(hcl)) return differ();
    const keys = Object.keys(json).filter((k) => k !== "//" && !(Array.isArray(json[k]) && (json[k] as unknown[]).length === 0 && !(k in hcl)));
    const extra = Object.keys(hcl).filter((k) => !(k in json));
    const missing = keys.filter((k) => !(k in hcl));
    const found = [...extra.map((k) => `${where}.${k}: only in the HCL`), ...missing.map((k) => `${where}.${k}: only in the JSON`)];
    const inner = await Promise.all(keys.filter((k) => k in hcl).map((k) => differences(json[k], hcl[k], `${where}.${k}`)));
    return [...found, ...inner.flat()];
  }
  return json === hcl ? [] : differ();
}
