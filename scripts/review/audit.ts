/**
 * `make audit`: the guardrails run over the synthesized JSON of an environment (what Terraform will
 * read), the same rules the synth enforces in prod and reports elsewhere.
 */
import { PROFILES } from "../../src/config/profiles";
import { isEnvironmentName } from "../../src/naming";
import { BASELINE_RULES } from "../../src/policy/rules";
import { Violation, evaluate, viewOf } from "../../src/policy/guardrails";
import { EnvModel } from "./model";

export interface StackAudit {
  readonly stack: string;
  readonly phase: string;
  readonly violations: readonly Violation[];
}

export interface Audit {
  readonly env: string;
  readonly mode: "enforce" | "report";
  readonly rules: readonly string[];
  readonly stacks: readonly StackAudit[];
}

export function audit(m: EnvModel): Audit {
  const mode = isEnvironmentName(m.env) ? PROFILES[m.env].guardrails : "enforce";
  const stacks = m.stacks.map((s) => ({ stack: s.name, phase: s.phase, violations: evaluate(viewOf(s.name, s.config), BASELINE_RULES) }));
  return { env: m.env, mode, rules: BASELINE_RULES.map((r) => r.id), stacks };
}

export function auditMarkdown(a: Audit): string {
  const total = a.stacks.reduce((n, s) => n + s.violations.length, 0);
  const lines = [
    `${a.rules.length} rules (${a.rules.map((r) => `\`${r}\``).join(", ")}) over ${a.stacks.length} stack(s); mode in ${a.env}: **${a.mode}** (${a.mode === "enforce" ? "a violation fails the synth" : "violations are reported"}).`,
    "",
    "| phase | stack | result |",
    "|---|---|---|",
    ...a.stacks.map((s) => `| ${s.phase} | \`${s.stack}\` | ${s.violations.length === 0 ? "pass" : `**${s.violations.length} violation(s)**`} |`),
  ];
  if (total > 0) {
    lines.push("");
    for (const s of a.stacks) for (const v of s.violations) lines.push(`- ${s.stack}: [${v.rule}] \`${v.address}\`: ${v.message}`);
  }
  return lines.join("\n");
}
