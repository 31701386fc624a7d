import { Construct } from "constructs";
import { TerraformProvider } from "cdktf";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";

export interface RotatedKeyProps {
  readonly description: string;
  /** Days between scheduling deletion and deletion (7 to 30). */
  readonly deletionWindowDays: number;
  /** The rendered key policy. */
  readonly policy: string;
  /** Terraform refuses to destroy the key (prod and staging). */
  readonly preventDestroy: boolean;
  readonly alias: string;
  /** Another region's provider. @default the stack's */
  readonly provider?: TerraformProvider;
}

/**
 * A customer-managed key rotated yearly, with its alias (`key` and `alias` in `scope`): what the
 * environment's key and the us-east-1 alert key share.
 */
export function rotatedKey(scope: Construct, props: RotatedKeyProps): KmsKey {
  const key = new KmsKey(scope, "key", {
    description: props.description,
    enableKeyRotation: true,
    deletionWindowInDays: props.deletionWindowDays,
    policy: props.policy,
    lifecycle: { preventDestroy: props.preventDestroy },
    ...(props.provider ? { provider: props.provider } : {}),
  });
  new KmsAlias(scope, "alias", { name: props.alias, targetKeyId: key.keyId, ...(props.provider ? { provider: props.provider } : {}) });
  return key;
}
