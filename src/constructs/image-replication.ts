import { Construct } from "constructs";
import { TerraformProvider } from "cdktf";
import { EcrReplicationConfiguration } from "@cdktf/provider-aws/lib/ecr-replication-configuration";
import { EcrRepositoryCreationTemplate } from "@cdktf/provider-aws/lib/ecr-repository-creation-template";
import { ServiceRole } from "./iam";

export interface ImageReplicationProps {
  /** Repositories to replicate, by name (each is a prefix filter: `aw-pdp-service` matches that repository). */
  readonly repositories: readonly string[];
  /** The account whose registry this is (the environment's account). */
  readonly registryId: string;
  /** The DR region: replicas land there. */
  readonly destinationRegion: string;
  /** The DR region's key: repositories that replication creates there are encrypted with it. */
  readonly kmsKeyArn: string;
  /** The provider of the registry's own region (the primary), where the replication configuration lives. */
  readonly sourceProvider: TerraformProvider;
  /** The environment, for the template's description. */
  readonly env: string;
  /** The role ECR uses to create the replicas with the DR key (a template that encrypts with KMS needs one). */
  readonly roleName: string;
  readonly accountId: string;
  readonly partition: string;
}

/**
 * ECR's cross-region replication of the services' repositories, and how the DR region creates their
 * replicas: a repository creation template for REPLICATION, encrypted with the DR key.
 * ECR keeps ONE replication configuration per registry (the account's, in a region): this resource owns
 * it, so `make preflight` reports a configuration already there that is not this one (it would be
 * replaced). Pushed images are copied as they are pushed; images pushed before are not (docs).
 */
export class ImageReplication extends Construct {
  readonly configuration: EcrReplicationConfiguration;

  constructor(scope: Construct, id: string, props: ImageReplicationProps) {
    super(scope, id);
    if (props.repositories.length === 0 || props.repositories.length > 100) {
      throw new Error(`ECR replication of ${props.repositories.length} repositories; a rule takes 1 to 100 filters.`);
    }
    const repositoryArns = props.repositories.map((r) => `arn:${props.partition}:ecr:${props.destinationRegion}:${props.accountId}:repository/${r}`);
    // What ECR's documentation asks of a creation template's custom role, on these repositories and the DR key only.
    const role = new ServiceRole(this, "role", {
      name: props.roleName,
      service: "ecr.amazonaws.com",
      accountId: props.accountId,
      // ECR's documented trust policy for this role has no condition: one it does not send would stop every replica's creation.
      sourceArns: "unconditioned",
      statements: [
        { sid: "CreateReplicas", actions: ["ecr:CreateRepository", "ecr:ReplicateImage", "ecr:TagResource"], resources: repositoryArns },
        { sid: "EncryptReplicas", actions: ["kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"], resources: [props.kmsKeyArn] },
      ],
    });
    // Repositories of the root namespace (`aw-pdp-service`, no `/`) match only the ROOT template.
    const template = new EcrRepositoryCreationTemplate(this, "dr-template", {
      prefix: "ROOT",
      appliedFor: ["REPLICATION"],
      description: `AccessWeaver ${props.env}: repositories replicated to this region (disaster recovery)`,
      // A replica follows its source: an immutable replica would refuse a tag pushed again and stop copying.
      imageTagMutability: "MUTABLE",
      encryptionConfiguration: [{ encryptionType: "KMS", kmsKey: props.kmsKeyArn }],
      customRoleArn: role.role.arn,
      // ECR replicates no deletion and no lifecycle expiry: the replicas keep their own limit.
      lifecyclePolicy: JSON.stringify(REPLICA_LIFECYCLE),
      dependsOn: [role.policy],
    });
    this.configuration = new EcrReplicationConfiguration(this, "configuration", {
      provider: props.sourceProvider,
      // An image pushed before the template exists would make its replica repository unencrypted by the DR key, for good.
      dependsOn: [template],
      replicationConfiguration: {
        rule: [
          {
            destination: [{ region: props.destinationRegion, registryId: props.registryId }],
            repositoryFilter: props.repositories.map((filter) => ({ filter, filterType: "PREFIX_MATCH" })),
          },
        ],
      },
    });
  }
}

/**
 * Images a replica repository keeps: the newest 200 of each repository, untagged ones a week. make restore
 * refuses when a running tag is missing there (push it again: docs/disaster-recovery.md).
 */
export const REPLICA_IMAGES_KEPT = 200;
const REPLICA_LIFECYCLE = {
  rules: [
    {
      rulePriority: 1,
      description: "untagged images: a week",
      selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
      action: { type: "expire" },
    },
    {
      rulePriority: 2,
      description: `the newest ${REPLICA_IMAGES_KEPT} images`,
      selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: REPLICA_IMAGES_KEPT },
      action: { type: "expire" },
    },
  ],
};

/** ECR's event for a replication of one of `repositories` that failed (emitted in the destination region). */
export function replicationFailures(repositories: readonly string[]): Record<string, unknown> {
  return { source: ["aws.ecr"], "detail-type": ["ECR Replication Action"], detail: { result: ["FAILED"], "repository-name": [...repositories] } };
}
