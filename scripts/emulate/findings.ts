/**
 * The verdict of an emulated apply: every resource whose second plan is not empty is a finding, unless
 * the allow-list explains the difference as the emulator's (not the configuration's).
 */
import { Json, isObject } from "../tf-check/json";
import { PlanRule, planRuleFor } from "./allow-list";

export interface Change {
  readonly phase: string;
  readonly address: string;
  readonly type: string;
  /** Terraform's actions, e.g. ["update"], ["delete", "create"]. */
  readonly actions: readonly string[];
  /** Attribute paths that differ between the state and the plan (`tags.Name`, `ingress[0].description`). */
  readonly attributes: readonly string[];
  /** Paths that force the replacement (`replace_paths`). */
  readonly replacePaths: readonly string[];
  /** Each differing attribute as `path: before -> after`, for the report. */
  readonly diff: readonly string[];
  /** The resource's values in the state (what the allow-list's conditions read). */
  readonly state: Json;
}

export interface Allowed extends Change {
  readonly rule: PlanRule;
}

export interface Verdict {
  readonly findings: readonly Change[];
  readonly allowed: readonly Allowed[];
}

/** The changes of a `terraform show -json` plan that are not empty: no-ops and reads left out. */
export function changesOf(phase: string, plan: Json): Change[] {
  const list = isObject(plan) && Array.isArray(plan.resource_changes) ? plan.resource_changes.filter(isObject) : [];
  const out: Change[] = [];
  for (const rc of list) {
    if (rc.mode !== "managed" || !isObject(rc.change)) continue;
    const actions = Array.isArray(rc.change.actions) ? rc.change.actions.map(String) : [];
    if (actions.length === 0 || actions.every((a) => a === "no-op" || a === "read")) continue;
    const before = rc.change.before ?? null;
    const after = rc.change.after ?? null;
    const unknown = rc.change.after_unknown ?? null;
    const replacePaths = Array.isArray(rc.replace_paths) ? rc.replace_paths.map((p) => (Array.isArray(p) ? pathText(p as Json[]) : String(p))) : [];
    const replaced = actions.includes("delete") && actions.includes("create");
    // A replacement makes every computed attribute unknown (id, arn, ...): a consequence, not a cause.
    const diffs = (actions.includes("create") && !actions.includes("delete") ? [] : differences(before, after, unknown)).filter(
      (d) => !(replaced && d.unknown && !replacePaths.includes(d.path)),
    );
    out.push({
      phase,
      address: String(rc.address),
      type: String(rc.type),
      actions,
      attributes: diffs.map((d) => d.path),
      replacePaths,
      state: before,
      diff: diffs.map(
        (d) =>
          `${d.path}: ${show(d.before)} -> ${d.unknown ? "(known after apply)" : show(d.after)}${replacePaths.some((r) => d.path === r || d.path.startsWith(`${r}[`) || d.path.startsWith(`${r}.`)) ? " (forces replacement)" : ""}`,
      ),
    });
  }
  return out;
}

interface Difference {
  readonly path: string;
  readonly before: Json | undefined;
  readonly after: Json | undefined;
  readonly unknown: boolean;
}

/**
 * Leaf differences between the state and the planned values. A list or object that appears or
 * disappears whole is one difference; unknown values after apply count (Terraform will change them).
 */
export function differences(before: Json | undefined, after: Json | undefined, unknown: Json | undefined, at = ""): Difference[] {
  if (unknown === true) return [{ path: at, before, after: undefined, unknown: true }];
  const empty = (v: Json | undefined) => v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);
  if (Array.isArray(before) && Array.isArray(after)) {
    const n = Math.max(before.length, after.length);
    const out: Difference[] = [];
    for (let i = 0; i < n; i++) {
      if (i >= before.length || i >= after.length) {
        out.push({ path: `${at}[${i}]`, before: before[i], after: after[i], unknown: false });
        continue;
      }
      out.push(...differences(before[i], after[i], Array.isArray(unknown) ? unknown[i] : undefined, `${at}[${i}]`));
    }
    return out;
  }
  if (isObject(before) && isObject(after)) {
    const out: Difference[] = [];
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
      out.push(...differences(before[key], after[key], isObject(unknown) ? unknown[key] : undefined, at ? `${at}.${key}` : key));
    }
    return out;
  }
  if (empty(before) && empty(after)) return [];
  // The provider's SDK reads an unset number, string or flag back as its zero value: not a change.
  if ((after === null || after === undefined) && (before === 0 || before === "" || before === false)) return [];
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path: at, before, after, unknown: false }];
}

/** `["ingress", 0, "description"]` -> `ingress[0].description`. */
export function pathText(parts: readonly Json[]): string {
  return parts.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");
}

function show(value: Json | undefined): string {
  if (value === undefined) return "(none)";
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Splits the changes into findings and the differences the allow-list explains. */
export function judge(changes: readonly Change[], rules: readonly PlanRule[]): Verdict {
  const findings: Change[] = [];
  const allowed: Allowed[] = [];
  for (const c of changes) {
    const rule = planRuleFor(c, rules);
    if (rule) allowed.push({ ...c, rule });
    else findings.push(c);
  }
  return { findings, allowed };
}
