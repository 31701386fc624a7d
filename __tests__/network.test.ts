import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { config, resources, synthEnv } from "./support/config";

const prod = synthEnv(config("prod")).json.network;
const dev = synthEnv(config("dev")).json.network;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const values = (json: any, type: string): any[] => Object.values(resources(json, type));
const ref = (address: string, attr = "id") => `\${${address}.${attr}}`;

describe("vpc", () => {
  it("creates the VPC from the settings' CIDR with DNS support", () => {
    expect(JSON.stringify(prod)).toHaveResourceWithProperties(Vpc, { cidr_block: "10.30.0.0/16", enable_dns_hostnames: true, enable_dns_support: true, tags: { Name: "accessweaver-prod-vpc" } });
  });

  it("has three tiers in each of prod's three zones, none assigning public IPs", () => {
    const subnets = resources(prod, "aws_subnet");
    expect(Object.keys(subnets).sort()).toEqual(
      ["database", "private", "public"].flatMap((tier) => ["a", "b", "c"].map((z) => `vpc_subnet_${tier}_eu-west-1${z}`)).sort(),
    );
    expect(subnets["vpc_subnet_public_eu-west-1a"]).toMatchObject({ cidr_block: "10.30.0.0/20", availability_zone: "eu-west-1a" });
    expect(subnets["vpc_subnet_private_eu-west-1b"]).toMatchObject({ cidr_block: "10.30.80.0/20", availability_zone: "eu-west-1b" });
    expect(subnets["vpc_subnet_database_eu-west-1c"]).toMatchObject({ cidr_block: "10.30.160.0/20", availability_zone: "eu-west-1c" });
    for (const s of Object.values(subnets)) expect(s.map_public_ip_on_launch).toBe(false);
    const cidrs = Object.values(subnets).map((s) => s.cidr_block);
    expect(new Set(cidrs).size).toBe(cidrs.length);
  });

  it("routes each private subnet through the NAT gateway of its own zone in prod", () => {
    expect(values(prod, "aws_nat_gateway")).toHaveLength(3);
    for (const z of ["a", "b", "c"]) {
      const az = `eu-west-1${z}`;
      expect(resources(prod, "aws_nat_gateway")[`vpc_nat-gateway_${az}`].subnet_id).toBe(ref(`aws_subnet.vpc_subnet_public_${az}`));
      expect(resources(prod, "aws_route")[`vpc_route_private_${az}_nat`]).toMatchObject({
        destination_cidr_block: "0.0.0.0/0",
        nat_gateway_id: ref(`aws_nat_gateway.vpc_nat-gateway_${az}`),
        route_table_id: ref(`aws_route_table.vpc_route-table_private_${az}`),
      });
      expect(resources(prod, "aws_route_table_association")[`vpc_route-table-association_private_${az}`]).toMatchObject({
        subnet_id: ref(`aws_subnet.vpc_subnet_private_${az}`),
        route_table_id: ref(`aws_route_table.vpc_route-table_private_${az}`),
      });
    }
  });

  it("gives dev two zones and a single NAT gateway shared by its private subnets", () => {
    expect(Object.keys(resources(dev, "aws_nat_gateway"))).toEqual(["vpc_nat-gateway_eu-west-1a"]);
    for (const az of ["eu-west-1a", "eu-west-1b"]) {
      expect(resources(dev, "aws_route")[`vpc_route_private_${az}_nat`].nat_gateway_id).toBe(ref("aws_nat_gateway.vpc_nat-gateway_eu-west-1a"));
    }
    expect(values(dev, "aws_subnet")).toHaveLength(6);
  });

  it("gives the database tier no route out of the VPC", () => {
    const routes = values(prod, "aws_route");
    const databaseTable = ref("aws_route_table.vpc_route-table_database");
    expect(routes.filter((r) => r.route_table_id === databaseTable)).toEqual([]);
    expect(resources(prod, "aws_route_table")["vpc_route-table_database"].route).toBeUndefined();
    const dbAssociations = values(prod, "aws_route_table_association").filter((a) => a.route_table_id === databaseTable);
    expect(dbAssociations.map((a) => a.subnet_id).sort()).toEqual(["a", "b", "c"].map((z) => ref(`aws_subnet.vpc_subnet_database_eu-west-1${z}`)));
    // Only the public table reaches the internet gateway.
    expect(routes.filter((r) => r.gateway_id).map((r) => r.route_table_id)).toEqual([ref("aws_route_table.vpc_route-table_public")]);
  });

  it("strips the default security group of every rule", () => {
    expect(JSON.stringify(prod)).toHaveResourceWithProperties(DefaultSecurityGroup, { ingress: [], egress: [], vpc_id: ref("aws_vpc.vpc_vpc") });
  });

  it("records all traffic in flow logs kept three years in a KMS-encrypted log group", () => {
    expect(JSON.stringify(prod)).toHaveResourceWithProperties(
      FlowLog,
      {
        traffic_type: "ALL",
        vpc_id: ref("aws_vpc.vpc_vpc"),
        log_destination_type: "cloud-watch-logs",
        log_destination: ref("aws_cloudwatch_log_group.vpc_flow-logs_log-group", "arn"),
        iam_role_arn: ref("aws_iam_role.vpc_flow-logs-role_role", "arn"),
      },
    );
    expect(resources(prod, "aws_cloudwatch_log_group")["vpc_flow-logs_log-group"]).toMatchObject({
      name: "/aws/vpc/accessweaver-prod/flow-logs",
      retention_in_days: 1096,
      kms_key_id: ref("aws_kms_key.kms_key", "arn"),
      // Audit evidence outlives the stack in prod.
      skip_destroy: true,
      lifecycle: { prevent_destroy: true },
    });
    expect(resources(dev, "aws_cloudwatch_log_group")["vpc_flow-logs_log-group"].lifecycle).toBeUndefined();
    const trust = prod.data.aws_iam_policy_document["vpc_flow-logs-role_trust"].statement[0];
    expect(trust.principals).toEqual([{ type: "Service", identifiers: ["vpc-flow-logs.amazonaws.com"] }]);
    expect(trust.condition).toEqual([{ test: "StringEquals", variable: "aws:SourceAccount", values: ["111122223333"] }]);
  });
});

describe("endpoints", () => {
  it("adds the S3 gateway endpoint to the private and database route tables everywhere", () => {
    for (const json of [prod, dev]) {
      const s3 = resources(json, "aws_vpc_endpoint").endpoints_s3;
      expect(s3).toMatchObject({ service_name: "com.amazonaws.eu-west-1.s3", vpc_endpoint_type: "Gateway" });
      expect(s3.route_table_ids).toContain(ref("aws_route_table.vpc_route-table_database"));
      expect(s3.route_table_ids).toContain(ref("aws_route_table.vpc_route-table_private_eu-west-1a"));
      expect(s3.route_table_ids).not.toContain(ref("aws_route_table.vpc_route-table_public"));
    }
  });

  it("adds private interface endpoints for ECR, Logs, Secrets Manager and KMS in prod and staging only", () => {
    const interfaces = (json: unknown) => values(json, "aws_vpc_endpoint").filter((e) => e.vpc_endpoint_type === "Interface");
    expect(interfaces(prod).map((e) => e.service_name).sort()).toEqual(
      ["ecr.api", "ecr.dkr", "kms", "logs", "secretsmanager"].map((s) => `com.amazonaws.eu-west-1.${s}`),
    );
    for (const e of interfaces(prod)) {
      expect(e.private_dns_enabled).toBe(true);
      expect(e.security_group_ids).toEqual([ref("aws_security_group.security-groups_endpoints")]);
      expect(e.subnet_ids).toHaveLength(3);
    }
    expect(interfaces(synthEnv(config("staging")).json.network)).toHaveLength(5);
    expect(interfaces(dev)).toEqual([]);
  });
});

describe("security groups", () => {
  const ingress = values(prod, "aws_vpc_security_group_ingress_rule");
  const egress = values(prod, "aws_vpc_security_group_egress_rule");
  const sg = (tier: string) => ref(`aws_security_group.security-groups_${tier}`);

  it("creates one group per tier with the contract's names", () => {
    expect(values(prod, "aws_security_group").map((g) => g.name).sort()).toEqual(
      ["alb", "cache", "database", "endpoints", "services"].map((t) => `accessweaver-prod-${t}`),
    );
  });

  it("opens only the ALB to the world, on 80 and 443", () => {
    const world = ingress.filter((r) => r.cidr_ipv4 === "0.0.0.0/0" || r.cidr_ipv6 === "::/0");
    expect(world.map((r) => [r.security_group_id, r.from_port, r.to_port]).sort()).toEqual([
      [sg("alb"), 443, 443],
      [sg("alb"), 443, 443],
      [sg("alb"), 80, 80],
      [sg("alb"), 80, 80],
    ]);
  });

  it("lets traffic flow tier to tier on the ports it needs, and nothing else in", () => {
    const flows = ingress.filter((r) => r.referenced_security_group_id).map((r) => `${r.referenced_security_group_id} -> ${r.security_group_id}:${r.from_port}`);
    expect(flows.sort()).toEqual(
      [`${sg("alb")} -> ${sg("services")}:8080`, `${sg("services")} -> ${sg("services")}:8080`, `${sg("services")} -> ${sg("database")}:5432`, `${sg("services")} -> ${sg("cache")}:6379`, `${sg("services")} -> ${sg("endpoints")}:443`].sort(),
    );
    // Database and cache groups send nothing anywhere.
    expect(egress.filter((r) => r.security_group_id === sg("database") || r.security_group_id === sg("cache"))).toEqual([]);
  });

  it("keeps prod's services off the internet: HTTPS only to the endpoints and to S3's prefix list", () => {
    const out = egress.filter((r) => r.security_group_id === sg("services")).map((r) => `${r.from_port} ${r.referenced_security_group_id ?? r.prefix_list_id ?? r.cidr_ipv4}`);
    expect(out.sort()).toEqual(
      [`443 ${sg("endpoints")}`, "443 ${aws_vpc_endpoint.endpoints_s3.prefix_list_id}", `5432 ${sg("database")}`, `6379 ${sg("cache")}`, `8080 ${sg("services")}`].sort(),
    );
    expect(egress.filter((r) => r.cidr_ipv4 || r.cidr_ipv6)).toEqual([]);
  });

  it("opens HTTPS to the internet where there are no interface endpoints (dev), or when the settings ask", () => {
    const world = (json: unknown) => values(json, "aws_vpc_security_group_egress_rule").filter((r) => r.cidr_ipv4 === "0.0.0.0/0");
    expect(world(dev).map((r) => [r.security_group_id, r.from_port])).toEqual([[sg("services"), 443]]);
    expect(world(synthEnv(config("prod", { services_internet_egress: true })).json.network)).toHaveLength(1);
  });
});

describe("kms", () => {
  const policy = prod.data.aws_iam_policy_document["kms_key-policy"].statement;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const statement = (sid: string) => policy.find((s: any) => s.sid === sid);

  it("creates a rotated key with a 30-day deletion window and prevent_destroy in prod, and its alias", () => {
    expect(resources(prod, "aws_kms_key").kms_key).toMatchObject({
      enable_key_rotation: true,
      deletion_window_in_days: 30,
      policy: "${data.aws_iam_policy_document.kms_key-policy.json}",
      lifecycle: { prevent_destroy: true },
    });
    expect(JSON.stringify(prod)).toHaveResourceWithProperties(KmsAlias, { name: "alias/accessweaver-prod", target_key_id: ref("aws_kms_key.kms_key", "key_id") });
    expect(resources(dev, "aws_kms_key").kms_key).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: 7, lifecycle: { prevent_destroy: false } });
  });

  it("lets exactly this account's IAM and the project's services use the key, scoped to account and region", () => {
    expect(policy.map((s: { sid: string }) => s.sid)).toEqual([
      "EnableIamUserPermissions",
      "AllowCloudWatchLogs",
      "AllowCloudTrailEncrypt",
      "AllowCloudTrailDescribeKey",
      "AllowAlertPublishers",
      "AllowUseThroughAwsServices",
    ]);
    expect(statement("EnableIamUserPermissions").principals).toEqual([{ type: "AWS", identifiers: ["arn:aws:iam::111122223333:root"] }]);
    expect(statement("AllowCloudWatchLogs").principals[0].identifiers).toEqual(["logs.eu-west-1.amazonaws.com"]);
    expect(statement("AllowCloudWatchLogs").condition[0].values).toEqual(["arn:aws:logs:eu-west-1:111122223333:log-group:*"]);
    expect(statement("AllowCloudTrailEncrypt")).toMatchObject({
      actions: ["kms:GenerateDataKey*"],
      condition: [
        { test: "StringLike", variable: "kms:EncryptionContext:aws:cloudtrail:arn", values: ["arn:aws:cloudtrail:eu-west-1:111122223333:trail/*"] },
        { test: "StringEquals", variable: "aws:SourceAccount", values: ["111122223333"] },
      ],
    });
    expect(statement("AllowCloudTrailDescribeKey")).toMatchObject({ actions: ["kms:DescribeKey"], condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: ["111122223333"] }] });
    expect(statement("AllowAlertPublishers").principals[0].identifiers).toEqual(["cloudwatch.amazonaws.com", "budgets.amazonaws.com", "events.amazonaws.com"]);
    const via = statement("AllowUseThroughAwsServices");
    expect(via.condition).toContainEqual({ test: "StringEquals", variable: "kms:CallerAccount", values: ["111122223333"] });
    expect(via.condition.find((c: { variable: string }) => c.variable === "kms:ViaService").values).toEqual([
      "rds.eu-west-1.amazonaws.com",
      "elasticache.eu-west-1.amazonaws.com",
      "secretsmanager.eu-west-1.amazonaws.com",
      "s3.eu-west-1.amazonaws.com",
    ]);
    for (const s of policy) expect(s.effect).toBe("Allow");
  });

  it("uses an existing key when the settings name one, creating no key or alias", () => {
    const arn = "arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    const json = synthEnv(config("prod", { kms_key_arn: arn })).json.network;
    expect(resources(json, "aws_kms_key")).toEqual({});
    expect(resources(json, "aws_kms_alias")).toEqual({});
    expect(json.data.aws_iam_policy_document["kms_key-policy"]).toBeUndefined();
    expect(resources(json, "aws_cloudwatch_log_group")["vpc_flow-logs_log-group"].kms_key_id).toBe(arn);
    expect(json.output.kms_key_arn.value).toBe(arn);
    expect(json.output.kms_key_alias).toBeUndefined();
  });
});
