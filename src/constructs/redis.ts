import { Construct } from "constructs";
import { Token } from "cdktf";
import { ElasticacheParameterGroup } from "@cdktf/provider-aws/lib/elasticache-parameter-group";
import { ElasticacheReplicationGroup } from "@cdktf/provider-aws/lib/elasticache-replication-group";
import { ElasticacheSubnetGroup } from "@cdktf/provider-aws/lib/elasticache-subnet-group";
import { CacheSize } from "../config/profiles";
import { DataStorePlacement, engineLogGroups, storePreamble } from "./data-common";

/** The Redis logs delivered to CloudWatch Logs. */
export const REDIS_LOGS = ["slow-log", "engine-log"] as const;

/** Characters other than letters and digits that ElastiCache accepts in an AUTH token. */
export const REDIS_AUTH_SPECIALS = "!&#$^<>-";
/** Accepted AUTH tokens: 16 to 128 characters, letters, digits and REDIS_AUTH_SPECIALS only. */
export const REDIS_AUTH_TOKEN = /^[A-Za-z0-9!&#$^<>-]{16,128}$/;

export interface RedisProps extends DataStorePlacement, CacheSize {
  /** The AUTH token (a reference to a generated secret, never a literal). */
  readonly authToken: string;
  /**
   * Data that must survive a mistake (prod, staging): a final snapshot named `<group>-final` and
   * `prevent_destroy`.
   * @default false
   */
  readonly protect?: boolean;
  /** Changes applied at once instead of in the maintenance window. @default false */
  readonly applyImmediately?: boolean;
  /** @default "7.1" */
  readonly engineVersion?: string;
  /** @default 6379 */
  readonly port?: number;
  /** UTC; must not overlap the maintenance window. @default "04:00-05:00" */
  readonly snapshotWindow?: string;
  /** UTC. @default "sun:05:00-sun:06:00" */
  readonly maintenanceWindow?: string;
  /** Days to keep the delivered logs. @default 365 (the environment's applicationLogRetentionDays is passed) */
  readonly logRetentionDays?: number;
}

/**
 * The guide's `module.redis`: a Redis replication group in cluster mode (the application speaks the
 * cluster protocol everywhere, one shard in dev), TLS required with an AUTH token, encrypted at rest
 * with the environment's key, daily snapshots, and slow and engine logs in encrypted, retained groups.
 */
export class Redis extends Construct {
  readonly group: ElasticacheReplicationGroup;
  readonly port: number;

  constructor(scope: Construct, id: string, props: RedisProps) {
    super(scope, id);
    const n = props.names;
    const {
      protect,
      daily: snapshotWindow,
      weekly: maintenanceWindow,
    } = storePreamble(
      n.redis,
      "snapshot",
      { protect: props.protect, daily: props.snapshotWindow, weekly: props.maintenanceWindow },
      { daily: "04:00-05:00", weekly: "sun:05:00-sun:06:00" },
    );
    if (!Token.isUnresolved(props.authToken) && !REDIS_AUTH_TOKEN.test(props.authToken)) {
      throw new Error(`${n.redis}: the AUTH token must be 16 to 128 letters, digits or ${REDIS_AUTH_SPECIALS}.`);
    }
    if (props.shards < 1 || props.replicasPerShard < 0 || props.replicasPerShard > 5) {
      throw new Error(`${n.redis}: ${props.shards} shard(s) of ${props.replicasPerShard} replica(s); expected at least one shard and 0 to 5 replicas each.`);
    }
    this.port = props.port ?? 6379;
    const engineVersion = props.engineVersion ?? "7.1";
    const replicated = props.replicasPerShard > 0;

    const subnets = new ElasticacheSubnetGroup(this, "subnet-group", {
      name: n.redisSubnetGroup,
      description: `${n.redis}: database subnets`,
      subnetIds: props.subnetIds,
    });
    const family = `redis${engineVersion.split(".")[0]}`;
    const description = `${n.redis}: cluster mode`;
    const parameters = new ElasticacheParameterGroup(this, "parameter-group", {
      // Named after the arguments that force a new group, so the new one can exist beside the old.
      name: n.redisParameterGroup(family, description),
      family,
      description,
      parameter: [{ name: "cluster-enabled", value: "yes" }],
      // A replacement (new family, new description) is attached before the old one goes.
      lifecycle: { createBeforeDestroy: true },
    });
    const logGroups = engineLogGroups(this, REDIS_LOGS, n.redisLogGroup, props.kmsKeyArn, props.logRetentionDays, protect);

    this.group = new ElasticacheReplicationGroup(this, "replication-group", {
      replicationGroupId: n.redis,
      description: `AccessWeaver ${n.env} cache: ${props.shards} shard(s) of 1 primary and ${props.replicasPerShard} replica(s)`,
      engine: "redis",
      engineVersion,
      nodeType: props.nodeType,
      port: this.port,
      clusterMode: "enabled",
      parameterGroupName: parameters.name,
      numNodeGroups: props.shards,
      replicasPerNodeGroup: props.replicasPerShard,
      // ElastiCache requires automatic failover for cluster mode, even for a shard without replica.
      automaticFailoverEnabled: true,
      multiAzEnabled: replicated,
      subnetGroupName: subnets.name,
      securityGroupIds: [props.securityGroupId],
      atRestEncryptionEnabled: "true",
      kmsKeyId: props.kmsKeyArn,
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      authToken: props.authToken,
      // Explicit (provider 6.0 drops the default): a new token is added beside the current one, so clients
      // holding the old token keep working until the next change removes it.
      authTokenUpdateStrategy: "ROTATE",
      snapshotRetentionLimit: props.snapshotRetentionDays,
      snapshotWindow,
      maintenanceWindow,
      ...(protect ? { finalSnapshotIdentifier: n.redisFinalSnapshot } : {}),
      autoMinorVersionUpgrade: "true",
      applyImmediately: props.applyImmediately ?? false,
      logDeliveryConfiguration: REDIS_LOGS.map((log, i) => ({
        destination: logGroups[i]!.name,
        destinationType: "cloudwatch-logs",
        logFormat: "json",
        logType: log,
      })),
      lifecycle: { preventDestroy: protect },
    });
  }
}
