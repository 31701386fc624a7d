import { Construct } from "constructs";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { Names } from "../naming";

/** AWS APIs the tasks call on every start or request: image pulls, logs, secrets, decryption. */
export const INTERFACE_ENDPOINT_SERVICES = ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "kms"] as const;

export interface EndpointsProps {
  readonly names: Names;
  readonly region: string;
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

/** Private access to AWS services: S3 through a gateway endpoint, the others through interface endpoints. */
export class Endpoints extends Construct {
  constructor(scope: Construct, id: string, props: EndpointsProps) {
    super(scope, id);
    const name = (svc: string) => ({ Name: props.names.endpoint(svc) });
    const s3 = new VpcEndpoint(this, "s3", {
      vpcId: props.vpcId,
      serviceName: `com.amazonaws.${props.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: props.routeTableIds,
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
      new VpcEndpoint(this, svc.replace(".", "-"), {
        vpcId: props.vpcId,
        serviceName: `com.amazonaws.${props.region}.${svc}`,
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: props.subnetIds,
        securityGroupIds: [props.securityGroupId],
        tags: name(svc),
      });
    }
  }
}
