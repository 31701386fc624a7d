/**
 * The review of one environment, `cdktf.out/review/<env>.md`: what a Terraform reviewer is handed with
 * every plan, generated from the synthesized stacks (and the saved plans or the rehearsal), never drawn
 * by hand. Reads well as a pull-request comment.
 */
import { Audit, audit, auditMarkdown } from "./audit";
import { CostEstimate, DR_GROUP, estimate, levers, money } from "./cost";
import { DrRestore, drMarkdown, drRestore, drSummary, splitDr } from "./dr";
import { EnvModel } from "./model";
import { diagram, matrixMarkdown } from "./network-view";
import { PlanSummary, planMarkdown } from "./plan-summary";
import { regionLoss, regionLossMarkdown, regionLossSummary } from "./recovery";
import { diff, shape } from "./shape";

export interface ReviewInputs {
  /**
   * The environment's stacks, with its DR stacks (`accessweaver-<env>-dr-<phase>`) when they were
   * synthesized: those are taken apart here, shown in "Region loss" and never counted in the estimate.
   */
  readonly model: EnvModel;
  readonly region: string;
  /** The environment's monthly budget (its aws_budgets_budget, else its settings). */
  readonly budgetUsd: number;
  readonly plan: PlanSummary | undefined;
  /** The saved plans or the rehearsal of the DR stacks (summarizePlans of them). */
  readonly drPlan?: PlanSummary;
  /** Another environment to compare with (`COMPARE=prod`). */
  readonly compare?: EnvModel;
  readonly generatedAt: string;
}

export interface Review {
  readonly markdown: string;
  /** A few lines for the terminal. */
  readonly summary: string;
  readonly cost: CostEstimate;
  readonly audit: Audit;
  /** The DR environment: the restore plan's size and its cost while it runs (not in `cost`). */
  readonly restore: DrRestore;
}

export function review(inputs: ReviewInputs): Review {
  const { primary: m, dr } = splitDr(inputs.model);
  const compare = inputs.compare && splitDr(inputs.compare).primary;
  const cost = estimate(m, inputs.region);
  const copies = regionLoss(m, inputs.region);
  const restore = drRestore(m.env, dr, copies.drRegion, inputs.region, inputs.drPlan);
  const checks = audit(m);
  const violations = checks.stacks.reduce((n, s) => n + s.violations.length, 0);
  const fits = cost.totalUsd <= inputs.budgetUsd;
  const out: string[] = [];
  const section = (title: string, ...body: string[]) => out.push(`## ${title}`, "", ...body, "");

  out.push(
    `# Review of ${m.env}`,
    "",
    `Generated ${inputs.generatedAt} from the synthesized stacks (\`cdktf.out/stacks\`); nothing here was read from AWS.`,
    "",
  );
  const summaryLines = [
    `${m.stacks.length} phase(s): ${m.stacks.map((s) => s.phase).join(", ")}; ${m.resources.length} resources.`,
    `Estimated ${money(cost.totalUsd)}/month at ${cost.region} list prices, budget ${money(inputs.budgetUsd)}: ${fits ? "fits" : `DOES NOT FIT (${money(cost.totalUsd - inputs.budgetUsd)} over)`}.`,
    `Guardrails: ${violations === 0 ? "every stack passes" : `${violations} violation(s)`} (${checks.mode}).`,
    `Plan: ${inputs.plan ? inputs.plan.phases.map((p) => `${p.phase} +${p.add} ~${p.change} -${p.destroy}`).join(", ") : "none saved"}${inputs.plan?.phases.some((p) => p.stateful.length > 0) ? "; DESTROYS DATA, read the plan section" : ""}.`,
    regionLossSummary(copies),
    ...drSummary(restore),
  ];
  section("Summary", ...summaryLines.map((l) => `- ${l}`));

  const phases: string[] = [];
  for (const s of m.stacks) {
    const own = m.resources.filter((r) => r.stack === s.name);
    const byType = new Map<string, number>();
    for (const r of own) byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
    phases.push(`### ${s.phase} (\`${s.name}\`): ${own.length} resources`, "", "| type | count |", "|---|---:|");
    for (const [t, n] of [...byType].sort(([a], [b]) => a.localeCompare(b))) phases.push(`| ${t} | ${n} |`);
    phases.push(
      "",
      "<details><summary>addresses (state address, and as the rehearsal names it)</summary>",
      "",
      "| state address | rehearsal (`make rehearse`) |",
      "|---|---|",
    );
    for (const r of own) phases.push(`| \`${r.address}\` | \`module.${s.phase}.${r.address}\` |`);
    phases.push("", "</details>", "");
  }
  section("Phases and resources", ...phases);
  section("Settings that matter", "| setting | value |", "|---|---|", ...shape(m).map((r) => `| ${r.setting} | ${r.value} |`));
  section("Guardrails", auditMarkdown(checks));
  section("Security groups: who reaches whom", matrixMarkdown(m));
  section("Region loss", ...regionLossMarkdown(copies, cost), "", ...drMarkdown(restore));
  section("Estimated monthly cost", ...costMarkdown(m, cost, inputs.budgetUsd, restore));
  section(
    "Architecture",
    "Drawn from the synthesized resources (a node exists only when its resources do; tier edges are the security-group rules).",
    "",
    "```mermaid",
    diagram(m),
    "```",
  );
  section("Plan", planMarkdown(inputs.plan));
  if (compare) section(`Compared with ${compare.env}`, ...compareMarkdown(m, compare));
  return { markdown: out.join("\n"), summary: summaryLines.join("\n"), cost, audit: checks, restore };
}

function costMarkdown(m: EnvModel, cost: CostEstimate, budget: number, restore: DrRestore): string[] {
  const lines: string[] = [];
  const over = cost.totalUsd - budget;
  lines.push(
    over > 0
      ? `**This configuration cannot fit the budget**: ${money(cost.totalUsd)} per month against ${money(budget)} (${money(over)} over, before usage charges).`
      : `${money(cost.totalUsd)} per month, within the budget of ${money(budget)} (${money(-over)} left for usage charges).`,
    "",
    `On-demand list prices for ${cost.region} (\`scripts/review/prices.ts\`: each price with its source and the month it was read), 730 hours a month. Usage (traffic, requests, log and storage volume) is not in the total.`,
    "",
    "| phase | monthly |",
    "|---|---:|",
    ...[...cost.byPhase].map(([phase, n]) => `| ${phase} | ${money(n)} |`),
    `| **total** | **${money(cost.totalUsd)}** |`,
    "",
    ...(restore.kind === "synthesized"
      ? [
          `The DR environment in ${restore.drRegion} is not in the total: ${money(restore.cost.totalUsd)} a month while it runs, during an outage or a drill (see "Region loss").`,
          "",
        ]
      : []),
    ...(cost.lines.some((l) => l.group === DR_GROUP)
      ? [
          `Of the total, ${money(cost.lines.filter((l) => l.group === DR_GROUP).reduce((a, l) => a + l.monthlyUsd, 0))} is the copies out of ${cost.region} (the lines marked "estimate" are priced in another region with ${cost.region}'s price; see "Region loss").`,
          "",
        ]
      : []),
    "Largest lines first:",
    "",
    "| phase | resource | what | monthly |",
    "|---|---|---|---:|",
    ...[...cost.lines].sort((a, b) => b.monthlyUsd - a.monthlyUsd).map((l) => `| ${l.phase} | \`${l.address}\` | ${l.detail} | ${money(l.monthlyUsd)} |`),
    "",
  );
  const ls = levers(m, cost);
  if (ls.length > 0)
    lines.push("Levers a reviewer could pull (monthly saving on this estimate):", "", ...ls.map((l) => `- ${l.what}: about ${money(l.savesUsd)}`), "");
  if (cost.usage.length > 0)
    lines.push("Usage-based charges (not in the total):", "", ...cost.usage.map((u) => `- ${u.phase}: \`${u.address}\`: ${u.reason}`), "");
  lines.push(
    cost.unpriced.length > 0 ? "**Not priced** (not in the total):" : "Every resource is priced, usage-based, or free of charge.",
    "",
    ...cost.unpriced.map((u) => `- ${u.phase}: \`${u.address}\`: ${u.reason}`),
  );
  return lines;
}

function compareMarkdown(m: EnvModel, other: EnvModel): string[] {
  const d = diff(m, other);
  const lines = [
    `Settings (environment names replaced by \`<env>\`):`,
    "",
    `| setting | ${m.env} | ${other.env} |`,
    "|---|---|---|",
    ...d.settings.map(([k, a, b]) => `| ${k} | ${a} | ${b} |`),
  ];
  lines.push(
    "",
    "Resource counts that differ:",
    "",
    `| type | ${m.env} | ${other.env} |`,
    "|---|---:|---:|",
    ...d.counts.map(([t, a, b]) => `| ${t} | ${a} | ${b} |`),
  );
  if (d.settings.length === 0 && d.counts.length === 0) lines.push("", "Same shape.");
  return lines;
}
