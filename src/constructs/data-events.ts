import { Construct } from "constructs";
import { DbEventSubscription } from "@cdktf/provider-aws/lib/db-event-subscription";
import { AlertRule } from "./event-rules";

/**
 * The RDS event categories of the instance that need a person: a failover or failure, a restart
 * (availability), maintenance applied or scheduled, storage running low, and RDS's own notices (the
 * end of a version's support, a certificate to rotate).
 */
export const RDS_EVENT_CATEGORIES = ["availability", "failover", "failure", "low storage", "maintenance", "notification"] as const;

/**
 * The ElastiCache events EventBridge receives directly that need a person (AWS's list: the EventBridge
 * reference, "Amazon ElastiCache events"): failures, changes applied to a cache (a failover, a node
 * replaced, maintenance) and limits. Created, deleted and successful snapshots are left out.
 */
export const CACHE_EVENT_TYPES = [
  "Cache Creation Failed",
  "Cache Update Failed",
  "Cache Updated",
  "Cache Limit Approaching",
  "Snapshot Creation Failed",
  "Snapshot Export Failed",
  "Snapshot Copy Failed",
] as const;

/** Secrets Manager's rotation outcomes (CloudTrail events of the service itself), the RDS-managed master secret's included. */
export const ROTATION_EVENTS = ["RotationSucceeded", "RotationFailed", "RotationAbandoned"] as const;

export interface DataStoreEventsProps {
  /** The instance's identifier (the database phase's `database_identifier`). */
  readonly databaseIdentifier: string;
  /** The event subscription's name (`accessweaver-<env>-postgres-events`). */
  readonly subscriptionName: string;
  /** The EventBridge rules' names: `accessweaver-<env>-cache-events`, `accessweaver-<env>-secret-rotations`. */
  readonly cacheRuleName: string;
  readonly rotationRuleName: string;
  /** The alerts topic (its policy lets RDS and the environment's rules publish). */
  readonly topicArn: string;
}

/**
 * How the data stores' own events reach the alerts topic: RDS's event subscription of the instance,
 * ElastiCache's events through EventBridge, and the secrets' rotations. ElastiCache's SNS notification
 * (`notification_topic_arn`) would have the cache phase point at the observability phase's topic, a
 * reference forwards; its events on EventBridge carry the same changes and failures.
 */
export class DataStoreEvents extends Construct {
  readonly subscription: DbEventSubscription;
  readonly cacheRule: AlertRule;
  readonly rotationRule: AlertRule;

  constructor(scope: Construct, id: string, props: DataStoreEventsProps) {
    super(scope, id);
    this.subscription = new DbEventSubscription(this, "database", {
      name: props.subscriptionName,
      snsTopic: props.topicArn,
      sourceType: "db-instance",
      sourceIds: [props.databaseIdentifier],
      eventCategories: [...RDS_EVENT_CATEGORIES],
      enabled: true,
    });
    this.cacheRule = new AlertRule(this, "cache", {
      name: props.cacheRuleName,
      description: "ElastiCache: a failed or applied change, a failed snapshot, a limit approaching",
      pattern: { source: ["aws.elasticache"], "detail-type": [...CACHE_EVENT_TYPES] },
      topicArn: props.topicArn,
    });
    this.rotationRule = new AlertRule(this, "rotation", {
      name: props.rotationRuleName,
      description: "Secrets Manager: a secret's rotation succeeded, failed or was abandoned (the database master password every 7 days)",
      pattern: {
        source: ["aws.secretsmanager"],
        "detail-type": ["AWS Service Event via CloudTrail"],
        detail: { eventSource: ["secretsmanager.amazonaws.com"], eventName: [...ROTATION_EVENTS] },
      },
      topicArn: props.topicArn,
    });
  }
}
