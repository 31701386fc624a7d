// The data tier's guardrails, each shown rejecting a bad resource (and passing a good one) on a bare stack.
import { App, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DbInstance, DbInstanceConfig } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { ElasticacheReplicationGroup, ElasticacheReplicationGroupConfig } from "@cdktf/provider-aws/lib/elasticache-replication-group";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { GuardrailError, Guardrails, Rule, evaluate, viewOf } from "../src/policy/guardrails";
import {
  DATA_RULES,
  bucketVersioned,
  kmsKeyDeletionWindow,
  rdsBackups,
  rdsEncrypted,
  rdsForceSsl,
  rdsLogExports,
  rdsManagedPassword,
  rdsParameters,
  rdsPrivate,
  redisEncrypted,
  redisLogDelivery,
  redisSnapshots,
  secretEncrypted,
} from "../src/policy/data-rules";
import { BASELINE_RULES } from "../src/policy/rules";
import { defaultTags } from "../src/naming";
import { tempDir } from "./support/config";

type Env = "dev" | "prod";

/** A bare stack of an environment with a tagged provider; `add` puts the resources under test in it. */
function stackWith(env: Env, add: (s: TerraformStack) => void): TerraformStack {
  const s = new TerraformStack(new App({ outdir: tempDir() }), `accessweaver-${env}-test`);
  new AwsProvider(s, "aws", { region: "eu-west-1", defaultTags: [{ tags: defaultTags({ env, phase: "database", costCenter: "CC-42", owner: "platform" }) }] });
  add(s);
  return s;
}
const messages = (rule: Rule, s: TerraformStack) => evaluate(viewOf(s.node.id, s.toTerraform()), [rule]).map((v) => `${v.address}: ${v.message}`);

/** A prod-grade instance with its parameter group and log groups; `over` breaks one setting. */
const GOOD_PARAMETERS = [
  { name: "rds.force_ssl", value: "1" },
  { name: "ssl_min_protocol_version", value: "TLSv1.2" },
  { name: "log_parameter_max_length", value: "0" },
  { name: "log_parameter_max_length_on_error", value: "0" },
];
function database(s: TerraformStack, over: Partial<DbInstanceConfig> = {}, params: { name: string; value: string }[] = GOOD_PARAMETERS): DbInstance {
  const group = new DbParameterGroup(s, "params", { name: "pg", family: "postgres15", parameter: params });
  const logs = ["postgresql", "upgrade"].map(
    (log) => new CloudwatchLogGroup(s, `log-${log}`, { name: `/aws/rds/instance/db/${log}`, kmsKeyId: "arn:k", retentionInDays: 365 }),
  );
  return new DbInstance(s, "db", {
    identifier: "db",
    engine: "postgres",
    instanceClass: "db.r6g.xlarge",
    storageEncrypted: true,
    kmsKeyId: "arn:k",
    manageMasterUserPassword: true,
    masterUserSecretKmsKeyId: "arn:k",
    performanceInsightsEnabled: true,
    performanceInsightsKmsKeyId: "arn:k",
    publiclyAccessible: false,
    parameterGroupName: group.name,
    backupRetentionPeriod: 30,
    deletionProtection: true,
    deleteAutomatedBackups: false,
    skipFinalSnapshot: false,
    finalSnapshotIdentifier: "db-final",
    enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
    dependsOn: logs,
    ...over,
  });
}

/** A prod-grade replication group with its log groups; `over` breaks one setting. */
function cache(s: TerraformStack, over: Partial<ElasticacheReplicationGroupConfig> = {}): ElasticacheReplicationGroup {
  const logs = ["slow-log", "engine-log"].map(
    (log) => new CloudwatchLogGroup(s, `log-${log}`, { name: `/aws/elasticache/r/${log}`, kmsKeyId: "arn:k", retentionInDays: 365 }),
  );
  return new ElasticacheReplicationGroup(s, "redis", {
    replicationGroupId: "r",
    description: "r",
    atRestEncryptionEnabled: "true",
    kmsKeyId: "arn:k",
    transitEncryptionEnabled: true,
    transitEncryptionMode: "required",
    authToken: "${random_password.t.result}",
    snapshotRetentionLimit: 7,
    finalSnapshotIdentifier: "r-final",
    logDeliveryConfiguration: logs.map((g, i) => ({
      destination: g.name,
      destinationType: "cloudwatch-logs",
      logFormat: "json",
      logType: i === 0 ? "slow-log" : "engine-log",
    })),
    ...over,
  });
}

describe("data guardrails accept a well-made prod data tier", () => {
  it("no rule objects to the reference instance, replication group and secret", () => {
    const s = stackWith("prod", (st) => {
      database(st);
      cache(st);
      new SecretsmanagerSecret(st, "secret", { name: "x", kmsKeyId: "arn:k", recoveryWindowInDays: 30 });
    });
    expect(evaluate(viewOf(s.node.id, s.toTerraform()), DATA_RULES)).toEqual([]);
  });
});

describe("data guardrails reject bad resources", () => {
  it("rds-encrypted: unencrypted storage, Performance Insights and master secret on AWS-managed keys", () => {
    const s = stackWith("prod", (st) => database(st, { storageEncrypted: false, performanceInsightsKmsKeyId: undefined, masterUserSecretKmsKeyId: undefined }));
    expect(messages(rdsEncrypted, s)).toEqual([
      "aws_db_instance.db: storage_encrypted must be true with kms_key_id set to the environment's key",
      "aws_db_instance.db: performance_insights_kms_key_id is not set: Performance Insights would use the AWS-managed key",
      "aws_db_instance.db: master_user_secret_kms_key_id is not set: the master password secret would use the AWS-managed key",
    ]);
  });

  it("rds-private: a publicly accessible instance", () => {
    expect(
      messages(
        rdsPrivate,
        stackWith("prod", (st) => database(st, { publiclyAccessible: true })),
      ),
    ).toEqual(["aws_db_instance.db: publicly_accessible must be false"]);
  });

  it("rds-managed-password: a password in the configuration, or no managed password", () => {
    expect(
      messages(
        rdsManagedPassword,
        stackWith("prod", (st) => database(st, { manageMasterUserPassword: undefined, password: "hunter2hunter2" })),
      ),
    ).toEqual(["aws_db_instance.db: a password is set in the configuration; use manage_master_user_password"]);
    expect(
      messages(
        rdsManagedPassword,
        stackWith("prod", (st) => database(st, { manageMasterUserPassword: false })),
      ),
    ).toEqual(["aws_db_instance.db: manage_master_user_password must be true"]);
  });

  it("rds-backups: short backups, no deletion protection, backups deleted with the instance, no final snapshot in prod; dev keeps only the retention", () => {
    const bad = {
      backupRetentionPeriod: 7,
      deletionProtection: false,
      deleteAutomatedBackups: true,
      skipFinalSnapshot: true,
      finalSnapshotIdentifier: undefined,
    };
    expect(
      messages(
        rdsBackups,
        stackWith("prod", (st) => database(st, bad)),
      ),
    ).toEqual([
      "aws_db_instance.db: backup_retention_period is 7; at least 30 days here",
      "aws_db_instance.db: deletion_protection must be true",
      "aws_db_instance.db: delete_automated_backups must be false: backups outlive a deleted instance",
      "aws_db_instance.db: skip_final_snapshot must be false with a final_snapshot_identifier",
    ]);
    expect(
      messages(
        rdsBackups,
        stackWith("dev", (st) => database(st, bad)),
      ),
    ).toEqual([]);
    expect(
      messages(
        rdsBackups,
        stackWith("dev", (st) => database(st, { backupRetentionPeriod: 1 })),
      ),
    ).toEqual(["aws_db_instance.db: backup_retention_period is 1; at least 7 days here"]);
  });

  it("rds-force-ssl: a parameter group without rds.force_ssl, or the default group", () => {
    expect(
      messages(
        rdsForceSsl,
        stackWith("prod", (st) => database(st, {}, [{ name: "rds.force_ssl", value: "0" }])),
      ),
    ).toEqual(["aws_db_instance.db: aws_db_parameter_group.params does not set rds.force_ssl = 1"]);
    expect(
      messages(
        rdsForceSsl,
        stackWith("prod", (st) => database(st, { parameterGroupName: "default.postgres15" })),
      ),
    ).toEqual(["aws_db_instance.db: parameter_group_name is not a parameter group of this stack: the default group does not force SSL"]);
  });

  it("rds-parameters: TLS below 1.2, bind values logged, or the parameters left to the engine's defaults", () => {
    const bad = [
      { name: "rds.force_ssl", value: "1" },
      { name: "ssl_min_protocol_version", value: "TLSv1.1" },
      { name: "log_parameter_max_length", value: "-1" },
    ];
    expect(
      messages(
        rdsParameters,
        stackWith("prod", (st) => database(st, {}, bad)),
      ),
    ).toEqual([
      'aws_db_instance.db: aws_db_parameter_group.params sets ssl_min_protocol_version to "TLSv1.1"; expected "TLSv1.2" or "TLSv1.3"',
      'aws_db_instance.db: aws_db_parameter_group.params sets log_parameter_max_length to "-1"; expected "0"',
      'aws_db_instance.db: aws_db_parameter_group.params sets log_parameter_max_length_on_error to nothing (the engine\'s default); expected "0"',
    ]);
    expect(
      messages(
        rdsParameters,
        stackWith("prod", (st) => database(st)),
      ),
    ).toEqual([]);
  });

  it("rds-log-exports: an export without its log group, and one the instance does not wait for", () => {
    const s = stackWith("prod", (st) => database(st, { enabledCloudwatchLogsExports: ["postgresql", "upgrade", "iam-db-auth-error"], dependsOn: [] }));
    expect(messages(rdsLogExports, s)).toEqual([
      "aws_db_instance.db: does not depend on aws_cloudwatch_log_group.log-postgresql: RDS could create /aws/rds/instance/db/postgresql first",
      "aws_db_instance.db: does not depend on aws_cloudwatch_log_group.log-upgrade: RDS could create /aws/rds/instance/db/upgrade first",
      "aws_db_instance.db: exports iam-db-auth-error but no log group /aws/rds/instance/db/iam-db-auth-error is created here",
    ]);
  });

  it("redis-encryption-auth: no key at rest, plain text in transit or preferred TLS, no AUTH", () => {
    expect(
      messages(
        redisEncrypted,
        stackWith("prod", (st) => cache(st, { kmsKeyId: undefined, transitEncryptionEnabled: false, transitEncryptionMode: undefined, authToken: undefined })),
      ),
    ).toEqual([
      "aws_elasticache_replication_group.redis: at_rest_encryption_enabled must be true with kms_key_id set to the environment's key",
      "aws_elasticache_replication_group.redis: transit_encryption_enabled must be true",
      "aws_elasticache_replication_group.redis: no auth_token (nor user_group_ids): any client in the security group could connect",
    ]);
    expect(
      messages(
        redisEncrypted,
        stackWith("prod", (st) => cache(st, { transitEncryptionMode: "preferred" })),
      ),
    ).toEqual(['aws_elasticache_replication_group.redis: transit_encryption_mode "preferred" admits plain-text clients; use "required"']);
  });

  it("redis-snapshots: too few snapshots and no final snapshot in prod; one day is enough in dev", () => {
    expect(
      messages(
        redisSnapshots,
        stackWith("prod", (st) => cache(st, { snapshotRetentionLimit: 1, finalSnapshotIdentifier: undefined })),
      ),
    ).toEqual([
      "aws_elasticache_replication_group.redis: snapshot_retention_limit is 1; at least 7 here",
      "aws_elasticache_replication_group.redis: final_snapshot_identifier is not set: deleting the group would lose its data",
    ]);
    expect(
      messages(
        redisSnapshots,
        stackWith("dev", (st) => cache(st, { snapshotRetentionLimit: 1, finalSnapshotIdentifier: undefined })),
      ),
    ).toEqual([]);
    expect(
      messages(
        redisSnapshots,
        stackWith("dev", (st) => cache(st, { snapshotRetentionLimit: 0 })),
      ),
    ).toEqual(["aws_elasticache_replication_group.redis: snapshot_retention_limit is 0; at least 1 here"]);
  });

  it("redis-log-delivery: a missing log type, and a destination that is not a log group of the stack", () => {
    const s = stackWith("prod", (st) =>
      cache(st, { logDeliveryConfiguration: [{ destination: "/somewhere/else", destinationType: "cloudwatch-logs", logFormat: "json", logType: "slow-log" }] }),
    );
    expect(messages(redisLogDelivery, s)).toEqual([
      "aws_elasticache_replication_group.redis: slow-log is not delivered to a log group created in this stack",
      "aws_elasticache_replication_group.redis: no log_delivery_configuration for engine-log",
    ]);
  });

  it("secret-encrypted: the AWS-managed key, immediate deletion, a short window in prod", () => {
    const s = stackWith("prod", (st) => {
      new SecretsmanagerSecret(st, "default-key", { name: "a", recoveryWindowInDays: 30 });
      new SecretsmanagerSecret(st, "force-delete", { name: "b", kmsKeyId: "arn:k", recoveryWindowInDays: 0 });
      new SecretsmanagerSecret(st, "short", { name: "c", kmsKeyId: "arn:k", recoveryWindowInDays: 7 });
    });
    expect(messages(secretEncrypted, s)).toEqual([
      "aws_secretsmanager_secret.default-key: kms_key_id is not set: the secret would use the AWS-managed key",
      "aws_secretsmanager_secret.force-delete: recovery_window_in_days is 0; at least 30 here",
      "aws_secretsmanager_secret.short: recovery_window_in_days is 7; at least 30 here",
    ]);
    expect(
      messages(
        secretEncrypted,
        stackWith("dev", (st) => new SecretsmanagerSecret(st, "short", { name: "c", kmsKeyId: "arn:k", recoveryWindowInDays: 7 })),
      ),
    ).toEqual([]);
  });

  it("kms-key-deletion-window: a week's window (or none given) in prod; dev may delete sooner", () => {
    const keys = (st: TerraformStack) => {
      new KmsKey(st, "week", { enableKeyRotation: true, deletionWindowInDays: 7 });
      new KmsKey(st, "unset", { enableKeyRotation: true });
      new KmsKey(st, "month", { enableKeyRotation: true, deletionWindowInDays: 30 });
    };
    expect(messages(kmsKeyDeletionWindow, stackWith("prod", keys))).toEqual([
      "aws_kms_key.week: deletion_window_in_days is 7; expected 30",
      "aws_kms_key.unset: deletion_window_in_days is unset; expected 30",
    ]);
    expect(messages(kmsKeyDeletionWindow, stackWith("dev", keys))).toEqual([]);
  });

  it("bucket-versioned: no versioning, suspended versioning, force_destroy in prod; dev may force-destroy", () => {
    const buckets = (st: TerraformStack) => {
      new S3Bucket(st, "unversioned", { bucket: "a" });
      new S3BucketVersioningA(st, "suspended_v", {
        bucket: new S3Bucket(st, "suspended", { bucket: "b" }).id,
        versioningConfiguration: { status: "Suspended" },
      });
      new S3BucketVersioningA(st, "disposable_v", {
        bucket: new S3Bucket(st, "disposable", { bucket: "c", forceDestroy: true }).id,
        versioningConfiguration: { status: "Enabled" },
      });
      new S3BucketVersioningA(st, "good_v", { bucket: new S3Bucket(st, "good", { bucket: "d" }).id, versioningConfiguration: { status: "Enabled" } });
    };
    expect(messages(bucketVersioned, stackWith("prod", buckets))).toEqual([
      "aws_s3_bucket.unversioned: versioning is not configured; expected Enabled",
      'aws_s3_bucket.suspended: versioning is "Suspended"; expected Enabled',
      "aws_s3_bucket.disposable: force_destroy is true: deleting the bucket would delete every object in it",
    ]);
    expect(messages(bucketVersioned, stackWith("dev", buckets)).map((m) => m.split(":")[0])).toEqual(["aws_s3_bucket.unversioned", "aws_s3_bucket.suspended"]);
  });

  it("are part of the baseline: a public instance fails a prod synth", () => {
    const s = stackWith("prod", (st) => database(st, { publiclyAccessible: true }));
    Guardrails.attach(s, BASELINE_RULES, "enforce");
    let error: unknown;
    try {
      (s.node.scope as App).synth();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GuardrailError);
    expect((error as GuardrailError).message).toContain("[rds-private] aws_db_instance.db: publicly_accessible must be false");
  });
});
