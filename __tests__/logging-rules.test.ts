// The evidence guardrails (flow logs, access logs, log buckets), each shown rejecting a bad resource and passing a good one.
import { App, TerraformStack } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { Wafv2WebAclLoggingConfiguration } from "@cdktf/provider-aws/lib/wafv2-web-acl-logging-configuration";
import { LogBucket } from "../src/constructs/log-bucket";
import { Rule, evaluate, viewOf } from "../src/policy/guardrails";
import { LOGGING_RULES, accessLogsKept, flowLogsKept, logBucketKept } from "../src/policy/logging-rules";
import { BASELINE_RULES, logGroupEncryptedAndRetained } from "../src/policy/rules";
import { CLOUDWATCH_RETENTION_DAYS, PROFILES } from "../src/config/profiles";
import { EncryptedLogGroup } from "../src/constructs/log-group";
import { ENVIRONMENTS, PHASES } from "../src/naming";
import { tempDir } from "./support/config";

function rejected(rule: Rule, add: (s: TerraformStack) => void, stackName = "accessweaver-prod-test"): string[] {
  const stack = new TerraformStack(new App({ outdir: tempDir() }), stackName);
  add(stack);
  return evaluate(viewOf(stack.node.id, stack.toTerraform()), [rule]).map((v) => `${v.address}: ${v.message}`);
}
/** An encrypted log group of `logClass`, kept `retentionInDays` (default: 1096 for audit evidence, 365 otherwise). */
const group = (s: TerraformStack, id: string, logClass: string, retentionInDays = logClass === "audit" ? 1096 : 365) =>
  new CloudwatchLogGroup(s, id, { name: id, kmsKeyId: "k", retentionInDays, tags: { LogClass: logClass } });

describe("application log retention per environment", () => {
  it("is prod three years (the guide's RGPD table), staging a year, dev a month, each a value CloudWatch accepts", () => {
    expect(Object.fromEntries(ENVIRONMENTS.map((env) => [env, PROFILES[env].applicationLogRetentionDays]))).toEqual({ dev: 30, staging: 365, prod: 1096 });
    for (const env of ENVIRONMENTS) expect(CLOUDWATCH_RETENTION_DAYS).toContain(PROFILES[env].applicationLogRetentionDays);
  });

  it.each(ENVIRONMENTS)("log-group-encrypted-retained in %s: accepts the profile's retention, rejects the next shorter one", (env) => {
    const days = PROFILES[env].applicationLogRetentionDays;
    const shorter = CLOUDWATCH_RETENTION_DAYS[CLOUDWATCH_RETENTION_DAYS.indexOf(days as (typeof CLOUDWATCH_RETENTION_DAYS)[number]) - 1]!;
    // Every phase stack of the environment is held to it.
    for (const phase of PHASES) {
      expect(
        rejected(
          logGroupEncryptedAndRetained,
          (s) => {
            group(s, "kept", "application", days);
            group(s, "short", "application", shorter);
          },
          `accessweaver-${env}-${phase}`,
        ),
      ).toEqual([
        `aws_cloudwatch_log_group.short: retention_in_days is ${shorter}; application logs need at least ${days} in ${env} (applicationLogRetentionDays of its profile, src/config/profiles.ts)`,
      ]);
    }
  });

  it("prod refuses a year for application logs; audit evidence keeps three years in dev too", () => {
    expect(rejected(logGroupEncryptedAndRetained, (s) => group(s, "year", "application"), "accessweaver-prod-services")).toEqual([
      "aws_cloudwatch_log_group.year: retention_in_days is 365; application logs need at least 1096 in prod (applicationLogRetentionDays of its profile, src/config/profiles.ts)",
    ]);
    expect(rejected(logGroupEncryptedAndRetained, (s) => group(s, "flow", "audit", 30), "accessweaver-dev-network")).toEqual([
      "aws_cloudwatch_log_group.flow: retention_in_days is 30; audit logs need at least 1096",
    ]);
  });

  it("EncryptedLogGroup refuses a retention CloudWatch does not accept, naming the group, the value and the accepted ones", () => {
    const stack = new TerraformStack(new App({ outdir: tempDir() }), "accessweaver-dev-services");
    expect(
      () => new EncryptedLogGroup(stack, "logs", { name: "/ecs/accessweaver-dev/aw-pdp-service", kmsKeyArn: "k", logClass: "application", retentionDays: 31 }),
    ).toThrow(
      "Log group /ecs/accessweaver-dev/aw-pdp-service: retention 31 days (retentionDays (application logs: the profile's applicationLogRetentionDays, src/config/profiles.ts)) is not one CloudWatch Logs accepts; expected one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (or 0, never expire).",
    );
  });
});

describe("evidence guardrails reject bad resources", () => {
  it("are part of the baseline", () => {
    for (const rule of LOGGING_RULES) expect(BASELINE_RULES).toContain(rule);
  });

  it("flow-logs-retained: a VPC without a flow log, accepted traffic only, an application-class destination, one outside the stack", () => {
    expect(
      rejected(flowLogsKept, (s) => {
        new Vpc(s, "silent", { cidrBlock: "10.0.0.0/16" });
        const vpc = new Vpc(s, "vpc", { cidrBlock: "10.1.0.0/16" });
        new FlowLog(s, "good", { vpcId: vpc.id, trafficType: "ALL", logDestination: group(s, "audit", "audit").arn });
        new FlowLog(s, "accepted", { vpcId: vpc.id, trafficType: "ACCEPT", logDestination: group(s, "audit2", "audit").arn });
        new FlowLog(s, "short", { vpcId: vpc.id, trafficType: "ALL", logDestination: group(s, "app", "application").arn });
        new FlowLog(s, "elsewhere", { vpcId: vpc.id, trafficType: "ALL", logDestination: "arn:aws:logs:eu-west-1:1:log-group:x" });
      }),
    ).toEqual([
      "aws_vpc.silent: no aws_flow_log records this VPC's traffic",
      'aws_flow_log.accepted: traffic_type is "ACCEPT"; expected ALL (rejected and accepted traffic)',
      "aws_flow_log.short: delivers to aws_cloudwatch_log_group.app, which is not declared audit evidence (LogClass = audit): flow logs are kept 1096 days",
      'aws_flow_log.elsewhere: log_destination "arn:aws:logs:eu-west-1:1:log-group:x" is not a log group or bucket of this stack, so its retention cannot be checked',
    ]);
  });

  it("access-logs-retained: ALB access logs in an undeclared bucket or outside the stack, WAF logs in an application log group", () => {
    expect(
      rejected(accessLogsKept, (s) => {
        const audit = new LogBucket(s, "audit", { name: "audit-111122223333", accountId: "111122223333", partition: "aws", logClass: "audit", writers: [] });
        const plain = new S3Bucket(s, "plain", { bucket: "plain" });
        new Lb(s, "good", { name: "good", accessLogs: { bucket: audit.bucket.bucket, enabled: true } });
        new Lb(s, "undeclared", { name: "undeclared", accessLogs: { bucket: plain.bucket, enabled: true } });
        new Lb(s, "elsewhere", { name: "elsewhere", accessLogs: { bucket: "someone-elses", enabled: true } });
        new Wafv2WebAclLoggingConfiguration(s, "waf_good", { resourceArn: "arn:acl", logDestinationConfigs: [group(s, "waf-audit", "audit").arn] });
        new Wafv2WebAclLoggingConfiguration(s, "waf_short", { resourceArn: "arn:acl", logDestinationConfigs: [group(s, "waf-app", "application").arn] });
      }),
    ).toEqual([
      "aws_lb.undeclared: access logs go to aws_s3_bucket.plain, which is not declared audit evidence (LogClass = audit)",
      'aws_lb.elsewhere: access_logs.bucket "someone-elses" is not a bucket of this stack, so its retention cannot be checked',
      "aws_wafv2_web_acl_logging_configuration.waf_short: logs to aws_cloudwatch_log_group.waf-app, which is not declared audit evidence (LogClass = audit)",
    ]);
  });

  it("log-bucket-retention: an unknown class, audit logs expired after a year; the log bucket construct passes", () => {
    const expiring = (s: TerraformStack, id: string, logClass: string, days: number) => {
      const b = new S3Bucket(s, id, { bucket: id, tags: { LogClass: logClass } });
      new S3BucketLifecycleConfiguration(s, `${id}_lifecycle`, {
        bucket: b.id,
        rule: [{ id: "expire", status: "Enabled", filter: [{ prefix: "" }], expiration: [{ days }] }],
      });
    };
    expect(
      rejected(logBucketKept, (s) => {
        new S3Bucket(s, "debug", { bucket: "debug", tags: { LogClass: "debug" } });
        expiring(s, "year", "audit", 365);
        expiring(s, "app", "application", 365);
        new S3Bucket(s, "data", { bucket: "data" });
        new LogBucket(s, "audit", { name: "audit-111122223333", accountId: "111122223333", partition: "aws", logClass: "audit", writers: [] });
      }),
    ).toEqual([
      'aws_s3_bucket.debug: tag LogClass is "debug"; expected application or audit',
      'aws_s3_bucket.year: lifecycle rule "expire" (aws_s3_bucket_lifecycle_configuration.year_lifecycle) expires objects after 365 days; audit logs need at least 1096',
    ]);
  });
});
