/** Terraform JSON configuration, as cdktf writes it. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The object at `key`, created when absent. */
export function objectAt(parent: JsonObject, key: string): JsonObject {
  const existing = parent[key];
  if (isObject(existing)) return existing;
  const created: JsonObject = {};
  parent[key] = created;
  return created;
}

export function clone<T extends Json>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * Rewrites every string below `value` (keys are left alone, and so are cdktf's `//` comment blocks),
 * passing the JSON path of each string so that errors can say where a reference was found.
 */
export function mapStrings(value: Json, fn: (text: string, where: string) => string, where = ""): Json {
  if (typeof value === "string") return fn(value, where);
  if (Array.isArray(value)) return value.map((item, i) => mapStrings(item, fn, `${where}[${i}]`));
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) out[key] = key === "//" ? item : mapStrings(item, fn, where ? `${where}.${key}` : key);
    return out;
  }
  return value;
}
