import { Construct } from "constructs";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { SERVICES, ServiceName } from "../naming";
import { MetricSpec } from "./alarms";

export interface DashboardProps {
  /** `AccessWeaver-Production`, `-Staging`, `-Development`. */
  readonly name: string;
  readonly region: string;
  readonly albArnSuffix: string;
  readonly healthCheckId: string;
  readonly clusterName: string;
  readonly serviceNames: Readonly<Record<ServiceName, string>>;
  readonly databaseIdentifier: string;
  readonly redisNodes: readonly string[];
  /** The gateway's ERROR lines (the metric filter's metric). */
  readonly errorMetric: MetricSpec;
  /** Threshold lines drawn on the KPI graphs. */
  readonly p99LatencySeconds: number;
  readonly errorRatePercent: number;
  readonly hitRatioPercent: number;
}

type Row = (string | Record<string, unknown>)[];
interface Graph {
  readonly title: string;
  readonly rows: Row[];
  readonly region?: string;
  readonly stat?: string;
  readonly line?: { readonly value: number; readonly label: string };
  readonly yMax?: number;
}

/** A dashboard row for one metric: namespace, name, the dimension pairs, then its options. */
export function metricRow(m: Pick<MetricSpec, "namespace" | "metricName" | "dimensions">, options: Record<string, unknown> = {}): Row {
  return [m.namespace, m.metricName, ...Object.entries(m.dimensions).flat(), options];
}

/** Widgets per row of the dashboard's 24-column grid. */
const COLUMNS = 2;
const WIDTH = 24 / COLUMNS;
const HEIGHT = 6;
const PERIOD = 60;

/**
 * The guide's KPI dashboard (its `put-dashboard`, made by Terraform): latency p99, throughput, error
 * rate, availability, cache hit ratio, the services' CPU and memory, PostgreSQL and Redis. The body is
 * JSON written here with the real names and dimensions as Terraform references, resolved at apply.
 */
export class Dashboard extends Construct {
  readonly dashboard: CloudwatchDashboard;
  /** The widgets, before rendering (tests read the rendered body). */
  readonly graphs: readonly Graph[];

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const alb = (metricName: string) => ({ namespace: "AWS/ApplicationELB", metricName, dimensions: { LoadBalancer: props.albArnSuffix } });
    const ecs = (metricName: string) =>
      SERVICES.map((s) =>
        metricRow({ namespace: "AWS/ECS", metricName, dimensions: { ClusterName: props.clusterName, ServiceName: props.serviceNames[s] } }, { label: s }),
      );
    const rds = (metricName: string, options: Record<string, unknown> = {}) =>
      metricRow({ namespace: "AWS/RDS", metricName, dimensions: { DBInstanceIdentifier: props.databaseIdentifier } }, options);
    const redis = (metricName: string, prefix: string, options: Record<string, unknown> = {}) =>
      props.redisNodes.map((node, i) =>
        metricRow({ namespace: "AWS/ElastiCache", metricName, dimensions: { CacheClusterId: node } }, { id: `${prefix}${i}`, ...options }),
      );
    const ids = (prefix: string) => `[${props.redisNodes.map((_, i) => `${prefix}${i}`).join(", ")}]`;

    const graphs: Graph[] = [
      {
        title: "API latency p99 (s)",
        stat: "p99",
        rows: [metricRow(alb("TargetResponseTime"), { label: "p99" })],
        line: { value: props.p99LatencySeconds, label: "KPI" },
      },
      { title: "Throughput (requests a minute)", stat: "Sum", rows: [metricRow(alb("RequestCount"), { label: "Requests" })] },
      {
        title: "Error rate (% of requests, 5xx)",
        stat: "Sum",
        rows: [
          [{ expression: "100 * (FILL(elb, 0) + FILL(target, 0)) / requests", label: "5xx %", id: "rate" }],
          metricRow(alb("HTTPCode_ELB_5XX_Count"), { id: "elb", visible: false }),
          metricRow(alb("HTTPCode_Target_5XX_Count"), { id: "target", visible: false }),
          metricRow(alb("RequestCount"), { id: "requests", visible: false }),
          metricRow(props.errorMetric, { label: "Gateway ERROR lines", yAxis: "right" }),
        ],
        line: { value: props.errorRatePercent, label: "KPI" },
      },
      {
        // Route 53 publishes health-check metrics in us-east-1 only: the widget reads that region.
        title: "Availability (% of Route 53 checkers healthy)",
        region: "us-east-1",
        stat: "Average",
        rows: [
          metricRow(
            { namespace: "AWS/Route53", metricName: "HealthCheckPercentageHealthy", dimensions: { HealthCheckId: props.healthCheckId } },
            { label: "Healthy %" },
          ),
        ],
        yMax: 100,
      },
      {
        title: "Cache hit ratio (%)",
        stat: "Sum",
        rows: [
          [{ expression: `100 * SUM(${ids("h")}) / (SUM(${ids("h")}) + SUM(${ids("m")}))`, label: "Hit ratio %", id: "ratio" }],
          ...redis("CacheHits", "h", { visible: false }),
          ...redis("CacheMisses", "m", { visible: false }),
        ],
        line: { value: props.hitRatioPercent, label: "KPI" },
        yMax: 100,
      },
      { title: "ECS CPU per service (%)", stat: "Average", rows: ecs("CPUUtilization"), yMax: 100 },
      { title: "ECS memory per service (%)", stat: "Average", rows: ecs("MemoryUtilization"), yMax: 100 },
      {
        title: "PostgreSQL: CPU (%) and connections",
        stat: "Average",
        rows: [rds("CPUUtilization", { label: "CPU %" }), rds("DatabaseConnections", { label: "Connections", yAxis: "right", stat: "Maximum" })],
      },
      {
        title: "PostgreSQL: read and write latency (s), free storage (bytes)",
        stat: "Average",
        rows: [
          rds("ReadLatency", { label: "Read" }),
          rds("WriteLatency", { label: "Write" }),
          rds("FreeStorageSpace", { label: "Free storage", yAxis: "right", stat: "Minimum" }),
        ],
      },
      {
        title: "Redis: engine CPU and memory per node (%)",
        stat: "Average",
        rows: [...redis("EngineCPUUtilization", "c", { label: "Engine CPU" }), ...redis("DatabaseMemoryUsagePercentage", "u", { label: "Memory" })],
        yMax: 100,
      },
    ];
    this.graphs = graphs;

    const widgets = graphs.map((g, i) => ({
      type: "metric",
      x: (i % COLUMNS) * WIDTH,
      y: Math.floor(i / COLUMNS) * HEIGHT,
      width: WIDTH,
      height: HEIGHT,
      properties: {
        title: g.title,
        region: g.region ?? props.region,
        view: "timeSeries",
        stat: g.stat ?? "Average",
        period: PERIOD,
        metrics: g.rows,
        ...(g.line ? { annotations: { horizontal: [{ value: g.line.value, label: g.line.label }] } } : {}),
        ...(g.yMax !== undefined ? { yAxis: { left: { min: 0, max: g.yMax } } } : {}),
      },
    }));
    // The references (`${data.terraform_remote_state...}`) stay inside JSON strings: Terraform fills them in at
    // apply, and the names they resolve to hold no character JSON would need to escape.
    this.dashboard = new CloudwatchDashboard(this, "dashboard", { dashboardName: props.name, dashboardBody: JSON.stringify({ widgets }) });
  }
}
