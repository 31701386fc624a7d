import { EnvironmentName, ServiceName } from "../naming";
import { ServiceSize, perService } from "./services";

export type { ServiceSize } from "./services";

/** The PostgreSQL instance's size and backups: the rds construct takes these as they are. */
export interface DatabaseSize {
  /** Major version (`15`) or exact version; the parameter group family follows its major version. */
  readonly engineVersion: string;
  readonly instanceClass: string;
  /** A synchronous standby in another zone (failover in minutes, no data loss). */
  readonly multiAz: boolean;
  readonly allocatedStorageGb: number;
  /** Storage autoscaling ceiling. */
  readonly maxAllocatedStorageGb: number;
  /** Days of automated backups and point-in-time recovery (1 to 35). */
  readonly backupRetentionDays: number;
}

/** The Redis cluster's shape and snapshots: the redis construct takes these as they are. */
export interface CacheSize {
  readonly nodeType: string;
  /** Cluster-mode shards (node groups); nodes = shards x (1 + replicasPerShard). */
  readonly shards: number;
  /** Replicas of each shard's primary; with at least one, failover and Multi-AZ are on. */
  readonly replicasPerShard: number;
  /** Days of daily snapshots kept (0 turns snapshots off, which the guardrails refuse). */
  readonly snapshotRetentionDays: number;
}

/**
 * The sizing profile of an environment: everything that is a choice of shape and cost rather than an
 * account-specific value. Settings from terraform.tfvars are merged over it.
 */
export interface SizingProfile {
  /** Default number of availability zones (the region's a, b, c...). */
  readonly azCount: number;
  /** Fewest availability zones the settings may ask for. */
  readonly minAzCount: number;
  /** Default VPC CIDR; the defaults of the three environments do not overlap so they can be peered. */
  readonly vpcCidr: string;
  /** One NAT gateway per AZ (no cross-AZ dependency) or a single one (dev: cost). */
  readonly natGateways: "per-az" | "single";
  /** Interface endpoints keep AWS API traffic (ECR, Logs, Secrets Manager, KMS) off the NAT gateways. */
  readonly interfaceEndpoints: boolean;
  /** KMS key deletion window: long in prod, so a scheduled deletion can be noticed and cancelled. */
  readonly kmsDeletionWindowDays: number;
  /** `prevent_destroy` on what holds data (keys, databases, caches, buckets); dev can be torn down. */
  readonly preventDestroy: boolean;
  /** Fewest tasks a service may run (prod keeps two, so one AZ can fail). */
  readonly minServiceCount: number;
  /**
   * Autoscaling ceiling of each service, as a multiple of its desired count: what the account's
   * capacity (Fargate vCPU quota) must allow (`make preflight`).
   */
  readonly scaleOutFactor: number;
  readonly services: Readonly<Record<ServiceName, ServiceSize>>;
  readonly database: DatabaseSize;
  readonly cache: CacheSize;
  readonly monthlyBudgetUsd: number;
  /** Guardrails fail the synth (`enforce`) or print what they found (`report`). */
  readonly guardrails: "enforce" | "report";
  /**
   * How the API gateway is released: `blue-green` (CodeDeploy shifts the ALB between two target
   * groups, with a test listener) or `rolling` (one target group).
   */
  readonly gatewayReleases: "blue-green" | "rolling";
  /**
   * Days the application log groups (the services', PostgreSQL's, Redis's) keep their events: one of
   * CloudWatch Logs' values (CLOUDWATCH_RETENTION_DAYS). The retention guardrail holds each environment
   * to its own value. Audit evidence keeps its three years everywhere (AUDIT_LOG_RETENTION_DAYS).
   */
  readonly applicationLogRetentionDays: number;
}

/** The production guide's table: 3 AZs, the five services at their sizes, PG15 r6g.xlarge Multi-AZ, Redis 9 nodes. */
const prod: SizingProfile = {
  azCount: 3,
  minAzCount: 3,
  vpcCidr: "10.30.0.0/16",
  natGateways: "per-az",
  interfaceEndpoints: true,
  kmsDeletionWindowDays: 30,
  preventDestroy: true,
  minServiceCount: 2,
  scaleOutFactor: 3,
  services: perService((s) => s.production),
  database: {
    engineVersion: "15",
    instanceClass: "db.r6g.xlarge",
    multiAz: true,
    allocatedStorageGb: 100,
    maxAllocatedStorageGb: 1000,
    backupRetentionDays: 30,
  },
  cache: { nodeType: "cache.r6g.xlarge", shards: 3, replicasPerShard: 2, snapshotRetentionDays: 30 },
  monthlyBudgetUsd: 3000,
  guardrails: "enforce",
  gatewayReleases: "blue-green",
  // The guide's RGPD table lists "CloudTrail + Application logs" under audit logs: "Retention 3 ans".
  applicationLogRetentionDays: 1096,
};

/** Prod-shaped (same task sizes, Multi-AZ, 3 AZs, clustered cache) at lower counts. */
const staging: SizingProfile = {
  ...prod,
  vpcCidr: "10.20.0.0/16",
  kmsDeletionWindowDays: 30,
  minServiceCount: 1,
  scaleOutFactor: 2,
  // Production task sizes (load tests there predict prod), one task fewer than prod, at least one.
  services: perService((s) => ({ ...s.production, desiredCount: Math.max(1, s.production.desiredCount - 1) })),
  database: { ...prod.database, instanceClass: "db.r6g.large", allocatedStorageGb: 50, maxAllocatedStorageGb: 200, backupRetentionDays: 14 },
  cache: { nodeType: "cache.r6g.large", shards: 3, replicasPerShard: 1, snapshotRetentionDays: 7 },
  monthlyBudgetUsd: 1000,
  // Prod-shaped, with prod's protections: a regression that would fail prod fails here first.
  guardrails: "enforce",
  // A year: enough to compare with last year's release, without prod's three years of storage.
  applicationLogRetentionDays: 365,
};

/** Services that answer every authorization request: dev gives them more room than the others. */
const DEV_REQUEST_PATH: ReadonlySet<ServiceName> = new Set(["aw-api-gateway", "aw-pdp-service"]);

/** The cheapest shape that still runs every service: 2 AZs, one NAT, one task each, burstable instances. */
const dev: SizingProfile = {
  azCount: 2,
  minAzCount: 2,
  vpcCidr: "10.10.0.0/16",
  natGateways: "single",
  interfaceEndpoints: false,
  kmsDeletionWindowDays: 7,
  preventDestroy: false,
  minServiceCount: 1,
  scaleOutFactor: 2,
  // One task each at the smallest Fargate sizes the JVMs start in: 512/1 GB on the request path, 256/512 MB elsewhere.
  services: perService((s) => (DEV_REQUEST_PATH.has(s.name) ? { cpu: 512, memory: 1024, desiredCount: 1 } : { cpu: 256, memory: 512, desiredCount: 1 })),
  database: {
    engineVersion: "15",
    instanceClass: "db.t4g.micro",
    multiAz: false,
    allocatedStorageGb: 20,
    maxAllocatedStorageGb: 50,
    backupRetentionDays: 7,
  },
  cache: { nodeType: "cache.t4g.micro", shards: 1, replicasPerShard: 0, snapshotRetentionDays: 1 },
  monthlyBudgetUsd: 300,
  guardrails: "report",
  gatewayReleases: "rolling",
  // Debugging this month's work; nothing in dev is evidence.
  applicationLogRetentionDays: 30,
};

export const PROFILES: Readonly<Record<EnvironmentName, SizingProfile>> = { dev, staging, prod };

/** Most availability zones the subnet layout has room for (four slots per tier). */
export const MAX_AZ_COUNT = 4;
/** Upper bound on any service's task count set from the settings. */
export const MAX_SERVICE_COUNT = 50;
export const POSTGRES_PORT = 5432;
export const REDIS_PORT = 6379;

/**
 * What a log group is, declared where it is created: `application` logs (services, databases) are kept
 * as long as the environment's profile says (applicationLogRetentionDays); `audit` evidence (flow logs,
 * the trail, access logs) three years everywhere (guide, RGPD: "Retention 3 ans").
 */
export const LOG_CLASSES = ["application", "audit"] as const;
export type LogClass = (typeof LOG_CLASSES)[number];
/** Application retention where no environment is known (a construct used outside an environment's stacks). */
export const LOG_RETENTION_DAYS = 365;
export const AUDIT_LOG_RETENTION_DAYS = 1096;
export const MIN_RETENTION_DAYS: Readonly<Record<LogClass, number>> = { application: LOG_RETENTION_DAYS, audit: AUDIT_LOG_RETENTION_DAYS };

/** The retention values CloudWatch Logs accepts (PutRetentionPolicy); any other is refused at apply. */
export const CLOUDWATCH_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/**
 * The least retention a log group of `logClass` may have in `env`: audit evidence three years; application
 * logs the environment's profile value (without an environment, MIN_RETENTION_DAYS).
 */
export function leastRetentionDays(logClass: LogClass, env?: EnvironmentName): number {
  return logClass === "application" && env ? PROFILES[env].applicationLogRetentionDays : MIN_RETENTION_DAYS[logClass];
}
