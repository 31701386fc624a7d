import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { Testing } from "cdktf";
// Type-only: brings cdktf's jest matcher declarations (toHaveResourceWithProperties, ...) into scope.
import type {} from "cdktf/lib/testing/adapters/jest";
import { Kms } from "../src/constructs/kms";
import { names } from "../src/naming";
import { TERRAFORM_VERSIONS } from "../src/stacks/phase-stack";
import { config, policyStatements, resources, synthEnv } from "./support/config";

Testing.setupJest();

const prod = synthEnv(config("prod")).json.network;
const staging = synthEnv(config("staging")).json.network;
const dev = synthEnv(config("dev")).json.network;
const ALL = { prod, staging, dev };
const ACCOUNT = "111122223333";

const values = (json: any, type: string): any[] => Object.values(resources(json, type));
const ref = (address: string, attr = "id") => `\${${address}.${attr}}`;
const ANYONE = [{ type: "AWS", identifiers: ["*"] }];
const equals = (variable: string, ...v: string[]) => ({ test: "StringEquals", variable, values: v });
const arnLike = (variable: string, ...v: string[]) => ({ test: "ArnLike", variable, values: v });
/** The CIDRs of one tier's subnets, in zone order. */
const tierCidrs = (json: unknown, tier: string) =>
  Object.entries(resources(json, "aws_subnet"))
    .filter(([name]) => name.startsWith(`vpc_subnet_${tier}_`))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, s]) => s.cidr_block as string);

describe("vpc", () => {
  it("creates the VPC from the settings' CIDR with DNS support", () => {
    expect(JSON.stringify(prod)).toHaveResourceWithProperties(Vpc, {
      cidr_block: "10.30.0.0/16",
      enable_dns_hostnames: true,
      enable_dns_support: true,
      tags: { Name: "accessweaver-prod-vpc" },
    });
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
    expect(JSON.stringify(prod)).toHaveResourceWithProperties(FlowLog, {
      traffic_type: "ALL",
      vpc_id: ref("aws_vpc.vpc_vpc"),
      log_destination_type: "cloud-watch-logs",
      log_destination: ref("aws_cloudwatch_log_group.vpc_flow-logs_log-group", "arn"),
      iam_role_arn: ref("aws_iam_role.vpc_flow-logs-role_role", "arn"),
    });
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
    expect(trust.condition).toEqual([equals("aws:SourceAccount", ACCOUNT), arnLike("aws:SourceArn", `arn:aws:ec2:eu-west-1:${ACCOUNT}:vpc-flow-log/*`)]);
  });

  it.each(Object.keys(ALL))("%s: flow logs keep AWS's default fields and add where each flow went, and wait for their role's policy", (env) => {
    const flowLog = resources(ALL[env as keyof typeof ALL], "aws_flow_log")["vpc_flow-log"];
    // `$${...}` in the JSON is Terraform's escape for a literal `${...}`.
    expect(flowLog.log_format).toBe(
      "$${version} $${account-id} $${interface-id} $${srcaddr} $${dstaddr} $${srcport} $${dstport} $${protocol} $${packets} $${bytes} $${start} $${end} $${action} $${log-status} " +
        "$${vpc-id} $${subnet-id} $${instance-id} $${tcp-flags} $${pkt-srcaddr} $${pkt-dstaddr} $${flow-direction} $${traffic-path}",
    );
    expect(flowLog.depends_on).toEqual(["aws_iam_role_policy.vpc_flow-logs-role_policy"]);
    expect(resources(ALL[env as keyof typeof ALL], "aws_iam_role_policy")["vpc_flow-logs-role_policy"].role).toBe(ref("aws_iam_role.vpc_flow-logs-role_role"));
  });

  it("adopts the default route table, tagged and with no route", () => {
    for (const json of Object.values(ALL)) {
      expect(resources(json, "aws_default_route_table")["vpc_default-route-table"]).toMatchObject({
        default_route_table_id: ref("aws_vpc.vpc_vpc", "default_route_table_id"),
        route: [],
        tags: { Name: expect.stringMatching(/^accessweaver-(prod|staging|dev)-default-no-routes$/) },
      });
    }
  });
});

describe("network ACLs", () => {
  const allowAll = { rule_no: 100, action: "allow", protocol: "-1", cidr_block: "0.0.0.0/0", from_port: 0, to_port: 0 };

  const entries = (list: any[]) => list.map((e) => `${e.rule_no} ${e.action} ${e.protocol} ${e.from_port}-${e.to_port} ${e.cidr_block}`);

  it.each(Object.keys(ALL))("%s: adopts the default ACL, tagged, allowing all IPv4 for the public and private tiers only", (env) => {
    const json = ALL[env as keyof typeof ALL];
    const acl = resources(json, "aws_default_network_acl")["vpc_network-acl_default"];
    expect(acl.default_network_acl_id).toBe(ref("aws_vpc.vpc_vpc", "default_network_acl_id"));
    expect(acl.tags).toEqual({ Name: `accessweaver-${env}-default-nacl` });
    expect(acl.ingress).toEqual([allowAll]);
    expect(acl.egress).toEqual([allowAll]);
    const subnets = Object.keys(resources(json, "aws_subnet"));
    expect([...acl.subnet_ids].sort()).toEqual(
      subnets
        .filter((n) => !n.includes("_database_"))
        .map((n) => ref(`aws_subnet.${n}`))
        .sort(),
    );
  });

  it.each(Object.keys(ALL))(
    "%s: gives the database tier its own ACL: in from the private tier on 5432 and 6379, out to it on ephemeral ports, the tier to itself (replication), nothing else",
    (env) => {
      const json = ALL[env as keyof typeof ALL];
      const acl = resources(json, "aws_network_acl")["vpc_network-acl_database"];
      const clients = tierCidrs(json, "private");
      expect(clients).toHaveLength(env === "dev" ? 2 : 3);
      expect(acl.subnet_ids).toEqual(
        Object.keys(resources(json, "aws_subnet"))
          .filter((n) => n.includes("_database_"))
          .map((n) => ref(`aws_subnet.${n}`)),
      );
      expect(acl.tags).toEqual({ Name: `accessweaver-${env}-database-nacl`, Tier: "database" });
      const peers = tierCidrs(json, "database");
      expect(entries(acl.ingress)).toEqual([
        ...clients.map((c, i) => `${100 + 10 * i} allow tcp 5432-5432 ${c}`),
        ...clients.map((c, i) => `${200 + 10 * i} allow tcp 6379-6379 ${c}`),
        ...peers.map((c, i) => `${900 + 10 * i} allow tcp 1024-65535 ${c}`),
      ]);
      expect(entries(acl.egress)).toEqual([
        ...clients.map((c, i) => `${100 + 10 * i} allow tcp 1024-65535 ${c}`),
        ...peers.map((c, i) => `${900 + 10 * i} allow tcp 1024-65535 ${c}`),
      ]);
    },
  );

  it("lists prod's database ACL entries exactly, both directions", () => {
    const acl = resources(prod, "aws_network_acl")["vpc_network-acl_database"];
    expect(entries(acl.ingress)).toEqual([
      "100 allow tcp 5432-5432 10.30.64.0/20",
      "110 allow tcp 5432-5432 10.30.80.0/20",
      "120 allow tcp 5432-5432 10.30.96.0/20",
      "200 allow tcp 6379-6379 10.30.64.0/20",
      "210 allow tcp 6379-6379 10.30.80.0/20",
      "220 allow tcp 6379-6379 10.30.96.0/20",
      "900 allow tcp 1024-65535 10.30.128.0/20",
      "910 allow tcp 1024-65535 10.30.144.0/20",
      "920 allow tcp 1024-65535 10.30.160.0/20",
    ]);
    expect(entries(acl.egress)).toEqual([
      "100 allow tcp 1024-65535 10.30.64.0/20",
      "110 allow tcp 1024-65535 10.30.80.0/20",
      "120 allow tcp 1024-65535 10.30.96.0/20",
      "900 allow tcp 1024-65535 10.30.128.0/20",
      "910 allow tcp 1024-65535 10.30.144.0/20",
      "920 allow tcp 1024-65535 10.30.160.0/20",
    ]);
    // The database tier is in no other ACL: a subnet has exactly one.
    expect(resources(prod, "aws_network_acl_association")).toEqual({});
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
    expect(
      interfaces(prod)
        .map((e) => e.service_name)
        .sort(),
    ).toEqual(["ecr.api", "ecr.dkr", "kms", "logs", "secretsmanager"].map((s) => `com.amazonaws.eu-west-1.${s}`));
    for (const e of interfaces(prod)) {
      expect(e.private_dns_enabled).toBe(true);
      expect(e.security_group_ids).toEqual([ref("aws_security_group.security-groups_endpoints")]);
      expect(e.subnet_ids).toHaveLength(3);
    }
    expect(interfaces(staging)).toHaveLength(5);
    expect(interfaces(dev)).toEqual([]);
  });

  it.each(Object.keys(ALL))("%s: limits the S3 gateway endpoint to this account's buckets and ECR's layer bucket", (env) => {
    const json = ALL[env as keyof typeof ALL];
    expect(resources(json, "aws_vpc_endpoint").endpoints_s3.policy).toBe("${data.aws_iam_policy_document.endpoints_s3-policy.json}");
    const st = policyStatements(json, "endpoints_s3-policy");
    expect(Object.keys(st)).toEqual(["ThisAccountsBuckets", "EcrImageLayers"]);
    expect(st.ThisAccountsBuckets).toEqual({
      sid: "ThisAccountsBuckets",
      effect: "Allow",
      actions: ["s3:*"],
      resources: ["*"],
      principals: ANYONE,
      condition: [equals("aws:ResourceAccount", ACCOUNT)],
    });
    // The layer bucket is AWS's, so no account condition: read-only, on that one bucket.
    expect(st.EcrImageLayers).toEqual({
      sid: "EcrImageLayers",
      effect: "Allow",
      actions: ["s3:GetObject"],
      resources: ["arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*"],
      principals: ANYONE,
    });
  });

  it.each(["prod", "staging"])("%s: limits each interface endpoint to this account's principals acting on this account's resources", (env) => {
    const json = ALL[env as keyof typeof ALL];
    for (const svc of ["ecr-api", "ecr-dkr", "logs", "secretsmanager", "kms"]) {
      expect(resources(json, "aws_vpc_endpoint")[`endpoints_${svc}`].policy).toBe(`\${data.aws_iam_policy_document.endpoints_${svc}-policy.json}`);
      const st = policyStatements(json, `endpoints_${svc}-policy`);
      expect(Object.keys(st)).toEqual(svc === "ecr-api" ? ["ThisAccountsPrincipalsAndResources", "RegistryLogin"] : ["ThisAccountsPrincipalsAndResources"]);
      expect(st.ThisAccountsPrincipalsAndResources).toMatchObject({
        actions: ["*"],
        principals: ANYONE,
        condition: [equals("aws:PrincipalAccount", ACCOUNT), equals("aws:ResourceAccount", ACCOUNT)],
      });
    }
    // The registry login names no resource: only the caller's account is checked.
    expect(policyStatements(json, "endpoints_ecr-api-policy").RegistryLogin).toMatchObject({
      actions: ["ecr:GetAuthorizationToken"],
      condition: [equals("aws:PrincipalAccount", ACCOUNT)],
    });
  });

  it("lets the ECR endpoints reach an image registry in another account, and nothing else reach it", () => {
    const json = synthEnv(config("prod", { ecr_registry: "444455556666.dkr.ecr.eu-west-1.amazonaws.com" })).json.network;
    for (const svc of ["ecr-api", "ecr-dkr"]) {
      expect(policyStatements(json, `endpoints_${svc}-policy`).ThisAccountsPrincipalsAndResources.condition).toEqual([
        equals("aws:PrincipalAccount", ACCOUNT),
        equals("aws:ResourceAccount", ACCOUNT, "444455556666"),
      ]);
    }
    for (const svc of ["logs", "secretsmanager", "kms"]) {
      expect(policyStatements(json, `endpoints_${svc}-policy`).ThisAccountsPrincipalsAndResources.condition).toEqual([
        equals("aws:PrincipalAccount", ACCOUNT),
        equals("aws:ResourceAccount", ACCOUNT),
      ]);
    }
  });
});

describe("security groups", () => {
  const ingress = values(prod, "aws_vpc_security_group_ingress_rule");
  const egress = values(prod, "aws_vpc_security_group_egress_rule");
  const sg = (tier: string) => ref(`aws_security_group.security-groups_${tier}`);

  it("creates one group per tier with the contract's names", () => {
    expect(
      values(prod, "aws_security_group")
        .map((g) => g.name)
        .sort(),
    ).toEqual(["alb", "cache", "database", "endpoints", "services"].map((t) => `accessweaver-prod-${t}`));
  });

  it("opens only the ALB to the world, on 80 and 443, over IPv4", () => {
    const world = ingress.filter((r) => r.cidr_ipv4 === "0.0.0.0/0" || r.cidr_ipv6 === "::/0");
    expect(world.map((r) => [r.security_group_id, r.from_port, r.to_port, r.cidr_ipv4]).sort()).toEqual([
      [sg("alb"), 443, 443, "0.0.0.0/0"],
      [sg("alb"), 80, 80, "0.0.0.0/0"],
    ]);
  });

  it("is IPv4 only everywhere: no IPv6 block on the VPC, no IPv6 rule or route", () => {
    for (const json of Object.values(ALL)) {
      expect(resources(json, "aws_vpc").vpc_vpc.assign_generated_ipv6_cidr_block).toBeUndefined();
      expect(JSON.stringify(json.resource)).not.toMatch(/::\/0|ipv6_cidr_block":"|cidr_ipv6/);
    }
  });

  it("lets traffic flow tier to tier on the ports it needs, and nothing else in", () => {
    const flows = ingress
      .filter((r) => r.referenced_security_group_id)
      .map((r) => `${r.referenced_security_group_id} -> ${r.security_group_id}:${r.from_port}`);
    expect(flows.sort()).toEqual(
      [
        `${sg("alb")} -> ${sg("services")}:8080`,
        `${sg("services")} -> ${sg("services")}:8080`,
        `${sg("services")} -> ${sg("database")}:5432`,
        `${sg("services")} -> ${sg("cache")}:6379`,
        `${sg("services")} -> ${sg("endpoints")}:443`,
      ].sort(),
    );
    // Database and cache groups send nothing anywhere.
    expect(egress.filter((r) => r.security_group_id === sg("database") || r.security_group_id === sg("cache"))).toEqual([]);
  });

  it("keeps prod's services off the internet: HTTPS only to the endpoints and to S3's prefix list", () => {
    const out = egress
      .filter((r) => r.security_group_id === sg("services"))
      .map((r) => `${r.from_port} ${r.referenced_security_group_id ?? r.prefix_list_id ?? r.cidr_ipv4}`);
    expect(out.sort()).toEqual(
      [
        `443 ${sg("endpoints")}`,
        "443 ${aws_vpc_endpoint.endpoints_s3.prefix_list_id}",
        `5432 ${sg("database")}`,
        `6379 ${sg("cache")}`,
        `8080 ${sg("services")}`,
      ].sort(),
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

  const statement = (sid: string) => policy.find((s: any) => s.sid === sid);

  it("creates a rotated key with a 30-day deletion window and prevent_destroy in prod, and its alias", () => {
    expect(resources(prod, "aws_kms_key").kms_key).toMatchObject({
      enable_key_rotation: true,
      deletion_window_in_days: 30,
      policy: "${data.aws_iam_policy_document.kms_key-policy.json}",
      lifecycle: { prevent_destroy: true },
    });
    expect(JSON.stringify(prod)).toHaveResourceWithProperties(KmsAlias, {
      name: "alias/accessweaver-prod",
      target_key_id: ref("aws_kms_key.kms_key", "key_id"),
    });
    expect(resources(dev, "aws_kms_key").kms_key).toMatchObject({
      enable_key_rotation: true,
      deletion_window_in_days: 7,
      lifecycle: { prevent_destroy: false },
    });
  });

  it("lets exactly this account's IAM and the project's services use the key, each for its own resources", () => {
    expect(policy.map((s: { sid: string }) => s.sid)).toEqual([
      "EnableIamUserPermissions",
      "AllowCloudWatchLogs",
      "AllowCloudTrailEncrypt",
      "AllowCloudTrailDescribeKey",
      "AllowCloudWatchAlarms",
      "AllowBudgets",
      "AllowRdsEvents",
      "AllowEventBridgeRules",
      "AllowFargateEphemeralStorage",
      "AllowFargateEphemeralStorageGrants",
      "AllowUseThroughAwsServices",
      "AllowSecretsThroughSecretsManager",
      "AllowGrantsForAwsResources",
    ]);
    expect(statement("EnableIamUserPermissions")).toMatchObject({
      actions: ["kms:*"],
      principals: [{ type: "AWS", identifiers: [`arn:aws:iam::${ACCOUNT}:root`] }],
    });
    expect(statement("EnableIamUserPermissions").condition).toBeUndefined();
    expect(statement("AllowCloudWatchLogs").principals).toEqual([{ type: "Service", identifiers: ["logs.eu-west-1.amazonaws.com"] }]);
    // Only this project's log groups, by name prefix.
    expect(statement("AllowCloudWatchLogs").condition).toEqual([
      arnLike(
        "kms:EncryptionContext:aws:logs:arn",
        ...[
          "/aws/vpc/accessweaver-prod/",
          "/ecs/accessweaver-prod/",
          "/aws/rds/instance/accessweaver-prod-postgres/",
          "/aws/elasticache/accessweaver-prod-redis/",
          "aws-waf-logs-accessweaver-prod",
          "/aws/cloudtrail/accessweaver-prod",
        ].map((p) => `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:${p}*`),
      ),
    ]);
    const trail = `arn:aws:cloudtrail:eu-west-1:${ACCOUNT}:trail/accessweaver-prod-audit-trail`;
    expect(statement("AllowCloudTrailEncrypt")).toMatchObject({
      actions: ["kms:GenerateDataKey*"],
      principals: [{ type: "Service", identifiers: ["cloudtrail.amazonaws.com"] }],
      condition: [
        { test: "StringLike", variable: "kms:EncryptionContext:aws:cloudtrail:arn", values: [trail] },
        equals("aws:SourceAccount", ACCOUNT),
        arnLike("aws:SourceArn", trail),
      ],
    });
    expect(statement("AllowCloudTrailDescribeKey")).toMatchObject({
      actions: ["kms:DescribeKey"],
      condition: [equals("aws:SourceAccount", ACCOUNT), arnLike("aws:SourceArn", trail)],
    });
    const publishers: [string, string, string][] = [
      ["AllowCloudWatchAlarms", "cloudwatch.amazonaws.com", `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:accessweaver-prod-*`],
      ["AllowBudgets", "budgets.amazonaws.com", `arn:aws:budgets::${ACCOUNT}:*`],
      ["AllowRdsEvents", "events.rds.amazonaws.com", `arn:aws:rds:eu-west-1:${ACCOUNT}:db:accessweaver-prod-postgres`],
      ["AllowEventBridgeRules", "events.amazonaws.com", `arn:aws:events:eu-west-1:${ACCOUNT}:rule/accessweaver-prod-*`],
    ];
    for (const [sid, service, source] of publishers) {
      expect(statement(sid)).toMatchObject({ actions: ["kms:GenerateDataKey*", "kms:Decrypt"], principals: [{ type: "Service", identifiers: [service] }] });
      // Alarms' KMS calls carry their source; EventBridge's do not (the SNS guide) and Budgets' are not
      // documented to: a condition there would drop every event and budget alert. The topic policy scopes them.
      if (sid === "AllowCloudWatchAlarms") expect(statement(sid).condition).toEqual([equals("aws:SourceAccount", ACCOUNT), arnLike("aws:SourceArn", source)]);
      else expect(statement(sid).condition).toBeUndefined();
    }
    const throughServices = [
      equals("kms:CallerAccount", ACCOUNT),
      equals("kms:ViaService", "rds.eu-west-1.amazonaws.com", "elasticache.eu-west-1.amazonaws.com", "s3.eu-west-1.amazonaws.com"),
    ];
    expect(statement("AllowUseThroughAwsServices")).toMatchObject({ principals: ANYONE, condition: throughServices });
    // Secrets Manager decrypts through this key for this environment's roles and RDS's own role only:
    // anyone else who may read a secret also needs kms:Decrypt in their own IAM policy.
    expect(statement("AllowSecretsThroughSecretsManager")).toMatchObject({
      principals: ANYONE,
      condition: [
        equals("kms:CallerAccount", ACCOUNT),
        equals("kms:ViaService", "secretsmanager.eu-west-1.amazonaws.com"),
        arnLike(
          "aws:PrincipalArn",
          `arn:aws:iam::${ACCOUNT}:role/accessweaver-prod-*`,
          `arn:aws:iam::${ACCOUNT}:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS`,
        ),
      ],
    });
    expect(statement("AllowUseThroughAwsServices").actions).not.toContain("kms:CreateGrant");
    expect(statement("AllowGrantsForAwsResources")).toMatchObject({
      actions: ["kms:CreateGrant", "kms:ListGrants"],
      principals: ANYONE,
      condition: [...throughServices, { test: "Bool", variable: "kms:GrantIsForAWSResource", values: ["true"] }],
    });
    for (const s of policy) expect(s.effect).toBe("Allow");
  });

  it.each([["staging"], ["dev"]])("%s: scopes the same statements to its own trail, alarms, budget, rules and log groups", (env) => {
    const st = policyStatements(ALL[env as keyof typeof ALL], "kms_key-policy");
    expect(Object.keys(st)).toEqual(policy.map((x: { sid: string }) => x.sid));
    const trail = `arn:aws:cloudtrail:eu-west-1:${ACCOUNT}:trail/accessweaver-${env}-audit-trail`;
    expect(st.AllowCloudTrailEncrypt.condition.at(-1)).toEqual(arnLike("aws:SourceArn", trail));
    expect(st.AllowCloudWatchAlarms.condition[1]).toEqual(arnLike("aws:SourceArn", `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:accessweaver-${env}-*`));
    expect(st.AllowCloudWatchLogs.condition[0].values).toEqual(
      names(env as "dev").logGroupPrefixes.map((p) => `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:${p}*`),
    );
    expect(st.AllowCloudWatchLogs.condition[0].values[0]).toBe(`arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/vpc/accessweaver-${env}/*`);
    expect(st.AllowGrantsForAwsResources.condition.at(-1)).toEqual({ test: "Bool", variable: "kms:GrantIsForAWSResource", values: ["true"] });
  });

  it("grants key administration through the account root only: every other statement only uses the key", () => {
    const use = new Set([
      "kms:Encrypt",
      "kms:Encrypt*",
      "kms:Decrypt",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:DescribeKey",
      "kms:Describe*",
      "kms:CreateGrant",
      "kms:ListGrants",
    ]);
    for (const s of policy.filter((x: { sid: string }) => x.sid !== "EnableIamUserPermissions")) {
      expect([s.sid, s.actions.filter((a: string) => !use.has(a))]).toEqual([s.sid, []]);
      // A wildcard principal never goes without conditions.
      if (JSON.stringify(s.principals).includes('"*"')) expect(s.condition.length).toBeGreaterThan(0);
    }
  });

  it("names the partition's own service principals and ARNs (China: logs.<region>.amazonaws.com.cn)", () => {
    const stack = Testing.synthScope((scope) => {
      new Kms(scope, "kms", {
        names: names("prod"),
        description: "x",
        accountId: ACCOUNT,
        region: "cn-north-1",
        partition: "aws-cn",
        deletionWindowDays: 30,
        preventDestroy: true,
      });
    });
    const [doc] = Object.values<{ statement: { sid: string }[] }>(JSON.parse(stack).data.aws_iam_policy_document);
    const cn = Object.fromEntries(doc!.statement.map((st) => [st.sid, st])) as Record<string, any>;
    expect(cn.AllowCloudWatchLogs.principals[0].identifiers).toEqual(["logs.cn-north-1.amazonaws.com.cn"]);
    expect(cn.AllowCloudWatchLogs.condition[0].values[0]).toBe(`arn:aws-cn:logs:cn-north-1:${ACCOUNT}:log-group:/aws/vpc/accessweaver-prod/*`);
    expect(cn.EnableIamUserPermissions.principals[0].identifiers).toEqual([`arn:aws-cn:iam::${ACCOUNT}:root`]);
    expect(cn.AllowUseThroughAwsServices.condition[1].values).toContain("rds.cn-north-1.amazonaws.com.cn");
    expect(cn.AllowCloudWatchAlarms.condition[1].values).toEqual([`arn:aws-cn:cloudwatch:cn-north-1:${ACCOUNT}:alarm:accessweaver-prod-*`]);
  });

  it("uses an existing key when the settings name one, creating no key or alias", () => {
    const arn = "arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    const json = synthEnv(config("prod", { kms_key_arn: arn })).json.network;
    // The DR region's key is still made here: the settings' key is the primary region's.
    expect(Object.keys(resources(json, "aws_kms_key"))).toEqual(["dr-key_key"]);
    expect(Object.keys(resources(json, "aws_kms_alias"))).toEqual(["dr-key_alias"]);
    expect(json.data.aws_iam_policy_document["kms_key-policy"]).toBeUndefined();
    expect(resources(json, "aws_cloudwatch_log_group")["vpc_flow-logs_log-group"].kms_key_id).toBe(arn);
    expect(json.output.kms_key_arn.value).toBe(arn);
    expect(json.output.kms_key_alias).toBeUndefined();
  });
});

describe("stack header", () => {
  it.each(Object.keys(ALL))("%s: declares the Terraform versions it supports and pins the AWS provider", (env) => {
    const { terraform } = ALL[env as keyof typeof ALL];
    expect(TERRAFORM_VERSIONS).toBe(">= 1.11, < 2.0");
    expect(terraform.required_version).toBe(TERRAFORM_VERSIONS);
    expect(terraform.required_providers.aws.version).toBe("5.100.0");
  });
});

describe("NAT gateways as a cost lever", () => {
  it("tags prod's NAT gateways and their addresses idle (no internet egress), and dev's in use", () => {
    const levers = (json: unknown) => [...values(json, "aws_nat_gateway"), ...values(json, "aws_eip")].map((r) => r.tags.CostLever);
    expect(levers(prod)).toEqual(Array(6).fill("idle: services_internet_egress = false"));
    expect(levers(staging)).toEqual(Array(6).fill("idle: services_internet_egress = false"));
    expect(levers(dev)).toEqual(Array(2).fill("in use: services_internet_egress = true"));
  });
});
