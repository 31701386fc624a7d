/**
 * The naming and tagging contract. The guide's runbooks call resources by these names, so every
 * construct, stack and script takes its names from here and nowhere else. Every name is checked
 * against the AWS limit of the resource that carries it when it is built: a name that AWS would
 * refuse stops the synth here, not an apply later.
 */

import { createHash } from "crypto";

export const PROJECT = "accessweaver";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

export function isEnvironmentName(value: string): value is EnvironmentName {
  return (ENVIRONMENTS as readonly string[]).includes(value);
}

/**
 * Deployment phases, in apply order. A stack exists for each phase that has been built; `recovery` only
 * where the environment has a `dr_region` (its provider and state are in that region).
 */
export const PHASES = ["network", "database", "cache", "loadbalancer", "services", "observability", "recovery"] as const;
export type PhaseName = (typeof PHASES)[number];

/** The five AccessWeaver services, by their container and ECS service suffix (facts in config/services.ts). */
export const SERVICES = ["aw-api-gateway", "aw-pdp-service", "aw-pap-service", "aw-tenant-service", "aw-audit-service"] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Security-group tiers created by the network phase and used by later phases. */
export const TIERS = ["alb", "services", "database", "cache"] as const;
export type Tier = (typeof TIERS)[number];
/** Every security group of the network phase: the tiers and the interface endpoints' group. */
export const SECURITY_GROUPS = [...TIERS, "endpoints"] as const;
export type SecurityGroupName = (typeof SECURITY_GROUPS)[number];

/** The application secrets in Secrets Manager, `accessweaver/<env>/<kind>` (guide, "Secrets Management"). */
export const SECRET_KINDS = ["database", "redis", "jwt"] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

/** The ALB's listeners: HTTP redirect, HTTPS production, blue/green test. */
export const ALB_LISTENERS = ["http", "https", "test"] as const;
export type AlbListenerName = (typeof ALB_LISTENERS)[number];

/** The observability phase's EventBridge rules, `accessweaver-<env>-<rule>`: each notifies the alerts topic. */
export const EVENT_RULES = ["ecs-deployment-failures", "codedeploy-deployment-failures", "guardduty-findings", "cache-events", "secret-rotations"] as const;
/** The recovery phase's EventBridge rules (primary region): copies that stopped or failed notify the alerts topic. */
export const RECOVERY_EVENT_RULES = ["backup-replication", "image-replication", "image-replication-forward"] as const;

/** The two target groups of a blue/green release (CodeDeploy shifts the listener between them). */
export type DeploymentSlot = "blue" | "green";

/**
 * AWS's limits on the names this project builds, by the resource that carries the name: the longest
 * name AWS accepts and the characters it allows. Sources: each service's API reference (CreateX, the
 * Name parameter) and the provider's argument reference.
 */
export const NAME_RULES = {
  s3Bucket: { max: 63, pattern: /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, what: "S3 bucket (3-63 lower-case letters, digits, dots, hyphens; globally unique)" },
  dynamodbTable: { max: 255, pattern: /^[A-Za-z0-9_.-]{3,}$/, what: "DynamoDB table" },
  tagValue: { max: 256, pattern: /^.+$/, what: "tag value (Name)" },
  securityGroup: { max: 255, pattern: /^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]+$/, what: "security group" },
  kmsAlias: { max: 256, pattern: /^alias\/(?!aws\/)[A-Za-z0-9/_-]+$/, what: "KMS alias" },
  logGroup: { max: 512, pattern: /^[A-Za-z0-9_\-/.#]+$/, what: "CloudWatch log group" },
  iamRole: { max: 64, pattern: /^[\w+=,.@-]+$/, what: "IAM role" },
  iamPolicy: { max: 128, pattern: /^[\w+=,.@-]+$/, what: "IAM policy" },
  ecsName: { max: 255, pattern: /^[A-Za-z0-9_-]+$/, what: "ECS cluster, service or task family" },
  loadBalancer: { max: 32, pattern: /^(?!internal-)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/, what: "load balancer" },
  targetGroup: { max: 32, pattern: /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/, what: "target group" },
  rdsIdentifier: { max: 63, pattern: /^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$/, what: "RDS identifier (instance, parameter group, snapshot)" },
  rdsSubnetGroup: { max: 255, pattern: /^[a-z0-9 ._-]+$/, what: "DB subnet group" },
  elasticacheGroup: { max: 40, pattern: /^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$/, what: "ElastiCache replication group" },
  elasticacheName: { max: 255, pattern: /^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$/, what: "ElastiCache subnet or parameter group" },
  secret: { max: 512, pattern: /^[A-Za-z0-9/_+=.@-]+$/, what: "Secrets Manager secret" },
  alarm: { max: 255, pattern: /^[^\s][ -~]*$/, what: "CloudWatch alarm" },
  dashboard: { max: 255, pattern: /^[A-Za-z0-9_-]+$/, what: "CloudWatch dashboard" },
  snsTopic: { max: 256, pattern: /^[A-Za-z0-9_-]+$/, what: "SNS topic" },
  wafName: { max: 128, pattern: /^[\w-]+$/, what: "WAF web ACL or rule" },
  codedeploy: { max: 100, pattern: /^[A-Za-z0-9_.+=,@-]+$/, what: "CodeDeploy application or deployment group" },
  budget: { max: 100, pattern: /^[^:\\]+$/, what: "budget" },
  trail: { max: 128, pattern: /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/, what: "CloudTrail trail" },
  scalingPolicy: { max: 256, pattern: /^[^:]+$/, what: "Application Auto Scaling policy" },
  dnsNamespace: { max: 253, pattern: /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/, what: "Cloud Map private DNS namespace" },
  dnsLabel: { max: 63, pattern: /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, what: "Cloud Map service (one DNS label)" },
  eventRule: { max: 64, pattern: /^[.\-_A-Za-z0-9]+$/, what: "EventBridge rule" },
  metricFilter: { max: 512, pattern: /^[^:*]+$/, what: "CloudWatch Logs metric filter" },
  metricName: { max: 255, pattern: /^[^:*$]+$/, what: "CloudWatch metric name or namespace" },
} as const satisfies Record<string, { max: number; pattern: RegExp; what: string }>;
export type NameKind = keyof typeof NAME_RULES;

/** Why AWS would refuse `name` as a `kind`, or undefined when it fits. */
export function nameProblem(kind: NameKind, name: string): string | undefined {
  const rule = NAME_RULES[kind];
  if (name.length > rule.max) return `"${name}" is ${name.length} characters; a ${rule.what} name allows at most ${rule.max}`;
  if (!rule.pattern.test(name)) return `"${name}" does not match what a ${rule.what} name allows (${rule.pattern})`;
  return undefined;
}

/** `name`, after checking it fits a `kind`: an over-long or malformed name stops the synth, naming the limit. */
function fit(kind: NameKind, name: string): string {
  const problem = nameProblem(kind, name);
  if (problem) throw new Error(`Name too long or malformed for AWS: ${problem}. Shorten it in src/naming.ts.`);
  return name;
}

/**
 * A name for a resource that is replaced by creating the new one first (`create_before_destroy`): AWS
 * refuses a second resource of the same name, so the name carries a hash of the arguments whose change
 * forces the replacement (`<base>-<8 hex>`). A change of any of them gives a new name, and the new
 * resource is created beside the old one. The replaceable-names guardrail recomputes it.
 */
export function replaceableName(base: string, forceNew: readonly string[]): string {
  return `${base}-${replacementHash(forceNew)}`;
}

/** The 8-hex suffix of `replaceableName`: SHA-256 of the force-new values, in order. */
export function replacementHash(forceNew: readonly string[]): string {
  return createHash("sha256").update(JSON.stringify(forceNew)).digest("hex").slice(0, 8);
}

/** `aw-pdp-service` -> `pdp`: the service part of names that must stay short (target groups, scaling policies). */
export function shortService(service: ServiceName): string {
  return service.replace(/^aw-/, "").replace(/-service$/, "");
}

const TITLES: Record<EnvironmentName, string> = { dev: "Development", staging: "Staging", prod: "Production" };

/**
 * Where an environment runs: its own region, or `dr_region` after a restore ("Region loss"). The DR
 * environment keeps the guide's regional names, so the runbooks work with `--region`; the names AWS
 * keeps global (IAM roles, S3 buckets, dashboards, budgets, health-check names, and the us-east-1
 * availability topic both sites share a region for) carry `-dr`, because the primary's usually still exist.
 */
export type Site = "primary" | "dr";

/** The phases of the DR environment: every phase but recovery (the copies it restores from). */
export const DR_PHASES = PHASES.filter((p): p is Exclude<PhaseName, "recovery"> => p !== "recovery");
export type DrPhaseName = (typeof DR_PHASES)[number];

/** All names of one environment. `names("prod").cluster` is `accessweaver-prod-cluster`. */
export function names(env: EnvironmentName, site: Site = "primary") {
  const prefix = `${PROJECT}-${env}`;
  const dr = site === "dr";
  /** The prefix of the names AWS keeps global: `accessweaver-prod-dr` in the DR environment. */
  const global = dr ? `${prefix}-dr` : prefix;
  const title = `AccessWeaver-${TITLES[env]}${dr ? "-DR" : ""}`;
  const database = fit("rdsIdentifier", `${prefix}-postgres`);
  const redis = fit("elasticacheGroup", `${prefix}-redis`);
  return {
    env,
    site,
    prefix,
    /** `accessweaver-prod-network`; in the DR environment `accessweaver-prod-dr-network`. */
    stack: (phase: PhaseName) => `${global}-${phase}`,
    /** A stack of the DR environment, from either site's names. */
    drStack: (phase: PhaseName) => `${prefix}-dr-${phase}`,
    stateBucket: (accountId: string) => fit("s3Bucket", `${PROJECT}-terraform-state-${env}-${accountId}`),
    lockTable: fit("dynamodbTable", `${PROJECT}-terraform-locks-${env}`),
    /** `prod/network/terraform.tfstate`; the DR environment's `prod/dr/network/...`, beside the primary's replicated states. */
    stateKey: (phase: PhaseName) => (dr ? `${env}/dr/${phase}/terraform.tfstate` : `${env}/${phase}/terraform.tfstate`),
    /**
     * The backend in the DR region (scripts/setup-backend.sh): the recovery phase's state, and the replicas
     * of the primary bucket's state files. Its lock table keeps the primary's name (tables are regional).
     */
    drStateBucket: (accountId: string) => fit("s3Bucket", `${PROJECT}-terraform-state-${env}-dr-${accountId}`),
    /** The role S3 assumes to replicate the state bucket to the DR one (made by setup-backend.sh). */
    stateReplicationRole: fit("iamRole", `${PROJECT}-terraform-state-replication-${env}`),

    // network
    vpc: fit("tagValue", `${prefix}-vpc`),
    subnet: (tier: "public" | "private" | "database", az: string) => fit("tagValue", `${prefix}-${tier}-${az}`),
    routeTable: (tier: string) => fit("tagValue", `${prefix}-${tier}`),
    natGateway: (az: string) => fit("tagValue", `${prefix}-nat-${az}`),
    natEip: (az: string) => fit("tagValue", `${prefix}-nat-${az}-eip`),
    internetGateway: fit("tagValue", `${prefix}-igw`),
    defaultSecurityGroup: fit("tagValue", `${prefix}-default-unused`),
    endpoint: (service: string) => fit("tagValue", `${prefix}-${service.replace(/\./g, "-")}-endpoint`),
    flowLog: fit("tagValue", `${prefix}-flow-logs`),
    securityGroup: (group: SecurityGroupName) => fit("securityGroup", `${prefix}-${group}`),
    flowLogGroup: fit("logGroup", `/aws/vpc/${prefix}/flow-logs`),
    flowLogRole: fit("iamRole", `${global}-vpc-flow-logs`),
    kmsAlias: fit("kmsAlias", `alias/${prefix}`),
    networkAcl: (tier: "default" | "database") => fit("tagValue", `${prefix}-${tier}-nacl`),
    defaultRouteTable: fit("tagValue", `${prefix}-default-no-routes`),
    /**
     * Name prefixes of every log group this project creates: the key policy lets CloudWatch Logs use the
     * key for these only, so a new log group name needs its prefix here (a test checks every one).
     */
    logGroupPrefixes: [
      `/aws/vpc/${prefix}/`,
      `/ecs/${prefix}/`,
      `/aws/rds/instance/${database}/`,
      `/aws/elasticache/${redis}/`,
      `aws-waf-logs-${prefix}`,
      `/aws/cloudtrail/${prefix}`,
    ],
    eventRule: (rule: string) => fit("eventRule", `${prefix}-${rule}`),
    /** Every EventBridge rule of the environment, for ARN patterns in policies. */
    eventRulePattern: `${prefix}-*`,

    // database and cache
    database,
    databaseSubnetGroup: fit("rdsSubnetGroup", database),
    /** `accessweaver-prod-postgres15-<hash of family and description>`: replaced by creating the new one first. */
    databaseParameterGroup: (family: string, description: string) =>
      fit("rdsIdentifier", replaceableName(`${database}${family.replace(/^postgres/, "")}`, [family, description])),
    databaseFinalSnapshot: fit("rdsIdentifier", `${database}-final`),
    databaseMonitoringRole: fit("iamRole", `${global}-rds-monitoring`),
    /** RDS's event subscription of the instance, to the alerts topic (the observability phase). */
    databaseEventSubscription: fit("rdsIdentifier", `${database}-events`),
    databaseLogGroup: (log: "postgresql" | "upgrade") => fit("logGroup", `/aws/rds/instance/${database}/${log}`),
    redis,
    redisSubnetGroup: fit("elasticacheName", redis),
    /** `accessweaver-prod-redis7-<hash of family and description>`, as the database's. */
    redisParameterGroup: (family: string, description: string) =>
      fit("elasticacheName", replaceableName(`${redis}${family.replace(/^redis/, "")}`, [family, description])),
    redisLogGroup: (log: "slow-log" | "engine-log") => fit("logGroup", `/aws/elasticache/${redis}/${log}`),
    redisFinalSnapshot: fit("elasticacheName", `${redis}-final`),
    secret: (kind: SecretKind) => fit("secret", `${PROJECT}/${env}/${kind}`),

    // load balancer
    alb: fit("loadBalancer", `${prefix}-alb`),
    /** `aw-<env>-<service>[-blue|-green]`: target groups allow 32 characters, too few for the prefix. */
    targetGroup: (service: ServiceName, slot?: DeploymentSlot) => fit("targetGroup", `aw-${env}-${shortService(service)}${slot ? `-${slot}` : ""}`),
    /** Name tags of the ALB's listeners and its production rule. */
    albListener: (listener: AlbListenerName) => fit("tagValue", `${prefix}-alb-${listener}`),
    albLogsBucket: (accountId: string) => fit("s3Bucket", `${global}-alb-access-logs-${accountId}`),
    webAcl: fit("wafName", `${prefix}-waf`),
    /** WAF logs only to log groups whose name starts with `aws-waf-logs-`. */
    wafLogGroup: fit("logGroup", `aws-waf-logs-${prefix}`),
    /** The guide samples it: `aws wafv2 get-sampled-requests --rule-metric-name RateLimitMetric`. */
    wafRateLimitMetric: fit("wafName", "RateLimitMetric"),
    certificate: fit("tagValue", `${prefix}-api-certificate`),
    apiHealthCheck: fit("tagValue", `${global}-api-health`),

    // services
    cluster: fit("ecsName", `${prefix}-cluster`),
    service: (service: ServiceName) => fit("ecsName", `${prefix}-${service}`),
    taskFamily: (service: ServiceName) => fit("ecsName", `${prefix}-${service}`),
    serviceLogGroup: (service: ServiceName) => fit("logGroup", `/ecs/${prefix}/${service}`),
    taskExecutionRole: (service: ServiceName) => fit("iamRole", `${global}-${service}-execution`),
    taskRole: (service: ServiceName) => fit("iamRole", `${global}-${service}-task`),
    /** The guide's `accessweaver-prod-pdp-cpu-scaling`. */
    scalingPolicy: (service: ServiceName, metric: string) => fit("scalingPolicy", `${prefix}-${shortService(service)}-${metric}-scaling`),
    codedeployApp: (service: ServiceName) => fit("codedeploy", `${prefix}-${service}`),
    codedeployGroup: (service: ServiceName) => fit("codedeploy", `${prefix}-${service}`),
    codedeployRole: fit("iamRole", `${global}-codedeploy`),
    /** Private DNS zone the internal services register in: `aw-pdp-service.accessweaver-prod.local`. */
    serviceNamespace: fit("dnsNamespace", `${prefix}.local`),
    discoveryService: (service: ServiceName) => fit("dnsLabel", service),
    /**
     * The PostgreSQL role a service that uses the database logs in as (`aw_pdp`): IAM authentication only,
     * no password (docs/data-tier.md, "Database roles"). Lower-case letters, digits and underscores, so SQL
     * and the `rds-db:connect` ARN name it without quoting; the db-roles construct checks it.
     */
    databaseRole: (service: ServiceName) => `aw_${shortService(service).replace(/-/g, "_")}`,
    /** The one-off task that creates those roles (`make db-roles`): its family, log group and roles. */
    dbRolesTaskFamily: fit("ecsName", `${prefix}-db-roles`),
    dbRolesLogGroup: fit("logGroup", `/ecs/${prefix}/db-roles`),
    dbRolesExecutionRole: fit("iamRole", `${global}-db-roles-execution`),
    dbRolesTaskRole: fit("iamRole", `${global}-db-roles-task`),

    // observability
    alarm: (metric: string) => fit("alarm", `${prefix}-${metric}`),
    alertsTopic: fit("snsTopic", `${prefix}-alerts`),
    criticalTopic: fit("snsTopic", `${prefix}-alerts-critical`),
    /** The Route 53 health-check alarm's topic, in us-east-1 (Route 53 publishes its metrics there only). */
    availabilityTopic: fit("snsTopic", `${global}-alerts-availability`),
    /** Encrypts that topic: KMS keys are regional, so it has its own key in us-east-1. */
    availabilityKeyAlias: fit("kmsAlias", `alias/${global}-alerts-availability`),
    /** Namespace of the metrics this project derives from logs (metric filters). */
    logMetricNamespace: fit("metricName", `AccessWeaver/${env}`),
    /** The metric filter counting a service's ERROR lines, on its log group (the services phase). */
    errorLogFilter: (service: ServiceName) => fit("metricFilter", `${prefix}-${service}-error-logs`),
    /** Its metric, in `logMetricNamespace`. */
    errorLogMetric: (service: ServiceName) => fit("metricName", `${service}-error-logs`),
    trail: fit("trail", `${prefix}-audit-trail`),
    trailLogGroup: fit("logGroup", `/aws/cloudtrail/${prefix}`),
    /** The role CloudTrail assumes to write the trail to its log group. */
    trailLogsRole: fit("iamRole", `${global}-cloudtrail-logs`),
    /** The guide names it `accessweaver-prod-audit-logs`; bucket names are global, so the account id is added. */
    auditBucket: (accountId: string) => fit("s3Bucket", `${global}-audit-logs-${accountId}`),
    dashboard: fit("dashboard", title),

    // recovery (in dr_region)
    /** The DR region's key: every copy there is encrypted with it (it is made by the network phase, see docs/disaster-recovery.md). */
    drKmsAlias: fit("kmsAlias", `alias/${prefix}-dr`),
    /** The audit bucket's replica in the DR region, with the same Object Lock mode and retention. */
    auditReplicaBucket: (accountId: string) => fit("s3Bucket", `${global}-audit-logs-dr-${accountId}`),
    /** The role S3 assumes to replicate the audit bucket. */
    auditReplicationRole: fit("iamRole", `${global}-audit-replication`),
    /** The S3 replication rule of the audit bucket (its metrics' RuleId dimension). */
    auditReplicationRule: "audit-to-dr-region",
    /** The role ECR uses to create the replicated repositories in the DR region (KMS-encrypted). */
    ecrReplicationRole: fit("iamRole", `${global}-ecr-replication`),
    /** The role EventBridge in the DR region uses to forward replication failures to the primary region's bus. */
    drEventForwardingRole: fit("iamRole", `${global}-dr-event-forwarding`),
    budget: fit("budget", `${title}-Monthly`),
    /** The account-wide budget beside the environment's: spend that carries no Environment tag counts there only. */
    accountBudget: fit("budget", `${title}-Account-Monthly`),

    // drills, restore tests and the cache client (docs/drills.md)
    /** The Name tag of a drill's FIS experiment template: `accessweaver-prod-drill-db-failover`. */
    drillTemplate: (scenario: DrillScenario) => fit("tagValue", `${prefix}-drill-${scenario}`),
    /** The role FIS assumes to run the drills (its policy names this environment's resources only). */
    fisRole: fit("iamRole", `${global}-fis`),
    /**
     * The drills' experiment log. Under `/ecs/<prefix>/` because the environment's key lets CloudWatch Logs
     * encrypt only the prefixes of `logGroupPrefixes`, and the drills act on the cluster's environment.
     */
    drillLogGroup: fit("logGroup", `/ecs/${prefix}/drills`),
    /**
     * AWS Backup's vault, plan and selection of the database (restore tests need AWS Backup recovery points).
     * AWS Backup allows 2 to 50 letters, digits, hyphens and underscores (the selection: 1 to 50, dots too):
     * checked against the ElastiCache group rule, the strictest of NAME_RULES, which lies inside both.
     */
    backupVault: fit("elasticacheGroup", `${prefix}-database`),
    backupPlan: fit("elasticacheGroup", `${prefix}-database`),
    backupSelection: fit("elasticacheGroup", `${prefix}-postgres`),
    /** The role AWS Backup assumes to back the database up and to run its restore tests. */
    backupRole: fit("iamRole", `${global}-backup`),
    /**
     * Restore testing names allow letters, digits and underscores only, 50 at most: the hyphenated name is
     * checked as above (same length, same letters and digits), then its hyphens become underscores.
     */
    restoreTestingPlan: fit("elasticacheGroup", `${prefix}-database`).replace(/-/g, "_"),
    restoreTestingSelection: fit("elasticacheGroup", `${prefix}-postgres`).replace(/-/g, "_"),
    /**
     * The restore test's validation: a Step Functions state machine (1 to 80 letters, digits, hyphens and
     * underscores: checked against the ElastiCache group rule as above), the role it runs as, and the role
     * EventBridge uses to start it.
     */
    restoreValidationStateMachine: fit("elasticacheGroup", `${prefix}-restore-validation`),
    restoreValidationRole: fit("iamRole", `${global}-restore-validation`),
    restoreValidationStartRole: fit("iamRole", `${global}-restore-validation-start`),
    /** The one-off redis-cli task (TLS, AUTH, cluster mode) that make cache-flush runs: family, log group, roles. */
    cacheClientTaskFamily: fit("ecsName", `${prefix}-cache-client`),
    cacheClientLogGroup: fit("logGroup", `/ecs/${prefix}/cache-client`),
    cacheClientExecutionRole: fit("iamRole", `${global}-cache-client-execution`),
    cacheClientTaskRole: fit("iamRole", `${global}-cache-client-task`),
  };
}
export type Names = ReturnType<typeof names>;

/** The environment of a phase stack from its name (`accessweaver-prod-services`), or undefined for any other name. */
export function stackEnvironment(stackName: string): EnvironmentName | undefined {
  return ENVIRONMENTS.find((env) => PHASES.some((phase) => names(env).stack(phase) === stackName));
}

/**
 * The alarms of the observability phase, by what they watch (`names().alarm(what)`): a string, or per
 * service. A test checks that every alarm the phase synthesizes, in every environment, is listed here.
 */
export const OBSERVABILITY_ALARMS: readonly (string | ((s: ServiceName) => string[]))[] = [
  "alb-response-time",
  "alb-5xx-rate",
  "waf-blocked-requests",
  "route53-health-check",
  // The DR environment's, in us-east-1 beside the primary's (Region loss).
  "dr-route53-health-check",
  "acm-certificate-expiry",
  (s) => (["blue", "green", undefined] as const).map((slot) => unhealthyTargetsAlarm(s, slot)),
  (s) => ["cpu-utilization", "memory-utilization", "running-tasks-below-desired", "error-logs"].map((m) => `${s}-${m}`),
  "rds-cpu-utilization",
  "rds-free-storage",
  "rds-connections",
  "rds-read-latency",
  "rds-write-latency",
  "redis-engine-cpu-utilization",
  "redis-memory-utilization",
  "redis-evictions",
  "redis-replication-lag",
  // One per shard, up to ElastiCache's limit of node groups in a cluster-mode replication group.
  ...Array.from({ length: 500 }, (_, i) => redisHitRatioAlarm(i + 1)),
];

/** The recovery phase's alarms on the copies themselves (`names().alarm(what)`), in the primary region. */
export const RECOVERY_ALARMS = ["audit-replication-failed", "audit-replication-latency"] as const;

/** `aw-api-gateway-unhealthy-targets[-blue|-green]`. */
export function unhealthyTargetsAlarm(service: ServiceName, slot?: DeploymentSlot): string {
  return `${service}-unhealthy-targets${slot ? `-${slot}` : ""}`;
}

/** One hit-ratio alarm per shard (`redis-cache-hit-ratio-0001`), numbered as ElastiCache numbers node groups. */
export function redisHitRatioAlarm(shard: number): string {
  return `redis-cache-hit-ratio-${String(shard).padStart(4, "0")}`;
}

/** One name that the project builds, with the kind of resource that carries it. */
export interface NamedResource {
  /** The key of `names()` that builds it. */
  readonly key: keyof Names;
  readonly kind: NameKind | "internal";
  readonly name: string;
}

/**
 * Every name `names(env)` can build, each function called over its whole domain (every phase, service,
 * slot, group, secret) and, where the domain is open (zones, alarm metrics), with the longest values
 * this project uses: the test that checks every name against its limit reads this list.
 */
export function nameInventory(env: EnvironmentName, accountId: string, zones: readonly string[], site: Site = "primary"): NamedResource[] {
  const n = names(env, site);
  const out: NamedResource[] = [];
  const add = (key: keyof Names, kind: NamedResource["kind"], ...values: string[]) => values.forEach((name) => out.push({ key, kind, name }));
  add("env", "internal", n.env);
  add("site", "internal", n.site);
  add("prefix", "internal", n.prefix);
  add("stack", "internal", ...PHASES.map(n.stack));
  add("drStack", "internal", ...PHASES.map(n.drStack));
  add("stateKey", "internal", ...PHASES.map(n.stateKey));
  add("stateBucket", "s3Bucket", n.stateBucket(accountId));
  add("lockTable", "dynamodbTable", n.lockTable);
  for (const key of ["vpc", "internetGateway", "defaultSecurityGroup", "flowLog"] as const) add(key, "tagValue", n[key]);
  add("subnet", "tagValue", ...zones.flatMap((az) => (["public", "private", "database"] as const).map((t) => n.subnet(t, az))));
  add("routeTable", "tagValue", ...["public", "database", ...zones.map((az) => `private-${az}`)].map(n.routeTable));
  add("natGateway", "tagValue", ...zones.map(n.natGateway));
  add("natEip", "tagValue", ...zones.map(n.natEip));
  add("endpoint", "tagValue", ...["s3", "ecr.api", "ecr.dkr", "logs", "secretsmanager", "kms"].map(n.endpoint));
  add("securityGroup", "securityGroup", ...SECURITY_GROUPS.map(n.securityGroup));
  add("flowLogGroup", "logGroup", n.flowLogGroup);
  add("flowLogRole", "iamRole", n.flowLogRole);
  add("kmsAlias", "kmsAlias", n.kmsAlias);
  add("networkAcl", "tagValue", n.networkAcl("default"), n.networkAcl("database"));
  add("defaultRouteTable", "tagValue", n.defaultRouteTable);
  add("logGroupPrefixes", "internal", ...n.logGroupPrefixes);
  add("eventRule", "eventRule", ...EVENT_RULES.map(n.eventRule), ...RECOVERY_EVENT_RULES.map(n.eventRule));
  add("eventRulePattern", "internal", n.eventRulePattern);
  add("database", "rdsIdentifier", n.database);
  add("databaseSubnetGroup", "rdsSubnetGroup", n.databaseSubnetGroup);
  add("databaseParameterGroup", "rdsIdentifier", n.databaseParameterGroup("postgres17", "any description"));
  add("databaseEventSubscription", "rdsIdentifier", n.databaseEventSubscription);
  add("databaseFinalSnapshot", "rdsIdentifier", n.databaseFinalSnapshot);
  add("databaseMonitoringRole", "iamRole", n.databaseMonitoringRole);
  add("databaseLogGroup", "logGroup", n.databaseLogGroup("postgresql"), n.databaseLogGroup("upgrade"));
  add("redis", "elasticacheGroup", n.redis);
  add("redisSubnetGroup", "elasticacheName", n.redisSubnetGroup);
  add("redisParameterGroup", "elasticacheName", n.redisParameterGroup("redis7", "any description"));
  add("redisLogGroup", "logGroup", n.redisLogGroup("slow-log"), n.redisLogGroup("engine-log"));
  add("redisFinalSnapshot", "elasticacheName", n.redisFinalSnapshot);
  add("secret", "secret", ...SECRET_KINDS.map(n.secret));
  add("alb", "loadBalancer", n.alb);
  add("targetGroup", "targetGroup", ...SERVICES.flatMap((s) => [n.targetGroup(s), n.targetGroup(s, "blue"), n.targetGroup(s, "green")]));
  add("albListener", "tagValue", ...ALB_LISTENERS.map(n.albListener));
  add("albLogsBucket", "s3Bucket", n.albLogsBucket(accountId));
  add("webAcl", "wafName", n.webAcl);
  add("wafLogGroup", "logGroup", n.wafLogGroup);
  add("wafRateLimitMetric", "wafName", n.wafRateLimitMetric);
  add("certificate", "tagValue", n.certificate);
  add("apiHealthCheck", "tagValue", n.apiHealthCheck);
  add("cluster", "ecsName", n.cluster);
  add("service", "ecsName", ...SERVICES.map(n.service));
  add("taskFamily", "ecsName", ...SERVICES.map(n.taskFamily));
  add("serviceLogGroup", "logGroup", ...SERVICES.map(n.serviceLogGroup));
  add("taskExecutionRole", "iamRole", ...SERVICES.map(n.taskExecutionRole));
  add("taskRole", "iamRole", ...SERVICES.map(n.taskRole));
  add("scalingPolicy", "scalingPolicy", ...SERVICES.flatMap((s) => ["cpu", "memory", "requests"].map((m) => n.scalingPolicy(s, m))));
  add("codedeployApp", "codedeploy", ...SERVICES.map(n.codedeployApp));
  add("codedeployGroup", "codedeploy", ...SERVICES.map(n.codedeployGroup));
  add("codedeployRole", "iamRole", n.codedeployRole);
  add("serviceNamespace", "dnsNamespace", n.serviceNamespace);
  add("discoveryService", "dnsLabel", ...SERVICES.map(n.discoveryService));
  // PostgreSQL identifiers, checked by the db-roles construct (no AWS name rule applies).
  add("databaseRole", "internal", ...SERVICES.map(n.databaseRole));
  add("dbRolesTaskFamily", "ecsName", n.dbRolesTaskFamily);
  add("dbRolesLogGroup", "logGroup", n.dbRolesLogGroup);
  add("dbRolesExecutionRole", "iamRole", n.dbRolesExecutionRole);
  add("dbRolesTaskRole", "iamRole", n.dbRolesTaskRole);
  // Every alarm the observability phase names (src/constructs/alarms.ts), with the widest shard and slot.
  add("alarm", "alarm", ...OBSERVABILITY_ALARMS.flatMap((what) => (typeof what === "string" ? [what] : SERVICES.flatMap(what))).map(n.alarm));
  // The services phase's deployment alarms: two per rolling service, two per target group of a blue/green one.
  add(
    "alarm",
    "alarm",
    ...SERVICES.flatMap((s) => [
      `${s}-deployment`,
      `${s}-deployment-errors`,
      ...(["blue", "green"] as const).flatMap((slot) => [`${s}-${slot}-5xx`, `${s}-${slot}-p99-response-time`]),
    ]).map(n.alarm),
  );
  add("alertsTopic", "snsTopic", n.alertsTopic);
  add("criticalTopic", "snsTopic", n.criticalTopic);
  add("availabilityTopic", "snsTopic", n.availabilityTopic);
  add("availabilityKeyAlias", "kmsAlias", n.availabilityKeyAlias);
  add("logMetricNamespace", "metricName", n.logMetricNamespace);
  add("errorLogFilter", "metricFilter", ...SERVICES.map(n.errorLogFilter));
  add("errorLogMetric", "metricName", ...SERVICES.map(n.errorLogMetric));
  add("trail", "trail", n.trail);
  add("trailLogGroup", "logGroup", n.trailLogGroup);
  add("trailLogsRole", "iamRole", n.trailLogsRole);
  add("auditBucket", "s3Bucket", n.auditBucket(accountId));
  add("dashboard", "dashboard", n.dashboard);
  add("drStateBucket", "s3Bucket", n.drStateBucket(accountId));
  add("stateReplicationRole", "iamRole", n.stateReplicationRole);
  add("drKmsAlias", "kmsAlias", n.drKmsAlias);
  add("auditReplicaBucket", "s3Bucket", n.auditReplicaBucket(accountId));
  add("auditReplicationRole", "iamRole", n.auditReplicationRole);
  add("auditReplicationRule", "internal", n.auditReplicationRule);
  add("ecrReplicationRole", "iamRole", n.ecrReplicationRole);
  add("drEventForwardingRole", "iamRole", n.drEventForwardingRole);
  add("alarm", "alarm", ...RECOVERY_ALARMS.map(n.alarm));
  add("accountBudget", "budget", n.accountBudget);
  add("budget", "budget", n.budget);
  add("drillTemplate", "tagValue", ...DRILL_SCENARIOS.map(n.drillTemplate));
  add("fisRole", "iamRole", n.fisRole);
  add("drillLogGroup", "logGroup", n.drillLogGroup);
  add("backupVault", "elasticacheGroup", n.backupVault);
  add("backupPlan", "elasticacheGroup", n.backupPlan);
  add("backupSelection", "elasticacheGroup", n.backupSelection);
  add("backupRole", "iamRole", n.backupRole);
  // Checked in names() before the hyphens become underscores (no NAME_RULES entry has restore testing's alphabet).
  add("restoreTestingPlan", "internal", n.restoreTestingPlan);
  add("restoreTestingSelection", "internal", n.restoreTestingSelection);
  add("restoreValidationStateMachine", "elasticacheGroup", n.restoreValidationStateMachine);
  add("restoreValidationRole", "iamRole", n.restoreValidationRole);
  add("restoreValidationStartRole", "iamRole", n.restoreValidationStartRole);
  add("cacheClientTaskFamily", "ecsName", n.cacheClientTaskFamily);
  add("cacheClientLogGroup", "logGroup", n.cacheClientLogGroup);
  add("cacheClientExecutionRole", "iamRole", n.cacheClientExecutionRole);
  add("cacheClientTaskRole", "iamRole", n.cacheClientTaskRole);
  add("eventRule", "eventRule", ...DRILL_EVENT_RULES.map(n.eventRule), n.eventRule(RESTORE_VALIDATION_RULE));
  return out;
}

export interface TagInputs {
  readonly env: EnvironmentName;
  readonly phase: PhaseName;
  readonly costCenter: string;
  readonly owner: string;
}

/** Tags every resource must carry (enforced by the `required-tags` guardrail). */
export const REQUIRED_TAGS = ["Project", "Environment", "Phase", "ManagedBy", "CostCenter", "Owner"] as const;

/** The `Project` tag's value, shared by the stacks and the state backend script. */
export const PROJECT_TAG = "AccessWeaver";

/** The provider's default_tags for one phase stack. */
export function defaultTags(t: TagInputs): Record<(typeof REQUIRED_TAGS)[number], string> {
  return {
    Project: PROJECT_TAG,
    Environment: t.env,
    Phase: t.phase,
    ManagedBy: "cdktf",
    CostCenter: t.costCenter,
    Owner: t.owner,
  };
}

/** The ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`), known without an AWS call. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/**
 * The failover drills (FIS experiment templates, docs/drills.md), by the failure each rehearses: the
 * database's Multi-AZ failover, the cache's loss of a zone, every service's tasks in one zone, one zone's network.
 */
export const DRILL_SCENARIOS = ["db-failover", "cache-failover", "az-tasks", "az-network"] as const;
export type DrillScenario = (typeof DRILL_SCENARIOS)[number];

/** The environments whose database AWS Backup backs up and restore-tests every week (dev is left out: cost). */
export const RESTORE_TESTED_ENVIRONMENTS: readonly EnvironmentName[] = ["staging", "prod"];

/** The observability phase's EventBridge rules of the backups and restore tests: each notifies the alerts topic. */
export const DRILL_EVENT_RULES = ["restore-test-failures", "database-backup-failures", "restore-validation-failures"] as const;
/** The rule that starts the restore test's validation when a restore job of the plan completes (no alert). */
export const RESTORE_VALIDATION_RULE = "restore-validation";
