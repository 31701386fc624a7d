import { Construct } from "constructs";
import { EnvironmentConfig } from "../config/settings";
import { partitionOf } from "../naming";
import { AlertTopic, alertPublishers } from "../constructs/alerts";
import { BuiltPhases, publishHandles, readHandles } from "./handles";
import { PhaseStack } from "./phase-stack";

/**
 * Phase 6 (the guide's "Monitoring Production", "Audit Trail", "Security Scanning" and "Cost Monitoring"):
 * where alarms, the budget and event rules send, and what they watch. Reads the earlier phases only
 * through their handles.
 */
export class ObservabilityStack extends PhaseStack {
  /** Undefined when the settings name an existing topic (`sns_topic_arn`). */
  readonly alerts?: AlertTopic;
  /** Where every alarm, the budget and the event rules notify. */
  readonly alertsTopicArn: string;
  /** The paging endpoints' topic, for critical alarms only; undefined without paging endpoints. */
  readonly critical?: AlertTopic;

  constructor(scope: Construct, config: EnvironmentConfig, built: BuiltPhases) {
    super(scope, "observability", { config });
    const s = config.settings;
    const n = this.names;
    const partition = partitionOf(s.region);
    const network = readHandles(this, built, "network");

    // Alerting: one topic for everything (or the operator's own), and one more for paging when set.
    const topic = { kmsKeyArn: network.kmsKeyArn, accountId: s.accountId, region: s.region, partition, publishers: alertPublishers(n, s.accountId, s.region, partition) };
    if (s.snsTopicArn) {
      this.alertsTopicArn = s.snsTopicArn;
    } else {
      this.alerts = new AlertTopic(this, "alerts", { ...topic, name: n.alertsTopic, emails: s.alertEmails, httpsEndpoints: s.alertHttpsEndpoints });
      this.alertsTopicArn = this.alerts.arn;
    }
    if (s.alertPagingEndpoints.length > 0) {
      this.critical = new AlertTopic(this, "alerts-critical", { ...topic, name: n.criticalTopic, httpsEndpoints: s.alertPagingEndpoints });
    }

    publishHandles(this, "observability", {
      alertsTopicArn: this.alertsTopicArn,
      criticalTopicArn: this.critical?.arn,
    });
  }
}
