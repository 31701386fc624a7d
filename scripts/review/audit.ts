/**
 * `make audit`: the guardrails run over the synthesized JSON of an environment (what Terraform will
 * read), the same rules the synth enforces in staging and prod and reports in dev. The result is per
 * rule: the resources it checked, pass or fail, and each violation with its address.
 */
import { PROFILES } from "../../src/config/profiles";
import { isEnvironmentName } from "../../src/naming";
import { BASELINE_RULES } from "../../src/policy/rules";
import { Rule, Violation, evaluate, viewOf } from "../../src/policy/guardrails";
import { EnvModel } from "./model";

export interface StackAudit {
  readonly stack: string;
  readonly phase: string;
  readonly violations: readonly Violation[];
}

/** A violation with where it was found. */
export interface Finding extends Violation {
  readonly stack: string;
  readonly phase: string;
}

export interface RuleAudit {
  readonly id: string;
  readonly description: string;
  /** Addresses (`<phase>: <address>`) of the resources the rule checked, when it declares its types. */
  readonly checked?: readonly { readonly phase: string; readonly address: string }[];
  readonly findings: readonly Finding[];
}

export interface Audit {
  readonly env: string;
  readonly mode: "enforce" | "report";
  readonly rules: readonly RuleAudit[];
  readonly stacks: readonly StackAudit[];
  /** Resources of the environment: what the rules without declared types check. */
  readonly resources: number;
}

export function audit(m: EnvModel, rules: readonly Rule[] = BASELINE_RULES): Audit {
  const mode = isEnvironmentName(m.env) ? PROFILES[m.env].guardrails : "enforce";
  const views = m.stacks.map((s) => ({ s, view: viewOf(s.name, s.config) }));
  const stacks = views.map(({ s, view }) => ({ stack: s.name, phase: s.phase, violations: evaluate(view, rules) }));
  const byRule = rules.map((rule): RuleAudit => {
    const findings = stacks.flatMap((s) => s.violations.filter((v) => v.rule === rule.id).map((v) => ({ ...v, stack: s.stack, phase: s.phase })));
    const types = rule.types;
    if (!types) return { id: rule.id, description: rule.description, findings };
    const checked = views.flatMap(({ s, view }) => view.resources.filter((r) => types.includes(r.type)).map((r) => ({ phase: s.phase, address: r.address })));
    return { id: rule.id, description: rule.description, checked, findings };
  });
  return { env: m.env, mode, rules: byRule, stacks, resources: views.reduce((n, { view }) => n + view.resources.length, 0) };
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
const failed = (r: RuleAudit) => r.findings.length > 0;
/** How many resources a rule checked: those of its declared types, or every resource. */
const checkedCount = (a: Audit, r: RuleAudit) => (r.checked ? String(r.checked.length) : `${a.resources} (all)`);

/** The summary (one line per rule) and the violations grouped by rule: what `make audit` prints and the review embeds. */
export function auditMarkdown(a: Audit): string {
  const total = a.stacks.reduce((n, s) => n + s.violations.length, 0);
  const failing = a.rules.filter(failed);
  const lines = [
    `${a.rules.length} rules over ${a.stacks.length} stack(s) (${a.stacks.map((s) => s.phase).join(", ")}); mode in ${a.env}: **${a.mode}** (${a.mode === "enforce" ? "a violation fails the synth" : "violations are reported, the synth goes on"}).`,
    "",
    total === 0
      ? "**Result: pass** (every rule, every resource)."
      : `**Result: FAIL**: ${total} violation(s) of ${failing.length} rule(s): ${failing.map((r) => `\`${r.id}\``).join(", ")}.`,
    "",
    "| rule | checks | resources checked | result |",
    "|---|---|---|---|",
    ...a.rules.map((r) => `| \`${r.id}\` | ${cell(r.description)} | ${checkedCount(a, r)} | ${failed(r) ? `**FAIL** (${r.findings.length})` : "pass"} |`),
  ];
  for (const r of failing) {
    lines.push("", `### \`${r.id}\`: ${r.findings.length} violation(s)`, "", "| phase | address | found |", "|---|---|---|");
    for (const f of r.findings) lines.push(`| ${f.phase} | \`${f.address}\` | ${cell(f.message)} |`);
  }
  return lines.join("\n");
}

/** Every resource a rule declares it checks, with pass or FAIL: the folded detail of the audit file. */
export function auditDetails(a: Audit): string {
  const lines = ["## Resources checked, per rule", ""];
  for (const r of a.rules) {
    const failing = new Set(r.findings.map((f) => `${f.phase} ${f.address}`));
    const rows = r.checked
      ? r.checked.map((c) => `| ${c.phase} | \`${c.address}\` | ${failing.has(`${c.phase} ${c.address}`) ? "**FAIL**" : "pass"} |`)
      : [`| every phase | every resource (${a.resources}) | ${failed(r) ? "**FAIL**" : "pass"} |`];
    // A violation on something the rule does not list as a resource (e.g. the provider block).
    const listed = new Set((r.checked ?? []).map((c) => `${c.phase} ${c.address}`));
    for (const f of r.findings) if (r.checked && !listed.has(`${f.phase} ${f.address}`)) rows.push(`| ${f.phase} | \`${f.address}\` | **FAIL** |`);
    lines.push(
      "<details>",
      `<summary><code>${r.id}</code>: ${r.checked ? `${r.checked.length} resource(s)` : "every resource"}, ${failed(r) ? `${r.findings.length} violation(s)` : "pass"}</summary>`,
      "",
      "| phase | resource | result |",
      "|---|---|---|",
      ...(rows.length > 0 ? rows : ["| | (none of its types in this environment) | pass |"]),
      "",
      "</details>",
      "",
    );
  }
  return lines.join("\n");
}

/** The file `make audit` writes: `cdktf.out/audit/<env>.md`. */
export function auditFile(a: Audit, generatedAt: string): string {
  return [
    `# Guardrails of ${a.env}`,
    "",
    `Generated ${generatedAt} from the synthesized stacks; nothing here was read from AWS.`,
    "",
    auditMarkdown(a),
    "",
    auditDetails(a),
  ].join("\n");
}
