// The database's backups proven restorable (observability phase, staging and prod): AWS Backup's daily
// snapshot into an encrypted vault, the weekly restore test into a throw-away instance, and the rules that
// send a failed backup or restore test to the alerts topic; on the JSON of whole-environment synths.
import { Testing } from "cdktf";
import { BACKUP_MANAGED_POLICIES, DatabaseRestoreTesting, FAILED_BACKUP_STATES, FAILED_RESTORE_STATUSES } from "../src/constructs/restore-testing";
import { names } from "../src/naming";
import { config, policyStatements, resources, synthEnv } from "./support/config";

const REMOTE = (phase: string, output: string) => `\${data.terraform_remote_state.${phase}.outputs.${output}}`;
const ROLE = "${aws_iam_role.restore-testing_role.arn}";
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
    // No validation window: AWS Backup deletes the instance as soon as the restore job completes.
    expect(selection.validation_window_hours).toBeUndefined();
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
      detail: { status: [...FAILED_RESTORE_STATUSES], iamRoleArn: [ROLE] },
    });
    const backup = rules["restore-testing_database-backup-failures_rule"];
    expect(backup.name).toBe(`accessweaver-${env}-database-backup-failures`);
    expect(JSON.parse(backup.event_pattern)).toEqual({
      source: ["aws.backup"],
      "detail-type": ["Backup Job State Change"],
      detail: { state: [...FAILED_BACKUP_STATES], backupVaultName: ["${aws_backup_vault.restore-testing_vault.name}"] },
    });
    const targets = resources(json, "aws_cloudwatch_event_target");
    for (const rule of ["restore-test-failures", "database-backup-failures"]) {
      expect(targets[`restore-testing_${rule}_target`].arn).toBe("${aws_sns_topic.alerts_topic.arn}");
      expect(`accessweaver-${env}-${rule}`).toMatch(new RegExp(`^${n.eventRulePattern.replace("*", ".*")}$`));
    }
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
    expect(() => build({ validationWindowHours: 0 })).toThrow(/AWS Backup accepts 1 to 168/);
    expect(() => build({ validationWindowHours: 169 })).toThrow(/AWS Backup accepts 1 to 168/);
  });
});
