/**
 * The service catalog: what is true of each AccessWeaver service in every environment. Names come from
 * naming.ts, sizes per environment from profiles.ts (which reads the guide's production size here),
 * and the network, load balancer and services phases wire from it.
 */
import { SERVICES, SecretKind, ServiceName } from "../naming";

/** CPU units and memory (MiB) of one Fargate task, and how many tasks the service runs. */
export interface ServiceSize {
  readonly cpu: number;
  readonly memory: number;
  readonly desiredCount: number;
}

export interface ServiceSpec {
  readonly name: ServiceName;
  /** What the service does, for reviewers and the dashboard. */
  readonly role: string;
  /** Port the container listens on. */
  readonly port: number;
  /** Spring Boot actuator health endpoint: the container and target-group health checks read it. */
  readonly healthPath: string;
  /** `alb`: the load balancer routes the internet to it; `internal`: only other services call it. */
  readonly exposure: "alb" | "internal";
  /**
   * Secrets (`accessweaver/<env>/<kind>`) injected into its task, and nothing more. `database` also gives
   * the service a PostgreSQL role of its own, which it logs in as with IAM tokens from its task role.
   */
  readonly secrets: readonly SecretKind[];
  /** Why the exposure and the secrets are what they are. */
  readonly why: string;
  /** The production guide's size and count ("ECS Fargate Cluster" box). */
  readonly production: ServiceSize;
}

/** The one port every service listens on (Spring Boot's default): the security groups open only it. */
export const APP_PORT = 8080;
export const HEALTH_PATH = "/actuator/health";
/**
 * Where every service's tasks run: Fargate on-demand, no base. The gateway's CodeDeploy AppSpec sends the
 * same strategy at each release (scripts/operator/release.ts), or CodeDeploy would drop it.
 */
export const CAPACITY_PROVIDER_STRATEGY = [{ capacityProvider: "FARGATE", weight: 1, base: 0 }] as const;

export const SERVICE_CATALOG: Readonly<Record<ServiceName, ServiceSpec>> = {
  "aw-api-gateway": {
    name: "aw-api-gateway",
    role: "public API: authenticates callers, rate-limits per tenant, routes to the internal services",
    port: APP_PORT,
    healthPath: HEALTH_PATH,
    exposure: "alb",
    secrets: ["jwt", "redis"],
    why: "the only service the internet reaches (through the ALB and WAF); it verifies JWTs (jwt) and keeps per-tenant rate-limit counters in Redis (redis); it holds no data, so no database credentials",
    production: { cpu: 1024, memory: 2048, desiredCount: 3 },
  },
  "aw-pdp-service": {
    name: "aw-pdp-service",
    role: "policy decision point: evaluates authorization requests",
    port: APP_PORT,
    healthPath: HEALTH_PATH,
    exposure: "internal",
    secrets: ["database", "redis"],
    why: "called by the gateway only; reads policies from PostgreSQL (database) and caches decisions in Redis (redis) for the <10 ms p99 target",
    production: { cpu: 2048, memory: 4096, desiredCount: 3 },
  },
  "aw-pap-service": {
    name: "aw-pap-service",
    role: "policy administration point: writes and versions policies",
    port: APP_PORT,
    healthPath: HEALTH_PATH,
    exposure: "internal",
    secrets: ["database", "redis"],
    why: "called through the gateway; writes policies to PostgreSQL (database) and invalidates the PDP's decision cache in Redis (redis)",
    production: { cpu: 1024, memory: 2048, desiredCount: 2 },
  },
  "aw-tenant-service": {
    name: "aw-tenant-service",
    role: "tenants, their users and API clients",
    port: APP_PORT,
    healthPath: HEALTH_PATH,
    exposure: "internal",
    secrets: ["database"],
    why: "called through the gateway; keeps tenants in PostgreSQL (database); it neither signs tokens nor uses the cache",
    production: { cpu: 512, memory: 1024, desiredCount: 2 },
  },
  "aw-audit-service": {
    name: "aw-audit-service",
    role: "records authorization decisions and administrative changes (RGPD audit logs)",
    port: APP_PORT,
    healthPath: HEALTH_PATH,
    exposure: "internal",
    secrets: ["database"],
    why: "receives events from the other services; stores them in PostgreSQL (database); its own logs are application logs, the audit evidence is the data it stores",
    production: { cpu: 512, memory: 1024, desiredCount: 2 },
  },
};

/** The catalog in the order of SERVICES. */
export const CATALOG: readonly ServiceSpec[] = SERVICES.map((s) => SERVICE_CATALOG[s]);

/**
 * The services that use PostgreSQL (`database` among their secrets): each logs in as a database role of
 * its own (`names().databaseRole`) with IAM authentication, and make db-roles creates those roles.
 */
export const DATABASE_SERVICES: readonly ServiceSpec[] = CATALOG.filter((spec) => spec.secrets.includes("database"));

/** A value per service, computed from its catalog entry. */
export function perService<T>(fn: (spec: ServiceSpec) => T): Record<ServiceName, T> {
  return Object.fromEntries(CATALOG.map((spec) => [spec.name, fn(spec)])) as Record<ServiceName, T>;
}
