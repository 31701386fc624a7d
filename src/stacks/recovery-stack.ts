import { Construct } from "constructs";
import { Fn } from "cdktf";
import { CATALOG } from "../config/services";
import { EnvironmentConfig } from "../config/settings";
import { AUDIT_LOG_RETENTION_DAYS } from "../config/profiles";
import { BackupReplication, backupReplicationEvents } from "../constructs/backup-replication";
import { BucketReplica } from "../constructs/bucket-replication";
import { AlertRule } from "../constructs/event-rules";
import { EventForwarding } from "../constructs/event-forwarding";
import { ImageReplication, replicationFailures } from "../constructs/image-replication";
import { EnvironmentGuardrails } from "../policy/guardrails";
import { RECOVERY_RULES } from "../policy/recovery-rules";
import { BuiltPhases, publishHandles, readHandles } from "./handles";
import { PhaseStack } from "./phase-stack";

/**
 * Phase 7: what the business needs, copied continuously out of the primary region (docs/disaster-recovery.md).
 * Its default provider and its state are in `dr_region`; the replication settings that belong to a
 * source (the audit bucket's rule, the registry's configuration) and the alarms on the copies are made
 * in the primary region by a second provider, next to what they watch and the alerts topic.
 *  - database: RDS replicates the automated backups (snapshots and transaction logs), encrypted with the
 *    DR key: point-in-time restore in the DR region, minutes behind the primary;
 *  - audit evidence: the audit bucket replicated to a bucket with the same Object Lock (15-minute RTC);
 *  - images: the services' repositories replicated by ECR;
 *  - the JWT secret's replica is declared on the secret itself (cache phase), the DR key by the network
 *    phase: both must exist before this phase, and it re-publishes them for a restore.
 */
export class RecoveryStack extends PhaseStack {
  readonly backups: BackupReplication;
  readonly audit: BucketReplica;
  readonly images?: ImageReplication;

  constructor(scope: Construct, config: EnvironmentConfig, built: BuiltPhases) {
    super(scope, "recovery", { config, home: "dr" });
    const s = config.settings;
    const n = this.names;
    const partition = this.partition;
    const drRegion = this.region;
    const primary = this.awsProvider("aws-primary", s.region, "primary");
    const network = readHandles(this, built, "network");
    const database = readHandles(this, built, "database");
    const cache = readHandles(this, built, "cache");
    const observability = readHandles(this, built, "observability");
    const drKey = network.drKmsKeyArn!;
    const protect = config.sizing.preventDestroy;
    const alerts = { alerts: observability.alertsTopicArn, ...(observability.criticalTopicArn ? { critical: observability.criticalTopicArn } : {}) };

    this.backups = new BackupReplication(this, "database-backups", {
      sourceDbInstanceArn: database.databaseArn,
      kmsKeyArn: drKey,
      retentionDays: s.drBackupRetentionDays!,
      preventDestroy: protect,
    });
    new AlertRule(this, "backup-replication", {
      name: n.eventRule("backup-replication"),
      description: `RDS events about the backup replication of ${n.database} to ${drRegion} (stopped, failed): point-in-time restore there may fall behind`,
      pattern: backupReplicationEvents(n.database),
      topicArn: observability.alertsTopicArn,
      provider: primary,
    });

    this.audit = new BucketReplica(this, "audit-replica", {
      names: n,
      // The primary environment always has its audit bucket (only the DR environment skips it).
      sourceBucketName: observability.auditBucketName!,
      sourceKmsKeyArn: network.kmsKeyArn,
      sourceRegion: s.region,
      replicaBucketName: n.auditReplicaBucket(s.accountId),
      replicaKmsKeyArn: drKey,
      replicaRegion: drRegion,
      objectLock: { mode: s.auditObjectLockMode, days: AUDIT_LOG_RETENTION_DAYS },
      accountId: s.accountId,
      partition,
      protect,
      ruleId: n.auditReplicationRule,
      roleName: n.auditReplicationRole,
      sourceProvider: primary,
      alarmTargets: alerts,
    });

    // The registry is the account's: replicated by one environment only (dr_replicate_images: prod by
    // default), and only when the images are in this account's registry (another account's registry is
    // replicated by its owner; docs/disaster-recovery.md).
    const registryAccount = s.ecrRegistry.split(".")[0]!;
    const repositories = s.drReplicateImages && registryAccount === s.accountId ? CATALOG.map((spec) => spec.name) : [];
    if (repositories.length > 0) {
      this.images = new ImageReplication(this, "images", {
        repositories,
        registryId: s.accountId,
        destinationRegion: drRegion,
        kmsKeyArn: drKey,
        sourceProvider: primary,
        env: config.env,
        roleName: n.ecrReplicationRole,
        accountId: s.accountId,
        partition,
      });
      // ECR reports a replication in the destination region: forwarded to the primary's bus, then alerted there.
      new EventForwarding(this, "image-replication-forward", {
        name: n.eventRule("image-replication-forward"),
        description: `Failed ECR replications of AccessWeaver images into ${drRegion}, forwarded to ${s.region}`,
        pattern: replicationFailures(repositories),
        targetBusArn: `arn:${partition}:events:${s.region}:${s.accountId}:event-bus/default`,
        roleName: n.drEventForwardingRole,
        accountId: s.accountId,
        partition,
        region: drRegion,
      });
      new AlertRule(this, "image-replication", {
        name: n.eventRule("image-replication"),
        description: `An AccessWeaver image failed to replicate to ${drRegion}: a restore there would run older images`,
        pattern: replicationFailures(repositories),
        topicArn: observability.alertsTopicArn,
        provider: primary,
      });
    }

    // What must be copied is decided by the other phases' resources: the rules read the whole environment.
    const others = Object.values(built).filter((stack) => stack !== undefined && stack !== this);
    EnvironmentGuardrails.attachEnvironment(this, () => others, RECOVERY_RULES, config.sizing.guardrails);

    publishHandles(this, "recovery", {
      drRegion,
      drKmsKeyArn: drKey,
      databaseBackupsArn: this.backups.arn,
      auditReplicaBucketName: this.audit.replica.bucket.bucket,
      jwtSecretName: n.secret("jwt"),
      // A replica keeps its primary's ARN (and random suffix), in its own region.
      jwtSecretReplicaArn: Fn.replace(cache.jwtSecretArn, `:${s.region}:`, `:${drRegion}:`),
      replicatedRepositories: repositories,
    });
  }
}
