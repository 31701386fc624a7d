/**
 * The recovery phase (environments with a `dr_region` only: without one, no call is made): the DR region
 * is enabled for the account, the DR state backend exists and the environment's state bucket replicates
 * to it, RDS can replicate automated backups from the primary region to it, the registry's one
 * replication configuration and the DR region's ROOT creation template are free for the recovery phase
 * (or already its own), once the phase has a state the database's backups in the DR region are within
 * the guide's RPO for the loss of a region, and once the cache phase has a state the JWT secret's
 * replica in the DR region is in sync.
 */
import { CATALOG } from "../../src/config/services";
import { EnvironmentConfig } from "../../src/config/settings";
import { names, partitionOf } from "../../src/naming";
import { Aws } from "./aws";
import { Check, PhaseApplied, backendChecks, fail, pass, setupBackend, warn } from "./checks";
import { OtherEnvironment } from "./observability";

/** The guide's RPO for a complete region ("Objectifs RTO/RPO": < 1 hour), in minutes. */
export const REGION_LOSS_RPO_MINUTES = 60;

const PHASE = "recovery";

/** What the Account API (`RegionOptStatus`) and EC2 (`OptInStatus`) answer, as one verdict. */
const OPT_IN: Readonly<Record<string, "enabled" | "enabling" | "disabled">> = {
  ENABLED: "enabled",
  ENABLED_BY_DEFAULT: "enabled",
  ENABLING: "enabling",
  DISABLING: "disabled",
  DISABLED: "disabled",
  "opt-in-not-required": "enabled",
  "opted-in": "enabled",
  "not-opted-in": "disabled",
};

/** `<account>.dkr.ecr.<region>.amazonaws.com` -> the registry's account. */
const registryAccount = (registry: string) => registry.split(".")[0]!;

export function recovery(aws: Aws, config: EnvironmentConfig, applied: PhaseApplied, others: readonly OtherEnvironment[], now = Date.now()): Check[] {
  const dr = config.settings.drRegion;
  if (!dr) return [];
  const region = regionEnabled(aws, config, dr);
  const out = [region.check];
  if (region.usable) {
    const n = names(config.env);
    out.push(...backendChecks(aws, { bucket: n.drStateBucket(config.settings.accountId), table: n.lockTable, region: dr, label: "DR " }, setupBackend(config)));
    out.push(stateReplication(aws, config, dr));
    out.push(rdsRegionPair(aws, config, dr));
  }
  out.push(...imageReplication(aws, config, dr, applied, others));
  if (region.usable && replicatesImages(config)) out.push(creationTemplate(aws, config, dr, applied));
  if (region.usable) out.push(backupsCurrent(aws, config, dr, applied, now), jwtReplica(aws, config, dr, applied));
  return out;
}

/** The recovery phase replicates the images only from the account's own registry, and only where `dr_replicate_images` (as its stack decides). */
const replicatesImages = (config: EnvironmentConfig) =>
  config.settings.drReplicateImages === true && registryAccount(config.settings.ecrRegistry) === config.settings.accountId;

/** The DR region is enabled for the account: the Account API, or EC2's list of regions where it is denied. */
function regionEnabled(aws: Aws, config: EnvironmentConfig, dr: string): { check: Check; usable: boolean } {
  const name = "DR region";
  const account = config.settings.accountId;
  const asked = `aws account get-region-opt-status --region-name ${dr}`;
  const opt = aws("account", "get-region-opt-status", "--region-name", dr);
  let answer: string;
  let source = "account get-region-opt-status";
  if (opt.ok) answer = String(opt.json.RegionOptStatus);
  else {
    const ec2 = aws("ec2", "describe-regions", "--all-regions", "--region-names", dr);
    if (!ec2.ok) {
      return {
        check: warn(
          name,
          `cannot read whether ${dr} (dr_region) is enabled for account ${account}: account get-region-opt-status: ${opt.error}; ec2 describe-regions: ${ec2.error}`,
          `allow account:GetRegionOptStatus (or ec2:DescribeRegions) to the caller, or check by hand: ${asked}`,
        ),
        usable: true,
      };
    }
    answer = String(ec2.json.Regions?.[0]?.OptInStatus);
    source = "ec2 describe-regions";
  }
  const verdict = OPT_IN[answer];
  const skipped = "the DR backend and the copies are not checked until it is enabled";
  if (verdict === "enabled") return { check: pass(name, `${dr} (dr_region) is enabled for account ${account} (${answer})`), usable: true };
  if (verdict === "enabling") {
    return {
      check: warn(
        name,
        `${dr} (dr_region) is being enabled for account ${account} (${answer}); ${skipped}`,
        `wait until ${asked} answers ENABLED (minutes, sometimes hours), then run make preflight ENV=${config.env} again`,
      ),
      usable: false,
    };
  }
  if (verdict === "disabled") {
    return {
      check: fail(
        name,
        `${dr} (dr_region) is not enabled for account ${account} (${answer}): nothing can be made or copied there; ${skipped}`,
        `aws account enable-region --region-name ${dr}, then wait until ${asked} answers ENABLED; or choose another dr_region in ${config.source.file}`,
      ),
      usable: false,
    };
  }
  return {
    check: warn(name, `${source} answered ${answer} for ${dr} (dr_region)`, `check by hand: ${asked} must answer ENABLED or ENABLED_BY_DEFAULT`),
    usable: true,
  };
}

interface ReplicationRule {
  readonly ID?: string;
  readonly Status?: string;
  readonly Destination?: { readonly Bucket?: string };
}

/** The environment's state bucket replicates to the DR one: the other phases' states survive the region. */
function stateReplication(aws: Aws, config: EnvironmentConfig, dr: string): Check {
  const name = "state replication";
  const s = config.settings;
  const n = names(config.env);
  const [source, target] = [n.stateBucket(s.accountId), n.drStateBucket(s.accountId)];
  const arn = `arn:${partitionOf(s.region)}:s3:::${target}`;
  const r = aws("s3api", "get-bucket-replication", "--bucket", source);
  if (!r.ok && (r.code === "ReplicationConfigurationNotFoundError" || r.code === "NoSuchBucket"))
    return fail(name, `${source} has no replication configuration (${r.code}): its state files are not copied to ${target} in ${dr}`, setupBackend(config));
  if (!r.ok) {
    return warn(
      name,
      `cannot read the replication of ${source}: ${r.error}`,
      `check by hand: aws s3api get-bucket-replication --bucket ${source} --region ${s.region} must list an enabled rule to ${arn}`,
    );
  }
  const rules = (r.json.ReplicationConfiguration?.Rules ?? []) as ReplicationRule[];
  const rule = rules.find((x) => x.Status === "Enabled" && x.Destination?.Bucket === arn);
  if (rule) return pass(name, `${source} replicates to ${target} in ${dr} (rule ${rule.ID ?? "without an id"})`);
  const found = rules.map((x) => `${x.ID ?? "a rule without an id"}: ${x.Status} to ${x.Destination?.Bucket}`).join("; ");
  return fail(name, `no enabled rule of ${source} replicates to ${arn} (${found || "no rule"})`, setupBackend(config));
}

interface EcrRule {
  readonly destinations?: readonly { readonly region: string; readonly registryId: string }[];
  readonly repositoryFilters?: readonly { readonly filter: string; readonly filterType: string }[];
}

/**
 * ECR keeps ONE replication configuration per registry (an account, in a region), and the recovery phase
 * owns it (`aws_ecr_replication_configuration`): a rule that is not this environment's would be replaced.
 */
function imageReplication(aws: Aws, config: EnvironmentConfig, dr: string, applied: PhaseApplied, others: readonly OtherEnvironment[]): Check[] {
  const name = "image replication";
  const s = config.settings;
  const repositories: readonly string[] = CATALOG.map((spec) => spec.name);
  const ownRule = `${repositories.join(", ")} to ${dr}`;
  const owner = registryAccount(s.ecrRegistry);
  if (owner !== s.accountId) {
    return [
      warn(
        name,
        `the images are in account ${owner}'s registry (ecr_registry), not in account ${s.accountId}'s: the recovery phase does not replicate them`,
        `the registry's owner must replicate ${ownRule} (its registry's one replication configuration is theirs); a restore in ${dr} pulls them there`,
      ),
    ];
  }
  const registry = `the registry of account ${s.accountId} in ${s.region}`;
  const r = aws("ecr", "describe-registry");
  if (!r.ok) {
    return [
      warn(
        name,
        `cannot read ${registry}: ${r.error}`,
        `check by hand: aws ecr describe-registry --region ${s.region} must answer no replication rule, or only the recovery phase's (${ownRule})`,
      ),
    ];
  }
  const rules = (r.json.replicationConfiguration?.rules ?? []) as EcrRule[];
  const ours = (rule: EcrRule) => {
    const [to, filters] = [rule.destinations ?? [], rule.repositoryFilters ?? []];
    return (
      to.length > 0 &&
      to.every((d) => d.region === dr && d.registryId === s.accountId) &&
      filters.length > 0 &&
      filters.every((f) => f.filterType === "PREFIX_MATCH" && repositories.includes(f.filter))
    );
  };
  const describe = (rule: EcrRule) => {
    const what = (rule.repositoryFilters ?? []).map((f) => (f.filterType === "PREFIX_MATCH" ? f.filter : `${f.filter} (${f.filterType})`));
    const to = (rule.destinations ?? []).map((d) => (d.registryId === s.accountId ? d.region : `${d.region} of account ${d.registryId}`));
    return `${what.join(", ") || "every repository"} to ${to.join(", ")}`;
  };
  const foreign = rules.filter((x) => !ours(x));
  const out: Check[] = [];
  if (rules.length === 0) out.push(pass(name, `${registry} has no replication configuration: the recovery phase will create it (${ownRule})`));
  else if (foreign.length === 0) out.push(pass(name, `${registry} replicates ${rules.map(describe).join("; ")}: the recovery phase's own rule`));
  else {
    const them = foreign.length > 1 ? "those rules" : "that rule";
    const detail = `${registry} already replicates ${foreign.map(describe).join("; ")}, which is not this environment's (${ownRule}). ECR keeps one replication configuration per registry, and the recovery phase owns it`;
    const fix = `agree with the owner of ${them} (another environment of the account, another team) on one configuration: merge the rules by hand (the recovery phase then shows the others as drift, and its next apply removes them again), or keep this environment's images in a registry of their own (ecr_registry in ${config.source.file}, another account, replicated by its owner)`;
    if (!applied(PHASE)) out.push(fail(name, `${detail}: its first apply would REPLACE the configuration with its own rule and drop ${them}`, fix));
    else out.push(warn(name, `${detail}: its next apply removes ${them}`, fix));
  }
  const sharing = others.filter((o) => o.drRegion && o.accountId === s.accountId && o.region === s.region && registryAccount(o.ecrRegistry) === s.accountId);
  if (sharing.length > 0) {
    out.push(
      warn(
        name,
        `${sharing.map((o) => `${o.env} (${o.file}, dr_region ${o.drRegion})`).join(" and ")} also replicate${sharing.length > 1 ? "" : "s"} ${registry}: each recovery phase holds its one replication configuration, so the last apply's rule replaces the other's, and destroying either phase stops the replication of both`,
        `let one environment of the account replicate the images (prod): give the other's images a registry of their own (ecr_registry), or remove its dr_region (staging's is optional)`,
      ),
    );
  }
  return out;
}

interface AutomatedBackup {
  readonly Status?: string;
  readonly RestoreWindow?: { readonly LatestTime?: string };
}

/** Once the recovery phase has a state: the database's backups replicate to the DR region, within the RPO. */
function backupsCurrent(aws: Aws, config: EnvironmentConfig, dr: string, applied: PhaseApplied, now: number): Check {
  const name = "DR database backups";
  const db = names(config.env).database;
  if (!applied(PHASE))
    return pass(
      name,
      `phase ${PHASE} has no state yet: the backups of ${db} replicate to ${dr} from its first apply (make apply ENV=${config.env} PHASE=${PHASE})`,
    );
  const look = `aws rds describe-db-instance-automated-backups --db-instance-identifier ${db} --region ${dr}`;
  const restart = `make apply ENV=${config.env} PHASE=${PHASE} starts the replication again (make drift shows it missing)`;
  const r = aws("rds", "describe-db-instance-automated-backups", "--db-instance-identifier", db, "--region", dr);
  const missing = r.code === "DBInstanceAutomatedBackupNotFound" || r.code === "DBInstanceNotFound";
  if (!r.ok && !missing) return warn(name, `cannot read the backups of ${db} in ${dr}: ${r.error}`, `check by hand: ${look}`);
  const backups = (r.ok ? (r.json.DBInstanceAutomatedBackups ?? []) : []) as AutomatedBackup[];
  const backup = backups.find((b) => b.Status === "replicating") ?? backups[0];
  if (!backup)
    return fail(
      name,
      `no backup of ${db} is replicated to ${dr}: a restore there has nothing to start from`,
      `${restart}; then ${look} must answer Status replicating`,
    );
  const latest = Date.parse(backup.RestoreWindow?.LatestTime ?? "");
  const restorable = Number.isNaN(latest) ? "no restorable time" : `latest restorable time ${new Date(latest).toISOString()}`;
  if (backup.Status === "retained") {
    return fail(
      name,
      `the replication of ${db}'s backups to ${dr} stopped (retained; ${restorable}): what is kept there ages until its retention ends`,
      `find why (RDS stops it when either region is opted out, either KMS key is disabled or deleted, or the account is suspended), fix that, then ${restart}`,
    );
  }
  if (backup.Status === "pending" || backup.Status === "creating" || (backup.Status === "replicating" && Number.isNaN(latest))) {
    return warn(
      name,
      `the replication of ${db}'s backups to ${dr} is starting (${backup.Status}; ${restorable}): RDS copies the latest snapshot first, hours for a large database, and no point-in-time restore is possible in ${dr} until then`,
      `run make preflight ENV=${config.env} again later; ${look} must answer Status replicating with a LatestTime`,
    );
  }
  if (backup.Status !== "replicating") return warn(name, `the backups of ${db} in ${dr} are ${backup.Status} (${restorable})`, `check by hand: ${look}`);
  const minutes = Math.floor((now - latest) / 60_000);
  const detail = `${db}'s backups replicate to ${dr}, ${restorable} (${minutes} minutes ago)`;
  if (minutes <= REGION_LOSS_RPO_MINUTES) return pass(name, `${detail}, within the guide's RPO of ${REGION_LOSS_RPO_MINUTES} minutes for a region loss`);
  return fail(
    name,
    `${detail}: the guide's RPO for a region loss (< 1 hour) is exceeded`,
    `the transaction logs are not reaching ${dr}: read the database's events (aws rds describe-events --source-type db-instance --source-identifier ${db} --duration 1440 --region ${config.settings.region}) and the recovery phase's backup-replication alerts; if the replication stopped, ${restart}`,
  );
}

/** RDS replicates automated backups between some region pairs only: the DR region must take the primary's. */
function rdsRegionPair(aws: Aws, config: EnvironmentConfig, dr: string): Check {
  const name = "RDS region pair";
  const primary = config.settings.region;
  const asked = `aws rds describe-source-regions --region ${dr} --region-name ${primary}`;
  const r = aws("rds", "describe-source-regions", "--region", dr, "--region-name", primary);
  if (!r.ok)
    return warn(
      name,
      `cannot read whether RDS replicates automated backups from ${primary} to ${dr}: ${r.error}`,
      `check by hand: ${asked} must answer SupportsDBInstanceAutomatedBackupsReplication true`,
    );
  const supported = r.json.SourceRegions?.[0]?.SupportsDBInstanceAutomatedBackupsReplication;
  if (supported === true) return pass(name, `RDS replicates automated backups from ${primary} to ${dr} (dr_region)`);
  return fail(
    name,
    `RDS cannot replicate automated backups from ${primary} to ${dr} (${asked} answers SupportsDBInstanceAutomatedBackupsReplication ${supported ?? "absent"})`,
    `choose another dr_region in ${config.source.file}: one where aws rds describe-source-regions --region <it> --region-name ${primary} answers true`,
  );
}

interface CreationTemplate {
  readonly prefix?: string;
  readonly encryptionConfiguration?: { readonly encryptionType?: string; readonly kmsKey?: string };
}

/**
 * ECR keeps ONE creation template per prefix in a registry and region, and the recovery phase creates the
 * DR region's `ROOT` one (for the replicas, encrypted with the DR key): another one there fails its first apply.
 */
function creationTemplate(aws: Aws, config: EnvironmentConfig, dr: string, applied: PhaseApplied): Check {
  const name = "ECR creation template";
  const alias = names(config.env).drKmsAlias;
  const look = `aws ecr describe-repository-creation-templates --prefixes ROOT --region ${dr}`;
  const free = pass(name, `no ROOT repository creation template in ${dr}: the recovery phase creates it (encrypted with ${alias})`);
  const r = aws("ecr", "describe-repository-creation-templates", "--prefixes", "ROOT", "--region", dr);
  if (!r.ok) {
    if (r.code === "TemplateNotFoundException" || /not found/i.test(r.error)) return free;
    return warn(
      name,
      `cannot read the repository creation templates in ${dr}: ${r.error}`,
      `check by hand: ${look} must answer none, or one encrypted with ${alias}`,
    );
  }
  const template = ((r.json.repositoryCreationTemplates ?? []) as CreationTemplate[]).find((t) => t.prefix === undefined || t.prefix === "ROOT");
  if (!template) return free;
  const key = template.encryptionConfiguration?.kmsKey;
  const encrypted = key ? `encrypted with ${key}` : `encrypted with ${template.encryptionConfiguration?.encryptionType ?? "ECR's default"}`;
  if (applied(PHASE)) return pass(name, `the ROOT repository creation template in ${dr} (${encrypted}) is the recovery phase's own (it has a state)`);
  const remove = `aws ecr delete-repository-creation-template --prefix ROOT --region ${dr}`;
  if (key?.endsWith(alias)) {
    return warn(
      name,
      `a ROOT repository creation template with the DR key (${encrypted}) already exists in ${dr} while phase ${PHASE} has no state: its first apply fails on it (one template per prefix) unless it is imported`,
      `adopt it: terraform import of the recovery phase's aws_ecr_repository_creation_template, id ROOT (after make init ENV=${config.env} PHASE=${PHASE}); or delete it (${remove})`,
    );
  }
  return fail(
    name,
    `a ROOT repository creation template ${encrypted} already exists in ${dr}, not with this environment's DR key (${alias}), while phase ${PHASE} has no state: its apply would fail (one template per prefix)`,
    `find its owner (another environment of the account, another team): delete it (${remove}) if the recovery phase may own it, or set dr_replicate_images = false in ${config.source.file}`,
  );
}

interface SecretReplica {
  readonly Region?: string;
  readonly Status?: string;
  readonly StatusMessage?: string;
}

/** Once the cache phase has a state: the JWT signing secret's replica in the DR region (declared on the secret) is in sync. */
function jwtReplica(aws: Aws, config: EnvironmentConfig, dr: string, applied: PhaseApplied): Check {
  const name = "JWT secret replica";
  const phase = "cache";
  const secret = names(config.env).secret("jwt");
  const primary = config.settings.region;
  const look = `aws secretsmanager describe-secret --secret-id ${secret} --region ${primary}`;
  const apply = `make apply ENV=${config.env} PHASE=${phase}`;
  if (!applied(phase)) return pass(name, `phase ${phase} has no state yet: ${secret} is replicated to ${dr} from its first apply (${apply})`);
  const r = aws("secretsmanager", "describe-secret", "--secret-id", secret, "--region", primary);
  if (!r.ok && r.code === "ResourceNotFoundException")
    return fail(
      name,
      `${secret} does not exist in ${primary} although phase ${phase} has a state: nothing is replicated to ${dr}`,
      `${apply} (make drift shows it missing)`,
    );
  if (!r.ok) return warn(name, `cannot read the replication of ${secret}: ${r.error}`, `check by hand: ${look} must list ${dr} InSync`);
  const replica = ((r.json.ReplicationStatus ?? []) as SecretReplica[]).find((x) => x.Region === dr);
  const message = replica?.StatusMessage ? `: ${replica.StatusMessage}` : "";
  if (replica?.Status === "InSync") return pass(name, `${secret} is replicated to ${dr} (InSync)`);
  if (replica?.Status === "InProgress")
    return warn(
      name,
      `${secret}'s replica in ${dr} is being made (InProgress${message})`,
      `run make preflight ENV=${config.env} again in a few minutes; ${look} must list ${dr} InSync`,
    );
  if (!replica)
    return fail(
      name,
      `${secret} has no replica in ${dr}: a restore there cannot verify the tokens issued before it`,
      `${apply} adds the replica (the network phase's DR key first)`,
    );
  return fail(
    name,
    `${secret}'s replica in ${dr} is ${replica.Status ?? "without a status"}${message}`,
    `fix what the message names (a secret of the same name already in ${dr}, the DR key's policy), then ${apply} declares the replica again (make drift shows it)`,
  );
}
