import { Construct } from "constructs";
import { DefaultNetworkAcl } from "@cdktf/provider-aws/lib/default-network-acl";
import { NetworkAcl } from "@cdktf/provider-aws/lib/network-acl";
import { Names } from "../naming";

/** The range clients' source ports come from (Linux, NAT gateways and AWS services all fall inside it). */
const EPHEMERAL_PORTS = { from: 1024, to: 65535 } as const;

export interface NetworkAclsProps {
  readonly names: Names;
  /** The VPC's default network ACL (`aws_vpc.default_network_acl_id`). */
  readonly defaultNetworkAclId: string;
  readonly vpcId: string;
  /** Subnets that stay on the default ACL (public and private tiers): their security groups are their control. */
  readonly defaultSubnetIds: string[];
  /** The database tier's subnets, given their own ACL. */
  readonly databaseSubnetIds: string[];
  /** The only CIDRs the database tier talks to: the private tier's subnets, one per zone. */
  readonly clientCidrs: string[];
  /** TCP ports the database tier serves (PostgreSQL, Redis). */
  readonly databasePorts: number[];
  /**
   * The database tier's own subnets, one per zone: replication between zones (Redis replicas and the
   * cluster bus, 16379) crosses them, so the tier talks to itself on TCP 1024-65535, both ways.
   */
  readonly peerCidrs: string[];
}

/** One IPv4 entry, in the shape both ACL resources take. */
interface Entry {
  readonly ruleNo: number;
  readonly action: "allow" | "deny";
  readonly protocol: string;
  readonly cidrBlock: string;
  readonly fromPort: number;
  readonly toPort: number;
}

/**
 * Network ACLs, a stateless second fence under the security groups where it is cheap to keep exact:
 * - the default ACL is adopted and tagged, so it is managed and visible; it allows all IPv4 traffic,
 *   because the public and private tiers are guarded by their stateful security groups;
 * - the database tier has its own ACL: in, the private tier's CIDRs on the database ports only; out,
 *   the replies to them on ephemeral ports; everything else is denied (the ACL's implicit last rule).
 * Rule numbers: port *p* (1st, 2nd...) from the private subnet of zone *i* is `100 * p + 10 * i`
 * (100, 110, 120: PostgreSQL; 200, 210, 220: Redis); replies to zone *i* are `100 + 10 * i`; the tier's
 * own subnet of zone *i* is `900 + 10 * i` both ways.
 */
/** First rule number of the tier-to-itself entries, clear of the per-port blocks (100 * port index). */
const PEER_RULES = 900;

export class NetworkAcls extends Construct {
  readonly databaseAcl: NetworkAcl;

  constructor(scope: Construct, id: string, props: NetworkAclsProps) {
    super(scope, id);
    const n = props.names;
    const allowAll: Entry = { ruleNo: 100, action: "allow", protocol: "-1", cidrBlock: "0.0.0.0/0", fromPort: 0, toPort: 0 };
    // Adopting the default ACL replaces its rules with these: the same allow-all AWS puts there.
    new DefaultNetworkAcl(this, "default", {
      defaultNetworkAclId: props.defaultNetworkAclId,
      subnetIds: props.defaultSubnetIds,
      ingress: [allowAll],
      egress: [allowAll],
      tags: { Name: n.networkAcl("default") },
    });

    const tcp = (ruleNo: number, cidrBlock: string, from: number, to: number): Entry => ({
      ruleNo,
      action: "allow",
      protocol: "tcp",
      cidrBlock,
      fromPort: from,
      toPort: to,
    });
    this.databaseAcl = new NetworkAcl(this, "database", {
      vpcId: props.vpcId,
      subnetIds: props.databaseSubnetIds,
      ingress: [
        ...props.databasePorts.flatMap((port, p) => props.clientCidrs.map((cidr, i) => tcp(100 * (p + 1) + 10 * i, cidr, port, port))),
        ...props.peerCidrs.map((cidr, i) => tcp(PEER_RULES + 10 * i, cidr, EPHEMERAL_PORTS.from, EPHEMERAL_PORTS.to)),
      ],
      egress: [
        ...props.clientCidrs.map((cidr, i) => tcp(100 + 10 * i, cidr, EPHEMERAL_PORTS.from, EPHEMERAL_PORTS.to)),
        ...props.peerCidrs.map((cidr, i) => tcp(PEER_RULES + 10 * i, cidr, EPHEMERAL_PORTS.from, EPHEMERAL_PORTS.to)),
      ],
      tags: { Name: n.networkAcl("database"), Tier: "database" },
    });
  }
}
