import { Construct } from "constructs";
import { Fn } from "cdktf";
import { BackupPlan } from "@cdktf/provider-aws/lib/backup-plan";
import { BackupRestoreTestingPlan } from "@cdktf/provider-aws/lib/backup-restore-testing-plan";
import { BackupRestoreTestingSelection } from "@cdktf/provider-aws/lib/backup-restore-testing-selection";
import { BackupSelection } from "@cdktf/provider-aws/lib/backup-selection";
import { BackupVault } from "@cdktf/provider-aws/lib/backup-vault";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Names } from "../naming";
import { AlertRule } from "./event-rules";
import { policyDocument } from "./iam";

/**
 * What the backup role may do: AWS Backup's own policies for backups and for restores. The restore
 * testing guide requires the restore policy's permissions of the role it names; AWS maintains both as
 * the service's calls change (RDS snapshots, KMS grants, tags, the deletion of the test instance), which a
 * hand-written copy would silently fall behind. Only AWS Backup assumes the role, for this account.
 */
export const BACKUP_MANAGED_POLICIES = ["AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"] as const;

/** A backup job that ends in one of these never made its recovery point (AWS Backup's job states). */
export const FAILED_BACKUP_STATES = ["FAILED", "ABORTED", "EXPIRED"] as const;
/** A restore job that ends in one of these did not bring the database back. */
export const FAILED_RESTORE_STATUSES = ["FAILED", "ABORTED"] as const;

export interface DatabaseRestoreTestingProps {
  /** The environment's names: the vault, plan, selections, role and event rules. */
  readonly names: Names;
  readonly partition: string;
  /** The environment's key: encrypts the vault (an RDS snapshot itself stays under the instance's own key). */
  readonly kmsKeyArn: string;
  /** The PostgreSQL instance backed up and restore-tested. */
  readonly databaseArn: string;
  /** Where the throw-away instance is restored: the database subnets' group, and the database tier's security group. */
  readonly subnetGroupName: string;
  readonly securityGroupId: string;
  /** Where a failed backup or restore test is reported (the rules' names fit the topic's policy). */
  readonly alertsTopicArn: string;
  /** `prevent_destroy` on the vault, which holds the recovery points. */
  readonly protect: boolean;
  /** Days a recovery point is kept: restore tests read the latest, RDS keeps its own 30-day history. @default 7 */
  readonly retentionDays?: number;
  /** When AWS Backup snapshots the database, after RDS's backup window (02:00-03:00 UTC). @default "cron(0 5 * * ? *)" */
  readonly backupSchedule?: string;
  /** When the restore test runs: the morning after a backup, on a working day. @default "cron(0 7 ? * TUE *)" (weekly) */
  readonly testSchedule?: string;
  /**
   * Hours (1 to 168) the restored instance is kept for a validation before AWS Backup deletes it.
   * @default none: AWS Backup deletes it once the restore job completes (nothing here validates more than that)
   */
  readonly validationWindowHours?: number;
  /** The restored instance's class. @default the recovery point's (AWS Backup infers it) */
  readonly instanceClass?: string;
}

/**
 * The guide's "Backups automatiques testés": AWS Backup takes a daily snapshot of the database into a vault
 * encrypted with the environment's key (restore testing reads AWS Backup recovery points; RDS's own
 * automated backups are not), and a restore testing plan restores the latest one every week into a
 * throw-away instance in the database subnets, which AWS Backup deletes afterwards. A backup or restore
 * test that fails notifies the alerts topic. Snapshots, not continuous backups: AWS Backup would then
 * manage the instance's automated backups, which the database phase owns (retention, window, PITR).
 */
export class DatabaseRestoreTesting extends Construct {
  readonly vault: BackupVault;
  readonly role: IamRole;
  readonly plan: BackupPlan;
  readonly testingPlan: BackupRestoreTestingPlan;
  readonly testingSelection: BackupRestoreTestingSelection;

  constructor(scope: Construct, id: string, props: DatabaseRestoreTestingProps) {
    super(scope, id);
    const n = props.names;
    const hours = props.validationWindowHours;
    if (hours !== undefined && (!Number.isInteger(hours) || hours < 1 || hours > 168)) {
      throw new Error(`Restore tests keep the restored database ${hours} hours for validation; AWS Backup accepts 1 to 168 (or none).`);
    }

    this.vault = new BackupVault(this, "vault", { name: n.backupVault, kmsKeyArn: props.kmsKeyArn, lifecycle: { preventDestroy: props.protect } });
    // AWS Backup's documented trust policy has no condition: it is not documented to send aws:SourceArn
    // when it assumes the role, and a condition it does not meet would stop every backup. iam:PassRole
    // guards who may hand it the role.
    const trust = policyDocument(this, "trust", [
      { sid: "AssumedByAwsBackup", actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: ["backup.amazonaws.com"] }] },
    ]);
    this.role = new IamRole(this, "role", { name: n.backupRole, assumeRolePolicy: trust.json });
    const attachments = BACKUP_MANAGED_POLICIES.map(
      (policy) =>
        new IamRolePolicyAttachment(this, `role-${policy}`, {
          role: this.role.name,
          policyArn: `arn:${props.partition}:iam::aws:policy/service-role/${policy}`,
        }),
    );

    this.plan = new BackupPlan(this, "plan", {
      name: n.backupPlan,
      rule: [
        {
          ruleName: "daily-snapshot",
          targetVaultName: this.vault.name,
          schedule: props.backupSchedule ?? "cron(0 5 * * ? *)",
          // Minutes: start within the hour, be done within four.
          startWindow: 60,
          completionWindow: 240,
          lifecycle: { deleteAfter: props.retentionDays ?? 7 },
        },
      ],
    });
    new BackupSelection(this, "selection", {
      name: n.backupSelection,
      planId: this.plan.id,
      iamRoleArn: this.role.arn,
      resources: [props.databaseArn],
      dependsOn: attachments,
    });

    this.testingPlan = new BackupRestoreTestingPlan(this, "testing-plan", {
      name: n.restoreTestingPlan,
      scheduleExpression: props.testSchedule ?? "cron(0 7 ? * TUE *)",
      scheduleExpressionTimezone: "Etc/UTC",
      startWindowHours: 1,
      recoveryPointSelection: [
        {
          // The newest snapshot of the last day: a day without one is a failed backup, which its own rule reports.
          algorithm: "LATEST_WITHIN_WINDOW",
          includeVaults: [this.vault.arn],
          recoveryPointTypes: ["SNAPSHOT"],
          selectionWindowDays: 1,
        },
      ],
    });
    this.testingSelection = new BackupRestoreTestingSelection(this, "testing-selection", {
      name: n.restoreTestingSelection,
      restoreTestingPlanName: this.testingPlan.name,
      protectedResourceType: "RDS",
      protectedResourceArns: [props.databaseArn],
      iamRoleArn: this.role.arn,
      ...(hours !== undefined ? { validationWindowHours: hours } : {}),
      // Inferred otherwise from the default VPC, which this account's region may not have: the restore
      // goes where the database lives, behind the database tier's group (no route out, no one connects).
      restoreMetadataOverrides: {
        dbSubnetGroupName: props.subnetGroupName,
        vpcSecurityGroupIds: Fn.jsonencode([props.securityGroupId]),
        ...(props.instanceClass ? { dbInstanceClass: props.instanceClass } : {}),
      },
      dependsOn: attachments,
    });

    new AlertRule(this, "restore-test-failures", {
      name: n.eventRule("restore-test-failures"),
      description: `A restore of ${n.database} run with ${n.backupRole} (the weekly restore test) failed: the latest backup may not be restorable`,
      pattern: {
        source: ["aws.backup"],
        "detail-type": ["Restore Job State Change"],
        detail: { status: [...FAILED_RESTORE_STATUSES], iamRoleArn: [this.role.arn] },
      },
      topicArn: props.alertsTopicArn,
    });
    new AlertRule(this, "database-backup-failures", {
      name: n.eventRule("database-backup-failures"),
      description: `A backup of ${n.database} into ${n.backupVault} failed, was aborted or never started: the next restore test has nothing to restore`,
      pattern: {
        source: ["aws.backup"],
        "detail-type": ["Backup Job State Change"],
        detail: { state: [...FAILED_BACKUP_STATES], backupVaultName: [this.vault.name] },
      },
      topicArn: props.alertsTopicArn,
    });
  }
}
