import { Construct } from "constructs";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { Names } from "../naming";
import { alertPublishers, publisherKeyStatements } from "./alerts";
import { rotatedKey } from "./rotated-key";
import { ANY_PRINCIPAL, Condition, Statement, policyDocument, regionalService, sourceAccount, sourceArn } from "./iam";

export interface KmsProps {
  /** The environment's names: the alias, and the trail, alarms, budget, rules, log groups and ECS cluster that may use the key. */
  readonly names: Names;
  readonly description: string;
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  /** Days between scheduling deletion and deletion (7 to 30); long in prod so a mistake can be undone. */
  readonly deletionWindowDays: number;
  /** Terraform refuses to destroy the key (prod and staging). */
  readonly preventDestroy: boolean;
  /**
   * An existing key to use instead of creating one: no key, alias or policy is then created, so its own
   * policy must carry the statements below (CloudWatch Logs', CloudTrail's, the publishers', Fargate's).
   * @default none: the key is created here
   */
  readonly existingKeyArn?: string;
}

/** Services that use the key through grants made on behalf of IAM principals of this account. */
const VIA_SERVICES = ["rds", "elasticache", "s3"];
/** What a service acting for this account's principals does with the key: use it, never administer it. */
const USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"];
/** Grants let RDS, ElastiCache... keep using the key for a resource after the request that made it. */
const GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants"];
/** The service principal that encrypts Fargate tasks' ephemeral storage. */
const FARGATE = { type: "Service" as const, identifiers: ["fargate.amazonaws.com"] };

/**
 * The environment's customer-managed key: rotated yearly, aliased, and with a key policy that lets this
 * account's IAM administer it and exactly the services this project uses encrypt with it, each for this
 * account's resources of that service only (`aws:SourceAccount` and `aws:SourceArn`, or the encryption
 * context). No statement but the account root's grants administration (policy changes, deletion): who may
 * change the key is whoever this account's IAM allows to. An existing key brought through the settings
 * must carry the same statements (at least CloudWatch Logs' and Fargate's), or the flow-log group cannot be
 * created with it and no task can start.
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
    const { accountId: account, region, partition, names: n } = props;
    const arn = (service: string, resource: string, inRegion = region) => `arn:${partition}:${service}:${inRegion}:${account}:${resource}`;
    const trailArn = arn("cloudtrail", `trail/${n.trail}`);
    const byAccount = sourceAccount(account);
    // Alarms, the budget and event rules publish to the encrypted alert topics (the same statements as the us-east-1 alert key).
    const publishers = publisherKeyStatements(alertPublishers(n, account, region, partition), account);
    // Fargate names the account and cluster of every task in the encryption context of its ephemeral storage.
    const thisCluster: Condition[] = [
      { test: "StringEquals", variable: "kms:EncryptionContext:aws:ecs:clusterAccount", values: [account] },
      { test: "StringEquals", variable: "kms:EncryptionContext:aws:ecs:clusterName", values: [n.cluster] },
    ];
    const policy = policyDocument(this, "key-policy", [
      accountAdministers(account, partition),
      {
        sid: "AllowCloudWatchLogs",
        actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        resources: ["*"],
        principals: [{ type: "Service", identifiers: [regionalService("logs", region, partition)] }],
        // Only this project's log groups, by name prefix: another team's group cannot borrow the key.
        conditions: [
          { test: "ArnLike", variable: "kms:EncryptionContext:aws:logs:arn", values: n.logGroupPrefixes.map((p) => arn("logs", `log-group:${p}*`)) },
        ],
      },
      {
        sid: "AllowCloudTrailEncrypt",
        actions: ["kms:GenerateDataKey*"],
        resources: ["*"],
        principals: [{ type: "Service", identifiers: ["cloudtrail.amazonaws.com"] }],
        conditions: [{ test: "StringLike", variable: "kms:EncryptionContext:aws:cloudtrail:arn", values: [trailArn] }, byAccount, sourceArn(trailArn)],
      },
      {
        // DescribeKey carries no encryption context, so it cannot share the statement above.
        sid: "AllowCloudTrailDescribeKey",
        actions: ["kms:DescribeKey"],
        resources: ["*"],
        principals: [{ type: "Service", identifiers: ["cloudtrail.amazonaws.com"] }],
        conditions: [byAccount, sourceArn(trailArn)],
      },
      ...publishers,
      // The statements AWS documents for Fargate ephemeral storage with a customer managed key, for this
      // environment's cluster only. The third, DescribeKey for whoever creates or updates the cluster, is
      // the root statement's: the role applying the services phase gets it from its IAM policy.
      {
        sid: "AllowFargateEphemeralStorage",
        actions: ["kms:GenerateDataKeyWithoutPlaintext"],
        resources: ["*"],
        principals: [FARGATE],
        conditions: thisCluster,
      },
      {
        sid: "AllowFargateEphemeralStorageGrants",
        actions: ["kms:CreateGrant"],
        resources: ["*"],
        principals: [FARGATE],
        // Grants that only let Fargate decrypt the data keys it generated, nothing more.
        conditions: [...thisCluster, { test: "ForAllValues:StringEquals", variable: "kms:GrantOperations", values: ["Decrypt"] }],
      },
      ...serviceUseStatements({ account, region, partition, viaServices: VIA_SERVICES, rolePrefix: n.prefix }),
    ]);
    this.key = rotatedKey(this, {
      description: props.description,
      deletionWindowDays: props.deletionWindowDays,
      policy: policy.json,
      preventDestroy: props.preventDestroy,
      alias: n.kmsAlias,
    });
    this.aliasName = n.kmsAlias;
    this.keyArn = this.key.arn;
  }
}

/** The key policy's first statement: this account's IAM decides who administers and uses the key. */
export function accountAdministers(account: string, partition: string): Statement {
  return {
    sid: "EnableIamUserPermissions",
    actions: ["kms:*"],
    resources: ["*"],
    principals: [{ type: "AWS", identifiers: [`arn:${partition}:iam::${account}:root`] }],
  };
}

export interface ServiceUseProps {
  readonly account: string;
  /** The key's region: the services act through their endpoints there. */
  readonly region: string;
  readonly partition: string;
  /** Services that use the key for this account's principals (through grants for the resources they manage). */
  readonly viaServices: readonly string[];
  /** Secrets Manager decrypts for roles named `<rolePrefix>-*` (and RDS's service-linked role) only. */
  readonly rolePrefix: string;
}

/**
 * What both of this project's keys (the environment's, and the DR region's) let AWS services do: use the
 * key for this account's principals through the listed services, decrypt secrets through Secrets Manager
 * for this environment's roles only, and make grants for the AWS resources those services manage.
 */
export function serviceUseStatements(props: ServiceUseProps): Statement[] {
  const { account, region, partition } = props;
  // Principal "*" is only ever brought back to this account's callers, through one of its services.
  const throughServices: Condition[] = [
    { test: "StringEquals", variable: "kms:CallerAccount", values: [account] },
    { test: "StringEquals", variable: "kms:ViaService", values: props.viaServices.map((svc) => regionalService(svc, region, partition)) },
  ];
  return [
    { sid: "AllowUseThroughAwsServices", actions: USE_ACTIONS, resources: ["*"], principals: ANY_PRINCIPAL, conditions: throughServices },
    {
      // Secrets Manager decrypts for whoever may read a secret: through this statement, only for this
      // environment's roles (the tasks' execution roles read the application secrets) and RDS's
      // service-linked role (the master password it creates and rotates). Any other principal needs
      // kms:Decrypt on the key in its own IAM policy (the root statement), as administrators have.
      sid: "AllowSecretsThroughSecretsManager",
      actions: USE_ACTIONS,
      resources: ["*"],
      principals: ANY_PRINCIPAL,
      conditions: [
        { test: "StringEquals", variable: "kms:CallerAccount", values: [account] },
        { test: "StringEquals", variable: "kms:ViaService", values: [regionalService("secretsmanager", region, partition)] },
        {
          test: "ArnLike",
          variable: "aws:PrincipalArn",
          values: [
            `arn:${partition}:iam::${account}:role/${props.rolePrefix}-*`,
            `arn:${partition}:iam::${account}:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS`,
          ],
        },
      ],
    },
    {
      // Grants only for an AWS resource the service manages (a database, a cache), never to a principal directly.
      sid: "AllowGrantsForAwsResources",
      actions: GRANT_ACTIONS,
      resources: ["*"],
      principals: ANY_PRINCIPAL,
      conditions: [...throughServices, { test: "Bool", variable: "kms:GrantIsForAWSResource", values: ["true"] }],
    },
  ];
}
