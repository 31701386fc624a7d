import { Construct } from "constructs";
import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter";
import type { MetricSpec } from "./alarms";

/** The ERROR lines of a service, as the guide filters them (`aws logs filter-log-events --filter-pattern ERROR`). */
export const ERROR_FILTER_PATTERN = "ERROR";

/** The metric a log metric filter writes, as an alarm or a dashboard reads it: the lines it counted, summed. */
export function errorLogMetricSpec(namespace: string, metricName: string): MetricSpec {
  return { namespace, metricName, dimensions: {}, stat: "Sum" };
}

export interface ErrorLogMetricProps {
  /** The filter's name (`accessweaver-<env>-<service>-error-logs`); unique within its log group. */
  readonly filterName: string;
  /** The service's log group: a reference to it, so the group exists before its filter. */
  readonly logGroupName: string;
  /** `AccessWeaver/<env>`: the namespace of the metrics this project derives from logs. */
  readonly namespace: string;
  /** `<service>-error-logs`. */
  readonly metricName: string;
}

/**
 * The count of a log group's ERROR lines as a CloudWatch metric: one metric filter (CloudWatch allows 100
 * per log group), no dimensions (a dimension per value would make one billed metric per value). The one
 * place such a filter is made: the services phase makes it for each service's log group; the deployment
 * alarms and the observability phase's alarm and dashboard read its metric.
 */
export function errorLogMetric(scope: Construct, id: string, props: ErrorLogMetricProps): { filter: CloudwatchLogMetricFilter; metric: MetricSpec } {
  const metric = errorLogMetricSpec(props.namespace, props.metricName);
  const filter = new CloudwatchLogMetricFilter(scope, id, {
    name: props.filterName,
    logGroupName: props.logGroupName,
    pattern: ERROR_FILTER_PATTERN,
    // 0 for a minute with log events and no ERROR: an alarm then tells "no errors" from "no logs".
    metricTransformation: { namespace: metric.namespace, name: metric.metricName, value: "1", defaultValue: "0", unit: "Count" },
  });
  return { filter, metric };
}
