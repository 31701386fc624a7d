import { Construct } from "constructs";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsClusterCapacityProviders } from "@cdktf/provider-aws/lib/ecs-cluster-capacity-providers";

/** Capacity providers of the cluster: on-demand Fargate, and Spot for work that tolerates interruption. */
export const CAPACITY_PROVIDERS = ["FARGATE", "FARGATE_SPOT"] as const;

export interface EcsClusterProps {
  /** `accessweaver-<env>-cluster`: the guide's runbooks call it by this name. */
  readonly name: string;
}

/**
 * The ECS cluster (mirrors the guide's `module.ecs`): Container Insights in enhanced mode (per-task and
 * per-container metrics) and the Fargate capacity providers, on-demand Fargate by default.
 */
export class EcsFargateCluster extends Construct {
  readonly cluster: EcsCluster;
  readonly capacityProviders: EcsClusterCapacityProviders;

  constructor(scope: Construct, id: string, props: EcsClusterProps) {
    super(scope, id);
    this.cluster = new EcsCluster(this, "cluster", {
      name: props.name,
      setting: [{ name: "containerInsights", value: "enhanced" }],
    });
    this.capacityProviders = new EcsClusterCapacityProviders(this, "capacity-providers", {
      clusterName: this.cluster.name,
      capacityProviders: [...CAPACITY_PROVIDERS],
      // Services run on on-demand capacity unless they ask for Spot: the request path is not interruptible.
      defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1, base: 0 }],
    });
  }
}
