/** What a local provider mirror (`terraform init -plugin-dir`) holds. */
import * as fs from "fs";
import * as path from "path";

export interface Mirror {
  readonly dir: string;
  /** Fully qualified sources present, e.g. `registry.terraform.io/hashicorp/aws`. */
  readonly providers: ReadonlySet<string>;
}

/** The mirror at `dir` (unpacked or packed layout), or undefined when there is none: use the registry. */
export function readMirror(dir: string | undefined): Mirror | undefined {
  if (!dir || !fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return undefined;
  const providers = new Set<string>();
  const subdirs = (p: string) =>
    fs
      .readdirSync(p, { withFileTypes: true })
      .filter((e) => e.isDirectory() || e.isSymbolicLink())
      .map((e) => e.name);
  for (const host of subdirs(dir))
    for (const ns of subdirs(path.join(dir, host)))
      for (const type of subdirs(path.join(dir, host, ns))) {
        if (fs.readdirSync(path.join(dir, host, ns, type)).length > 0) providers.add(`${host}/${ns}/${type}`.toLowerCase());
      }
  return { dir: path.resolve(dir), providers };
}

/** `aws` and `hashicorp/aws` mean `registry.terraform.io/hashicorp/aws`, as Terraform reads them. */
export function fullSource(source: string): string {
  const parts = source.toLowerCase().split("/");
  if (parts.length === 1) return `registry.terraform.io/hashicorp/${parts[0]}`;
  if (parts.length === 2) return `registry.terraform.io/${parts[0]}/${parts[1]}`;
  return parts.join("/");
}
