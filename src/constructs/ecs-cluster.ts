import { Construct } from "constructs";
import { DataTerraformRemoteStateS3, TerraformStack } from "cdktf";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsClusterCapacityProviders } from "@cdktf/provider-aws/lib/ecs-cluster-capacity-providers";
import { NETWORK_HANDLES } from "../stacks/handles";

/** Capacity providers of the cluster: on-demand Fargate, and Spot for work that tolerates interruption. */
export const CAPACITY_PROVIDERS = ["FARGATE", "FARGATE_SPOT"] as const;

export interface EcsClusterProps {
  /** `accessweaver-<env>-cluster`: the guide's runbooks call it by this name (and the key policy lets Fargate use the key for it). */
  readonly name: string;
  /**
   * The environment's key (an ARN: Fargate takes no alias), which encrypts every task's ephemeral storage.
   * @default the network phase's `kms_key_arn`, read through the network handles of the cluster's stack
   */
  readonly ephemeralStorageKmsKeyArn?: string;
}

/**
 * The environment's key as the stack's network handles carry it: the `network` remote state that
 * readHandles declared in the stack. Without one, the key must be given.
 */
function networkKey(scope: Construct): string {
  const remote = TerraformStack.of(scope).node.tryFindChild("network");
  if (!(remote instanceof DataTerraformRemoteStateS3)) {
    throw new Error(`${scope.node.path}: the cluster encrypts Fargate ephemeral storage with the environment's key: pass ephemeralStorageKmsKeyArn, or read the network handles in its stack first.`);
  }
  return remote.getString(NETWORK_HANDLES.kmsKeyArn.output);
}

/**
 * The ECS cluster (mirrors the guide's `module.ecs`): Container Insights in enhanced mode (per-task and
 * per-container metrics), every task's ephemeral storage encrypted with the environment's key, and the
 * Fargate capacity providers, on-demand Fargate by default.
 */
export class EcsFargateCluster extends Construct {
  readonly cluster: EcsCluster;
  readonly capacityProviders: EcsClusterCapacityProviders;

  constructor(scope: Construct, id: string, props: EcsClusterProps) {
    super(scope, id);
    this.cluster = new EcsCluster(this, "cluster", {
      name: props.name,
      setting: [{ name: "containerInsights", value: "enhanced" }],
      // Without it Fargate encrypts with a key AWS owns; a change takes effect with each service's next deployment.
      configuration: { managedStorageConfiguration: { fargateEphemeralStorageKmsKeyId: props.ephemeralStorageKmsKeyArn ?? networkKey(this) } },
    });
    this.capacityProviders = new EcsClusterCapacityProviders(this, "capacity-providers", {
      clusterName: this.cluster.name,
      capacityProviders: [...CAPACITY_PROVIDERS],
      // Services run on on-demand capacity unless they ask for Spot: the request path is not interruptible.
      defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1, base: 0 }],
    });
  }
}
