import { Construct } from "constructs";
import { CodedeployApp } from "@cdktf/provider-aws/lib/codedeploy-app";
import { CodedeployDeploymentGroup } from "@cdktf/provider-aws/lib/codedeploy-deployment-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { policyDocument, sourceAccount } from "./iam";

/** 10 % of traffic to the new tasks, the rest after five minutes: a bad release meets few requests. */
export const TRAFFIC_SHIFTING = "CodeDeployDefault.ECSCanary10Percent5Minutes";
/** Minutes the old (blue) tasks keep running after a successful shift: the window for a fast rollback. */
export const BLUE_TERMINATION_WAIT_MINUTES = 5;

export interface BlueGreenProps {
  readonly applicationName: string;
  readonly groupName: string;
  readonly roleName: string;
  readonly accountId: string;
  readonly partition: string;
  readonly clusterName: string;
  readonly serviceName: string;
  /** Names (not ARNs) of the blue and green target groups: CodeDeploy's API takes names. */
  readonly targetGroupNames: readonly [string, string];
  readonly productionListenerArns: string[];
  readonly testListenerArns: string[];
  /** Alarms that stop a deployment and roll it back. */
  readonly alarmNames?: string[];
  /**
   * ARNs of the roles the service's task definition names (execution and task roles): CodeDeploy passes
   * them to ECS when it creates the replacement task set.
   */
  readonly taskRoleArns: readonly string[];
}

/**
 * CodeDeploy blue/green for one ECS service (hashicorp/aws 5.x has no ECS-native blue/green): the
 * application, its service role, and a deployment group shifting the production listener from the
 * blue to the green target group by canary, rolling back on failure.
 */
export class EcsBlueGreen extends Construct {
  readonly role: IamRole;
  readonly app: CodedeployApp;
  readonly group: CodedeployDeploymentGroup;

  constructor(scope: Construct, id: string, props: BlueGreenProps) {
    super(scope, id);
    const trust = policyDocument(this, "trust", [
      {
        sid: "AssumedByCodeDeploy",
        actions: ["sts:AssumeRole"],
        principals: [{ type: "Service", identifiers: ["codedeploy.amazonaws.com"] }],
        conditions: [sourceAccount(props.accountId)],
      },
    ]);
    this.role = new IamRole(this, "role", { name: props.roleName, assumeRolePolicy: trust.json });
    // The limited policy: this deployment runs no Lambda hooks and reads no AppSpec from S3, so it needs
    // neither lambda:InvokeFunction on every function nor s3:GetObject on every bucket (the full policy's).
    // Its iam:PassRole covers only roles named ecsTaskExecutionRole or ECSTaskExecution*: the service's own
    // roles are passed by the inline policy below (the ECS guide's "CodeDeploy IAM role" for blue/green).
    const managed = new IamRolePolicyAttachment(this, "role-policy", {
      role: this.role.name,
      policyArn: `arn:${props.partition}:iam::aws:policy/AWSCodeDeployRoleForECSLimited`,
    });
    const passRoles = new IamRolePolicy(this, "pass-task-roles", {
      name: `${props.roleName}-pass-task-roles`,
      role: this.role.id,
      policy: policyDocument(this, "pass-task-roles-document", [
        {
          sid: "PassTheServiceTaskRolesToEcs",
          actions: ["iam:PassRole"],
          resources: [...props.taskRoleArns],
          conditions: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
        },
      ]).json,
    });
    this.app = new CodedeployApp(this, "app", { name: props.applicationName, computePlatform: "ECS" });
    this.group = new CodedeployDeploymentGroup(this, "group", {
      appName: this.app.name,
      deploymentGroupName: props.groupName,
      serviceRoleArn: this.role.arn,
      deploymentConfigName: TRAFFIC_SHIFTING,
      deploymentStyle: { deploymentOption: "WITH_TRAFFIC_CONTROL", deploymentType: "BLUE_GREEN" },
      blueGreenDeploymentConfig: {
        deploymentReadyOption: { actionOnTimeout: "CONTINUE_DEPLOYMENT" },
        terminateBlueInstancesOnDeploymentSuccess: { action: "TERMINATE", terminationWaitTimeInMinutes: BLUE_TERMINATION_WAIT_MINUTES },
      },
      ...(props.alarmNames?.length ? { alarmConfiguration: { enabled: true, alarms: props.alarmNames } } : {}),
      autoRollbackConfiguration: { enabled: true, events: ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] },
      ecsService: { clusterName: props.clusterName, serviceName: props.serviceName },
      loadBalancerInfo: {
        targetGroupPairInfo: {
          prodTrafficRoute: { listenerArns: props.productionListenerArns },
          testTrafficRoute: { listenerArns: props.testListenerArns },
          targetGroup: props.targetGroupNames.map((name) => ({ name })),
        },
      },
      // The role can act only once its policies are attached.
      dependsOn: [managed, passRoles],
    });
  }
}
