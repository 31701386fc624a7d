import { Construct } from "constructs";
import { TerraformProvider } from "cdktf";
import { S3BucketReplicationConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-replication-configuration";
import { Names } from "../naming";
import { AlarmSpec, AlarmTargets, metricAlarm } from "./alarms";
import { ServiceRole, regionalService } from "./iam";
import { LogBucket, ObjectLockProps } from "./log-bucket";

/** S3 Replication Time Control: 99.99% of objects within 15 minutes (the only value S3 accepts), with its metrics. */
export const REPLICATION_TIME_MINUTES = 15;

export interface BucketReplicaProps {
  readonly names: Names;
  /** The source bucket (the audit bucket), in the primary region. */
  readonly sourceBucketName: string;
  /** The key that encrypts the source's objects (the environment's key, primary region). */
  readonly sourceKmsKeyArn: string;
  readonly sourceRegion: string;
  /** The replica bucket's name (global: it differs from the source's). */
  readonly replicaBucketName: string;
  /** The DR key: the replicas are encrypted with it. */
  readonly replicaKmsKeyArn: string;
  readonly replicaRegion: string;
  /** The source's Object Lock, kept on the replica: the same mode and days. */
  readonly objectLock: ObjectLockProps;
  readonly accountId: string;
  readonly partition: string;
  /** Terraform refuses to destroy the replica (prod, staging). */
  readonly protect: boolean;
  /** The replication rule's id (its metrics' RuleId). */
  readonly ruleId: string;
  /** The role S3 assumes to replicate. */
  readonly roleName: string;
  /** The primary region's provider: the replication configuration and its alarms live there, with the source. */
  readonly sourceProvider: TerraformProvider;
  /** Where the replication alarms notify (the alerts topic, primary region). */
  readonly alarmTargets: AlarmTargets;
}

/**
 * A continuous copy of an Object Lock bucket in another region: a replica bucket with the same lock mode
 * and retention (each replica keeps its source object's retention date), encrypted with that region's
 * key; a replication role that may only read this source and write this replica; a replication rule
 * with Replication Time Control (15 minutes) and its metrics; and two alarms in the source's region:
 * failed replications, and replication later than the 15 minutes.
 */
export class BucketReplica extends Construct {
  readonly replica: LogBucket;
  readonly configuration: S3BucketReplicationConfigurationA;

  constructor(scope: Construct, id: string, props: BucketReplicaProps) {
    super(scope, id);
    const p = props.partition;
    this.replica = new LogBucket(this, "replica", {
      name: props.replicaBucketName,
      accountId: props.accountId,
      partition: p,
      logClass: "audit",
      writers: [],
      retentionDays: props.objectLock.days,
      kmsKeyArn: props.replicaKmsKeyArn,
      protect: props.protect,
      objectLock: props.objectLock,
    });
    const source = `arn:${p}:s3:::${props.sourceBucketName}`;
    const replica = this.replica.arn;
    // Objects are encrypted with S3 Bucket Keys: the encryption context is the bucket's ARN, or an object's without them.
    const s3Context = (bucket: string) => ({ test: "StringLike", variable: "kms:EncryptionContext:aws:s3:arn", values: [bucket, `${bucket}/*`] });
    const role = new ServiceRole(this, "role", {
      name: props.roleName,
      service: "s3.amazonaws.com",
      accountId: props.accountId,
      // S3 documents the replication role's trust without aws:SourceArn or aws:SourceAccount: a condition
      // it does not send would stop the replication (the failure alarm would be the only sign).
      sourceArns: "unconditioned",
      statements: [
        { sid: "ReadSourceConfiguration", actions: ["s3:GetReplicationConfiguration", "s3:ListBucket"], resources: [source] },
        {
          // Retention and legal hold are read so that each replica keeps its source's lock.
          sid: "ReadSourceVersions",
          actions: [
            "s3:GetObjectVersionForReplication",
            "s3:GetObjectVersionAcl",
            "s3:GetObjectVersionTagging",
            "s3:GetObjectRetention",
            "s3:GetObjectLegalHold",
          ],
          resources: [`${source}/*`],
        },
        { sid: "WriteReplicas", actions: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], resources: [`${replica}/*`] },
        {
          sid: "DecryptSource",
          actions: ["kms:Decrypt"],
          resources: [props.sourceKmsKeyArn],
          conditions: [{ test: "StringEquals", variable: "kms:ViaService", values: [regionalService("s3", props.sourceRegion, p)] }, s3Context(source)],
        },
        {
          sid: "EncryptReplicas",
          actions: ["kms:Encrypt", "kms:GenerateDataKey"],
          resources: [props.replicaKmsKeyArn],
          conditions: [{ test: "StringEquals", variable: "kms:ViaService", values: [regionalService("s3", props.replicaRegion, p)] }, s3Context(replica)],
        },
      ],
    });
    this.configuration = new S3BucketReplicationConfigurationA(this, "configuration", {
      provider: props.sourceProvider,
      bucket: props.sourceBucketName,
      role: role.role.arn,
      rule: [
        {
          id: props.ruleId,
          status: "Enabled",
          priority: 1,
          filter: { prefix: "" },
          // Deleting is what Object Lock exists to prevent: a delete marker on the source stays there.
          deleteMarkerReplication: { status: "Disabled" },
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
          destination: {
            bucket: replica,
            storageClass: "STANDARD",
            encryptionConfiguration: { replicaKmsKeyId: props.replicaKmsKeyArn },
            replicationTime: { status: "Enabled", time: { minutes: REPLICATION_TIME_MINUTES } },
            metrics: { status: "Enabled", eventThreshold: { minutes: REPLICATION_TIME_MINUTES } },
          },
        },
      ],
      // The replica must be versioned and locked, and the role allowed, before S3 accepts the rule.
      dependsOn: [role.policy, this.replica.policy, ...(this.replica.objectLock ? [this.replica.objectLock] : [])],
    });

    const dimensions = { SourceBucket: props.sourceBucketName, DestinationBucket: props.replicaBucketName, RuleId: props.ruleId };
    const specs: AlarmSpec[] = [
      {
        what: "audit-replication-failed",
        description: `Objects of ${props.sourceBucketName} failed to replicate to ${props.replicaBucketName} (${props.replicaRegion}): the audit evidence is not copied`,
        watch: { metric: { namespace: "AWS/S3", metricName: "OperationsFailedReplication", dimensions, stat: "Sum" } },
        period: 300,
        evaluationPeriods: 1,
        comparison: "GreaterThanThreshold",
        threshold: 0,
        // No failure is published as no data: silence is good news here.
        missing: "notBreaching",
      },
      {
        what: "audit-replication-latency",
        description: `Replication of ${props.sourceBucketName} to ${props.replicaRegion} is later than its ${REPLICATION_TIME_MINUTES}-minute threshold (Replication Time Control)`,
        watch: { metric: { namespace: "AWS/S3", metricName: "ReplicationLatency", dimensions, stat: "Maximum" } },
        period: 300,
        evaluationPeriods: 3,
        comparison: "GreaterThanThreshold",
        threshold: REPLICATION_TIME_MINUTES * 60,
        missing: "notBreaching",
      },
    ];
    for (const spec of specs) metricAlarm(this, props.names, spec, props.alarmTargets, props.sourceProvider);
  }
}
