/** What make emulate prints, and its report (`<outdir>/emulate/<env>/report.md`). */
import { RunResult } from "../tf-check/terraform";
import { Rule } from "./allow-list";
import { Change, Verdict } from "./findings";
import { RELEASE_TAG_SUFFIX, ReleasePlanCheck, ReleaseProblem } from "./release";
import { EmulatedStack } from "./rewrite";

/** The release rehearsal of the services phase, as far as it got. */
export interface ReleaseResult extends Partial<ReleasePlanCheck> {
  readonly phase: string;
  readonly stack: string;
  /** The released copy's folder, beside the first copies. */
  readonly folder: string;
  readonly tag: string;
  readonly previousTag: string;
  /** What the release plan did that a release must not (or did not do what it must): findings. */
  readonly problems: readonly ReleaseProblem[];
  /** Set once the release was applied (synth, plan and apply, in seconds). */
  readonly applySeconds?: number;
  /** Set once the plan after the release was read. */
  readonly verdict?: Verdict;
}

export interface PhaseResult {
  readonly phase: string;
  readonly stack: string;
  readonly applySeconds: number;
  /** Set once the phase's second plan was read. */
  readonly verdict?: Verdict;
}

export interface RunContext {
  readonly env: string;
  readonly emulator: string;
  readonly seconds: number;
  readonly copies: readonly EmulatedStack[];
  /** The phases applied, in order. */
  readonly phases: readonly PhaseResult[];
  readonly failed?: { readonly phase: string; readonly step: string; readonly result: RunResult };
  readonly verdict: Verdict;
  readonly rules: readonly Rule[];
  /** The release rehearsal, once it started. */
  readonly release?: ReleaseResult;
}

const changeLine = (c: Change) => `${c.phase}: ${c.address} (${c.actions.join("+")})`;
const problemLine = (r: ReleaseResult, p: ReleaseProblem) => `${r.phase} (release plan): ${p.address}: found ${p.found}; expected ${p.expected}`;
/** Findings of the release rehearsal: what its plan did wrong, and what its third plan would change. */
export const releaseFindings = (r: ReleaseResult | undefined) => (r?.problems.length ?? 0) + (r?.verdict?.findings.length ?? 0);
const CODEDEPLOY_NOT_REHEARSED =
  "its CodeDeploy deployment is not rehearsed (moto has no CODE_DEPLOY deployments); what is rehearsed is Terraform's side: the new task definition registered, the service left alone (task_definition in ignore_changes)";

/** The terminal summary: phases applied, the verdict, each finding with the attributes that differ. */
export function summaryText(ctx: RunContext): string {
  const lines: string[] = [];
  const applied = ctx.phases.map((p) => p.phase);
  const notApplied = ctx.copies.map((c) => c.phase).filter((p) => !applied.includes(p));
  lines.push("", `Emulated apply of ${ctx.env} (${ctx.emulator}, ${ctx.seconds} s):`);
  lines.push(`  applied:      ${applied.join(", ") || "none"}`);
  if (notApplied.length > 0) lines.push(`  not applied:  ${notApplied.join(", ")}`);
  const planned = ctx.phases.filter((p) => p.verdict).length;
  if (planned > 0)
    lines.push(
      `  second plan:  ${planned} phase(s); ${ctx.verdict.findings.length} finding(s), ${ctx.verdict.allowed.length} allow-listed emulator difference(s)`,
    );
  if (ctx.failed)
    lines.push(`FAILED in phase ${ctx.failed.phase}: ${ctx.failed.step} exited ${ctx.failed.result.code}: ${terraformError(ctx.failed.result.output)}`);
  for (const f of ctx.verdict.findings) {
    lines.push(`  FINDING ${changeLine(f)}`);
    for (const d of f.diff) lines.push(`      ${d}`);
  }
  if (ctx.verdict.allowed.length > 0) {
    const byRule = new Map<string, number>();
    for (const a of ctx.verdict.allowed) byRule.set(a.rule.id, (byRule.get(a.rule.id) ?? 0) + 1);
    lines.push(`  allow-listed: ${[...byRule].map(([id, n]) => `${id} (${n})`).join(", ")} (each resource in the report)`);
  }
  const secondDone = planned === ctx.copies.length;
  if (secondDone)
    lines.push(
      ctx.verdict.findings.length === 0
        ? "The second plan is empty apart from the allow-listed emulator gaps."
        : "The second plan is NOT empty: each finding above is a resource a second apply would change.",
    );
  const r = ctx.release;
  if (r) {
    lines.push("", `After a release of ${r.phase} (image tag ${r.previousTag} -> ${r.tag}, every service):`);
    if (r.registered)
      lines.push(
        `  release plan: ${r.registered.length} new task definition revision(s), ${r.services?.length ?? 0} service(s) changed${r.applySeconds !== undefined ? `; applied (${r.applySeconds.toFixed(1)} s)` : ""}`,
      );
    for (const s of r.codeDeploy ?? []) lines.push(`  CodeDeploy:   ${s}: ${CODEDEPLOY_NOT_REHEARSED}`);
    if (r.verdict) lines.push(`  third plan:   ${r.verdict.findings.length} finding(s), ${r.verdict.allowed.length} allow-listed emulator difference(s)`);
    for (const p of r.problems) lines.push(`  FINDING ${problemLine(r, p)}`);
    for (const f of r.verdict?.findings ?? []) {
      lines.push(`  FINDING after a release: ${changeLine(f)}`);
      for (const d of f.diff) lines.push(`      ${d}`);
    }
    if (r.verdict) {
      lines.push(
        releaseFindings(r) === 0
          ? `The ${r.phase} phase's plan after a release is empty apart from the allow-listed emulator gaps.`
          : `After a release, the ${r.phase} phase is NOT as a release leaves it: each finding above is a change the release made wrongly or that the next apply would make.`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Terraform's first error, on one line: `Error: <summary>` and the lines after it up to a blank one. */
export function terraformError(output: string): string {
  const lines = output
    .replace(/\r/g, "")
    .split("\n")
    .map((l) => l.replace(/^[│╷╵]\s?/, "").trimEnd());
  const start = lines.findIndex((l) => /^Error: /.test(l));
  if (start < 0) return lines.filter(Boolean).slice(-3).join(" ").slice(0, 400) || "(no output)";
  const body: string[] = [];
  for (const l of lines.slice(start)) {
    if (l === "" && body.length > 1) break;
    if (l !== "") body.push(l.trim());
  }
  return body.join(" ").slice(0, 600);
}

export function reportMarkdown(ctx: RunContext): string {
  const lines: string[] = [];
  lines.push(`# Emulated apply of ${ctx.env}: is the second plan empty?`, "");
  lines.push(
    `Every phase was applied in order into an AWS API emulator (${ctx.emulator}), each with its own S3 state in the emulator, then planned again.`,
    "A resource whose second plan is not empty would change at every apply: a finding, unless the emulator's own gap explains it",
    "(the allow-list in `scripts/emulate/allow-list.ts`). An emulator is not AWS: an empty second plan here does not say that AWS accepts the configuration.",
    "",
  );
  lines.push("| phase | stack | applied | second plan |", "|---|---|---|---|");
  for (const c of ctx.copies) {
    const p = ctx.phases.find((x) => x.phase === c.phase);
    const second = !p?.verdict
      ? "not planned"
      : p.verdict.findings.length > 0
        ? `**${p.verdict.findings.length} finding(s)**`
        : p.verdict.allowed.length > 0
          ? `empty apart from ${p.verdict.allowed.length} allow-listed`
          : "empty";
    const applied = p ? `yes (${p.applySeconds.toFixed(1)} s)` : ctx.failed?.phase === c.phase ? `**FAILED** (${ctx.failed.step})` : "no";
    lines.push(`| ${c.phase} | ${c.stack} | ${applied} | ${second} |`);
  }
  lines.push("");
  if (ctx.failed) {
    lines.push(`## Failed: ${ctx.failed.phase}, ${ctx.failed.step}`, "", "```", ctx.failed.result.output.trim().slice(-6000), "```", "");
  }
  lines.push(`## Findings (${ctx.verdict.findings.length})`, "");
  if (ctx.verdict.findings.length === 0)
    lines.push(ctx.failed ? "None so far: the run stopped before the second plan." : "None: no resource changes in the second plan beyond the allow-list.");
  for (const f of ctx.verdict.findings) {
    lines.push(`### ${changeLine(f)}`, "");
    for (const d of f.diff) lines.push(`- \`${d}\``);
    if (f.diff.length === 0) lines.push("- no attribute differs (see the plan text)");
    lines.push("");
  }
  lines.push("", `## Allow-listed emulator differences (${ctx.verdict.allowed.length})`, "");
  for (const a of ctx.verdict.allowed) lines.push(`- ${changeLine(a)}: ${a.attributes.map((x) => `\`${x}\``).join(", ")}: **${a.rule.id}**: ${a.rule.reason}`);
  const used = new Set(ctx.verdict.allowed.map((a) => a.rule.id));
  const unused = ctx.rules.filter((r) => r.handling === "second plan" && !used.has(r.id)).map((r) => r.id);
  if (!ctx.failed && unused.length > 0)
    lines.push(
      "",
      `Second-plan entries of the allow-list that matched nothing in this run (a gap moto may have closed, or a resource this environment lacks): ${unused.join(", ")}.`,
    );
  lines.push("", ...releaseSection(ctx));
  lines.push("", "## Stand-ins and edits in the emulated copies", "");
  const standIns = ctx.copies.flatMap((c) => c.standIns.map((s) => ({ phase: c.phase, ...s })));
  if (standIns.length === 0) lines.push("None.");
  for (const s of standIns)
    lines.push(
      `- ${s.phase}: \`${s.address}\`: ${s.why}; reads stood in: ${s.attributes.map((a) => `\`${a.attribute}\``).join(", ") || "none"}${s.created ? `; made in the emulator by a plain ${s.created.what} call, not read back` : ""}`,
    );
  const edits = ctx.copies.flatMap((c) => c.edits.map((e) => `- ${c.phase}: \`${e}\``));
  if (edits.length > 0) lines.push("", "Arguments set differently in the emulated copies:", "", ...edits);
  lines.push("", "## The allow-list", "", "| id | kind | handled by | reason |", "|---|---|---|---|");
  for (const r of ctx.rules) lines.push(`| ${r.id} | ${r.kind} | ${r.handling}${"type" in r ? ` (\`${r.type}\`)` : ""} | ${r.reason} |`);
  lines.push(
    "",
    "Each phase's emulated copy, second plan (`second-plan.json`, `second-plan.txt`) and state (in the emulator) are in its folder beside this report.",
    "",
  );
  return lines.join("\n");
}

/** The report's section on the release rehearsal. */
function releaseSection(ctx: RunContext): string[] {
  const r = ctx.release;
  const lines = ["## After a release: the services phase planned again", ""];
  if (!r) {
    lines.push(
      ctx.copies.some((c) => c.phase === "services") ? "Not rehearsed: the run stopped before it." : "Not rehearsed: this environment has no services phase.",
    );
    return lines;
  }
  lines.push(
    `After the second plans, the ${r.phase} phase was released as \`make release\` does it for every service: synthesized with the image tag ${r.tag} (the settings' ${r.previousTag} with \`${RELEASE_TAG_SUFFIX}\`; the settings file is not changed), the emulated copy \`${r.folder}/\` made as the first one (same backend key, so the same state), planned (\`release-plan.json\`, \`release-plan.txt\`), that saved plan applied, then planned again (\`third-plan.json\`, \`third-plan.txt\`). The release plan must register a new revision of every task definition that runs the tag and leave a service that CodeDeploy releases alone; the third plan must be empty apart from the allow-list.`,
    "",
  );
  if (r.registered) {
    lines.push(`- new task definition revisions: ${r.registered.map((a) => `\`${a}\``).join(", ") || "none"}`);
    // In moto every service shows delete+create (allow-list ecs-service-unset-fields); in AWS a release updates them in place.
    lines.push(`- services the release plan changes: ${r.services?.map((c) => `\`${c.address}\` (${c.actions.join("+")})`).join(", ") || "none"}`);
  }
  for (const s of r.codeDeploy ?? [])
    lines.push(`- \`${s}\`: ${CODEDEPLOY_NOT_REHEARSED}; \`make release\` then asks CodeDeploy to deploy it, which only AWS can show.`);
  if (r.applySeconds !== undefined) lines.push(`- applied in ${r.applySeconds.toFixed(1)} s (synth, plan and apply)`);
  lines.push("", `### Findings after a release (${releaseFindings(r)})`, "");
  if (releaseFindings(r) === 0)
    lines.push(
      r.verdict
        ? "None: the release did what a release does, and the plan after it has no change beyond the allow-list."
        : "None so far: the rehearsal stopped before the plan after the release.",
    );
  for (const p of r.problems) lines.push(`- ${problemLine(r, p)}`);
  for (const f of r.verdict?.findings ?? []) {
    lines.push(`#### after a release: ${changeLine(f)}`, "");
    for (const d of f.diff) lines.push(`- \`${d}\``);
    if (f.diff.length === 0) lines.push("- no attribute differs (see third-plan.txt)");
    lines.push("");
  }
  if (r.verdict && r.verdict.allowed.length > 0) {
    lines.push("", `Allow-listed emulator differences after the release (${r.verdict.allowed.length}):`, "");
    for (const a of r.verdict.allowed) lines.push(`- ${changeLine(a)}: ${a.attributes.map((x) => `\`${x}\``).join(", ")}: **${a.rule.id}**`);
  }
  return lines;
}
