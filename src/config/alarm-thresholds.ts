/**
 * The alarms' thresholds: `alarm_thresholds = { key = number }` in terraform.tfvars, each key optional.
 * Defaults come from the guide's "KPIs Production" where it gives one (p99 < 10 ms, error rate < 0.1 %,
 * cache hit ratio > 95 %, 99.95 % availability); the others are the usual starting points, each with
 * its reason. docs/observability.md lists them with the alarms that read them.
 */

export interface ThresholdSpec {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  /** Only whole numbers (counts, minutes). */
  readonly integer?: boolean;
  readonly unit: string;
  /** Why the default is what it is. */
  readonly why: string;
}

export const ALARM_THRESHOLDS = {
  alb_p99_latency_ms: { default: 10, min: 1, max: 60_000, unit: "ms", why: "the guide's KPI: API latency under 10 ms at p99" },
  alb_5xx_percent: { default: 0.1, min: 0.001, max: 100, unit: "% of requests", why: "the guide's KPI: error rate under 0.1 %" },
  waf_blocked_requests: {
    default: 1000,
    min: 1,
    max: 1_000_000_000,
    integer: true,
    unit: "requests in 5 minutes",
    why: "a few scanners are blocked all day; a thousand blocks in 5 minutes is an attack or a client the rules wrongly refuse",
  },
  health_check_failing_minutes: {
    default: 2,
    min: 1,
    max: 60,
    integer: true,
    unit: "minutes",
    why: "99.95 % availability allows about 21 minutes down a month: page within 2, after one flapping minute",
  },
  service_cpu_percent: { default: 80, min: 1, max: 100, unit: "%", why: "autoscaling aims at 55-60 %: 80 % held means scaling is capped or too slow" },
  service_memory_percent: { default: 80, min: 1, max: 100, unit: "%", why: "a JVM near its task's memory is one burst from being killed" },
  running_tasks_minutes: {
    default: 5,
    min: 1,
    max: 60,
    integer: true,
    unit: "minutes",
    why: "a deployment or a replaced task runs below the desired count for a minute or two; five minutes is not a deployment",
  },
  rds_cpu_percent: { default: 80, min: 1, max: 100, unit: "%", why: "headroom for a failover and for the next traffic peak" },
  rds_free_storage_percent: {
    default: 5,
    min: 1,
    max: 50,
    unit: "% of the initial allocation",
    why: "storage autoscaling adds space below 10 % free; below 5 % it did not, or reached its ceiling",
  },
  rds_connections_percent: {
    default: 80,
    min: 1,
    max: 100,
    unit: "% of max_connections",
    why: "new connections are refused at 100 %: time to find the leaking pool first",
  },
  rds_read_latency_ms: {
    default: 20,
    min: 1,
    max: 10_000,
    unit: "ms",
    why: "gp3 answers in single milliseconds; 20 ms held means the volume or the instance is saturated",
  },
  rds_write_latency_ms: {
    default: 20,
    min: 1,
    max: 10_000,
    unit: "ms",
    why: "as reads: 20 ms held is saturation, and Multi-AZ writes wait for the standby too",
  },
  redis_engine_cpu_percent: { default: 80, min: 1, max: 100, unit: "%", why: "Redis runs commands on one thread: past 80 % latency climbs fast" },
  redis_memory_percent: { default: 80, min: 1, max: 100, unit: "% of maxmemory", why: "above it Redis evicts keys (the decision cache) to make room" },
  redis_evictions: {
    default: 100,
    min: 0,
    max: 1_000_000_000,
    integer: true,
    unit: "keys in 5 minutes",
    why: "a few evictions are the cache working; hundreds mean it is too small",
  },
  redis_replication_lag_seconds: {
    default: 5,
    min: 0.1,
    max: 3600,
    unit: "seconds",
    why: "a replica seconds behind serves stale decisions and loses them on failover",
  },
  redis_cache_hit_ratio_percent: { default: 95, min: 1, max: 100, unit: "%", why: "the guide's KPI: cache hit ratio above 95 %" },
  gateway_error_logs: {
    default: 10,
    min: 1,
    max: 1_000_000,
    integer: true,
    unit: "ERROR lines in 5 minutes",
    why: "an isolated ERROR is a bad request; ten in five minutes is a fault",
  },
} as const satisfies Record<string, ThresholdSpec>;

export type ThresholdKey = keyof typeof ALARM_THRESHOLDS;
export type AlarmThresholds = Readonly<Record<ThresholdKey, number>>;

export const DEFAULT_ALARM_THRESHOLDS: AlarmThresholds = Object.fromEntries(
  Object.entries(ALARM_THRESHOLDS).map(([k, v]) => [k, v.default]),
) as AlarmThresholds;

const show = (v: unknown) => JSON.stringify(v);

/**
 * Reads `alarm_thresholds`: a map of the keys above to numbers in their range. Returns the problem as
 * `{ expected, found }` (the settings module names the file and key), or the thresholds with defaults filled.
 */
export function checkAlarmThresholds(v: unknown): { value: AlarmThresholds } | { expected: string; found?: string } {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return { expected: `a map of thresholds, such as { alb_p99_latency_ms = 10 }` };
  const out: Record<string, number> = { ...DEFAULT_ALARM_THRESHOLDS };
  for (const [key, x] of Object.entries(v)) {
    const spec = (ALARM_THRESHOLDS as Record<string, ThresholdSpec>)[key];
    if (!spec) return { expected: `threshold keys among ${Object.keys(ALARM_THRESHOLDS).join(", ")}`, found: show(key) };
    if (typeof x !== "number" || x < spec.min || x > spec.max || (spec.integer && !Number.isInteger(x))) {
      return { expected: `${spec.integer ? "a whole number" : "a number"} from ${spec.min} to ${spec.max} (${spec.unit}) for ${key}`, found: show(x) };
    }
    out[key] = x;
  }
  return { value: out as AlarmThresholds };
}

/**
 * PostgreSQL's default max_connections on RDS, LEAST(DBInstanceClassMemory / 9531392, 5000), from the
 * class's memory. DBInstanceClassMemory is a little below the class's memory (the OS keeps some), so
 * this is an upper bound: the alarm fires at or before its percentage.
 */
export const INSTANCE_MEMORY_GIB: Readonly<Record<string, number>> = {
  "db.t4g.micro": 1,
  "db.t4g.small": 2,
  "db.t4g.medium": 4,
  "db.r6g.large": 16,
  "db.r6g.xlarge": 32,
  "db.r6g.2xlarge": 64,
};

export function postgresMaxConnections(instanceClass: string): number {
  const gib = INSTANCE_MEMORY_GIB[instanceClass];
  if (gib === undefined)
    throw new Error(
      `No memory size known for ${instanceClass}: add it to INSTANCE_MEMORY_GIB in src/config/alarm-thresholds.ts (the connections alarm needs max_connections).`,
    );
  return Math.min(Math.floor((gib * 1024 ** 3) / 9531392), 5000);
}
