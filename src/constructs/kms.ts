import { Construct } from "constructs";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { policyDocument } from "./iam";

export interface KmsProps {
  /** `alias/accessweaver-<env>`. */
  readonly aliasName: string;
  readonly description: string;
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  /** Days between scheduling deletion and deletion (7 to 30); long in prod so a mistake can be undone. */
  readonly deletionWindowDays: number;
  /** Terraform refuses to destroy the key (prod and staging). */
  readonly preventDestroy: boolean;
  /** An existing key to use instead of creating one: no key, alias or policy is then created. */
  readonly existingKeyArn?: string;
}

/** Services that use the key through grants made on behalf of IAM principals of this account. */
const VIA_SERVICES = ["rds", "elasticache", "secretsmanager", "s3"];
/** Services that publish to the encrypted alert topic and so must encrypt with the key themselves. */
const ALERT_PUBLISHERS = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com", "events.amazonaws.com"];

/**
 * The environment's customer-managed key: rotated yearly, aliased, and with a key policy that lets this
 * account's IAM administer it and exactly the services this project uses encrypt with it, scoped to this
 * account and region. An existing key brought through the settings must carry the same statements
 * (at least CloudWatch Logs'), or the flow-log group cannot be created with it.
 */
export class Kms extends Construct {
  readonly keyArn: string;
  /** Undefined when an existing key is used: its alias, if any, is not this project's. */
  readonly aliasName?: string;
  /** Undefined when an existing key is used. */
  readonly key?: KmsKey;

  constructor(scope: Construct, id: string, props: KmsProps) {
    super(scope, id);
    if (props.existingKeyArn) {
      this.keyArn = props.existingKeyArn;
      return;
    }
    const { accountId: account, region, partition } = props;
    const root = `arn:${partition}:iam::${account}:root`;
    const sourceAccount = { test: "StringEquals", variable: "aws:SourceAccount", values: [account] };
    const policy = policyDocument(this, "key-policy", [
      { sid: "EnableIamUserPermissions", actions: ["kms:*"], resources: ["*"], principals: [{ type: "AWS", identifiers: [root] }] },
      {
        sid: "AllowCloudWatchLogs",
        actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        resources: ["*"],
        principals: [{ type: "Service", identifiers: [`logs.${region}.amazonaws.com`] }],
        conditions: [
          { test: "ArnLike", variable: "kms:EncryptionContext:aws:logs:arn", values: [`arn:${partition}:logs:${region}:${account}:log-group:*`] },
        ],
      },
      {
        sid: "AllowCloudTrailEncrypt",
        actions: ["kms:GenerateDataKey*"],
        resources: ["*"],
        principals: [{ type: "Service", identifiers: ["cloudtrail.amazonaws.com"] }],
        conditions: [
          { test: "StringLike", variable: "kms:EncryptionContext:aws:cloudtrail:arn", values: [`arn:${partition}:cloudtrail:${region}:${account}:trail/*`] },
          sourceAccount,
        ],
      },
      {
        // DescribeKey carries no encryption context, so it cannot share the statement above.
        sid: "AllowCloudTrailDescribeKey",
        actions: ["kms:DescribeKey"],
        resources: ["*"],
        principals: [{ type: "Service", identifiers: ["cloudtrail.amazonaws.com"] }],
        conditions: [sourceAccount],
      },
      {
        // Alarms, budgets and rules publish to the encrypted alert topic.
        sid: "AllowAlertPublishers",
        actions: ["kms:GenerateDataKey*", "kms:Decrypt"],
        resources: ["*"],
        principals: [{ type: "Service", identifiers: ALERT_PUBLISHERS }],
        conditions: [sourceAccount],
      },
      {
        sid: "AllowUseThroughAwsServices",
        actions: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:ListGrants", "kms:DescribeKey"],
        resources: ["*"],
        principals: [{ type: "AWS", identifiers: ["*"] }],
        conditions: [
          { test: "StringEquals", variable: "kms:CallerAccount", values: [account] },
          { test: "StringEquals", variable: "kms:ViaService", values: VIA_SERVICES.map((s) => `${s}.${region}.amazonaws.com`) },
        ],
      },
    ]);
    this.key = new KmsKey(this, "key", {
      description: props.description,
      enableKeyRotation: true,
      deletionWindowInDays: props.deletionWindowDays,
      policy: policy.json,
      lifecycle: { preventDestroy: props.preventDestroy },
    });
    new KmsAlias(this, "alias", { name: props.aliasName, targetKeyId: this.key.keyId });
    this.aliasName = props.aliasName;
    this.keyArn = this.key.arn;
  }
}
