// The observability phase's alert topics on whole-environment synths: encrypted, publishable only by this
// environment's alarms, budget and event rules over TLS, with the settings' subscribers; or the
// operator's own topic; and the paging topic only where paging endpoints are set.
import { ENVIRONMENTS } from "../src/naming";
import { HTTPS_CONFIRMATION_MINUTES } from "../src/constructs/alerts";
import { config, policyStatements, resources, synthEnv } from "./support/config";

const ACCOUNT = "111122223333";
const KEY = "${data.terraform_remote_state.network.outputs.kms_key_arn}";

const statements = (json: any, id: string): Record<string, any> =>
  Object.fromEntries(json.data.aws_iam_policy_document[`${id}_policy-document`].statement.map((s: any) => [s.sid, s]));

describe.each(ENVIRONMENTS)("%s: alert topics", (env) => {
  const json = synthEnv(config(env, { alert_https_endpoints: ["https://events.example.org/sns"] })).json.observability!;

  it("is the last phase, reading the key through the network's remote state", () => {
    expect(json.data.terraform_remote_state.network.config.key).toBe(`${env}/network/terraform.tfstate`);
    // The one key of this stack is the us-east-1 availability topic's (docs/observability.md); the alert topics use the network's.
    expect(JSON.stringify(json.resource).replace(/\$\{aws_kms_key\.availability-key_key\.(arn|key_id)\}/g, "")).not.toMatch(/\$\{aws_kms_key\./);
  });

  it("creates accessweaver-<env>-alerts, encrypted with the environment's key", () => {
    expect(resources(json, "aws_sns_topic").alerts_topic).toEqual(expect.objectContaining({ name: `accessweaver-${env}-alerts`, kms_master_key_id: KEY }));
    expect(resources(json, "aws_sns_topic_policy").alerts_policy).toEqual(
      expect.objectContaining({ arn: "${aws_sns_topic.alerts_topic.arn}", policy: "${data.aws_iam_policy_document.alerts_policy-document.json}" }),
    );
  });

  it("lets only this environment's alarms, budget and event rules publish, and only over TLS", () => {
    const st = statements(json, "alerts");
    expect(Object.keys(st)).toEqual(["AllowCloudWatchAlarms", "AllowBudgets", "AllowRdsEvents", "AllowEventBridgeRules", "DenyPublishWithoutTls"]);
    const expected: [string, string, string[]][] = [
      ["AllowCloudWatchAlarms", "cloudwatch.amazonaws.com", [`arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:accessweaver-${env}-*`]],
      // The Budgets guide's source: any budget of this account (both of this environment's among them).
      ["AllowBudgets", "budgets.amazonaws.com", [`arn:aws:budgets::${ACCOUNT}:*`]],
      // The RDS guide's source is the instance; the subscription's own ARN is accepted too.
      [
        "AllowRdsEvents",
        "events.rds.amazonaws.com",
        [`arn:aws:rds:eu-west-1:${ACCOUNT}:db:accessweaver-${env}-postgres`, `arn:aws:rds:eu-west-1:${ACCOUNT}:es:accessweaver-${env}-postgres-events`],
      ],
      ["AllowEventBridgeRules", "events.amazonaws.com", [`arn:aws:events:eu-west-1:${ACCOUNT}:rule/accessweaver-${env}-*`]],
    ];
    for (const [sid, service, sources] of expected) {
      expect(st[sid]).toEqual({
        sid,
        effect: "Allow",
        actions: ["sns:Publish"],
        resources: ["${aws_sns_topic.alerts_topic.arn}"],
        principals: [{ type: "Service", identifiers: [service] }],
        condition: [
          { test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] },
          { test: "ArnLike", variable: "aws:SourceArn", values: sources },
        ],
      });
    }
    expect(st.DenyPublishWithoutTls).toEqual(
      expect.objectContaining({
        effect: "Deny",
        actions: ["sns:Publish"],
        principals: [{ type: "AWS", identifiers: ["*"] }],
        condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
      }),
    );
  });

  it("subscribes the settings' e-mail addresses and https endpoints (the latter confirmed before the apply ends)", () => {
    const subs = resources(json, "aws_sns_topic_subscription");
    expect(subs["alerts_email-0"]).toEqual(
      expect.objectContaining({ protocol: "email", endpoint: "oncall@example.org", topic_arn: "${aws_sns_topic.alerts_topic.arn}" }),
    );
    expect(subs["alerts_https-0"]).toEqual(
      expect.objectContaining({
        protocol: "https",
        endpoint: "https://events.example.org/sns",
        endpoint_auto_confirms: true,
        confirmation_timeout_in_minutes: HTTPS_CONFIRMATION_MINUTES,
      }),
    );
    expect(
      Object.keys(subs)
        .filter((k) => !k.startsWith("availability_"))
        .sort(),
    ).toEqual(["alerts_email-0", "alerts_https-0"]);
  });

  it("has no paging topic without paging endpoints, and publishes the alerts topic only", () => {
    // Besides the us-east-1 topic of the Route 53 alarm (observability-alarms.test.ts).
    expect(Object.keys(resources(json, "aws_sns_topic"))).toEqual(["alerts_topic", "availability_topic"]);
    expect(json.output.alerts_topic_arn.value).toBe("${aws_sns_topic.alerts_topic.arn}");
    expect(json.output.critical_topic_arn).toBeUndefined();
  });
});

describe("alert topic settings", () => {
  it("sns_topic_arn: the operator's topic is used, none is created, and the environment's key still lets this environment's alarms, budget and rules publish to a topic encrypted with it", () => {
    const arn = `arn:aws:sns:eu-west-1:${ACCOUNT}:ops-alerts`;
    const env = synthEnv(config("prod", { sns_topic_arn: arn }));
    const json = env.json.observability!;
    // Only the us-east-1 topic of the Route 53 alarm is created (an alarm publishes to a topic of its own region).
    expect(Object.keys(resources(json, "aws_sns_topic"))).toEqual(["availability_topic"]);
    expect(Object.keys(resources(json, "aws_sns_topic_subscription")).filter((k) => !k.startsWith("availability_"))).toEqual([]);
    expect(json.output.alerts_topic_arn.value).toBe(arn);
    // The network phase's key policy keeps the publishers' statements: the operator's topic may be encrypted with that key.
    const key = policyStatements(env.json.network, "kms_key-policy");
    expect(key.AllowCloudWatchAlarms).toEqual(
      expect.objectContaining({
        actions: ["kms:GenerateDataKey*", "kms:Decrypt"],
        principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
        condition: [
          { test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] },
          { test: "ArnLike", variable: "aws:SourceArn", values: [`arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:accessweaver-prod-*`] },
        ],
      }),
    );
    // Budgets' and EventBridge's KMS calls carry no source keys: their statements have no condition (the topic policy scopes them).
    for (const [sid, service] of [
      ["AllowBudgets", "budgets.amazonaws.com"],
      ["AllowRdsEvents", "events.rds.amazonaws.com"],
      ["AllowEventBridgeRules", "events.amazonaws.com"],
    ] as const) {
      expect(key[sid]).toEqual(
        expect.objectContaining({ actions: ["kms:GenerateDataKey*", "kms:Decrypt"], principals: [{ type: "Service", identifiers: [service] }] }),
      );
      expect(key[sid].condition).toBeUndefined();
    }
  });

  it("alert_paging_endpoints: a second, encrypted topic that only the paging endpoints receive", () => {
    const json = synthEnv(config("prod", { alert_paging_endpoints: ["https://events.pagerduty.com/integration/abc/enqueue"] })).json.observability!;
    expect(resources(json, "aws_sns_topic")["alerts-critical_topic"]).toEqual(
      expect.objectContaining({ name: "accessweaver-prod-alerts-critical", kms_master_key_id: KEY }),
    );
    const subs = Object.values(resources(json, "aws_sns_topic_subscription")).filter((s) => s.topic_arn === "${aws_sns_topic.alerts-critical_topic.arn}");
    expect(subs).toEqual([expect.objectContaining({ protocol: "https", endpoint: "https://events.pagerduty.com/integration/abc/enqueue" })]);
    expect(Object.keys(statements(json, "alerts-critical"))).toEqual([
      "AllowCloudWatchAlarms",
      "AllowBudgets",
      "AllowRdsEvents",
      "AllowEventBridgeRules",
      "DenyPublishWithoutTls",
    ]);
    expect(json.output.critical_topic_arn.value).toBe("${aws_sns_topic.alerts-critical_topic.arn}");
  });

  it("refuses a paging endpoint that is not https", () => {
    expect(() => config("prod", { alert_paging_endpoints: ["http://pager.example.org"] })).toThrow(
      /alert_paging_endpoints: found "http:\/\/pager.example.org"; expected an https:\/\/ URL \(the paging service's SNS integration, e.g. PagerDuty\) at position 0/,
    );
  });

  it.each([
    ["audit_object_lock_mode", "governance", 'one of "GOVERNANCE", "COMPLIANCE"'],
    ["guardduty_enabled", "yes", "true or false"],
    ["security_hub_enabled", 1, "true or false"],
  ])("refuses %s = %j, naming what it expects", (key, value, expected) => {
    expect(() => config("prod", { [key]: value })).toThrow(`${key}: found ${JSON.stringify(value)}; expected ${expected}`);
  });

  it("defaults: governance-mode Object Lock, GuardDuty and Security Hub left to the organisation, no paging", () => {
    const s = config("prod").settings;
    expect([s.auditObjectLockMode, s.guarddutyEnabled, s.securityHubEnabled, s.alertPagingEndpoints]).toEqual(["GOVERNANCE", false, false, []]);
    expect(config("prod", { audit_object_lock_mode: "COMPLIANCE", guardduty_enabled: true }).settings).toEqual(
      expect.objectContaining({ auditObjectLockMode: "COMPLIANCE", guarddutyEnabled: true }),
    );
  });
});
