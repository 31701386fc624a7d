import { Construct } from "constructs";
import { TerraformProvider } from "cdktf";
import { Names } from "../naming";
import { policyDocument } from "./iam";
import { accountAdministers, serviceUseStatements } from "./kms";
import { rotatedKey } from "./rotated-key";

export interface DrKeyProps {
  /** The environment's names: the alias, and the role prefix Secrets Manager may decrypt for. */
  readonly names: Names;
  readonly accountId: string;
  /** The DR region: the key, its alias and the services' endpoints are there. */
  readonly region: string;
  readonly partition: string;
  /** Days between scheduling deletion and deletion (7 to 30). */
  readonly deletionWindowDays: number;
  /** Terraform refuses to destroy the key (prod and staging): every copy is encrypted with it. */
  readonly preventDestroy: boolean;
  /** The provider in the DR region. */
  readonly provider: TerraformProvider;
}

/**
 * Services that encrypt the copies with the DR key for this account: RDS (replicated automated
 * backups, and a database restored from them), S3 (the audit replica, written by the replication role),
 * ECR (replicated images). Secrets Manager has its own, narrower statement.
 */
const DR_VIA_SERVICES = ["rds", "s3", "ecr"];

/**
 * The DR region's customer-managed key (`alias/accessweaver-<env>-dr`): rotated yearly, administered by
 * this account's IAM, usable by the services that hold the copies there, each for this account only,
 * scoped like the environment's key. Nothing of the primary region's key reaches the DR region: a key
 * is regional, and a region loss must not take the copies' key with it.
 */
export class DrKey extends Construct {
  readonly keyArn: string;
  readonly aliasName: string;

  constructor(scope: Construct, id: string, props: DrKeyProps) {
    super(scope, id);
    const { accountId: account, region, partition, names: n } = props;
    const policy = policyDocument(this, "key-policy", [
      accountAdministers(account, partition),
      ...serviceUseStatements({ account, region, partition, viaServices: DR_VIA_SERVICES, rolePrefix: n.prefix }),
    ]);
    const key = rotatedKey(this, {
      description: `AccessWeaver ${n.env} disaster-recovery copies in ${region}`,
      deletionWindowDays: props.deletionWindowDays,
      policy: policy.json,
      preventDestroy: props.preventDestroy,
      alias: n.drKmsAlias,
      provider: props.provider,
    });
    this.aliasName = n.drKmsAlias;
    this.keyArn = key.arn;
  }
}
