/** summary.md of a rehearsal: per phase, the resources a first apply would create, by type. */
import { CheckRoot } from "./generate";
import { Json, isObject } from "./json";

export interface PhaseCount {
  readonly phase: string;
  readonly stack: string;
  /** Resource type -> number of resources to create. */
  readonly create: ReadonlyMap<string, number>;
  /** Planned actions other than create (there should be none from an empty state): address -> actions. */
  readonly other: ReadonlyMap<string, string>;
}

/** Counts `resource_changes` of `terraform show -json` by phase module. */
export function countPlan(root: CheckRoot, plan: Json): PhaseCount[] {
  const changes = isObject(plan) && Array.isArray(plan.resource_changes) ? plan.resource_changes.filter(isObject) : [];
  return root.phases.map((p) => {
    const create = new Map<string, number>();
    const other = new Map<string, string>();
    for (const rc of changes) {
      if (rc.mode !== "managed" || typeof rc.type !== "string" || typeof rc.address !== "string") continue;
      if (typeof rc.module_address !== "string" || !(rc.module_address === `module.${p.module}` || rc.module_address.startsWith(`module.${p.module}.`)))
        continue;
      const actions = isObject(rc.change) && Array.isArray(rc.change.actions) ? rc.change.actions.map(String) : [];
      if (actions.length === 1 && actions[0] === "create") create.set(rc.type, (create.get(rc.type) ?? 0) + 1);
      else other.set(rc.address, actions.join("+"));
    }
    return { phase: p.phase, stack: p.stack, create: new Map([...create].sort(([a], [b]) => a.localeCompare(b))), other };
  });
}

const total = (c: PhaseCount) => [...c.create.values()].reduce((a, b) => a + b, 0);

export function summaryMarkdown(root: CheckRoot, counts: readonly PhaseCount[], files: { checkRoot: string; plan: string }): string {
  const lines: string[] = [];
  lines.push(`# Rehearsal of a first apply: ${root.env}`, "");
  lines.push(
    `An offline \`terraform plan\` of the check root \`${files.checkRoot}\` from an empty state, with stand-in credentials and no network:`,
    "what a first apply of every phase into an empty account would create. It is a rehearsal, not a plan of real",
    "infrastructure; no AWS API was called, so nothing here says that AWS would accept it.",
    "",
  );
  lines.push("| phase | stack | resources to create |", "|---|---|---:|");
  for (const c of counts) lines.push(`| ${c.phase} | ${c.stack} | ${total(c)} |`);
  lines.push(`| **all** | | **${counts.reduce((a, c) => a + total(c), 0)}** |`, "");

  for (const c of counts) {
    lines.push(`## ${c.phase} (${c.stack}): ${total(c)} to create`, "");
    const reads = root.wires.filter((w) => w.phase === c.phase);
    if (reads.length > 0) {
      const ups = [...new Set(reads.map((w) => w.upstream))];
      lines.push(`Reads ${reads.length} output(s) of ${ups.join(", ")}, wired as module inputs (known after apply).`, "");
    }
    lines.push("| resource type | to create |", "|---|---:|");
    for (const [type, n] of c.create) lines.push(`| ${type} | ${n} |`);
    lines.push("");
    for (const [address, actions] of c.other) lines.push(`- unexpected from an empty state: ${actions} ${address}`);
    if (c.other.size > 0) lines.push("");
  }

  lines.push("## Stand-ins", "");
  if (root.standIns.length === 0) lines.push("None: every provider the stacks use was available.");
  else {
    lines.push(
      "These resources were NOT rehearsed: their provider is not in the plugin mirror, so each attribute the stacks read is a sensitive input with a stand-in value.",
      "",
    );
    for (const s of root.standIns)
      lines.push(`- ${s.phase}: \`${s.address}\` (${s.provider}) -> ${s.inputs.map((i) => `\`var.${i.variable}\``).join(", ") || "not read"}`);
  }
  lines.push("", `Plan: \`${files.plan}\` (\`plan.json\`, \`plan.txt\` beside it).`, "");
  return lines.join("\n");
}

/**
 * What a rehearsal from an empty state must plan: every managed resource of each phase's copy (stand-ins
 * excluded) created, and nothing else. Returns one line per difference; empty when the plan matches.
 */
export function planMismatches(root: CheckRoot, plan: Json): string[] {
  const changes = isObject(plan) && Array.isArray(plan.resource_changes) ? plan.resource_changes.filter(isObject) : [];
  const out: string[] = [];
  for (const p of root.phases) {
    const own = changes.filter((rc) => rc.mode === "managed" && rc.module_address === `module.${p.module}`);
    const planned = new Set(own.map((rc) => `${String(rc.type)}.${String(rc.name)}`));
    for (const address of p.resources) if (!planned.has(address)) out.push(`${p.phase}: ${address} is in ${p.stack} but not in the plan`);
    const expected = new Set(p.resources);
    for (const address of planned) if (!expected.has(address)) out.push(`${p.phase}: the plan has ${address}, which ${p.stack} does not declare`);
    for (const rc of own) {
      const actions = isObject(rc.change) && Array.isArray(rc.change.actions) ? rc.change.actions.map(String) : [];
      if (actions.join() !== "create")
        out.push(`${p.phase}: ${String(rc.address)} would ${actions.join("+") || "do nothing"}, not create, from an empty state`);
    }
  }
  return out;
}
