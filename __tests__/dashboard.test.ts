// The observability phase's dashboard on whole-environment synths: its name, and a body (parsed as
// CloudWatch reads it) whose widgets show the guide's KPIs from the real names and dimensions.
import { ENVIRONMENTS, EnvironmentName, SERVICES } from "../src/naming";
import { PROFILES } from "../src/config/profiles";
import { config, resources, synthEnv } from "./support/config";

const TITLES: Record<EnvironmentName, string> = { dev: "Development", staging: "Staging", prod: "Production" };
const remote = (phase: string, output: string) => `\${data.terraform_remote_state.${phase}.outputs.${output}}`;
const ALB = remote("loadbalancer", "alb_arn_suffix");

type Json = any;
/** Metric rows of a widget: [namespace, name, dim, value, ..., options]; expressions are rows of one object. */
const metricRows = (w: Json) => w.properties.metrics.filter((r: Json[]) => typeof r[0] === "string");
const dims = (row: Json[]) => Object.fromEntries(Array.from({ length: (row.length - 3) / 2 }, (_, i) => [row[2 + 2 * i], row[3 + 2 * i]]));

describe.each(ENVIRONMENTS)("%s: dashboard", (env) => {
  const json = synthEnv(config(env)).json.observability!;
  const dashboard = resources(json, "aws_cloudwatch_dashboard").dashboard_dashboard;
  const body = JSON.parse(dashboard.dashboard_body);
  const widget = (title: RegExp): Json => {
    const found = body.widgets.filter((w: Json) => title.test(w.properties.title));
    expect(found).toHaveLength(1);
    return found[0];
  };
  const nodes = PROFILES[env].cache.shards * (PROFILES[env].cache.replicasPerShard + 1);

  it(`is AccessWeaver-${TITLES[env]}, published as dashboard_name`, () => {
    expect(dashboard.dashboard_name).toBe(`AccessWeaver-${TITLES[env]}`);
    expect(json.output.dashboard_name.value).toBe("${aws_cloudwatch_dashboard.dashboard_dashboard.dashboard_name}");
  });

  it("lays out metric widgets on the 24-column grid without overlap, each in the environment's region unless it says otherwise", () => {
    const cells = new Set<string>();
    for (const w of body.widgets) {
      expect(w.type).toBe("metric");
      expect(w.x + w.width).toBeLessThanOrEqual(24);
      const cell = `${w.x},${w.y}`;
      expect(cells.has(cell)).toBe(false);
      cells.add(cell);
    }
    expect(body.widgets.filter((w: Json) => w.properties.region !== "eu-west-1").map((w: Json) => w.properties.title)).toEqual([
      "Availability (% of Route 53 checkers healthy)",
    ]);
  });

  it("latency p99, throughput and error rate from the ALB's ARN suffix, with the KPI lines", () => {
    const latency = widget(/latency p99/);
    expect(latency.properties.stat).toBe("p99");
    expect(metricRows(latency).map((r: Json[]) => [r[0], r[1], dims(r)])).toEqual([["AWS/ApplicationELB", "TargetResponseTime", { LoadBalancer: ALB }]]);
    expect(latency.properties.annotations.horizontal[0].value).toBe(0.01);
    expect(metricRows(widget(/Throughput/))[0].slice(0, 4)).toEqual(["AWS/ApplicationELB", "RequestCount", "LoadBalancer", ALB]);
    const errors = widget(/Error rate/);
    expect(errors.properties.metrics[0][0].expression).toBe("100 * (FILL(elb, 0) + FILL(target, 0)) / requests");
    expect(metricRows(errors).map((r: Json[]) => r[1])).toEqual([
      "HTTPCode_ELB_5XX_Count",
      "HTTPCode_Target_5XX_Count",
      "RequestCount",
      remote("services", "error_log_metrics.aw-api-gateway"),
    ]);
    expect(errors.properties.annotations.horizontal[0].value).toBe(0.1);
  });

  it("availability from the loadbalancer's Route 53 health check, read in us-east-1", () => {
    const w = widget(/Availability/);
    expect(w.properties.region).toBe("us-east-1");
    expect(metricRows(w).map((r: Json[]) => [r[0], r[1], dims(r)])).toEqual([
      ["AWS/Route53", "HealthCheckPercentageHealthy", { HealthCheckId: remote("loadbalancer", "route53_health_check_id") }],
    ]);
  });

  it("cache hit ratio over every node's hits and misses, nodes from the cache phase's member clusters", () => {
    const w = widget(/Cache hit ratio/);
    expect(w.properties.metrics[0][0].expression).toMatch(/^100 \* SUM\(\[h0/);
    const rows = metricRows(w);
    expect(rows).toHaveLength(2 * nodes);
    expect(rows.map((r: Json[]) => dims(r).CacheClusterId)).toEqual(
      [0, 1].flatMap(() => Array.from({ length: nodes }, (_, i) => `\${element(data.terraform_remote_state.cache.outputs.redis_member_clusters, ${i})}`)),
    );
    expect(w.properties.annotations.horizontal[0].value).toBe(95);
  });

  it("ECS CPU and memory for each of the five services by cluster and service name", () => {
    for (const [title, metric] of [
      [/ECS CPU/, "CPUUtilization"],
      [/ECS memory/, "MemoryUtilization"],
    ] as const) {
      const rows = metricRows(widget(title));
      expect(rows.map((r: Json[]) => [r[1], dims(r)])).toEqual(
        SERVICES.map((s) => [metric, { ClusterName: remote("services", "cluster_name"), ServiceName: remote("services", `service_names.${s}`) }]),
      );
    }
  });

  it("PostgreSQL and Redis health by the instance identifier and the node ids", () => {
    const db = [...metricRows(widget(/PostgreSQL: CPU/)), ...metricRows(widget(/PostgreSQL: read/))];
    expect(db.map((r: Json[]) => r[1])).toEqual(["CPUUtilization", "DatabaseConnections", "ReadLatency", "WriteLatency", "FreeStorageSpace"]);
    for (const r of db) expect(dims(r)).toEqual({ DBInstanceIdentifier: remote("database", "database_identifier") });
    const redis = metricRows(widget(/Redis/));
    expect(redis.map((r: Json[]) => r[1])).toEqual([...Array(nodes).fill("EngineCPUUtilization"), ...Array(nodes).fill("DatabaseMemoryUsagePercentage")]);
  });

  it("references no name typed by hand: every dimension value is a reference to an earlier phase's output or the region", () => {
    for (const w of body.widgets) {
      for (const r of metricRows(w)) {
        for (const value of Object.values(dims(r))) expect(value).toMatch(/^\$\{(data\.terraform_remote_state\.|element\(data\.terraform_remote_state\.)/);
      }
    }
  });
});
