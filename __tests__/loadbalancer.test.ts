// The load balancer phase (the edge) on the JSON of whole-environment synths: certificate, ALB, access-log
// bucket, target groups and listeners, WAF, Route 53, and the handles it publishes.
import { Construct } from "constructs";
import { TerraformOutput } from "cdktf";
import { EnvironmentConfig } from "../src/config/settings";
import { ENVIRONMENTS, EnvironmentName } from "../src/naming";
import { TLS_POLICY } from "../src/constructs/alb";
import { MANAGED_RULE_GROUPS } from "../src/constructs/waf";
import { BuiltPhases, readHandles } from "../src/stacks/handles";
import { PhaseStack } from "../src/stacks/phase-stack";
import { PhaseDefinition, REGISTERED_PHASES } from "../src/stacks/registry";
import { StackJson, config, resources, synthEnv } from "./support/config";

const one = (json: StackJson, type: string): any => {
  const all = Object.values(resources(json, type));
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
};
const NETWORK = "data.terraform_remote_state.network.outputs";
const synthesized = Object.fromEntries(ENVIRONMENTS.map((env) => [env, synthEnv(config(env))])) as Record<EnvironmentName, ReturnType<typeof synthEnv>>;
const lbOf = (env: EnvironmentName) => synthesized[env].json.loadbalancer!;

const BLUE_GREEN_OUTPUTS = [
  "test_listener_arn",
  "api_gateway_green_target_group_arn",
  "api_gateway_green_target_group_arn_suffix",
  "api_gateway_green_target_group_name",
];
const OUTPUTS = [
  "alb_arn",
  "alb_arn_suffix",
  "alb_dns_name",
  "alb_zone_id",
  "api_url",
  "https_listener_arn",
  "api_gateway_target_group_arn",
  "api_gateway_target_group_arn_suffix",
  "api_gateway_target_group_name",
  "waf_web_acl_arn",
  "route53_health_check_id",
  "certificate_arn",
];

describe.each(ENVIRONMENTS)("%s: the load balancer phase", (env) => {
  const lb = lbOf(env);
  const blueGreen = env !== "dev";
  const domain = `${env}.example.org`;

  it("is its own stack, after the network, reading it only through its remote state", () => {
    const ids = Object.keys(synthesized[env].byStack); // in build order
    expect(ids).toContain(`accessweaver-${env}-loadbalancer`);
    expect(ids.indexOf(`accessweaver-${env}-network`)).toBeLessThan(ids.indexOf(`accessweaver-${env}-loadbalancer`));
    expect(synthesized[env].manifest.stacks[`accessweaver-${env}-loadbalancer`].dependencies).toEqual([`accessweaver-${env}-network`]);
    expect(lb.data.terraform_remote_state.network.config).toEqual({
      bucket: `accessweaver-terraform-state-${env}-111122223333`,
      key: `${env}/network/terraform.tfstate`,
      region: "eu-west-1",
    });
    expect(JSON.stringify(lb.resource)).not.toMatch(/\$\{aws_(vpc|subnet|security_group|kms_key)\./);
  });

  it("requests a DNS-validated certificate for the domain, validated in the settings' zone, and the listeners wait for it", () => {
    expect(one(lb, "aws_acm_certificate")).toEqual(
      expect.objectContaining({ domain_name: domain, validation_method: "DNS", lifecycle: { create_before_destroy: true } }),
    );
    const record = resources(lb, "aws_route53_record")["certificate_validation-record"];
    expect(record).toEqual(
      expect.objectContaining({
        for_each: "${{ for key, val in tolist(aws_acm_certificate.certificate_certificate.domain_validation_options): val.domain_name => val }}",
        zone_id: "Z0123456789TEST",
        name: "${each.value.resource_record_name}",
        type: "${each.value.resource_record_type}",
        records: ["${each.value.resource_record_value}"],
      }),
    );
    expect(one(lb, "aws_acm_certificate_validation")).toEqual(
      expect.objectContaining({
        certificate_arn: "${aws_acm_certificate.certificate_certificate.arn}",
        validation_record_fqdns: "${[ for key, val in aws_route53_record.certificate_validation-record: val.fqdn]}",
      }),
    );
    for (const l of Object.values(resources(lb, "aws_lb_listener")).filter((x) => x.protocol === "HTTPS")) {
      expect(l.certificate_arn).toBe("${aws_acm_certificate_validation.certificate_validation.certificate_arn}");
    }
  });

  it("puts an internet-facing, hardened ALB in every zone's public subnet with the network's ALB group", () => {
    expect(one(lb, "aws_lb")).toEqual(
      expect.objectContaining({
        name: `accessweaver-${env}-alb`,
        internal: false,
        load_balancer_type: "application",
        subnets: `\${${NETWORK}.public_subnet_ids}`,
        security_groups: [`\${${NETWORK}.security_group_ids.alb}`],
        drop_invalid_header_fields: true,
        desync_mitigation_mode: "strictest",
        idle_timeout: 60,
        enable_deletion_protection: env !== "dev",
        enable_waf_fail_open: false,
        access_logs: { bucket: "${aws_s3_bucket.access-logs_bucket.bucket}", prefix: "alb", enabled: true },
        depends_on: ["aws_s3_bucket_policy.access-logs_policy"],
      }),
    );
  });

  it("terminates TLS on 443 with the TLS 1.3 policy, and redirects 80 permanently to HTTPS", () => {
    const listeners = resources(lb, "aws_lb_listener");
    expect(TLS_POLICY).toBe("ELBSecurityPolicy-TLS13-1-2-Res-2021-06");
    expect(listeners.alb_listener_https).toEqual(
      expect.objectContaining({ port: 443, protocol: "HTTPS", ssl_policy: "ELBSecurityPolicy-TLS13-1-2-Res-2021-06" }),
    );
    expect(listeners.alb_listener_http).toEqual(
      expect.objectContaining({
        port: 80,
        protocol: "HTTP",
        default_action: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", status_code: "HTTP_301" } }],
      }),
    );
    expect([listeners.alb_listener_https.tags, listeners.alb_listener_http.tags]).toEqual([
      { Name: `accessweaver-${env}-alb-https` },
      { Name: `accessweaver-${env}-alb-http` },
    ]);
  });

  it(`has the gateway's target group${blueGreen ? "s, blue and green," : ""} on 8080 with its health check`, () => {
    const groups = resources(lb, "aws_lb_target_group");
    const expected = blueGreen ? [`aw-${env}-api-gateway-blue`, `aw-${env}-api-gateway-green`] : [`aw-${env}-api-gateway`];
    expect(Object.values(groups).map((g) => g.name)).toEqual(expected);
    for (const g of Object.values(groups)) {
      expect(g).toEqual(
        expect.objectContaining({ target_type: "ip", protocol: "HTTP", port: 8080, vpc_id: `\${${NETWORK}.vpc_id}`, deregistration_delay: "30" }),
      );
      expect(g.health_check).toEqual({
        enabled: true,
        protocol: "HTTP",
        port: "traffic-port",
        path: "/actuator/health",
        matcher: "200",
        interval: 15,
        timeout: 5,
        healthy_threshold: 2,
        unhealthy_threshold: 3,
      });
      expect(g.name.length).toBeLessThanOrEqual(32);
    }
  });

  it("routes by the listeners' default actions only: 443 forwards to the first group; with blue/green, a VPC-only test listener forwards to green and CodeDeploy owns both actions", () => {
    const first = blueGreen ? "alb_target-group_blue" : "alb_target-group";
    const https = resources(lb, "aws_lb_listener").alb_listener_https;
    expect(https.default_action).toEqual([{ type: "forward", target_group_arn: `\${aws_lb_target_group.${first}.arn}` }]);
    // CodeDeploy reroutes a listener by rewriting its default action: a rule forwarding to a target group
    // would keep sending its requests to blue after a deployment, to tasks CodeDeploy has stopped.
    expect(resources(lb, "aws_lb_listener_rule")).toEqual({});
    expect(https.lifecycle).toEqual(blueGreen ? { ignore_changes: ["default_action"] } : undefined);
    const test = resources(lb, "aws_lb_listener").alb_listener_test;
    const ingress = resources(lb, "aws_vpc_security_group_ingress_rule");
    if (!blueGreen) {
      expect(test).toBeUndefined();
      expect(ingress).toEqual({});
      return;
    }
    expect(test).toEqual(
      expect.objectContaining({
        port: 8443,
        protocol: "HTTPS",
        ssl_policy: TLS_POLICY,
        default_action: [{ type: "forward", target_group_arn: "${aws_lb_target_group.alb_target-group_green.arn}" }],
        lifecycle: { ignore_changes: ["default_action"] },
      }),
    );
    expect(Object.values(ingress)).toEqual([
      expect.objectContaining({
        security_group_id: `\${${NETWORK}.security_group_ids.alb}`,
        ip_protocol: "tcp",
        from_port: 8443,
        to_port: 8443,
        cidr_ipv4: `\${${NETWORK}.vpc_cidr}`,
      }),
    ]);
  });

  it("keeps access logs in a private, SSE-S3, versioned, TLS-only bucket named with the account id, for three years", () => {
    const bucket = one(lb, "aws_s3_bucket");
    expect(bucket).toEqual(
      expect.objectContaining({
        bucket: `accessweaver-${env}-alb-access-logs-111122223333`,
        force_destroy: env === "dev",
        tags: expect.objectContaining({ LogClass: "audit" }),
      }),
    );
    expect(bucket.lifecycle).toEqual(env === "dev" ? undefined : { prevent_destroy: true });
    expect(one(lb, "aws_s3_bucket_public_access_block")).toEqual(
      expect.objectContaining({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true }),
    );
    expect(one(lb, "aws_s3_bucket_ownership_controls").rule).toEqual({ object_ownership: "BucketOwnerEnforced" });
    expect(one(lb, "aws_s3_bucket_server_side_encryption_configuration").rule).toEqual([
      { apply_server_side_encryption_by_default: { sse_algorithm: "AES256" }, bucket_key_enabled: false },
    ]);
    expect(one(lb, "aws_s3_bucket_versioning").versioning_configuration).toEqual({ status: "Enabled" });
    const [rule] = one(lb, "aws_s3_bucket_lifecycle_configuration").rule;
    expect(rule.expiration).toEqual([{ days: 1096 }]);
    expect(rule.status).toBe("Enabled");
    const statements = lb.data.aws_iam_policy_document["access-logs_policy-document"].statement;
    expect(statements.map((s: { sid: string }) => s.sid)).toEqual(["DenyInsecureTransport", "DenyOutdatedTls", "AllowElbLogDelivery"]);
    expect(statements[0].condition).toEqual([{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }]);
  });

  it("lets only eu-west-1's ELB account write, under the ALB's prefix for this account", () => {
    const allow = lb.data.aws_iam_policy_document["access-logs_policy-document"].statement[2];
    expect(allow).toEqual({
      sid: "AllowElbLogDelivery",
      effect: "Allow",
      actions: ["s3:PutObject"],
      resources: [`arn:aws:s3:::accessweaver-${env}-alb-access-logs-111122223333/alb/AWSLogs/111122223333/*`],
      principals: [{ type: "AWS", identifiers: ["arn:aws:iam::156460612806:root"] }],
    });
  });

  it("protects the ALB with a regional web ACL: the API's host only, the four AWS managed rule groups and a rate limit per IP, every rule sampled and measured", () => {
    const acl = one(lb, "aws_wafv2_web_acl");
    expect(acl).toEqual(expect.objectContaining({ name: `accessweaver-${env}-waf`, scope: "REGIONAL", default_action: { allow: {} } }));
    expect(acl.visibility_config).toEqual({ cloudwatch_metrics_enabled: true, sampled_requests_enabled: true, metric_name: `accessweaver-${env}-waf` });

    const rules: any[] = acl.rule;
    expect(rules.map((r) => r.name)).toEqual([
      "OnlyTheApiHost",
      "AWSManagedRulesAmazonIpReputationList",
      "RateLimitPerIp",
      "AWSManagedRulesCommonRuleSet",
      "AWSManagedRulesKnownBadInputsRuleSet",
      "AWSManagedRulesSQLiRuleSet",
    ]);
    expect(MANAGED_RULE_GROUPS.map((g) => g.name)).toHaveLength(4);
    for (const r of rules.filter((x) => x.name.startsWith("AWSManagedRules"))) {
      expect(r.statement).toEqual({ managed_rule_group_statement: { name: r.name, vendor_name: "AWS" } });
      expect(r.override_action).toEqual({ none: {} });
    }
    expect(rules[2]).toEqual({
      name: "RateLimitPerIp",
      priority: 20,
      action: { block: {} },
      statement: { rate_based_statement: { limit: 10000, aggregate_key_type: "IP", evaluation_window_sec: 300 } },
      visibility_config: { cloudwatch_metrics_enabled: true, sampled_requests_enabled: true, metric_name: "RateLimitMetric" },
    });
    // The listeners forward every host (CodeDeploy owns their default actions): the web ACL refuses the
    // others (the ALB's own name, bare IPs, scanners) before any other rule, with or without a port.
    const host = (positional_constraint: string, search_string: string) => ({
      byte_match_statement: {
        field_to_match: { single_header: { name: "host" } },
        positional_constraint,
        search_string,
        text_transformation: [{ priority: 0, type: "LOWERCASE" }],
      },
    });
    expect(rules[0]).toEqual({
      name: "OnlyTheApiHost",
      priority: 5,
      action: { block: { custom_response: { response_code: 404 } } },
      statement: { not_statement: { statement: { or_statement: { statement: [host("EXACTLY", domain), host("STARTS_WITH", `${domain}:`)] } } } },
      visibility_config: { cloudwatch_metrics_enabled: true, sampled_requests_enabled: true, metric_name: "OnlyTheApiHost" },
    });
    for (const r of rules) expect(r.visibility_config).toEqual(expect.objectContaining({ cloudwatch_metrics_enabled: true, sampled_requests_enabled: true }));
    expect(new Set(rules.map((r) => r.priority)).size).toBe(rules.length);
    expect(one(lb, "aws_wafv2_web_acl_association")).toEqual(
      expect.objectContaining({ resource_arn: "${aws_lb.alb_alb.arn}", web_acl_arn: "${aws_wafv2_web_acl.waf_web-acl.arn}" }),
    );
  });

  it("logs every request to aws-waf-logs-accessweaver-<env>, encrypted, kept three years, with authorization and cookie redacted", () => {
    expect(one(lb, "aws_cloudwatch_log_group")).toEqual(
      expect.objectContaining({
        name: `aws-waf-logs-accessweaver-${env}`,
        kms_key_id: `\${${NETWORK}.kms_key_arn}`,
        retention_in_days: 1096,
        tags: { LogClass: "audit" },
      }),
    );
    // Evidence outlives a destroyed prod or staging stack; dev can be torn down.
    expect(one(lb, "aws_cloudwatch_log_group").skip_destroy).toBe(env === "dev" ? undefined : true);
    expect(one(lb, "aws_wafv2_web_acl_logging_configuration")).toEqual(
      expect.objectContaining({
        resource_arn: "${aws_wafv2_web_acl.waf_web-acl.arn}",
        log_destination_configs: ["${aws_cloudwatch_log_group.waf_logs_log-group.arn}"],
        redacted_fields: [{ single_header: { name: "authorization" } }, { single_header: { name: "cookie" } }],
      }),
    );
  });

  it("points the domain at the ALB (A alias only: the network is IPv4) and checks https://<domain>/actuator/health", () => {
    const alias = resources(lb, "aws_route53_record").dns_alias_a;
    expect(alias).toEqual(
      expect.objectContaining({
        zone_id: "Z0123456789TEST",
        name: domain,
        type: "A",
        alias: { name: "${aws_lb.alb_alb.dns_name}", zone_id: "${aws_lb.alb_alb.zone_id}", evaluate_target_health: true },
      }),
    );
    expect(Object.values(resources(lb, "aws_route53_record")).map((r) => r.type)).not.toContain("AAAA");
    expect(one(lb, "aws_route53_health_check")).toEqual(
      expect.objectContaining({
        type: "HTTPS",
        fqdn: domain,
        port: 443,
        resource_path: "/actuator/health",
        enable_sni: true,
        request_interval: 30,
        failure_threshold: 3,
        measure_latency: true,
        tags: { Name: `accessweaver-${env}-api-health` },
      }),
    );
  });

  it("publishes exactly its handles, with stable names, none sensitive", () => {
    const outputs = lb.output;
    const expected = blueGreen ? [...OUTPUTS, ...BLUE_GREEN_OUTPUTS] : OUTPUTS;
    expect(Object.keys(outputs).sort()).toEqual([...expected].sort());
    for (const o of Object.values(outputs)) expect(o).toEqual(expect.objectContaining({ sensitive: false }));
    const values = Object.fromEntries(Object.entries(outputs).map(([k, o]) => [k, (o as { value: unknown }).value]));
    const first = blueGreen ? "alb_target-group_blue" : "alb_target-group";
    expect(values).toEqual({
      alb_arn: "${aws_lb.alb_alb.arn}",
      alb_arn_suffix: "${aws_lb.alb_alb.arn_suffix}",
      alb_dns_name: "${aws_lb.alb_alb.dns_name}",
      // make restore's DNS switch names the DR load balancer by both.
      alb_zone_id: "${aws_lb.alb_alb.zone_id}",
      api_url: `https://${domain}`,
      https_listener_arn: "${aws_lb_listener.alb_listener_https.arn}",
      api_gateway_target_group_arn: `\${aws_lb_target_group.${first}.arn}`,
      api_gateway_target_group_arn_suffix: `\${aws_lb_target_group.${first}.arn_suffix}`,
      api_gateway_target_group_name: `\${aws_lb_target_group.${first}.name}`,
      waf_web_acl_arn: "${aws_wafv2_web_acl.waf_web-acl.arn}",
      route53_health_check_id: "${aws_route53_health_check.dns_health-check.id}",
      certificate_arn: "${aws_acm_certificate_validation.certificate_validation.certificate_arn}",
      ...(blueGreen
        ? {
            test_listener_arn: "${aws_lb_listener.alb_listener_test.arn}",
            api_gateway_green_target_group_arn: "${aws_lb_target_group.alb_target-group_green.arn}",
            api_gateway_green_target_group_arn_suffix: "${aws_lb_target_group.alb_target-group_green.arn_suffix}",
            api_gateway_green_target_group_name: "${aws_lb_target_group.alb_target-group_green.name}",
          }
        : {}),
    });
  });

  it("names everything within AWS's limits", () => {
    const lengths: [string, number][] = [
      [one(lb, "aws_lb").name, 32],
      ...Object.values(resources(lb, "aws_lb_target_group")).map((g): [string, number] => [g.name, 32]),
      [one(lb, "aws_s3_bucket").bucket, 63],
      [one(lb, "aws_wafv2_web_acl").name, 128],
      [one(lb, "aws_cloudwatch_log_group").name, 512],
    ];
    for (const [name, max] of lengths) expect(name.length).toBeLessThanOrEqual(max);
  });
});

describe("a region opened since August 2022 (eu-south-2)", () => {
  const region = "eu-south-2";
  const lb = synthEnv(config("dev", { aws_region: region, ecr_registry: `111122223333.dkr.ecr.${region}.amazonaws.com` })).json.loadbalancer!;

  it("lets the log-delivery service principal write the access logs, not an account", () => {
    const allow = lb.data.aws_iam_policy_document["access-logs_policy-document"].statement[2];
    expect(allow.principals).toEqual([{ type: "Service", identifiers: ["logdelivery.elasticloadbalancing.amazonaws.com"] }]);
    expect(allow.resources).toEqual(["arn:aws:s3:::accessweaver-dev-alb-access-logs-111122223333/alb/AWSLogs/111122223333/*"]);
  });
});

/** A stand-in services phase that takes what CodeDeploy and the ECS service need, as the services phase will. */
class ProbeServicesStack extends PhaseStack {
  constructor(scope: Construct, cfg: EnvironmentConfig, built: BuiltPhases) {
    super(scope, "services", { config: cfg });
    const edge = readHandles(this, built, "loadbalancer");
    new TerraformOutput(this, "probe", {
      value: { production: [edge.httpsListenerArn], test: [edge.testListenerArn], groups: [edge.targetGroupArn, edge.greenTargetGroupArn] },
    });
  }
}

describe("the services phase reads the load balancer only through its handles", () => {
  const withProbe: PhaseDefinition[] = [
    ...REGISTERED_PHASES.filter((p) => p.phase !== "services" && p.phase !== "observability" && p.phase !== "recovery"),
    { phase: "services", build: (scope, cfg, built) => new ProbeServicesStack(scope, cfg, built) },
  ];
  const prod = synthEnv(config("prod"), withProbe);

  it("reads the listeners and both target groups from the loadbalancer's remote state, after it", () => {
    const services = prod.json.services!;
    const edge = "data.terraform_remote_state.loadbalancer.outputs";
    expect(services.data.terraform_remote_state.loadbalancer.config).toEqual({
      bucket: "accessweaver-terraform-state-prod-111122223333",
      key: "prod/loadbalancer/terraform.tfstate",
      region: "eu-west-1",
    });
    expect(services.output.probe.value).toEqual({
      production: [`\${${edge}.https_listener_arn}`],
      test: [`\${${edge}.test_listener_arn}`],
      groups: [`\${${edge}.api_gateway_target_group_arn}`, `\${${edge}.api_gateway_green_target_group_arn}`],
    });
    expect(prod.manifest.stacks["accessweaver-prod-services"].dependencies).toEqual(["accessweaver-prod-loadbalancer"]);
  });
});
