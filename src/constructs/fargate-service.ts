import { Construct } from "constructs";
import { AppautoscalingPolicy, AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { ITerraformDependable } from "cdktf";
import { CAPACITY_PROVIDER_STRATEGY } from "../config/services";
import { Names, ServiceName } from "../naming";
import { MetricSpec } from "./alarms";
import { errorLogsAlarm, runningTasksAlarm } from "./deployment-alarms";
import { EncryptedLogGroup } from "./log-group";
import { errorLogMetric } from "./log-metrics";
import { ServiceRole, Statement, policyDocument, regionalService, sourceAccount, sourceArn } from "./iam";

/** Where the JVM writes temporary files: the only writable path of the read-only root filesystem. */
export const SCRATCH_PATH = "/tmp";
/** A non-root user of the images (numeric, so ECS need not resolve it in /etc/passwd). */
export const CONTAINER_USER = "1000";
/** Seconds the JVM gets to start before failed health checks count. */
export const HEALTH_START_PERIOD = 120;

/** Every container's Linux settings: no capability at all, and an init process that reaps children. */
export const HARDENED_LINUX_PARAMETERS = { capabilities: { add: [], drop: ["ALL"] }, initProcessEnabled: true } as const;

/** A container's `logConfiguration`: awslogs to `group`, streams `ecs/<container>/<task id>`. */
export const awsLogs = (group: string, region: string) => ({
  logDriver: "awslogs",
  options: { "awslogs-group": group, "awslogs-region": region, "awslogs-stream-prefix": "ecs" },
});

/** A container's `secrets`: each read from Secrets Manager when the task starts. */
export const containerSecrets = (secrets: readonly InjectedSecret[]) =>
  secrets.map((s) => ({ name: s.name, valueFrom: s.jsonKey ? `${s.secretArn}:${s.jsonKey}::` : s.secretArn }));

/** Where a task's container writes its logs. */
export interface TaskLogProps {
  readonly logGroupName: string;
  /** The environment's key. */
  readonly kmsKeyArn: string;
  /** Days the log group keeps events (the environment's applicationLogRetentionDays). @default 365 */
  readonly logRetentionDays?: number;
  /** `prevent_destroy` on the log group. @default false */
  readonly protectLogs?: boolean;
}

/** A task's log group (id `logs` in `scope`): application class, encrypted, retained, created before the task. */
export function taskLogGroup(scope: Construct, props: TaskLogProps): EncryptedLogGroup {
  return new EncryptedLogGroup(scope, "logs", {
    name: props.logGroupName,
    kmsKeyArn: props.kmsKeyArn,
    logClass: "application",
    retentionDays: props.logRetentionDays,
    protect: props.protectLogs ?? false,
  });
}

/** The two roles of a task definition, and what the execution role is allowed. */
export interface TaskRolesProps {
  readonly executionRoleName: string;
  readonly taskRoleName: string;
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  /** The only repository the execution role pulls from. */
  readonly repositoryArn: string;
  /** ARN of the log group the container writes to. */
  readonly logGroupArn: string;
  /** Secrets injected into the container: the execution role reads exactly these. */
  readonly secrets: readonly InjectedSecret[];
  /** The environment's key: decrypts those secrets, through Secrets Manager only. */
  readonly kmsKeyArn: string;
  /**
   * Other keys some of those secrets are encrypted with, also through Secrets Manager only (in the DR
   * environment: the DR key of the JWT secret's replica and of the restored database's master secret).
   * @default none
   */
  readonly secretKeyArns?: readonly string[];
  /** What the application may call with the task role. @default none: the task role has no policy */
  readonly taskRoleStatements?: readonly Statement[];
}

/**
 * The execution role (ECS pulls the image, writes the logs and reads the secrets with it) and the task
 * role (what the application itself calls AWS with), both assumed by ECS tasks of this account only.
 * Ids `execution-role`, `task-trust`, `task-role` and `task-role-policy` in `scope`.
 */
export function taskRoles(scope: Construct, props: TaskRolesProps): { executionRole: ServiceRole; taskRole: IamRole; taskPolicy?: IamRolePolicy } {
  const p = props.partition;
  const ecsTasks = [`arn:${p}:ecs:${props.region}:${props.accountId}:*`];
  const secretArns = [...new Set(props.secrets.map((s) => s.secretArn))];
  const statements: Statement[] = [
    // GetAuthorizationToken has no resource-level permissions: "*" is the only form AWS accepts.
    { sid: "EcrToken", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
    { sid: "PullOwnImage", actions: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], resources: [props.repositoryArn] },
    { sid: "WriteOwnLogs", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`${props.logGroupArn}:log-stream:*`] },
  ];
  if (secretArns.length > 0) {
    statements.push(
      { sid: "ReadOwnSecrets", actions: ["secretsmanager:GetSecretValue"], resources: secretArns },
      {
        sid: "DecryptOwnSecrets",
        actions: ["kms:Decrypt"],
        resources: [props.kmsKeyArn, ...(props.secretKeyArns ?? [])],
        conditions: [{ test: "StringEquals", variable: "kms:ViaService", values: [regionalService("secretsmanager", props.region, p)] }],
      },
    );
  }
  // The trust policy AWS documents for the task execution role has no condition: the agent that pulls the
  // image and reads the secrets is not documented to send aws:SourceArn or aws:SourceAccount when it
  // assumes the role (AWS recommends them for the task role only), and a condition it does not meet
  // would stop every task from starting. iam:PassRole guards who may name the role in a task definition.
  const executionRole = new ServiceRole(scope, "execution-role", {
    name: props.executionRoleName,
    service: "ecs-tasks.amazonaws.com",
    accountId: props.accountId,
    sourceArns: "unconditioned",
    statements,
  });
  const taskTrust = policyDocument(scope, "task-trust", [
    {
      sid: "AssumedByEcsTasks",
      actions: ["sts:AssumeRole"],
      principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }],
      conditions: [sourceAccount(props.accountId), sourceArn(...ecsTasks)],
    },
  ]);
  const taskRole = new IamRole(scope, "task-role", { name: props.taskRoleName, assumeRolePolicy: taskTrust.json });
  const taskPolicy =
    props.taskRoleStatements && props.taskRoleStatements.length > 0
      ? new IamRolePolicy(scope, "task-role-policy", {
          name: props.taskRoleName,
          role: taskRole.id,
          policy: policyDocument(scope, "task-permissions", props.taskRoleStatements).json,
        })
      : undefined;
  return { executionRole, taskRole, ...(taskPolicy ? { taskPolicy } : {}) };
}

/** One secret injected into the container: an environment variable read from Secrets Manager at start. */
export interface InjectedSecret {
  /** Variable the application reads, e.g. `DB_PASSWORD`. */
  readonly name: string;
  /** The secret's ARN. */
  readonly secretArn: string;
  /** A JSON key of the secret (`password`): only that value is injected. @default the whole secret */
  readonly jsonKey?: string;
}

export interface TargetTracking {
  readonly policyName: string;
  readonly targetValue: number;
  /** @default 300 */
  readonly scaleInCooldown?: number;
  /** @default 60 */
  readonly scaleOutCooldown?: number;
}

/**
 * Target tracking on the ALB requests each task serves in a minute.
 *
 * One target group (a rolling service): the predefined `ALBRequestCountPerTarget`, labelled
 * `<alb suffix>/<target group suffix>`. Several (blue/green: traffic is on either group, or split during
 * a shift): metric math over all of them, `requestsPerTaskExpression`, as the predefined metric cannot
 * follow a release from one group to the other.
 */
export interface RequestScaling extends TargetTracking {
  /** The load balancer's ARN suffix (`app/<name>/<id>`): the `LoadBalancer` dimension. */
  readonly loadBalancer: string;
  /**
   * The target groups' ARN suffixes (`targetgroup/<name>/<id>`) by slot (`blue`, `green`); a slot names
   * its metric query (`<slot>_requests`), so it is lower case letters, digits and underscores.
   */
  readonly targetGroups: Readonly<Record<string, string>>;
}

/** Id of the metric-math query whose value the request policy tracks. */
export const REQUESTS_PER_TASK_ID = "requests_per_task";
/** Id of the running-task query of the request policy's metric math. */
export const RUNNING_TASKS_ID = "running_tasks";

/**
 * The request policy's expression over several target groups: the requests of every group in the minute
 * (a group without traffic reports nothing, hence FILL 0) per running task of the service; with no
 * running task (Container Insights reports 0, or nothing), per one task, so the policy scales out rather
 * than divide by zero.
 */
export function requestsPerTaskExpression(slots: readonly string[]): string {
  const requests = slots.map((slot) => `FILL(${slot}_requests, 0)`).join(" + ");
  return `(${requests}) / IF(FILL(${RUNNING_TASKS_ID}, 0) > 0, FILL(${RUNNING_TASKS_ID}, 0), 1)`;
}

export interface FargateServiceProps extends Omit<TaskLogProps, "logGroupName"> {
  /**
   * The environment's names: the service's, its task family, log group, roles, error-log filter and
   * metric, deployment alarms and scaling policies all come from them (src/naming.ts).
   */
  readonly names: Names;
  /** `aw-<name>`: the catalog entry, the container, and the ECR repository of its image. */
  readonly service: ServiceName;
  /** `<registry>/aw-<name>:<tag>`. */
  readonly image: string;
  /** ARN of the image's ECR repository: the only repository the execution role pulls from. */
  readonly repositoryArn: string;
  /** Task CPU, in CPU units (1024 = one vCPU); one of Fargate's sizes (256 to 16384). */
  readonly cpu: number;
  /** Task memory, in MiB; a size Fargate allows with that CPU (e.g. 2048 to 8192 with 1024 units). */
  readonly memory: number;
  /** Tasks the service runs, and the autoscaling floor (min_capacity). */
  readonly desiredCount: number;
  /** Autoscaling ceiling, in tasks (max_capacity); at least desiredCount. */
  readonly maxCount: number;
  /** TCP port the container listens on: the port mapping, the health check and the target group's. */
  readonly port: number;
  /** HTTP path the container health check and the target group's check request (expects 200), e.g. `/actuator/health`. */
  readonly healthPath: string;
  /** Non-secret settings only (the compute guardrails refuse secret-looking names here). */
  readonly environment: Readonly<Record<string, string>>;
  readonly secrets: readonly InjectedSecret[];
  /** The ECS cluster's id (its ARN: `aws_ecs_cluster.id`). */
  readonly clusterId: string;
  readonly clusterName: string;
  /** Waited on before the service is created: a service needs the cluster's capacity providers. */
  readonly clusterReady: ITerraformDependable[];
  readonly subnetIds: string[];
  readonly securityGroupId: string;
  /**
   * What the application may call with its task role (a database service: `rds-db:connect` as its own
   * database role). @default none: the task role has no policy
   */
  readonly taskRoleStatements?: readonly Statement[];
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  /** Healthy share kept during a rolling deployment. @default 100 */
  readonly minHealthyPercent?: number;
  /** The target group the ALB sends the service's traffic to (gateway only). */
  readonly targetGroupArn?: string;
  /** Cloud Map service the tasks register in (internal services). */
  readonly registryArn?: string;
  /**
   * `rolling` (ECS, circuit breaker with rollback) or `blue-green` (CodeDeploy owns the task definition
   * and target group of the running service). @default rolling
   */
  readonly releases?: "rolling" | "blue-green";
  /** Average CPU the service is scaled to (policy `accessweaver-<env>-<short>-cpu-scaling`). */
  readonly cpuScaling: Omit<TargetTracking, "policyName">;
  /**
   * ALB requests per task and minute (gateway), over the target groups the service's traffic can be on
   * (policy `accessweaver-<env>-<short>-requests-scaling`). @default none
   */
  readonly requestScaling?: Omit<RequestScaling, "policyName">;
  /** Other keys its secrets are encrypted with (TaskRolesProps). @default none */
  readonly secretKeyArns?: readonly string[];
}

/**
 * One AccessWeaver service on Fargate: its log group, execution and task roles, task definition,
 * service and autoscaling. Used once per catalog entry.
 */
export class FargateService extends Construct {
  readonly logGroup: EncryptedLogGroup;
  readonly executionRole: ServiceRole;
  readonly taskRole: IamRole;
  /** The task role's policy, when the application may call AWS (taskRoleStatements). */
  readonly taskPolicy?: IamRolePolicy;
  readonly taskDefinition: EcsTaskDefinition;
  readonly service: EcsService;
  readonly scalingTarget: AppautoscalingTarget;
  readonly cpuPolicy: AppautoscalingPolicy;
  readonly requestPolicy?: AppautoscalingPolicy;
  /** The count of the service's ERROR lines (a metric filter on its log group). */
  readonly errorLogs: { readonly filter: CloudwatchLogMetricFilter; readonly metric: MetricSpec };
  /** The rolling deployment's alarms (none under blue/green). */
  readonly deploymentAlarms: CloudwatchMetricAlarm[] = [];

  constructor(scope: Construct, id: string, props: FargateServiceProps) {
    super(scope, id);
    const releases = props.releases ?? "rolling";
    const n = props.names;
    const serviceName = n.service(props.service);
    const logGroupName = n.serviceLogGroup(props.service);

    this.logGroup = taskLogGroup(this, { ...props, logGroupName });
    this.errorLogs = errorLogMetric(this, "error-logs", {
      filterName: n.errorLogFilter(props.service),
      namespace: n.logMetricNamespace,
      metricName: n.errorLogMetric(props.service),
      logGroupName: this.logGroup.logGroup.name,
    });
    // The application's own AWS calls, if any, are its task role's policy (a database service connects
    // to PostgreSQL with an IAM token); without taskRoleStatements the task role has no policy.
    const roles = taskRoles(this, {
      ...props,
      executionRoleName: n.taskExecutionRole(props.service),
      taskRoleName: n.taskRole(props.service),
      logGroupArn: this.logGroup.logGroup.arn,
    });
    this.executionRole = roles.executionRole;
    this.taskRole = roles.taskRole;
    this.taskPolicy = roles.taskPolicy;

    const container = {
      name: props.service,
      image: props.image,
      essential: true,
      portMappings: [{ containerPort: props.port, protocol: "tcp" }],
      environment: Object.entries(props.environment).map(([name, value]) => ({ name, value })),
      secrets: containerSecrets(props.secrets),
      healthCheck: {
        command: ["CMD-SHELL", `curl -fsS http://localhost:${props.port}${props.healthPath} || exit 1`],
        interval: 30,
        timeout: 5,
        retries: 3,
        startPeriod: HEALTH_START_PERIOD,
      },
      readonlyRootFilesystem: true,
      mountPoints: [{ sourceVolume: "scratch", containerPath: SCRATCH_PATH, readOnly: false }],
      privileged: false,
      user: CONTAINER_USER,
      linuxParameters: HARDENED_LINUX_PARAMETERS,
      logConfiguration: awsLogs(logGroupName, props.region),
    };
    this.taskDefinition = new EcsTaskDefinition(this, "task-definition", {
      family: n.taskFamily(props.service),
      cpu: String(props.cpu),
      memory: String(props.memory),
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
      executionRoleArn: this.executionRole.role.arn,
      taskRoleArn: this.taskRole.arn,
      volume: [{ name: "scratch" }],
      containerDefinitions: JSON.stringify([container]),
      // A new revision (a release) leaves the previous one registered and ACTIVE instead of deregistering
      // it: a circuit-breaker or CodeDeploy rollback and make restart start tasks from it again.
      skipDestroy: true,
      // The log group and the roles' policies exist before a task can start and write (or connect).
      dependsOn: [this.logGroup.logGroup, this.executionRole.policy, ...(this.taskPolicy ? [this.taskPolicy] : [])],
    });

    const blueGreen = releases === "blue-green";
    // A rolling deployment's alarms, in the service's `alarms` block: its running tasks below the desired
    // count, and its ERROR lines. Blue/green has its own, in the deployment group.
    if (!blueGreen) {
      this.deploymentAlarms.push(
        runningTasksAlarm(this, "deployment-alarm", {
          name: n.alarm(`${props.service}-deployment`),
          clusterName: props.clusterName,
          serviceName,
          floor: props.desiredCount,
        }),
        errorLogsAlarm(this, "deployment-errors-alarm", { name: n.alarm(`${props.service}-deployment-errors`), serviceName, metric: this.errorLogs.metric }),
      );
    }
    this.service = new EcsService(this, "service", {
      name: serviceName,
      cluster: props.clusterId,
      taskDefinition: this.taskDefinition.arn,
      desiredCount: props.desiredCount,
      capacityProviderStrategy: CAPACITY_PROVIDER_STRATEGY.map((c) => ({ ...c })),
      networkConfiguration: { subnets: props.subnetIds, securityGroups: [props.securityGroupId], assignPublicIp: false },
      deploymentController: { type: blueGreen ? "CODE_DEPLOY" : "ECS" },
      // ECS refuses the circuit breaker under CODE_DEPLOY, whose deployment group rolls back instead.
      ...(blueGreen ? {} : { deploymentCircuitBreaker: { enable: true, rollback: true } }),
      // The circuit breaker sees tasks that fail to start or to pass their health checks; the alarms, a
      // service logging errors, and tasks that die once the old ones are gone (during the bake time).
      ...(this.deploymentAlarms.length > 0 ? { alarms: { alarmNames: this.deploymentAlarms.map((a) => a.alarmName), enable: true, rollback: true } } : {}),
      // ECS moves tasks back into a zone that lost them (after a zone outage, a failed placement); CodeDeploy
      // services do not support it, so the blue/green gateway leaves it unset.
      ...(blueGreen ? {} : { availabilityZoneRebalancing: "ENABLED" }),
      deploymentMinimumHealthyPercent: props.minHealthyPercent ?? 100,
      deploymentMaximumPercent: 200,
      ...(props.targetGroupArn
        ? {
            loadBalancer: [{ targetGroupArn: props.targetGroupArn, containerName: props.service, containerPort: props.port }],
            healthCheckGracePeriodSeconds: HEALTH_START_PERIOD,
          }
        : {}),
      ...(props.registryArn ? { serviceRegistries: { registryArn: props.registryArn } } : {}),
      enableExecuteCommand: false,
      enableEcsManagedTags: true,
      propagateTags: "SERVICE",
      // Autoscaling and the runbook's `update-service --desired-count` own the count; under blue/green,
      // CodeDeploy owns the running task definition and target group.
      // CodeDeploy replaces the task set at each release and sets the strategy the AppSpec names; provider 5.x
      // reads any strategy difference as a replacement of the service (aws/containers-roadmap#1752), so the
      // strategy is ignored once created, and make release sends the same one in its AppSpec.
      lifecycle: { ignoreChanges: blueGreen ? ["desired_count", "task_definition", "load_balancer", "capacity_provider_strategy"] : ["desired_count"] },
      dependsOn: props.clusterReady,
    });

    this.scalingTarget = new AppautoscalingTarget(this, "scaling-target", {
      serviceNamespace: "ecs",
      scalableDimension: "ecs:service:DesiredCount",
      resourceId: `service/${props.clusterName}/${this.service.name}`,
      minCapacity: props.desiredCount,
      maxCapacity: props.maxCount,
    });
    const tracking = (
      pid: string,
      metricName: string,
      t: Omit<TargetTracking, "policyName">,
      metric: Pick<AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration, "predefinedMetricSpecification" | "customizedMetricSpecification">,
    ) =>
      new AppautoscalingPolicy(this, pid, {
        name: n.scalingPolicy(props.service, metricName),
        policyType: "TargetTrackingScaling",
        serviceNamespace: this.scalingTarget.serviceNamespace,
        scalableDimension: this.scalingTarget.scalableDimension,
        resourceId: this.scalingTarget.resourceId,
        targetTrackingScalingPolicyConfiguration: {
          targetValue: t.targetValue,
          scaleInCooldown: t.scaleInCooldown ?? 300,
          scaleOutCooldown: t.scaleOutCooldown ?? 60,
          ...metric,
        },
      });
    this.cpuPolicy = tracking("cpu-scaling", "cpu", props.cpuScaling, {
      predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
    });
    if (props.requestScaling) {
      this.requestPolicy = tracking("request-scaling", "requests", props.requestScaling, requestMetric(props.requestScaling, props.clusterName, serviceName));
    }
  }
}

/**
 * The request policy's metric. One target group: ALB's own requests per target (`RequestCountPerTarget`,
 * Sum over a minute). Several: the same figure computed over all of them, so that it follows the traffic
 * wherever CodeDeploy has put it:
 *
 * - numerator: `RequestCount` (Sum) of each group, `LoadBalancer` and `TargetGroup` dimensions; the
 *   queries have no period attribute in provider 5.100, and Application Auto Scaling's default is 60 s,
 *   so this is requests per minute, as `RequestCountPerTarget` is, and the target value keeps its meaning;
 * - denominator: Container Insights `RunningTaskCount` (Average) of the service, the denominator of AWS's
 *   own metric-math example (SQS backlog per task). It counts the tasks whichever group they are
 *   registered in, is one query rather than one per group, and does not depend on health checks: ALB's
 *   `HealthyHostCount` of both groups would match `RequestCountPerTarget` more closely (ALB divides by
 *   healthy targets), but drops to 0 when every task fails its health check, and the policy would then
 *   scale a failing service out to its ceiling. A task still starting counts before it takes traffic,
 *   which lowers the figure for a minute or two after a scale-out (a damper, not a fault). While a
 *   CodeDeploy shift runs, both task sets run and share the traffic, so the figure halves until the old
 *   set is terminated; the CPU policy still sees the load.
 */
function requestMetric(
  r: Omit<RequestScaling, "policyName">,
  clusterName: string,
  serviceName: string,
): Pick<AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration, "predefinedMetricSpecification" | "customizedMetricSpecification"> {
  const groups = Object.entries(r.targetGroups);
  const slots = groups.map(([slot]) => slot);
  if (groups.length === 0) throw new Error(`${serviceName}: request scaling needs at least one target group.`);
  if (groups.length === 1) {
    return { predefinedMetricSpecification: { predefinedMetricType: "ALBRequestCountPerTarget", resourceLabel: `${r.loadBalancer}/${groups[0]![1]}` } };
  }
  for (const slot of slots) {
    if (!/^[a-z][a-z0-9_]*$/.test(slot))
      throw new Error(
        `${serviceName}: target group slot "${slot}" must be lower case letters, digits and underscores, starting with a letter (it names a metric query).`,
      );
  }
  const stat = (namespace: string, metricName: string, dimensions: Record<string, string>, statistic: string) => ({
    stat: statistic,
    metric: { namespace, metricName, dimensions: Object.entries(dimensions).map(([name, value]) => ({ name, value })) },
  });
  return {
    customizedMetricSpecification: {
      metrics: [
        ...groups.map(([slot, targetGroup]) => ({
          id: `${slot}_requests`,
          label: `ALB requests of the ${slot} target group`,
          metricStat: stat("AWS/ApplicationELB", "RequestCount", { LoadBalancer: r.loadBalancer, TargetGroup: targetGroup }, "Sum"),
          returnData: false,
        })),
        {
          id: RUNNING_TASKS_ID,
          label: "Running tasks of the service",
          metricStat: stat("ECS/ContainerInsights", "RunningTaskCount", { ClusterName: clusterName, ServiceName: serviceName }, "Average"),
          returnData: false,
        },
        { id: REQUESTS_PER_TASK_ID, label: "ALB requests per running task and minute", expression: requestsPerTaskExpression(slots), returnData: true },
      ],
    },
  };
}
