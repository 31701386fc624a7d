import { Construct } from "constructs";
import { Fn } from "cdktf";
import { postgresMaxConnections } from "../config/alarm-thresholds";
import { CATALOG } from "../config/services";
import { AlarmTargets, ObservabilityAlarms, certificateExpirySpec, healthCheckSpec, metricAlarm } from "../constructs/alarms";
import { DataStoreEvents } from "../constructs/data-events";
import { Dashboard } from "../constructs/dashboard";
import { errorLogMetricSpec } from "../constructs/log-metrics";
import { EnvironmentConfig } from "../config/settings";
import { AlertKey, AlertTopic, alertPublishers } from "../constructs/alerts";
import { AuditTrail } from "../constructs/audit-trail";
import { MonthlyBudget } from "../constructs/budget";
import { AlertRule, codedeployDeploymentFailures, ecsDeploymentFailures, guarddutyFindings } from "../constructs/event-rules";
import { SecurityScanning } from "../constructs/security-scanning";
import { FaultInjectionDrills } from "../constructs/fault-injection";
import { DatabaseRestoreTesting } from "../constructs/restore-testing";
import { DRILL_SCENARIOS, DrillScenario, PROJECT_TAG } from "../naming";
import { BuiltPhases, OBSERVABILITY_HANDLES, publishHandles, readHandles } from "./handles";
import { PhaseStack } from "./phase-stack";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";

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
  readonly alarms: ObservabilityAlarms;
  /** The Route 53 health check's alarm: in us-east-1, where Route 53 publishes its metrics. */
  readonly availabilityAlarm: CloudwatchMetricAlarm;
  /** Its topic in us-east-1; undefined when the environment's region is us-east-1 (its own topics serve). */
  readonly availabilityTopic?: AlertTopic;
  /** The API certificate's days to expiry: ACM's renewal is watched, not assumed. */
  readonly certificateAlarm: CloudwatchMetricAlarm;
  readonly dataStoreEvents: DataStoreEvents;
  readonly dashboard: Dashboard;
  /** The trail, its locked bucket and its log group. */
  /** The account's trail: undefined in the DR environment, which does not make it again. */
  readonly audit?: AuditTrail;
  readonly scanning: SecurityScanning;
  /** The failover drills (FIS templates); undefined where the data tier is not Multi-AZ (dev) and in the DR environment. */
  readonly drills?: FaultInjectionDrills;
  /** The database's daily AWS Backup snapshots and weekly restore test; staging and prod only. */
  readonly restoreTesting?: DatabaseRestoreTesting;

  constructor(scope: Construct, config: EnvironmentConfig, built: BuiltPhases) {
    super(scope, "observability", { config });
    const s = config.settings;
    const n = this.names;
    const partition = this.partition;
    const network = readHandles(this, built, "network");

    // Alerting: one topic for everything (or the operator's own), and one more for paging when set.
    const topic = {
      kmsKeyArn: network.kmsKeyArn,
      accountId: s.accountId,
      region: s.region,
      partition,
      publishers: alertPublishers(n, s.accountId, s.region, partition),
    };
    if (s.snsTopicArn) {
      this.alertsTopicArn = s.snsTopicArn;
    } else {
      this.alerts = new AlertTopic(this, "alerts", { ...topic, name: n.alertsTopic, emails: s.alertEmails, httpsEndpoints: s.alertHttpsEndpoints });
      this.alertsTopicArn = this.alerts.arn;
    }
    if (s.alertPagingEndpoints.length > 0) {
      this.critical = new AlertTopic(this, "alerts-critical", { ...topic, name: n.criticalTopic, httpsEndpoints: s.alertPagingEndpoints });
    }

    // Alarms and dashboard
    // Every alarm and widget is built from the names and dimensions the earlier phases publish.
    const database = readHandles(this, built, "database");
    const cache = readHandles(this, built, "cache");
    const lb = readHandles(this, built, "loadbalancer");
    const services = readHandles(this, built, "services");
    const gateway = CATALOG.find((spec) => spec.exposure === "alb")!.name;
    const thresholds = s.alarmThresholds;
    const targets: AlarmTargets = { alerts: this.alertsTopicArn, critical: this.critical?.arn };
    const { shards, replicasPerShard } = config.sizing.cache;
    // The nodes' ids (CacheClusterId) from the group itself, sorted shard by shard; the count is the profile's.
    const redisNodes = Array.from({ length: shards * (replicasPerShard + 1) }, (_, i) => Fn.element(cache.redisMemberClusters, i));
    // arn:<partition>:wafv2:<region>:<account>:regional/webacl/<name>/<id>: the WebACL dimension is the name.
    const webAclName = Fn.element(Fn.split("/", lb.wafWebAclArn), 2);
    this.alarms = new ObservabilityAlarms(this, "alarms", {
      names: n,
      region: s.region,
      thresholds,
      targets,
      albArnSuffix: lb.albArnSuffix,
      targetGroups: lb.greenTargetGroupArnSuffix
        ? [
            { slot: "blue", arnSuffix: lb.targetGroupArnSuffix },
            { slot: "green", arnSuffix: lb.greenTargetGroupArnSuffix },
          ]
        : [{ arnSuffix: lb.targetGroupArnSuffix }],
      webAclName,
      clusterName: services.clusterName,
      serviceNames: services.serviceNames,
      gateway,
      gatewayLogGroup: services.serviceLogGroups[gateway],
      gatewayErrorMetric: errorLogMetricSpec(n.logMetricNamespace, services.errorLogMetrics[gateway]),
      databaseIdentifier: database.databaseIdentifier,
      databaseAllocatedStorageGb: config.sizing.database.allocatedStorageGb,
      databaseMaxConnections: postgresMaxConnections(config.sizing.database.instanceClass),
      redisNodes,
      redisReplicasPerShard: replicasPerShard,
    });

    // Route 53 publishes health-check metrics in us-east-1 only; an alarm reads its own region's metrics and
    // publishes to its own region's topics, and KMS keys are regional: alarm, key and topic live there.
    const healthCheck = healthCheckSpec({ healthCheckId: lb.healthCheckId, minutes: thresholds.health_check_failing_minutes, domain: s.domainName });
    // us-east-1 holds both sites' availability alarms: the DR environment's is named apart (Region loss).
    const availability = config.site === "dr" ? { ...healthCheck, what: `dr-${healthCheck.what}` } : healthCheck;
    if (s.region === "us-east-1") {
      this.availabilityAlarm = metricAlarm(this, n, availability, targets);
    } else {
      const usEast1 = this.awsProvider("aws-us-east-1", "us-east-1", "us-east-1");
      const publishers = alertPublishers(n, s.accountId, "us-east-1", partition).filter((p) => p.service === "cloudwatch.amazonaws.com");
      const key = new AlertKey(this, "availability-key", {
        alias: n.availabilityKeyAlias,
        description: `AccessWeaver ${config.env}: the us-east-1 availability alert topic`,
        accountId: s.accountId,
        partition,
        publishers,
        deletionWindowDays: config.sizing.kmsDeletionWindowDays,
        preventDestroy: config.sizing.preventDestroy,
        provider: usEast1,
      });
      // One alarm sends here, and it is critical: the paging endpoints subscribe beside the alert endpoints.
      this.availabilityTopic = new AlertTopic(this, "availability", {
        name: n.availabilityTopic,
        kmsKeyArn: key.arn,
        accountId: s.accountId,
        region: "us-east-1",
        partition,
        publishers,
        emails: s.alertEmails,
        httpsEndpoints: [...s.alertHttpsEndpoints, ...s.alertPagingEndpoints],
        provider: usEast1,
      });
      this.availabilityAlarm = metricAlarm(this, n, availability, { alerts: this.availabilityTopic.arn }, usEast1);
    }

    this.certificateAlarm = metricAlarm(this, n, certificateExpirySpec({ certificateArn: lb.certificateArn, domain: s.domainName }), targets);
    this.dataStoreEvents = new DataStoreEvents(this, "data-store-events", {
      databaseIdentifier: database.databaseIdentifier,
      subscriptionName: n.databaseEventSubscription,
      cacheRuleName: n.eventRule("cache-events"),
      rotationRuleName: n.eventRule("secret-rotations"),
      topicArn: this.alertsTopicArn,
    });

    this.dashboard = new Dashboard(this, "dashboard", {
      name: n.dashboard,
      region: s.region,
      albArnSuffix: lb.albArnSuffix,
      healthCheckId: lb.healthCheckId,
      clusterName: services.clusterName,
      serviceNames: services.serviceNames,
      databaseIdentifier: database.databaseIdentifier,
      redisNodes,
      errorMetric: this.alarms.errorMetric,
      p99LatencySeconds: thresholds.alb_p99_latency_ms / 1000,
      errorRatePercent: thresholds.alb_5xx_percent,
      hitRatioPercent: thresholds.redis_cache_hit_ratio_percent,
    });

    // GuardDuty, Security Hub and Inspector are regional switches: the DR environment (Region loss) turns
    // them on in its region as the settings say.
    this.scanning = new SecurityScanning(this, "scanning", {
      accountId: s.accountId,
      region: s.region,
      partition,
      inspector: s.inspectorEnabled,
      guardduty: s.guarddutyEnabled,
      securityHub: s.securityHubEnabled,
    });
    // The audit trail and the budgets are the account's: the DR environment does not make them twice.
    if (config.site !== "dr") {
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
      // Budgets ORs the values of one filter: one tag, the environment's, so each budget counts its own environment.
      new MonthlyBudget(this, "budget", {
        name: n.budget,
        accountId: s.accountId,
        limitUsd: s.monthlyBudgetUsd,
        topicArn: this.alertsTopicArn,
        tag: { key: "Environment", value: config.env },
      });
      // Spend without the Environment tag (CloudWatch, Inspector, data transfer, support) counts only here.
      new MonthlyBudget(this, "account-budget", {
        name: n.accountBudget,
        accountId: s.accountId,
        limitUsd: s.accountMonthlyBudgetUsd,
        topicArn: this.alertsTopicArn,
      });
    }

    // The services phase rolls failed deployments back; these rules are how a failed release reaches people.
    new AlertRule(this, "ecs-deployment-failures", {
      name: n.eventRule("ecs-deployment-failures"),
      description: `A deployment of a service of ${n.cluster} failed (the circuit breaker rolled it back)`,
      pattern: ecsDeploymentFailures(`arn:${partition}:ecs:${s.region}:${s.accountId}:service/${services.clusterName}/`),
      topicArn: this.alertsTopicArn,
    });
    if (config.sizing.gatewayReleases === "blue-green") {
      new AlertRule(this, "codedeploy-deployment-failures", {
        name: n.eventRule("codedeploy-deployment-failures"),
        description: `A blue/green deployment of ${n.codedeployGroup(gateway)} failed or was stopped by its alarms (CodeDeploy rolled it back)`,
        pattern: codedeployDeploymentFailures(n.codedeployApp(gateway), n.codedeployGroup(gateway)),
        topicArn: this.alertsTopicArn,
      });
    }
    // Always: where GuardDuty is enabled centrally (guardduty_enabled false), a member account's findings
    // still arrive on its own event bus; without any detector the rule simply never matches.
    new AlertRule(this, "guardduty-findings", {
      name: n.eventRule("guardduty-findings"),
      description: "GuardDuty findings of high severity (7 and above) in this account and region",
      pattern: guarddutyFindings(),
      topicArn: this.alertsTopicArn,
    });

    // Failover drills (docs/drills.md): created, never started by Terraform (make drill starts one).
    if (OBSERVABILITY_HANDLES.fisExperimentTemplates.when(config)) {
      const alarmArn = (what: string) => {
        const alarm = this.alarms.alarms[this.alarms.specs.findIndex((spec) => spec.what === what)];
        if (!alarm) throw new Error(`The drills stop on the alarm ${n.alarm(what)}, which the observability alarms no longer make.`);
        return alarm.arn;
      };
      // The zonal drills take the first zone down; the other zones carry the load, as the Multi-AZ design promises.
      const zone = 0;
      this.drills = new FaultInjectionDrills(this, "drills", {
        names: n,
        accountId: s.accountId,
        region: s.region,
        partition,
        kmsKeyArn: network.kmsKeyArn,
        logRetentionDays: config.sizing.applicationLogRetentionDays,
        protectLogs: config.sizing.preventDestroy,
        // FIS stops on alarms of the template's region only: the availability alarm (us-east-1, where Route 53
        // publishes) can stop a drill only where the environment runs in us-east-1. What the user sees, the
        // ALB's 5xx rate and p99 response time, stands for it everywhere; both tolerate the minutes a failover takes.
        stopAlarmArns: [alarmArn("alb-5xx-rate"), alarmArn("alb-response-time"), ...(s.region === "us-east-1" ? [this.availabilityAlarm.arn] : [])],
        databaseArn: database.databaseArn,
        // The cache phase's default tags: no other replication group of this region carries all three.
        cache: { replicationGroupId: cache.redisReplicationGroupId, tags: { Project: PROJECT_TAG, Environment: config.env, Phase: "cache" } },
        clusterName: services.clusterName,
        serviceNames: services.serviceNames,
        zone: s.availabilityZones[zone]!,
        vpcId: network.vpcId,
        zoneSubnetIds: [network.publicSubnetIds, network.privateSubnetIds, network.databaseSubnetIds].map((tier) => Fn.element(tier, zone)),
      });
    }
    // The database's backups proven restorable every week (docs/drills.md); staging and prod (cost).
    if (OBSERVABILITY_HANDLES.restoreTestingPlanName.when(config)) {
      this.restoreTesting = new DatabaseRestoreTesting(this, "restore-testing", {
        names: n,
        partition,
        kmsKeyArn: network.kmsKeyArn,
        databaseArn: database.databaseArn,
        accountId: s.accountId,
        region: s.region,
        subnetGroupName: n.databaseSubnetGroup,
        securityGroupId: network.securityGroupIds.database,
        alertsTopicArn: this.alertsTopicArn,
        protect: config.sizing.preventDestroy,
      });
    }

    publishHandles(this, "observability", {
      alertsTopicArn: this.alertsTopicArn,
      criticalTopicArn: this.critical?.arn,
      auditTrailArn: this.audit?.trailArn,
      auditBucketName: this.audit ? n.auditBucket(s.accountId) : undefined,
      auditLogGroupName: this.audit ? n.trailLogGroup : undefined,
      availabilityTopicArn: this.availabilityTopic?.arn,
      dashboardName: this.dashboard.dashboard.dashboardName,
      fisExperimentTemplates: this.drills
        ? (Object.fromEntries(DRILL_SCENARIOS.map((scenario) => [scenario, this.drills!.templates[scenario].id])) as Record<DrillScenario, string>)
        : undefined,
      databaseBackupVaultName: this.restoreTesting?.vault.name,
      restoreTestingPlanName: this.restoreTesting?.testingPlan.name,
    });
  }
}
