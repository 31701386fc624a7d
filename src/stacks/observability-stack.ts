import { Construct } from "constructs";
import { EnvironmentConfig } from "../config/settings";
import { partitionOf } from "../naming";
import { AlertTopic, alertPublishers } from "../constructs/alerts";
import { AuditTrail } from "../constructs/audit-trail";
import { MonthlyBudget } from "../constructs/budget";
import { AlertRule, codedeployDeploymentFailures, ecsDeploymentFailures, guarddutyFindings } from "../constructs/event-rules";
import { SecurityScanning } from "../constructs/security-scanning";
import { CATALOG } from "../config/services";
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
  /** The trail, its locked bucket and its log group. */
  readonly audit: AuditTrail;
  readonly scanning: SecurityScanning;

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

    // Audit trail, security scanning, budget and event rules
    const protect = config.sizing.preventDestroy;
    this.audit = new AuditTrail(this, "audit", {
      trailName: n.trail,
      bucketName: n.auditBucket(s.accountId),
      logGroupName: n.trailLogGroup,
      roleName: n.trailLogsRole,
      kmsKeyArn: network.kmsKeyArn,
      accountId: s.accountId,
      region: s.region,
      partition,
      objectLockMode: s.auditObjectLockMode,
      protect,
    });
    this.scanning = new SecurityScanning(this, "scanning", {
      accountId: s.accountId,
      region: s.region,
      partition,
      inspector: s.inspectorEnabled,
      guardduty: s.guarddutyEnabled,
      securityHub: s.securityHubEnabled,
    });
    // Budgets ORs the values of one filter: one tag, the environment's, so each budget counts its own environment.
    new MonthlyBudget(this, "budget", { name: n.budget, accountId: s.accountId, limitUsd: s.monthlyBudgetUsd, topicArn: this.alertsTopicArn, tag: { key: "Environment", value: config.env } });
    // The services phase rolls failed deployments back; these rules are how a failed release reaches people.
    const services = readHandles(this, built, "services");
    new AlertRule(this, "ecs-deployment-failures", {
      name: n.eventRule("ecs-deployment-failures"),
      description: `A deployment of a service of ${n.cluster} failed (the circuit breaker rolled it back)`,
      pattern: ecsDeploymentFailures(`arn:${partition}:ecs:${s.region}:${s.accountId}:service/${services.clusterName}/`),
      topicArn: this.alertsTopicArn,
    });
    if (config.sizing.gatewayReleases === "blue-green") {
      const gateway = CATALOG.find((spec) => spec.exposure === "alb")!.name;
      new AlertRule(this, "codedeploy-deployment-failures", {
        name: n.eventRule("codedeploy-deployment-failures"),
        description: `A blue/green deployment of ${n.codedeployGroup(gateway)} failed (CodeDeploy rolled it back)`,
        pattern: codedeployDeploymentFailures(n.codedeployApp(gateway), n.codedeployGroup(gateway)),
        topicArn: this.alertsTopicArn,
      });
    }
    if (this.scanning.detector) {
      new AlertRule(this, "guardduty-findings", {
        name: n.eventRule("guardduty-findings"),
        description: "GuardDuty findings of high severity (7 and above) in this account and region",
        pattern: guarddutyFindings(),
        topicArn: this.alertsTopicArn,
      });
    }

    publishHandles(this, "observability", {
      alertsTopicArn: this.alertsTopicArn,
      criticalTopicArn: this.critical?.arn,
      auditTrailArn: this.audit.trailArn,
      auditBucketName: n.auditBucket(s.accountId),
      auditLogGroupName: n.trailLogGroup,
    });
  }
}
