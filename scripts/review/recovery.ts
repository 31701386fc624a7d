/**
 * The review's "Region loss" section: what the environment copies out of its region, read from the
 * synthesized stacks (the recovery phase, the network phase's DR key, the secrets' replicas; never the
 * TypeScript), how far behind the primary each copy can be (its recovery point, from the AWS
 * documentation cited), what is not copied and why, and what the copies cost (the estimate's lines of
 * the "disaster recovery" group).
 */
import { Json, JsonObject, isObject } from "../tf-check/json";
import { CostEstimate, DR_GROUP, RECOVERY_PHASE, money } from "./cost";
import { EnvModel, Resource, blocks, bucketName, literalOf, ofType, providerRegion, regionOfResource, resolve } from "./model";

/** The AWS documentation each recovery point is taken from, numbered as the report cites them. */
export const SOURCES = [
  [
    "rds-replication",
    "Amazon RDS: replicating automated backups to another AWS Region",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReplicateBackups.html",
  ],
  [
    "rds-pitr",
    "Amazon RDS: restoring a DB instance to a specified time (transaction logs uploaded every 5 minutes)",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html",
  ],
  [
    "s3-rtc",
    "Amazon S3: S3 Replication Time Control (99.99% of new objects within 15 minutes)",
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html",
  ],
  ["ecr", "Amazon ECR: private image replication", "https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html"],
  ["secrets", "AWS Secrets Manager: replicate secrets across Regions", "https://docs.aws.amazon.com/secretsmanager/latest/userguide/replicate-secrets.html"],
] as const;
type SourceId = (typeof SOURCES)[number][0];
const cite = (...ids: SourceId[]) => ids.map((id) => `[${SOURCES.findIndex(([s]) => s === id) + 1}]`).join("");

export interface Copy {
  readonly what: string;
  /** `<phase>: <address>` of the resource that makes the copy. */
  readonly by: string;
  /** What is copied, with its region. */
  readonly source: string;
  readonly sourceRegion: string;
  /** Where the copy is, with its region. */
  readonly destination: string;
  readonly destinationRegion: string;
  /** The key that encrypts the copy. */
  readonly key: string;
  /** How long the copy keeps what it holds, and its lock. */
  readonly kept: string;
  /** Recovery point: how far behind the primary the copy can be. */
  readonly rpo: string;
}

export interface NotCopied {
  readonly what: string;
  readonly why: string;
}

export interface RegionLoss {
  readonly env: string;
  /** The environment's region. */
  readonly region: string;
  /** The recovery phase's region; undefined when the environment has no recovery stack. */
  readonly drRegion?: string;
  readonly copies: readonly Copy[];
  readonly notCopied: readonly NotCopied[];
  /** What should be copied out of the region and is not (prod without a recovery stack, a data store left out). */
  readonly gaps: readonly string[];
  /** Where the Terraform state is, and who copies it (not the stacks). */
  readonly state: readonly string[];
}

const code = (v: Json | undefined) => `\`${typeof v === "string" ? v : JSON.stringify(v)}\``;
const at = (r: Resource) => `${r.phase}: \`${r.address}\``;

/** The key a `kms_key_id`-like value names: its alias, its resource and its region, when the stacks hold it. */
function keyOf(m: EnvModel, phase: string, value: Json | undefined): { text: string; region?: string } {
  if (value === undefined) return { text: "the service's default key (none set)" };
  const key = resolve(m, phase, value)?.resource;
  if (!key || key.type !== "aws_kms_key") return { text: code(literalOf(m, phase, value) ?? value) };
  const alias = ofType(m, "aws_kms_alias").find((a) => a.stack === key.stack && resolve(m, a.phase, a.config.target_key_id)?.resource === key);
  const region = regionOfResource(m, key);
  return { text: `${alias ? `${code(alias.config.name)} (${at(key)}${region ? `, ${region}` : ""})` : `${at(key)}${region ? ` (${region})` : ""}`}`, region };
}

/** The resource of `type` that a bucket-like value names, by reference or by its name. */
function bucketOf(m: EnvModel, phase: string, value: Json | undefined): Resource | undefined {
  const direct = resolve(m, phase, value)?.resource;
  if (direct?.type === "aws_s3_bucket") return direct;
  const name = bucketName(literalOf(m, phase, value));
  return name === undefined ? undefined : ofType(m, "aws_s3_bucket").find((b) => b.config.bucket === name);
}

/** The resources of `type` whose `bucket` is `bucket`. */
const onBucket = (m: EnvModel, type: string, bucket: Resource) => ofType(m, type).filter((x) => bucketOf(m, x.phase, x.config.bucket) === bucket);

/** Where a copy lands, checked against its key: a key in another region cannot encrypt it there. */
function keyIn(key: { text: string; region?: string }, region: string): string {
  return key.region !== undefined && key.region !== region ? `${key.text} **(not in ${region})**` : key.text;
}

function databaseCopies(m: EnvModel, region: string): Copy[] {
  return ofType(m, "aws_db_instance_automated_backups_replication").map((r) => {
    const db = resolve(m, r.phase, r.config.source_db_instance_arn)?.resource;
    const to = regionOfResource(m, r) ?? "?";
    const days = r.config.retention_period;
    return {
      what: "database: automated backups (snapshots and transaction logs)",
      by: at(r),
      source: db ? code(db.config.identifier) : code(r.config.source_db_instance_arn),
      sourceRegion: (db && regionOfResource(m, db)) ?? region,
      destination: "replicated automated backups",
      destinationRegion: to,
      key: keyIn(keyOf(m, r.phase, r.config.kms_key_id), to),
      kept: `${days === undefined ? "RDS's default" : `${String(days)} days`} of point-in-time restore${db?.config.backup_retention_period !== undefined ? ` (the primary keeps ${String(db.config.backup_retention_period)} days)` : ""}`,
      rpo: `minutes: RDS copies each snapshot and transaction log as soon as it is ready, and transaction logs are uploaded about every 5 minutes ${cite("rds-replication", "rds-pitr")}`,
    };
  });
}

function bucketCopies(m: EnvModel, region: string): Copy[] {
  const out: Copy[] = [];
  for (const r of ofType(m, "aws_s3_bucket_replication_configuration")) {
    const source = bucketOf(m, r.phase, r.config.bucket);
    const sourceName = source?.config.bucket ?? bucketName(literalOf(m, r.phase, r.config.bucket)) ?? "?";
    const trail = source ? ofType(m, "aws_cloudtrail").find((t) => bucketOf(m, t.phase, t.config.s3_bucket_name) === source) : undefined;
    for (const rule of blocks(r.config.rule).filter((x) => x.status !== "Disabled")) {
      for (const destination of blocks(rule.destination)) {
        const replica = bucketOf(m, r.phase, destination.bucket);
        const to = (replica && regionOfResource(m, replica)) ?? "?";
        const lock = replica ? blocks(onBucket(m, "aws_s3_bucket_object_lock_configuration", replica)[0]?.config.rule) : [];
        const retention = blocks(lock[0]?.default_retention)[0];
        const expiry = replica
          ? blocks(onBucket(m, "aws_s3_bucket_lifecycle_configuration", replica)[0]?.config.rule)
              .flatMap((x) => blocks(x.expiration))
              .find((e) => e.days !== undefined)
          : undefined;
        const deletes = blocks(rule.delete_marker_replication)[0]?.status === "Enabled" ? "deletions replicated" : "deletions not replicated";
        const rtc = blocks(destination.replication_time).find((t) => t.status === "Enabled");
        const minutes = blocks(rtc?.time)[0]?.minutes;
        out.push({
          what: trail ? `audit evidence (the trail ${code(trail.config.name)} writes there)` : "bucket",
          by: at(r),
          source: code(sourceName),
          sourceRegion: (source && regionOfResource(m, source)) ?? regionOfResource(m, r) ?? region,
          destination: code(replica?.config.bucket ?? bucketName(destination.bucket)),
          destinationRegion: to,
          key: keyIn(keyOf(m, r.phase, blocks(destination.encryption_configuration)[0]?.replica_kms_key_id), to),
          kept: [
            retention
              ? `Object Lock ${String(retention.mode)} ${retention.days !== undefined ? `${String(retention.days)} days` : `${String(retention.years)} years`}`
              : "no Object Lock",
            expiry ? `expires after ${String(expiry.days)} days` : undefined,
            deletes,
          ]
            .filter((x) => x !== undefined)
            .join(", "),
          rpo: rtc
            ? `${String(minutes ?? 15)} minutes for 99.99% of objects (S3 Replication Time Control) ${cite("s3-rtc")}`
            : `no time guarantee (S3 Replication Time Control is off) ${cite("s3-rtc")}`,
        });
      }
    }
  }
  return out;
}

/** Repository names ECR replicates, by filter: undefined for every repository. */
function replicatedRepositories(m: EnvModel): { filters: string[] | undefined; by: Resource; to: string[] }[] {
  return ofType(m, "aws_ecr_replication_configuration").flatMap((r) =>
    blocks(blocks(r.config.replication_configuration)[0]?.rule).map((rule) => {
      const filters = blocks(rule.repository_filter).map((f) => String(f.filter));
      return { filters: filters.length > 0 ? filters : undefined, by: r, to: blocks(rule.destination).map((d) => String(d.region)) };
    }),
  );
}

function imageCopies(m: EnvModel, region: string): Copy[] {
  const template = ofType(m, "aws_ecr_repository_creation_template").find(
    (t) => Array.isArray(t.config.applied_for) && t.config.applied_for.includes("REPLICATION"),
  );
  const out: Copy[] = [];
  for (const rule of replicatedRepositories(m)) {
    const from = regionOfResource(m, rule.by) ?? region;
    for (const to of rule.to.filter((x) => x !== from)) {
      const encryption = blocks(template?.config.encryption_configuration)[0];
      out.push({
        what: "images",
        by: at(rule.by),
        source: rule.filters ? `${rule.filters.length} repositories: ${rule.filters.map((f) => code(f)).join(", ")}` : "every repository of the registry",
        sourceRegion: from,
        destination: "the same repositories",
        destinationRegion: to,
        key: template
          ? encryption?.encryption_type === "KMS"
            ? keyIn(keyOf(m, template.phase, encryption.kms_key), to)
            : `${String(encryption?.encryption_type ?? "AES256")} (${at(template)})`
          : "ECR's default encryption (no repository creation template for replication)",
        kept: template?.config.lifecycle_policy
          ? `the lifecycle policy of ${at(template)}`
          : `every image (no lifecycle policy${template ? ` in ${at(template)}` : ""})`,
        rpo: `on push: each image pushed after the replication is set up is copied (images pushed before it are not) ${cite("ecr")}`,
      });
    }
  }
  return out;
}

function secretCopies(m: EnvModel, region: string): Copy[] {
  return ofType(m, "aws_secretsmanager_secret").flatMap((r) =>
    blocks(r.config.replica).map((replica) => {
      const to = String(replica.region);
      const name = String(r.config.name);
      return {
        what: name.endsWith("/jwt") ? "JWT signing secret" : "secret",
        by: at(r),
        source: code(name),
        sourceRegion: regionOfResource(m, r) ?? region,
        destination: "its replica (same name)",
        destinationRegion: to,
        key: keyIn(keyOf(m, r.phase, replica.kms_key_id), to),
        kept: "as long as the secret (read-only; promoted to a standalone secret in a restore)",
        rpo: `each new version: Secrets Manager replicates every change of the secret to its replicas ${cite("secrets")}`,
      };
    }),
  );
}

/** The accounts the stacks may act in (their providers' allowed_account_ids). */
function accountsOf(m: EnvModel): Set<string> {
  return new Set(
    m.stacks.flatMap((s) => {
      const aws = isObject(s.config.provider) ? s.config.provider.aws : undefined;
      return blocks(aws).flatMap((p) => (Array.isArray(p.allowed_account_ids) ? p.allowed_account_ids.map(String) : []));
    }),
  );
}

/** The ECR images of the task definitions: registry account and repository. */
function images(m: EnvModel): { account: string; repository: string; task: Resource }[] {
  return ofType(m, "aws_ecs_task_definition").flatMap((task) => {
    let containers: Json = null;
    try {
      if (typeof task.config.container_definitions === "string") containers = JSON.parse(task.config.container_definitions) as Json;
    } catch {
      // a definition built from references: no literal image to read
    }
    return blocks(containers).flatMap((c) => {
      const image = /^(\d{12})\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/([^:@]+)/.exec(String(c.image ?? ""));
      return image ? [{ account: image[1]!, repository: image[2]!, task }] : [];
    });
  });
}

/** The S3 backend of a stack: bucket and region. */
function backendOf(config: JsonObject): { bucket: string; region: string } | undefined {
  const terraform = isObject(config.terraform) ? config.terraform : {};
  const s3 = isObject(terraform.backend) && isObject(terraform.backend.s3) ? terraform.backend.s3 : undefined;
  return s3 && typeof s3.bucket === "string" ? { bucket: s3.bucket, region: String(s3.region ?? "?") } : undefined;
}

function notCopied(m: EnvModel, region: string, copies: readonly Copy[]): NotCopied[] {
  const out: NotCopied[] = [];
  for (const r of ofType(m, "aws_elasticache_replication_group")) {
    const days = r.config.snapshot_retention_limit;
    out.push({
      what: `cache ${code(r.config.replication_group_id)}${days !== undefined && days !== 0 ? ` (and its snapshots, ${String(days)} days)` : ""}`,
      why: `rebuilt, not restored: a new, empty cache in the DR region, filled again by the services; its snapshots stay in ${region}`,
    });
  }
  for (const lb of ofType(m, "aws_lb")) {
    const logs = blocks(lb.config.access_logs)[0];
    if (!logs || logs.enabled === false) continue;
    const bucket = bucketOf(m, lb.phase, logs.bucket);
    out.push({
      what: `ALB access logs of ${code(lb.config.name)} (${code(bucket?.config.bucket ?? logs.bucket)})`,
      why: `stay regional: they record the traffic ${region} served, and stay in ${region}`,
    });
  }
  for (const r of ofType(m, "aws_secretsmanager_secret").filter((s) => blocks(s.config.replica).length === 0)) {
    const version = ofType(m, "aws_secretsmanager_secret_version").find((v) => resolve(m, v.phase, v.config.secret_id)?.resource === r);
    const holds = JSON.stringify(version?.config.secret_string ?? "");
    const name = code(r.config.name);
    if (String(r.config.name).endsWith("/jwt")) continue; // a gap, not a choice
    if (holds.includes("auth_token"))
      out.push({ what: `Redis AUTH token (${name})`, why: "not replicated: the DR region's new cache gets a token and a secret of its own" });
    else if (holds.includes("aws_db_instance."))
      out.push({
        what: `database connection settings (${name})`,
        why: "not replicated: they name the primary's endpoint; the restored database gets a secret of its own",
      });
    else out.push({ what: `secret ${name}`, why: "not replicated" });
  }
  for (const db of ofType(m, "aws_db_instance").filter((d) => d.config.manage_master_user_password === true)) {
    out.push({
      what: `master password of ${code(db.config.identifier)} (a secret RDS manages)`,
      why: `not replicated by these stacks: RDS keeps it in ${region}`,
    });
  }
  const logGroups = ofType(m, "aws_cloudwatch_log_group").filter((g) => regionOfResource(m, g) === region);
  const audit = copies.find((c) => c.what.startsWith("audit evidence"));
  if (logGroups.length > 0)
    out.push({
      what: `CloudWatch log groups (${logGroups.length})`,
      why: `operational logs stay in ${region}${audit ? `; the trail's copy in ${audit.source} is replicated (above)` : ""}`,
    });
  // Images the services run that the replication does not take.
  const registries = replicatedRepositories(m);
  const own = accountsOf(m);
  const foreign = new Set<string>();
  for (const { account, repository, task } of images(m)) {
    if (!own.has(account)) foreign.add(account);
    else if (registries.length > 0 && !registries.some((r) => r.filters === undefined || r.filters.some((f) => repository.startsWith(f))))
      out.push({ what: `image ${code(repository)} (${at(task)})`, why: "its repository matches no replication filter" });
  }
  for (const account of foreign)
    out.push({ what: `images of the registry of account ${account}`, why: "another account's registry: copied, or not, by that account, not by these stacks" });
  return out;
}

function gaps(m: EnvModel, copies: readonly Copy[]): string[] {
  const out: string[] = [];
  const copiedDatabases = new Set(copies.filter((c) => c.what.startsWith("database")).map((c) => c.source));
  for (const db of ofType(m, "aws_db_instance"))
    if (!copiedDatabases.has(code(db.config.identifier))) out.push(`database ${code(db.config.identifier)}: no replicated backups`);
  const copiedBuckets = new Set(copies.map((c) => c.source));
  for (const t of ofType(m, "aws_cloudtrail")) {
    const bucket = bucketOf(m, t.phase, t.config.s3_bucket_name);
    const name = code(bucket?.config.bucket ?? literalOf(m, t.phase, t.config.s3_bucket_name));
    if (!copiedBuckets.has(name)) out.push(`audit bucket ${name} (trail ${code(t.config.name)}): not replicated`);
  }
  for (const s of ofType(m, "aws_secretsmanager_secret"))
    if (String(s.config.name).endsWith("/jwt") && blocks(s.config.replica).length === 0) out.push(`JWT secret ${code(s.config.name)}: no replica`);
  const own = accountsOf(m);
  if (images(m).some((i) => own.has(i.account)) && !copies.some((c) => c.what === "images"))
    out.push("images: the services run images of this account's registry, and no ECR replication copies them");
  return out;
}

/** What the environment copies out of `region`, and what it does not. */
export function regionLoss(m: EnvModel, region: string): RegionLoss {
  const recovery = m.stacks.find((s) => s.phase === RECOVERY_PHASE);
  const drRegion = recovery ? providerRegion(recovery) : undefined;
  if (!recovery || !drRegion) {
    const missing = m.env === "prod" ? [`prod has no recovery stack (\`accessweaver-prod-${RECOVERY_PHASE}\`): nothing is copied out of ${region}`] : [];
    return { env: m.env, region, copies: [], notCopied: [], gaps: missing, state: [] };
  }
  const copies = [...databaseCopies(m, region), ...bucketCopies(m, region), ...imageCopies(m, region), ...secretCopies(m, region)];
  const primary = m.stacks.find((s) => s.phase !== RECOVERY_PHASE && backendOf(s.config));
  const primaryState = primary ? backendOf(primary.config) : undefined;
  const drState = backendOf(recovery.config);
  const reads = [
    ...new Set(
      Object.values(isObject(recovery.config.data) && isObject(recovery.config.data.terraform_remote_state) ? recovery.config.data.terraform_remote_state : {})
        .map((b) => (isObject(b) && isObject(b.config) ? `${code(b.config.bucket)} (${String(b.config.region)})` : undefined))
        .filter((x): x is string => x !== undefined),
    ),
  ];
  const state = [
    `**Terraform state**: ${primaryState ? `the bucket ${code(primaryState.bucket)} (${primaryState.region})` : "the state bucket"} is copied to ${drRegion} by S3 replication that \`scripts/setup-backend.sh\` sets up: it is not in the stacks, so this review cannot check it.`,
    ...(drState
      ? [
          `The recovery phase keeps its own state in ${code(drState.bucket)} (${drState.region})${reads.length > 0 ? `, and reads the outputs of the earlier phases from ${reads.join(", ")}` : ""}.`,
        ]
      : []),
  ];
  return { env: m.env, region, drRegion, copies, notCopied: notCopied(m, region, copies), gaps: gaps(m, copies), state };
}

/** One line for the review's summary. */
export function regionLossSummary(r: RegionLoss): string {
  if (!r.drRegion) return r.gaps.length > 0 ? `Region loss: **${r.gaps[0]}**.` : `Region loss: no DR region: nothing is copied out of ${r.region}.`;
  const kinds = [...new Set(r.copies.map((c) => c.what.split(/[:(]/)[0]!.trim()))];
  return `Region loss: ${r.copies.length} cop${r.copies.length === 1 ? "y" : "ies"} from ${r.region} to ${r.drRegion} (${kinds.join(", ")})${r.gaps.length > 0 ? `; **${r.gaps.length} not copied that should be**` : ""}.`;
}

/** Text made safe for a Markdown table cell. */
export const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** The section: copies, sources, state, what is not copied, and what the copies cost. */
export function regionLossMarkdown(r: RegionLoss, cost: CostEstimate): string[] {
  if (!r.drRegion)
    return r.gaps.length > 0
      ? r.gaps.map((g) => `**${g}.** prod must copy its data out of its region.`)
      : [`no DR region: nothing is copied out of ${r.region}.`];
  const lines = [
    `What is copied out of ${r.region} to ${r.drRegion} (the recovery phase's region), read from the synthesized stacks. The recovery point (RPO) is how far behind the primary each copy can be when ${r.region} is lost, as the AWS documentation cited says; nothing here was checked against AWS.`,
    "",
  ];
  if (r.gaps.length > 0) lines.push("**Not copied, and should be:**", "", ...r.gaps.map((g) => `- **${g}**`), "");
  lines.push(
    "| copy | source -> destination | encrypted with | kept | recovery point (RPO) |",
    "|---|---|---|---|---|",
    ...r.copies.map(
      (c) =>
        `| ${cell(c.what)}, made by ${cell(c.by)} | ${cell(c.source)} (${c.sourceRegion}) -> ${cell(c.destination)} (**${c.destinationRegion}**) | ${cell(c.key)} | ${cell(c.kept)} | ${cell(c.rpo)} |`,
    ),
    "",
    ...SOURCES.map(([, title, url], i) => `[${i + 1}] ${title}: ${url}  `),
    "",
    ...r.state.map((s) => `${s}`),
    "",
    `Not copied out of ${r.region}:`,
    "",
    ...r.notCopied.map((n) => `- ${n.what}: ${n.why}.`),
    "",
  );
  const priced = cost.lines.filter((l) => l.group === DR_GROUP);
  const usage = cost.usage.filter((u) => u.group === DR_GROUP);
  const missing = cost.unpriced.filter((u) => u.group === DR_GROUP);
  const total = Math.round(priced.reduce((a, l) => a + l.monthlyUsd, 0) * 100) / 100;
  lines.push(
    `What the copies cost a month (their lines in the estimate below): ${money(total)} in the total; usage without an assumed volume and missing prices are on top, never counted as zero.`,
    "",
    "| phase | resource | what | monthly |",
    "|---|---|---|---:|",
    ...priced.map((l) => `| ${l.phase} | \`${l.address}\` | ${cell(l.detail)} | ${money(l.monthlyUsd)} |`),
    ...usage.map((u) => `| ${u.phase} | \`${u.address}\` | ${cell(u.reason)} | usage: not in the total |`),
    ...missing.map((u) => `| ${u.phase} | \`${u.address}\` | ${cell(u.reason)} | **price missing** |`),
    `| **in the total** | | | **${money(total)}** |`,
  );
  return lines;
}
