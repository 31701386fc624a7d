// The observability guardrails, each shown rejecting a bad resource and passing a good one, on bare stacks.
import { App, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Cloudtrail, CloudtrailConfig } from "@cdktf/provider-aws/lib/cloudtrail";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketObjectLockConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-object-lock-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { LogBucket } from "../src/constructs/log-bucket";
import { Rule, evaluate, viewOf } from "../src/policy/guardrails";
import { OBSERVABILITY_RULES, auditBucketLocked, topicCustomerKey, trailHardened } from "../src/policy/observability-rules";
import { BASELINE_RULES } from "../src/policy/rules";
import { defaultTags } from "../src/naming";
import { tempDir } from "./support/config";

function stackWith(add: (s: TerraformStack) => void): TerraformStack {
  const s = new TerraformStack(new App({ outdir: tempDir() }), "accessweaver-prod-observability");
  new AwsProvider(s, "aws", {
    region: "eu-west-1",
    defaultTags: [{ tags: defaultTags({ env: "prod", phase: "observability", costCenter: "CC-42", owner: "platform" }) }],
  });
  add(s);
  return s;
}
const check = (rule: Rule, s: TerraformStack) => evaluate(viewOf(s.node.id, s.toTerraform()), [rule]).map((x) => `${x.address}: ${x.message}`);

const GOOD_TRAIL: Omit<CloudtrailConfig, "name" | "s3BucketName"> = {
  isMultiRegionTrail: true,
  includeGlobalServiceEvents: true,
  enableLogFileValidation: true,
  kmsKeyId: "arn:aws:kms:eu-west-1:1:key/k",
};

/** A bucket a trail writes to, with its versioning, lock and lifecycle; `over` breaks one of them. */
function trailBucket(
  s: TerraformStack,
  id: string,
  over: { lock?: boolean; versioning?: "Enabled" | "Suspended" | null; retention?: { days?: number; years?: number } | null; expireDays?: number } = {},
) {
  const b = new S3Bucket(s, id, { bucket: id, objectLockEnabled: over.lock ?? true });
  if (over.versioning !== null)
    new S3BucketVersioningA(s, `${id}-versioning`, { bucket: b.id, versioningConfiguration: { status: over.versioning ?? "Enabled" } });
  if (over.retention !== null)
    new S3BucketObjectLockConfigurationA(s, `${id}-lock`, {
      bucket: b.id,
      rule: { defaultRetention: { mode: "GOVERNANCE", ...(over.retention ?? { days: 1096 }) } },
    });
  new S3BucketLifecycleConfiguration(s, `${id}-lifecycle`, {
    bucket: b.id,
    rule: [{ id: "expire", status: "Enabled", filter: [{ prefix: "" }], expiration: [{ days: over.expireDays ?? 1096 }] }],
  });
  new Cloudtrail(s, `${id}-trail`, { ...GOOD_TRAIL, name: id, s3BucketName: b.bucket });
  return b;
}

describe("observability guardrails reject bad resources", () => {
  it("trail-hardened: one region only, no global events, unsigned log files, no key; a log group that is not audit evidence, outside the stack, or none", () => {
    const s = stackWith((st) => {
      const group = (id: string, logClass: string) =>
        `${new CloudwatchLogGroup(st, id, { name: `/aws/cloudtrail/${id}`, kmsKeyId: "k", retentionInDays: 1096, tags: { LogClass: logClass } }).arn}:*`;
      const audit = group("audit-group", "audit");
      const trail = (id: string, over: Partial<CloudtrailConfig> = {}) =>
        new Cloudtrail(st, id, { ...GOOD_TRAIL, name: id, s3BucketName: "b", cloudWatchLogsGroupArn: audit, ...over });
      trail("good");
      trail("regional", { isMultiRegionTrail: false });
      trail("noglobal", { includeGlobalServiceEvents: false });
      trail("unsigned", { enableLogFileValidation: undefined });
      trail("nokey", { kmsKeyId: undefined });
      trail("applogs", { cloudWatchLogsGroupArn: group("app-group", "application") });
      trail("elsewhere", { cloudWatchLogsGroupArn: "arn:aws:logs:eu-west-1:1:log-group:other:*" });
      trail("nologs", { cloudWatchLogsGroupArn: undefined });
    });
    expect(check(trailHardened, s)).toEqual([
      "aws_cloudtrail.regional: is_multi_region_trail is not true: activity in other regions goes unrecorded",
      "aws_cloudtrail.noglobal: include_global_service_events is not true: IAM and STS calls go unrecorded",
      "aws_cloudtrail.unsigned: enable_log_file_validation is not true: an altered or deleted log file would go unnoticed",
      "aws_cloudtrail.nokey: kms_key_id is not set: log files are encrypted with S3's key, not the environment's",
      'aws_cloudtrail.applogs: delivers to aws_cloudwatch_log_group.app-group, whose LogClass is "application": the trail\'s log group must be audit evidence (class audit, kept 1096 days)',
      'aws_cloudtrail.elsewhere: cloud_watch_logs_group_arn is "arn:aws:logs:eu-west-1:1:log-group:other:*", a log group this stack does not create: its class and retention cannot be checked',
      "aws_cloudtrail.nologs: cloud_watch_logs_group_arn is not set: the trail delivers to no CloudWatch Logs group of class audit",
    ]);
  });

  it("audit-bucket-locked: a trail bucket without a lock, versioning, or three years of retention; a trail writing elsewhere", () => {
    const s = stackWith((st) => {
      trailBucket(st, "good");
      trailBucket(st, "years", { retention: { years: 3 } });
      trailBucket(st, "unlocked", { lock: false });
      trailBucket(st, "suspended", { versioning: "Suspended" });
      trailBucket(st, "unversioned", { versioning: null });
      trailBucket(st, "nolock", { retention: null });
      trailBucket(st, "short", { retention: { days: 365 } });
      trailBucket(st, "twoyears", { retention: { years: 2 } });
      trailBucket(st, "expires", { expireDays: 400 });
      new Cloudtrail(st, "elsewhere", { ...GOOD_TRAIL, name: "e", s3BucketName: "someone-elses-bucket" });
    });
    expect(check(auditBucketLocked, s)).toEqual([
      'aws_cloudtrail.elsewhere: delivers to "someone-elses-bucket", a bucket this stack does not create: its Object Lock and retention cannot be checked',
      "aws_s3_bucket.unlocked: object_lock_enabled is not true: audit logs could be altered or deleted (Object Lock can only be enabled when the bucket is created)",
      "aws_s3_bucket.suspended: versioning is not Enabled: an overwritten log file would be lost",
      "aws_s3_bucket.unversioned: versioning is not Enabled: an overwritten log file would be lost",
      "aws_s3_bucket.nolock: no aws_s3_bucket_object_lock_configuration sets a default retention; audit logs need at least 1096 days or 3 years",
      "aws_s3_bucket.short: the Object Lock default retention is 365 days; audit logs need at least 1096 days or 3 years",
      "aws_s3_bucket.twoyears: the Object Lock default retention is 2 years; audit logs need at least 1096 days or 3 years",
      "aws_s3_bucket.expires: the lifecycle expires objects after 400 days; audit evidence is kept at least 1096 (three years)",
    ]);
  });

  it("audit-bucket-locked: leaves buckets no trail writes to to log-bucket-retention (one rule, one violation)", () => {
    const s = stackWith((st) => {
      new LogBucket(st, "short", { name: "short", accountId: "1", partition: "aws", logClass: "audit", retentionDays: 90, writers: [] });
    });
    expect(check(auditBucketLocked, s)).toEqual([]);
  });

  it("sns-topic-cmk: a topic without a key, and one on the AWS-managed key", () => {
    const s = stackWith((st) => {
      new SnsTopic(st, "good", { name: "g", kmsMasterKeyId: "arn:aws:kms:eu-west-1:1:key/k" });
      new SnsTopic(st, "plain", { name: "p" });
      new SnsTopic(st, "managed", { name: "m", kmsMasterKeyId: "alias/aws/sns" });
      new SnsTopic(st, "managedarn", { name: "a", kmsMasterKeyId: "arn:aws:kms:eu-west-1:1:alias/aws/sns" });
    });
    expect(check(topicCustomerKey, s)).toEqual([
      "aws_sns_topic.plain: kms_master_key_id is not set: messages are stored unencrypted",
      'aws_sns_topic.managed: kms_master_key_id is "alias/aws/sns", the AWS-managed key: CloudWatch, Budgets and EventBridge cannot be granted its use; use the environment\'s key',
      'aws_sns_topic.managedarn: kms_master_key_id is "arn:aws:kms:eu-west-1:1:alias/aws/sns", the AWS-managed key: CloudWatch, Budgets and EventBridge cannot be granted its use; use the environment\'s key',
    ]);
  });

  it("are part of the baseline every stack is checked against", () => {
    for (const rule of OBSERVABILITY_RULES) expect(BASELINE_RULES).toContain(rule);
  });
});
