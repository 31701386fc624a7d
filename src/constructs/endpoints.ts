import { Construct } from "constructs";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { Names } from "../naming";
import { ANY_PRINCIPAL, Condition, Statement, policyDocument } from "./iam";

/** AWS APIs the tasks call on every start or request: image pulls, logs, secrets, decryption. */
export const INTERFACE_ENDPOINT_SERVICES = ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "kms"] as const;

export interface EndpointsProps {
  readonly names: Names;
  readonly region: string;
  readonly partition: string;
  /** This account: the only principals the endpoints serve, and the owner of the resources they reach. */
  readonly accountId: string;
  /** The account of the ECR registry the images come from; this account by default. */
  readonly registryAccountId?: string;
  readonly vpcId: string;
  /** Route tables that get the S3 gateway endpoint (private and database tiers). */
  readonly routeTableIds: string[];
  /** Subnets and group of the interface endpoints; none are created without `interfaceEndpoints`. */
  readonly subnetIds: string[];
  readonly securityGroupId: string;
  /** The group of the tasks that call AWS: allowed HTTPS to S3 through the gateway endpoint. */
  readonly clientSecurityGroupId: string;
  /** Interface endpoints cost per AZ-hour: on in prod and staging, off in dev. */
  readonly interfaceEndpoints: boolean;
}

const accountIs = (key: "aws:PrincipalAccount" | "aws:ResourceAccount", accounts: string[]): Condition => ({
  test: "StringEquals",
  variable: key,
  values: [...new Set(accounts)],
});

/**
 * Private access to AWS services: S3 through a gateway endpoint, the others through interface endpoints.
 * Each endpoint has a policy, so the VPC is no path to other accounts' data: S3 reaches this account's
 * buckets and ECR's image-layer bucket only; the interface endpoints serve this account's principals
 * acting on this account's resources (and on the image registry's, for ECR).
 */
export class Endpoints extends Construct {
  constructor(scope: Construct, id: string, props: EndpointsProps) {
    super(scope, id);
    const name = (svc: string) => ({ Name: props.names.endpoint(svc) });
    const account = props.accountId;
    const s3Policy = policyDocument(this, "s3-policy", [
      {
        sid: "ThisAccountsBuckets",
        actions: ["s3:*"],
        resources: ["*"],
        principals: ANY_PRINCIPAL,
        conditions: [accountIs("aws:ResourceAccount", [account])],
      },
      {
        // ECR serves image layers from an AWS-owned bucket of the region: without it, image pulls fail.
        sid: "EcrImageLayers",
        actions: ["s3:GetObject"],
        resources: [`arn:${props.partition}:s3:::prod-${props.region}-starport-layer-bucket/*`],
        principals: ANY_PRINCIPAL,
      },
    ]);
    const s3 = new VpcEndpoint(this, "s3", {
      vpcId: props.vpcId,
      serviceName: `com.amazonaws.${props.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: props.routeTableIds,
      policy: s3Policy.json,
      tags: name("s3"),
    });
    // S3's address ranges, by prefix list: image layers from ECR and the project's buckets.
    new VpcSecurityGroupEgressRule(this, "clients_out_https_to_s3", {
      securityGroupId: props.clientSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      prefixListId: s3.prefixListId,
      description: "HTTPS to S3 through the gateway endpoint",
    });
    if (!props.interfaceEndpoints) return;
    for (const svc of INTERFACE_ENDPOINT_SERVICES) {
      const id = svc.replace(".", "-");
      const policy = policyDocument(this, `${id}-policy`, interfaceStatements(svc, account, props.registryAccountId ?? account));
      new VpcEndpoint(this, id, {
        vpcId: props.vpcId,
        serviceName: `com.amazonaws.${props.region}.${svc}`,
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: props.subnetIds,
        securityGroupIds: [props.securityGroupId],
        policy: policy.json,
        tags: name(svc),
      });
    }
  }
}

/** The policy of one interface endpoint: this account's principals, on this account's (or the registry's) resources. */
function interfaceStatements(svc: (typeof INTERFACE_ENDPOINT_SERVICES)[number], account: string, registryAccount: string): Statement[] {
  const ecr = svc.startsWith("ecr.");
  const principal = accountIs("aws:PrincipalAccount", [account]);
  const statements: Statement[] = [
    {
      sid: "ThisAccountsPrincipalsAndResources",
      actions: ["*"],
      resources: ["*"],
      principals: ANY_PRINCIPAL,
      conditions: [principal, accountIs("aws:ResourceAccount", ecr ? [account, registryAccount] : [account])],
    },
  ];
  if (svc === "ecr.api") {
    // The registry login names no resource, so only the caller's account can be checked.
    statements.push({ sid: "RegistryLogin", actions: ["ecr:GetAuthorizationToken"], resources: ["*"], principals: ANY_PRINCIPAL, conditions: [principal] });
  }
  return statements;
}
