/**
 * Region loss, part 2: the DR environment (the same six phases in dr_region, restored from the recovery
 * phase's copies), synthesized with the primary environment in one app so that every read of another
 * stack is in the JSON under test.
 */
import * as path from "path";
import { drEnvironment } from "../src/config/dr-environment";
import { DR_PHASES, EnvironmentName, names } from "../src/naming";
import { dataProtected } from "../src/policy/data-protection";
import { viewOf } from "../src/policy/guardrails";
import { buildDrEnvironment } from "../src/stacks/registry";
import { StackJson, buildEnv, config, readJson, resources } from "./support/config";

/** The primary and DR stacks of `env`, by stack name. */
function synthWithDr(env: EnvironmentName, overrides: Record<string, unknown> = {}, restoreTime?: string): Record<string, StackJson> {
  const cfg = config(env, overrides);
  const { app, stacks } = buildEnv(cfg);
  const dr = buildDrEnvironment(app, cfg, restoreTime);
  app.synth();
  return Object.fromEntries([...stacks, ...dr].map((s) => [s.node.id, readJson(path.join(app.outdir, "stacks", s.node.id, "cdk.tf.json"))]));
}

const prod = synthWithDr("prod");
const drOf = (all: Record<string, StackJson>, env: string, phase: string) => all[`accessweaver-${env}-dr-${phase}`];
const primaryStacks = (all: Record<string, StackJson>) =>
  Object.entries(all)
    .filter(([n]) => !n.includes("-dr-"))
    .map(([, j]) => j);
const drStacks = (all: Record<string, StackJson>) =>
  Object.entries(all)
    .filter(([n]) => n.includes("-dr-"))
    .map(([, j]) => j);
const RECOVERY = (output: string) => `\${data.terraform_remote_state.recovery.outputs.${output}}`;
const values = (stacks: StackJson[], type: string, pick: (r: Record<string, any>) => unknown) =>
  stacks.flatMap((j) => Object.values(resources(j, type)).map(pick)).filter((x) => x !== undefined);

describe("prod's DR environment", () => {
  it("is the six phases in dr_region, state in the DR backend beside the primary's replicated states", () => {
    expect(Object.keys(prod).filter((n) => n.includes("-dr-"))).toEqual(DR_PHASES.map((p) => `accessweaver-prod-dr-${p}`));
    for (const phase of DR_PHASES) {
      const j = drOf(prod, "prod", phase);
      expect(j.terraform.backend.s3).toEqual({
        bucket: "accessweaver-terraform-state-prod-dr-111122223333",
        key: `prod/dr/${phase}/terraform.tfstate`,
        region: "eu-central-1",
        encrypt: true,
        dynamodb_table: "accessweaver-terraform-locks-prod",
      });
      expect(j.provider.aws.map((p: { region: string }) => p.region)).toContain("eu-central-1");
      expect(j.provider.aws[0].region).toBe("eu-central-1");
    }
    // Each DR phase reads the earlier DR phases, never the primary's states.
    const services = drOf(prod, "prod", "services");
    for (const remote of Object.values<{ config: { bucket: string; key: string } }>(services.data.terraform_remote_state)) {
      expect(remote.config.bucket).toBe("accessweaver-terraform-state-prod-dr-111122223333");
      expect(remote.config.key).toMatch(/^prod\/(dr\/(network|database|cache|loadbalancer)|recovery)\/terraform\.tfstate$/);
    }
  });

  it("restores the database from the replicated backups, at the latest restorable time or a given one, with the DR key", () => {
    const db = resources(drOf(prod, "prod", "database"), "aws_db_instance").rds_instance;
    expect(db.restore_to_point_in_time).toEqual({
      source_db_instance_automated_backups_arn: RECOVERY("database_replicated_backups_arn"),
      use_latest_restorable_time: true,
    });
    expect(db.kms_key_id).toBe(RECOVERY("dr_kms_key_arn"));
    expect(db.identifier).toBe("accessweaver-prod-postgres");
    expect(db.db_name).toBeUndefined();
    expect(db.username).toBeUndefined();
    expect(db.manage_master_user_password).toBe(true);
    expect(db.lifecycle).toEqual({ prevent_destroy: true, ignore_changes: ["restore_to_point_in_time"] });
    expect(db.timeouts).toEqual({ create: "3h" });
    const at = synthWithDr("prod", {}, "2026-12-06T21:30:00Z");
    expect(resources(drOf(at, "prod", "database"), "aws_db_instance").rds_instance.restore_to_point_in_time).toEqual({
      source_db_instance_automated_backups_arn: RECOVERY("database_replicated_backups_arn"),
      restore_time: "2026-12-06T21:30:00Z",
    });
    expect(() => drEnvironment(config("prod"), "yesterday")).toThrow('restore time "yesterday": expected an ISO 8601 UTC time');
  });

  it("keeps the guide's regional names, so the runbooks work with --region", () => {
    const name = (phase: string, type: string, attr: string) => Object.values(resources(drOf(prod, "prod", phase), type)).map((r) => r[attr]);
    expect(name("services", "aws_ecs_cluster", "name")).toEqual(["accessweaver-prod-cluster"]);
    expect(name("services", "aws_ecs_service", "name")).toEqual(
      expect.arrayContaining(["accessweaver-prod-aw-api-gateway", "accessweaver-prod-aw-pdp-service"]),
    );
    expect(name("services", "aws_cloudwatch_log_group", "name")).toContain("/ecs/accessweaver-prod/aw-api-gateway");
    expect(name("cache", "aws_elasticache_replication_group", "replication_group_id")).toEqual(["accessweaver-prod-redis"]);
    expect(name("cache", "aws_secretsmanager_secret", "name")).toEqual(["accessweaver/prod/redis"]);
    expect(name("network", "aws_kms_alias", "name")).toEqual(["alias/accessweaver-prod"]);
  });

  it("gives every name AWS keeps global a DR name: no collision with the primary's, which usually still exist", () => {
    const globalNames: [string, (r: Record<string, any>) => unknown][] = [
      ["aws_iam_role", (r) => r.name],
      ["aws_s3_bucket", (r) => r.bucket],
      ["aws_cloudwatch_dashboard", (r) => r.dashboard_name],
      ["aws_route53_health_check", (r) => r.tags?.Name],
      ["aws_budgets_budget", (r) => r.name],
    ];
    for (const [type, pick] of globalNames) {
      const dr = values(drStacks(prod), type, pick);
      const primary = new Set(values(primaryStacks(prod), type, pick));
      for (const n of dr) expect(primary.has(n)).toBe(false);
    }
    expect(values(drStacks(prod), "aws_iam_role", (r) => r.name)).toContain("accessweaver-prod-dr-aw-api-gateway-execution");
    expect(values(drStacks(prod), "aws_cloudwatch_dashboard", (r) => r.dashboard_name)).toEqual(["AccessWeaver-Production-DR"]);
    // us-east-1 holds the availability topic of both sites.
    const topics = (stacks: StackJson[]) => values(stacks, "aws_sns_topic", (r) => (r.provider ? r.name : undefined));
    expect(topics(drStacks(prod))).toEqual(["accessweaver-prod-dr-alerts-availability"]);
    expect(topics(primaryStacks(prod))).toEqual(["accessweaver-prod-alerts-availability"]);
    const usEast1Alarms = (stacks: StackJson[]) =>
      values(stacks, "aws_cloudwatch_metric_alarm", (r) => (r.provider === "aws.us-east-1" ? r.alarm_name : undefined));
    expect(usEast1Alarms(drStacks(prod))).toEqual(["accessweaver-prod-dr-route53-health-check"]);
    expect(usEast1Alarms(primaryStacks(prod))).toEqual(["accessweaver-prod-route53-health-check"]);
  });

  it("does not make the account's things twice (trail, budgets), and turns the regional scanning switches on in dr_region as the settings say", () => {
    for (const type of ["aws_cloudtrail", "aws_budgets_budget"]) expect(values(drStacks(prod), type, (r) => r)).toEqual([]);
    expect(drOf(prod, "prod", "observability").output.audit_trail_arn).toBeUndefined();
    // inspector_enabled defaults to true: Inspector is enabled per region.
    expect(values(drStacks(prod), "aws_inspector2_enabler", (r) => r.resource_types)).toHaveLength(1);
  });

  it("touches nothing in the primary region: no DR stack has a provider there", () => {
    for (const j of drStacks(prod)) for (const p of j.provider.aws) expect(p.region).not.toBe("eu-west-1");
  });

  it("keeps the restored database's log groups on the DR environment's own key (CloudWatch Logs may use it), the data on the DR key", () => {
    const db = drOf(prod, "prod", "database");
    for (const g of Object.values(resources(db, "aws_cloudwatch_log_group")))
      expect(g.kms_key_id).toBe("${data.terraform_remote_state.network.outputs.kms_key_arn}");
    const instance = resources(db, "aws_db_instance").rds_instance;
    expect([instance.master_user_secret_kms_key_id, instance.performance_insights_kms_key_id]).toEqual([
      RECOVERY("dr_kms_key_arn"),
      RECOVERY("dr_kms_key_arn"),
    ]);
  });

  it("reads the replicas: the JWT secret's, the images in the DR registry, the DR key for both", () => {
    const cache = drOf(prod, "prod", "cache");
    expect(Object.keys(resources(cache, "aws_secretsmanager_secret"))).toEqual(["redis-secret_secret"]);
    expect(cache.output.jwt_secret_arn.value).toBe(RECOVERY("jwt_secret_replica_arn"));
    const services = drOf(prod, "prod", "services");
    const gateway = JSON.parse(resources(services, "aws_ecs_task_definition")["aw-api-gateway_task-definition"].container_definitions)[0];
    expect(gateway.image).toBe("111122223333.dkr.ecr.eu-central-1.amazonaws.com/aw-api-gateway:2.3.4");
    expect(gateway.secrets.map((s: { valueFrom: string }) => s.valueFrom)).toContain("${data.terraform_remote_state.cache.outputs.jwt_secret_arn}");
    const decrypt = services.data.aws_iam_policy_document["aw-api-gateway_execution-role_permissions"].statement.find(
      (st: { sid: string }) => st.sid === "DecryptOwnSecrets",
    );
    expect(decrypt.resources).toEqual(["${data.terraform_remote_state.network.outputs.kms_key_arn}", RECOVERY("dr_kms_key_arn")]);
  });

  it("issues its certificate in dr_region from the primary's validation records, and leaves the API's record to the switch", () => {
    const lb = drOf(prod, "prod", "loadbalancer");
    expect(resources(lb, "aws_route53_record")).toEqual({});
    expect(resources(lb, "aws_acm_certificate_validation").certificate_validation.validation_record_fqdns).toBeUndefined();
    expect(lb.output.alb_zone_id.value).toBe("${aws_lb.alb_alb.zone_id}");
    // The primary still owns both.
    const primary = prod["accessweaver-prod-loadbalancer"];
    expect(Object.keys(resources(primary, "aws_route53_record")).sort()).toEqual(["certificate_validation-record", "dns_alias_a"]);
  });
});

describe("staging's DR environment: a drill", () => {
  const staging = synthWithDr("staging", { dr_region: "eu-west-3" });

  it("is built in staging's dr_region and can be torn down: nothing is protected from destroy", () => {
    expect(drOf(staging, "staging", "network").provider.aws[0].region).toBe("eu-west-3");
    const db = resources(drOf(staging, "staging", "database"), "aws_db_instance").rds_instance;
    expect(db.lifecycle.prevent_destroy).toBe(false);
    expect(db.deletion_protection).toBe(false);
    // Its secrets are deleted at once on teardown, so that the next drill can make them again.
    expect(resources(drOf(staging, "staging", "cache"), "aws_secretsmanager_secret")["redis-secret_secret"].recovery_window_in_days).toBe(0);
    // The guardrail that requires prevent_destroy in staging leaves the drill alone, and still holds prod's DR environment to it.
    expect(dataProtected.check(viewOf("accessweaver-staging-dr-database", drOf(staging, "staging", "database")))).toEqual([]);
    const prodDb = structuredClone(drOf(prod, "prod", "database"));
    prodDb.resource.aws_db_instance.rds_instance.lifecycle.prevent_destroy = false;
    expect(dataProtected.check(viewOf("accessweaver-prod-dr-database", prodDb))).toHaveLength(1);
  });
});

describe("environments without a DR region", () => {
  it("have no DR environment", () => {
    expect(() => drEnvironment(config("dev"))).toThrow("dev has no DR environment: environments/dev/terraform.tfvars sets no dr_region.");
    expect(() => drEnvironment(config("staging"))).toThrow("staging has no DR environment");
  });

  it("name the DR stacks apart from the primary's", () => {
    expect(names("prod", "dr").stack("network")).toBe("accessweaver-prod-dr-network");
    expect(names("prod", "dr").stateKey("network")).toBe("prod/dr/network/terraform.tfstate");
    expect(names("prod").drStack("network")).toBe("accessweaver-prod-dr-network");
  });
});
