/**
 * Guardrails of the observability phase: the audit trail, the bucket that holds its evidence, and the
 * alert topics. Each rule reads the synthesized configuration, as Terraform will see it.
 */
import { AUDIT_LOG_RETENTION_DAYS } from "../config/profiles";
import { LOG_CLASS_TAG } from "../constructs/log-group";
import { ResourceView, Rule, StackView, Violation } from "./guardrails";
import { blocks, ofType, v } from "./rule-helpers";

/** Whether `value` is (or references an attribute of) the resource at `address`. */
const references = (value: unknown, r: ResourceView) => typeof value === "string" && value.includes(`${r.address}.`);
/** Three years of retention, when the lock counts in years (the guide's RGPD retention of audit logs). */
const AUDIT_RETENTION_YEARS = 3;

/**
 * Why the log group a trail delivers to is not audit evidence, or undefined when it is. The class's own
 * rule (log-group-encrypted-retained) then holds it to three years, so this only checks the class.
 */
function trailLogGroupProblem(s: StackView, trail: ResourceView): string | undefined {
  const arn: unknown = trail.config.cloud_watch_logs_group_arn;
  if (typeof arn !== "string" || arn.trim() === "")
    return "cloud_watch_logs_group_arn is not set: the trail delivers to no CloudWatch Logs group of class audit";
  const group = ofType(s, "aws_cloudwatch_log_group").find((g) => references(arn, g));
  if (!group) return `cloud_watch_logs_group_arn is ${JSON.stringify(arn)}, a log group this stack does not create: its class and retention cannot be checked`;
  const declared: unknown = group.config.tags?.[LOG_CLASS_TAG];
  return declared === "audit"
    ? undefined
    : `delivers to ${group.address}, whose ${LOG_CLASS_TAG} is ${JSON.stringify(declared ?? null)}: the trail's log group must be audit evidence (class audit, kept ${AUDIT_LOG_RETENTION_DAYS} days)`;
}

export const trailHardened: Rule = {
  id: "trail-hardened",
  types: ["aws_cloudtrail"],
  description: `CloudTrail trails cover every region and the global services, sign their log files (digest validation), encrypt them with a KMS key and deliver to a log group of class audit (kept ${AUDIT_LOG_RETENTION_DAYS} days)`,
  check(s) {
    return ofType(s, "aws_cloudtrail").flatMap((r) => {
      const problems: string[] = [];
      if (r.config.is_multi_region_trail !== true) problems.push("is_multi_region_trail is not true: activity in other regions goes unrecorded");
      if (r.config.include_global_service_events !== true) problems.push("include_global_service_events is not true: IAM and STS calls go unrecorded");
      if (r.config.enable_log_file_validation !== true)
        problems.push("enable_log_file_validation is not true: an altered or deleted log file would go unnoticed");
      if (!r.config.kms_key_id) problems.push("kms_key_id is not set: log files are encrypted with S3's key, not the environment's");
      const logGroup = trailLogGroupProblem(s, r);
      if (logGroup) problems.push(logGroup);
      return problems.map((m) => v(this.id, r, m));
    });
  },
};

/** Why a lock's default retention is shorter than three years (in `days` or `years`), or undefined when it is long enough. */
function shortLock(lock: ResourceView | undefined): string | undefined {
  const retention = blocks<Record<string, unknown>>(
    blocks<Record<string, unknown>>(lock?.config.rule)[0]?.default_retention as Record<string, unknown> | undefined,
  )[0];
  const need = `audit logs need at least ${AUDIT_LOG_RETENTION_DAYS} days or ${AUDIT_RETENTION_YEARS} years`;
  if (!lock || !retention) return `no aws_s3_bucket_object_lock_configuration sets a default retention; ${need}`;
  if (typeof retention.days === "number")
    return retention.days >= AUDIT_LOG_RETENTION_DAYS ? undefined : `the Object Lock default retention is ${retention.days} days; ${need}`;
  if (typeof retention.years === "number")
    return retention.years >= AUDIT_RETENTION_YEARS ? undefined : `the Object Lock default retention is ${retention.years} years; ${need}`;
  return `the Object Lock default retention has no period; ${need}`;
}

/** The shortest expiration of current objects a bucket's lifecycle sets, or undefined when nothing expires. */
function shortestExpiration(s: StackView, bucket: ResourceView): number | undefined {
  const days = ofType(s, "aws_s3_bucket_lifecycle_configuration")
    .filter((l) => references(l.config.bucket, bucket))
    .flatMap((l) => blocks<Record<string, unknown>>(l.config.rule))
    .filter((rule) => rule.status === "Enabled")
    .flatMap((rule) => blocks<Record<string, unknown>>(rule.expiration as Record<string, unknown> | undefined))
    .map((e) => e.days)
    .filter((d): d is number => typeof d === "number");
  return days.length > 0 ? Math.min(...days) : undefined;
}

export const auditBucketLocked: Rule = {
  id: "audit-bucket-locked",
  types: ["aws_s3_bucket", "aws_cloudtrail"],
  // Other buckets of class audit (the ALB's access logs) are held to three years by log-bucket-retention.
  description: `buckets a trail delivers to are versioned, Object Locked for at least ${AUDIT_LOG_RETENTION_DAYS} days (or ${AUDIT_RETENTION_YEARS} years) and keep objects at least ${AUDIT_LOG_RETENTION_DAYS} days (three years)`,
  check(s) {
    const out: Violation[] = [];
    const buckets = ofType(s, "aws_s3_bucket");
    const trails = ofType(s, "aws_cloudtrail");
    for (const trail of trails) {
      if (!buckets.some((b) => references(trail.config.s3_bucket_name, b))) {
        out.push(
          v(
            this.id,
            trail,
            `delivers to ${JSON.stringify(trail.config.s3_bucket_name)}, a bucket this stack does not create: its Object Lock and retention cannot be checked`,
          ),
        );
      }
    }
    for (const b of buckets) {
      if (!trails.some((t) => references(t.config.s3_bucket_name, b))) continue;
      if (b.config.object_lock_enabled !== true)
        out.push(
          v(this.id, b, "object_lock_enabled is not true: audit logs could be altered or deleted (Object Lock can only be enabled when the bucket is created)"),
        );
      const versioning = ofType(s, "aws_s3_bucket_versioning").find((x) => references(x.config.bucket, b));
      const status = blocks<Record<string, unknown>>(versioning?.config.versioning_configuration)[0]?.status;
      if (status !== "Enabled") out.push(v(this.id, b, "versioning is not Enabled: an overwritten log file would be lost"));
      const short = shortLock(ofType(s, "aws_s3_bucket_object_lock_configuration").find((x) => references(x.config.bucket, b)));
      if (short) out.push(v(this.id, b, short));
      const expires = shortestExpiration(s, b);
      if (expires !== undefined && expires < AUDIT_LOG_RETENTION_DAYS) {
        out.push(
          v(this.id, b, `the lifecycle expires objects after ${expires} days; audit evidence is kept at least ${AUDIT_LOG_RETENTION_DAYS} (three years)`),
        );
      }
    }
    return out;
  },
};

/** AWS's own SNS key: anyone in the account who may publish can read through it, and its policy cannot be scoped. */
const AWS_MANAGED_SNS_KEY = /(^|:)alias\/aws\/sns$/;

export const topicCustomerKey: Rule = {
  id: "sns-topic-cmk",
  types: ["aws_sns_topic"],
  description: "SNS topics are encrypted with a customer-managed KMS key (kms_master_key_id set, not the AWS-managed alias/aws/sns)",
  check(s) {
    return ofType(s, "aws_sns_topic").flatMap((r) => {
      const key: unknown = r.config.kms_master_key_id;
      if (typeof key !== "string" || key.trim() === "") return [v(this.id, r, "kms_master_key_id is not set: messages are stored unencrypted")];
      if (AWS_MANAGED_SNS_KEY.test(key))
        return [
          v(
            this.id,
            r,
            `kms_master_key_id is ${JSON.stringify(key)}, the AWS-managed key: CloudWatch, Budgets and EventBridge cannot be granted its use; use the environment's key`,
          ),
        ];
      return [];
    });
  },
};

export const OBSERVABILITY_RULES: readonly Rule[] = [trailHardened, auditBucketLocked, topicCustomerKey];
