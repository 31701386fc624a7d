import { Construct } from "constructs";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsClusterCapacityProviders } from "@cdktf/provider-aws/lib/ecs-cluster-capacity-providers";

/** Capacity providers of the cluster: on-demand Fargate, and Spot for work that tolerates interruption. */
export const CAPACITY_PROVIDERS = ["FARGATE", "FARGATE_SPOT"] as const;

export interface EcsClusterProps {
  /** `accessweaver-<env>-cluster`: the guide's runbooks call it by this name (and the key policy lets Fargate use the key for it). */
  readonly name: string;
  /** The environment's key (an ARN: Fargate takes no alias), which encrypts every task's ephemeral storage. */
  readonly ephemeralStorageKmsKeyArn: string;
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
      configuration: { managedStorageConfiguration: { fargateEphemeralStorageKmsKeyId: props.ephemeralStorageKmsKeyArn } },
    });
    this.capacityProviders = new EcsClusterCapacityProviders(this, "capacity-providers", {
      clusterName: this.cluster.name,
      capacityProviders: [...CAPACITY_PROVIDERS],
      // Services run on on-demand capacity unless they ask for Spot: the request path is not interruptible.
      defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1, base: 0 }],
    });
  }
}
