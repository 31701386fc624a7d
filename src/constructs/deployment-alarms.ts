import { Construct } from "constructs";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { AlarmSpec, MetricSpec, alarmResource } from "./alarms";

// These alarms stop and roll back a deployment; they notify no one: the observability phase's alarms
// (the running tasks, the gateway's 5xx rate and latency and ERROR lines) tell people.

/** Minutes a rolling service may run fewer tasks than its floor before its deployment rolls back. */
export const RUNNING_TASKS_MINUTES = 3;
/**
 * ERROR lines a minute, DEPLOYMENT_ERROR_MINUTES running, that roll a rolling service's deployment back.
 * A healthy service logs an ERROR now and then (a refused request); a release that breaks something logs
 * one on most requests, dozens a minute.
 */
export const DEPLOYMENT_ERROR_LINES_PER_MINUTE = 10;
export const DEPLOYMENT_ERROR_MINUTES = 3;
/** Target 5xx responses per minute, two minutes running, that stop a blue/green shift. */
export const TARGET_5XX_PER_MINUTE = 5;
/** p99 target response time (seconds), three minutes running, that stops a blue/green shift. */
export const TARGET_P99_SECONDS = 2;

/**
 * A rolling service's deployment alarm: fewer running tasks than the profile's count (its autoscaling
 * floor) for three minutes, from Container Insights. ECS rolls the deployment back when it fires.
 */
export function runningTasksAlarm(
  scope: Construct,
  id: string,
  props: { name: string; clusterName: string; serviceName: string; floor: number },
): CloudwatchMetricAlarm {
  return alarmResource(scope, id, props.name, {
    description: `${props.serviceName} runs fewer than ${props.floor} tasks: its deployment rolls back`,
    watch: {
      metric: {
        namespace: "ECS/ContainerInsights",
        metricName: "RunningTaskCount",
        dimensions: { ClusterName: props.clusterName, ServiceName: props.serviceName },
        stat: "Minimum",
      },
    },
    period: 60,
    evaluationPeriods: RUNNING_TASKS_MINUTES,
    comparison: "LessThanThreshold",
    threshold: props.floor,
    // Container Insights reports 0 for a service with no task: missing data means no metrics, not no tasks.
    missing: "missing",
  });
}

/**
 * A rolling service's deployment alarm on its own errors: more than DEPLOYMENT_ERROR_LINES_PER_MINUTE
 * ERROR lines a minute in its log group (its metric filter's metric) for DEPLOYMENT_ERROR_MINUTES
 * minutes. The metric counts every task of the service, old and new alike: while a deployment runs,
 * the old tasks' errors count too.
 */
export function errorLogsAlarm(scope: Construct, id: string, props: { name: string; serviceName: string; metric: MetricSpec }): CloudwatchMetricAlarm {
  return alarmResource(scope, id, props.name, {
    description: `${props.serviceName} logs more than ${DEPLOYMENT_ERROR_LINES_PER_MINUTE} ERROR lines a minute for ${DEPLOYMENT_ERROR_MINUTES} minutes: its deployment rolls back`,
    watch: { metric: props.metric },
    period: 60,
    evaluationPeriods: DEPLOYMENT_ERROR_MINUTES,
    comparison: "GreaterThanThreshold",
    threshold: DEPLOYMENT_ERROR_LINES_PER_MINUTE,
    // The filter writes 0 for every minute with logs: a minute without any log line has no errors either.
    missing: "notBreaching",
  });
}

/**
 * The blue/green gateway's alarms on one target group: its 5xx count and its p99 response time.
 * A group without traffic reports nothing, which is not an error.
 */
export function targetGroupAlarms(
  scope: Construct,
  id: string,
  props: { names: { errors: string; latency: string }; loadBalancer: string; targetGroup: string },
): CloudwatchMetricAlarm[] {
  const metric = (metricName: string, stat: string) => ({
    metric: { namespace: "AWS/ApplicationELB", metricName, dimensions: { LoadBalancer: props.loadBalancer, TargetGroup: props.targetGroup }, stat },
  });
  const common = { period: 60, comparison: "GreaterThanThreshold", missing: "notBreaching" } satisfies Partial<AlarmSpec>;
  return [
    alarmResource(scope, `${id}-5xx`, props.names.errors, {
      ...common,
      description: `More than ${TARGET_5XX_PER_MINUTE} target 5xx a minute: CodeDeploy stops the shift and rolls back`,
      watch: metric("HTTPCode_Target_5XX_Count", "Sum"),
      evaluationPeriods: 2,
      threshold: TARGET_5XX_PER_MINUTE,
    }),
    alarmResource(scope, `${id}-p99`, props.names.latency, {
      ...common,
      description: `p99 target response time above ${TARGET_P99_SECONDS} s: CodeDeploy stops the shift and rolls back`,
      watch: metric("TargetResponseTime", "p99"),
      evaluationPeriods: 3,
      threshold: TARGET_P99_SECONDS,
    }),
  ];
}
