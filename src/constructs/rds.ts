import { Construct } from "constructs";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { DatabaseSize } from "../config/profiles";
import { ServiceRole } from "./iam";
import { DataStorePlacement, engineLogGroups, storePreamble } from "./data-common";

/** The PostgreSQL logs exported to CloudWatch Logs: `postgresql` holds slow statements and connections. */
export const RDS_LOG_EXPORTS = ["postgresql", "upgrade"] as const;

/** The current RDS certificate authority (RSA 2048, valid until 2061); it replaces rds-ca-2019, which expired in 2024. */
export const RDS_CA = "rds-ca-rsa2048-g1";

export interface RdsProps extends DataStorePlacement, DatabaseSize {
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  readonly databaseName: string;
  readonly username: string;
  /**
   * Data that must survive a mistake (prod, staging): deletion protection, a final snapshot named
   * `<identifier>-final`, automated backups kept after deletion, `prevent_destroy`, and changes held
   * for the maintenance window.
   * @default false
   */
  readonly protect?: boolean;
  /** @default 5432 */
  readonly port?: number;
  /** UTC; must not overlap the maintenance window. @default "02:00-03:00" */
  readonly backupWindow?: string;
  /** UTC. @default "sun:03:00-sun:04:00" */
  readonly maintenanceWindow?: string;
  /** Statements slower than this are logged to `postgresql.log`. @default 1000 (ms) */
  readonly slowStatementMs?: number;
  /** @default RDS_CA */
  readonly caCertIdentifier?: string;
  /** Enhanced monitoring granularity. @default 60 (seconds) */
  readonly monitoringIntervalSeconds?: number;
  /** Not offered on the micro and small burstable classes. @default true */
  readonly performanceInsights?: boolean;
  /**
   * What RDS does at the end of the major version's standard support: `open-source-rds-extended-support`
   * (paid Extended Support) or `open-source-rds-extended-support-disabled` (an automatic major upgrade).
   * @default "open-source-rds-extended-support-disabled"
   */
  readonly engineLifecycleSupport?: "open-source-rds-extended-support" | "open-source-rds-extended-support-disabled";
  /** Days to keep the exported logs. @default 365 (the environment's applicationLogRetentionDays is passed) */
  readonly logRetentionDays?: number;
  /**
   * Create the instance by point-in-time restore of replicated automated backups (the DR environment):
   * their ARN, and the time (ISO 8601 UTC) or, without one, the latest restorable time. The database
   * name and master user come from the backup. Terraform ignores later changes to it: a restore happens once.
   * @default a new, empty instance
   */
  readonly restoreFrom?: { readonly automatedBackupsArn: string; readonly restoreTime?: string };
  /**
   * The key of the data itself (storage, Performance Insights, the master password's secret) when it is
   * not `kmsKeyArn`: a restore from replicated backups keeps their key (the DR key); the log groups stay
   * on the environment's key, which lets CloudWatch Logs use it.
   * @default kmsKeyArn
   */
  readonly dataKmsKeyArn?: string;
}

/**
 * The guide's `module.rds`: one PostgreSQL instance in the database subnets, encrypted with the
 * environment's key, TLS forced, slow statements and connections logged to encrypted, retained log groups
 * made before the instance (else RDS makes them unencrypted and kept forever), and a master password that
 * RDS creates and rotates in Secrets Manager, so it is never in Terraform state or in the configuration.
 */
export class Rds extends Construct {
  readonly instance: DbInstance;
  readonly parameterGroup: DbParameterGroup;
  /** The Secrets Manager secret RDS made for the master password. */
  readonly masterSecretArn: string;
  readonly port: number;

  constructor(scope: Construct, id: string, props: RdsProps) {
    super(scope, id);
    const n = props.names;
    const {
      protect,
      daily: backupWindow,
      weekly: maintenanceWindow,
    } = storePreamble(
      n.database,
      "backup",
      { protect: props.protect, daily: props.backupWindow, weekly: props.maintenanceWindow },
      { daily: "02:00-03:00", weekly: "sun:03:00-sun:04:00" },
    );
    if (props.maxAllocatedStorageGb <= props.allocatedStorageGb) {
      throw new Error(
        `${n.database}: the storage ceiling (${props.maxAllocatedStorageGb} GB) must exceed the allocated storage (${props.allocatedStorageGb} GB), or storage autoscaling is off.`,
      );
    }
    this.port = props.port ?? 5432;
    const major = props.engineVersion.split(".")[0];

    const subnets = new DbSubnetGroup(this, "subnet-group", {
      name: n.databaseSubnetGroup,
      description: `${n.database}: database subnets`,
      subnetIds: props.subnetIds,
    });
    const family = `postgres${major}`;
    const description = `${n.database}: TLS 1.2+ only, slow statements and connections logged, no bind values`;
    this.parameterGroup = new DbParameterGroup(this, "parameter-group", {
      // The name changes with the family and the description (the arguments that force a new group), so
      // that the new group can exist beside the old one until the instance has moved to it.
      name: n.databaseParameterGroup(family, description),
      family,
      description,
      parameter: [
        { name: "rds.force_ssl", value: "1" },
        // RDS's default today, pinned so that no engine default can lower it; TLS 1.3 is negotiated when the
        // client offers it (a 1.3 minimum would refuse drivers and tools still on 1.2).
        { name: "ssl_min_protocol_version", value: "TLSv1.2" },
        { name: "log_min_duration_statement", value: String(props.slowStatementMs ?? 1000) },
        { name: "log_connections", value: "1" },
        { name: "log_disconnections", value: "1" },
        // Slow and failed statements are logged without their bind values: those are tenants' personal data,
        // and the logs are kept for years (RGPD).
        { name: "log_parameter_max_length", value: "0" },
        { name: "log_parameter_max_length_on_error", value: "0" },
      ],
      // A replacement (new family on a major upgrade, new description) is attached before the old one goes.
      lifecycle: { createBeforeDestroy: true },
    });
    const dataKey = props.dataKmsKeyArn ?? props.kmsKeyArn;
    const logGroups = engineLogGroups(this, RDS_LOG_EXPORTS, n.databaseLogGroup, props.kmsKeyArn, props.logRetentionDays, protect);
    // Enhanced monitoring writes OS metrics to the RDSOSMetrics log group of this account and region only.
    const metrics = `arn:${props.partition}:logs:${props.region}:${props.accountId}:log-group:RDSOSMetrics`;
    const monitoring = new ServiceRole(this, "monitoring-role", {
      name: n.databaseMonitoringRole,
      service: "monitoring.rds.amazonaws.com",
      accountId: props.accountId,
      // Only this instance's monitoring may assume the role (confused-deputy protection).
      sourceArns: [`arn:${props.partition}:rds:${props.region}:${props.accountId}:db:${n.database}`],
      statements: [
        { sid: "ManageOsMetricsLogGroup", actions: ["logs:CreateLogGroup", "logs:PutRetentionPolicy"], resources: [metrics] },
        {
          sid: "WriteOsMetrics",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:GetLogEvents"],
          resources: [`${metrics}:log-stream:*`],
        },
      ],
    });
    const insights = props.performanceInsights ?? true;

    this.instance = new DbInstance(this, "instance", {
      identifier: n.database,
      engine: "postgres",
      engineVersion: props.engineVersion,
      instanceClass: props.instanceClass,
      multiAz: props.multiAz,
      storageType: "gp3",
      allocatedStorage: props.allocatedStorageGb,
      maxAllocatedStorage: props.maxAllocatedStorageGb,
      storageEncrypted: true,
      kmsKeyId: dataKey,
      // A restored instance takes its database and master user from the backup (RDS accepts neither on a PostgreSQL restore).
      ...(props.restoreFrom
        ? {
            restoreToPointInTime: {
              sourceDbInstanceAutomatedBackupsArn: props.restoreFrom.automatedBackupsArn,
              ...(props.restoreFrom.restoreTime ? { restoreTime: props.restoreFrom.restoreTime } : { useLatestRestorableTime: true }),
            },
          }
        : { dbName: props.databaseName, username: props.username }),
      port: this.port,
      // RDS generates the password into Secrets Manager and rotates it: no password in state or JSON.
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: dataKey,
      iamDatabaseAuthenticationEnabled: true,
      dbSubnetGroupName: subnets.name,
      vpcSecurityGroupIds: [props.securityGroupId],
      publiclyAccessible: false,
      parameterGroupName: this.parameterGroup.name,
      caCertIdentifier: props.caCertIdentifier ?? RDS_CA,
      backupRetentionPeriod: props.backupRetentionDays,
      backupWindow,
      maintenanceWindow,
      copyTagsToSnapshot: true,
      deleteAutomatedBackups: !protect,
      deletionProtection: protect,
      skipFinalSnapshot: !protect,
      ...(protect ? { finalSnapshotIdentifier: n.databaseFinalSnapshot } : {}),
      performanceInsightsEnabled: insights,
      ...(insights ? { performanceInsightsKmsKeyId: dataKey, performanceInsightsRetentionPeriod: 7 } : {}),
      monitoringInterval: props.monitoringIntervalSeconds ?? 60,
      monitoringRoleArn: monitoring.role.arn,
      enabledCloudwatchLogsExports: [...RDS_LOG_EXPORTS],
      autoMinorVersionUpgrade: true,
      // At the end of a major version's standard support RDS would otherwise enrol the instance in paid
      // Extended Support; disabled, it upgrades the major version instead (plan the upgrade before then).
      engineLifecycleSupport: props.engineLifecycleSupport ?? "open-source-rds-extended-support-disabled",
      allowMajorVersionUpgrade: false,
      applyImmediately: !protect,
      dependsOn: logGroups,
      // A restore replays the transaction logs since the last daily snapshot: far longer than the 40-minute default.
      ...(props.restoreFrom ? { timeouts: { create: "3h" } } : {}),
      lifecycle: { preventDestroy: protect, ...(props.restoreFrom ? { ignoreChanges: ["restore_to_point_in_time"] } : {}) },
    });
    this.masterSecretArn = this.instance.masterUserSecret.get(0).secretArn;
  }
}
