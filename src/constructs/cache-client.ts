import { Construct } from "constructs";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { InjectedSecret, TaskLogProps } from "./fargate-service";
import { ServiceRole } from "./iam";
import { EncryptedLogGroup } from "./log-group";
import { oneOffTask } from "./one-off-task";

/**
 * The Redis client image, in the environment's own registry, on the same ECR pull-through path as the
 * PostgreSQL client of db-roles (`ecr-public/docker/library/<image>`, docs/data-tier.md): the task runs
 * with the services' security group, which reaches AWS through the VPC endpoints only in staging and prod.
 * The Docker official image builds redis-cli with TLS; the tag names the exact Redis and Alpine releases, so
 * a new client is a reviewed change here. Major 7 is the engine's (`redis7` parameter family).
 */
export const CACHE_CLIENT_IMAGE = { repository: "ecr-public/docker/library/redis", tag: "7.2.5-alpine3.20" } as const;
/** The image's own `redis` user (uid 999 in the Alpine images): not root. */
export const CACHE_CLIENT_USER = "999";
/** The container's name: the one `--overrides` names, and its log streams are `ecs/cache-client/<task id>`. */
export const CACHE_CLIENT_CONTAINER = "cache-client";
/** The redis-cli command the task runs without an override: a round trip through TLS and AUTH, which changes nothing. */
export const CACHE_CLIENT_DEFAULT_COMMAND = ["PING"] as const;
/** redis-cli's TLS (the cache refuses plain text) and cluster mode (follow a key's redirection to its shard). */
export const REDIS_CLI_TLS_CLUSTER = ["--tls", "-c"] as const;
/** The variable redis-cli reads its AUTH password from: the token never appears in the command or the task's description. */
export const REDISCLI_AUTH = "REDISCLI_AUTH";

export interface CacheClientTaskProps extends TaskLogProps {
  /** The task definition's family, `accessweaver-<env>-cache-client`. */
  readonly family: string;
  /** `<registry>/<repository>:<tag>` of an image with redis-cli built with TLS. */
  readonly image: string;
  /** ARN of that image's repository: the only one the execution role pulls from. */
  readonly repositoryArn: string;
  /** The replication group's configuration endpoint (cluster mode) and port. */
  readonly host: string;
  readonly port: string;
  /** The secret `accessweaver/<env>/redis`; its key `auth_token` is the AUTH token. */
  readonly redisSecretArn: string;
  readonly executionRoleName: string;
  readonly taskRoleName: string;
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  /** Other keys the secret is encrypted with, through Secrets Manager only. @default none */
  readonly secretKeyArns?: readonly string[];
  /** @default 256 */
  readonly cpu?: number;
  /** MiB. @default 512 */
  readonly memory?: number;
}

/**
 * The one-off Fargate task that runs redis-cli against the environment's cache from inside the VPC (the
 * cache has no public endpoint): TLS (`--tls`), cluster mode (`-c`, redirections followed to the shard
 * that owns a key), the AUTH token from the secret, the endpoint in REDIS_HOST and REDIS_PORT. The
 * command is what `make cache-flush` gives with `aws ecs run-task --overrides` (docs/drills.md); without
 * one, redis-cli PINGs. No service: nothing runs until an operator asks.
 *
 * Hardened as db-roles is: read-only root filesystem, the image's non-root user, no Linux capability,
 * not privileged. Its execution role pulls only the client image, writes only its log group and reads
 * only the Redis secret; its task role has no policy (redis-cli calls no AWS API).
 */
export class CacheClientTask extends Construct {
  readonly logGroup: EncryptedLogGroup;
  readonly executionRole: ServiceRole;
  readonly taskRole: IamRole;
  readonly taskDefinition: EcsTaskDefinition;

  constructor(scope: Construct, id: string, props: CacheClientTaskProps) {
    super(scope, id);
    const auth: InjectedSecret = { name: REDISCLI_AUTH, secretArn: props.redisSecretArn, jsonKey: "auth_token" };
    ({
      logGroup: this.logGroup,
      executionRole: this.executionRole,
      taskRole: this.taskRole,
      taskDefinition: this.taskDefinition,
    } = oneOffTask(this, {
      ...props,
      container: {
        name: CACHE_CLIENT_CONTAINER,
        image: props.image,
        user: CACHE_CLIENT_USER,
        // The image's entry point (docker-entrypoint.sh) runs a command that names its program as given (it
        // puts redis-server before one that starts with an option): an override names redis-cli, or a script
        // (`sh -c`, as make cache-flush gives, the endpoint from REDIS_HOST and REDIS_PORT). Without one:
        // redis-cli, TLS, cluster mode, PING.
        command: ["redis-cli", ...REDIS_CLI_TLS_CLUSTER, "-h", props.host, "-p", props.port, ...CACHE_CLIENT_DEFAULT_COMMAND],
        environment: { REDIS_HOST: props.host, REDIS_PORT: props.port },
        secrets: [auth],
      },
    }));
  }
}
