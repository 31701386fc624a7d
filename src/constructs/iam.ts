import { Construct } from "constructs";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";

/** One condition of a statement: `test` (StringEquals, ArnLike, Bool...) on `variable`, any of `values`. */
export interface Condition {
  readonly test: string;
  readonly variable: string;
  readonly values: string[];
}

/** One IAM policy statement, in the compact form the constructs write. */
export interface Statement {
  readonly sid: string;
  readonly effect?: "Allow" | "Deny";
  readonly actions: string[];
  /** Omitted in trust and key policies, where the resource is implicit. */
  readonly resources?: string[];
  readonly principals?: { readonly type: "AWS" | "Service" | "*"; readonly identifiers: string[] }[];
  readonly conditions?: Condition[];
}

/** Any principal: only ever written with conditions that bring it back to this account. */
export const ANY_PRINCIPAL = [{ type: "AWS" as const, identifiers: ["*"] }];

/** `aws:SourceAccount` equals the account: a service acts for this account only (confused deputy). */
export const sourceAccount = (account: string): Condition => ({ test: "StringEquals", variable: "aws:SourceAccount", values: [account] });

/** `aws:SourceArn` matches one of the patterns: a service acts for these resources only. */
export const sourceArn = (...arns: string[]): Condition => ({ test: "ArnLike", variable: "aws:SourceArn", values: arns });

/**
 * The host name of a regional AWS service in a partition: `logs.eu-west-1.amazonaws.com`, but
 * `logs.cn-north-1.amazonaws.com.cn` in China, where service principals and endpoints end in `.com.cn`.
 */
export function regionalService(service: string, region: string, partition: string): string {
  return `${service}.${region}.${partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com"}`;
}

/**
 * A policy document rendered by Terraform's local `aws_iam_policy_document` data source (no AWS call):
 * reviewers read statements, not an escaped JSON string.
 */
export function policyDocument(scope: Construct, id: string, statements: readonly Statement[]): DataAwsIamPolicyDocument {
  return new DataAwsIamPolicyDocument(scope, id, {
    statement: statements.map((s) => ({
      sid: s.sid,
      effect: s.effect ?? "Allow",
      actions: s.actions,
      ...(s.resources ? { resources: s.resources } : {}),
      ...(s.principals ? { principals: s.principals.map((p) => ({ type: p.type, identifiers: p.identifiers })) } : {}),
      ...(s.conditions ? { condition: s.conditions.map((c) => ({ test: c.test, variable: c.variable, values: c.values })) } : {}),
    })),
  });
}

export interface ServiceRoleProps {
  readonly name: string;
  /** The AWS service that assumes the role, e.g. `vpc-flow-logs.amazonaws.com`. */
  readonly service: string;
  /** The account the service acts for (confused-deputy protection on the trust policy). */
  readonly accountId: string;
  /**
   * The resources the service acts for (`aws:SourceArn` patterns, e.g. this account's flow logs), with
   * `aws:SourceAccount`. `"unconditioned"` for a service whose documented trust policy has no condition
   * (it may not send them when it assumes the role): who may hand the service the role is then guarded by
   * `iam:PassRole` alone.
   */
  readonly sourceArns: string[] | "unconditioned";
  /** The inline policy: what the service may do with the role. */
  readonly statements: readonly Statement[];
}

/** An IAM role that one AWS service assumes on this account's behalf, with its inline policy. */
export class ServiceRole extends Construct {
  readonly role: IamRole;
  /** The inline policy: resources the service writes to should depend on it, or their first apply races it. */
  readonly policy: IamRolePolicy;

  constructor(scope: Construct, id: string, props: ServiceRoleProps) {
    super(scope, id);
    const trust = policyDocument(this, "trust", [
      {
        sid: "AssumedByService",
        actions: ["sts:AssumeRole"],
        principals: [{ type: "Service", identifiers: [props.service] }],
        ...(props.sourceArns === "unconditioned" ? {} : { conditions: [sourceAccount(props.accountId), sourceArn(...props.sourceArns)] }),
      },
    ]);
    this.role = new IamRole(this, "role", { name: props.name, assumeRolePolicy: trust.json });
    this.policy = new IamRolePolicy(this, "policy", {
      name: props.name,
      role: this.role.id,
      policy: policyDocument(this, "permissions", props.statements).json,
    });
  }
}
