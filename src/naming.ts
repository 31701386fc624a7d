/**
 * The naming and tagging contract. The guide's runbooks call resources by these names, so every
 * construct, stack and script takes its names from here and nowhere else.
 */

export const PROJECT = "accessweaver";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

export function isEnvironmentName(value: string): value is EnvironmentName {
  return (ENVIRONMENTS as readonly string[]).includes(value);
}

/** Deployment phases, in apply order. A stack exists for each phase that has been built. */
export const PHASES = ["network", "database", "cache", "loadbalancer", "services", "observability"] as const;
export type PhaseName = (typeof PHASES)[number];

/** The five AccessWeaver services, by their container and ECS service suffix. */
export const SERVICES = ["aw-api-gateway", "aw-pdp-service", "aw-pap-service", "aw-tenant-service", "aw-audit-service"] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Security-group tiers created by the network phase and used by later phases. */
export const TIERS = ["alb", "services", "database", "cache"] as const;
export type Tier = (typeof TIERS)[number];

const TITLES: Record<EnvironmentName, string> = { dev: "Development", staging: "Staging", prod: "Production" };

/** All names of one environment. `names("prod").cluster` is `accessweaver-prod-cluster`. */
export function names(env: EnvironmentName) {
  const prefix = `${PROJECT}-${env}`;
  const title = `AccessWeaver-${TITLES[env]}`;
  return {
    env,
    prefix,
    stack: (phase: PhaseName) => `${prefix}-${phase}`,
    stateBucket: (accountId: string) => `${PROJECT}-terraform-state-${env}-${accountId}`,
    lockTable: `${PROJECT}-terraform-locks-${env}`,
    stateKey: (phase: PhaseName) => `${env}/${phase}/terraform.tfstate`,

    vpc: `${prefix}-vpc`,
    subnet: (tier: "public" | "private" | "database", az: string) => `${prefix}-${tier}-${az}`,
    routeTable: (tier: string) => `${prefix}-${tier}`,
    natGateway: (az: string) => `${prefix}-nat-${az}`,
    natEip: (az: string) => `${prefix}-nat-${az}-eip`,
    internetGateway: `${prefix}-igw`,
    defaultSecurityGroup: `${prefix}-default-unused`,
    endpoint: (service: string) => `${prefix}-${service.replace(/\./g, "-")}-endpoint`,
    flowLog: `${prefix}-flow-logs`,
    securityGroup: (tier: Tier | "endpoints") => `${prefix}-${tier}`,
    flowLogGroup: `/aws/vpc/${prefix}/flow-logs`,
    flowLogRole: `${prefix}-vpc-flow-logs`,
    networkAcl: (tier: "default" | "database") => `${prefix}-${tier}-nacl`,
    defaultRouteTable: `${prefix}-default-no-routes`,
    /** Name prefixes of every log group this project creates (the key policy lets CloudWatch Logs use the key for these only). */
    logGroupPrefixes: [`/aws/vpc/${prefix}/`, `/ecs/${prefix}/`],
    eventRule: (rule: string) => `${prefix}-${rule}`,

    kmsAlias: `alias/${prefix}`,

    cluster: `${prefix}-cluster`,
    service: (service: ServiceName) => `${prefix}-${service}`,
    serviceLogGroup: (service: ServiceName) => `/ecs/${prefix}/${service}`,
    database: `${prefix}-postgres`,
    redis: `${prefix}-redis`,
    secret: (kind: "database" | "redis" | "jwt") => `${PROJECT}/${env}/${kind}`,
    alarm: (metric: string) => `${prefix}-${metric}`,
    alertsTopic: `${prefix}-alerts`,
    trail: `${prefix}-audit-trail`,
    auditBucket: `${prefix}-audit-logs`,
    dashboard: title,
    budget: `${title}-Monthly`,
  };
}
export type Names = ReturnType<typeof names>;

export interface TagInputs {
  readonly env: EnvironmentName;
  readonly phase: PhaseName;
  readonly costCenter: string;
  readonly owner: string;
}

/** Tags every resource must carry (enforced by the `required-tags` guardrail). */
export const REQUIRED_TAGS = ["Project", "Environment", "Phase", "ManagedBy", "CostCenter", "Owner"] as const;

/** The provider's default_tags for one phase stack. */
export function defaultTags(t: TagInputs): Record<(typeof REQUIRED_TAGS)[number], string> {
  return {
    Project: "AccessWeaver",
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
