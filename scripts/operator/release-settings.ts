/**
 * `make release` records the released tag in the operator's `environments/<env>/terraform.tfvars`, so
 * the next `make plan` plans what was applied instead of the old tag. The HCL text is edited line by
 * line (comments, layout and other keys stay as they are); a shape this editor does not know is
 * refused before anything is planned. The new text is parsed and validated as the settings loader
 * does before it replaces the file (temp file + rename).
 */
import * as fs from "fs";
import * as path from "path";
import { formatProblem, show } from "../../src/config/errors";
import { parseHcl } from "../../src/config/load";
import { EnvironmentConfig, validateSettings } from "../../src/config/settings";
import { SERVICES, ServiceName } from "../../src/naming";
import { Refusal, StepFailed, say } from "./process";

/** The edit `make release` makes after a successful apply, prepared (and checked) before the plan. */
export interface TagRecord {
  /** Absolute path of the operator's terraform.tfvars. */
  readonly file: string;
  /** The same, as messages name it (relative to the settings root). */
  readonly shown: string;
  readonly before: string;
  readonly after: string;
  /** What changes, one line each; empty when the file already records the release. */
  readonly changes: readonly string[];
  /** The setting an operator would write by hand, for the messages of a failed write. */
  readonly byHand: string;
}

const KEY = { tag: "image_tag", overrides: "image_tag_overrides" } as const;
const COMMENT = String.raw`(?:#.*|\/\/.*)?`;
const STRING = String.raw`"((?:[^"\\]|\\.)*)"`;
const assignment = (key: string) => new RegExp(String.raw`^(\s*${key}\s*=\s*)(.*)$`);
const scalarLine = (key: string) => new RegExp(String.raw`^(\s*${key}\s*=\s*)${STRING}(\s*${COMMENT})$`);
/** One map entry: `key = "value"`, key bare or quoted, `=` or `:`, an optional comma and comment. */
const ENTRY = new RegExp(String.raw`^(\s*)("?)([A-Za-z0-9_-]+)\2(\s*[=:]\s*)${STRING}(\s*,?\s*${COMMENT})$`);
const CLOSING = new RegExp(String.raw`^\s*\}\s*${COMMENT}$`);
const IGNORABLE = new RegExp(String.raw`^\s*${COMMENT}$`);

class Unsupported extends Error {
  constructor(
    readonly key: string,
    readonly found: string,
    readonly expected: string,
  ) {
    super(`${key}: ${found}`);
  }
}

const quote = (s: string) => JSON.stringify(s);

/** Where a top-level key is assigned (commented lines do not count); more than one is refused. */
function lineOf(lines: string[], key: string): number | undefined {
  const at = lines.flatMap((l, i) => (assignment(key).test(l) ? [i] : []));
  if (at.length > 1) throw new Unsupported(key, `${at.length} assignments (lines ${at.map((i) => i + 1).join(", ")})`, "one");
  return at[0];
}

function setScalar(lines: string[], key: string, value: string): void {
  const i = lineOf(lines, key);
  if (i === undefined) {
    lines.push(`${key} = ${quote(value)}`);
    return;
  }
  const m = scalarLine(key).exec(lines[i]!);
  if (!m) throw new Unsupported(key, `line ${i + 1}: ${lines[i]!.trim()}`, `${key} = "<tag>" on one line`);
  lines[i] = `${m[1]}${quote(value)}${m[3]}`;
}

/** The entries of a one-line map body (`a = "1", "b" = "2"`), in order. */
function inlineEntries(body: string, line: number): [string, string][] {
  const parts = body
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  return parts.map((p) => {
    const m = ENTRY.exec(p);
    if (!m) throw new Unsupported(KEY.overrides, `line ${line + 1}: entry ${p}`, `service = "<tag>" entries`);
    return [m[3]!, m[5]!];
  });
}

/**
 * Sets (`tag`) or removes (`undefined`) services' entries of `image_tag_overrides`: a one-line map is
 * rewritten on its line, a multi-line map loses or gains single entry lines (its comments stay), an
 * absent map is added after `image_tag` when there is something to add.
 */
function editOverrides(lines: string[], edits: ReadonlyMap<ServiceName, string | undefined>): void {
  const i = lineOf(lines, KEY.overrides);
  if (i === undefined) {
    const added = [...edits].filter(([, t]) => t !== undefined);
    if (added.length === 0) return;
    const after = lineOf(lines, KEY.tag);
    const text = `${KEY.overrides} = { ${added.map(([s, t]) => `${s} = ${quote(t!)}`).join(", ")} }`;
    lines.splice(after === undefined ? lines.length : after + 1, 0, text);
    return;
  }
  const [, prefix, value] = assignment(KEY.overrides).exec(lines[i]!)!;
  const inline = /^\{(.*)\}(\s*(?:#.*|\/\/.*)?)$/.exec(value!.trimEnd());
  if (inline) {
    const entries = new Map(inlineEntries(inline[1]!, i));
    for (const [s, t] of edits) {
      if (t === undefined) entries.delete(s);
      else entries.set(s, t);
    }
    const body = [...entries].map(([s, t]) => `${s} = ${quote(t)}`).join(", ");
    lines[i] = `${prefix}${body ? `{ ${body} }` : "{}"}${inline[2]}`;
    return;
  }
  if (!new RegExp(String.raw`^\{\s*${COMMENT}$`).test(value!))
    throw new Unsupported(
      KEY.overrides,
      `line ${i + 1}: ${lines[i]!.trim()}`,
      'a map: { ... } on one line, or { then one service = "<tag>" per line and a closing }',
    );
  let end = i + 1;
  while (end < lines.length && !CLOSING.test(lines[end]!)) {
    if (!ENTRY.test(lines[end]!) && !IGNORABLE.test(lines[end]!))
      throw new Unsupported(KEY.overrides, `line ${end + 1}: ${lines[end]!.trim()}`, `one service = "<tag>" per line`);
    end++;
  }
  if (end === lines.length) throw new Unsupported(KEY.overrides, `a map opened on line ${i + 1} that no line closes`, "a closing } on a line of its own");
  const entryAt = (s: string) => lines.findIndex((l, k) => k > i && k < end && ENTRY.exec(l)?.[3] === s);
  const indent =
    lines
      .slice(i + 1, end)
      .map((l) => ENTRY.exec(l)?.[1])
      .find((x) => x !== undefined) ?? "  ";
  for (const [s, t] of edits) {
    const k = entryAt(s);
    if (t === undefined) {
      if (k >= 0) {
        lines.splice(k, 1);
        end--;
      }
    } else if (k >= 0) {
      const m = ENTRY.exec(lines[k]!)!;
      lines[k] = `${m[1]}${m[2]}${m[3]}${m[2]}${m[4]}${quote(t)}${m[6]}`;
    } else {
      lines.splice(end, 0, `${indent}${s} = ${quote(t)}`);
      end++;
    }
  }
}

const describeChanges = (
  before: Record<ServiceName, string>,
  after: Record<ServiceName, string>,
  rawBefore: Record<string, unknown>,
  rawAfter: Record<string, unknown>,
): string[] => {
  const changes: string[] = [];
  if (rawBefore[KEY.tag] !== rawAfter[KEY.tag]) changes.push(`${KEY.tag}: ${show(rawBefore[KEY.tag])} -> ${show(rawAfter[KEY.tag])}`);
  const overrides = (r: Record<string, unknown>) => (r[KEY.overrides] ?? {}) as Record<string, string>;
  const [ob, oa] = [overrides(rawBefore), overrides(rawAfter)];
  for (const s of SERVICES) {
    if (ob[s] === oa[s]) continue;
    changes.push(`${KEY.overrides}.${s}: ${ob[s] === undefined ? "(none)" : quote(ob[s]!)} -> ${oa[s] === undefined ? "(removed)" : quote(oa[s]!)}`);
  }
  const moved = SERVICES.filter((s) => before[s] !== after[s]).map((s) => `${s} ${before[s]} -> ${after[s]}`);
  if (moved.length > 0 && changes.length > 0) changes.push(`services now set to: ${moved.join(", ")}`);
  return changes;
};

/**
 * Prepares the record of releasing `tag` to `services` (every service: `image_tag`, and the pins of
 * `image_tag_overrides` go, since the release replaced them; one service: its entry there, or none when
 * `image_tag` already says the tag). Refuses, before anything is planned, when the file's shape is
 * one this editor cannot change safely, or when the edited text would not read back as released.
 */
export async function prepareTagRecord(rootDir: string, config: EnvironmentConfig, services: readonly ServiceName[], tag: string): Promise<TagRecord> {
  const shown = config.source.file;
  if (config.source.isExample)
    throw new Refusal(
      `make release refused for ${config.env}: it would record the tag in the example settings (${shown}); copy it to environments/${config.env}/terraform.tfvars first.`,
    );
  const file = path.resolve(rootDir, shown);
  const before = fs.readFileSync(file, "utf8");
  const eol = before.includes("\r\n") ? "\r\n" : "\n";
  const finalEol = before.endsWith(eol);
  const lines = (finalEol ? before.slice(0, -eol.length) : before).split(eol);
  const rawBefore = await parseHcl(shown, before);
  const all = services.length === SERVICES.length;
  const byHand = all ? `${KEY.tag} = ${quote(tag)} and ${KEY.overrides} = {}` : `${KEY.overrides} entry ${services[0]} = ${quote(tag)}`;
  try {
    if (all) {
      setScalar(lines, KEY.tag, tag);
      editOverrides(lines, new Map(SERVICES.map((s) => [s, undefined])));
    } else {
      const sameAsDefault = rawBefore[KEY.tag] === tag;
      editOverrides(lines, new Map(services.map((s) => [s, sameAsDefault ? undefined : tag])));
    }
  } catch (e) {
    if (!(e instanceof Unsupported)) throw e;
    throw new Refusal(
      `make release refused: it records the released tag in the settings after the apply, and cannot edit this file safely. ${formatProblem({ file: shown, key: e.key, found: e.found, expected: e.expected })}. Nothing was checked, planned or applied. Rewrite ${e.key} in that shape, then run make release ENV=${config.env} TAG=${tag}${all ? "" : ` SERVICE=${services[0]}`} again; or release by hand: set ${byHand}, then make plan ENV=${config.env} PHASE=services and make apply ENV=${config.env} PHASE=services.`,
    );
  }
  const after = lines.join(eol) + (finalEol ? eol : "");
  // Read back as the loader reads it: the released services must get the tag, the others keep theirs,
  // and every other setting must be exactly what it was.
  const expected = { ...config.settings.imageTags, ...Object.fromEntries(services.map((s) => [s, tag])) } as Record<ServiceName, string>;
  let rawAfter: Record<string, unknown>;
  let readBack: Record<ServiceName, string>;
  try {
    rawAfter = await parseHcl(shown, after);
    readBack = validateSettings(config.env, rawAfter, shown).settings.imageTags as Record<ServiceName, string>;
  } catch (e) {
    throw new Refusal(
      `make release refused: recording ${byHand} in ${shown} would not read back (${(e as Error).message}). Nothing was checked, planned or applied.`,
    );
  }
  const others = (r: Record<string, unknown>) => JSON.stringify(Object.entries(r).filter(([k]) => k !== KEY.tag && k !== KEY.overrides));
  const wrong = SERVICES.filter((s) => readBack[s] !== expected[s]);
  if (wrong.length > 0 || others(rawAfter) !== others(rawBefore)) {
    throw new Refusal(
      `make release refused: the edit of ${shown} would not read back as released (${wrong.map((s) => `${s}: found ${readBack[s]}, expected ${expected[s]}`).join("; ") || "another setting changed"}). Nothing was checked, planned or applied. Set ${byHand} by hand instead, then make plan ENV=${config.env} PHASE=services and make apply ENV=${config.env} PHASE=services.`,
    );
  }
  return {
    file,
    shown,
    before,
    after,
    changes: describeChanges(config.settings.imageTags as Record<ServiceName, string>, readBack, rawBefore, rawAfter),
    byHand,
  };
}

/**
 * Writes the prepared record after the apply: temp file beside it, same mode, then rename, so the file
 * is either the old text or the new one. Refuses when the file changed since the release read it.
 */
export function writeTagRecord(r: TagRecord): void {
  if (r.changes.length === 0) {
    say(`Settings ${r.shown} already record this release; unchanged.`);
    return;
  }
  const failed = (why: string) =>
    new StepFailed(`The apply succeeded, but ${r.shown} was not updated: ${why}. Set ${r.byHand} in it by hand, or the next make plan plans the old tag back.`);
  let now: string;
  try {
    now = fs.readFileSync(r.file, "utf8");
  } catch (e) {
    throw failed((e as Error).message);
  }
  if (now !== r.before) throw failed("it changed while make release ran");
  const temp = path.join(path.dirname(r.file), `.${path.basename(r.file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temp, r.after, { mode: fs.statSync(r.file).mode & 0o777 });
    fs.renameSync(temp, r.file);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw failed((e as Error).message);
  }
  say(`Settings ${r.shown} now record the release:\n${r.changes.map((c) => `  ${c}`).join("\n")}`);
}
