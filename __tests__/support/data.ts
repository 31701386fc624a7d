// Reading the data tier's synthesized JSON: the secrets' documents and where sensitive values may go.
import * as fs from "fs";
import * as path from "path";
import { StackJson } from "./config";

/** The keys and values of a `secret_string = "${jsonencode({...})}"`, each value as Terraform wrote it. */
export function secretDocument(secretString: string): Record<string, string> {
  const body = /^\$\{jsonencode\(\{(.*)\}\)\}$/.exec(secretString)?.[1];
  if (body === undefined) throw new Error(`not a jsonencode document: ${secretString}`);
  return Object.fromEntries([...body.matchAll(/"([a-z_]+)" = ((?:"[^"]*")|[^,]+)(?:, |$)/g)].map((m) => [m[1]!, m[2]!]));
}

/** Every output of every stack given, as `<stack>.<output>: <value JSON>`. */
export function allOutputs(byStack: Record<string, StackJson>): string[] {
  return Object.entries(byStack).flatMap(([name, tf]) =>
    Object.entries<{ value: unknown }>(tf.output ?? {}).map(([o, v]) => `${name}.${o}: ${JSON.stringify(v.value)}`),
  );
}

/** Every resource address of a stack, sorted. */
export function addresses(tf: StackJson): string[] {
  return Object.entries<Record<string, unknown>>(tf.resource ?? {})
    .flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`))
    .sort();
}

/** A committed list of addresses (`__tests__/fixtures/<file>`). */
export function golden(file: string): string[] {
  return fs
    .readFileSync(path.join(__dirname, "..", "fixtures", file), "utf8")
    .trim()
    .split("\n");
}
