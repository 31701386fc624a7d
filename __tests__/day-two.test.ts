// What the second apply, a release and a night on call need, in the synthesized environments: events
// that reach people, logs that cost what they must, services that rebalance, a gateway CodeDeploy can
// release without the next apply replacing it.
import { CACHE_EVENT_TYPES, RDS_EVENT_CATEGORIES, ROTATION_EVENTS } from "../src/constructs/data-events";
import { WAF_LOGGED_ACTIONS } from "../src/constructs/waf";
import { CAPACITY_PROVIDER_STRATEGY } from "../src/config/services";
import { appSpec } from "../scripts/operator/release";
import { ENVIRONMENTS, EnvironmentName, SERVICES } from "../src/naming";
import { config, resources, synthEnv } from "./support/config";

const TOPIC = "${aws_sns_topic.alerts_topic.arn}";

describe.each(ENVIRONMENTS)("%s", (env: EnvironmentName) => {
  const { json } = synthEnv(config(env));

  it("subscribes the alerts topic to the database instance's failover, failure, maintenance, storage and notification events", () => {
    expect(resources(json.observability, "aws_db_event_subscription")["data-store-events_database"]).toEqual(
      expect.objectContaining({
        name: `accessweaver-${env}-postgres-events`,
        sns_topic: TOPIC,
        source_type: "db-instance",
        source_ids: ["${data.terraform_remote_state.database.outputs.database_identifier}"],
        event_categories: [...RDS_EVENT_CATEGORIES],
        enabled: true,
      }),
    );
    expect(RDS_EVENT_CATEGORIES).toEqual(expect.arrayContaining(["failover", "failure", "maintenance", "low storage", "notification"]));
  });

  it("sends ElastiCache's failures and applied changes, and every secret rotation's outcome, to the alerts topic", () => {
    const rules = resources(json.observability, "aws_cloudwatch_event_rule");
    const targets = resources(json.observability, "aws_cloudwatch_event_target");
    expect(rules["data-store-events_cache_rule"].name).toBe(`accessweaver-${env}-cache-events`);
    expect(JSON.parse(rules["data-store-events_cache_rule"].event_pattern)).toEqual({ source: ["aws.elasticache"], "detail-type": [...CACHE_EVENT_TYPES] });
    expect(CACHE_EVENT_TYPES).toEqual(expect.arrayContaining(["Cache Update Failed", "Cache Updated"]));
    expect(rules["data-store-events_rotation_rule"].name).toBe(`accessweaver-${env}-secret-rotations`);
    expect(JSON.parse(rules["data-store-events_rotation_rule"].event_pattern)).toEqual({
      source: ["aws.secretsmanager"],
      "detail-type": ["AWS Service Event via CloudTrail"],
      detail: { eventSource: ["secretsmanager.amazonaws.com"], eventName: [...ROTATION_EVENTS] },
    });
    expect(ROTATION_EVENTS).toEqual(expect.arrayContaining(["RotationSucceeded", "RotationFailed"]));
    for (const rule of ["cache", "rotation"]) {
      expect(targets[`data-store-events_${rule}_target`]).toEqual(
        expect.objectContaining({ rule: `\${aws_cloudwatch_event_rule.data-store-events_${rule}_rule.name}`, arn: TOPIC }),
      );
    }
  });

  it("logs only the requests the WAF blocked or counted", () => {
    const logging = Object.values(resources(json.loadbalancer, "aws_wafv2_web_acl_logging_configuration"))[0];
    expect(logging.logging_filter).toEqual({
      default_behavior: "DROP",
      filter: [{ behavior: "KEEP", requirement: "MEETS_ANY", condition: WAF_LOGGED_ACTIONS.map((action) => ({ action_condition: { action } })) }],
    });
    expect(WAF_LOGGED_ACTIONS).toEqual(["BLOCK", "COUNT", "EXCLUDED_AS_COUNT"]);
  });

  it("removes the delete markers left once a versioned log bucket's logs have expired", () => {
    const lifecycles = [
      ...Object.values(resources(json.loadbalancer, "aws_s3_bucket_lifecycle_configuration")),
      ...Object.values(resources(json.observability, "aws_s3_bucket_lifecycle_configuration")),
    ];
    expect(lifecycles).toHaveLength(2);
    for (const l of lifecycles) {
      expect(l.rule).toContainEqual({
        id: "remove-expired-delete-markers",
        status: "Enabled",
        filter: [{ prefix: "" }],
        expiration: [{ expired_object_delete_marker: true }],
      });
      // Not beside days in one expiration: S3 refuses both together.
      for (const r of l.rule)
        expect(
          r.expiration.some(
            (e: { days?: number; expired_object_delete_marker?: boolean }) => e.days !== undefined && e.expired_object_delete_marker !== undefined,
          ),
        ).toBe(false);
    }
  });

  it("rebalances the rolling services across zones; the blue/green gateway keeps its capacity provider strategy out of Terraform's diff", () => {
    const services = resources(json.services, "aws_ecs_service");
    for (const name of SERVICES) {
      const s = services[`${name}_service`];
      const blueGreen = s.deployment_controller.type === "CODE_DEPLOY";
      expect({ name, rebalancing: s.availability_zone_rebalancing }).toEqual({ name, rebalancing: blueGreen ? undefined : "ENABLED" });
      expect(s.capacity_provider_strategy).toEqual(
        CAPACITY_PROVIDER_STRATEGY.map((c) => ({ capacity_provider: c.capacityProvider, weight: c.weight, base: c.base })),
      );
      expect(s.lifecycle.ignore_changes.includes("capacity_provider_strategy")).toBe(blueGreen);
    }
    expect(services["aw-api-gateway_service"].deployment_controller.type).toBe(env === "dev" ? "ECS" : "CODE_DEPLOY");
  });
});

it("trusts ECS tasks with the execution roles as AWS documents it (no condition the agent may not send), and keeps the task roles scoped to this account's tasks", () => {
  const { json } = synthEnv(config("prod"));
  const docs = json.services.data.aws_iam_policy_document;
  const trusts = Object.keys(docs).filter((k) => k.endsWith("_trust") || k.endsWith("_task-trust"));
  const executions = trusts.filter((k) => k.endsWith("_execution-role_trust"));
  // The services', and the one-off tasks' (db-roles, cache-client).
  expect(executions).toHaveLength(SERVICES.length + 2);
  for (const k of executions) {
    expect({ k, principals: docs[k].statement[0].principals, condition: docs[k].statement[0].condition }).toEqual({
      k,
      principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }],
      condition: undefined,
    });
  }
  for (const k of trusts.filter((x) => x.endsWith("_task-trust"))) {
    expect(docs[k].statement[0].condition.map((c: { variable: string }) => c.variable)).toEqual(["aws:SourceAccount", "aws:SourceArn"]);
  }
});

it("lets CodeDeploy pass the gateway's own execution and task roles to ECS, and no other (the limited managed policy passes only ecsTaskExecutionRole*)", () => {
  const { json } = synthEnv(config("prod"));
  const doc = json.services.data.aws_iam_policy_document["blue-green_pass-task-roles-document"];
  expect(doc.statement).toEqual([
    {
      sid: "PassTheServiceTaskRolesToEcs",
      effect: "Allow",
      actions: ["iam:PassRole"],
      resources: ["${aws_iam_role.aw-api-gateway_execution-role_role.arn}", "${aws_iam_role.aw-api-gateway_task-role.arn}"],
      condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
    },
  ]);
  const policy = json.services.resource.aws_iam_role_policy["blue-green_pass-task-roles"];
  expect(policy).toEqual(
    expect.objectContaining({ role: "${aws_iam_role.blue-green_role.id}", policy: "${data.aws_iam_policy_document.blue-green_pass-task-roles-document.json}" }),
  );
  // The deployment group waits for it: a deployment before it exists would be refused.
  expect(json.services.resource.aws_codedeploy_deployment_group["blue-green_group"].depends_on).toContain("aws_iam_role_policy.blue-green_pass-task-roles");
  // Dev's gateway is rolling: no CodeDeploy, no role to pass.
  expect(synthEnv(config("dev")).json.services.resource.aws_iam_role_policy?.["blue-green_pass-task-roles"]).toBeUndefined();
});

it("the release's AppSpec carries the same capacity provider strategy as the service", () => {
  const spec = JSON.parse(appSpec("arn:td").replace('"version":0.0', '"version":"0.0"'));
  expect(spec.Resources[0].TargetService.Properties.CapacityProviderStrategy).toEqual(
    CAPACITY_PROVIDER_STRATEGY.map((c) => ({ Base: c.base, CapacityProvider: c.capacityProvider, Weight: c.weight })),
  );
});
