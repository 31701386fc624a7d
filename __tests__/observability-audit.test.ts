// The observability phase's audit trail, security scanning, budget and event rules on whole-environment
// synths: the trail's flags, the locked bucket (both lock modes), its lifecycle and policy, Inspector,
// GuardDuty and Security Hub on and off, the budget with its notifications and filter, the rules' patterns
// and targets, and a prod synth failing when one protection is removed.
import { App } from "cdktf";
import { ENVIRONMENTS, EnvironmentName } from "../src/naming";
import { ObservabilityStack } from "../src/stacks/observability-stack";
import { buildEnv, config, resources, synthEnv } from "./support/config";

const ACCOUNT = "111122223333";
const KEY = "${data.terraform_remote_state.network.outputs.kms_key_arn}";
const TOPIC = "${aws_sns_topic.alerts_topic.arn}";
const TITLES: Record<EnvironmentName, string> = { dev: "Development", staging: "Staging", prod: "Production" };

const statements = (json: any, id: string): Record<string, any> =>
  Object.fromEntries(json.data.aws_iam_policy_document[id].statement.map((s: any) => [s.sid, s]));

describe.each(ENVIRONMENTS)("%s: audit trail", (env) => {
  const json = synthEnv(config(env)).json.observability!;
  const trailArn = `arn:aws:cloudtrail:eu-west-1:${ACCOUNT}:trail/accessweaver-${env}-audit-trail`;
  const bucket = `accessweaver-${env}-audit-logs-${ACCOUNT}`;
  const protect = env !== "dev";

  it("records every region and the global services, signs its log files and encrypts them with the environment's key", () => {
    expect(resources(json, "aws_cloudtrail")).toEqual({
      audit_trail: expect.objectContaining({
        name: `accessweaver-${env}-audit-trail`,
        s3_bucket_name: "${aws_s3_bucket.audit_bucket_bucket.bucket}",
        is_multi_region_trail: true,
        include_global_service_events: true,
        enable_log_file_validation: true,
        enable_logging: true,
        kms_key_id: KEY,
      }),
    });
  });

  it("delivers to an encrypted audit log group kept three years, through a role only this trail may assume", () => {
    const trail = resources(json, "aws_cloudtrail").audit_trail;
    expect(trail.cloud_watch_logs_group_arn).toBe("${aws_cloudwatch_log_group.audit_log-group_log-group.arn}:*");
    expect(trail.cloud_watch_logs_role_arn).toBe("${aws_iam_role.audit_logs-role_role.arn}");
    expect(resources(json, "aws_cloudwatch_log_group")["audit_log-group_log-group"]).toEqual(
      expect.objectContaining({ name: `/aws/cloudtrail/accessweaver-${env}`, kms_key_id: KEY, retention_in_days: 1096, tags: { LogClass: "audit" } }),
    );
    expect(resources(json, "aws_iam_role")["audit_logs-role_role"].name).toBe(`accessweaver-${env}-cloudtrail-logs`);
    const trust = statements(json, "audit_logs-role_trust").AssumedByService;
    expect(trust.principals).toEqual([{ type: "Service", identifiers: ["cloudtrail.amazonaws.com"] }]);
    // The documented trust policy of CloudTrail's log role: no condition (iam:PassRole guards it).
    expect(trust.condition).toBeUndefined();
    expect(statements(json, "audit_logs-role_permissions").WriteTrailLogStreams).toEqual(
      expect.objectContaining({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [`arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/cloudtrail/accessweaver-${env}:log-stream:*`],
      }),
    );
  });

  it("is created after the bucket policy, the lock and the role's permissions (CloudTrail checks them at creation)", () => {
    expect(resources(json, "aws_cloudtrail").audit_trail.depends_on).toEqual([
      "aws_s3_bucket_policy.audit_bucket_policy",
      "aws_s3_bucket_object_lock_configuration.audit_bucket_object-lock",
      "aws_iam_role_policy.audit_logs-role_policy",
    ]);
  });

  it(`keeps the bucket private, versioned, encrypted with the key (bucket key on) and Object Locked in governance mode for three years${protect ? ", and refuses to destroy it" : ""}`, () => {
    expect(resources(json, "aws_s3_bucket").audit_bucket_bucket).toEqual(
      expect.objectContaining({ bucket, object_lock_enabled: true, force_destroy: !protect, ...(protect ? { lifecycle: { prevent_destroy: true } } : {}) }),
    );
    if (!protect) expect(resources(json, "aws_s3_bucket").audit_bucket_bucket.lifecycle).toBeUndefined();
    expect(resources(json, "aws_s3_bucket_object_lock_configuration")["audit_bucket_object-lock"]).toEqual(
      expect.objectContaining({ bucket: "${aws_s3_bucket.audit_bucket_bucket.id}", rule: { default_retention: { mode: "GOVERNANCE", days: 1096 } } }),
    );
    expect(resources(json, "aws_s3_bucket_versioning").audit_bucket_versioning.versioning_configuration).toEqual({ status: "Enabled" });
    expect(resources(json, "aws_s3_bucket_server_side_encryption_configuration").audit_bucket_encryption.rule).toEqual([
      { apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: KEY }, bucket_key_enabled: true },
    ]);
    expect(resources(json, "aws_s3_bucket_public_access_block")["audit_bucket_public-access-block"]).toEqual(
      expect.objectContaining({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true }),
    );
    for (const type of ["aws_cloudtrail", "aws_cloudwatch_log_group"]) {
      for (const r of Object.values(resources(json, type))) expect(r.lifecycle?.prevent_destroy === true).toBe(protect);
    }
  });

  it("moves log files of 128 KB and more to colder storage and expires them, current and overwritten, after three years", () => {
    const lifecycle = resources(json, "aws_s3_bucket_lifecycle_configuration").audit_bucket_lifecycle;
    // Smaller files stay in Standard: IA and Glacier IR would bill each as 128 KB, plus a request to move it.
    expect(lifecycle.transition_default_minimum_object_size).toBe("all_storage_classes_128K");
    const [rule] = lifecycle.rule;
    expect(rule).toEqual(
      expect.objectContaining({
        status: "Enabled",
        transition: [
          { days: 30, storage_class: "STANDARD_IA" },
          { days: 90, storage_class: "GLACIER_IR" },
        ],
        expiration: [{ days: 1096 }],
        noncurrent_version_expiration: [{ noncurrent_days: 30 }],
      }),
    );
  });

  it("lets CloudTrail check the ACL and write, for this trail and account only, refuses plain HTTP and old TLS", () => {
    const st = statements(json, "audit_bucket_policy-document");
    expect(Object.keys(st)).toEqual(["DenyInsecureTransport", "DenyOutdatedTls", "AllowCloudTrailWriteAclCheck", "AllowCloudTrailWrite"]);
    const byTrail = [
      { test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] },
      { test: "StringEquals", variable: "aws:SourceArn", values: [trailArn] },
    ];
    const cloudtrail = [{ type: "Service", identifiers: ["cloudtrail.amazonaws.com"] }];
    expect(st.AllowCloudTrailWriteAclCheck).toEqual({
      sid: "AllowCloudTrailWriteAclCheck",
      effect: "Allow",
      actions: ["s3:GetBucketAcl"],
      resources: [`arn:aws:s3:::${bucket}`],
      principals: cloudtrail,
      condition: byTrail,
    });
    expect(st.AllowCloudTrailWrite).toEqual({
      sid: "AllowCloudTrailWrite",
      effect: "Allow",
      actions: ["s3:PutObject"],
      resources: [`arn:aws:s3:::${bucket}/AWSLogs/${ACCOUNT}/*`],
      principals: cloudtrail,
      condition: [{ test: "StringEquals", variable: "s3:x-amz-acl", values: ["bucket-owner-full-control"] }, ...byTrail],
    });
    expect(st.DenyInsecureTransport.condition).toEqual([{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }]);
  });

  it("publishes the trail, its bucket and its log group", () => {
    expect(json.output.audit_trail_arn.value).toBe(trailArn);
    expect(json.output.audit_bucket_name.value).toBe(bucket);
    expect(json.output.audit_log_group_name.value).toBe(`/aws/cloudtrail/accessweaver-${env}`);
  });
});

describe("audit Object Lock settings", () => {
  it("audit_object_lock_mode = COMPLIANCE locks the bucket in compliance mode (staging, prod)", () => {
    for (const env of ["staging", "prod"] as const) {
      const json = synthEnv(config(env, { audit_object_lock_mode: "COMPLIANCE" })).json.observability!;
      expect(resources(json, "aws_s3_bucket_object_lock_configuration")["audit_bucket_object-lock"].rule).toEqual({
        default_retention: { mode: "COMPLIANCE", days: 1096 },
      });
    }
  });

  it("refuses COMPLIANCE in dev, which is torn down: its bucket would stay for three years", () => {
    expect(() => config("dev", { audit_object_lock_mode: "COMPLIANCE" })).toThrow(
      'environments/dev/terraform.tfvars: audit_object_lock_mode: found "COMPLIANCE"; expected "GOVERNANCE" in dev, an environment that is torn down',
    );
  });
});

describe("security scanning", () => {
  const prod = synthEnv(config("prod")).json.observability!;
  const on = synthEnv(config("prod", { guardduty_enabled: true, security_hub_enabled: true })).json.observability!;

  it("enables Inspector for this account's ECR images and EC2 instances (the guide's aws inspector2 enable), waiting up to 15 minutes", () => {
    expect(resources(prod, "aws_inspector2_enabler")).toEqual({
      // Enabling often outlasts the provider's 5-minute default (hashicorp/terraform-provider-aws#30144).
      scanning_inspector: expect.objectContaining({ account_ids: [ACCOUNT], resource_types: ["ECR", "EC2"], timeouts: { create: "15m" } }),
    });
  });

  it("inspector_enabled = false leaves Inspector to the organisation; it must be a boolean", () => {
    expect(resources(synthEnv(config("prod", { inspector_enabled: false })).json.observability!, "aws_inspector2_enabler")).toEqual({});
    expect(config("prod").settings.inspectorEnabled).toBe(true);
    expect(() => config("prod", { inspector_enabled: "no" })).toThrow('inspector_enabled: found "no"; expected true or false');
  });

  it("has no GuardDuty or Security Hub by default, but still reports findings of a centrally enabled GuardDuty", () => {
    for (const type of ["aws_guardduty_detector", "aws_securityhub_account", "aws_securityhub_standards_subscription"])
      expect(resources(prod, type)).toEqual({});
    expect(resources(prod, "aws_cloudwatch_event_rule")["guardduty-findings_rule"]).toEqual(
      expect.objectContaining({ name: "accessweaver-prod-guardduty-findings" }),
    );
  });

  it("with the settings on: a GuardDuty detector, Security Hub with the Foundational Security Best Practices standard", () => {
    expect(resources(on, "aws_guardduty_detector")).toEqual({ scanning_guardduty: expect.objectContaining({ enable: true }) });
    expect(resources(on, "aws_securityhub_account")).toEqual({ "scanning_security-hub": expect.objectContaining({ enable_default_standards: false }) });
    expect(resources(on, "aws_securityhub_standards_subscription")).toEqual({
      scanning_fsbp: expect.objectContaining({
        standards_arn: "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0",
        depends_on: ["aws_securityhub_account.scanning_security-hub"],
      }),
    });
  });

  it("with GuardDuty on: findings of severity 7 and above go to the alerts topic", () => {
    const rule = resources(on, "aws_cloudwatch_event_rule")["guardduty-findings_rule"];
    expect(rule.name).toBe("accessweaver-prod-guardduty-findings");
    expect(JSON.parse(rule.event_pattern)).toEqual({
      source: ["aws.guardduty"],
      "detail-type": ["GuardDuty Finding"],
      detail: { severity: [{ numeric: [">=", 7] }] },
    });
    expect(resources(on, "aws_cloudwatch_event_target")["guardduty-findings_target"]).toEqual(
      expect.objectContaining({ rule: "${aws_cloudwatch_event_rule.guardduty-findings_rule.name}", arn: TOPIC }),
    );
  });
});

describe.each(ENVIRONMENTS)("%s: budget and deployment rules", (env) => {
  const json = synthEnv(config(env)).json.observability!;
  const limit = { dev: "300", staging: "1000", prod: "3000" }[env];

  it(`budgets ${limit} USD a month of this environment's tagged costs, and warns the alerts topic at 80 % forecast and 100 % actual`, () => {
    const notification = [
      { comparison_operator: "GREATER_THAN", threshold: 80, threshold_type: "PERCENTAGE", notification_type: "FORECASTED", subscriber_sns_topic_arns: [TOPIC] },
      { comparison_operator: "GREATER_THAN", threshold: 100, threshold_type: "PERCENTAGE", notification_type: "ACTUAL", subscriber_sns_topic_arns: [TOPIC] },
    ];
    // Beside it, the whole account's spend (untagged costs count only there), with the same limit by default.
    const account = resources(json, "aws_budgets_budget")["account-budget_budget"];
    expect(account).toEqual(
      expect.objectContaining({
        name: `AccessWeaver-${TITLES[env]}-Account-Monthly`,
        account_id: ACCOUNT,
        budget_type: "COST",
        time_unit: "MONTHLY",
        limit_amount: limit,
        notification,
      }),
    );
    expect(account.cost_filter).toBeUndefined();
    expect(resources(json, "aws_budgets_budget")).toEqual({
      "account-budget_budget": account,
      budget_budget: expect.objectContaining({
        name: `AccessWeaver-${TITLES[env]}-Monthly`,
        account_id: ACCOUNT,
        budget_type: "COST",
        time_unit: "MONTHLY",
        limit_amount: limit,
        limit_unit: "USD",
        cost_filter: [{ name: "TagKeyValue", values: [`user:Environment$${env}`] }],
        notification: [
          {
            comparison_operator: "GREATER_THAN",
            threshold: 80,
            threshold_type: "PERCENTAGE",
            notification_type: "FORECASTED",
            subscriber_sns_topic_arns: [TOPIC],
          },
          {
            comparison_operator: "GREATER_THAN",
            threshold: 100,
            threshold_type: "PERCENTAGE",
            notification_type: "ACTUAL",
            subscriber_sns_topic_arns: [TOPIC],
          },
        ],
      }),
    });
  });

  it("sends failed ECS deployments of this cluster's services to the alerts topic", () => {
    const rule = resources(json, "aws_cloudwatch_event_rule")["ecs-deployment-failures_rule"];
    expect(rule.name).toBe(`accessweaver-${env}-ecs-deployment-failures`);
    expect(JSON.parse(rule.event_pattern)).toEqual({
      source: ["aws.ecs"],
      "detail-type": ["ECS Deployment State Change"],
      resources: [{ prefix: `arn:aws:ecs:eu-west-1:${ACCOUNT}:service/\${data.terraform_remote_state.services.outputs.cluster_name}/` }],
      detail: { eventName: ["SERVICE_DEPLOYMENT_FAILED"] },
    });
    expect(json.data.terraform_remote_state.services.config.key).toBe(`${env}/services/terraform.tfstate`);
    expect(resources(json, "aws_cloudwatch_event_target")["ecs-deployment-failures_target"]).toEqual(
      expect.objectContaining({ rule: "${aws_cloudwatch_event_rule.ecs-deployment-failures_rule.name}", arn: TOPIC, target_id: "alerts" }),
    );
  });

  const blueGreen = env !== "dev";
  it(
    blueGreen
      ? "sends failed CodeDeploy deployments of the gateway's group, and those its alarms stopped, to the alerts topic"
      : "has no CodeDeploy rule: the gateway rolls",
    () => {
      const rule = resources(json, "aws_cloudwatch_event_rule")["codedeploy-deployment-failures_rule"];
      if (!blueGreen) return expect(rule).toBeUndefined();
      expect(rule.name).toBe(`accessweaver-${env}-codedeploy-deployment-failures`);
      expect(JSON.parse(rule.event_pattern)).toEqual({
        source: ["aws.codedeploy"],
        "detail-type": ["CodeDeploy Deployment State-change Notification"],
        // A deployment its alarms stop (DEPLOYMENT_STOP_ON_ALARM) ends as STOP, not FAILURE.
        detail: { state: ["FAILURE", "STOP"], application: [`accessweaver-${env}-aw-api-gateway`], deploymentGroup: [`accessweaver-${env}-aw-api-gateway`] },
      });
      expect(resources(json, "aws_cloudwatch_event_target")["codedeploy-deployment-failures_target"].arn).toBe(TOPIC);
    },
  );

  it("names only rules the alerts topic lets publish (accessweaver-<env>-*)", () => {
    for (const rule of Object.values(resources(json, "aws_cloudwatch_event_rule"))) expect(rule.name).toMatch(new RegExp(`^accessweaver-${env}-`));
  });
});

describe("the operator's own topic", () => {
  it("sns_topic_arn: the budget and the rules notify it", () => {
    const arn = `arn:aws:sns:eu-west-1:${ACCOUNT}:ops-alerts`;
    const json = synthEnv(config("prod", { sns_topic_arn: arn })).json.observability!;
    expect(
      resources(json, "aws_budgets_budget").budget_budget.notification.map((n: { subscriber_sns_topic_arns: string[] }) => n.subscriber_sns_topic_arns),
    ).toEqual([[arn], [arn]]);
    // Every alert rule's target; the restore validation's rule starts its state machine instead.
    const alerting = Object.values(resources(json, "aws_cloudwatch_event_target")).filter((t) => t.target_id === "alerts");
    expect(alerting.length).toBeGreaterThan(0);
    for (const target of alerting) expect(target.arn).toBe(arn);
  });
});

describe("a prod synth with one audit protection removed fails, naming it", () => {
  const observability = () => {
    const { app, stacks } = buildEnv(config("prod"));
    return { app: app as App, stack: stacks.find((s) => s instanceof ObservabilityStack) as ObservabilityStack };
  };

  it.each([
    [
      "the trail's log file validation",
      (s: ObservabilityStack) => s.audit!.trail.addOverride("enable_log_file_validation", false),
      "[trail-hardened] aws_cloudtrail.audit_trail: enable_log_file_validation is not true",
    ],
    [
      "the trail's other regions",
      (s: ObservabilityStack) => s.audit!.trail.addOverride("is_multi_region_trail", false),
      "[trail-hardened] aws_cloudtrail.audit_trail: is_multi_region_trail is not true",
    ],
    [
      "the bucket's Object Lock",
      (s: ObservabilityStack) => s.audit!.bucket.bucket.addOverride("object_lock_enabled", false),
      "[audit-bucket-locked] aws_s3_bucket.audit_bucket_bucket: object_lock_enabled is not true",
    ],
    [
      "a year of the lock",
      (s: ObservabilityStack) => s.audit!.bucket.objectLock!.addOverride("rule.default_retention.days", 730),
      "[audit-bucket-locked] aws_s3_bucket.audit_bucket_bucket: the Object Lock default retention is 730 days; audit logs need at least 1096 days or 3 years",
    ],
    [
      "the topic's key",
      (s: ObservabilityStack) => s.alerts!.topic.addOverride("kms_master_key_id", "alias/aws/sns"),
      '[sns-topic-cmk] aws_sns_topic.alerts_topic: kms_master_key_id is "alias/aws/sns"',
    ],
  ])("without %s", (_what, remove, message) => {
    const { app, stack } = observability();
    remove(stack);
    expect(() => app.synth()).toThrow(message);
  });
});
