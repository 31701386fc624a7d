/**
 * Guardrails of the data tier: RDS instances and parameter groups, ElastiCache replication groups,
 * Secrets Manager secrets, S3 buckets' versions and the KMS key's deletion window. They check the settings of each type; `prevent_destroy` on what holds data
 * is the generic data-protection rule's concern.
 */
import { EnvironmentName } from "../naming";
import { ResourceView, Rule, StackView, Violation } from "./guardrails";
import { isDrill, isTrue, ofType, protectionOf, referenced, v } from "./rule-helpers";

/** Where data must survive a mistake: deletion protection and final snapshots. */
const PROTECTED: ReadonlySet<EnvironmentName | undefined> = new Set(["staging", "prod"]);

/** The guide's 30 days of backups and point-in-time recovery in prod; a week elsewhere. */
export const MIN_BACKUP_DAYS: Readonly<Record<EnvironmentName, number>> = { dev: 7, staging: 7, prod: 30 };
/** Daily cache snapshots kept: at least a week in prod (the guide lists them), one day elsewhere. */
export const MIN_SNAPSHOT_DAYS: Readonly<Record<EnvironmentName, number>> = { dev: 1, staging: 1, prod: 7 };
/** The longest recovery window where data is protected, a week elsewhere (0 would delete at once). */
export const MIN_SECRET_RECOVERY_DAYS: Readonly<Record<EnvironmentName, number>> = { dev: 7, staging: 30, prod: 30 };

export const rdsEncrypted: Rule = {
  id: "rds-encrypted",
  types: ["aws_db_instance"],
  description: "RDS storage, Performance Insights and the master password secret are encrypted with a customer key",
  check(s) {
    const out: Violation[] = [];
    for (const r of ofType(s, "aws_db_instance")) {
      const c = r.config;
      if (c.storage_encrypted !== true || !c.kms_key_id) out.push(v(this.id, r, "storage_encrypted must be true with kms_key_id set to the environment's key"));
      if (c.performance_insights_enabled === true && !c.performance_insights_kms_key_id)
        out.push(v(this.id, r, "performance_insights_kms_key_id is not set: Performance Insights would use the AWS-managed key"));
      if (c.manage_master_user_password === true && !c.master_user_secret_kms_key_id)
        out.push(v(this.id, r, "master_user_secret_kms_key_id is not set: the master password secret would use the AWS-managed key"));
    }
    return out;
  },
};

export const rdsPrivate: Rule = {
  id: "rds-private",
  types: ["aws_db_instance"],
  description: "RDS instances are not publicly accessible",
  check(s) {
    return ofType(s, "aws_db_instance")
      .filter((r) => r.config.publicly_accessible === true)
      .map((r) => v(this.id, r, "publicly_accessible must be false"));
  },
};

export const rdsManagedPassword: Rule = {
  id: "rds-managed-password",
  types: ["aws_db_instance"],
  description: "the master password is generated and rotated by RDS in Secrets Manager, never in the configuration or the state",
  check(s) {
    const out: Violation[] = [];
    for (const r of ofType(s, "aws_db_instance")) {
      if (r.config.replicate_source_db) continue; // a replica has no master user of its own
      if ("password" in r.config || "password_wo" in r.config)
        out.push(v(this.id, r, "a password is set in the configuration; use manage_master_user_password"));
      else if (r.config.manage_master_user_password !== true) out.push(v(this.id, r, "manage_master_user_password must be true"));
    }
    return out;
  },
};

export const rdsBackups: Rule = {
  id: "rds-backups",
  types: ["aws_db_instance"],
  description: `automated backups kept ${Object.entries(MIN_BACKUP_DAYS)
    .map(([e, d]) => `${d} days in ${e}`)
    .join(", ")}; in staging and prod kept after deletion, deletion protection on and a final snapshot`,
  check(s) {
    const out: Violation[] = [];
    const env = protectionOf(s);
    const min = env ? MIN_BACKUP_DAYS[env] : MIN_BACKUP_DAYS.prod;
    for (const r of ofType(s, "aws_db_instance")) {
      const c = r.config;
      const days = c.backup_retention_period;
      if (typeof days !== "number" || days < min) out.push(v(this.id, r, `backup_retention_period is ${days ?? "unset"}; at least ${min} days here`));
      if (!PROTECTED.has(env)) continue;
      if (c.deletion_protection !== true) out.push(v(this.id, r, "deletion_protection must be true"));
      if (c.delete_automated_backups !== false) out.push(v(this.id, r, "delete_automated_backups must be false: backups outlive a deleted instance"));
      if (c.skip_final_snapshot !== false || !c.final_snapshot_identifier)
        out.push(v(this.id, r, "skip_final_snapshot must be false with a final_snapshot_identifier"));
    }
    return out;
  },
};

/** Each PostgreSQL instance of the stack with its parameter group (undefined: not a group of the stack) and that group's parameters. */
function postgresGroups(s: StackView): { instance: ResourceView; group?: ResourceView; parameter: (name: string) => string | undefined }[] {
  const groups = new Map(ofType(s, "aws_db_parameter_group").map((g) => [g.address, g]));
  return ofType(s, "aws_db_instance")
    .filter((x) => String(x.config.engine ?? "").includes("postgres"))
    .map((instance) => {
      const group = groups.get(referenced(instance.config.parameter_group_name) ?? "");
      const params: { name?: string; value?: unknown }[] = group?.config.parameter ?? [];
      const parameter = (name: string) => {
        const found = params.find((p) => p.name === name);
        return found === undefined ? undefined : String(found.value);
      };
      return { instance, ...(group ? { group } : {}), parameter };
    });
}

export const rdsForceSsl: Rule = {
  id: "rds-force-ssl",
  types: ["aws_db_instance"],
  description: "RDS PostgreSQL instances use a parameter group of the stack that sets rds.force_ssl = 1",
  check(s) {
    const out: Violation[] = [];
    for (const { instance: r, group, parameter } of postgresGroups(s)) {
      if (!group) out.push(v(this.id, r, "parameter_group_name is not a parameter group of this stack: the default group does not force SSL"));
      else if (parameter("rds.force_ssl") !== "1") out.push(v(this.id, r, `${group.address} does not set rds.force_ssl = 1`));
    }
    return out;
  },
};

/** PostgreSQL parameters every instance's group sets: TLS 1.2 at least, and no bind values in the logs (RGPD). */
export const RDS_REQUIRED_PARAMETERS: Readonly<Record<string, readonly string[]>> = {
  ssl_min_protocol_version: ["TLSv1.2", "TLSv1.3"],
  log_parameter_max_length: ["0"],
  log_parameter_max_length_on_error: ["0"],
};

export const rdsParameters: Rule = {
  id: "rds-parameters",
  types: ["aws_db_instance"],
  description:
    "RDS PostgreSQL parameter groups pin TLS 1.2 or later (ssl_min_protocol_version) and keep bind values out of the logs (log_parameter_max_length and ..._on_error = 0): they are personal data, and the logs are kept for years",
  check(s) {
    const out: Violation[] = [];
    // A group outside the stack is rds-force-ssl's violation already.
    for (const { instance: r, group, parameter } of postgresGroups(s)) {
      if (!group) continue;
      for (const [name, allowed] of Object.entries(RDS_REQUIRED_PARAMETERS)) {
        const found = parameter(name);
        if (found === undefined || !allowed.includes(found)) {
          out.push(
            v(
              this.id,
              r,
              `${group.address} sets ${name} to ${found === undefined ? "nothing (the engine's default)" : JSON.stringify(found)}; expected ${allowed.map((a) => JSON.stringify(a)).join(" or ")}`,
            ),
          );
        }
      }
    }
    return out;
  },
};

export const rdsLogExports: Rule = {
  id: "rds-log-exports",
  types: ["aws_db_instance"],
  description: "every log an RDS instance exports goes to a log group of the stack that the instance depends on (else RDS makes it unencrypted, kept forever)",
  check(s) {
    const out: Violation[] = [];
    const groups = ofType(s, "aws_cloudwatch_log_group");
    for (const r of ofType(s, "aws_db_instance")) {
      const dependsOn: string[] = r.config.depends_on ?? [];
      for (const log of (r.config.enabled_cloudwatch_logs_exports ?? []) as string[]) {
        const name = `/aws/rds/instance/${r.config.identifier}/${log}`;
        const group = groups.find((g) => g.config.name === name);
        if (!group) out.push(v(this.id, r, `exports ${log} but no log group ${name} is created here`));
        else if (!dependsOn.includes(group.address)) out.push(v(this.id, r, `does not depend on ${group.address}: RDS could create ${name} first`));
      }
    }
    return out;
  },
};

export const redisEncrypted: Rule = {
  id: "redis-encryption-auth",
  types: ["aws_elasticache_replication_group"],
  description: "Redis encrypts at rest with a customer key, requires TLS in transit and an AUTH token (or a user group)",
  check(s) {
    const out: Violation[] = [];
    for (const r of ofType(s, "aws_elasticache_replication_group")) {
      const c = r.config;
      if (!isTrue(c.at_rest_encryption_enabled) || !c.kms_key_id)
        out.push(v(this.id, r, "at_rest_encryption_enabled must be true with kms_key_id set to the environment's key"));
      if (!isTrue(c.transit_encryption_enabled)) out.push(v(this.id, r, "transit_encryption_enabled must be true"));
      else if (c.transit_encryption_mode === "preferred")
        out.push(v(this.id, r, 'transit_encryption_mode "preferred" admits plain-text clients; use "required"'));
      if (!c.auth_token && !(c.user_group_ids ?? []).length)
        out.push(v(this.id, r, "no auth_token (nor user_group_ids): any client in the security group could connect"));
    }
    return out;
  },
};

export const redisSnapshots: Rule = {
  id: "redis-snapshots",
  types: ["aws_elasticache_replication_group"],
  description: `daily Redis snapshots kept ${Object.entries(MIN_SNAPSHOT_DAYS)
    .map(([e, d]) => `${d} day(s) in ${e}`)
    .join(", ")}; a final snapshot in staging and prod`,
  check(s) {
    const out: Violation[] = [];
    const env = protectionOf(s);
    const min = env ? MIN_SNAPSHOT_DAYS[env] : MIN_SNAPSHOT_DAYS.prod;
    for (const r of ofType(s, "aws_elasticache_replication_group")) {
      const days = r.config.snapshot_retention_limit;
      if (typeof days !== "number" || days < min) out.push(v(this.id, r, `snapshot_retention_limit is ${days ?? "unset"}; at least ${min} here`));
      if (PROTECTED.has(env) && !r.config.final_snapshot_identifier)
        out.push(v(this.id, r, "final_snapshot_identifier is not set: deleting the group would lose its data"));
    }
    return out;
  },
};

export const redisLogDelivery: Rule = {
  id: "redis-log-delivery",
  types: ["aws_elasticache_replication_group"],
  description: "Redis delivers its slow and engine logs to log groups of the stack (encrypted and retained by their own rule)",
  check(s) {
    const out: Violation[] = [];
    const groups = new Set(ofType(s, "aws_cloudwatch_log_group").map((g) => g.address));
    for (const r of ofType(s, "aws_elasticache_replication_group")) {
      const deliveries: { destination?: string; destination_type?: string; log_type?: string }[] = r.config.log_delivery_configuration ?? [];
      for (const logType of ["slow-log", "engine-log"]) {
        const d = deliveries.find((x) => x.log_type === logType);
        if (!d) out.push(v(this.id, r, `no log_delivery_configuration for ${logType}`));
        else if (d.destination_type !== "cloudwatch-logs" || !groups.has(referenced(d.destination) ?? ""))
          out.push(v(this.id, r, `${logType} is not delivered to a log group created in this stack`));
      }
    }
    return out;
  },
};

export const secretEncrypted: Rule = {
  id: "secret-encrypted",
  types: ["aws_secretsmanager_secret"],
  description: `Secrets Manager secrets use a customer key and a recovery window (${Object.entries(MIN_SECRET_RECOVERY_DAYS)
    .map(([e, d]) => `${d} days in ${e}`)
    .join(", ")})`,
  check(s) {
    const out: Violation[] = [];
    const env = protectionOf(s);
    // A restore drill's secrets are deleted at once, so that the next drill can make them again.
    const min = isDrill(s) ? 0 : env ? MIN_SECRET_RECOVERY_DAYS[env] : MIN_SECRET_RECOVERY_DAYS.prod;
    for (const r of ofType(s, "aws_secretsmanager_secret")) {
      if (!r.config.kms_key_id) out.push(v(this.id, r, "kms_key_id is not set: the secret would use the AWS-managed key"));
      // Unset means AWS's default, 30 days.
      const days = r.config.recovery_window_in_days ?? 30;
      if (typeof days !== "number" || days < min) out.push(v(this.id, r, `recovery_window_in_days is ${days}; at least ${min} here`));
    }
    return out;
  },
};

/** Days a scheduled key deletion waits where data is protected: AWS's longest window (the data it encrypts dies with it). */
export const MIN_KEY_DELETION_DAYS = 30;

export const kmsKeyDeletionWindow: Rule = {
  id: "kms-key-deletion-window",
  types: ["aws_kms_key"],
  description: `in staging and prod a KMS key waits ${MIN_KEY_DELETION_DAYS} days before deletion (everything encrypted with it is lost with it)`,
  check(s) {
    if (!PROTECTED.has(protectionOf(s))) return [];
    return ofType(s, "aws_kms_key")
      .filter((r) => typeof r.config.deletion_window_in_days !== "number" || r.config.deletion_window_in_days < MIN_KEY_DELETION_DAYS)
      .map((r) => v(this.id, r, `deletion_window_in_days is ${r.config.deletion_window_in_days ?? "unset"}; expected ${MIN_KEY_DELETION_DAYS}`));
  },
};

export const bucketVersioned: Rule = {
  id: "bucket-versioned",
  types: ["aws_s3_bucket"],
  description: "S3 buckets keep the versions of their objects (an overwrite or delete can be undone); in staging and prod force_destroy is not true",
  check(s) {
    const out: Violation[] = [];
    const protect = PROTECTED.has(protectionOf(s));
    const versioning = ofType(s, "aws_s3_bucket_versioning");
    for (const b of ofType(s, "aws_s3_bucket")) {
      const config = versioning.find((x) => typeof x.config.bucket === "string" && x.config.bucket.includes(`${b.address}.`));
      const status = [config?.config.versioning_configuration].flat()[0]?.status;
      if (status !== "Enabled") out.push(v(this.id, b, `versioning is ${status === undefined ? "not configured" : JSON.stringify(status)}; expected Enabled`));
      if (protect && isTrue(b.config.force_destroy)) out.push(v(this.id, b, "force_destroy is true: deleting the bucket would delete every object in it"));
    }
    return out;
  },
};

/** The data tier's rules, appended to the baseline. */
export const DATA_RULES: readonly Rule[] = [
  rdsEncrypted,
  rdsPrivate,
  rdsManagedPassword,
  rdsBackups,
  rdsForceSsl,
  rdsParameters,
  rdsLogExports,
  redisEncrypted,
  redisSnapshots,
  redisLogDelivery,
  secretEncrypted,
  kmsKeyDeletionWindow,
  bucketVersioned,
];
