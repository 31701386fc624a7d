import { Construct } from "constructs";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";

/** One IAM policy statement, in the compact form the constructs write. */
export interface Statement {
  readonly sid: string;
  readonly effect?: "Allow" | "Deny";
  readonly actions: string[];
  /** Omitted in trust and key policies, where the resource is implicit. */
  readonly resources?: string[];
  readonly principals?: { readonly type: "AWS" | "Service" | "*"; readonly identifiers: string[] }[];
  readonly conditions?: { readonly test: string; readonly variable: string; readonly values: string[] }[];
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
  /** The inline policy: what the service may do with the role. */
  readonly statements: readonly Statement[];
}

/** An IAM role that one AWS service assumes on this account's behalf, with its inline policy. */
export class ServiceRole extends Construct {
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: ServiceRoleProps) {
    super(scope, id);
    const trust = policyDocument(this, "trust", [
      {
        sid: "AssumedByService",
        actions: ["sts:AssumeRole"],
        principals: [{ type: "Service", identifiers: [props.service] }],
        conditions: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [props.accountId] }],
      },
    ]);
    this.role = new IamRole(this, "role", { name: props.name, assumeRolePolicy: trust.json });
    new IamRolePolicy(this, "policy", {
      name: props.name,
      role: this.role.id,
      policy: policyDocument(this, "permissions", props.statements).json,
    });
  }
}
