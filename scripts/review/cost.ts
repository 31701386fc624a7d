/**
 * The estimated monthly cost of an environment, from its synthesized resources and the price table:
 * one line per priced resource, usage-based charges listed with their assumption (zero unless one is
 * stated), and every resource type without a price listed as not priced, never silently zero.
 */
import { JsonObject, isObject } from "../tf-check/json";
import { EnvModel, Resource, blocks, bucketName, listLength, literalOf, providerRegion, regionOfResource, resolve, zoneCount } from "./model";
import { HOURS_PER_MONTH, LEVERS, PRICE_TABLES, Price, PriceTable } from "./prices";

export type CostGroup =
  "database" | "cache" | "compute" | "nat" | "load balancer" | "endpoints" | "edge" | "keys and secrets" | "monitoring" | "disaster recovery";

/** The phase that copies the environment out of its region (the review's "Region loss" section). */
export const RECOVERY_PHASE = "recovery";
/**
 * What the copies out of the region cost: every line of the recovery phase, every resource made in the
 * DR region (the network phase's DR key, through its `aws.dr` provider), and the secrets' replicas.
 */
export const DR_GROUP: CostGroup = "disaster recovery";

/** The DR region(s): the recovery stack's own, and those of providers aliased `dr` (the network phase's). */
export function drRegions(m: EnvModel): Set<string> {
  const out = new Set<string>();
  for (const s of m.stacks) {
    const region = s.phase === RECOVERY_PHASE ? providerRegion(s) : providerRegion(s, "dr");
    if (region !== undefined) out.add(region);
  }
  return out;
}

export interface CostLine {
  readonly phase: string;
  readonly address: string;
  readonly group: CostGroup;
  /** What is priced and how: `2 x db.r6g.xlarge (Multi-AZ) x 730 h x 0.504`. */
  readonly detail: string;
  readonly monthlyUsd: number;
}

export interface Unpriced {
  readonly phase: string;
  readonly address: string;
  readonly reason: string;
  /** Set for the copies out of the region (DR_GROUP), which the "Region loss" section lists again. */
  readonly group?: CostGroup;
}

export interface CostEstimate {
  readonly region: string;
  readonly lines: readonly CostLine[];
  /** Charges that depend on traffic or volume: not in the total. */
  readonly usage: readonly Unpriced[];
  readonly unpriced: readonly Unpriced[];
  readonly totalUsd: number;
  readonly byPhase: ReadonlyMap<string, number>;
}

/** Types AWS does not charge for by themselves (their traffic or what they configure is priced elsewhere). */
export const NO_CHARGE_TYPES = new Set([
  "aws_vpc",
  "aws_subnet",
  "aws_route_table",
  "aws_route",
  "aws_route_table_association",
  "aws_internet_gateway",
  "aws_default_security_group",
  "aws_security_group",
  "aws_vpc_security_group_ingress_rule",
  "aws_vpc_security_group_egress_rule",
  "aws_security_group_rule",
  "aws_default_network_acl",
  "aws_network_acl",
  "aws_network_acl_rule",
  "aws_network_acl_association",
  "aws_default_route_table",
  "aws_iam_role",
  "aws_iam_role_policy",
  "aws_iam_policy",
  "aws_iam_role_policy_attachment",
  "aws_kms_alias",
  "aws_db_subnet_group",
  "aws_db_parameter_group",
  "aws_elasticache_subnet_group",
  "aws_elasticache_parameter_group",
  "aws_secretsmanager_secret_version",
  "aws_lb_listener",
  "aws_lb_listener_rule",
  "aws_lb_target_group",
  "aws_acm_certificate",
  "aws_acm_certificate_validation",
  "aws_route53_record",
  "aws_wafv2_web_acl_association",
  "aws_ecs_cluster",
  "aws_ecs_cluster_capacity_providers",
  "aws_ecs_task_definition",
  "aws_appautoscaling_target",
  "aws_appautoscaling_policy",
  "aws_codedeploy_app",
  "aws_codedeploy_deployment_group",
  "aws_sns_topic_subscription",
  "aws_sns_topic_policy",
  "aws_s3_bucket_public_access_block",
  "aws_s3_bucket_policy",
  "aws_s3_bucket_versioning",
  "aws_s3_bucket_lifecycle_configuration",
  "aws_s3_bucket_server_side_encryption_configuration",
  "aws_s3_bucket_ownership_controls",
  "aws_cloudwatch_event_rule",
  "aws_cloudwatch_event_target",
  "aws_budgets_budget",
  "aws_db_event_subscription",
  "aws_service_discovery_private_dns_namespace",
  "aws_cloudwatch_log_metric_filter",
  "aws_s3_bucket_object_lock_configuration",
  "aws_securityhub_standards_subscription",
  // The settings of the repositories ECR creates by replication: their storage is priced with the replication.
  "aws_ecr_repository_creation_template",
]);

/** Types whose charge is usage (volume or requests): listed with the assumption, not in the total. */
export const USAGE_TYPES: Readonly<Record<string, string>> = {
  aws_cloudwatch_log_group: "log ingestion 0.57 USD/GB and storage 0.03 USD/GB-month: no volume assumed",
  aws_flow_log: "flow-log records are billed as log ingestion of their group: no volume assumed",
  aws_s3_bucket: "S3 Standard storage 0.023 USD/GB-month and requests: no volume assumed",
  aws_sns_topic: "first million publishes free, then 0.50 USD/million: no volume assumed",
  aws_cloudtrail: "first copy of management events free; its S3, KMS and log costs are usage",
  aws_wafv2_web_acl_logging_configuration: "WAF log delivery is billed as log ingestion: no volume assumed",
  aws_service_discovery_service: "Cloud Map queries: no volume assumed",
  // No list price for these in the price table: what they bill by, so the reader knows what to look up.
  aws_inspector2_enabler: "Inspector bills per ECR image scanned and per EC2 instance-month: no price in the table, no volume assumed",
  aws_guardduty_detector: "GuardDuty bills per volume of events and logs analysed: no price in the table, no volume assumed",
  aws_securityhub_account: "Security Hub bills per security check and finding ingested: no price in the table, no volume assumed",
};

const usd = (n: number) => Math.round(n * 100) / 100;
const hourly = (price: Price, count = 1) => price.usd * HOURS_PER_MONTH * count;
/** Hours a weekly restore test runs its throw-away instance: restore, validation, deletion (an estimate). */
export const RESTORE_TEST_HOURS = 1;
const num = (v: unknown) => (typeof v === "number" ? v : typeof v === "string" && /^\d+(\.\d+)?$/.test(v) ? Number(v) : undefined);
/** An amount as the report shows it: `1,234.50 USD`. */
export const money = (n: number) => `${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} USD`;

export class UnknownRegion extends Error {}

/** Prices the environment in `region`; refuses a region the table lacks. */
export function estimate(m: EnvModel, region: string, table: PriceTable | undefined = PRICE_TABLES[region]): CostEstimate {
  if (!table)
    throw new UnknownRegion(`no price table for region ${region} (known: ${Object.keys(PRICE_TABLES).join(", ")}): add one to scripts/review/prices.ts`);
  const lines: CostLine[] = [];
  const usage: Unpriced[] = [];
  const unpriced: Unpriced[] = [];
  const noPrice = `price missing: not in ${table.reference}`;
  const dr = drRegions(m);
  /**
   * A charge in `region` (by default the resource's own, from its provider): outside the table's region
   * it is priced with the table's price and says so; in the DR region it belongs to the copies out of
   * the region, as does everything of the recovery phase.
   */
  const where = (r: Resource, group: CostGroup | undefined, text: string, priced: boolean, region = regionOfResource(m, r)) => {
    const elsewhere = region !== undefined && region !== table.region;
    const copy = group === DR_GROUP || r.phase === RECOVERY_PHASE || (region !== undefined && region !== table.region && dr.has(region));
    return {
      group: copy ? DR_GROUP : group,
      text: elsewhere && priced ? `${text}; estimate: ${table.region} price used for ${region} (${table.reference} lists ${table.region} only)` : text,
    };
  };
  const line = (r: Resource, group: CostGroup, detail: string, monthly: number, region?: string) => {
    const w = where(r, group, detail, true, region);
    lines.push({ phase: r.phase, address: r.address, group: w.group ?? group, detail: w.text, monthlyUsd: usd(monthly) });
  };
  const entry = (list: Unpriced[], r: Resource, reason: string, priced: boolean, region?: string) => {
    const w = where(r, undefined, reason, priced, region);
    list.push({ phase: r.phase, address: r.address, reason: w.text, ...(w.group ? { group: w.group } : {}) });
  };
  /** Not priced: no price for it (or nothing to price it by); never counted as zero. */
  const missing = (r: Resource, reason: string, region?: string) => entry(unpriced, r, reason, false, region);
  /** Priced by volume, and no volume is assumed: listed with its price, not in the total. */
  const byUsage = (r: Resource, reason: string, region?: string) => entry(usage, r, reason, true, region);

  for (const r of m.resources) {
    const c = r.config;
    switch (r.type) {
      case "aws_db_instance": {
        const cls = String(c.instance_class);
        const price = table.rdsPostgres[cls];
        const copies = c.multi_az === true ? 2 : 1;
        if (!price) missing(r, `no ${table.region} price for ${cls}`);
        else
          line(
            r,
            "database",
            `${copies} x ${cls}${copies === 2 ? " (Multi-AZ: the standby is billed)" : ""} x ${HOURS_PER_MONTH} h x ${price.usd}`,
            hourly(price, copies),
          );
        const gb = num(c.allocated_storage);
        const storage = copies === 2 ? table.rdsGp3.multiAz : table.rdsGp3.singleAz;
        if (gb !== undefined)
          line(r, "database", `${gb} GB gp3${copies === 2 ? " Multi-AZ" : ""} x ${storage.usd}/GB-month (autoscaling beyond it is usage)`, gb * storage.usd);
        break;
      }
      case "aws_elasticache_replication_group": {
        const type = String(c.node_type);
        const nodes =
          num(c.num_node_groups) !== undefined ? num(c.num_node_groups)! * (1 + (num(c.replicas_per_node_group) ?? 0)) : (num(c.num_cache_clusters) ?? 1);
        const price = table.elasticacheRedis[type];
        const valkey = c.engine === "valkey";
        const factor = valkey ? table.valkeyFactor : 1;
        if (!price) missing(r, `no ${table.region} price for ${type}`);
        else
          line(
            r,
            "cache",
            `${nodes} nodes x ${type}${valkey ? " (Valkey)" : ""} x ${HOURS_PER_MONTH} h x ${Number((price.usd * factor).toFixed(4))}`,
            hourly(price, nodes) * factor,
          );
        break;
      }
      case "aws_ecs_service": {
        const task = resolve(m, r.phase, c.task_definition)?.resource.config;
        const count = num(c.desired_count) ?? 0;
        if (!task) {
          missing(r, "its task definition is not in the synthesized stacks");
          break;
        }
        const cpu = num(task.cpu);
        const memory = num(task.memory);
        const platform = Array.isArray(task.runtime_platform) && isObject(task.runtime_platform[0]) ? (task.runtime_platform[0] as JsonObject) : {};
        const arm = platform.cpu_architecture === "ARM64";
        const rates = arm ? table.fargate.arm : table.fargate.x86;
        if (cpu === undefined || memory === undefined) {
          missing(r, "its task definition has no task-level cpu and memory");
          break;
        }
        const perTask = (cpu / 1024) * rates.vcpu.usd + (memory / 1024) * rates.gb.usd;
        line(
          r,
          "compute",
          `${count} tasks x (${cpu / 1024} vCPU x ${rates.vcpu.usd} + ${memory / 1024} GB x ${rates.gb.usd}) x ${HOURS_PER_MONTH} h, Fargate ${arm ? "ARM" : "x86"}`,
          perTask * count * HOURS_PER_MONTH,
        );
        break;
      }
      case "aws_nat_gateway":
        line(r, "nat", `${HOURS_PER_MONTH} h x ${table.natGateway.usd} (data processed 0.048/GB is usage)`, hourly(table.natGateway));
        break;
      case "aws_eip":
        line(r, "nat", `public IPv4 address x ${HOURS_PER_MONTH} h x ${table.publicIpv4.usd}`, hourly(table.publicIpv4));
        break;
      case "aws_lb": {
        line(r, "load balancer", `${HOURS_PER_MONTH} h x ${table.alb.usd} (LCUs 0.008/LCU-hour are usage)`, hourly(table.alb));
        if (c.internal !== true) {
          const azs = listLength(m, r.phase, c.subnets) ?? zoneCount(m);
          line(
            r,
            "load balancer",
            `${azs} public IPv4 addresses (one per zone) x ${HOURS_PER_MONTH} h x ${table.publicIpv4.usd}`,
            hourly(table.publicIpv4, azs),
          );
        }
        break;
      }
      case "aws_vpc_endpoint":
        if (c.vpc_endpoint_type === "Interface") {
          const azs = listLength(m, r.phase, c.subnet_ids) ?? zoneCount(m);
          line(
            r,
            "endpoints",
            `${azs} zones x ${HOURS_PER_MONTH} h x ${table.interfaceEndpoint.usd} (data 0.01/GB is usage)`,
            hourly(table.interfaceEndpoint, azs),
          );
        }
        break;
      case "aws_wafv2_web_acl": {
        const rules = Array.isArray(c.rule) ? c.rule.length : 0;
        line(
          r,
          "edge",
          `web ACL ${table.wafWebAcl.usd} + ${rules} rules x ${table.wafRule.usd} per month (0.60/million requests is usage)`,
          table.wafWebAcl.usd + rules * table.wafRule.usd,
        );
        break;
      }
      case "aws_backup_plan": {
        // AWS Backup bills an RDS snapshot as RDS backup storage; a vault's snapshot of the database holds about its allocated storage.
        const db = m.resources.find((x) => x.type === "aws_db_instance");
        const gb = db ? num(db.config.allocated_storage) : undefined;
        if (gb === undefined) missing(r, "no database with an allocated storage in the synthesized stacks");
        else
          line(
            r,
            "database",
            `estimate: the backup plan's snapshots in the vault, about ${gb} GB (the allocated storage of \`${db!.address}\`, then daily changes) x ${table.rdsBackup.usd}/GB-month RDS backup storage`,
            gb * table.rdsBackup.usd,
          );
        break;
      }
      case "aws_backup_restore_testing_plan": {
        // One restore a week into a Single-AZ instance of the database's class, kept about an hour before AWS Backup deletes it.
        const db = m.resources.find((x) => x.type === "aws_db_instance");
        const cls = db ? String(db.config.instance_class) : undefined;
        const price = cls ? table.rdsPostgres[cls] : undefined;
        const hoursPerMonth = (HOURS_PER_MONTH / (24 * 7)) * RESTORE_TEST_HOURS;
        if (!price) missing(r, `no ${table.region} price for the database's class ${cls ?? "(none)"}`);
        else
          line(
            r,
            "database",
            `estimate: the weekly restore test, 1 x ${cls} Single-AZ for about ${RESTORE_TEST_HOURS} h a week (${hoursPerMonth.toFixed(1)} h a month) x ${price.usd}`,
            price.usd * hoursPerMonth,
          );
        break;
      }
      case "aws_kms_key":
        line(r, "keys and secrets", `customer-managed key ${table.kmsKey.usd}/month (requests are usage)`, table.kmsKey.usd);
        break;
      case "aws_secretsmanager_secret":
        line(r, "keys and secrets", `secret ${table.secret.usd}/month (API calls are usage)`, table.secret.usd);
        // A replica is billed as a secret of its own, in its region.
        for (const replica of blocks(c.replica)) {
          const region = typeof replica.region === "string" ? replica.region : undefined;
          line(r, DR_GROUP, `replica in ${region ?? "another region"}: billed as a secret, ${table.secret.usd}/month`, table.secret.usd, region);
        }
        break;
      case "aws_db_instance_automated_backups_replication": {
        const db = resolve(m, r.phase, c.source_db_instance_arn)?.resource;
        const gb = db ? num(db.config.allocated_storage) : undefined;
        const to = regionOfResource(m, r) ?? "the DR region";
        const from = (db && regionOfResource(m, db)) ?? "the database's region";
        const days = num(c.retention_period);
        if (!db || gb === undefined) missing(r, "its source database (and its allocated storage) is not in the synthesized stacks");
        else
          line(
            r,
            DR_GROUP,
            `replicated backups in ${to}: about ${gb} GB (the allocated storage of ${db.phase}: \`${db.address}\`) x ${table.rdsBackup.usd}/GB-month backup storage, none of it free there${days === undefined ? "" : `, kept ${days} days`}`,
            gb * table.rdsBackup.usd,
          );
        byUsage(r, `transaction logs replicated to ${to}, on top of the snapshots: ${table.rdsBackup.usd} USD/GB-month; no volume assumed`);
        missing(
          r,
          `cross-region data transfer ${from} -> ${to} of the backups (usage: a first full copy of about ${gb ?? "the allocated"} GB, then each day's changed data and transaction logs): ${noPrice}`,
        );
        break;
      }
      case "aws_s3_bucket_replication_configuration": {
        const source = bucketName(literalOf(m, r.phase, c.bucket)) ?? "its source bucket";
        const from = regionOfResource(m, r) ?? "the source's region";
        for (const rule of blocks(c.rule).filter((x) => x.status !== "Disabled")) {
          for (const destination of blocks(rule.destination)) {
            const name = bucketName(destination.bucket);
            const replica = m.resources.find((b) => b.type === "aws_s3_bucket" && b.config.bucket === name);
            const to = (replica && regionOfResource(m, replica)) ?? "the destination's region";
            missing(
              r,
              `cross-region data transfer ${from} -> ${to} of every object written to ${source} (usage: each object once, as much as the bucket takes in; no volume assumed): ${noPrice}`,
              from,
            );
            if (blocks(destination.replication_time).some((t) => t.status === "Enabled"))
              missing(r, `S3 Replication Time Control, per GB replicated to ${to} (the same volume): ${noPrice}`, from);
          }
        }
        break;
      }
      case "aws_ecr_replication_configuration": {
        const from = regionOfResource(m, r) ?? "the registry's region";
        for (const rule of blocks(blocks(c.replication_configuration)[0]?.rule)) {
          const repositories = blocks(rule.repository_filter).map((f) => String(f.filter));
          const what = repositories.length > 0 ? `${repositories.length} repositories (${repositories.join(", ")})` : "every repository";
          for (const destination of blocks(rule.destination)) {
            const to = typeof destination.region === "string" ? destination.region : "another region";
            if (to === from) continue;
            missing(
              r,
              `cross-region data transfer ${from} -> ${to} of the new layers of each image pushed to ${what} (usage: each layer once; no volume assumed): ${noPrice}`,
              from,
            );
            missing(r, `ECR storage of the replicated images in ${to} (the same images as in ${from}): ${noPrice}`, to);
          }
        }
        break;
      }
      case "aws_s3_bucket": {
        const region = regionOfResource(m, r);
        if (r.phase !== RECOVERY_PHASE && (region === undefined || region === table.region)) {
          byUsage(r, USAGE_TYPES.aws_s3_bucket!);
          break;
        }
        // A copy's bucket: as large as what it copies, moved to cheaper classes by its lifecycle.
        const of = m.resources.find(
          (x) =>
            x.type === "aws_s3_bucket_replication_configuration" &&
            blocks(x.config.rule).some((rule) => blocks(rule.destination).some((d) => bucketName(d.bucket) === c.bucket)),
        );
        const source = of ? bucketName(literalOf(m, of.phase, of.config.bucket)) : undefined;
        const lifecycle = m.resources.find((x) => x.type === "aws_s3_bucket_lifecycle_configuration" && resolve(m, x.phase, x.config.bucket)?.resource === r);
        const moves = blocks(lifecycle?.config.rule)
          .flatMap((rule) => blocks(rule.transition))
          .map((t) => `${String(t.storage_class)} after ${String(t.days)} days`);
        byUsage(
          r,
          `S3 Standard storage ${table.s3Standard.usd} USD/GB-month in ${region ?? "another region"}${source ? `, as much as ${source} holds` : ""}: no volume assumed${moves.length > 0 ? ` (its lifecycle moves objects to ${moves.join(", ")}: no price in ${table.reference})` : ""}`,
        );
        break;
      }
      case "aws_cloudwatch_metric_alarm": {
        const metrics = Array.isArray(c.metric_query) ? c.metric_query.filter((q) => isObject(q) && q.metric !== undefined).length : 1;
        line(r, "monitoring", `${metrics} metric(s) x ${table.alarm.usd}/month`, metrics * table.alarm.usd);
        break;
      }
      case "aws_cloudwatch_dashboard":
        line(r, "monitoring", `dashboard ${table.dashboard.usd}/month (the account's first 3 are free)`, table.dashboard.usd);
        break;
      case "aws_route53_health_check": {
        const https = String(c.type ?? "").startsWith("HTTPS");
        line(
          r,
          "edge",
          `health check ${table.healthCheck.usd}${https ? ` + HTTPS ${table.healthCheckHttps.usd}` : ""} per month`,
          table.healthCheck.usd + (https ? table.healthCheckHttps.usd : 0),
        );
        break;
      }
      default:
        if (USAGE_TYPES[r.type]) byUsage(r, USAGE_TYPES[r.type]!);
        // random_* resources live in Terraform's state only: nothing in AWS to pay for.
        else if (!NO_CHARGE_TYPES.has(r.type) && !r.type.startsWith("random_")) missing(r, `type ${r.type} has no entry in the estimate`);
    }
  }
  const byPhase = new Map<string, number>();
  for (const l of lines) byPhase.set(l.phase, usd((byPhase.get(l.phase) ?? 0) + l.monthlyUsd));
  return { region: table.region, lines, usage, unpriced, totalUsd: usd(lines.reduce((a, l) => a + l.monthlyUsd, 0)), byPhase };
}

export interface Lever {
  readonly what: string;
  readonly savesUsd: number;
}

/** What a reviewer could pull, each with the monthly amount it would save on this estimate. */
export function levers(m: EnvModel, e: CostEstimate): Lever[] {
  const sum = (pred: (l: CostLine) => boolean) => e.lines.filter(pred).reduce((a, l) => a + l.monthlyUsd, 0);
  const out: Lever[] = [];
  const cache = sum((l) => l.group === "cache");
  const redis = m.resources.some((r) => r.type === "aws_elasticache_replication_group" && r.config.engine !== "valkey");
  if (cache > 0)
    out.push({ what: `1-year reserved cache nodes (about ${LEVERS.elasticacheReserved * 100}% off)`, savesUsd: usd(cache * LEVERS.elasticacheReserved) });
  if (cache > 0 && redis) out.push({ what: `Valkey instead of Redis OSS (${LEVERS.valkey * 100}% off every node)`, savesUsd: usd(cache * LEVERS.valkey) });
  const db = sum((l) => l.group === "database" && !l.detail.includes("GB gp3"));
  if (db > 0) out.push({ what: `1-year reserved RDS instance (about ${LEVERS.rdsReserved * 100}% off)`, savesUsd: usd(db * LEVERS.rdsReserved) });
  const compute = sum((l) => l.group === "compute");
  if (compute > 0)
    out.push({ what: `Compute Savings Plan on Fargate (about ${LEVERS.fargateSavingsPlan * 100}% off)`, savesUsd: usd(compute * LEVERS.fargateSavingsPlan) });
  if (compute > 0 && e.lines.some((l) => l.group === "compute" && l.detail.endsWith("x86"))) {
    out.push({ what: `ARM (Graviton) Fargate tasks (about ${LEVERS.fargateArm * 100}% off)`, savesUsd: usd(compute * LEVERS.fargateArm) });
  }
  const nat = sum((l) => l.group === "nat");
  const gateways = e.lines.filter((l) => l.group === "nat" && l.address.startsWith("aws_nat_gateway.")).length;
  if (gateways > 0 && !servicesReachInternet(m)) {
    out.push({
      what: `NAT gateways: no security group lets anything out to the internet through them (services_internet_egress is off); all ${gateways} idle`,
      savesUsd: usd(nat),
    });
  } else if (gateways > 1) {
    out.push({ what: `one shared NAT gateway instead of one per zone (loses zone independence)`, savesUsd: usd((nat * (gateways - 1)) / gateways) });
  }
  if (m.env === "staging") {
    // Staging proves prod's shape; where that proof is not needed every day, these halve its largest lines.
    const multiAzDb = e.lines.filter((l) => l.group === "database" && l.detail.includes("Multi-AZ")).reduce((a, l) => a + l.monthlyUsd, 0);
    if (multiAzDb > 0)
      out.push({ what: "a smaller staging: Single-AZ database (the standby and its storage are half the database lines)", savesUsd: usd(multiAzDb / 2) });
    const shards = Math.max(0, ...m.resources.filter((r) => r.type === "aws_elasticache_replication_group").map((r) => num(r.config.num_node_groups) ?? 1));
    if (cache > 0 && shards > 1) out.push({ what: `a smaller staging: one cache shard instead of ${shards}`, savesUsd: usd((cache * (shards - 1)) / shards) });
  }
  return out.sort((a, b) => b.savesUsd - a.savesUsd);
}

/** Whether any egress rule lets a group other than the ALB's reach the internet (0.0.0.0/0 or ::/0). */
export function servicesReachInternet(m: EnvModel): boolean {
  return m.resources.some((r) => r.type === "aws_vpc_security_group_egress_rule" && (r.config.cidr_ipv4 === "0.0.0.0/0" || r.config.cidr_ipv6 === "::/0"));
}
