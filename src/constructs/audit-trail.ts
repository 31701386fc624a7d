import { Construct } from "constructs";
import { Cloudtrail } from "@cdktf/provider-aws/lib/cloudtrail";
import { AUDIT_LOG_RETENTION_DAYS } from "../config/profiles";
import { ServiceRole, sourceAccount } from "./iam";
import { EncryptedLogGroup } from "./log-group";
import { LogBucket } from "./log-bucket";

export interface AuditTrailProps {
  /** `accessweaver-<env>-audit-trail`. */
  readonly trailName: string;
  /** `accessweaver-<env>-audit-logs-<account id>`: bucket names are global. */
  readonly bucketName: string;
  /** `/aws/cloudtrail/accessweaver-<env>` (its prefix is one the key policy lets CloudWatch Logs use). */
  readonly logGroupName: string;
  /** The role CloudTrail assumes to write to the log group. */
  readonly roleName: string;
  /** The environment's key: encrypts the log files, the bucket and the log group (the key policy allows this trail). */
  readonly kmsKeyArn: string;
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  /** Object Lock mode of the bucket: governance (bypassable with s3:BypassGovernanceRetention) or compliance (nobody). */
  readonly objectLockMode: "GOVERNANCE" | "COMPLIANCE";
  /**
   * Days every log file is locked, then kept before it expires.
   * @default 1096, three years (the guide's RGPD retention of audit logs)
   */
  readonly retentionDays?: number;
  /** Evidence: Terraform refuses to destroy the bucket, the log group and the trail (prod, staging). @default false */
  readonly protect?: boolean;
}

/**
 * The account's audit trail (guide, "Audit Trail"): every region, global services (IAM, STS), signed digest
 * files, encrypted with the environment's key, delivered to a locked, versioned bucket and to an audit-class
 * log group, both kept three years.
 */
export class AuditTrail extends Construct {
  readonly trail: Cloudtrail;
  readonly bucket: LogBucket;
  readonly logGroup: EncryptedLogGroup;
  /** Known before apply: the bucket policy and the key policy name it. */
  readonly trailArn: string;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    const retentionDays = props.retentionDays ?? AUDIT_LOG_RETENTION_DAYS;
    const protect = props.protect ?? false;
    this.trailArn = `arn:${props.partition}:cloudtrail:${props.region}:${props.accountId}:trail/${props.trailName}`;
    const byThisTrail = [sourceAccount(props.accountId), { test: "StringEquals", variable: "aws:SourceArn", values: [this.trailArn] }];

    this.bucket = new LogBucket(this, "bucket", {
      name: props.bucketName,
      accountId: props.accountId,
      partition: props.partition,
      logClass: "audit",
      retentionDays,
      kmsKeyArn: props.kmsKeyArn,
      objectLock: { mode: props.objectLockMode, days: retentionDays },
      protect,
      writers: [
        {
          sid: "AllowCloudTrailWrite",
          principal: { type: "Service", identifiers: ["cloudtrail.amazonaws.com"] },
          keyPrefix: "",
          checksAcl: true,
          conditions: [{ test: "StringEquals", variable: "s3:x-amz-acl", values: ["bucket-owner-full-control"] }, ...byThisTrail],
        },
      ],
    });

    this.logGroup = new EncryptedLogGroup(this, "log-group", {
      name: props.logGroupName,
      kmsKeyArn: props.kmsKeyArn,
      logClass: "audit",
      retentionDays,
      protect,
    });
    const logGroupArn = `arn:${props.partition}:logs:${props.region}:${props.accountId}:log-group:${props.logGroupName}`;
    const role = new ServiceRole(this, "logs-role", {
      name: props.roleName,
      service: "cloudtrail.amazonaws.com",
      accountId: props.accountId,
      // AWS documents CloudTrail's CloudWatch Logs role with a bare trust policy and no sign that CloudTrail
      // sends aws:SourceArn when it assumes it: a condition could fail the trail's creation.
      sourceArns: "unconditioned",
      // CloudTrail names its streams `<account>_CloudTrail_<region>`: this log group's streams only.
      statements: [{ sid: "WriteTrailLogStreams", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`${logGroupArn}:log-stream:*`] }],
    });

    this.trail = new Cloudtrail(this, "trail", {
      name: props.trailName,
      s3BucketName: this.bucket.bucket.bucket,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableLogFileValidation: true,
      enableLogging: true,
      kmsKeyId: props.kmsKeyArn,
      // CloudTrail wants the log group's ARN with the `:*` stream wildcard; the resource's `arn` attribute has none.
      cloudWatchLogsGroupArn: `${this.logGroup.logGroup.arn}:*`,
      cloudWatchLogsRoleArn: role.role.arn,
      // CloudTrail checks its access to the bucket and the role when the trail is created: a first apply must
      // create the bucket policy, the lock and the role's permissions first.
      dependsOn: [this.bucket.policy, ...(this.bucket.objectLock ? [this.bucket.objectLock] : []), role.policy],
      ...(protect ? { lifecycle: { preventDestroy: true } } : {}),
    });
  }
}
