import { Construct } from "constructs";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketObjectLockConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-object-lock-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { LogClass, MIN_RETENTION_DAYS } from "../config/profiles";
import { Condition, Statement, policyDocument } from "./iam";
import { LOG_CLASS_TAG } from "./log-group";

/** A service that writes logs into the bucket, under `<keyPrefix>/AWSLogs/<account id>/`. */
export interface LogWriter {
  readonly sid: string;
  readonly principal: NonNullable<Statement["principals"]>[number];
  /** Key prefix the writer is configured with (the ALB's `access_logs.prefix`, ...); empty for none. */
  readonly keyPrefix: string;
  /** Conditions on its writes (`aws:SourceArn`, the `s3:x-amz-acl` it must set). @default none */
  readonly conditions?: readonly Condition[];
  /** The writer reads the bucket's ACL before writing (CloudTrail): allowed on the bucket, same conditions but the ACL one. @default false */
  readonly checksAcl?: boolean;
}

/** Object Lock: every new object version is locked for `days` in `mode` (WORM evidence). */
export interface ObjectLockProps {
  readonly mode: "GOVERNANCE" | "COMPLIANCE";
  readonly days: number;
}

export interface LogBucketProps {
  /** Globally unique: carries the account id (naming.ts). */
  readonly name: string;
  /** The account whose logs land here: writers may write only under `AWSLogs/<account id>/`. */
  readonly accountId: string;
  readonly partition: string;
  /** What the bucket holds; the `LogClass` tag, and the least time objects are kept. */
  readonly logClass: LogClass;
  readonly writers: readonly LogWriter[];
  /**
   * Days objects are kept before they expire.
   * @default the class's minimum: 365 for application logs, 1096 (three years) for audit evidence
   */
  readonly retentionDays?: number;
  /**
   * Encrypt with this KMS key.
   * @default SSE-S3 (AES256): ELB access-log delivery supports no other encryption
   */
  readonly kmsKeyArn?: string;
  /**
   * Evidence: Terraform refuses to destroy the bucket and never empties it (prod, staging). Otherwise a
   * destroy empties and removes it (dev).
   * @default false
   */
  readonly protect?: boolean;
  /**
   * Lock every object version for this long (S3 Object Lock, enabled when the bucket is created: adding it
   * later replaces the bucket). Versions stay undeletable until their lock ends; the lifecycle then expires them.
   * @default no lock
   */
  readonly objectLock?: ObjectLockProps;
}

/** Days before objects move to cheaper storage: infrequent access, then instant-retrieval archive. */
const TO_INFREQUENT_ACCESS_DAYS = 30;
const TO_ARCHIVE_DAYS = 90;
/** Overwritten or deleted objects stay recoverable this long (versioning). */
const NONCURRENT_DAYS = 30;
/**
 * Objects under 128 KB are never transitioned (S3's default, written out so the plan shows the choice):
 * Standard-IA and Glacier Instant Retrieval bill each object as at least 128 KB and every transition is a
 * billed request, so moving small log files would cost more than it saves. Most CloudTrail files (and
 * many access-log files) are that small: they stay in Standard until they expire.
 */
export const TRANSITION_MINIMUM_OBJECT_SIZE = "all_storage_classes_128K";

/**
 * A private, versioned S3 bucket for logs that AWS services deliver: every public access block, ACLs
 * disabled (bucket owner enforced), encrypted, a policy that refuses plain HTTP and TLS older than 1.2
 * and lets each writer put objects only under its own prefix for this account, and a lifecycle that
 * keeps objects as long as their class requires. Used for the ALB's access logs and the audit trail.
 */
export class LogBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly arn: string;
  /** The policy: a writer that checks its permissions at configuration (the ALB, CloudTrail) must wait for it. */
  readonly policy: S3BucketPolicy;
  /** Undefined without `objectLock`. */
  readonly objectLock?: S3BucketObjectLockConfigurationA;

  constructor(scope: Construct, id: string, props: LogBucketProps) {
    super(scope, id);
    const protect = props.protect ?? false;
    this.bucket = new S3Bucket(this, "bucket", {
      bucket: props.name,
      // In governance mode, the provider's force_destroy bypasses the lock (s3:BypassGovernanceRetention); compliance-locked versions stay until their lock ends.
      forceDestroy: !protect,
      ...(props.objectLock ? { objectLockEnabled: true } : {}),
      tags: { Name: props.name, [LOG_CLASS_TAG]: props.logClass },
      ...(protect ? { lifecycle: { preventDestroy: true } } : {}),
    });
    const bucket = this.bucket.id;
    this.arn = `arn:${props.partition}:s3:::${props.name}`;

    const publicAccess = new S3BucketPublicAccessBlock(this, "public-access-block", {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "ownership", { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket,
      rule: [
        {
          applyServerSideEncryptionByDefault: props.kmsKeyArn ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: props.kmsKeyArn } : { sseAlgorithm: "AES256" },
          bucketKeyEnabled: props.kmsKeyArn !== undefined,
        },
      ],
    });
    const versioning = new S3BucketVersioningA(this, "versioning", { bucket, versioningConfiguration: { status: "Enabled" } });
    if (props.objectLock) {
      this.objectLock = new S3BucketObjectLockConfigurationA(this, "object-lock", {
        bucket,
        rule: { defaultRetention: { mode: props.objectLock.mode, days: props.objectLock.days } },
        dependsOn: [versioning],
      });
    }
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket,
      transitionDefaultMinimumObjectSize: TRANSITION_MINIMUM_OBJECT_SIZE,
      rule: [
        {
          id: "retain-then-expire",
          status: "Enabled",
          filter: [{ prefix: "" }],
          transition: [
            { days: TO_INFREQUENT_ACCESS_DAYS, storageClass: "STANDARD_IA" },
            { days: TO_ARCHIVE_DAYS, storageClass: "GLACIER_IR" },
          ],
          expiration: [{ days: props.retentionDays ?? MIN_RETENTION_DAYS[props.logClass] }],
          noncurrentVersionExpiration: [{ noncurrentDays: NONCURRENT_DAYS }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
        {
          // Once expiration has made a log's current version a delete marker and its noncurrent version has
          // gone, the marker alone is left: S3 still lists it (and bills the request). A rule of its own,
          // as S3 refuses expired_object_delete_marker beside days in one expiration.
          id: "remove-expired-delete-markers",
          status: "Enabled",
          filter: [{ prefix: "" }],
          expiration: [{ expiredObjectDeleteMarker: true }],
        },
      ],
      dependsOn: [versioning],
    });

    const everything = [this.arn, `${this.arn}/*`];
    const anyone = [{ type: "*" as const, identifiers: ["*"] }];
    const statements: Statement[] = [
      {
        sid: "DenyInsecureTransport",
        effect: "Deny",
        actions: ["s3:*"],
        resources: everything,
        principals: anyone,
        conditions: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
      },
      {
        sid: "DenyOutdatedTls",
        effect: "Deny",
        actions: ["s3:*"],
        resources: everything,
        principals: anyone,
        conditions: [{ test: "NumericLessThan", variable: "s3:TlsVersion", values: ["1.2"] }],
      },
      ...props.writers.flatMap((w): Statement[] => [
        ...(w.checksAcl
          ? [
              {
                sid: `${w.sid}AclCheck`,
                actions: ["s3:GetBucketAcl"],
                resources: [this.arn],
                principals: [w.principal],
                conditions: (w.conditions ?? []).filter((c) => !c.variable.startsWith("s3:")),
              },
            ]
          : []),
        {
          sid: w.sid,
          actions: ["s3:PutObject"],
          resources: [`${this.arn}/${w.keyPrefix ? `${w.keyPrefix}/` : ""}AWSLogs/${props.accountId}/*`],
          principals: [w.principal],
          ...(w.conditions ? { conditions: [...w.conditions] } : {}),
        },
      ]),
    ];
    this.policy = new S3BucketPolicy(this, "policy", {
      bucket,
      policy: policyDocument(this, "policy-document", statements).json,
      // S3 refuses a policy change while the public access block is being set.
      dependsOn: [publicAccess],
    });
  }
}
