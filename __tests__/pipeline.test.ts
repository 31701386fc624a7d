// The team pipeline (.github/workflows): every command it runs is a real make target, the phase jobs
// follow the registered phases in order, and cloud credentials come from OIDC, never stored keys.
import * as fs from "fs";
import * as path from "path";
import { REGISTERED_PHASES } from "../src/stacks/registry";
import { PHASES } from "../src/naming";
import { ROOT } from "./support/config";

const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const files = fs.readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml"));
const text = (file: string) => fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
const makeTargets = new Set([...fs.readFileSync(path.join(ROOT, "Makefile"), "utf8").matchAll(/^([a-z][a-z-]*):/gm)].map((m) => m[1]!));

/** The shell commands of a workflow: each `run:` value, split on `||` and `&&`. */
function commands(file: string): string[] {
  return [...text(file).matchAll(/^\s*(?:- )?run: (.+)$/gm)].flatMap((m) => m[1]!.split(/\s*(?:\|\||&&)\s*/));
}

describe("the team pipeline", () => {
  it("has the workflow and the per-phase job it calls", () => {
    expect(files.sort()).toEqual(["infrastructure.yml", "phase.yml"]);
  });

  it("runs only real make targets (and writes the settings, publishes the plan text, comments on the pull request)", () => {
    const all = files.flatMap(commands);
    const makes = all.filter((c) => c.startsWith("make "));
    expect(makes.length).toBeGreaterThan(5);
    for (const c of makes) expect([c, makeTargets.has(c.split(" ")[1]!)]).toEqual([c, true]);
    for (const c of all.filter((x) => !x.startsWith("make ")))
      expect(c).toMatch(
        /^(printf '%s\\n' "\$TFVARS" > "environments\/\$AW_ENV\/terraform\.tfvars"|gh pr comment |cat cdktf\.out\/plans\/\*\.tfplan\.txt >> "\$GITHUB_STEP_SUMMARY")/,
      );
    expect(makes).toEqual(expect.arrayContaining(["make test", "make review ENV=prod COMPARE=staging"]));
  });

  it("plans and applies staging then prod, one job per registered phase, in phase order", () => {
    const jobs = [...text("infrastructure.yml").matchAll(/^ {2}([a-z]+-[a-z]+):\n(?: {4}.*\n)*? {4}with: \{ env: ([a-z]+), phase: ([a-z]+) \}/gm)].map((m) => [
      m[1],
      m[2],
      m[3],
    ]);
    const phases = [...REGISTERED_PHASES].map((p) => p.phase).sort((a, b) => PHASES.indexOf(a) - PHASES.indexOf(b));
    expect(jobs).toEqual(["staging", "prod"].flatMap((env) => phases.map((phase) => [`${env}-${phase}`, env, phase])));
    // Each job waits for the one before it.
    const needs = [...text("infrastructure.yml").matchAll(/^ {4}needs: (\S+)$/gm)].map((m) => m[1]);
    expect(needs).toEqual(["test", ...jobs.slice(0, -1).map((j) => j[0])]);
  });

  it("applies a phase only in a second job, behind the environment's approval, from the plan the first job published", () => {
    const phase = text("phase.yml");
    const plan = phase.slice(phase.indexOf("\n  plan:"), phase.indexOf("\n  apply:"));
    const apply = phase.slice(phase.indexOf("\n  apply:"));
    expect(plan).not.toContain("environment:");
    expect(plan).toContain("make plan ");
    expect(plan).not.toContain("make apply");
    expect(apply).toContain("needs: plan");
    expect(apply).toContain("environment: ${{ inputs.env }}");
    expect(apply).toContain("actions/download-artifact");
    expect(apply).not.toContain("make plan ");
  });

  it("assumes a role through OIDC: no stored AWS keys anywhere", () => {
    const phase = text("phase.yml");
    expect(phase).toContain("id-token: write");
    expect(phase).toContain("role-to-assume:");
    for (const f of files) expect(text(f)).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
  });
});
