// The observability phase's alarms on whole-environment synths: each with its metric, statistic,
// threshold, period, missing-data treatment and actions, built from the earlier phases' handles; the
// Route 53 alarm in us-east-1 through the aliased provider; the thresholds as settings and their refusals.
import { ENVIRONMENTS, EnvironmentName, SERVICES, nameInventory } from "../src/naming";
import { ALARM_THRESHOLDS, DEFAULT_ALARM_THRESHOLDS, postgresMaxConnections } from "../src/config/alarm-thresholds";
import { PROFILES } from "../src/config/profiles";
import { SettingsError } from "../src/config/errors";
import { config, resources, synthEnv } from "./support/config";

const ACCOUNT = "111122223333";
const ALERTS = "${aws_sns_topic.alerts_topic.arn}";
const CRITICAL = "${aws_sns_topic.alerts-critical_topic.arn}";
const PAGING = "https://events.pagerduty.com/integration/abc/enqueue";
const remote = (phase: string, output: string) => `\${data.terraform_remote_state.${phase}.outputs.${output}}`;
const ALB = remote("loadbalancer", "alb_arn_suffix");
const node = (i: number) => `\${element(data.terraform_remote_state.cache.outputs.redis_member_clusters, ${i})}`;
const service = (s: string) => ({ ClusterName: remote("services", "cluster_name"), ServiceName: remote("services", `service_names.${s}`) });

type Json = any;
const alarmsOf = (json: Json): Record<string, Json> =>
  Object.fromEntries(Object.values(resources(json, "aws_cloudwatch_metric_alarm")).map((a: Json) => [a.alarm_name, a]));

const queries = (alarm: Json): Record<string, Json> => Object.fromEntries(alarm.metric_query.map((q: any) => [q.id, q]));

/** Every alarm name an environment should have, from its profile. */
function expectedNames(env: EnvironmentName): string[] {
  const p = PROFILES[env];
  const slots = p.gatewayReleases === "blue-green" ? ["-blue", "-green"] : [""];
  return [
    "alb-response-time",
    "rds-cpu-utilization",
    "redis-memory-utilization",
    "alb-5xx-rate",
    ...slots.map((s) => `aw-api-gateway-unhealthy-targets${s}`),
    "waf-blocked-requests",
    "acm-certificate-expiry",
    ...SERVICES.flatMap((s) => [`${s}-cpu-utilization`, `${s}-memory-utilization`, `${s}-running-tasks-below-desired`]),
    "rds-free-storage",
    "rds-connections",
    "rds-read-latency",
    "rds-write-latency",
    "redis-engine-cpu-utilization",
    "redis-evictions",
    ...(p.cache.replicasPerShard > 0 ? ["redis-replication-lag"] : []),
    ...Array.from({ length: p.cache.shards }, (_, i) => `redis-cache-hit-ratio-000${i + 1}`),
    "aw-api-gateway-error-logs",
  ].map((w) => `accessweaver-${env}-${w}`);
}

/** What decides when an alarm fires and whom it tells, read the same way from any alarm. */
interface AlarmRow {
  /** `namespace metric by dimensions` (sorted), or a metric math alarm's expression over its metrics. */
  readonly metric: string;
  /** The statistic or extended statistic; a math alarm's metrics' statistics in query order. */
  readonly statistic: string;
  /** The alarm's period, or its metrics' (each metric of a math alarm carries it). */
  readonly period: number | number[];
  readonly evaluationPeriods: number;
  readonly comparison: string;
  readonly threshold: number;
  readonly missing: string;
  readonly alarmActions: string[];
  readonly okActions: string[];
}

const unique = <T>(xs: T[]): T[] => [...new Set(xs)];
/** 80 % of PostgreSQL's default max_connections (LEAST(memory / 9531392, 5000)) for each profile's class: t4g.micro, r6g.large, r6g.xlarge. */
const RDS_CONNECTIONS_THRESHOLD: Record<EnvironmentName, number> = { dev: 89, staging: 1441, prod: 2883 };
function rowOf(a: Json): AlarmRow {
  const common = {
    evaluationPeriods: a.evaluation_periods,
    comparison: a.comparison_operator,
    threshold: a.threshold,
    missing: a.treat_missing_data,
    alarmActions: a.alarm_actions,
    okActions: a.ok_actions,
  };
  if (!a.metric_query) {
    return {
      ...common,
      metric: `${a.namespace} ${a.metric_name} by ${Object.keys(a.dimensions ?? {})
        .sort()
        .join(", ")}`,
      statistic: a.extended_statistic ?? a.statistic,
      period: a.period,
    };
  }
  const metrics = a.metric_query.filter((q: Json) => q.metric).map((q: Json) => q.metric);
  const periods = unique(metrics.map((m: Json) => m.period)) as number[];
  return {
    ...common,
    metric: `${a.metric_query.find((q: Json) => q.return_data).expression} over ${unique(metrics.map((m: Json) => `${m.namespace} ${m.metric_name}`)).join(" + ")} (${metrics.length} metrics)`,
    statistic: unique(metrics.map((m: Json) => m.stat)).join("/"),
    // A math alarm has no period of its own; one on it would be a second, conflicting one.
    period: a.period ?? (periods.length === 1 ? periods[0]! : periods),
  };
}

/**
 * Every alarm but the ERROR-log one (its own test, with its metric filter) and the Route 53 one (its own
 * test, in us-east-1), field by field, from the defaults documented in docs/observability.md.
 */
function expectedRows(env: EnvironmentName): Record<string, AlarmRow> {
  const p = PROFILES[env];
  const size = p.cache.replicasPerShard + 1;
  const nodes = p.cache.shards * size;
  const ids = (prefix: string, count: number) => `[${Array.from({ length: count }, (_, i) => `${prefix}${i}`).join(", ")}]`;
  const overNodes = (fn: string, metric: string) => `${fn}(${ids("n", nodes)}) over AWS/ElastiCache ${metric} (${nodes} metrics)`;
  const row = (
    metric: string,
    statistic: string,
    period: number,
    evaluationPeriods: number,
    comparison: string,
    threshold: number,
    missing: string,
    critical = false,
  ): AlarmRow => {
    const actions = critical ? [ALERTS, CRITICAL] : [ALERTS];
    return { metric, statistic, period, evaluationPeriods, comparison, threshold, missing, alarmActions: actions, okActions: actions };
  };
  const [GT, GE, LT] = ["GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold"];
  const rds = (metric: string) => `AWS/RDS ${metric} by DBInstanceIdentifier`;
  const ecs = (metric: string) => `AWS/ECS ${metric} by ClusterName, ServiceName`;
  const slots = p.gatewayReleases === "blue-green" ? ["-blue", "-green"] : [""];
  const rows: Record<string, AlarmRow> = {
    "alb-response-time": row("AWS/ApplicationELB TargetResponseTime by LoadBalancer", "p99", 60, 5, GT, 0.01, "notBreaching"),
    "rds-cpu-utilization": row(rds("CPUUtilization"), "Average", 60, 10, GT, 80, "breaching"),
    "redis-memory-utilization": row(overNodes("MAX", "DatabaseMemoryUsagePercentage"), "Average", 60, 5, GT, 80, "breaching"),
    "alb-5xx-rate": row(
      "100 * (FILL(elb, 0) + FILL(target, 0)) / requests over AWS/ApplicationELB HTTPCode_ELB_5XX_Count + AWS/ApplicationELB HTTPCode_Target_5XX_Count + AWS/ApplicationELB RequestCount (3 metrics)",
      "Sum",
      60,
      5,
      GT,
      0.1,
      "notBreaching",
      true,
    ),
    ...Object.fromEntries(
      slots.map((slot) => [
        `aw-api-gateway-unhealthy-targets${slot}`,
        row("AWS/ApplicationELB UnHealthyHostCount by LoadBalancer, TargetGroup", "Maximum", 60, 3, GT, 0, "notBreaching"),
      ]),
    ),
    "waf-blocked-requests": row("AWS/WAFV2 BlockedRequests by Region, Rule, WebACL", "Sum", 300, 1, GT, 1000, "notBreaching"),
    // ACM publishes once a day; renewal starts 60 days before expiry, so 45 without renewal is a problem.
    "acm-certificate-expiry": row("AWS/CertificateManager DaysToExpiry by CertificateArn", "Minimum", 86_400, 1, "LessThanThreshold", 45, "missing"),
    ...Object.fromEntries(
      SERVICES.flatMap((svc) => [
        [`${svc}-cpu-utilization`, row(ecs("CPUUtilization"), "Average", 60, 10, GT, 80, "notBreaching")],
        [`${svc}-memory-utilization`, row(ecs("MemoryUtilization"), "Average", 60, 10, GT, 80, "notBreaching")],
        [
          `${svc}-running-tasks-below-desired`,
          row(
            "desired - running over ECS/ContainerInsights DesiredTaskCount + ECS/ContainerInsights RunningTaskCount (2 metrics)",
            "Maximum/Minimum",
            60,
            5,
            GE,
            1,
            "breaching",
            true,
          ),
        ],
      ]),
    ),
    "rds-free-storage": row(rds("FreeStorageSpace"), "Minimum", 300, 1, LT, Math.round(p.database.allocatedStorageGb * 0.05 * 1024 ** 3), "notBreaching", true),
    "rds-connections": row(rds("DatabaseConnections"), "Maximum", 60, 5, GT, RDS_CONNECTIONS_THRESHOLD[env], "notBreaching"),
    "rds-read-latency": row(rds("ReadLatency"), "Average", 60, 5, GT, 0.02, "notBreaching"),
    "rds-write-latency": row(rds("WriteLatency"), "Average", 60, 5, GT, 0.02, "notBreaching"),
    "redis-engine-cpu-utilization": row(overNodes("MAX", "EngineCPUUtilization"), "Average", 60, 5, GT, 80, "notBreaching"),
    "redis-evictions": row(overNodes("SUM", "Evictions"), "Sum", 300, 1, GT, 100, "notBreaching"),
    ...(p.cache.replicasPerShard > 0 ? { "redis-replication-lag": row(overNodes("MAX", "ReplicationLag"), "Maximum", 60, 3, GT, 5, "notBreaching") } : {}),
    ...Object.fromEntries(
      Array.from({ length: p.cache.shards }, (_, shard) => [
        `redis-cache-hit-ratio-000${shard + 1}`,
        row(
          `100 * SUM(${ids("h", size)}) / (SUM(${ids("h", size)}) + SUM(${ids("m", size)})) over AWS/ElastiCache CacheHits + AWS/ElastiCache CacheMisses (${2 * size} metrics)`,
          "Sum",
          300,
          3,
          LT,
          95,
          "notBreaching",
        ),
      ]),
    ),
  };
  return Object.fromEntries(Object.entries(rows).map(([what, r]) => [`accessweaver-${env}-${what}`, r]));
}

describe.each(ENVIRONMENTS)("%s: alarms", (env) => {
  const synth = synthEnv(config(env, { alert_paging_endpoints: [PAGING] }));
  const json = synth.json.observability!;
  const all = alarmsOf(json);
  // The Route 53 alarm is in us-east-1: its own tests below.
  const alarms = Object.fromEntries(Object.entries(all).filter(([name]) => name !== `accessweaver-${env}-route53-health-check`));
  const n = (what: string) => alarms[`accessweaver-${env}-${what}`];
  const profile = PROFILES[env];
  const nodes = profile.cache.shards * (profile.cache.replicasPerShard + 1);

  it("creates exactly the expected alarms in the environment's region", () => {
    expect(Object.keys(alarms).sort()).toEqual(expectedNames(env).sort());
    for (const a of Object.values(alarms)) expect(a.provider).toBeUndefined();
    expect(all[`accessweaver-${env}-route53-health-check`].provider).toBe("aws.us-east-1");
  });

  it("every alarm's metric, statistic, period, evaluation periods, comparison, threshold, missing data and actions, from the inventory", () => {
    const expected = expectedRows(env);
    // The inventory covers every alarm of the region but the ERROR-log one, tested with its filter below.
    expect(
      Object.keys(alarms)
        .filter((name) => !(name in expected))
        .sort(),
    ).toEqual([`accessweaver-${env}-aw-api-gateway-error-logs`]);
    for (const [name, row] of Object.entries(expected)) expect({ name, ...rowOf(alarms[name]) }).toEqual({ name, ...row });
  });

  it("sends every alarm to the alerts topic on ALARM and OK, and the critical ones to the paging topic as well", () => {
    const critical = new Set([
      `accessweaver-${env}-alb-5xx-rate`,
      `accessweaver-${env}-rds-free-storage`,
      ...SERVICES.map((s) => `accessweaver-${env}-${s}-running-tasks-below-desired`),
    ]);
    for (const [name, a] of Object.entries(alarms)) {
      const expected = critical.has(name) ? [ALERTS, CRITICAL] : [ALERTS];
      expect({ name, actions: a.alarm_actions }).toEqual({ name, actions: expected });
      expect(a.ok_actions).toEqual(expected);
    }
  });

  it("the guide's three: p99 target response time, RDS CPU, Redis memory", () => {
    expect(n("alb-response-time")).toEqual(
      expect.objectContaining({
        namespace: "AWS/ApplicationELB",
        metric_name: "TargetResponseTime",
        dimensions: { LoadBalancer: ALB },
        extended_statistic: "p99",
        period: 60,
        evaluation_periods: 5,
        comparison_operator: "GreaterThanThreshold",
        threshold: 0.01,
        treat_missing_data: "notBreaching",
      }),
    );
    expect(n("alb-response-time").statistic).toBeUndefined();
    expect(n("rds-cpu-utilization")).toEqual(
      expect.objectContaining({
        namespace: "AWS/RDS",
        metric_name: "CPUUtilization",
        dimensions: { DBInstanceIdentifier: remote("database", "database_identifier") },
        statistic: "Average",
        period: 60,
        threshold: 80,
        treat_missing_data: "breaching",
      }),
    );
    const memory = n("redis-memory-utilization");
    expect(memory).toEqual(expect.objectContaining({ comparison_operator: "GreaterThanThreshold", threshold: 80, treat_missing_data: "breaching" }));
    const q = queries(memory);
    expect(q.e).toEqual(expect.objectContaining({ expression: `MAX([${Array.from({ length: nodes }, (_, i) => `n${i}`).join(", ")}])`, return_data: true }));
    for (let i = 0; i < nodes; i++) {
      expect(q[`n${i}`].metric).toEqual({
        namespace: "AWS/ElastiCache",
        metric_name: "DatabaseMemoryUsagePercentage",
        dimensions: { CacheClusterId: node(i) },
        period: 60,
        stat: "Average",
      });
    }
    expect(Object.keys(q)).toHaveLength(nodes + 1);
  });

  it("ALB 5xx rate: metric math over the ELB's and the targets' 5xx and the requests, above 0.1 %", () => {
    const a = n("alb-5xx-rate");
    const q = queries(a);
    expect(q.e.expression).toBe("100 * (FILL(elb, 0) + FILL(target, 0)) / requests");
    expect(q.elb.metric).toEqual({
      namespace: "AWS/ApplicationELB",
      metric_name: "HTTPCode_ELB_5XX_Count",
      dimensions: { LoadBalancer: ALB },
      period: 60,
      stat: "Sum",
    });
    expect(q.target.metric.metric_name).toBe("HTTPCode_Target_5XX_Count");
    expect(q.requests.metric.metric_name).toBe("RequestCount");
    expect(a).toEqual(expect.objectContaining({ threshold: 0.1, treat_missing_data: "notBreaching", evaluation_periods: 5 }));
    expect(a.metric_name).toBeUndefined();
  });

  it("unhealthy targets on each of the gateway's target groups (blue and green where releases are blue/green)", () => {
    const groups: [string, string][] =
      profile.gatewayReleases === "blue-green"
        ? [
            ["-blue", remote("loadbalancer", "api_gateway_target_group_arn_suffix")],
            ["-green", remote("loadbalancer", "api_gateway_green_target_group_arn_suffix")],
          ]
        : [["", remote("loadbalancer", "api_gateway_target_group_arn_suffix")]];
    for (const [slot, suffix] of groups) {
      expect(n(`aw-api-gateway-unhealthy-targets${slot}`)).toEqual(
        expect.objectContaining({
          namespace: "AWS/ApplicationELB",
          metric_name: "UnHealthyHostCount",
          dimensions: { LoadBalancer: ALB, TargetGroup: suffix },
          statistic: "Maximum",
          threshold: 0,
          period: 60,
        }),
      );
    }
  });

  it("WAF blocked requests: the web ACL's name from its ARN, the region, Rule ALL", () => {
    expect(n("waf-blocked-requests")).toEqual(
      expect.objectContaining({
        namespace: "AWS/WAFV2",
        metric_name: "BlockedRequests",
        dimensions: { WebACL: `\${element(split("/", ${remote("loadbalancer", "waf_web_acl_arn").slice(2, -1)}), 2)}`, Region: "eu-west-1", Rule: "ALL" },
        statistic: "Sum",
        period: 300,
        threshold: 1000,
        treat_missing_data: "notBreaching",
      }),
    );
  });

  it("per service: CPU and memory from AWS/ECS, running tasks below desired from Container Insights (silence breaches)", () => {
    for (const s of SERVICES) {
      for (const [m, metric] of [
        ["cpu-utilization", "CPUUtilization"],
        ["memory-utilization", "MemoryUtilization"],
      ]) {
        expect(n(`${s}-${m}`)).toEqual(
          expect.objectContaining({
            namespace: "AWS/ECS",
            metric_name: metric,
            dimensions: service(s),
            statistic: "Average",
            threshold: 80,
            evaluation_periods: 10,
          }),
        );
      }
      const tasks = n(`${s}-running-tasks-below-desired`);
      const q = queries(tasks);
      expect(q.e.expression).toBe("desired - running");
      expect(q.desired.metric).toEqual({
        namespace: "ECS/ContainerInsights",
        metric_name: "DesiredTaskCount",
        dimensions: service(s),
        period: 60,
        stat: "Maximum",
      });
      expect(q.running.metric).toEqual({
        namespace: "ECS/ContainerInsights",
        metric_name: "RunningTaskCount",
        dimensions: service(s),
        period: 60,
        stat: "Minimum",
      });
      expect(tasks).toEqual(
        expect.objectContaining({ comparison_operator: "GreaterThanOrEqualToThreshold", threshold: 1, evaluation_periods: 5, treat_missing_data: "breaching" }),
      );
    }
  });

  it("PostgreSQL: free storage in bytes of the profile's allocation, connections of the class's max_connections, read/write latency in seconds", () => {
    const db = profile.database;
    const id = { DBInstanceIdentifier: remote("database", "database_identifier") };
    expect(n("rds-free-storage")).toEqual(
      expect.objectContaining({
        metric_name: "FreeStorageSpace",
        dimensions: id,
        statistic: "Minimum",
        comparison_operator: "LessThanThreshold",
        threshold: Math.round(db.allocatedStorageGb * 0.05 * 1024 ** 3),
      }),
    );
    expect(n("rds-connections")).toEqual(
      expect.objectContaining({ metric_name: "DatabaseConnections", dimensions: id, statistic: "Maximum", threshold: RDS_CONNECTIONS_THRESHOLD[env] }),
    );
    expect(n("rds-read-latency")).toEqual(expect.objectContaining({ metric_name: "ReadLatency", dimensions: id, threshold: 0.02 }));
    expect(n("rds-write-latency")).toEqual(expect.objectContaining({ metric_name: "WriteLatency", dimensions: id, threshold: 0.02 }));
  });

  it("Redis: engine CPU, evictions and replication lag across the nodes, the hit ratio per shard over CacheHits and CacheMisses", () => {
    expect(queries(n("redis-engine-cpu-utilization")).n0.metric.metric_name).toBe("EngineCPUUtilization");
    expect(queries(n("redis-evictions")).e.expression).toMatch(/^SUM\(\[n0/);
    if (profile.cache.replicasPerShard > 0)
      expect(queries(n("redis-replication-lag")).n0.metric).toEqual(expect.objectContaining({ metric_name: "ReplicationLag", stat: "Maximum" }));
    const size = profile.cache.replicasPerShard + 1;
    for (let shard = 0; shard < profile.cache.shards; shard++) {
      const a = n(`redis-cache-hit-ratio-000${shard + 1}`);
      const q = queries(a);
      const ids = (p: string) => `[${Array.from({ length: size }, (_, i) => `${p}${i}`).join(", ")}]`;
      expect(q.e.expression).toBe(`100 * SUM(${ids("h")}) / (SUM(${ids("h")}) + SUM(${ids("m")}))`);
      for (let i = 0; i < size; i++) {
        expect(q[`h${i}`].metric).toEqual(
          expect.objectContaining({ metric_name: "CacheHits", dimensions: { CacheClusterId: node(shard * size + i) }, stat: "Sum" }),
        );
        expect(q[`m${i}`].metric).toEqual(expect.objectContaining({ metric_name: "CacheMisses", dimensions: { CacheClusterId: node(shard * size + i) } }));
      }
      // A metric math alarm carries its period on each metric.
      expect(q.h0.metric.period).toBe(300);
      expect(a.period).toBeUndefined();
      expect(a).toEqual(
        expect.objectContaining({ comparison_operator: "LessThanThreshold", threshold: 95, evaluation_periods: 3, treat_missing_data: "notBreaching" }),
      );
    }
    for (const a of Object.values(alarms)) expect((a.metric_query ?? []).filter((q: Json) => q.metric).length).toBeLessThanOrEqual(10);
  });

  it("an alarm on the rate of the gateway's ERROR lines, counted by the services phase's filter (no second filter here)", () => {
    expect(resources(json, "aws_cloudwatch_log_metric_filter")).toEqual({});
    expect(n("aw-api-gateway-error-logs")).toEqual(
      expect.objectContaining({
        namespace: `AccessWeaver/${env}`,
        metric_name: remote("services", "error_log_metrics.aw-api-gateway"),
        statistic: "Sum",
        period: 300,
        threshold: 10,
        treat_missing_data: "notBreaching",
      }),
    );
    // The services phase's filter on the gateway's log group writes that metric.
    const services = synth.json.services!;
    expect(services.output.error_log_metrics.value["aw-api-gateway"]).toBe(
      "${aws_cloudwatch_log_metric_filter.aw-api-gateway_error-logs.metric_transformation[0].name}",
    );
    expect(resources(services, "aws_cloudwatch_log_metric_filter")["aw-api-gateway_error-logs"]).toEqual(
      expect.objectContaining({
        log_group_name: "${aws_cloudwatch_log_group.aw-api-gateway_logs_log-group.name}",
        pattern: "ERROR",
        metric_transformation: expect.objectContaining({ namespace: `AccessWeaver/${env}`, name: "aw-api-gateway-error-logs" }),
      }),
    );
  });

  it("the earlier phases publish what the alarms read", () => {
    expect(synth.json.database!.output.database_identifier.value).toBe("${aws_db_instance.rds_instance.identifier}");
    expect(synth.json.cache!.output.redis_member_clusters.value).toBe("${tolist(aws_elasticache_replication_group.redis_replication-group.member_clusters)}");
    expect(synth.json.services!.output.service_log_groups.value["aw-api-gateway"]).toBe("${aws_cloudwatch_log_group.aw-api-gateway_logs_log-group.name}");
  });

  it("every alarm name is in the name inventory the length test reads", () => {
    const inventory = new Set(
      nameInventory(env, ACCOUNT, ["eu-west-1a"])
        .filter((r) => r.key === "alarm")
        .map((r) => r.name),
    );
    for (const name of [...Object.keys(alarms), `accessweaver-${env}-route53-health-check`])
      expect({ name, listed: inventory.has(name) }).toEqual({ name, listed: true });
  });
});

describe.each(ENVIRONMENTS)("%s: the Route 53 health-check alarm in us-east-1", (env) => {
  const json = synthEnv(config(env, { alert_paging_endpoints: [PAGING], alert_https_endpoints: ["https://chat.example.org/hook"] })).json.observability!;
  const alarm = resources(json, "aws_cloudwatch_metric_alarm")["route53-health-check"];

  it("reads HealthCheckStatus of the loadbalancer's health check, breaching when silent, through the aliased provider", () => {
    expect(alarm).toEqual(
      expect.objectContaining({
        alarm_name: `accessweaver-${env}-route53-health-check`,
        provider: "aws.us-east-1",
        namespace: "AWS/Route53",
        metric_name: "HealthCheckStatus",
        dimensions: { HealthCheckId: remote("loadbalancer", "route53_health_check_id") },
        statistic: "Minimum",
        period: 60,
        evaluation_periods: DEFAULT_ALARM_THRESHOLDS.health_check_failing_minutes,
        comparison_operator: "LessThanThreshold",
        threshold: 1,
        treat_missing_data: "breaching",
        alarm_actions: ["${aws_sns_topic.availability_topic.arn}"],
        ok_actions: ["${aws_sns_topic.availability_topic.arn}"],
      }),
    );
  });

  it("the aliased provider is us-east-1, locked to the same account, with the same default tags", () => {
    const [main, east] = json.provider.aws;
    expect(main.alias).toBeUndefined();
    expect(east).toEqual({ ...main, alias: "us-east-1", region: "us-east-1" });
    expect(east.allowed_account_ids).toEqual([ACCOUNT]);
  });

  it("its topic in us-east-1 is encrypted with a key there (rotated, CloudWatch alarms of this environment only), subscribed by every alert and paging endpoint", () => {
    expect(resources(json, "aws_sns_topic").availability_topic).toEqual(
      expect.objectContaining({
        name: `accessweaver-${env}-alerts-availability`,
        kms_master_key_id: "${aws_kms_key.availability-key_key.arn}",
        provider: "aws.us-east-1",
      }),
    );
    expect(resources(json, "aws_kms_key")["availability-key_key"]).toEqual(
      expect.objectContaining({ enable_key_rotation: true, provider: "aws.us-east-1", lifecycle: { prevent_destroy: PROFILES[env].preventDestroy } }),
    );
    expect(resources(json, "aws_kms_alias")["availability-key_alias"]).toEqual(
      expect.objectContaining({ name: `alias/accessweaver-${env}-alerts-availability`, provider: "aws.us-east-1" }),
    );
    const statements = json.data.aws_iam_policy_document["availability-key_key-policy"].statement;
    expect(statements.map((s: Json) => s.sid)).toEqual(["EnableIamUserPermissions", "AllowCloudWatchAlarms"]);
    expect(statements[1].condition).toEqual([
      { test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] },
      { test: "ArnLike", variable: "aws:SourceArn", values: [`arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:accessweaver-${env}-*`] },
    ]);
    const subs = Object.entries(resources(json, "aws_sns_topic_subscription")).filter(([k]) => k.startsWith("availability_"));
    expect(subs.map(([, s]) => [s.protocol, s.endpoint, s.provider])).toEqual([
      ["email", "oncall@example.org", "aws.us-east-1"],
      ["https", "https://chat.example.org/hook", "aws.us-east-1"],
      ["https", PAGING, "aws.us-east-1"],
    ]);
    expect(json.output.availability_topic_arn.value).toBe("${aws_sns_topic.availability_topic.arn}");
  });
});

describe("alarms: settings", () => {
  it("in us-east-1 itself, no second provider: the alarm uses the environment's topics", () => {
    const json = synthEnv(
      config("prod", { aws_region: "us-east-1", availability_zones: undefined, ecr_registry: "111122223333.dkr.ecr.us-east-1.amazonaws.com" }),
    ).json.observability!;
    expect(json.provider.aws).toHaveLength(1);
    const alarm = resources(json, "aws_cloudwatch_metric_alarm")["route53-health-check"];
    expect(alarm.provider).toBeUndefined();
    expect(alarm.alarm_actions).toEqual([ALERTS]);
    expect(resources(json, "aws_sns_topic").availability_topic).toBeUndefined();
    expect(json.output.availability_topic_arn).toBeUndefined();
  });

  it("sns_topic_arn: the regional alarms send to the operator's topic", () => {
    const arn = `arn:aws:sns:eu-west-1:${ACCOUNT}:ops-alerts`;
    const alarms = alarmsOf(synthEnv(config("prod", { sns_topic_arn: arn })).json.observability!);
    expect(alarms["accessweaver-prod-alb-response-time"].alarm_actions).toEqual([arn]);
    expect(alarms["accessweaver-prod-alb-5xx-rate"].ok_actions).toEqual([arn]);
  });

  it("alarm_thresholds overrides one threshold and leaves the others at their defaults", () => {
    const c = config("prod", { alarm_thresholds: { alb_p99_latency_ms: 25, redis_cache_hit_ratio_percent: 90 } });
    expect(c.settings.alarmThresholds).toEqual({ ...DEFAULT_ALARM_THRESHOLDS, alb_p99_latency_ms: 25, redis_cache_hit_ratio_percent: 90 });
    const alarms = alarmsOf(synthEnv(c).json.observability!);
    expect(alarms["accessweaver-prod-alb-response-time"].threshold).toBe(0.025);
    expect(alarms["accessweaver-prod-redis-cache-hit-ratio-0001"].threshold).toBe(90);
    expect(alarms["accessweaver-prod-rds-cpu-utilization"].threshold).toBe(80);
  });

  it("defaults follow the guide's KPIs, and every threshold says why", () => {
    expect(DEFAULT_ALARM_THRESHOLDS).toEqual(expect.objectContaining({ alb_p99_latency_ms: 10, alb_5xx_percent: 0.1, redis_cache_hit_ratio_percent: 95 }));
    for (const spec of Object.values(ALARM_THRESHOLDS)) expect(spec.why.length).toBeGreaterThan(20);
  });

  const problemsOf = (thresholds: unknown): string[] => {
    try {
      config("prod", { alarm_thresholds: thresholds });
    } catch (e) {
      if (e instanceof SettingsError) return e.problems.map((p) => `${p.file} | ${p.key} | ${p.found} | ${p.expected}`);
      throw e;
    }
    return [];
  };
  it.each([
    ["an unknown key", { alb_latency: 10 }, /alarm_thresholds \| "alb_latency" \| threshold keys among alb_p99_latency_ms, /],
    ["a non-number", { rds_cpu_percent: "80" }, /alarm_thresholds \| "80" \| a number from 1 to 100 \(%\) for rds_cpu_percent/],
    [
      "an out-of-range value",
      { redis_cache_hit_ratio_percent: 150 },
      /alarm_thresholds \| 150 \| a number from 1 to 100 \(%\) for redis_cache_hit_ratio_percent/,
    ],
    ["a fraction of minutes", { running_tasks_minutes: 2.5 }, /alarm_thresholds \| 2.5 \| a whole number from 1 to 60 \(minutes\) for running_tasks_minutes/],
    ["a list", [10], /alarm_thresholds \| \[10\] \| a map of thresholds/],
  ])("refuses %s, naming the file, the key, what was found and what is expected", (_what, value, message) => {
    const problems = problemsOf(value);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^environments\/prod\/terraform\.tfvars \| /);
    expect(problems[0]).toMatch(message);
  });

  it("refuses a database class whose memory it does not know, rather than guess max_connections", () => {
    expect(() => postgresMaxConnections("db.x9.huge")).toThrow(/No memory size known for db.x9.huge: add it to INSTANCE_MEMORY_GIB/);
    expect(postgresMaxConnections("db.r6g.xlarge")).toBe(3604);
  });
});
