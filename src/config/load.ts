import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { version as HCL2JSON_VERSION } from "@cdktf/hcl2json/package.json";
import { ENVIRONMENTS, EnvironmentName, isEnvironmentName } from "../naming";
import { SettingsError } from "./errors";
import { EnvironmentConfig, validateSettings } from "./settings";

export interface LoadOptions {
  /** Folder holding `environments/`; the project root by default. */
  readonly rootDir?: string;
  /** Where the "using the example settings" notice goes (stderr by default). */
  readonly notice?: (message: string) => void;
}

/** `environments/<env>/terraform.tfvars`, or its committed `.example` when the operator has no copy yet. */
export function settingsFile(env: EnvironmentName, rootDir: string): { file: string; isExample: boolean } {
  const own = path.join(rootDir, "environments", env, "terraform.tfvars");
  if (fs.existsSync(own)) return { file: own, isExample: false };
  return { file: `${own}.example`, isExample: true };
}

const CACHE_DIR = path.resolve(__dirname, "../../node_modules/.cache/accessweaver-settings");

/**
 * The cache entry of a parse of `text`: named after the installed parser's version and the text (the
 * file's name only appears in parse errors, which are never cached).
 */
export function parseCacheEntry(text: string): string {
  return path.join(CACHE_DIR, `${createHash("sha256").update(`@cdktf/hcl2json ${HCL2JSON_VERSION}\0${text}`).digest("hex")}.json`);
}

/**
 * Parses HCL with @cdktf/hcl2json. Starting its WebAssembly parser costs about a fifth of a synth, so
 * results are kept in node_modules/.cache/accessweaver-settings (parseCacheEntry): an unchanged file is
 * not parsed again.
 */
export async function parseHcl(name: string, text: string): Promise<Record<string, unknown>> {
  const cached = parseCacheEntry(text);
  try {
    return JSON.parse(fs.readFileSync(cached, "utf8")) as Record<string, unknown>;
  } catch {
    // not cached yet (or unreadable): parse
  }
  const { parse } = await import("@cdktf/hcl2json");
  const raw = (await parse(name, text)) as Record<string, unknown>;
  try {
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    fs.writeFileSync(`${cached}.${process.pid}`, JSON.stringify(raw));
    fs.renameSync(`${cached}.${process.pid}`, cached);
  } catch {
    // a read-only tree only loses the cache
  }
  return raw;
}

/** Reads, parses and validates the settings of one environment and merges them over its sizing profile. */
export async function loadEnvironment(env: EnvironmentName, options: LoadOptions = {}): Promise<EnvironmentConfig> {
  const rootDir = options.rootDir ?? process.cwd();
  const source = settingsFile(env, rootDir);
  const shown = path.relative(rootDir, source.file) || source.file;
  if (!fs.existsSync(source.file)) {
    throw new SettingsError([{ file: shown, key: "(file)", found: "no such file", expected: `environments/${env}/terraform.tfvars or its .example` }]);
  }
  if (source.isExample) {
    (options.notice ?? ((m) => process.stderr.write(`${m}\n`)))(
      `notice: ${env}: no environments/${env}/terraform.tfvars; using the example settings (${shown}). Fine for synth and checks; copy and edit it before plan or apply.`,
    );
  }
  let raw: Record<string, unknown>;
  try {
    raw = await parseHcl(shown, fs.readFileSync(source.file, "utf8"));
  } catch (e) {
    const detail = String(e instanceof Error ? e.message : e).replace(/^parse config: /, "");
    throw new SettingsError([{ file: shown, key: "(syntax)", found: `HCL that does not parse: ${detail}`, expected: "valid HCL: key = value lines" }]);
  }
  const { settings, sizing } = validateSettings(env, raw, shown);
  return { env, settings, sizing, source: { file: shown, isExample: source.isExample } };
}

/**
 * The environments named by `ACCESSWEAVER_ENV` (a name, or a comma-separated list); all of them when
 * it is empty. An unknown name is refused with the list of valid ones.
 */
export function selectEnvironments(value: string | undefined): EnvironmentName[] {
  const wanted = (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (wanted.length === 0) return [...ENVIRONMENTS];
  const unknown = wanted.filter((w) => !isEnvironmentName(w));
  if (unknown.length > 0) {
    throw new Error(
      `Unknown environment ${unknown.map((u) => `"${u}"`).join(", ")} (ENV). Valid environments: ${ENVIRONMENTS.join(", ")}; leave ENV empty for all.`,
    );
  }
  return wanted as EnvironmentName[];
}

/** Loads every selected environment before any stack is built, so one bad file stops everything. */
export async function loadEnvironments(envs: readonly EnvironmentName[], options: LoadOptions = {}): Promise<EnvironmentConfig[]> {
  const results: EnvironmentConfig[] = [];
  const problems = [];
  for (const env of envs) {
    try {
      results.push(await loadEnvironment(env, options));
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      problems.push(...e.problems);
    }
  }
  if (problems.length > 0) throw new SettingsError(problems);
  return results;
}
