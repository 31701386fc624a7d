// The database phase (guide phase 2), on the JSON of a whole-environment synth: PostgreSQL placed in the
// network through its named outputs, the protections per environment, and the database secret.
import { PROFILES } from "../src/config/profiles";
import { App, TerraformStack } from "cdktf";
import { Rds, RdsProps } from "../src/constructs/rds";
import { AppSecret } from "../src/constructs/secrets";
import { ENVIRONMENTS, names } from "../src/naming";
import { evaluate, viewOf } from "../src/policy/guardrails";
import { DATA_RULES } from "../src/policy/data-rules";
import { config, resources, synthEnv, tempDir } from "./support/config";
import { addresses, allOutputs, golden, secretDocument } from "./support/data";

const NET = (output: string) => `\${data.terraform_remote_state.network.outputs.${output}}`;
const KEY = NET("kms_key_arn");

const EXPECTED = {
  dev: { instanceClass: "db.t4g.micro", multiAz: false, storage: [20, 50], backups: 7, protect: false, insights: false },
  staging: { instanceClass: "db.r6g.large", multiAz: true, storage: [50, 200], backups: 14, protect: true, insights: true },
  prod: { instanceClass: "db.r6g.xlarge", multiAz: true, storage: [100, 1000], backups: 30, protect: true, insights: true },
} as const;

describe.each(ENVIRONMENTS)("%s: the database phase", (env) => {
  const { json, byStack, manifest } = synthEnv(config(env));
  const db = json.database!;
  const n = names(env);
  const want = EXPECTED[env];
  const instance = resources(db, "aws_db_instance").rds_instance;

  it("is one PostgreSQL 15 instance named for the runbooks, sized by the profile", () => {
    expect(Object.keys(resources(db, "aws_db_instance"))).toEqual(["rds_instance"]);
    expect(instance).toEqual(
      expect.objectContaining({
        identifier: `accessweaver-${env}-postgres`,
        engine: "postgres",
        engine_version: "15",
        instance_class: want.instanceClass,
        multi_az: want.multiAz,
        storage_type: "gp3",
        allocated_storage: want.storage[0],
        max_allocated_storage: want.storage[1],
        db_name: "accessweaver",
        username: "accessweaver_admin",
        port: 5432,
      }),
    );
  });

  it("sits in the network's database subnets and database security group, read through named outputs, not public", () => {
    expect(db.data.terraform_remote_state.network.config).toEqual({
      bucket: `accessweaver-terraform-state-${env}-111122223333`,
      key: `${env}/network/terraform.tfstate`,
      region: "eu-west-1",
    });
    expect(resources(db, "aws_db_subnet_group")["rds_subnet-group"]).toEqual(
      expect.objectContaining({ name: n.databaseSubnetGroup, subnet_ids: NET("database_subnet_ids") }),
    );
    expect(instance.db_subnet_group_name).toBe("${aws_db_subnet_group.rds_subnet-group.name}");
    expect(instance.vpc_security_group_ids).toEqual([NET("security_group_ids.database")]);
    expect(instance.publicly_accessible).toBe(false);
    // The 5432 rule is the network phase's; this phase adds none.
    expect(resources(db, "aws_vpc_security_group_ingress_rule")).toEqual({});
    expect(manifest.stacks[`accessweaver-${env}-database`].dependencies).toEqual([`accessweaver-${env}-network`]);
  });

  it("encrypts storage, Performance Insights and the master password with the network's key; current CA", () => {
    expect(instance).toEqual(
      expect.objectContaining({ storage_encrypted: true, kms_key_id: KEY, master_user_secret_kms_key_id: KEY, ca_cert_identifier: "rds-ca-rsa2048-g1" }),
    );
    expect(instance.performance_insights_enabled).toBe(want.insights);
    if (want.insights) expect(instance.performance_insights_kms_key_id).toBe(KEY);
    else expect(instance.performance_insights_kms_key_id).toBeUndefined();
  });

  it("forces TLS 1.2+, logs slow statements and connections without bind values (parameter group postgres15, named for a replacement beside it)", () => {
    const group = resources(db, "aws_db_parameter_group")["rds_parameter-group"];
    expect(group).toEqual(expect.objectContaining({ family: "postgres15", lifecycle: { create_before_destroy: true } }));
    expect(group.name).toMatch(new RegExp(`^accessweaver-${env}-postgres15-[0-9a-f]{8}$`));
    expect(Object.fromEntries(group.parameter.map((p: { name: string; value: string }) => [p.name, p.value]))).toEqual({
      "rds.force_ssl": "1",
      ssl_min_protocol_version: "TLSv1.2",
      log_min_duration_statement: "1000",
      log_connections: "1",
      log_disconnections: "1",
      log_parameter_max_length: "0",
      log_parameter_max_length_on_error: "0",
    });
    // Not enrolled in paid Extended Support at the end of the version's standard support.
    expect(instance.engine_lifecycle_support).toBe("open-source-rds-extended-support-disabled");
    expect(instance.parameter_group_name).toBe("${aws_db_parameter_group.rds_parameter-group.name}");
  });

  it("exports postgresql and upgrade logs to groups it creates first, encrypted and kept the profile's application retention", () => {
    expect(instance.enabled_cloudwatch_logs_exports).toEqual(["postgresql", "upgrade"]);
    const groups = resources(db, "aws_cloudwatch_log_group");
    for (const log of ["postgresql", "upgrade"] as const) {
      const address = `rds_log-${log}_log-group`;
      expect(groups[address]).toEqual(
        expect.objectContaining({
          name: `/aws/rds/instance/accessweaver-${env}-postgres/${log}`,
          kms_key_id: KEY,
          retention_in_days: PROFILES[env].applicationLogRetentionDays,
          tags: { LogClass: "application" },
        }),
      );
      expect(instance.depends_on).toContain(`aws_cloudwatch_log_group.${address}`);
    }
  });

  it("keeps backups per profile in windows that do not overlap; protects the data in staging and prod", () => {
    expect(instance).toEqual(
      expect.objectContaining({
        backup_retention_period: want.backups,
        backup_window: "02:00-03:00",
        maintenance_window: "sun:03:00-sun:04:00",
        copy_tags_to_snapshot: true,
      }),
    );
    expect(instance).toEqual(
      expect.objectContaining({
        deletion_protection: want.protect,
        delete_automated_backups: !want.protect,
        skip_final_snapshot: !want.protect,
        apply_immediately: !want.protect,
        lifecycle: { prevent_destroy: want.protect },
      }),
    );
    expect(instance.final_snapshot_identifier).toBe(want.protect ? `accessweaver-${env}-postgres-final` : undefined);
  });

  it("monitors every 60 s with its own role, authenticates through IAM, takes minor upgrades", () => {
    expect(instance).toEqual(
      expect.objectContaining({
        monitoring_interval: 60,
        monitoring_role_arn: "${aws_iam_role.rds_monitoring-role_role.arn}",
        iam_database_authentication_enabled: true,
        auto_minor_version_upgrade: true,
        allow_major_version_upgrade: false,
      }),
    );
    expect(resources(db, "aws_iam_role")["rds_monitoring-role_role"].name).toBe(`accessweaver-${env}-rds-monitoring`);
    const trust = db.data.aws_iam_policy_document["rds_monitoring-role_trust"].statement[0];
    expect(trust.principals).toEqual([{ type: "Service", identifiers: ["monitoring.rds.amazonaws.com"] }]);
    const permissions = db.data.aws_iam_policy_document["rds_monitoring-role_permissions"].statement;
    expect(permissions.flatMap((st: { resources: string[] }) => st.resources)).toEqual([
      "arn:aws:logs:eu-west-1:111122223333:log-group:RDSOSMetrics",
      "arn:aws:logs:eu-west-1:111122223333:log-group:RDSOSMetrics:log-stream:*",
    ]);
  });

  it("lets RDS make and rotate the master password: none in the configuration", () => {
    expect(instance.manage_master_user_password).toBe(true);
    expect(instance.password).toBeUndefined();
    expect(instance.password_wo).toBeUndefined();
    expect(JSON.stringify(db)).not.toMatch(/"password"\s*:/);
  });

  it("writes accessweaver/<env>/database: where to connect, no user and no password (the services log in as their own roles), encrypted, recoverable", () => {
    const secret = resources(db, "aws_secretsmanager_secret").secret_secret;
    expect(secret).toEqual(expect.objectContaining({ name: `accessweaver/${env}/database`, kms_key_id: KEY, recovery_window_in_days: want.protect ? 30 : 7 }));
    const doc = secretDocument(resources(db, "aws_secretsmanager_secret_version").secret_value.secret_string);
    expect(doc).toEqual({
      engine: '"postgres"',
      host: "aws_db_instance.rds_instance.address",
      port: "aws_db_instance.rds_instance.port",
      dbname: '"accessweaver"',
    });
  });

  it("publishes exactly its handles, none sensitive and none a secret value", () => {
    expect(db.output).toEqual({
      database_endpoint: expect.objectContaining({ value: "${aws_db_instance.rds_instance.address}", sensitive: false }),
      database_port: expect.objectContaining({ value: "${aws_db_instance.rds_instance.port}", sensitive: false }),
      database_name: expect.objectContaining({ value: "accessweaver", sensitive: false }),
      database_secret_arn: expect.objectContaining({ value: "${aws_secretsmanager_secret.secret_secret.arn}", sensitive: false }),
      database_master_secret_arn: expect.objectContaining({ value: "${aws_db_instance.rds_instance.master_user_secret[0].secret_arn}", sensitive: false }),
      // The recovery phase replicates the instance's automated backups by it.
      database_arn: expect.objectContaining({ value: "${aws_db_instance.rds_instance.arn}", sensitive: false }),
      database_identifier: expect.objectContaining({ value: "${aws_db_instance.rds_instance.identifier}", sensitive: false }),
      // The services' rds-db:connect ARNs name the instance by it; make db-roles logs in as the master user.
      database_resource_id: expect.objectContaining({ value: "${aws_db_instance.rds_instance.resource_id}", sensitive: false }),
      database_master_username: expect.objectContaining({ value: "${aws_db_instance.rds_instance.username}", sensitive: false }),
    });
    for (const o of allOutputs(byStack)) expect(o).not.toMatch(/random_password|auth_token|secret_string|password/);
  });

  it("passes the data tier's guardrails", () => {
    expect(evaluate(viewOf(`accessweaver-${env}-database`, db), DATA_RULES)).toEqual([]);
  });
});

describe("addresses", () => {
  it("are stable: prod's database addresses are the committed list (a rename replaces a resource)", () => {
    expect(addresses(synthEnv(config("prod")).json.database)).toEqual(golden("prod-database-addresses.txt"));
  });
});

describe("the rds construct refuses what AWS would refuse at apply", () => {
  const props = (over: Partial<RdsProps>): RdsProps => ({
    names: names("dev"),
    subnetIds: ["subnet-a", "subnet-b"],
    securityGroupId: "sg-1",
    kmsKeyArn: "arn:k",
    accountId: "111122223333",
    region: "eu-west-1",
    partition: "aws",
    ...PROFILES.dev.database,
    databaseName: "accessweaver",
    username: "accessweaver_admin",
    ...over,
  });
  const stack = () => new TerraformStack(new App({ outdir: tempDir() }), "accessweaver-dev-database");

  it("overlapping backup and maintenance windows", () => {
    expect(() => new Rds(stack(), "rds", props({ backupWindow: "03:30-04:30", maintenanceWindow: "sun:04:00-sun:05:00" }))).toThrow(
      "accessweaver-dev-postgres: the backup window 03:30-04:30 overlaps the maintenance window sun:04:00-sun:05:00; AWS refuses overlapping windows.",
    );
  });

  it("a storage ceiling that would leave autoscaling off", () => {
    expect(() => new Rds(stack(), "rds", props({ maxAllocatedStorageGb: 20 }))).toThrow(
      "the storage ceiling (20 GB) must exceed the allocated storage (20 GB)",
    );
  });

  it("a secret recovery window Secrets Manager does not accept", () => {
    for (const days of [3, 31]) {
      expect(
        () => new AppSecret(stack(), `s${days}`, { name: "accessweaver/dev/x", description: "x", kmsKeyArn: "arn:k", recoveryWindowDays: days, value: {} }),
      ).toThrow(`accessweaver/dev/x: recovery window ${days} days; Secrets Manager accepts 7 to 30, or 0 to delete at once (a drill's).`);
    }
    // 0 deletes at once: a restore drill's secrets, made again by the next drill.
    expect(
      () => new AppSecret(stack(), "s0", { name: "accessweaver/dev/x", description: "x", kmsKeyArn: "arn:k", recoveryWindowDays: 0, value: {} }),
    ).not.toThrow();
  });
});
