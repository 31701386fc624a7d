/**
 * What a plan would do, per phase: from the saved plans of `make plan` (`terraform show -json`), or, when
 * there are none, from the offline rehearsal of `make rehearse`. Stateful resources deleted or replaced
 * are listed first.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { countChanges } from "../operator/workflow";
import { EnvModel } from "./model";

export interface PhasePlan {
  readonly phase: string;
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
  readonly replace: number;
  readonly stateful: readonly string[];
}

export interface PlanSummary {
  readonly source: string;
  readonly phases: readonly PhasePlan[];
}

type Change = NonNullable<Parameters<typeof countChanges>[0]["resource_changes"]>[number] & { module_address?: string };
type PlanJson = { resource_changes?: Change[] };

/** Summaries of the saved plans of `m`'s stacks, read with `tf show -json` (Terraform, or a stand-in). */
export function summarizePlans(m: EnvModel, outdir: string, tf: string): PlanSummary | undefined {
  const plans = m.stacks.map((s) => ({ s, file: path.join(outdir, "plans", `${s.name}.tfplan`) })).filter((p) => fs.existsSync(p.file));
  if (plans.length > 0) {
    const phases = plans.map(({ s, file }) => {
      const r = spawnSync(tf, [`-chdir=${s.dir}`, "show", "-json", path.resolve(file)], { encoding: "utf8", env: { ...process.env, TF_IN_AUTOMATION: "1" } });
      if (r.status !== 0) throw new Error(`${tf} show -json ${file} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
      return { phase: s.phase, ...countChanges(JSON.parse(r.stdout) as PlanJson) };
    });
    return { source: `saved plans (${path.join(outdir, "plans")}/, make plan)`, phases };
  }
  const rehearsal = path.join(outdir, "rehearsal", m.env, "plan.json");
  if (!fs.existsSync(rehearsal)) return undefined;
  const json = JSON.parse(fs.readFileSync(rehearsal, "utf8")) as PlanJson;
  const phases = m.stacks.map((s) => {
    const own = (json.resource_changes ?? []).filter((rc) => rc.module_address === `module.${s.phase}`);
    return { phase: s.phase, ...countChanges({ resource_changes: own }) };
  });
  return { source: `the offline rehearsal of a first apply (${rehearsal}, make rehearse): not a plan of real infrastructure`, phases };
}

export function planMarkdown(p: PlanSummary | undefined): string {
  if (!p) return "No saved plan (`make plan`) and no rehearsal (`make rehearse`) for this environment yet.";
  const stateful = p.phases.flatMap((ph) => ph.stateful.map((s) => `- **${ph.phase}: ${s}**`));
  return [
    `From ${p.source}.`,
    "",
    ...(stateful.length > 0 ? ["**Resources that hold data would be destroyed or replaced:**", ...stateful, ""] : []),
    "| phase | add | change | destroy | replace |",
    "|---|---:|---:|---:|---:|",
    ...p.phases.map((ph) => `| ${ph.phase} | ${ph.add} | ${ph.change} | ${ph.destroy} | ${ph.replace} |`),
  ].join("\n");
}
