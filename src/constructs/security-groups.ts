import { Construct } from "constructs";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Names, Tier } from "../naming";

export interface SecurityGroupsProps {
  readonly names: Names;
  readonly vpcId: string;
  /** Port the services listen on behind the ALB. */
  readonly appPort: number;
  readonly databasePort: number;
  readonly cachePort: number;
  /**
   * HTTPS from the services to the internet (through NAT). Needed where AWS APIs have no interface
   * endpoint (dev); elsewhere only when the settings ask for it.
   */
  readonly servicesInternetEgress: boolean;
}

type Group = Tier | "endpoints";

/** A rule between two groups, or from/to a CIDR, on one TCP port. */
interface Flow {
  readonly id: string;
  readonly port: number;
  readonly description: string;
}

/**
 * The security groups of each tier, created with the network so later phases only reference them.
 * Traffic flows tier to tier on the ports it needs: world -> alb (80, 443) -> services (app port) ->
 * database (5432) / cache (6379); services -> endpoints (443). Only the ALB admits the internet, and
 * the services reach the internet only when `servicesInternetEgress` says so.
 */
export class SecurityGroups extends Construct {
  readonly groups: Readonly<Record<Group, SecurityGroup>>;

  constructor(scope: Construct, id: string, props: SecurityGroupsProps) {
    super(scope, id);
    const make = (g: Group, description: string) =>
      new SecurityGroup(this, g, {
        name: props.names.securityGroup(g),
        description,
        vpcId: props.vpcId,
        tags: { Name: props.names.securityGroup(g), Tier: g },
      });
    this.groups = {
      alb: make("alb", "Public load balancer: HTTPS (and HTTP to redirect) from the internet"),
      services: make("services", "ECS Fargate tasks: app port from the ALB and from each other"),
      database: make("database", "RDS PostgreSQL: from the services only"),
      cache: make("cache", "ElastiCache Redis: from the services only"),
      endpoints: make("endpoints", "VPC interface endpoints: HTTPS from the services"),
    };
    const g = this.groups;

    // IPv4 only: the VPC has no IPv6 block, so a `::/0` rule would open nothing but read as if it did.
    for (const port of [443, 80]) {
      new VpcSecurityGroupIngressRule(this, `alb_in_${port}_ipv4`, {
        securityGroupId: g.alb.id,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: "0.0.0.0/0",
        description: port === 443 ? "HTTPS from the internet" : "HTTP from the internet, redirected to HTTPS",
      });
    }
    this.between("alb", "services", { id: "app", port: props.appPort, description: "ALB to services" });
    this.between("services", "services", { id: "app", port: props.appPort, description: "Service to service" });
    this.between("services", "database", { id: "postgres", port: props.databasePort, description: "Services to PostgreSQL" });
    this.between("services", "cache", { id: "redis", port: props.cachePort, description: "Services to Redis" });
    this.between("services", "endpoints", { id: "https", port: 443, description: "Services to VPC interface endpoints" });
    if (!props.servicesInternetEgress) return;
    new VpcSecurityGroupEgressRule(this, "services_out_https_internet", {
      securityGroupId: g.services.id,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: "0.0.0.0/0",
      description: "HTTPS to the internet through NAT (AWS APIs without endpoints, identity providers)",
    });
  }

  /** Egress from `from` and the matching ingress on `to`, referencing each other's group. */
  private between(from: Group, to: Group, flow: Flow): void {
    const base = { ipProtocol: "tcp", fromPort: flow.port, toPort: flow.port, description: flow.description };
    new VpcSecurityGroupEgressRule(this, `${from}_out_${flow.id}_to_${to}`, {
      ...base,
      securityGroupId: this.groups[from].id,
      referencedSecurityGroupId: this.groups[to].id,
    });
    new VpcSecurityGroupIngressRule(this, `${to}_in_${flow.id}_from_${from}`, {
      ...base,
      securityGroupId: this.groups[to].id,
      referencedSecurityGroupId: this.groups[from].id,
    });
  }
}
