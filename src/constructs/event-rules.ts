import { Construct } from "constructs";
import { TerraformProvider } from "cdktf";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";

export interface AlertRuleProps {
  /** `accessweaver-<env>-<rule>`: the alert topic's policy lets rules of that pattern publish. */
  readonly name: string;
  readonly description: string;
  /** The EventBridge event pattern (rendered as JSON; references resolve at apply). */
  readonly pattern: Record<string, unknown>;
  readonly topicArn: string;
  /** Another region's provider (the recovery phase's rules in the primary region). @default the stack's */
  readonly provider?: TerraformProvider;
}

/** An EventBridge rule of the default bus that sends the events it matches to an alert topic, as they are. */
export class AlertRule extends Construct {
  readonly rule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: AlertRuleProps) {
    super(scope, id);
    const provider = props.provider ? { provider: props.provider } : {};
    this.rule = new CloudwatchEventRule(this, "rule", {
      name: props.name,
      description: props.description,
      eventPattern: JSON.stringify(props.pattern),
      ...provider,
    });
    // No role: EventBridge publishes to SNS under the topic's resource policy (and the key policy of its key).
    new CloudwatchEventTarget(this, "target", { rule: this.rule.name, targetId: "alerts", arn: props.topicArn, ...provider });
  }
}

/** ECS services of one cluster whose deployment failed (the circuit breaker rolled back, or gave up). */
export function ecsDeploymentFailures(clusterArnPrefix: string): Record<string, unknown> {
  return {
    source: ["aws.ecs"],
    "detail-type": ["ECS Deployment State Change"],
    // The event's resources are the service ARNs `arn:...:service/<cluster>/<service>`.
    resources: [{ prefix: clusterArnPrefix }],
    detail: { eventName: ["SERVICE_DEPLOYMENT_FAILED"] },
  };
}

/**
 * The end states of a CodeDeploy deployment that did not go through (the event's `state` is START,
 * SUCCESS, FAILURE, STOP or READY): FAILURE, and STOP, which is how a deployment stopped by its alarms
 * (DEPLOYMENT_STOP_ON_ALARM, the gateway's rollback) or by hand ends.
 */
export const CODEDEPLOY_FAILED_STATES = ["FAILURE", "STOP"] as const;

/** A CodeDeploy deployment of one application's group that failed or was stopped (and rolled back). */
export function codedeployDeploymentFailures(application: string, deploymentGroup: string): Record<string, unknown> {
  return {
    source: ["aws.codedeploy"],
    "detail-type": ["CodeDeploy Deployment State-change Notification"],
    detail: { state: [...CODEDEPLOY_FAILED_STATES], application: [application], deploymentGroup: [deploymentGroup] },
  };
}

/** GuardDuty findings of high severity and above (7.0 to 10): the ones that need a person now. */
export const GUARDDUTY_MIN_SEVERITY = 7;
export function guarddutyFindings(): Record<string, unknown> {
  return {
    source: ["aws.guardduty"],
    "detail-type": ["GuardDuty Finding"],
    detail: { severity: [{ numeric: [">=", GUARDDUTY_MIN_SEVERITY] }] },
  };
}
