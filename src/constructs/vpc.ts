import { Construct } from "constructs";
import { DefaultRouteTable } from "@cdktf/provider-aws/lib/default-route-table";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc as AwsVpc } from "@cdktf/provider-aws/lib/vpc";
import { SubnetTier, subnetCidr } from "../config/cidr";
import { AUDIT_LOG_RETENTION_DAYS } from "../config/profiles";
import { Names } from "../naming";
import { ServiceRole } from "./iam";
import { EncryptedLogGroup } from "./log-group";
import { NetworkAcls } from "./network-acls";

/** AWS's default flow-log fields, in AWS's order, then the ones that say where a flow went and why. */
const FLOW_LOG_FIELDS = [
  ...[
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
  ],
  ...["vpc-id", "subnet-id", "instance-id", "tcp-flags", "pkt-srcaddr", "pkt-dstaddr", "flow-direction", "traffic-path"],
] as const;

export interface VpcProps {
  readonly names: Names;
  readonly cidr: string;
  readonly availabilityZones: readonly string[];
  /** `per-az`: each private subnet leaves through the NAT of its own AZ; `single`: one NAT (dev). */
  readonly natGateways: "per-az" | "single";
  /**
   * Whether anything in the private tier may reach the internet (the services' HTTPS egress). Without it
   * the NAT gateways carry no traffic: they stay for the guide's per-AZ design and are tagged as a cost lever.
   * Default: true.
   */
  readonly natInUse?: boolean;
  /** The environment's key, for the flow-log group. */
  readonly kmsKeyArn: string;
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  /** TCP ports the database tier serves: the only ones its network ACL admits, from the private tier. */
  readonly databasePorts: number[];
  /** Flow-log retention; audit evidence, three years by default. */
  readonly flowLogRetentionDays?: number;
  /** Keep the flow-log group (audit evidence) when the stack is destroyed (prod, staging). */
  readonly protectFlowLogs: boolean;
}

/**
 * The VPC and its three subnet tiers per AZ: public (ALB, NAT), private (Fargate tasks, out through NAT)
 * and database (RDS, Redis: no route out of the VPC, and a network ACL of their own). No subnet assigns
 * public IPs, the default security group has no rules, the default route table no routes, and all traffic
 * is recorded in flow logs. IPv4 only: no IPv6 block, so nothing is reachable over IPv6.
 */
export class Vpc extends Construct {
  readonly vpc: AwsVpc;
  readonly cidr: string;
  readonly subnetIds: Readonly<Record<SubnetTier, string[]>>;
  readonly privateRouteTableIds: string[];
  readonly databaseRouteTableId: string;
  readonly natGatewayCount: number;

  constructor(scope: Construct, id: string, props: VpcProps) {
    super(scope, id);
    const n = props.names;
    const zones = props.availabilityZones;
    this.cidr = props.cidr;

    this.vpc = new AwsVpc(this, "vpc", {
      cidrBlock: props.cidr,
      enableDnsSupport: true,
      enableDnsHostnames: true, // needed by interface endpoints' private DNS
      tags: { Name: n.vpc },
    });
    // Strip the default group of AWS's allow-all rules so nothing can use it by accident.
    new DefaultSecurityGroup(this, "default-security-group", { vpcId: this.vpc.id, ingress: [], egress: [], tags: { Name: n.defaultSecurityGroup } });
    // Adopted and emptied, so a subnet that loses its association has the VPC-local route only.
    new DefaultRouteTable(this, "default-route-table", { defaultRouteTableId: this.vpc.defaultRouteTableId, route: [], tags: { Name: n.defaultRouteTable } });

    const subnets = (tier: SubnetTier) =>
      zones.map(
        (az, i) =>
          new Subnet(this, `subnet_${tier}_${az}`, {
            vpcId: this.vpc.id,
            availabilityZone: az,
            cidrBlock: subnetCidr(props.cidr, tier, i),
            mapPublicIpOnLaunch: false,
            tags: { Name: n.subnet(tier, az), Tier: tier },
          }),
      );
    const publicSubnets = subnets("public");
    const privateSubnets = subnets("private");
    const databaseSubnets = subnets("database");
    this.subnetIds = {
      public: publicSubnets.map((s) => s.id),
      private: privateSubnets.map((s) => s.id),
      database: databaseSubnets.map((s) => s.id),
    };

    const igw = new InternetGateway(this, "internet-gateway", { vpcId: this.vpc.id, tags: { Name: n.internetGateway } });
    const publicRoutes = new RouteTable(this, "route-table_public", { vpcId: this.vpc.id, tags: { Name: n.routeTable("public") } });
    new Route(this, "route_public_internet", { routeTableId: publicRoutes.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id });
    publicSubnets.forEach(
      (s, i) => new RouteTableAssociation(this, `route-table-association_public_${zones[i]}`, { subnetId: s.id, routeTableId: publicRoutes.id }),
    );

    const natZones = props.natGateways === "per-az" ? zones : zones.slice(0, 1);
    // Read by the review's cost lines: an idle NAT gateway (and its address) is money a sizing change can save.
    const lever = { CostLever: props.natInUse === false ? "idle: services_internet_egress = false" : "in use: services_internet_egress = true" };
    const nats = natZones.map((az, i) => {
      const eip = new Eip(this, `nat-eip_${az}`, { domain: "vpc", tags: { Name: n.natEip(az), ...lever } });
      return new NatGateway(this, `nat-gateway_${az}`, {
        allocationId: eip.allocationId,
        subnetId: publicSubnets[i]!.id,
        tags: { Name: n.natGateway(az), ...lever },
        dependsOn: [igw],
      });
    });
    this.natGatewayCount = nats.length;

    this.privateRouteTableIds = privateSubnets.map((s, i) => {
      const az = zones[i]!;
      const table = new RouteTable(this, `route-table_private_${az}`, { vpcId: this.vpc.id, tags: { Name: n.routeTable(`private-${az}`) } });
      // Each AZ leaves through its own NAT, so losing one AZ does not cut the others off.
      const nat = nats[Math.min(i, nats.length - 1)]!;
      new Route(this, `route_private_${az}_nat`, { routeTableId: table.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id });
      new RouteTableAssociation(this, `route-table-association_private_${az}`, { subnetId: s.id, routeTableId: table.id });
      return table.id;
    });

    // The database tier has only the VPC-local route: no way out, no way in from the internet.
    const databaseRoutes = new RouteTable(this, "route-table_database", { vpcId: this.vpc.id, tags: { Name: n.routeTable("database") } });
    databaseSubnets.forEach(
      (s, i) => new RouteTableAssociation(this, `route-table-association_database_${zones[i]}`, { subnetId: s.id, routeTableId: databaseRoutes.id }),
    );
    this.databaseRouteTableId = databaseRoutes.id;

    new NetworkAcls(this, "network-acl", {
      names: n,
      vpcId: this.vpc.id,
      defaultNetworkAclId: this.vpc.defaultNetworkAclId,
      defaultSubnetIds: [...this.subnetIds.public, ...this.subnetIds.private],
      databaseSubnetIds: this.subnetIds.database,
      clientCidrs: zones.map((_, i) => subnetCidr(props.cidr, "private", i)),
      peerCidrs: zones.map((_, i) => subnetCidr(props.cidr, "database", i)),
      databasePorts: props.databasePorts,
    });

    this.flowLogs(props);
  }

  private flowLogs(props: VpcProps): void {
    const n = props.names;
    const group = new EncryptedLogGroup(this, "flow-logs", {
      name: n.flowLogGroup,
      kmsKeyArn: props.kmsKeyArn,
      logClass: "audit",
      retentionDays: props.flowLogRetentionDays ?? AUDIT_LOG_RETENTION_DAYS,
      protect: props.protectFlowLogs,
    });
    const role = new ServiceRole(this, "flow-logs-role", {
      name: n.flowLogRole,
      service: "vpc-flow-logs.amazonaws.com",
      accountId: props.accountId,
      sourceArns: [`arn:${props.partition}:ec2:${props.region}:${props.accountId}:vpc-flow-log/*`],
      statements: [
        {
          sid: "WriteFlowLogs",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          resources: [group.logGroup.arn, `${group.logGroup.arn}:*`],
        },
        // DescribeLogGroups is not scoped to one group by CloudWatch Logs.
        { sid: "DescribeLogGroups", actions: ["logs:DescribeLogGroups"], resources: ["*"] },
      ],
    });
    new FlowLog(this, "flow-log", {
      vpcId: this.vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: group.logGroup.arn,
      iamRoleArn: role.role.arn,
      maxAggregationInterval: 60,
      // `$${field}`: Terraform would read a bare `${field}` as an interpolation.
      logFormat: FLOW_LOG_FIELDS.map((f) => `$\${${f}}`).join(" "),
      tags: { Name: n.flowLog },
      // The role is useless to the flow log until its policy exists: without this the first apply can race it.
      dependsOn: [role.policy],
    });
  }
}
