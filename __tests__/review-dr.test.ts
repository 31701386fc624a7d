// The review's "Restore in dr_region" part of "Region loss": the DR environment's size per phase and its
// monthly cost while it runs, read from prod's primary and DR stacks synthesized in one app (every read
// of another stack is in the JSON); the environment's own estimate and budget comparison are unchanged
// by the DR stacks. Then `review.ts review prod` on a synthesized output folder with a rehearsal, and dev.
import * as fs from "fs";
import * as path from "path";
import { EnvironmentName } from "../src/naming";
import { buildDrEnvironment } from "../src/stacks/registry";
import { synthesize } from "../src/synth";
import { STACK_NAME, SynthStack, dependencyOrder } from "../scripts/tf-check/stacks";
import { CostEstimate, money } from "../scripts/review/cost";
import { EnvModel, modelOf } from "../scripts/review/model";
import { EU_WEST_1, HOURS_PER_MONTH } from "../scripts/review/prices";
import { Review, review } from "../scripts/review/report";
import { main } from "../scripts/review";
import { ROOT, StackJson, buildEnv, config, readJson, synthEnv, tempDir } from "./support/config";

/** The primary and DR stacks of `env`, synthesized in one app, by stack name. */
function synthWithDr(env: EnvironmentName): Record<string, StackJson> {
  const cfg = config(env);
  const { app, stacks } = buildEnv(cfg);
  const dr = buildDrEnvironment(app, cfg);
  app.synth();
  const out = Object.fromEntries([...stacks, ...dr].map((s) => [s.node.id, readJson(path.join(app.outdir, "stacks", s.node.id, "cdk.tf.json"))]));
  fs.rmSync(app.outdir, { recursive: true, force: true });
  return out;
}

/** The review's model of stacks given by name, as loadEnv reads their folders (`accessweaver-prod-dr-network` is phase `dr-network`). */
const modelOfStacks = (env: string, byName: Record<string, StackJson>): EnvModel =>
  modelOf(
    env,
    dependencyOrder(
      Object.entries(byName).map(([name, json]): SynthStack => ({
        name,
        env,
        phase: STACK_NAME.exec(name)![2]!,
        dir: `/synth/stacks/${name}`,
        config: json,
        dependencies: [],
      })),
    ),
  );

const reviewOf = (m: EnvModel): Review => review({ model: m, region: "eu-west-1", budgetUsd: 3000, plan: undefined, generatedAt: "2026-01-01T00:00:00Z" });

/** The text of one `## ` section of the report. */
const sectionOf = (markdown: string, title: string) => {
  const start = markdown.indexOf(`## ${title}\n`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = markdown.indexOf("\n## ", start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
};

const round = (n: number) => Math.round(n * 100) / 100;
const resourceCount = (json: StackJson) => Object.values<Record<string, unknown>>(json.resource ?? {}).reduce((n, byName) => n + Object.keys(byName).length, 0);
const only = (json: StackJson, type: string) => {
  const all = Object.values<Record<string, any>>(json.resource?.[type] ?? {});
  expect(all).toHaveLength(1);
  return all[0]!;
};
/** What the lines of the running environment's database, cache and services cost: the part sized like prod. */
const sized = (e: CostEstimate) => round(e.lines.filter((l) => ["database", "cache", "compute"].includes(l.group)).reduce((a, l) => a + l.monthlyUsd, 0));

describe("the review of prod with its DR environment synthesized", () => {
  let all: Record<string, StackJson>;
  let drNames: string[];
  let withDr: Review;
  let without: Review;
  beforeAll(() => {
    all = synthWithDr("prod");
    drNames = Object.keys(all).filter((n) => n.startsWith("accessweaver-prod-dr-"));
    withDr = reviewOf(modelOfStacks("prod", all));
    without = reviewOf(modelOfStacks("prod", Object.fromEntries(Object.entries(all).filter(([n]) => !drNames.includes(n)))));
  }, 120_000);

  it("shows the restore plan's size: the resources of each DR phase, counted in the JSON", () => {
    expect(drNames).toEqual(["network", "database", "cache", "loadbalancer", "services", "observability"].map((p) => `accessweaver-prod-dr-${p}`));
    const restore = withDr.restore;
    if (restore.kind !== "synthesized") throw new Error(`expected the DR environment, got ${restore.kind}`);
    expect(restore.drRegion).toBe("eu-central-1");
    expect(Object.fromEntries(restore.phases.map((p) => [p.stack, p.resources]))).toEqual(Object.fromEntries(drNames.map((n) => [n, resourceCount(all[n])])));
    const total = drNames.reduce((n, name) => n + resourceCount(all[name]), 0);
    expect(restore.resources).toBe(total);

    const section = sectionOf(withDr.markdown, "Region loss");
    expect(section).toContain("### Restore in eu-central-1\n");
    expect(section).toContain(`**Restore plan: ${total} resources in 6 phases** (synthesized).`);
    for (const name of drNames) {
      const phase = STACK_NAME.exec(name)![2]!;
      expect(section).toContain(`| ${phase} | \`${name}\` | ${resourceCount(all[name])} | ${money(restore.cost.byPhase.get(phase) ?? 0)} |`);
    }
    expect(section).toContain("No saved plan or rehearsal of the DR stacks yet (`make rehearse ENV=prod` plans the restore offline).");
  });

  it("prices the DR environment while it runs with the environment's cost model: sized like prod, every line an estimate", () => {
    const restore = withDr.restore;
    if (restore.kind !== "synthesized") throw new Error("no DR environment");
    const e = restore.cost;
    // The restored database and the fresh cache, priced from the DR JSON by hand with the table.
    const db = only(all["accessweaver-prod-dr-database"], "aws_db_instance");
    const dbCopies = db.multi_az === true ? 2 : 1;
    expect(e.lines.filter((l) => l.phase === "dr-database" && l.address.startsWith("aws_db_instance.")).map((l) => l.monthlyUsd)).toEqual([
      round(dbCopies * EU_WEST_1.rdsPostgres[db.instance_class]!.usd * HOURS_PER_MONTH), // 2 x 0.504 x 730 = 735.84
      round(db.allocated_storage * (dbCopies === 2 ? EU_WEST_1.rdsGp3.multiAz : EU_WEST_1.rdsGp3.singleAz).usd), // 100 GB x 0.254
    ]);
    const cache = only(all["accessweaver-prod-dr-cache"], "aws_elasticache_replication_group");
    expect(e.lines.find((l) => l.phase === "dr-cache" && l.group === "cache")!.monthlyUsd).toBe(
      round(cache.num_node_groups * (1 + cache.replicas_per_node_group) * EU_WEST_1.elasticacheRedis[cache.node_type]!.usd * HOURS_PER_MONTH), // 9 x 0.458 x 730
    );
    // Same sizes as prod: the database, cache and services cost what prod's do.
    expect(sized(e)).toBeGreaterThan(4000);
    expect(Math.abs(sized(e) - sized(withDr.cost)) / sized(withDr.cost)).toBeLessThan(0.01);
    // The table is eu-west-1 only: every line made in eu-central-1 (or us-east-1) says so.
    expect(e.lines.length).toBeGreaterThan(20);
    for (const l of e.lines)
      expect(l.detail).toMatch(/; estimate: eu-west-1 price used for (eu-central-1|us-east-1) \(prices-eu-west-1\.md lists eu-west-1 only\)$/);
    expect(e.unpriced).toEqual([]);

    const monthly = round(e.lines.reduce((a, l) => a + l.monthlyUsd, 0));
    const daily = round((monthly * 24) / HOURS_PER_MONTH);
    expect(e.totalUsd).toBe(monthly);
    expect(restore.dailyUsd).toBe(daily);
    const section = sectionOf(withDr.markdown, "Region loss");
    expect(section).toContain(`**While it runs: estimated ${money(monthly)} a month, ${money(daily)} a day** (730 hours a month, 24 a day)`);
    expect(section).toContain("Every line is an estimate: the table lists eu-west-1 only, and its prices are used for eu-central-1.");
    expect(section).toContain(`| **all** | | **${restore.resources}** | **${money(monthly)}** |`);
    expect(withDr.summary).toContain(
      `Restore in eu-central-1: ${restore.resources} resources in 6 phases; estimated ${money(monthly)}/month (${money(daily)}/day) while it runs, not in the total.`,
    );
  });

  it("keeps the environment's estimate and budget comparison as they are without the DR stacks", () => {
    expect(withDr.cost.totalUsd).toBe(without.cost.totalUsd);
    expect(withDr.cost.lines).toEqual(without.cost.lines);
    expect([...withDr.cost.byPhase.keys()].some((p) => p.startsWith("dr-"))).toBe(false);
    const budgetLine = (r: Review) => r.summary.split("\n").find((l) => l.startsWith("Estimated "));
    expect(budgetLine(withDr)).toBe(budgetLine(without));
    expect(budgetLine(withDr)).toContain(`Estimated ${money(without.cost.totalUsd)}/month`);
    // The other sections read the environment's own stacks only.
    expect(withDr.summary.split("\n")[0]).toBe(without.summary.split("\n")[0]);
    expect(sectionOf(withDr.markdown, "Phases and resources")).toBe(sectionOf(without.markdown, "Phases and resources"));
    const cost = sectionOf(withDr.markdown, "Estimated monthly cost");
    expect(cost).toContain(`| **total** | **${money(without.cost.totalUsd)}** |`);
    expect(cost).not.toMatch(/\| dr-/);
    const restore = withDr.restore;
    if (restore.kind !== "synthesized") throw new Error("no DR environment");
    expect(cost).toContain(`The DR environment in eu-central-1 is not in the total: ${money(restore.cost.totalUsd)} a month while it runs`);
  });

  it("without the DR stacks, says they are not synthesized and how to get them", () => {
    expect(without.restore).toEqual({ kind: "not synthesized", env: "prod", drRegion: "eu-central-1" });
    expect(sectionOf(without.markdown, "Region loss")).toContain("synthesize it with `ACCESSWEAVER_DR=1 make synth ENV=prod` (`make review` does)");
    expect(without.summary).toContain("Restore in eu-central-1: the DR environment is not synthesized");
  });
});

describe("review.ts review prod, on an output folder holding the DR stacks and a rehearsal", () => {
  it("shows the rehearsal's counts per DR phase beside the synthesized ones, and keeps them out of the Plan section", async () => {
    const outdir = path.join(tempDir("aw-review-dr-"), "cdktf.out");
    try {
      const names = await synthesize({ outdir, envSelection: "prod", rootDir: ROOT, dr: true, notice: () => undefined });
      expect(names.filter((n) => n.includes("-dr-"))).toHaveLength(6);
      const count = (name: string) => resourceCount(readJson(path.join(outdir, "stacks", name, "cdk.tf.json")));
      // A rehearsal plan that creates every resource of the primary network and of the DR network, and one of the DR cache.
      const creates = (module: string, n: number) =>
        Array.from({ length: n }, (_, i) => ({
          address: `module.${module}.x.r${i}`,
          module_address: `module.${module}`,
          mode: "managed",
          type: "x",
          change: { actions: ["create"] },
        }));
      const dir = path.join(outdir, "rehearsal", "prod");
      fs.mkdirSync(dir, { recursive: true });
      const drNetwork = count("accessweaver-prod-dr-network");
      fs.writeFileSync(
        path.join(dir, "plan.json"),
        JSON.stringify({
          resource_changes: [...creates("network", count("accessweaver-prod-network")), ...creates("dr-network", drNetwork), ...creates("dr-cache", 1)],
        }),
      );
      const write = process.stdout.write.bind(process.stdout);
      let stdout = "";
      process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
      process.env.CDKTF_OUTDIR = outdir;
      try {
        expect(await main(["review", "prod"])).toBe(0);
      } finally {
        process.stdout.write = write;
        delete process.env.CDKTF_OUTDIR;
      }
      const report = fs.readFileSync(path.join(outdir, "review", "prod.md"), "utf8");
      const section = sectionOf(report, "Region loss");
      expect(section).toMatch(/Planned: from the offline rehearsal of a first apply \(.*rehearsal\/prod\/plan\.json, make rehearse\)/);
      expect(section).toMatch(
        new RegExp(`\\| dr-network \\| \`accessweaver-prod-dr-network\` \\| ${drNetwork} \\| \\+${drNetwork} ~0 -0 \\| [\\d,.]+ USD \\|`),
      );
      expect(section).toMatch(new RegExp(`\\| dr-cache \\| \`accessweaver-prod-dr-cache\` \\| ${count("accessweaver-prod-dr-cache")} \\| \\+1 ~0 -0 \\|`));
      expect(section).toContain("Where its count differs from the synthesized one");
      // The environment's plan is its own phases only; its estimate has no DR phase.
      expect(sectionOf(report, "Plan")).not.toMatch(/\| dr-/);
      expect(stdout).toMatch(/\nPlan: network \+\d+ ~0 -0, database \+0 ~0 -0, .*recovery \+0 ~0 -0\.\n/);
      expect(stdout).toMatch(
        /\nRestore in eu-central-1: \d+ resources in 6 phases; estimated [\d,.]+ USD\/month \([\d,.]+ USD\/day\) while it runs, not in the total\.\n/,
      );
      expect(sectionOf(report, "Phases and resources")).not.toContain("dr-network");
    } finally {
      fs.rmSync(path.dirname(outdir), { recursive: true, force: true });
    }
  }, 120_000);
});

describe("the review of dev: no DR region", () => {
  it("says in one line that there is no DR environment", () => {
    const synthesized = synthEnv(config("dev"));
    const r = reviewOf(modelOfStacks("dev", synthesized.byStack));
    expect(r.restore).toEqual({ kind: "none", env: "dev" });
    const section = sectionOf(r.markdown, "Region loss");
    expect(section.split("\n").filter((l) => l.includes("DR environment"))).toEqual(["no DR environment: dev has no DR region to restore into."]);
    expect(section).not.toContain("### Restore");
    expect(r.summary).not.toContain("Restore in");
  }, 120_000);
});
