import { Construct } from "constructs";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";

// These alarms stop and roll back a deployment; they notify no one yet: the observability phase adds
// their SNS actions.

/** Minutes a rolling service may run fewer tasks than its floor before its deployment rolls back. */
export const RUNNING_TASKS_MINUTES = 3;
/** Target 5xx responses per minute, two minutes running, that stop a blue/green shift. */
export const TARGET_5XX_PER_MINUTE = 5;
/** p99 target response time (seconds), three minutes running, that stops a blue/green shift. */
export const TARGET_P99_SECONDS = 2;

/**
 * A rolling service's deployment alarm: fewer running tasks than the profile's count (its autoscaling
 * floor) for three minutes, from Container Insights. ECS rolls the deployment back when it fires.
 */
export function runningTasksAlarm(scope: Construct, id: string, props: { name: string; clusterName: string; serviceName: string; floor: number }): CloudwatchMetricAlarm {
  return new CloudwatchMetricAlarm(scope, id, {
    alarmName: props.name,
    alarmDescription: `${props.serviceName} runs fewer than ${props.floor} tasks: its deployment rolls back`,
    namespace: "ECS/ContainerInsights",
    metricName: "RunningTaskCount",
    dimensions: { ClusterName: props.clusterName, ServiceName: props.serviceName },
    statistic: "Minimum",
    period: 60,
    evaluationPeriods: RUNNING_TASKS_MINUTES,
    comparisonOperator: "LessThanThreshold",
    threshold: props.floor,
    // Container Insights reports 0 for a service with no task: missing data means no metrics, not no tasks.
    treatMissingData: "missing",
  });
}

/**
 * The blue/green gateway's alarms on one target group: its 5xx count and its p99 response time.
 * A group without traffic reports nothing, which is not an error.
 */
export function targetGroupAlarms(scope: Construct, id: string, props: { names: { errors: string; latency: string }; loadBalancer: string; targetGroup: string }): CloudwatchMetricAlarm[] {
  const common = {
    namespace: "AWS/ApplicationELB",
    dimensions: { LoadBalancer: props.loadBalancer, TargetGroup: props.targetGroup },
    period: 60,
    comparisonOperator: "GreaterThanThreshold",
    treatMissingData: "notBreaching",
  };
  return [
    new CloudwatchMetricAlarm(scope, `${id}-5xx`, {
      ...common,
      alarmName: props.names.errors,
      alarmDescription: `More than ${TARGET_5XX_PER_MINUTE} target 5xx a minute: CodeDeploy stops the shift and rolls back`,
      metricName: "HTTPCode_Target_5XX_Count",
      statistic: "Sum",
      evaluationPeriods: 2,
      threshold: TARGET_5XX_PER_MINUTE,
    }),
    new CloudwatchMetricAlarm(scope, `${id}-p99`, {
      ...common,
      alarmName: props.names.latency,
      alarmDescription: `p99 target response time above ${TARGET_P99_SECONDS} s: CodeDeploy stops the shift and rolls back`,
      metricName: "TargetResponseTime",
      extendedStatistic: "p99",
      evaluationPeriods: 3,
      threshold: TARGET_P99_SECONDS,
    }),
  ];
}
