// The database's backups proven restorable (observability phase, staging and prod): AWS Backup's daily
// snapshot into an encrypted vault, the weekly restore test into a throw-away instance, its validation by a
// state machine, and the rules that send a failed backup, restore test or validation to the alerts topic;
// on the JSON of whole-environment synths.
import { Testing } from "cdktf";
import {
  AVAILABILITY_POLL,
  BACKUP_MANAGED_POLICIES,
  DatabaseRestoreTesting,
  FAILED_BACKUP_STATES,
  FAILED_EXECUTION_STATUSES,
  FAILED_RESTORE_STATUSES,
  FAILED_VALIDATION_STATUSES,
  VALIDATION_TIMEOUT_SECONDS,
} from "../src/constructs/restore-testing";
import { names } from "../src/naming";
import { config, policyStatements, resources, synthEnv } from "./support/config";

const REMOTE = (phase: string, output: string) => `\${data.terraform_remote_state.${phase}.outputs.${output}}`;
const ROLE = "${aws_iam_role.restore-testing_role.arn}";
const STATE_MACHINE = "${aws_sfn_state_machine.restore-testing_validation.arn}";
const one = (json: any, type: string) => Object.values(resources(json, type)) as any[];

describe.each(["staging", "prod"] as const)("%s: the database's restore test", (env) => {
  const json = synthEnv(config(env)).json.observability!;
  const n = names(env);

  it("backs the database up every day into a vault encrypted with the environment's key, protected from destroy, kept 7 days", () => {
    const [vault] = one(json, "aws_backup_vault");
    expect(vault).toEqual(
      expect.objectContaining({ name: `accessweaver-${env}-database`, kms_key_arn: REMOTE("network", "kms_key_arn"), lifecycle: { prevent_destroy: true } }),
    );
    expect(vault.force_destroy).toBeUndefined();
    const [plan] = one(json, "aws_backup_plan");
    expect(plan.rule).toEqual([
      {
        rule_name: "daily-snapshot",
        target_vault_name: "${aws_backup_vault.restore-testing_vault.name}",
        // After RDS's own backup window (02:00-03:00 UTC), never inside it.
        schedule: "cron(0 5 * * ? *)",
        start_window: 60,
        completion_window: 240,
        lifecycle: { delete_after: 7 },
      },
    ]);
    // Snapshots: continuous backup would hand the instance's automated backups (the database phase's) to AWS Backup.
    expect(plan.rule[0].enable_continuous_backup).toBeUndefined();
    expect(one(json, "aws_backup_selection")).toEqual([
      expect.objectContaining({
        name: `accessweaver-${env}-postgres`,
        plan_id: "${aws_backup_plan.restore-testing_plan.id}",
        iam_role_arn: ROLE,
        resources: [REMOTE("database", "database_arn")],
      }),
    ]);
  });

  it("restores the latest snapshot of the last day every week into a throw-away instance in the database subnets, behind the database tier's group", () => {
    const [plan] = one(json, "aws_backup_restore_testing_plan");
    expect(plan).toEqual(
      expect.objectContaining({
        name: `accessweaver_${env}_database`,
        schedule_expression: "cron(0 7 ? * TUE *)",
        schedule_expression_timezone: "Etc/UTC",
        start_window_hours: 1,
        recovery_point_selection: [
          {
            algorithm: "LATEST_WITHIN_WINDOW",
            include_vaults: ["${aws_backup_vault.restore-testing_vault.arn}"],
            recovery_point_types: ["SNAPSHOT"],
            selection_window_days: 1,
          },
        ],
      }),
    );
    // AWS Backup allows letters, digits and underscores only, at most 50.
    expect(plan.name).toMatch(/^[A-Za-z0-9_]{1,50}$/);
    const [selection] = one(json, "aws_backup_restore_testing_selection");
    expect(selection).toEqual(
      expect.objectContaining({
        name: `accessweaver_${env}_postgres`,
        restore_testing_plan_name: "${aws_backup_restore_testing_plan.restore-testing_testing-plan.name}",
        protected_resource_type: "RDS",
        protected_resource_arns: [REMOTE("database", "database_arn")],
        iam_role_arn: ROLE,
        restore_metadata_overrides: {
          dbSubnetGroupName: n.databaseSubnetGroup,
          vpcSecurityGroupIds: `\${jsonencode([${REMOTE("network", "security_group_ids").slice(2, -1)}.database])}`,
        },
      }),
    );
    // AWS Backup keeps the instance an hour for the validation (it waits for its result), then deletes it.
    expect(selection.validation_window_hours).toBe(1);
  });

  it("runs as a role only AWS Backup assumes, with AWS Backup's own backup and restore policies", () => {
    const role = resources(json, "aws_iam_role")["restore-testing_role"];
    expect(role.name).toBe(n.backupRole);
    expect(policyStatements(json, "restore-testing_trust").AssumedByAwsBackup.principals).toEqual([{ type: "Service", identifiers: ["backup.amazonaws.com"] }]);
    const attached = one(json, "aws_iam_role_policy_attachment").filter((a) => a.role === "${aws_iam_role.restore-testing_role.name}");
    expect(attached.map((a) => a.policy_arn).sort()).toEqual(BACKUP_MANAGED_POLICIES.map((p) => `arn:aws:iam::aws:policy/service-role/${p}`).sort());
  });

  it("sends a failed restore test and a failed backup to the alerts topic, through rules the topic's policy admits", () => {
    const rules = resources(json, "aws_cloudwatch_event_rule");
    const restore = rules["restore-testing_restore-test-failures_rule"];
    expect(restore.name).toBe(`accessweaver-${env}-restore-test-failures`);
    expect(JSON.parse(restore.event_pattern)).toEqual({
      source: ["aws.backup"],
      "detail-type": ["Restore Job State Change"],
      detail: { $or: [{ status: [...FAILED_RESTORE_STATUSES] }, { validationStatus: [...FAILED_VALIDATION_STATUSES] }], iamRoleArn: [ROLE] },
    });
    expect(FAILED_VALIDATION_STATUSES).toEqual(["FAILED", "TIMED_OUT"]);
    const validation = rules["restore-testing_restore-validation-failures_rule"];
    expect(validation.name).toBe(`accessweaver-${env}-restore-validation-failures`);
    expect(JSON.parse(validation.event_pattern)).toEqual({
      source: ["aws.states"],
      "detail-type": ["Step Functions Execution Status Change"],
      detail: { status: ["FAILED", "TIMED_OUT", "ABORTED"], stateMachineArn: [STATE_MACHINE] },
    });
    expect(FAILED_EXECUTION_STATUSES).toEqual(["FAILED", "TIMED_OUT", "ABORTED"]);
    const backup = rules["restore-testing_database-backup-failures_rule"];
    expect(backup.name).toBe(`accessweaver-${env}-database-backup-failures`);
    expect(JSON.parse(backup.event_pattern)).toEqual({
      source: ["aws.backup"],
      "detail-type": ["Backup Job State Change"],
      detail: { state: [...FAILED_BACKUP_STATES], backupVaultName: ["${aws_backup_vault.restore-testing_vault.name}"] },
    });
    const targets = resources(json, "aws_cloudwatch_event_target");
    for (const rule of ["restore-test-failures", "database-backup-failures", "restore-validation-failures"]) {
      expect(targets[`restore-testing_${rule}_target`].arn).toBe("${aws_sns_topic.alerts_topic.arn}");
      expect(`accessweaver-${env}-${rule}`).toMatch(new RegExp(`^${n.eventRulePattern.replace("*", ".*")}$`));
    }
  });

  it("validates the restored instance with a state machine of two AWS SDK calls: available, encrypted, PostgreSQL, the environment's key", () => {
    const [machine] = one(json, "aws_sfn_state_machine");
    expect(machine).toEqual(
      expect.objectContaining({
        name: `accessweaver-${env}-restore-validation`,
        type: "STANDARD",
        role_arn: "${aws_iam_role.restore-testing_validation-role_role.arn}",
      }),
    );
    const definition = JSON.parse(machine.definition);
    expect(definition.StartAt).toBe("ReadEvent");
    expect(definition.TimeoutSeconds).toBe(VALIDATION_TIMEOUT_SECONDS);
    expect(VALIDATION_TIMEOUT_SECONDS).toBeLessThan(3600);
    const states = definition.States;
    // The event's restore job and the instance AWS Backup created.
    expect(states.ReadEvent.Parameters).toEqual({ "restoreJobId.$": "$.detail.restoreJobId", "instanceArn.$": "$.detail.createdResourceArn", attempts: 0 });
    const integrations = Object.values(states)
      .map((st: any) => st.Resource)
      .filter(Boolean);
    expect([...new Set(integrations)].sort()).toEqual([
      "arn:aws:states:::aws-sdk:backup:putRestoreValidationResult",
      "arn:aws:states:::aws-sdk:rds:describeDBInstances",
    ]);
    expect(states.DescribeInstance.Parameters).toEqual({ "DbInstanceIdentifier.$": "$.instanceArn" });
    expect(states.DescribeInstance.Catch).toEqual([{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "DescribeFailed" }]);
    // Each check: the field present and equal, else a message naming it, then FAILED.
    const check = (state: string, field: string, test: Record<string, unknown>, pass: string) => {
      expect(states[state].Choices[0]).toEqual({
        And: [
          { Variable: `$.instance.${field}`, IsPresent: true },
          { Variable: `$.instance.${field}`, ...test },
        ],
        Next: pass,
      });
      // IsAvailable gives up after its attempts (its second choice); the other checks fail by default.
      const failure = states[states[state].Choices[1]?.Next ?? states[state].Default];
      expect(failure).toEqual(expect.objectContaining({ Type: "Pass", ResultPath: "$.failure", Next: "ReportFailed" }));
      expect(failure.Result.message).toContain(field);
    };
    check("IsAvailable", "DbInstanceStatus", { StringEquals: "available" }, "IsEncrypted");
    check("IsEncrypted", "StorageEncrypted", { BooleanEquals: true }, "IsPostgres");
    check("IsPostgres", "Engine", { StringEquals: "postgres" }, "IsUnderEnvironmentKey");
    check("IsUnderEnvironmentKey", "KmsKeyId", { StringEquals: REMOTE("network", "kms_key_arn") }, "ReportSuccessful");
    // Not yet available: looked at again, a bounded number of times.
    expect(states.IsAvailable.Choices[1]).toEqual({ Variable: "$.attempts", NumericGreaterThanEquals: AVAILABILITY_POLL.attempts, Next: "NotAvailable" });
    expect(states.IsAvailable.Default).toBe("WaitForInstance");
    expect(states.CountAttempt.Next).toBe("DescribeInstance");
    expect(states.DescribeFailed).toEqual(expect.objectContaining({ ResultPath: "$.failure", Next: "ReportFailed" }));
    expect(states.ReportSuccessful).toEqual(
      expect.objectContaining({
        Parameters: expect.objectContaining({ "RestoreJobId.$": "$.restoreJobId", ValidationStatus: "SUCCESSFUL" }),
        End: true,
      }),
    );
    expect(states.ReportFailed.Parameters).toEqual({
      "RestoreJobId.$": "$.restoreJobId",
      ValidationStatus: "FAILED",
      "ValidationStatusMessage.$": "$.failure.message",
    });
    // A FAILED report fails the execution, which the failure rule sends to the alerts topic.
    expect(states.ReportFailed.Next).toBe("ValidationFailed");
    expect(states.ValidationFailed.Type).toBe("Fail");
  });

  it("starts the validation when a restore job of the plan completes, through a role that may start that state machine only", () => {
    const rule = resources(json, "aws_cloudwatch_event_rule")["restore-testing_validation-start"];
    expect(rule.name).toBe(`accessweaver-${env}-restore-validation`);
    expect(JSON.parse(rule.event_pattern)).toEqual({
      source: ["aws.backup"],
      "detail-type": ["Restore Job State Change"],
      detail: { status: ["COMPLETED"], resourceType: ["RDS"], restoreTestingPlanArn: ["${aws_backup_restore_testing_plan.restore-testing_testing-plan.arn}"] },
    });
    const target = resources(json, "aws_cloudwatch_event_target")["restore-testing_validation-start-target"];
    expect(target).toEqual(
      expect.objectContaining({
        rule: "${aws_cloudwatch_event_rule.restore-testing_validation-start.name}",
        arn: STATE_MACHINE,
        role_arn: "${aws_iam_role.restore-testing_validation-start-role_role.arn}",
      }),
    );
    const roles = resources(json, "aws_iam_role");
    expect(roles["restore-testing_validation-start-role_role"].name).toBe(`accessweaver-${env}-restore-validation-start`);
    const start = policyStatements(json, "restore-testing_validation-start-role_permissions");
    expect(Object.keys(start)).toEqual(["StartValidation"]);
    expect(start.StartValidation).toEqual(expect.objectContaining({ actions: ["states:StartExecution"], resources: [STATE_MACHINE] }));
    const startTrust = policyStatements(json, "restore-testing_validation-start-role_trust").AssumedByService;
    expect(startTrust.principals).toEqual([{ type: "Service", identifiers: ["events.amazonaws.com"] }]);
    expect(startTrust.condition).toContainEqual({
      test: "ArnLike",
      variable: "aws:SourceArn",
      values: [`arn:aws:events:eu-west-1:111122223333:rule/accessweaver-${env}-restore-validation`],
    });
  });

  it("runs the validation as a role that may describe the account's instances and report a validation result, nothing else", () => {
    const roles = resources(json, "aws_iam_role");
    expect(roles["restore-testing_validation-role_role"].name).toBe(`accessweaver-${env}-restore-validation`);
    const trust = policyStatements(json, "restore-testing_validation-role_trust").AssumedByService;
    expect(trust.principals).toEqual([{ type: "Service", identifiers: ["states.amazonaws.com"] }]);
    expect(trust.condition).toContainEqual({
      test: "ArnLike",
      variable: "aws:SourceArn",
      values: [`arn:aws:states:eu-west-1:111122223333:stateMachine:accessweaver-${env}-restore-validation`],
    });
    const permissions = policyStatements(json, "restore-testing_validation-role_permissions");
    expect(Object.keys(permissions).sort()).toEqual(["DescribeRestoredInstance", "ReportValidationResult"]);
    expect(permissions.DescribeRestoredInstance).toEqual(
      expect.objectContaining({ actions: ["rds:DescribeDBInstances"], resources: ["arn:aws:rds:eu-west-1:111122223333:db:*"] }),
    );
    expect(permissions.ReportValidationResult).toEqual(expect.objectContaining({ actions: ["backup:PutRestoreValidationResult"], resources: ["*"] }));
  });

  it("publishes the vault and the restore testing plan by name", () => {
    expect(json.output.database_backup_vault_name.value).toBe("${aws_backup_vault.restore-testing_vault.name}");
    expect(json.output.restore_testing_plan_name.value).toBe("${aws_backup_restore_testing_plan.restore-testing_testing-plan.name}");
  });
});

describe("where the restore test is not, and its settings", () => {
  it("dev has no backup plan, vault or restore test (cost): RDS's automated backups only", () => {
    const json = synthEnv(config("dev")).json.observability!;
    for (const type of [
      "aws_backup_vault",
      "aws_backup_plan",
      "aws_backup_selection",
      "aws_backup_restore_testing_plan",
      "aws_backup_restore_testing_selection",
      "aws_sfn_state_machine",
    ]) {
      expect([type, resources(json, type)]).toEqual([type, {}]);
    }
    expect(json.output.restore_testing_plan_name).toBeUndefined();
  });

  const build = (extra: Partial<ConstructorParameters<typeof DatabaseRestoreTesting>[2]>) =>
    JSON.parse(
      Testing.synthScope((scope) => {
        new DatabaseRestoreTesting(scope, "restore-testing", {
          names: names("prod"),
          partition: "aws",
          kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/k",
          databaseArn: "arn:aws:rds:eu-west-1:111122223333:db:accessweaver-prod-postgres",
          accountId: "111122223333",
          region: "eu-west-1",
          subnetGroupName: "accessweaver-prod-postgres",
          securityGroupId: "sg-1",
          alertsTopicArn: "arn:aws:sns:eu-west-1:111122223333:accessweaver-prod-alerts",
          protect: true,
          ...extra,
        });
      }),
    );

  it("keeps the restored instance for a validation window and gives it another class only when asked, within AWS Backup's 1 to 168 hours", () => {
    const [selection] = one(build({ validationWindowHours: 2, instanceClass: "db.t4g.medium" }), "aws_backup_restore_testing_selection");
    expect(selection.validation_window_hours).toBe(2);
    expect(selection.restore_metadata_overrides.dbInstanceClass).toBe("db.t4g.medium");
    expect(one(build({}), "aws_backup_restore_testing_selection")[0].validation_window_hours).toBe(1);
    expect(() => build({ validationWindowHours: 0 })).toThrow(/AWS Backup accepts 1 to 168/);
    expect(() => build({ validationWindowHours: 169 })).toThrow(/AWS Backup accepts 1 to 168/);
  });
});
