import { Construct } from "constructs";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { HARDENED_LINUX_PARAMETERS, InjectedSecret, TaskLogProps, TaskRolesProps, awsLogs, containerSecrets, taskLogGroup, taskRoles } from "./fargate-service";
import { ServiceRole } from "./iam";
import { EncryptedLogGroup } from "./log-group";

/** The container of a one-off task: what it runs, as whom, with which secrets. */
export interface OneOffContainer {
  readonly name: string;
  readonly image: string;
  /** A numeric non-root user of the image. */
  readonly user: string;
  /** @default the image's */
  readonly entryPoint?: readonly string[];
  readonly command: readonly string[];
  readonly environment?: Readonly<Record<string, string>>;
  readonly secrets: readonly InjectedSecret[];
}

/** What a one-off task needs: its family, size, log group, roles and its one container. */
export interface OneOffTaskProps extends TaskLogProps, Omit<TaskRolesProps, "logGroupArn" | "secrets"> {
  /** The task definition's family (`accessweaver-<env>-<task>`). */
  readonly family: string;
  /** @default 256 */
  readonly cpu?: number;
  /** MiB. @default 512 */
  readonly memory?: number;
  readonly container: OneOffContainer;
}

/** The parts of a one-off task, for the construct that holds them. */
export interface OneOffTaskParts {
  readonly logGroup: EncryptedLogGroup;
  readonly executionRole: ServiceRole;
  readonly taskRole: IamRole;
  readonly taskDefinition: EcsTaskDefinition;
}

/**
 * A task that no service runs (an operator starts it with `aws ecs run-task`), in `scope`: its log group,
 * its roles (the execution role reads exactly the container's secrets), and a task definition of one
 * hardened container (read-only root filesystem, its user, no Linux capability, not privileged),
 * Fargate, created after its log group and its execution role's policy. The db-roles task and the cache
 * client are built with it.
 */
export function oneOffTask(scope: Construct, props: OneOffTaskProps): OneOffTaskParts {
  const logGroup = taskLogGroup(scope, props);
  const c = props.container;
  const { executionRole, taskRole } = taskRoles(scope, { ...props, logGroupArn: logGroup.logGroup.arn, secrets: c.secrets });
  const container = {
    name: c.name,
    image: c.image,
    essential: true,
    ...(c.entryPoint ? { entryPoint: [...c.entryPoint] } : {}),
    command: [...c.command],
    ...(c.environment ? { environment: Object.entries(c.environment).map(([name, value]) => ({ name, value })) } : {}),
    secrets: containerSecrets(c.secrets),
    readonlyRootFilesystem: true,
    privileged: false,
    user: c.user,
    linuxParameters: HARDENED_LINUX_PARAMETERS,
    logConfiguration: awsLogs(props.logGroupName, props.region),
  };
  const taskDefinition = new EcsTaskDefinition(scope, "task-definition", {
    family: props.family,
    cpu: String(props.cpu ?? 256),
    memory: String(props.memory ?? 512),
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
    executionRoleArn: executionRole.role.arn,
    taskRoleArn: taskRole.arn,
    containerDefinitions: JSON.stringify([container]),
    dependsOn: [logGroup.logGroup, executionRole.policy],
  });
  return { logGroup, executionRole, taskRole, taskDefinition };
}
