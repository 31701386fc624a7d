/**
 * The review's "Restore in dr_region" part of "Region loss": the DR environment that `make restore`
 * stands up after losing the primary region (the stacks `accessweaver-<env>-dr-<phase>`, synthesized
 * with ACCESSWEAVER_DR=1, which `make review` sets), read from their JSON like everything else here: the
 * restore plan's size per phase (synthesized resources, and the rehearsal's or saved plans' counts), and
 * what the DR environment costs a month while it runs, priced by the environment's own estimate
 * (`estimate` of cost.ts) but kept apart from its monthly total: it is paid only during an outage or a drill.
 */
import { CostEstimate, estimate, money } from "./cost";
import { EnvModel, modelOf, providerRegion } from "./model";
import { PlanSummary } from "./plan-summary";
import { cell } from "./recovery";
import { HOURS_PER_MONTH, PRICE_TABLES } from "./prices";

/** The DR stacks' phases: `accessweaver-prod-dr-network` is the phase `dr-network` of prod. */
export const DR_PHASE_PREFIX = "dr-";
const isDr = (phase: string) => phase.startsWith(DR_PHASE_PREFIX);

/** The environment's own stacks, and its DR stacks when they were synthesized (each a model of its own). */
export function splitDr(m: EnvModel): { primary: EnvModel; dr?: EnvModel } {
  if (!m.stacks.some((s) => isDr(s.phase))) return { primary: m };
  return {
    primary: modelOf(
      m.env,
      m.stacks.filter((s) => !isDr(s.phase)),
    ),
    dr: modelOf(
      m.env,
      m.stacks.filter((s) => isDr(s.phase)),
    ),
  };
}

export interface DrPhase {
  readonly phase: string;
  readonly stack: string;
  /** Resources in the synthesized stack. */
  readonly resources: number;
  /** The rehearsal's (or a saved plan's) counts for the stack, when there is one. */
  readonly planned?: { readonly add: number; readonly change: number; readonly destroy: number };
  readonly monthlyUsd: number;
}

export type DrRestore =
  /** No DR region in the stacks (no recovery phase, no DR stacks): nothing to restore into. */
  | { readonly kind: "none"; readonly env: string }
  /** A DR region, but the DR stacks were not synthesized (a synth without ACCESSWEAVER_DR=1). */
  | { readonly kind: "not synthesized"; readonly env: string; readonly drRegion: string }
  | {
      readonly kind: "synthesized";
      readonly env: string;
      readonly drRegion: string;
      readonly phases: readonly DrPhase[];
      readonly resources: number;
      /** The saved plans or the rehearsal of the DR stacks; undefined without any, or when they hold none of them. */
      readonly plan?: PlanSummary;
      /** The DR environment priced like the environment: never part of its monthly total. */
      readonly cost: CostEstimate;
      readonly dailyUsd: number;
    };

const usd = (n: number) => Math.round(n * 100) / 100;

/**
 * The DR environment of `env`: `dr` is its DR stacks (splitDr), `drRegion` the recovery phase's region
 * (regionLoss), `region` the environment's, `plan` the saved plans or the rehearsal of the DR stacks.
 * Priced with the DR region's table, or else the environment's (each line then says it is an estimate).
 */
export function drRestore(env: string, dr: EnvModel | undefined, drRegion: string | undefined, region: string, plan?: PlanSummary): DrRestore {
  const at = dr?.stacks.map((s) => providerRegion(s)).find((r) => r !== undefined) ?? drRegion;
  if (!at) return { kind: "none", env };
  if (!dr) return { kind: "not synthesized", env, drRegion: at };
  const cost = estimate(dr, PRICE_TABLES[at] ? at : region);
  const planned = plan?.phases.some((p) => p.add + p.change + p.destroy > 0) ? plan : undefined;
  const phases = dr.stacks.map((s) => {
    const p = planned?.phases.find((x) => x.phase === s.phase);
    return {
      phase: s.phase,
      stack: s.name,
      resources: dr.resources.filter((r) => r.stack === s.name).length,
      ...(p ? { planned: { add: p.add, change: p.change, destroy: p.destroy } } : {}),
      monthlyUsd: cost.byPhase.get(s.phase) ?? 0,
    };
  });
  return {
    kind: "synthesized",
    env,
    drRegion: at,
    phases,
    resources: dr.resources.length,
    ...(planned ? { plan: planned } : {}),
    cost,
    dailyUsd: usd((cost.totalUsd * 24) / HOURS_PER_MONTH),
  };
}

/** The summary's line, or none without a DR region. */
export function drSummary(d: DrRestore): string[] {
  if (d.kind === "none") return [];
  if (d.kind === "not synthesized")
    return [`Restore in ${d.drRegion}: the DR environment is not synthesized (\`ACCESSWEAVER_DR=1\`; \`make review\` sets it).`];
  return [
    `Restore in ${d.drRegion}: ${d.resources} resources in ${d.phases.length} phases; estimated ${money(d.cost.totalUsd)}/month (${money(d.dailyUsd)}/day) while it runs, not in the total.`,
  ];
}

const signed = (p: NonNullable<DrPhase["planned"]>) => `+${p.add} ~${p.change} -${p.destroy}`;

/** The part of the "Region loss" section. */
export function drMarkdown(d: DrRestore): string[] {
  if (d.kind === "none") return [`no DR environment: ${d.env} has no DR region to restore into.`];
  const title = `### Restore in ${d.drRegion}`;
  if (d.kind === "not synthesized")
    return [
      title,
      "",
      `The DR environment (\`accessweaver-${d.env}-dr-<phase>\`) is not in the synthesized stacks: synthesize it with \`ACCESSWEAVER_DR=1 make synth ENV=${d.env}\` (\`make review\` does) to see the restore plan's size and its cost.`,
    ];
  const planned = d.plan !== undefined;
  const sum = (pick: (p: NonNullable<DrPhase["planned"]>) => number) => d.phases.reduce((a, p) => a + (p.planned ? pick(p.planned) : 0), 0);
  const e = d.cost;
  const lines = [
    title,
    "",
    `What \`make restore ENV=${d.env}\` stands up in ${d.drRegion} after losing the primary region: the DR stacks \`accessweaver-${d.env}-dr-<phase>\`, read from their synthesized JSON. It is paid only while it runs, during an outage or a drill: **not in the monthly total, nor in the budget comparison, below**.`,
    "",
    `**Restore plan: ${d.resources} resources in ${d.phases.length} phases** (synthesized). ${
      planned
        ? `Planned: from ${d.plan!.source}.${
            d.phases.some((p) => p.planned && p.planned.add !== p.resources)
              ? " Where its count differs from the synthesized one: the rehearsal stands in for `random_*` resources (no random provider offline), and a saved plan counts only what changes."
              : ""
          }`
        : `No saved plan or rehearsal of the DR stacks yet (\`make rehearse ENV=${d.env}\` plans the restore offline).`
    }`,
    "",
    `| phase | stack | resources |${planned ? " planned (+ ~ -) |" : ""} estimated monthly while it runs |`,
    `|---|---|---:|${planned ? "---:|" : ""}---:|`,
    ...d.phases.map(
      (p) => `| ${p.phase} | \`${p.stack}\` | ${p.resources} |${planned ? ` ${p.planned ? signed(p.planned) : "not planned"} |` : ""} ${money(p.monthlyUsd)} |`,
    ),
    `| **all** | | **${d.resources}** |${planned ? ` **${signed({ add: sum((p) => p.add), change: sum((p) => p.change), destroy: sum((p) => p.destroy) })}** |` : ""} **${money(e.totalUsd)}** |`,
    "",
    `**While it runs: estimated ${money(e.totalUsd)} a month, ${money(d.dailyUsd)} a day** (${HOURS_PER_MONTH} hours a month, 24 a day), priced like the environment (same lines, same price table, ${e.region}).${
      e.region !== d.drRegion ? ` Every line is an estimate: the table lists ${e.region} only, and its prices are used for ${d.drRegion}.` : ""
    } Usage (traffic, log and storage volume) is not in it${e.unpriced.length > 0 ? `, nor ${e.unpriced.length} resource(s) without a price (listed, never counted as zero)` : ""}.`,
    "",
    "<details><summary>the DR environment's cost lines, largest first</summary>",
    "",
    "| phase | resource | what | monthly |",
    "|---|---|---|---:|",
    ...[...e.lines].sort((a, b) => b.monthlyUsd - a.monthlyUsd).map((l) => `| ${l.phase} | \`${l.address}\` | ${cell(l.detail)} | ${money(l.monthlyUsd)} |`),
    ...e.usage.map((u) => `| ${u.phase} | \`${u.address}\` | ${cell(u.reason)} | usage: not in it |`),
    ...e.unpriced.map((u) => `| ${u.phase} | \`${u.address}\` | ${cell(u.reason)} | **not priced** |`),
    "",
    "</details>",
  ];
  return lines;
}
