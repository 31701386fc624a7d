import { Construct } from "constructs";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { ServiceRole } from "./iam";

export interface EventForwardingProps {
  /** The rule's name (`accessweaver-<env>-<rule>`), in the stack's default region. */
  readonly name: string;
  readonly description: string;
  readonly pattern: Record<string, unknown>;
  /** The default event bus of the region where the alert rules and topics are (the primary). */
  readonly targetBusArn: string;
  readonly roleName: string;
  readonly accountId: string;
  readonly partition: string;
  /** The stack's region, where the rule is. */
  readonly region: string;
}

/**
 * Forwards the events a rule matches in this region to another region's default bus, where an alert rule
 * sends them on (SNS topics and alarms serve their own region only). EventBridge needs a role to put
 * events on another region's bus; this one may put on that bus only, for this rule only.
 */
export class EventForwarding extends Construct {
  constructor(scope: Construct, id: string, props: EventForwardingProps) {
    super(scope, id);
    const rule = new CloudwatchEventRule(this, "rule", { name: props.name, description: props.description, eventPattern: JSON.stringify(props.pattern) });
    const role = new ServiceRole(this, "role", {
      name: props.roleName,
      service: "events.amazonaws.com",
      accountId: props.accountId,
      sourceArns: [`arn:${props.partition}:events:${props.region}:${props.accountId}:rule/${props.name}`],
      statements: [{ sid: "PutOnPrimaryBus", actions: ["events:PutEvents"], resources: [props.targetBusArn] }],
    });
    new CloudwatchEventTarget(this, "target", { rule: rule.name, targetId: "primary-bus", arn: props.targetBusArn, roleArn: role.role.arn });
  }
}
