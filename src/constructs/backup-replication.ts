import { Construct } from "constructs";
import { DbInstanceAutomatedBackupsReplication } from "@cdktf/provider-aws/lib/db-instance-automated-backups-replication";
import { DR_BACKUP_RETENTION_RANGE } from "../config/dr-regions";

export interface BackupReplicationProps {
  /** The source instance, in the primary region. */
  readonly sourceDbInstanceArn: string;
  /** The DR region's key: the replicated backups are encrypted with it (an encrypted source needs one). */
  readonly kmsKeyArn: string;
  /** Days the replicated backups are kept (1 to 35). */
  readonly retentionDays: number;
  /** Terraform refuses to destroy the replication (prod): a destroy stops it and deletes the replicated backups. */
  readonly preventDestroy: boolean;
}

/**
 * The database's automated backups (snapshots and transaction logs) replicated to the DR region by RDS
 * itself: point-in-time restore stays possible there, to within minutes of the region's loss. Created by
 * the stack's default provider, which is in the DR region: RDS starts a replication from the destination.
 */
export class BackupReplication extends Construct {
  readonly replication: DbInstanceAutomatedBackupsReplication;
  /** The replicated backups' ARN (`arn:aws:rds:<dr region>:<account>:auto-backup:ab-...`): a restore's source. */
  readonly arn: string;

  constructor(scope: Construct, id: string, props: BackupReplicationProps) {
    super(scope, id);
    const { min, max } = DR_BACKUP_RETENTION_RANGE;
    if (!Number.isInteger(props.retentionDays) || props.retentionDays < min || props.retentionDays > max) {
      throw new Error(`Replicated backups kept ${props.retentionDays} days; RDS accepts ${min} to ${max}.`);
    }
    this.replication = new DbInstanceAutomatedBackupsReplication(this, "replication", {
      sourceDbInstanceArn: props.sourceDbInstanceArn,
      kmsKeyId: props.kmsKeyArn,
      retentionPeriod: props.retentionDays,
      // Starting a replication copies the latest snapshot across regions first: longer than the default 75 minutes for a large database.
      timeouts: { create: "4h", delete: "2h" },
      lifecycle: { preventDestroy: props.preventDestroy },
    });
    this.arn = this.replication.id;
  }
}

/**
 * RDS events of the source instance that speak of its backup replication. RDS documents no event id for a
 * replication that stops (it stops when a region is opted out or either key is disabled, and the
 * provider then plans to start it again: `make drift` shows it); this matches the events' message text,
 * in either case, until a drill shows the exact ids (docs/disaster-recovery.md, "What is not proven").
 */
export function backupReplicationEvents(instanceIdentifier: string): Record<string, unknown> {
  return {
    source: ["aws.rds"],
    "detail-type": ["RDS DB Instance Event"],
    detail: { SourceIdentifier: [instanceIdentifier], Message: [{ wildcard: "*eplication*" }] },
  };
}
