/**
 * The environment rules of "Region loss": what the recovery phase must copy of the other phases'
 * resources, read across the stacks of one environment (the recovery stack attaches them). prod always
 * has a recovery phase (its settings require a DR region), so prod always enforces them.
 */
import { DR_BACKUP_RETENTION_RANGE, EU_DR_REGIONS } from "../config/dr-regions";
import { ENVIRONMENTS, names } from "../naming";
import { EnvironmentRule, ResourceView, StackView, Violation } from "./guardrails";
import { blocks, isTrue, ofType, referenced } from "./rule-helpers";

/** `<stack>: <address>`: the resource a cross-stack rule speaks of, in its own stack. */
const at = (s: StackView, r: ResourceView) => ({ address: `${s.stackName}: ${r.address}` });
const violation = (rule: string, where: { address: string }, message: string): Violation => ({ rule, address: where.address, message });

/** The phase of a stack of the naming contract (`accessweaver-prod-database` -> `database`). */
function phaseOf(s: StackView): string | undefined {
  const env = ENVIRONMENTS.find((e) => s.stackName.startsWith(`${names(e).prefix}-`));
  return env ? s.stackName.slice(names(env).prefix.length + 1) : undefined;
}

/**
 * How a later phase reads `values` of stack `s`: the remote-state references of every output of `s`
 * whose value is one of them (`${data.terraform_remote_state.<phase>.outputs.<name>}`).
 */
function readersOf(s: StackView, values: readonly unknown[]): Set<string> {
  const phase = phaseOf(s);
  return new Set(
    Object.entries(s.outputs ?? {})
      .filter(([, o]) => values.includes(o?.value))
      .map(([name]) => `\${data.terraform_remote_state.${phase}.outputs.${name}}`),
  );
}

const lifecycleProtected = (r: ResourceView) => isTrue(r.config.lifecycle?.prevent_destroy);

export const backupsReplicated: EnvironmentRule = {
  id: "dr-backups-replicated",
  description:
    "every database instance of the environment has its automated backups replicated to the DR region by the recovery phase (aws_db_instance_automated_backups_replication reading that instance's ARN output), encrypted with a key, kept 1 to 35 days, and protected from destroy wherever the instance is",
  check(stacks, home) {
    const out: Violation[] = [];
    const replications = ofType(home, "aws_db_instance_automated_backups_replication");
    for (const s of stacks.filter((x) => x !== home)) {
      for (const db of ofType(s, "aws_db_instance")) {
        const readers = readersOf(s, [`\${${db.address}.arn}`]);
        const copy = replications.find((r) => readers.has(r.config.source_db_instance_arn));
        if (!copy) {
          out.push(
            violation(
              this.id,
              at(s, db),
              `no automated backups replication of this instance in ${home.stackName} (source_db_instance_arn = one of ${readers.size > 0 ? [...readers].join(", ") : "its ARN, which no output publishes"})`,
            ),
          );
          continue;
        }
        const retention = Number(copy.config.retention_period);
        if (!copy.config.kms_key_id)
          out.push(violation(this.id, at(home, copy), "kms_key_id is not set: the replicated backups of an encrypted instance need the DR region's key"));
        if (!Number.isInteger(retention) || retention < DR_BACKUP_RETENTION_RANGE.min || retention > DR_BACKUP_RETENTION_RANGE.max)
          out.push(
            violation(
              this.id,
              at(home, copy),
              `retention_period is ${JSON.stringify(copy.config.retention_period)}; expected ${DR_BACKUP_RETENTION_RANGE.min} to ${DR_BACKUP_RETENTION_RANGE.max} days`,
            ),
          );
        if (lifecycleProtected(db) && !lifecycleProtected(copy))
          out.push(
            violation(this.id, at(home, copy), "no lifecycle.prevent_destroy, while the instance has it: a destroy would delete the replicated backups"),
          );
      }
    }
    return out;
  },
};

/** Object Lock's default retention of a lock configuration: mode and period (`days` or `years`). */
const retentionOf = (lock: ResourceView) => {
  const r = blocks(lock.config.rule)[0]?.default_retention;
  const d = blocks(r)[0] as { mode?: string; days?: number; years?: number } | undefined;
  return { mode: d?.mode, days: d?.days, years: d?.years };
};

export const auditReplicated: EnvironmentRule = {
  id: "dr-audit-replicated",
  description:
    "every Object Lock bucket of the environment (the audit evidence) is replicated by the recovery phase to a bucket with Object Lock, the same mode and retention, SSE-KMS with a key, KMS-encrypted objects included, and protected from destroy wherever the source is",
  check(stacks, home) {
    const out: Violation[] = [];
    const configurations = ofType(home, "aws_s3_bucket_replication_configuration");
    for (const s of stacks.filter((x) => x !== home)) {
      for (const lock of ofType(s, "aws_s3_bucket_object_lock_configuration")) {
        const source = s.resources.find((r) => r.address === referenced(lock.config.bucket));
        if (!source) continue;
        const readers = readersOf(s, [source.config.bucket, `\${${source.address}.bucket}`, `\${${source.address}.id}`]);
        const rule = configurations
          .filter((c) => readers.has(c.config.bucket))
          .flatMap((c) => blocks(c.config.rule))
          .find((r) => r.status === "Enabled");
        if (!rule) {
          out.push(
            violation(this.id, at(s, source), `no enabled replication rule of this bucket in ${home.stackName}: the audit evidence exists in one region only`),
          );
          continue;
        }
        const destination = blocks(rule.destination)[0] ?? {};
        // The destination is a bucket ARN: written out (`arn:<partition>:s3:::<name>`) or a reference to the bucket.
        const target = ofType(home, "aws_s3_bucket").find(
          (b) =>
            referenced(destination.bucket) === b.address ||
            (/^arn:[a-z-]+:s3:::/.test(String(destination.bucket)) && String(destination.bucket).endsWith(`:::${b.config.bucket}`)),
        );
        const where = at(s, source);
        if (!target) {
          out.push(
            violation(this.id, where, `its replica ${JSON.stringify(destination.bucket)} is not a bucket of ${home.stackName}: its lock cannot be checked`),
          );
          continue;
        }
        const targetLock = ofType(home, "aws_s3_bucket_object_lock_configuration").find((l) => referenced(l.config.bucket) === target.address);
        const want = retentionOf(lock);
        const got = targetLock ? retentionOf(targetLock) : undefined;
        if (!isTrue(target.config.object_lock_enabled) || !got || got.mode !== want.mode || got.days !== want.days || got.years !== want.years) {
          out.push(
            violation(
              this.id,
              at(home, target),
              `Object Lock ${got ? JSON.stringify(got) : "absent"}; expected the source's ${JSON.stringify(want)} (object_lock_enabled and the same default retention)`,
            ),
          );
        }
        if (!blocks(destination.encryption_configuration)[0]?.replica_kms_key_id)
          out.push(
            violation(
              this.id,
              where,
              "the replication rule sets no destination encryption_configuration.replica_kms_key_id: replicas would not be encrypted with the DR key",
            ),
          );
        const sse = blocks(blocks(rule.source_selection_criteria)[0]?.sse_kms_encrypted_objects)[0];
        if (sse?.status !== "Enabled")
          out.push(
            violation(
              this.id,
              where,
              "source_selection_criteria.sse_kms_encrypted_objects is not Enabled: the KMS-encrypted audit files would not be replicated at all",
            ),
          );
        if (lifecycleProtected(source) && !lifecycleProtected(target))
          out.push(violation(this.id, at(home, target), "no lifecycle.prevent_destroy, while the source bucket has it"));
      }
    }
    return out;
  },
};

/** The region of a stack's provider: the default one, or the one of `alias`. */
const providerRegion = (s: StackView, alias?: string): string | undefined =>
  (s.providers.aws ?? []).find((p) => (alias ? p.alias === alias : p.alias === undefined))?.region;

export const drRegionApart: EnvironmentRule = {
  id: "dr-region",
  description:
    "the DR region (the recovery phase's default provider) is a region of the EU/EEA other than the environment's; every other DR-region provider (aws.dr) and every secret replica is in that same region",
  check(stacks, home) {
    const out: Violation[] = [];
    const dr = providerRegion(home);
    const primary = providerRegion(home, "primary") ?? providerRegion(stacks.find((s) => s !== home) ?? home);
    const where = { address: `${home.stackName}: provider.aws` };
    if (!dr || !(dr in EU_DR_REGIONS))
      out.push(violation(this.id, where, `region ${JSON.stringify(dr)}; expected a region of the EU/EEA (RGPD): ${Object.keys(EU_DR_REGIONS).join(", ")}`));
    if (dr === primary) out.push(violation(this.id, where, `region ${dr} is the environment's own region: copies there are lost with it`));
    for (const s of stacks) {
      const other = providerRegion(s, "dr");
      if (other !== undefined && other !== dr)
        out.push(violation(this.id, { address: `${s.stackName}: provider.aws.dr` }, `region ${other}; expected the DR region ${dr}`));
      for (const secret of ofType(s, "aws_secretsmanager_secret")) {
        for (const replica of blocks(secret.config.replica) as { region?: string }[]) {
          if (replica.region !== dr) out.push(violation(this.id, at(s, secret), `replica in ${JSON.stringify(replica.region)}; expected the DR region ${dr}`));
        }
      }
    }
    return out;
  },
};

export const RECOVERY_RULES: readonly EnvironmentRule[] = [backupsReplicated, auditReplicated, drRegionApart];
