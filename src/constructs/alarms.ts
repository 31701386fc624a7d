import { Construct } from "constructs";
import { TerraformProvider } from "cdktf";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { AlarmThresholds } from "../config/alarm-thresholds";
import { DeploymentSlot, Names, SERVICES, ServiceName, redisHitRatioAlarm, unhealthyTargetsAlarm } from "../naming";

/** One CloudWatch metric, as an alarm or a dashboard reads it. */
export interface MetricSpec {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** `Average`, `Sum`, `Minimum`, `Maximum`, or a percentile such as `p99`. */
  readonly stat: string;
}

/** What an alarm watches: one metric, or a metric math expression over named metrics (at most 10: CloudWatch's limit). */
export type Watch =
  { readonly metric: MetricSpec } | { readonly expression: string; readonly label: string; readonly metrics: Readonly<Record<string, MetricSpec>> };

export type MissingData = "breaching" | "notBreaching" | "missing" | "ignore";

export interface AlarmSpec {
  /** `accessweaver-<env>-<what>`. */
  readonly what: string;
  readonly description: string;
  readonly watch: Watch;
  /** Seconds. */
  readonly period: number;
  readonly evaluationPeriods: number;
  readonly comparison: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
  readonly threshold: number;
  /** Chosen per alarm: what silence means for what it watches. */
  readonly missing: MissingData;
  /** Pages too (the critical topic, where there is one). @default false */
  readonly critical?: boolean;
}

/** Where alarms notify: every alarm the alerts topic, critical ones the paging topic as well. */
export interface AlarmTargets {
  readonly alerts: string;
  readonly critical?: string;
}

/** CloudWatch's limit on the metrics one metric math alarm may read. */
export const MAX_ALARM_METRICS = 10;

const isPercentile = (stat: string) => /^p\d/.test(stat);

/** One alarm from its spec, named `accessweaver-<env>-<what>`, sending to its targets on ALARM and on OK. */
export function metricAlarm(scope: Construct, names: Names, spec: AlarmSpec, targets: AlarmTargets, provider?: TerraformProvider): CloudwatchMetricAlarm {
  const actions = [targets.alerts, ...(spec.critical && targets.critical ? [targets.critical] : [])];
  return alarmResource(scope, spec.what, names.alarm(spec.what), spec, actions, provider);
}

/**
 * The alarm resource of a spec under any name: what the observability alarms and the services phase's
 * deployment alarms (which stop a release and notify no one) share. Without actions, none is set.
 */
export function alarmResource(
  scope: Construct,
  id: string,
  name: string,
  spec: Omit<AlarmSpec, "what" | "critical">,
  actions?: string[],
  provider?: TerraformProvider,
): CloudwatchMetricAlarm {
  const watch = spec.watch;
  if (!("metric" in watch) && Object.keys(watch.metrics).length > MAX_ALARM_METRICS) {
    throw new Error(`${name} reads ${Object.keys(watch.metrics).length} metrics; a metric math alarm reads at most ${MAX_ALARM_METRICS}.`);
  }
  const what =
    "metric" in watch
      ? {
          namespace: watch.metric.namespace,
          metricName: watch.metric.metricName,
          // A metric without dimensions (a log metric filter's) leaves the argument out: an empty map is not read back.
          ...(Object.keys(watch.metric.dimensions).length > 0 ? { dimensions: { ...watch.metric.dimensions } } : {}),
          period: spec.period,
          ...(isPercentile(watch.metric.stat) ? { extendedStatistic: watch.metric.stat } : { statistic: watch.metric.stat }),
        }
      : {
          metricQuery: [
            ...Object.entries(watch.metrics).map(([id, m]) => ({
              id,
              returnData: false,
              metric: {
                namespace: m.namespace,
                metricName: m.metricName,
                ...(Object.keys(m.dimensions).length > 0 ? { dimensions: { ...m.dimensions } } : {}),
                period: spec.period,
                stat: m.stat,
              },
            })),
            { id: "e", expression: watch.expression, label: watch.label, returnData: true },
          ],
        };
  return new CloudwatchMetricAlarm(scope, id, {
    alarmName: name,
    alarmDescription: spec.description,
    ...what,
    evaluationPeriods: spec.evaluationPeriods,
    comparisonOperator: spec.comparison,
    threshold: spec.threshold,
    treatMissingData: spec.missing,
    ...(actions ? { alarmActions: actions, okActions: actions } : {}),
    provider,
  });
}

/** The same metric for each id, under ids `<prefix>0`, `<prefix>1`, ...; and the array `[p0, p1, ...]` for metric math. */
function series(prefix: string, ids: readonly string[], metric: (id: string) => MetricSpec): { metrics: Record<string, MetricSpec>; array: string } {
  const metrics = Object.fromEntries(ids.map((id, i) => [`${prefix}${i}`, metric(id)]));
  return { metrics, array: `[${Object.keys(metrics).join(", ")}]` };
}

export interface ObservabilityAlarmsProps {
  readonly names: Names;
  readonly region: string;
  readonly thresholds: AlarmThresholds;
  readonly targets: AlarmTargets;
  /** The ALB's ARN suffix (the LoadBalancer dimension). */
  readonly albArnSuffix: string;
  /** The gateway's target groups by ARN suffix, with their blue/green slot where releases are blue/green. */
  readonly targetGroups: readonly { readonly slot?: DeploymentSlot; readonly arnSuffix: string }[];
  readonly webAclName: string;
  readonly clusterName: string;
  readonly serviceNames: Readonly<Record<ServiceName, string>>;
  /** The service exposed through the ALB: its ERROR lines are alarmed on, its target groups get the unhealthy-target alarms. */
  readonly gateway: ServiceName;
  readonly gatewayLogGroup: string;
  /** The count of the gateway's ERROR lines: the metric of the services phase's filter on its log group. */
  readonly gatewayErrorMetric: MetricSpec;
  readonly databaseIdentifier: string;
  readonly databaseAllocatedStorageGb: number;
  readonly databaseMaxConnections: number;
  /** The Redis nodes (CacheClusterId), sorted: shard by shard, `replicasPerShard + 1` each. */
  readonly redisNodes: readonly string[];
  readonly redisReplicasPerShard: number;
}

/**
 * Every alarm of the environment's region: the guide's three, the ALB's errors and targets, the WAF,
 * each service, PostgreSQL and Redis, and the gateway's ERROR lines (counted by the services phase); all named `accessweaver-<env>-<what>`
 * and built from the dimensions the earlier phases publish.
 */
export class ObservabilityAlarms extends Construct {
  readonly specs: AlarmSpec[];
  readonly alarms: CloudwatchMetricAlarm[];
  readonly errorMetric: MetricSpec;

  constructor(scope: Construct, id: string, props: ObservabilityAlarmsProps) {
    super(scope, id);
    const n = props.names;
    const t = props.thresholds;
    const alb = (metricName: string, stat: string, extra: Record<string, string> = {}): MetricSpec => ({
      namespace: "AWS/ApplicationELB",
      metricName,
      dimensions: { LoadBalancer: props.albArnSuffix, ...extra },
      stat,
    });
    const ecs = (service: ServiceName, namespace: string, metricName: string, stat: string): MetricSpec => ({
      namespace,
      metricName,
      dimensions: { ClusterName: props.clusterName, ServiceName: props.serviceNames[service] },
      stat,
    });
    const rds = (metricName: string, stat: string): MetricSpec => ({
      namespace: "AWS/RDS",
      metricName,
      dimensions: { DBInstanceIdentifier: props.databaseIdentifier },
      stat,
    });
    const redis =
      (metricName: string, stat: string) =>
      (node: string): MetricSpec => ({ namespace: "AWS/ElastiCache", metricName, dimensions: { CacheClusterId: node }, stat });
    // A group-wide view of a per-node metric: one metric math alarm over every node (no hand-typed node id).
    const acrossNodes = (fn: "MAX" | "SUM", metricName: string, stat: string, label: string): Watch => {
      const s = series("n", props.redisNodes, redis(metricName, stat));
      return { expression: `${fn}(${s.array})`, label, metrics: s.metrics };
    };

    // The services phase counts the ERROR lines (one filter per log group, beside the service's deployment alarms).
    this.errorMetric = props.gatewayErrorMetric;

    const shardSize = props.redisReplicasPerShard + 1;
    const shards = Array.from({ length: Math.ceil(props.redisNodes.length / shardSize) }, (_, i) => props.redisNodes.slice(i * shardSize, (i + 1) * shardSize));

    const specs: AlarmSpec[] = [
      // The guide's three, named as its describe-alarms command calls them.
      {
        what: "alb-response-time",
        description: `p99 target response time above ${t.alb_p99_latency_ms} ms (the guide's KPI: under 10 ms at p99)`,
        watch: { metric: alb("TargetResponseTime", "p99") },
        period: 60,
        evaluationPeriods: 5,
        comparison: "GreaterThanThreshold",
        threshold: t.alb_p99_latency_ms / 1000,
        // No request, no response time: an idle API is not a slow one (Route 53 and the running tasks catch a dead one).
        missing: "notBreaching",
      },
      {
        what: "rds-cpu-utilization",
        description: `${n.database}: CPU above ${t.rds_cpu_percent} % for 10 minutes`,
        watch: { metric: rds("CPUUtilization", "Average") },
        period: 60,
        evaluationPeriods: 10,
        comparison: "GreaterThanThreshold",
        threshold: t.rds_cpu_percent,
        // RDS reports every minute while the instance runs: silence means it is down or stopped.
        missing: "breaching",
      },
      {
        what: "redis-memory-utilization",
        description: `${n.redis}: the fullest node above ${t.redis_memory_percent} % of maxmemory (evictions follow)`,
        watch: acrossNodes("MAX", "DatabaseMemoryUsagePercentage", "Average", "Fullest node (%)"),
        period: 60,
        evaluationPeriods: 5,
        comparison: "GreaterThanThreshold",
        threshold: t.redis_memory_percent,
        // Every node reports every minute: a group that says nothing is down.
        missing: "breaching",
      },
      // The edge.
      {
        what: "alb-5xx-rate",
        description: `5xx responses (ALB and targets) above ${t.alb_5xx_percent} % of requests (the guide's KPI: error rate under 0.1 %)`,
        watch: {
          // The 5xx counts are absent in a minute without any: FILL makes them 0, not a hole in the ratio.
          expression: "100 * (FILL(elb, 0) + FILL(target, 0)) / requests",
          label: "5xx (% of requests)",
          metrics: { elb: alb("HTTPCode_ELB_5XX_Count", "Sum"), target: alb("HTTPCode_Target_5XX_Count", "Sum"), requests: alb("RequestCount", "Sum") },
        },
        period: 60,
        evaluationPeriods: 5,
        comparison: "GreaterThanThreshold",
        threshold: t.alb_5xx_percent,
        // No requests, no ratio: an idle minute is not an error.
        missing: "notBreaching",
        critical: true,
      },
      ...props.targetGroups.map((g): AlarmSpec => ({
        what: unhealthyTargetsAlarm(props.gateway, g.slot),
        description: `${props.gateway}${g.slot ? ` (${g.slot})` : ""}: a target failing the load balancer's health check for 3 minutes`,
        watch: { metric: alb("UnHealthyHostCount", "Maximum", { TargetGroup: g.arnSuffix }) },
        period: 60,
        evaluationPeriods: 3,
        comparison: "GreaterThanThreshold",
        threshold: 0,
        // Silence is the idle blue/green group between releases; a gateway with no task is the running-tasks alarm's.
        missing: "notBreaching",
      })),
      {
        what: "waf-blocked-requests",
        description: `${n.webAcl}: more than ${t.waf_blocked_requests} requests blocked in 5 minutes (an attack, or a legitimate client refused)`,
        watch: {
          metric: {
            namespace: "AWS/WAFV2",
            metricName: "BlockedRequests",
            dimensions: { WebACL: props.webAclName, Region: props.region, Rule: "ALL" },
            stat: "Sum",
          },
        },
        period: 300,
        evaluationPeriods: 1,
        comparison: "GreaterThanThreshold",
        threshold: t.waf_blocked_requests,
        // WAF publishes BlockedRequests only when it blocks something.
        missing: "notBreaching",
      },
      // Each service.
      ...SERVICES.flatMap((s): AlarmSpec[] => [
        {
          what: `${s}-cpu-utilization`,
          description: `${s}: average CPU above ${t.service_cpu_percent} % for 10 minutes (autoscaling capped or too slow)`,
          watch: { metric: ecs(s, "AWS/ECS", "CPUUtilization", "Average") },
          period: 60,
          evaluationPeriods: 10,
          comparison: "GreaterThanThreshold",
          threshold: t.service_cpu_percent,
          // No task, no CPU: reported once, by the running-tasks alarm.
          missing: "notBreaching",
        },
        {
          what: `${s}-memory-utilization`,
          description: `${s}: average memory above ${t.service_memory_percent} % for 10 minutes`,
          watch: { metric: ecs(s, "AWS/ECS", "MemoryUtilization", "Average") },
          period: 60,
          evaluationPeriods: 10,
          comparison: "GreaterThanThreshold",
          threshold: t.service_memory_percent,
          missing: "notBreaching",
        },
        {
          what: `${s}-running-tasks-below-desired`,
          description: `${s}: fewer tasks running than desired for ${t.running_tasks_minutes} minutes`,
          watch: {
            expression: "desired - running",
            label: "Tasks missing",
            metrics: {
              desired: ecs(s, "ECS/ContainerInsights", "DesiredTaskCount", "Maximum"),
              running: ecs(s, "ECS/ContainerInsights", "RunningTaskCount", "Minimum"),
            },
          },
          period: 60,
          evaluationPeriods: t.running_tasks_minutes,
          comparison: "GreaterThanOrEqualToThreshold",
          threshold: 1,
          // Container Insights reports every minute for a live service: a silent service is not a healthy one.
          missing: "breaching",
          critical: true,
        },
      ]),
      // PostgreSQL (Multi-AZ instance: no ReplicaLag, see docs/observability.md).
      {
        what: "rds-free-storage",
        description: `${n.database}: free storage below ${t.rds_free_storage_percent} % of its initial ${props.databaseAllocatedStorageGb} GB (autoscaling did not keep up or reached its ceiling)`,
        watch: { metric: rds("FreeStorageSpace", "Minimum") },
        period: 300,
        evaluationPeriods: 1,
        comparison: "LessThanThreshold",
        threshold: Math.round(((props.databaseAllocatedStorageGb * t.rds_free_storage_percent) / 100) * 1024 ** 3),
        // Reported as long as the instance is: its silence is the CPU alarm's to report.
        missing: "notBreaching",
        critical: true,
      },
      {
        what: "rds-connections",
        description: `${n.database}: more than ${t.rds_connections_percent} % of its ${props.databaseMaxConnections} connections`,
        watch: { metric: rds("DatabaseConnections", "Maximum") },
        period: 60,
        evaluationPeriods: 5,
        comparison: "GreaterThanThreshold",
        threshold: Math.floor((props.databaseMaxConnections * t.rds_connections_percent) / 100),
        missing: "notBreaching",
      },
      ...(["read", "write"] as const).map((io): AlarmSpec => ({
        what: `rds-${io}-latency`,
        description: `${n.database}: ${io} latency above ${t[`rds_${io}_latency_ms`]} ms for 5 minutes`,
        watch: { metric: rds(io === "read" ? "ReadLatency" : "WriteLatency", "Average") },
        period: 60,
        evaluationPeriods: 5,
        comparison: "GreaterThanThreshold",
        threshold: t[`rds_${io}_latency_ms`] / 1000,
        // No I/O in a minute, no latency.
        missing: "notBreaching",
      })),
      // Redis, across its nodes.
      {
        what: "redis-engine-cpu-utilization",
        description: `${n.redis}: the busiest node's Redis thread above ${t.redis_engine_cpu_percent} %`,
        watch: acrossNodes("MAX", "EngineCPUUtilization", "Average", "Busiest node (%)"),
        period: 60,
        evaluationPeriods: 5,
        comparison: "GreaterThanThreshold",
        threshold: t.redis_engine_cpu_percent,
        // A silent group is the memory alarm's to report, once.
        missing: "notBreaching",
      },
      {
        what: "redis-evictions",
        description: `${n.redis}: more than ${t.redis_evictions} keys evicted in 5 minutes (the cache is too small)`,
        watch: acrossNodes("SUM", "Evictions", "Sum", "Evicted keys"),
        period: 300,
        evaluationPeriods: 1,
        comparison: "GreaterThanThreshold",
        threshold: t.redis_evictions,
        missing: "notBreaching",
      },
      ...(props.redisReplicasPerShard > 0
        ? [
            {
              what: "redis-replication-lag",
              description: `${n.redis}: a replica more than ${t.redis_replication_lag_seconds} s behind its primary`,
              watch: acrossNodes("MAX", "ReplicationLag", "Maximum", "Slowest replica (s)"),
              period: 60,
              evaluationPeriods: 3,
              comparison: "GreaterThanThreshold",
              threshold: t.redis_replication_lag_seconds,
              // Only replicas report it, and not while a failover promotes one.
              missing: "notBreaching",
            } satisfies AlarmSpec,
          ]
        : []),
      // Hits and misses of every node would exceed the 10 metrics an alarm may read: one alarm per shard.
      ...shards.map((nodes, i): AlarmSpec => {
        const hits = series("h", nodes, redis("CacheHits", "Sum"));
        const misses = series("m", nodes, redis("CacheMisses", "Sum"));
        return {
          what: redisHitRatioAlarm(i + 1),
          description: `${n.redis} shard ${i + 1}: cache hit ratio below ${t.redis_cache_hit_ratio_percent} % for 15 minutes (the guide's KPI: above 95 %)`,
          watch: {
            expression: `100 * SUM(${hits.array}) / (SUM(${hits.array}) + SUM(${misses.array}))`,
            label: "Hit ratio (%)",
            metrics: { ...hits.metrics, ...misses.metrics },
          },
          period: 300,
          evaluationPeriods: 3,
          comparison: "LessThanThreshold",
          threshold: t.redis_cache_hit_ratio_percent,
          // No lookups, no ratio: a quiet cache is not a cold one.
          missing: "notBreaching",
        };
      }),
      {
        what: `${props.gateway}-error-logs`,
        description: `${props.gatewayLogGroup}: more than ${t.gateway_error_logs} ERROR lines in 5 minutes`,
        watch: { metric: this.errorMetric },
        period: 300,
        evaluationPeriods: 1,
        comparison: "GreaterThanThreshold",
        threshold: t.gateway_error_logs,
        // The filter writes 0 for every minute with logs: silence is no logs at all, the running-tasks alarm's to report.
        missing: "notBreaching",
      },
    ];
    this.specs = specs;
    this.alarms = specs.map((spec) => metricAlarm(this, n, spec, props.targets));
  }
}

/**
 * The Route 53 health check of the API failing (the guide's 99.95 % availability). Route 53 publishes
 * HealthCheckStatus in us-east-1 only, so this alarm is created there, through `provider`, and sends to
 * a topic of that region.
 */
/**
 * Days before its expiry at which the API's certificate alarms. ACM renews a DNS-validated certificate
 * from 60 days before expiry; one still not renewed 45 days before has a renewal problem (a validation
 * record removed, a CAA record): the Route 53 health check would not notice, as it does not send SNI.
 */
export const CERTIFICATE_EXPIRY_ALARM_DAYS = 45;

/** The certificate's `DaysToExpiry` (ACM publishes it once a day) below CERTIFICATE_EXPIRY_ALARM_DAYS. */
export function certificateExpirySpec(props: { certificateArn: string; domain: string }): AlarmSpec {
  return {
    what: "acm-certificate-expiry",
    description: `The certificate of ${props.domain} expires in less than ${CERTIFICATE_EXPIRY_ALARM_DAYS} days: ACM has not renewed it (check its DNS validation record: aws acm describe-certificate)`,
    watch: {
      metric: { namespace: "AWS/CertificateManager", metricName: "DaysToExpiry", dimensions: { CertificateArn: props.certificateArn }, stat: "Minimum" },
    },
    period: 86_400,
    evaluationPeriods: 1,
    comparison: "LessThanThreshold",
    threshold: CERTIFICATE_EXPIRY_ALARM_DAYS,
    // One data point a day, sometimes late: a missing day keeps the alarm's state rather than flapping.
    missing: "missing",
  };
}

export function healthCheckSpec(props: { healthCheckId: string; minutes: number; domain: string }): AlarmSpec {
  return {
    what: "route53-health-check",
    description: `https://${props.domain}/actuator/health failing from Route 53's checkers for ${props.minutes} minutes (availability target 99.95 %)`,
    watch: { metric: { namespace: "AWS/Route53", metricName: "HealthCheckStatus", dimensions: { HealthCheckId: props.healthCheckId }, stat: "Minimum" } },
    period: 60,
    evaluationPeriods: props.minutes,
    comparison: "LessThanThreshold",
    threshold: 1,
    // Route 53 reports every minute while it checks: no status is no proof of health.
    missing: "breaching",
    critical: true,
  };
}
