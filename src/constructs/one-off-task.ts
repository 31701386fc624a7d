import { Construct } from "constructs";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { HARDENED_LINUX_PARAMETERS, InjectedSecret, awsLogs, containerSecrets } from "./fargate-service";
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

/**
 * A task definition that no service runs (an operator starts it with `aws ecs run-task`): one hardened
 * container (read-only root filesystem, its user, no Linux capability, not privileged) logging to its
 * group, Fargate, created after its log group and its execution role's policy; id `task-definition` in
 * `scope`. The db-roles task and the cache client are built with it.
 */
export function oneOffTaskDefinition(
  scope: Construct,
  props: {
    readonly family: string;
    readonly cpu: number;
    readonly memory: number;
    readonly executionRole: ServiceRole;
    readonly taskRole: IamRole;
    readonly logGroup: EncryptedLogGroup;
    /** The log group's name, written out: reviewers read it in the container definition. */
    readonly logGroupName: string;
    readonly region: string;
    readonly container: OneOffContainer;
  },
): EcsTaskDefinition {
  const c = props.container;
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
  return new EcsTaskDefinition(scope, "task-definition", {
    family: props.family,
    cpu: String(props.cpu),
    memory: String(props.memory),
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
    executionRoleArn: props.executionRole.role.arn,
    taskRoleArn: props.taskRole.arn,
    containerDefinitions: JSON.stringify([container]),
    dependsOn: [props.logGroup.logGroup, props.executionRole.policy],
  });
}
