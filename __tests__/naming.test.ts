// The naming contract: every name fits the AWS limit of what carries it, the short target-group scheme,
// global names carrying the account id, and the scripts agreeing with the stacks on the backend's names.
import { spawnSync } from "child_process";
import * as path from "path";
import { ACCOUNT_PLACEHOLDER, backendNames } from "../scripts/backend-names";
import { STACK_NAME } from "../scripts/tf-check/stacks";
import { ENVIRONMENTS, NAME_RULES, Names, PHASES, SERVICES, nameInventory, nameProblem, names } from "../src/naming";
import { ROOT, config } from "./support/config";

const ACCOUNT = "123456789012";
/** The longest zone names the settings accept: a four-zone layout in a long region. */
const LONG_ZONES = ["ap-southeast-4a", "ap-southeast-4b", "ap-southeast-4c", "ap-southeast-4d"];

describe.each(ENVIRONMENTS)("%s: every name fits AWS", (env) => {
  // Both sites: the DR environment's global names are longer (`-dr`).
  const inventory = (["primary", "dr"] as const).flatMap((site) => [
    ...nameInventory(env, ACCOUNT, LONG_ZONES, site),
    ...nameInventory(env, ACCOUNT, config(env).settings.availabilityZones, site),
  ]);

  it("checks every name the naming module can build against the limit of the resource that carries it", () => {
    const problems = inventory.filter((n) => n.kind !== "internal").flatMap((n) => nameProblem(n.kind as keyof typeof NAME_RULES, n.name) ?? []);
    expect(problems).toEqual([]);
  });

  it("leaves no name of names() out of that check", () => {
    const keys = new Set(inventory.map((n) => n.key));
    expect(Object.keys(names(env)).filter((k) => !keys.has(k as keyof Names))).toEqual([]);
  });

  it("lets the key's CloudWatch Logs statement cover every log group name (its name prefixes)", () => {
    const prefixes = names(env).logGroupPrefixes;
    for (const g of inventory.filter((n) => n.kind === "logGroup")) expect([g.name, prefixes.some((p) => g.name.startsWith(p))]).toEqual([g.name, true]);
  });

  it("names target groups aw-<env>-<service>, with room for the gateway's blue and green groups", () => {
    const n = names(env);
    expect(n.targetGroup("aw-api-gateway")).toBe(`aw-${env}-api-gateway`);
    expect(n.targetGroup("aw-api-gateway", "green")).toBe(`aw-${env}-api-gateway-green`);
    expect(n.targetGroup("aw-tenant-service", "blue")).toBe(`aw-${env}-tenant-blue`);
    const all = SERVICES.flatMap((s) => [n.targetGroup(s), n.targetGroup(s, "blue"), n.targetGroup(s, "green")]);
    expect(new Set(all).size).toBe(all.length);
    for (const name of all) expect(name.length).toBeLessThanOrEqual(32);
  });

  it("puts the account id in every globally unique (S3) name", () => {
    const buckets = inventory.filter((n) => n.kind === "s3Bucket");
    expect([...new Set(buckets.map((b) => b.key))].sort()).toEqual(["albLogsBucket", "auditBucket", "auditReplicaBucket", "drStateBucket", "stateBucket"]);
    for (const b of buckets) expect(b.name).toMatch(new RegExp(`^accessweaver-.*${env}.*-${ACCOUNT}$`));
  });

  it("gives the DR environment the primary's regional names and its own global ones (Region loss)", () => {
    const primary = new Map(nameInventory(env, ACCOUNT, ["eu-west-1a"]).map((x) => [`${x.key}:${x.name}`, x]));
    const dr = nameInventory(env, ACCOUNT, ["eu-west-1a"], "dr");
    const global: (keyof typeof NAME_RULES)[] = ["iamRole", "iamPolicy", "s3Bucket", "dashboard", "budget"];
    for (const x of dr.filter((x) => global.includes(x.kind as keyof typeof NAME_RULES))) {
      // The backend's own names (setup-backend.sh): one backend per environment serves both sites.
      if (x.key === "stateBucket" || x.key === "drStateBucket" || x.key === "stateReplicationRole") continue;
      expect([x.key, primary.has(`${x.key}:${x.name}`)]).toEqual([x.key, false]);
    }
    for (const key of ["cluster", "database", "redis", "alb", "alertsTopic", "kmsAlias", "trail"] as const) expect(names(env, "dr")[key]).toBe(names(env)[key]);
    expect(names(env, "dr").apiHealthCheck).toBe(`accessweaver-${env}-dr-api-health`);
    expect(names(env, "dr").availabilityTopic).toBe(`accessweaver-${env}-dr-alerts-availability`);
  });

  it("keeps the guide's runbook names", () => {
    const n = names(env);
    expect([
      n.cluster,
      n.service("aw-api-gateway"),
      n.database,
      n.redis,
      n.serviceLogGroup("aw-api-gateway"),
      n.secret("jwt"),
      n.kmsAlias,
      n.alertsTopic,
      n.trail,
    ]).toEqual([
      `accessweaver-${env}-cluster`,
      `accessweaver-${env}-aw-api-gateway`,
      `accessweaver-${env}-postgres`,
      `accessweaver-${env}-redis`,
      `/ecs/accessweaver-${env}/aw-api-gateway`,
      `accessweaver/${env}/jwt`,
      `alias/accessweaver-${env}`,
      `accessweaver-${env}-alerts`,
      `accessweaver-${env}-audit-trail`,
    ]);
    expect(n.alarm("rds-cpu-utilization")).toBe(`accessweaver-${env}-rds-cpu-utilization`);
    expect(n.scalingPolicy("aw-pdp-service", "cpu")).toBe(`accessweaver-${env}-pdp-cpu-scaling`);
  });
});

describe("names over their limit are refused", () => {
  it("a target group named like the service (the old scheme) is over 32 characters", () => {
    expect(nameProblem("targetGroup", "accessweaver-staging-aw-tenant-service")).toBe(
      '"accessweaver-staging-aw-tenant-service" is 38 characters; a target group name allows at most 32',
    );
  });

  it("each limit rejects a name one character over it", () => {
    for (const [kind, rule] of Object.entries(NAME_RULES)) {
      const fits = kind === "kmsAlias" ? `alias/${"a".repeat(rule.max - 6)}` : "a".repeat(rule.max);
      expect(nameProblem(kind as keyof typeof NAME_RULES, fits)).toBeUndefined();
      expect(nameProblem(kind as keyof typeof NAME_RULES, `${fits}a`)).toMatch(`is ${rule.max + 1} characters`);
    }
  });

  it("rejects characters AWS refuses: upper case in buckets, double hyphens in RDS and ElastiCache identifiers", () => {
    expect(nameProblem("s3Bucket", "AccessWeaver-logs")).toMatch(/does not match/);
    expect(nameProblem("rdsIdentifier", "accessweaver--postgres")).toMatch(/does not match/);
    expect(nameProblem("elasticacheGroup", "accessweaver-prod-redis-")).toMatch(/does not match/);
    expect(nameProblem("loadBalancer", "internal-accessweaver")).toMatch(/does not match/);
  });

  it("building a name over its limit stops the synth with the limit named", () => {
    expect(() => names("staging").alarm(`aw-tenant-service-${"x".repeat(240)}`)).toThrow(
      /Name too long or malformed for AWS: ".*" is 279 characters; a CloudWatch alarm name allows at most 255/,
    );
  });
});

describe("the scripts take their names from the naming module", () => {
  it("setup-backend.sh's names (scripts/backend-names.ts) are names(env)'s, for every environment", () => {
    const r = spawnSync(process.execPath, ["-r", path.join(ROOT, "scripts/register.js"), path.join(ROOT, "scripts/backend-names.ts")], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(backendNames());
    const vars = Object.fromEntries(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => /^(\w+)='(.*)'$/.exec(l)!.slice(1, 3) as [string, string]),
    );
    expect(vars.ENVIRONMENTS).toBe(ENVIRONMENTS.join(" "));
    for (const env of ENVIRONMENTS) {
      expect(vars[`LOCK_TABLE_${env}`]).toBe(names(env).lockTable);
      expect(vars[`STATE_BUCKET_${env}`]!.replace(ACCOUNT_PLACEHOLDER, ACCOUNT)).toBe(names(env).stateBucket(ACCOUNT));
    }
  });

  it("the check harness recognizes exactly the stacks names(env) builds", () => {
    for (const env of ENVIRONMENTS) {
      for (const phase of PHASES) expect(STACK_NAME.exec(names(env).stack(phase))?.slice(1, 3)).toEqual([env, phase]);
    }
    expect(STACK_NAME.test("otherproject-prod-network")).toBe(false);
  });
});
