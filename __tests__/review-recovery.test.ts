// The review's "Region loss" section and the cost lines of the copies out of the region, read from the
// synthesized prod and dev (every phase, app.synth()): what is copied where, with which key and for how
// long, the recovery point of each copy, what is not copied, and what the copies cost.
import { EnvironmentName } from "../src/naming";
import { STACK_NAME, SynthStack } from "../scripts/tf-check/stacks";
import { JsonObject } from "../scripts/tf-check/json";
import { EnvModel, modelOf } from "../scripts/review/model";
import { CostEstimate, DR_GROUP, estimate } from "../scripts/review/cost";
import { regionLoss } from "../scripts/review/recovery";
import { review } from "../scripts/review/report";
import { config, synthEnv } from "./support/config";

/** The environment's synthesized stacks as the review reads them; `change` edits a stack's JSON first. */
function modelFor(env: EnvironmentName, change: (phase: string, json: JsonObject) => void = () => undefined): EnvModel {
  const synthesized = synthEnv(config(env));
  const stacks: SynthStack[] = Object.entries(synthesized.byStack).map(([name, json]) => {
    const phase = STACK_NAME.exec(name)![2]!;
    const copy = structuredClone(json) as JsonObject;
    change(phase, copy);
    return { name, env, phase, dir: `/synth/stacks/${name}`, config: copy, dependencies: [] };
  });
  return modelOf(env, stacks);
}

const reviewOf = (m: EnvModel) => review({ model: m, region: "eu-west-1", budgetUsd: 3000, plan: undefined, generatedAt: "2026-01-01T00:00:00Z" });

/** The text of one `## ` section of the report. */
const sectionOf = (markdown: string, title: string) => {
  const start = markdown.indexOf(`## ${title}\n`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = markdown.indexOf("\n## ", start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
};

const drLines = (e: CostEstimate) => e.lines.filter((l) => l.group === DR_GROUP).map((l) => [l.phase, l.address, l.monthlyUsd]);

describe("the review of prod: Region loss", () => {
  let m: EnvModel;
  let cost: CostEstimate;
  let markdown: string;
  let summary: string;
  beforeAll(() => {
    m = modelFor("prod");
    cost = estimate(m, "eu-west-1");
    ({ markdown, summary } = reviewOf(m));
  }, 120_000);

  const dr = "`alias/accessweaver-prod-dr` (network: `aws_kms_key.dr-key_key`, eu-central-1)";

  it("lists each copy: source -> destination region, the DR key, how long it is kept, its recovery point", () => {
    const copies = regionLoss(m, "eu-west-1").copies;
    expect(copies.map((c) => [c.what.split(/[:(]/)[0]!.trim(), c.source, c.sourceRegion, c.destinationRegion, c.key])).toEqual([
      ["database", "`accessweaver-prod-postgres`", "eu-west-1", "eu-central-1", dr],
      ["audit evidence", "`accessweaver-prod-audit-logs-111122223333`", "eu-west-1", "eu-central-1", dr],
      [
        "images",
        "5 repositories: `aw-api-gateway`, `aw-pdp-service`, `aw-pap-service`, `aw-tenant-service`, `aw-audit-service`",
        "eu-west-1",
        "eu-central-1",
        dr,
      ],
      ["JWT signing secret", "`accessweaver/prod/jwt`", "eu-west-1", "eu-central-1", dr],
    ]);
    const [database, audit, images, jwt] = copies;
    expect(database!.kept).toBe("30 days of point-in-time restore (the primary keeps 30 days)");
    expect(database!.rpo).toMatch(/^minutes: .*about every 5 minutes \[1\]\[2\]$/);
    expect(audit!.destination).toBe("`accessweaver-prod-audit-logs-dr-111122223333`");
    expect(audit!.kept).toMatch(/^Object Lock (GOVERNANCE|COMPLIANCE) 1096 days, expires after 1096 days, deletions not replicated$/);
    expect(audit!.rpo).toBe("15 minutes for 99.99% of objects (S3 Replication Time Control) [3]");
    expect(images!.rpo).toMatch(/^on push: /);
    expect(jwt!.rpo).toMatch(/^each new version: /);

    const section = sectionOf(markdown, "Region loss");
    expect(section).toContain(
      `| \`accessweaver-prod-postgres\` (eu-west-1) -> replicated automated backups (**eu-central-1**) | ${dr} | 30 days of point-in-time restore`,
    );
    expect(section).toContain("[3] Amazon S3: S3 Replication Time Control (99.99% of new objects within 15 minutes): https://docs.aws.amazon.com/");
    expect(summary).toContain("Region loss: 4 copies from eu-west-1 to eu-central-1 (database, audit evidence, images, JWT signing secret).");
  });

  it("says the Terraform state is copied by setup-backend.sh, outside the stacks, and lists what is not copied", () => {
    const section = sectionOf(markdown, "Region loss");
    expect(section).toMatch(/\*\*Terraform state\*\*: .*`scripts\/setup-backend\.sh` sets up: it is not in the stacks/);
    expect(section).toContain("- cache `accessweaver-prod-redis` (and its snapshots, 30 days): rebuilt, not restored");
    expect(section).toMatch(/- ALB access logs of `accessweaver-prod-alb` \(`accessweaver-prod-alb-access-logs-111122223333`\): stay regional/);
    expect(section).toContain("- Redis AUTH token (`accessweaver/prod/redis`): not replicated");
    expect(section).not.toContain("Not copied, and should be");
  });

  it("costs the copies from the JSON, the DR key of the network phase (provider aws.dr) included, and the total holds them", () => {
    expect(drLines(cost)).toEqual([
      ["network", "aws_kms_key.dr-key_key", 1],
      ["cache", "aws_secretsmanager_secret.jwt-secret_secret", 0.4],
      ["recovery", "aws_cloudwatch_metric_alarm.audit-replica_audit-replication-failed", 0.1],
      ["recovery", "aws_cloudwatch_metric_alarm.audit-replica_audit-replication-latency", 0.1],
      ["recovery", "aws_db_instance_automated_backups_replication.database-backups_replication", 9.5], // 100 GB allocated x 0.095
    ]);
    const key = cost.lines.find((l) => l.address === "aws_kms_key.dr-key_key")!;
    expect(key.detail).toContain("estimate: eu-west-1 price used for eu-central-1 (prices-eu-west-1.md lists eu-west-1 only)");
    const backups = cost.lines.find((l) => l.address.startsWith("aws_db_instance_automated_backups_replication."))!;
    expect(backups.detail).toMatch(
      /^replicated backups in eu-central-1: about 100 GB \(the allocated storage of database: `aws_db_instance\.rds_instance`\) x 0\.095/,
    );
    expect(backups.detail).toContain("estimate: eu-west-1 price used for eu-central-1");
    expect(cost.byPhase.get("recovery")).toBe(9.7);
    // Without the recovery phase, the total is those 9.70 lower.
    const without = estimate(
      modelOf(
        "prod",
        m.stacks.filter((s) => s.phase !== "recovery"),
      ),
      "eu-west-1",
    );
    expect(Math.round((cost.totalUsd - without.totalUsd) * 100) / 100).toBe(9.7);
    expect(sectionOf(markdown, "Region loss")).toContain("| **in the total** | | | **11.10 USD** |");
    expect(sectionOf(markdown, "Estimated monthly cost")).toContain("| recovery | 9.70 USD |");
  });

  it("marks every line priced outside eu-west-1 as an estimate; only the DR region's are copies", () => {
    // The availability alarm's key lives in us-east-1 (Route 53 health-check metrics): an estimate, not a copy.
    const key = cost.lines.find((l) => l.address === "aws_kms_key.availability-key_key")!;
    expect(key.detail).toContain("estimate: eu-west-1 price used for us-east-1");
    expect(key.group).toBe("keys and secrets");
    expect(cost.lines.find((l) => l.address === "aws_kms_key.kms_key")!.detail).not.toContain("estimate");
  });

  it("prices the replicated backups from the database's allocated storage: changing it changes the line", () => {
    const bigger = modelFor("prod", (phase, json) => {
      if (phase !== "database") return;
      for (const db of Object.values((json.resource as Record<string, Record<string, JsonObject>>).aws_db_instance!)) db.allocated_storage = 250;
    });
    const line = estimate(bigger, "eu-west-1").lines.find((l) => l.address.startsWith("aws_db_instance_automated_backups_replication."))!;
    expect(line.monthlyUsd).toBe(23.75); // 250 GB x 0.095
    expect(line.detail).toContain("about 250 GB");
  });

  it("shows a price the table lacks as missing, never as 0, with its usage stated", () => {
    const missing = cost.unpriced.filter((u) => u.group === DR_GROUP).map((u) => `${u.address}: ${u.reason}`);
    expect(missing).toEqual([
      expect.stringMatching(
        /^aws_db_instance_automated_backups_replication\.\S+: cross-region data transfer eu-west-1 -> eu-central-1 of the backups \(usage: a first full copy of about 100 GB, .*\): price missing: not in prices-eu-west-1\.md$/,
      ),
      expect.stringMatching(
        /^aws_ecr_replication_configuration\.\S+: cross-region data transfer eu-west-1 -> eu-central-1 .*: price missing: not in prices-eu-west-1\.md$/,
      ),
      expect.stringMatching(
        /^aws_ecr_replication_configuration\.\S+: ECR storage of the replicated images in eu-central-1 .*: price missing: not in prices-eu-west-1\.md$/,
      ),
      expect.stringMatching(
        /^aws_s3_bucket_replication_configuration\.\S+: cross-region data transfer eu-west-1 -> eu-central-1 .*: price missing: not in prices-eu-west-1\.md$/,
      ),
      expect.stringMatching(
        /^aws_s3_bucket_replication_configuration\.\S+: S3 Replication Time Control, per GB .*: price missing: not in prices-eu-west-1\.md$/,
      ),
    ]);
    expect(cost.lines.some((l) => /price missing|cross-region/.test(l.detail))).toBe(false);
    const rows = sectionOf(markdown, "Region loss")
      .split("\n")
      .filter((l) => l.includes("price missing: not in prices-eu-west-1.md"));
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(row).toMatch(/\| \*\*price missing\*\* \|$/);
    // The audit replica's storage is usage with its price and no volume assumed: not a line of 0.
    const replica = cost.usage.find((u) => u.address === "aws_s3_bucket.audit-replica_replica_bucket")!;
    expect(replica.reason).toMatch(/^S3 Standard storage 0\.023 USD\/GB-month in eu-central-1, .*no volume assumed/);
    expect(cost.lines.some((l) => l.address === replica.address)).toBe(false);
  });

  it("says loudly when prod has no recovery stack", () => {
    const lacking = modelOf(
      "prod",
      m.stacks.filter((s) => s.phase !== "recovery"),
    );
    const r = reviewOf(lacking);
    expect(sectionOf(r.markdown, "Region loss")).toContain(
      "**prod has no recovery stack (`accessweaver-prod-recovery`): nothing is copied out of eu-west-1.**",
    );
    expect(r.summary).toContain("Region loss: **prod has no recovery stack");
  });
});

describe("the review of dev: no DR region", () => {
  it("says in one line that nothing is copied, and has no DR cost line", () => {
    const m = modelFor("dev");
    const r = reviewOf(m);
    expect(sectionOf(r.markdown, "Region loss")).toBe(
      "## Region loss\n\nno DR region: nothing is copied out of eu-west-1.\n\nno DR environment: dev has no DR region to restore into.\n",
    );
    expect(r.summary).toContain("Region loss: no DR region: nothing is copied out of eu-west-1.");
    expect(drLines(r.cost)).toEqual([]);
    expect([...r.cost.usage, ...r.cost.unpriced].filter((u) => u.group === DR_GROUP)).toEqual([]);
    expect(r.markdown).not.toContain("eu-central-1");
    expect(r.markdown).not.toContain("copies out of");
  }, 120_000);
});

describe("the go-live checklist's restore test in the cost estimate", () => {
  const lines = (env: EnvironmentName) => estimate(modelFor(env), "eu-west-1").lines.filter((l) => /restore test|backup plan/.test(l.detail));

  it("prices prod's backup plan snapshots and weekly restore test from the database's storage and class", () => {
    const prod = lines("prod");
    expect(prod.map((l) => [l.detail.split(":")[1]!.trim().split(",")[0], l.monthlyUsd])).toEqual([
      // 100 GB x 0.095; db.r6g.xlarge 0.504/h x 730 / 168 x 1 h.
      ["the backup plan's snapshots in the vault", 9.5],
      ["the weekly restore test", 2.19],
    ]);
    for (const l of prod) expect(l.detail).toMatch(/^estimate: /);
  });

  it("has none in dev, which has no restore test", () => {
    expect(lines("dev")).toEqual([]);
  });
});
