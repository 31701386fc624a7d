import { Construct } from "constructs";
import { Token } from "cdktf";
import { EnvironmentConfig } from "../config/settings";
import { Rds } from "../constructs/rds";
import { AppSecret } from "../constructs/secrets";
import { BuiltPhases, publishHandles, readHandles, readRecoveryCopies } from "./handles";
import { PhaseStack } from "./phase-stack";

/** The application database and its owner (the master user: role setup and break-glass only), created with the instance. */
export const DATABASE_NAME = "accessweaver";
export const DATABASE_USERNAME = "accessweaver_admin";

/** Days a deleted secret can be restored: the longest Secrets Manager allows where data is protected. */
export const secretRecoveryDays = (config: EnvironmentConfig): number =>
  // A restore drill's secrets (staging's DR environment) are deleted at once on teardown: the next drill
  // recreates them under the same names, which a secret pending deletion would refuse.
  config.site === "dr" && config.env !== "prod" ? 0 : config.sizing.preventDestroy ? 30 : 7;

/**
 * Phase 2: PostgreSQL in the network's database subnets and database security group, encrypted with the
 * network's key, and the secret `accessweaver/<env>/database` that tells a service how to connect.
 */
export class DatabaseStack extends PhaseStack {
  readonly rds: Rds;
  readonly secret: AppSecret;

  constructor(scope: Construct, config: EnvironmentConfig, built: BuiltPhases) {
    super(scope, "database", { config });
    const s = config.settings;
    const db = config.sizing.database;
    const network = readHandles(this, built, "network");
    // The DR environment restores the replicated backups, encrypted with the DR key (Region loss, part 2).
    const copies = config.site === "dr" ? readRecoveryCopies(this) : undefined;

    this.rds = new Rds(this, "rds", {
      names: this.names,
      subnetIds: network.databaseSubnetIds,
      securityGroupId: network.securityGroupIds.database,
      kmsKeyArn: network.kmsKeyArn,
      ...(copies
        ? {
            restoreFrom: { automatedBackupsArn: copies.databaseBackupsArn, ...(config.restoreTime ? { restoreTime: config.restoreTime } : {}) },
            dataKmsKeyArn: copies.drKmsKeyArn,
          }
        : {}),
      accountId: s.accountId,
      region: s.region,
      partition: this.partition,
      ...db,
      databaseName: DATABASE_NAME,
      username: DATABASE_USERNAME,
      protect: config.sizing.preventDestroy,
      logRetentionDays: config.sizing.applicationLogRetentionDays,
      // Performance Insights is not offered on the smallest burstable classes (dev's).
      performanceInsights: !/\.(micro|small)$/.test(db.instanceClass),
    });
    const instance = this.rds.instance;
    // Where a service connects, and nothing it logs in with: each service logs in as its own role with an
    // IAM token (docs/data-tier.md, "Database roles"); the master user and its password, which RDS manages
    // and rotates, are for the role setup and break-glass only, so neither is in this secret.
    this.secret = new AppSecret(this, "secret", {
      name: this.names.secret("database"),
      description: `AccessWeaver ${config.env} database: connection settings (no user, no password)`,
      kmsKeyArn: network.kmsKeyArn,
      recoveryWindowDays: secretRecoveryDays(config),
      preventDestroy: config.sizing.preventDestroy,
      value: {
        engine: "postgres",
        host: instance.address,
        port: instance.port,
        dbname: DATABASE_NAME,
      },
    });

    publishHandles(this, "database", {
      databaseEndpoint: instance.address,
      databasePort: Token.asString(instance.port),
      databaseName: DATABASE_NAME,
      databaseSecretArn: this.secret.arn,
      databaseMasterSecretArn: this.rds.masterSecretArn,
      databaseArn: instance.arn,
      databaseIdentifier: instance.identifier,
      databaseResourceId: instance.resourceId,
      databaseMasterUsername: instance.username,
    });
  }
}
