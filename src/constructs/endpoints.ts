import { Construct } from "constructs";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
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
  /** Interface endpoints cost per AZ-hour: on in prod and staging, off in dev. */
  readonly interfaceEndpoints: boolean;
}

/** Private access to AWS services: S3 through a gateway endpoint, the others through interface endpoints. */
export class Endpoints extends Construct {
  constructor(scope: Construct, id: string, props: EndpointsProps) {
    super(scope, id);
    const name = (svc: string) => ({ Name: `${props.names.prefix}-${svc.replace(".", "-")}-endpoint` });
    new VpcEndpoint(this, "s3", {
      vpcId: props.vpcId,
      serviceName: `com.amazonaws.${props.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: props.routeTableIds,
      tags: name("s3"),
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
