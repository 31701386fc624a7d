import { Construct } from "constructs";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { databaseRolesSql } from "./db-roles-sql";
import { TaskLogProps } from "./fargate-service";
import { ServiceRole } from "./iam";
import { EncryptedLogGroup } from "./log-group";
import { oneOffTask } from "./one-off-task";

/**
 * The PostgreSQL client image, in the environment's own registry (`<ecr_registry>/<repository>:<tag>`).
 * The task runs with the services' security group, which reaches AWS through the VPC endpoints and, in
 * staging and prod, not the internet (`services_internet_egress = false`): an image on a public registry
 * could not be pulled there. The repository is the path an ECR pull-through cache rule for ECR Public
 * (`--ecr-repository-prefix ecr-public --upstream-registry-url public.ecr.aws`) gives the Docker official
 * image `public.ecr.aws/docker/library/postgres`, so it can be filled by such a rule or by a copy
 * (docs/data-tier.md, "Database roles"). The tag names the exact PostgreSQL and Alpine releases, so a
 * new client is a reviewed change here; major 15 is the engine's, and psql speaks to servers of its major
 * and older.
 */
export const DB_CLIENT_IMAGE = { repository: "ecr-public/docker/library/postgres", tag: "15.13-alpine3.20" } as const;
/** The image's own `postgres` user (uid 70 in the Alpine images): not root, and known to /etc/passwd. */
export const DB_CLIENT_USER = "70";
/** The container's name: its log streams are `ecs/db-roles/<task id>`. */
export const DB_ROLES_CONTAINER = "db-roles";

export interface DatabaseRolesTaskProps extends TaskLogProps {
  /** The task definition's family, `accessweaver-<env>-db-roles`. */
  readonly family: string;
  /** `<registry>/<repository>:<tag>` of a PostgreSQL client image. */
  readonly image: string;
  /** ARN of that image's repository: the only one the execution role pulls from. */
  readonly repositoryArn: string;
  /** One role per service that uses the database (`aw_pdp`, ...): created, or put back, by the task. */
  readonly roles: readonly string[];
  /** The instance's host name, port and application database. */
  readonly host: string;
  readonly port: string;
  readonly databaseName: string;
  /** The master user the task logs in as (its password comes from `masterSecretArn`). */
  readonly masterUsername: string;
  /** RDS's own secret of the master password (key `password`): the only secret the task reads. */
  readonly masterSecretArn: string;
  readonly executionRoleName: string;
  readonly taskRoleName: string;
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  /**
   * libpq's `sslmode`. `require` encrypts and refuses plain text (the instance forces TLS too) but does not
   * check the server's certificate; `verify-full` also checks it against the RDS CA, which the image
   * must then hold (docs/data-tier.md). @default "require"
   */
  readonly sslMode?: "require" | "verify-ca" | "verify-full";
  /** @default 256 */
  readonly cpu?: number;
  /** MiB. @default 512 */
  readonly memory?: number;
}

/**
 * The one-off Fargate task that creates the services' database roles: psql, logged in as the master user,
 * runs `databaseRolesSql` once and exits (0 when every statement succeeded). `make db-roles` starts it
 * with `aws ecs run-task` and reports its exit code. No service: nothing runs until an operator asks.
 *
 * Hardened as the services' containers are: read-only root filesystem, a non-root user, no Linux
 * capability, not privileged. Its execution role pulls only the client image, writes only its log group
 * and reads only the master password's secret; its task role has no policy (psql calls no AWS API).
 */
export class DatabaseRolesTask extends Construct {
  readonly logGroup: EncryptedLogGroup;
  readonly executionRole: ServiceRole;
  readonly taskRole: IamRole;
  readonly taskDefinition: EcsTaskDefinition;
  /** The script the task runs. */
  readonly sql: string;

  constructor(scope: Construct, id: string, props: DatabaseRolesTaskProps) {
    super(scope, id);
    this.sql = databaseRolesSql(props.roles);
    const password = { name: "PGPASSWORD", secretArn: props.masterSecretArn, jsonKey: "password" };
    // libpq reads its connection from PG* variables; only the password is a secret.
    const environment = {
      PGHOST: props.host,
      PGPORT: props.port,
      PGDATABASE: props.databaseName,
      PGUSER: props.masterUsername,
      PGSSLMODE: props.sslMode ?? "require",
      PGCONNECT_TIMEOUT: "15",
      PGAPPNAME: DB_ROLES_CONTAINER,
    };
    ({
      logGroup: this.logGroup,
      executionRole: this.executionRole,
      taskRole: this.taskRole,
      taskDefinition: this.taskDefinition,
    } = oneOffTask(this, {
      ...props,
      container: {
        name: DB_ROLES_CONTAINER,
        image: props.image,
        user: DB_CLIENT_USER,
        // --no-psqlrc: nothing read from the image's home; ON_ERROR_STOP: any error fails the run (exit 1).
        entryPoint: ["psql"],
        command: ["--no-psqlrc", "--set=ON_ERROR_STOP=1", "--command", this.sql],
        environment,
        secrets: [password],
      },
    }));
  }
}
