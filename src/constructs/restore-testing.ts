import { Construct } from "constructs";
import { Fn } from "cdktf";
import { BackupPlan } from "@cdktf/provider-aws/lib/backup-plan";
import { BackupRestoreTestingPlan } from "@cdktf/provider-aws/lib/backup-restore-testing-plan";
import { BackupRestoreTestingSelection } from "@cdktf/provider-aws/lib/backup-restore-testing-selection";
import { BackupSelection } from "@cdktf/provider-aws/lib/backup-selection";
import { BackupVault } from "@cdktf/provider-aws/lib/backup-vault";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { SfnStateMachine } from "@cdktf/provider-aws/lib/sfn-state-machine";
import { Names, RESTORE_VALIDATION_RULE } from "../naming";
import { AlertRule } from "./event-rules";
import { ServiceRole, policyDocument } from "./iam";

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
/** A restore job's validation that ends in one of these did not prove the restored instance (PutRestoreValidationResult's values). */
export const FAILED_VALIDATION_STATUSES = ["FAILED", "TIMED_OUT"] as const;
/** A Step Functions execution that ends in one of these did not report a successful validation. */
export const FAILED_EXECUTION_STATUSES = ["FAILED", "TIMED_OUT", "ABORTED"] as const;
/** Hours AWS Backup keeps the restored instance for the validation before deleting it. */
export const DEFAULT_VALIDATION_WINDOW_HOURS = 1;
/** The validation gives up (the execution times out, an alert) well inside that window. */
export const VALIDATION_TIMEOUT_SECONDS = 45 * 60;
/** How often and how many times the validation looks again at an instance that is not yet `available`. */
export const AVAILABILITY_POLL = { seconds: 60, attempts: 20 } as const;

/**
 * The validation, in Amazon States Language (JSONPath): what AWS Backup's restore testing guide leaves to "a
 * validation workflow", with no code of ours, only two AWS SDK integrations. Its input is the `Restore Job
 * State Change` event: it describes the restored instance (`detail.createdResourceArn`; DescribeDBInstances
 * takes an ARN as identifier), waits for it to be `available`, checks it is encrypted, PostgreSQL, under the
 * environment's key, and reports SUCCESSFUL or FAILED (with the check that failed) for `detail.restoreJobId`.
 * Any error reports FAILED. A FAILED report then ends the execution in a Fail state, so that the execution's
 * own status change carries it to the alerts topic. The SDK integrations use the AWS SDK for Java v2's
 * member names (`DbInstanceIdentifier`, `DbInstances`, `DbInstanceStatus`), not the API reference's.
 */
export function validationDefinition(kmsKeyArn: string): Record<string, unknown> {
  const instance = (field: string) => `$.instance.${field}`;
  // A comparison on an absent field is a runtime error no Catch handles: each is guarded by IsPresent.
  const present = (field: string, test: Record<string, unknown>) => ({
    And: [
      { Variable: instance(field), IsPresent: true },
      { Variable: instance(field), ...test },
    ],
  });
  const failed = (message: string) => ({ Type: "Pass", Result: { message }, ResultPath: "$.failure", Next: "ReportFailed" });
  const check = (field: string, test: Record<string, unknown>, next: string, failure: string) => ({
    Type: "Choice",
    Choices: [{ ...present(field, test), Next: next }],
    Default: failure,
  });
  const retry = [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 10, MaxAttempts: 3, BackoffRate: 2 }];
  return {
    Comment: "Validates a restore test's instance and reports the result to AWS Backup (PutRestoreValidationResult)",
    StartAt: "ReadEvent",
    TimeoutSeconds: VALIDATION_TIMEOUT_SECONDS,
    States: {
      ReadEvent: {
        Type: "Pass",
        Parameters: { "restoreJobId.$": "$.detail.restoreJobId", "instanceArn.$": "$.detail.createdResourceArn", attempts: 0 },
        Next: "DescribeInstance",
      },
      DescribeInstance: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:rds:describeDBInstances",
        Parameters: { "DbInstanceIdentifier.$": "$.instanceArn" },
        ResultSelector: { "instance.$": "$.DbInstances[0]" },
        ResultPath: "$.described",
        Retry: retry,
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "DescribeFailed" }],
        Next: "KeepInstance",
      },
      // The described instance at `$.instance`, the attempt count kept.
      KeepInstance: {
        Type: "Pass",
        Parameters: { "restoreJobId.$": "$.restoreJobId", "instanceArn.$": "$.instanceArn", "attempts.$": "$.attempts", "instance.$": "$.described.instance" },
        Next: "IsAvailable",
      },
      IsAvailable: {
        Type: "Choice",
        Choices: [
          { ...present("DbInstanceStatus", { StringEquals: "available" }), Next: "IsEncrypted" },
          { Variable: "$.attempts", NumericGreaterThanEquals: AVAILABILITY_POLL.attempts, Next: "NotAvailable" },
        ],
        Default: "WaitForInstance",
      },
      WaitForInstance: { Type: "Wait", Seconds: AVAILABILITY_POLL.seconds, Next: "CountAttempt" },
      CountAttempt: {
        Type: "Pass",
        Parameters: { "restoreJobId.$": "$.restoreJobId", "instanceArn.$": "$.instanceArn", "attempts.$": "States.MathAdd($.attempts, 1)" },
        Next: "DescribeInstance",
      },
      IsEncrypted: check("StorageEncrypted", { BooleanEquals: true }, "IsPostgres", "NotEncrypted"),
      IsPostgres: check("Engine", { StringEquals: "postgres" }, "IsUnderEnvironmentKey", "NotPostgres"),
      IsUnderEnvironmentKey: check("KmsKeyId", { StringEquals: kmsKeyArn }, "ReportSuccessful", "NotUnderEnvironmentKey"),
      NotAvailable: failed(
        `the restored instance was not available after ${AVAILABILITY_POLL.attempts} checks ${AVAILABILITY_POLL.seconds} s apart (DbInstanceStatus)`,
      ),
      NotEncrypted: failed("the restored instance is not encrypted (StorageEncrypted is not true)"),
      NotPostgres: failed("the restored instance is not PostgreSQL (Engine is not postgres)"),
      NotUnderEnvironmentKey: failed("the restored instance is not encrypted with the environment's key (KmsKeyId)"),
      DescribeFailed: {
        Type: "Pass",
        Parameters: { "message.$": "States.Format('describing the restored instance failed: {}', $.error.Error)" },
        ResultPath: "$.failure",
        Next: "ReportFailed",
      },
      ReportSuccessful: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:backup:putRestoreValidationResult",
        Parameters: {
          "RestoreJobId.$": "$.restoreJobId",
          ValidationStatus: "SUCCESSFUL",
          ValidationStatusMessage: "available, encrypted, PostgreSQL, under the environment's key",
        },
        Retry: retry,
        End: true,
      },
      ReportFailed: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:backup:putRestoreValidationResult",
        Parameters: { "RestoreJobId.$": "$.restoreJobId", ValidationStatus: "FAILED", "ValidationStatusMessage.$": "$.failure.message" },
        Retry: retry,
        ResultPath: null,
        Next: "ValidationFailed",
      },
      ValidationFailed: {
        Type: "Fail",
        Error: "RestoreValidationFailed",
        Cause: "The restored instance failed a check: see ValidationStatusMessage of the restore job",
      },
    },
  };
}

export interface DatabaseRestoreTestingProps {
  /** The environment's names: the vault, plan, selections, role and event rules. */
  readonly names: Names;
  readonly partition: string;
  /**
   * The environment's key ARN: encrypts the vault (an RDS snapshot itself stays under the instance's own
   * key, the same one), and the validation checks the restored instance's KmsKeyId against it.
   */
  readonly kmsKeyArn: string;
  /** The PostgreSQL instance backed up and restore-tested. */
  readonly databaseArn: string;
  /** Where the stack is: the validation's role may describe this account's instances in this region only. */
  readonly accountId: string;
  readonly region: string;
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
   * Hours (1 to 168) AWS Backup keeps the restored instance for the validation, waiting for its result,
   * before deleting it. @default 1 (the validation gives up after 45 minutes)
   */
  readonly validationWindowHours?: number;
  /** The restored instance's class. @default the recovery point's (AWS Backup infers it) */
  readonly instanceClass?: string;
}

/**
 * The guide's "Backups automatiques testés": AWS Backup takes a daily snapshot of the database into a vault
 * encrypted with the environment's key (restore testing reads AWS Backup recovery points; RDS's own
 * automated backups are not), and a restore testing plan restores the latest one every week into a
 * throw-away instance in the database subnets. A state machine validates the instance (its configuration:
 * available, encrypted, PostgreSQL, the environment's key; no SQL) and reports the result to AWS Backup,
 * which deletes the instance after the result or the validation window. A backup, restore or validation
 * that fails notifies the alerts topic. Snapshots, not continuous backups: AWS Backup would then
 * manage the instance's automated backups, which the database phase owns (retention, window, PITR).
 */
export class DatabaseRestoreTesting extends Construct {
  readonly vault: BackupVault;
  readonly role: IamRole;
  readonly plan: BackupPlan;
  readonly testingPlan: BackupRestoreTestingPlan;
  readonly testingSelection: BackupRestoreTestingSelection;
  readonly validation: SfnStateMachine;

  constructor(scope: Construct, id: string, props: DatabaseRestoreTestingProps) {
    super(scope, id);
    const n = props.names;
    const hours = props.validationWindowHours ?? DEFAULT_VALIDATION_WINDOW_HOURS;
    if (!Number.isInteger(hours) || hours < 1 || hours > 168) {
      throw new Error(`Restore tests keep the restored database ${hours} hours for validation; AWS Backup accepts 1 to 168.`);
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
      validationWindowHours: hours,
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
        // A restore that failed, or (the restore job's validation status, as DescribeRestoreJob names it) a
        // validation that failed or that AWS Backup timed out waiting for.
        detail: {
          $or: [{ status: [...FAILED_RESTORE_STATUSES] }, { validationStatus: [...FAILED_VALIDATION_STATUSES] }],
          iamRoleArn: [this.role.arn],
        },
      },
      topicArn: props.alertsTopicArn,
    });

    // The validation: a state machine of AWS SDK calls (no code to package), started when a restore job of
    // this plan completes, within the validation window above.
    const stateMachineArn = `arn:${props.partition}:states:${props.region}:${props.accountId}:stateMachine:${n.restoreValidationStateMachine}`;
    const validationRole = new ServiceRole(this, "validation-role", {
      name: n.restoreValidationRole,
      service: "states.amazonaws.com",
      accountId: props.accountId,
      sourceArns: [stateMachineArn],
      statements: [
        // DescribeDBInstances is authorized on the instance, whose name AWS Backup chooses at the restore: any
        // instance of this account and region (a read of its configuration, no data).
        {
          sid: "DescribeRestoredInstance",
          actions: ["rds:DescribeDBInstances"],
          resources: [`arn:${props.partition}:rds:${props.region}:${props.accountId}:db:*`],
        },
        // PutRestoreValidationResult has no resource type in the service authorization reference: `*`.
        { sid: "ReportValidationResult", actions: ["backup:PutRestoreValidationResult"], resources: ["*"] },
      ],
    });
    this.validation = new SfnStateMachine(this, "validation", {
      name: n.restoreValidationStateMachine,
      type: "STANDARD",
      roleArn: validationRole.role.arn,
      definition: JSON.stringify(validationDefinition(props.kmsKeyArn)),
      dependsOn: [validationRole.policy],
    });
    const startRuleName = n.eventRule(RESTORE_VALIDATION_RULE);
    const startRule = new CloudwatchEventRule(this, "validation-start", {
      name: startRuleName,
      description: `Starts ${n.restoreValidationStateMachine} when a restore job of ${n.restoreTestingPlan} completes`,
      eventPattern: JSON.stringify({
        source: ["aws.backup"],
        "detail-type": ["Restore Job State Change"],
        // The fields AWS Backup's restore testing validation guide filters on.
        detail: { status: ["COMPLETED"], resourceType: ["RDS"], restoreTestingPlanArn: [this.testingPlan.arn] },
      }),
    });
    const startRole = new ServiceRole(this, "validation-start-role", {
      name: n.restoreValidationStartRole,
      service: "events.amazonaws.com",
      accountId: props.accountId,
      sourceArns: [`arn:${props.partition}:events:${props.region}:${props.accountId}:rule/${startRuleName}`],
      statements: [{ sid: "StartValidation", actions: ["states:StartExecution"], resources: [this.validation.arn] }],
    });
    // The whole event is the execution's input.
    new CloudwatchEventTarget(this, "validation-start-target", {
      rule: startRule.name,
      targetId: "validation",
      arn: this.validation.arn,
      roleArn: startRole.role.arn,
    });
    new AlertRule(this, "restore-validation-failures", {
      name: n.eventRule("restore-validation-failures"),
      description: `A validation of a restore test (${n.restoreValidationStateMachine}) failed a check, errored or timed out`,
      pattern: {
        source: ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        detail: { status: [...FAILED_EXECUTION_STATUSES], stateMachineArn: [this.validation.arn] },
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
