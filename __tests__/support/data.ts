// Reading the data tier's synthesized JSON: the secrets' documents and where sensitive values may go.
import { StackJson } from "./config";

/** The keys and values of a `secret_string = "${jsonencode({...})}"`, each value as Terraform wrote it. */
export function secretDocument(secretString: string): Record<string, string> {
  const body = /^\$\{jsonencode\(\{(.*)\}\)\}$/.exec(secretString)?.[1];
  if (body === undefined) throw new Error(`not a jsonencode document: ${secretString}`);
  return Object.fromEntries([...body.matchAll(/"([a-z_]+)" = ((?:"[^"]*")|[^,]+)(?:, |$)/g)].map((m) => [m[1]!, m[2]!]));
}

/** Every output of every stack given, as `<stack>.<output>: <value JSON>`. */
export function allOutputs(byStack: Record<string, StackJson>): string[] {
  return Object.entries(byStack).flatMap(([name, tf]) => Object.entries<{ value: unknown }>(tf.output ?? {}).map(([o, v]) => `${name}.${o}: ${JSON.stringify(v.value)}`));
}
