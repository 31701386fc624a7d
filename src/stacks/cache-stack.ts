import { Construct } from "constructs";
import { Token } from "cdktf";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { EnvironmentConfig } from "../config/settings";
import { Redis } from "../constructs/redis";
import { AppSecret, ephemeralSecret, generatedSecret } from "../constructs/secrets";
import { secretRecoveryDays } from "./database-stack";
import { BuiltPhases, publishHandles, readHandles, readRecoveryCopies } from "./handles";
import { PhaseStack } from "./phase-stack";

/** AUTH token length: well inside ElastiCache's 16 to 128, letters and digits only. */
export const REDIS_AUTH_TOKEN_LENGTH = 64;
/** JWT signing secret length: 64 characters, i.e. the 64 bytes of key HS512 asks for (about 380 bits of entropy). */
export const JWT_SECRET_LENGTH = 64;
/** Token lifetime in seconds, as the guide's secret says. */
export const JWT_EXPIRATION_SECONDS = "3600";

/**
 * Phase 3: the Redis cluster in the network's database subnets and cache security group, the secret
 * `accessweaver/<env>/redis` with its AUTH token, and the JWT signing secret `accessweaver/<env>/jwt`.
 * The JWT secret lives here because it has the same single reader as the Redis secret, the API gateway
 * (service catalog): the gateway's two secrets come from one phase, and no data-less secret is tied to
 * the database's lifecycle.
 */
export class CacheStack extends PhaseStack {
  readonly redis: Redis;
  readonly redisSecret: AppSecret;
  /** The JWT signing secret; undefined in the DR environment, which reads the primary's replica. */
  readonly jwtSecret?: AppSecret;

  constructor(scope: Construct, config: EnvironmentConfig, built: BuiltPhases) {
    super(scope, "cache", { config });
    new RandomProvider(this, "random");
    const cache = config.sizing.cache;
    const network = readHandles(this, built, "network");
    const protect = config.sizing.preventDestroy;

    const authToken = generatedSecret(this, "auth-token", { length: REDIS_AUTH_TOKEN_LENGTH });
    this.redis = new Redis(this, "redis", {
      names: this.names,
      subnetIds: network.databaseSubnetIds,
      securityGroupId: network.securityGroupIds.cache,
      kmsKeyArn: network.kmsKeyArn,
      authToken: authToken.result,
      ...cache,
      protect,
      logRetentionDays: config.sizing.applicationLogRetentionDays,
      // Prod and staging change in the maintenance window; dev at once.
      applyImmediately: !protect,
    });
    const group = this.redis.group;
    const recoveryWindowDays = secretRecoveryDays(config);
    this.redisSecret = new AppSecret(this, "redis-secret", {
      name: this.names.secret("redis"),
      description: `AccessWeaver ${config.env} Redis: configuration endpoint, port, TLS and AUTH token`,
      kmsKeyArn: network.kmsKeyArn,
      recoveryWindowDays,
      preventDestroy: config.sizing.preventDestroy,
      value: { configuration_endpoint: group.configurationEndpointAddress, port: this.redis.port, tls: true, auth_token: authToken.result },
    });
    // The signing secret is made by Secrets Manager and written write-only: it is in no Terraform state.
    // A new jwt_secret_version writes a new one (a rotation: tokens signed with the old one stop verifying).
    // The DR environment reads the replica of the primary's JWT secret: tokens issued before the region
    // was lost still verify, and no second signing secret exists.
    const copies = config.site === "dr" ? readRecoveryCopies(this) : undefined;
    this.jwtSecret = copies ? undefined : this.makeJwtSecret(config, network.kmsKeyArn, network.drKmsKeyArn, recoveryWindowDays);

    publishHandles(this, "cache", {
      redisConfigurationEndpoint: group.configurationEndpointAddress,
      redisPort: Token.asString(this.redis.port),
      redisSecretArn: this.redisSecret.arn,
      jwtSecretArn: copies ? copies.jwtSecretReplicaArn : this.jwtSecret!.arn,
      redisReplicationGroupId: group.replicationGroupId,
      // A set of strings, which Terraform keeps sorted: <group>-0001-001, <group>-0001-002, ... shard by shard.
      redisMemberClusters: group.memberClusters,
    });
  }

  /** The JWT signing secret, with its replica in the DR region where there is one. */
  private makeJwtSecret(config: EnvironmentConfig, kmsKeyArn: string, drKmsKeyArn: string | undefined, recoveryWindowDays: number): AppSecret {
    const jwt = ephemeralSecret(this, "jwt-signing-secret", { length: JWT_SECRET_LENGTH });
    const drRegion = config.settings.drRegion;
    return new AppSecret(this, "jwt-secret", {
      name: this.names.secret("jwt"),
      description: `AccessWeaver ${config.env} JWT signing secret`,
      kmsKeyArn,
      recoveryWindowDays,
      preventDestroy: config.sizing.preventDestroy,
      value: { secret: jwt, expiration: JWT_EXPIRATION_SECONDS },
      writeOnlyVersion: config.settings.jwtSecretVersion,
      // A restore in the DR region needs the same signing secret, or every token issued before it fails.
      ...(drKmsKeyArn && drRegion ? { replica: { region: drRegion, kmsKeyArn: drKmsKeyArn } } : {}),
    });
  }
}
