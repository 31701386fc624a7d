import { Construct } from "constructs";
import { TerraformProvider } from "cdktf";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Names } from "../naming";
import { rotatedKey } from "./rotated-key";
import { ANY_PRINCIPAL, Statement, policyDocument, sourceAccount, sourceArn } from "./iam";

/** A service that publishes alerts for this environment's resources of one kind. */
export interface AlertPublisher {
  /** Statement id in the key and topic policies. */
  readonly sid: string;
  readonly service: string;
  /** `aws:SourceArn` patterns: the resources it publishes for. */
  readonly sourceArns: readonly string[];
  /**
   * Whether its calls to KMS carry `aws:SourceAccount` and `aws:SourceArn`, so the key policy can require
   * them too. The topic policy requires them of every publisher.
   */
  readonly keyConditions: boolean;
}

export interface AlertTopicProps {
  readonly name: string;
  /** Encrypts the topic; CloudWatch, Budgets and EventBridge may use it for this topic's publishers (key policy). */
  readonly kmsKeyArn: string;
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  /** What may publish: `aws:SourceArn` patterns per service principal (e.g. this environment's alarms). */
  readonly publishers: readonly AlertPublisher[];
  /** E-mail subscribers (each confirms from the message SNS sends). @default none */
  readonly emails?: readonly string[];
  /**
   * https subscribers that confirm the subscription themselves (PagerDuty's SNS integration; not a chat
   * incoming webhook, which cannot). @default none
   */
  readonly httpsEndpoints?: readonly string[];
  /** The provider of another region (the us-east-1 availability topic). @default the stack's */
  readonly provider?: TerraformProvider;
}

/** Minutes Terraform waits for an https subscriber to confirm before the apply fails. */
export const HTTPS_CONFIRMATION_MINUTES = 5;

/**
 * One alert topic: encrypted with the environment's key, publishable only by the given services acting
 * for this account's named resources, over TLS only, with its e-mail and https subscribers.
 */
export class AlertTopic extends Construct {
  readonly topic: SnsTopic;
  readonly arn: string;

  constructor(scope: Construct, id: string, props: AlertTopicProps) {
    super(scope, id);
    const provider = props.provider;
    this.topic = new SnsTopic(this, "topic", { name: props.name, kmsMasterKeyId: props.kmsKeyArn, provider });
    this.arn = this.topic.arn;
    const publish: Statement[] = props.publishers.map((p) => ({
      sid: p.sid,
      actions: ["sns:Publish"],
      resources: [this.topic.arn],
      principals: [{ type: "Service", identifiers: [p.service] }],
      conditions: [sourceAccount(props.accountId), sourceArn(...p.sourceArns)],
    }));
    const policy = policyDocument(this, "policy-document", [
      ...publish,
      {
        sid: "DenyPublishWithoutTls",
        effect: "Deny",
        actions: ["sns:Publish"],
        resources: [this.topic.arn],
        principals: ANY_PRINCIPAL,
        conditions: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
      },
    ]);
    new SnsTopicPolicy(this, "policy", { arn: this.topic.arn, policy: policy.json, provider });
    (props.emails ?? []).forEach(
      (email, i) => new SnsTopicSubscription(this, `email-${i}`, { topicArn: this.topic.arn, protocol: "email", endpoint: email, provider }),
    );
    (props.httpsEndpoints ?? []).forEach(
      (url, i) =>
        new SnsTopicSubscription(this, `https-${i}`, {
          topicArn: this.topic.arn,
          protocol: "https",
          endpoint: url,
          // Terraform waits for the confirmation: an endpoint that never confirms fails the apply instead of
          // leaving a subscription that silently delivers nothing.
          endpointAutoConfirms: true,
          confirmationTimeoutInMinutes: HTTPS_CONFIRMATION_MINUTES,
          provider,
        }),
    );
  }
}

/** Who publishes to the environment's alert topics: its alarms, its budget and its event rules, nothing else. */
export function alertPublishers(n: Names, accountId: string, region: string, partition: string): readonly AlertPublisher[] {
  const arn = (service: string, resource: string, inRegion = region) => `arn:${partition}:${service}:${inRegion}:${accountId}:${resource}`;
  return [
    { sid: "AllowCloudWatchAlarms", service: "cloudwatch.amazonaws.com", sourceArns: [arn("cloudwatch", `alarm:${n.alarm("*")}`)], keyConditions: true },
    // Budgets are global: their ARNs have no region. The Budgets guide's topic policy names
    // arn:aws:budgets::<account>:* as the source, not the budget's own ARN (which its notifications may not
    // carry: a condition they do not meet drops every alert). It documents its key statement without
    // conditions, and nothing says its KMS calls carry them.
    { sid: "AllowBudgets", service: "budgets.amazonaws.com", sourceArns: [arn("budgets", "*", "")], keyConditions: false },
    // RDS's event subscription of the instance. The RDS guide's topic policy names the source resource
    // (db:<identifier>); the subscription's own ARN (es:<name>) is accepted too. Its KMS calls are not
    // documented to carry the conditions.
    {
      sid: "AllowRdsEvents",
      service: "events.rds.amazonaws.com",
      sourceArns: [arn("rds", `db:${n.database}`), arn("rds", `es:${n.databaseEventSubscription}`)],
      keyConditions: false,
    },
    // The SNS guide: aws:SourceAccount and aws:SourceArn in a key policy are not supported for EventBridge
    // publishing to an encrypted topic (its KMS requests do not carry them).
    { sid: "AllowEventBridgeRules", service: "events.amazonaws.com", sourceArns: [arn("events", `rule/${n.eventRulePattern}`)], keyConditions: false },
  ];
}

/** What a publisher does with the topic's key: SNS asks for a data key and decrypts it (the network key grants the same). */
export const PUBLISH_KEY_ACTIONS = ["kms:GenerateDataKey*", "kms:Decrypt"];

/**
 * Key-policy statements that let each publisher use a topic's key: for this account's named resources
 * only where the publisher's KMS calls say which (`keyConditions`); the topic policy still limits what
 * may publish to the topic.
 */
export function publisherKeyStatements(publishers: readonly AlertPublisher[], accountId: string): Statement[] {
  return publishers.map((p) => ({
    sid: p.sid,
    actions: PUBLISH_KEY_ACTIONS,
    resources: ["*"],
    principals: [{ type: "Service", identifiers: [p.service] }],
    ...(p.keyConditions ? { conditions: [sourceAccount(accountId), sourceArn(...p.sourceArns)] } : {}),
  }));
}

export interface AlertKeyProps {
  readonly alias: string;
  readonly description: string;
  readonly accountId: string;
  readonly partition: string;
  /** Who publishes to the topics the key encrypts. */
  readonly publishers: readonly AlertPublisher[];
  readonly deletionWindowDays: number;
  /** Terraform refuses to destroy the key (prod and staging, as every key: the data-prevent-destroy guardrail). */
  readonly preventDestroy: boolean;
  readonly provider?: TerraformProvider;
}

/**
 * A key for alert topics only, where the environment's key cannot serve (KMS keys are regional, and a
 * CloudWatch alarm cannot publish to a topic encrypted with the AWS-managed SNS key): the account's IAM
 * administers it, the publishers use it, rotated yearly.
 */
export class AlertKey extends Construct {
  readonly key: KmsKey;
  readonly arn: string;

  constructor(scope: Construct, id: string, props: AlertKeyProps) {
    super(scope, id);
    const policy = policyDocument(this, "key-policy", [
      {
        sid: "EnableIamUserPermissions",
        actions: ["kms:*"],
        resources: ["*"],
        principals: [{ type: "AWS", identifiers: [`arn:${props.partition}:iam::${props.accountId}:root`] }],
      },
      ...publisherKeyStatements(props.publishers, props.accountId),
    ]);
    this.key = rotatedKey(this, { ...props, policy: policy.json });
    this.arn = this.key.arn;
  }
}
