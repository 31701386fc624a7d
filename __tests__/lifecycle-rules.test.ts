// The second-apply guardrails, each shown rejecting a bad resource and passing a good one; then what the
// synthesized environments hold.
import { App } from "cdktf";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { ElasticacheParameterGroup } from "@cdktf/provider-aws/lib/elasticache-parameter-group";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { ServiceDiscoveryService } from "@cdktf/provider-aws/lib/service-discovery-service";
import { Wafv2WebAcl } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { GuardrailError, Guardrails } from "../src/policy/guardrails";
import { LIFECYCLE_RULES, emptyBlocks, noEmptyBlocks, replaceableNames, targetGroupShape, targetGroupShapeFor } from "../src/policy/lifecycle-rules";
import { names, replaceableName } from "../src/naming";
import { config, resources, synthEnv } from "./support/config";
import { bareStack, ruleMessages } from "./support/rules";

const discovery = (over: Record<string, unknown>) =>
  bareStack(
    "prod",
    "services",
    (s) =>
      new ServiceDiscoveryService(s, "discovery", {
        name: "aw-pdp-service",
        dnsConfig: { namespaceId: "ns-1", dnsRecords: [{ type: "A", ttl: 10 }] },
        ...over,
      }),
  );

describe("no-empty-block", () => {
  it("refuses Cloud Map's empty health_check_custom_config (replaced on every plan after the first apply) and passes it with failure_threshold", () => {
    expect(ruleMessages(noEmptyBlocks, discovery({ healthCheckCustomConfig: {} }))).toEqual([
      expect.stringMatching(
        /^aws_service_discovery_service\.discovery: health_check_custom_config is empty: the provider may neither send nor read back an empty block/,
      ),
    ]);
    expect(ruleMessages(noEmptyBlocks, discovery({ healthCheckCustomConfig: { failureThreshold: 1 } }))).toEqual([]);
  });

  it("refuses an empty map argument too (an alarm's dimensions)", () => {
    const s = bareStack(
      "prod",
      "observability",
      (st) =>
        new CloudwatchMetricAlarm(st, "alarm", {
          alarmName: "a",
          comparisonOperator: "GreaterThanThreshold",
          evaluationPeriods: 1,
          metricName: "m",
          namespace: "n",
          period: 60,
          statistic: "Sum",
          threshold: 1,
          dimensions: {},
        }),
    );
    expect(ruleMessages(noEmptyBlocks, s)).toEqual([expect.stringMatching(/^aws_cloudwatch_metric_alarm\.alarm: dimensions is empty/)]);
  });

  it("passes the WAF's marker blocks, which the allow-list says are read back, and no others of the same resource", () => {
    const acl = (defaultAction: Record<string, unknown>) =>
      bareStack(
        "prod",
        "loadbalancer",
        (s) =>
          new Wafv2WebAcl(s, "acl", {
            name: "a",
            scope: "REGIONAL",
            defaultAction,
            visibilityConfig: { cloudwatchMetricsEnabled: true, metricName: "a", sampledRequestsEnabled: true },
          }),
      );
    expect(ruleMessages(noEmptyBlocks, acl({ allow: {} }))).toEqual([]);
    expect(ruleMessages(noEmptyBlocks, acl({ allow: { customRequestHandling: {} } }))).toEqual([
      expect.stringMatching(/^aws_wafv2_web_acl\.acl: default_action\.allow\.custom_request_handling is empty/),
    ]);
  });

  it("reads blocks inside lists and ignores Terraform's own meta-arguments", () => {
    expect(emptyBlocks({ a: [{ b: {} }, { b: { c: 1 } }], lifecycle: {}, tags: { x: "y" } })).toEqual([".a[].b"]);
  });
});

describe("replaceable-names", () => {
  const group = (name: string, description: string, type: "rds" | "redis" = "rds") =>
    bareStack("prod", "database", (s) =>
      type === "rds"
        ? new DbParameterGroup(s, "params", { name, family: "postgres15", description, lifecycle: { createBeforeDestroy: true } })
        : new ElasticacheParameterGroup(s, "params", { name, family: "redis7", description, lifecycle: { createBeforeDestroy: true } }),
    );

  it("refuses a fixed parameter-group name with create_before_destroy (a description edit would fail with 'already exists')", () => {
    const expected = replaceableName("x", ["postgres15", "d"]).slice(2);
    expect(ruleMessages(replaceableNames, group("accessweaver-prod-postgres15", "d"))).toEqual([
      `aws_db_parameter_group.params: name "accessweaver-prod-postgres15" with create_before_destroy: the replacement would be refused as "already exists". Expected a name ending in -${expected}, the hash of family, description (replaceableName in src/naming.ts), or name_prefix.`,
    ]);
    expect(ruleMessages(replaceableNames, group("accessweaver-prod-redis7", "d", "redis"))).toHaveLength(1);
  });

  it("passes a name made from the force-new arguments, and refuses it once the description changes without the name", () => {
    const name = names("prod").databaseParameterGroup("postgres15", "old description");
    expect(ruleMessages(replaceableNames, group(name, "old description"))).toEqual([]);
    expect(ruleMessages(replaceableNames, group(name, "new description"))).toEqual([expect.stringContaining(`name "${name}" with create_before_destroy`)]);
    expect(names("prod").databaseParameterGroup("postgres15", "new description")).not.toBe(name);
  });

  it("passes name_prefix, and refuses a fixed name on any other type created before destroyed", () => {
    const prefixed = bareStack(
      "prod",
      "database",
      (s) => new DbParameterGroup(s, "params", { namePrefix: "accessweaver-prod-postgres15-", family: "postgres15", lifecycle: { createBeforeDestroy: true } }),
    );
    expect(ruleMessages(replaceableNames, prefixed)).toEqual([]);
    const sg = bareStack(
      "prod",
      "network",
      (s) => new SecurityGroup(s, "sg", { name: "accessweaver-prod-x", vpcId: "vpc-1", lifecycle: { createBeforeDestroy: true } }),
    );
    expect(ruleMessages(replaceableNames, sg)).toEqual([
      expect.stringMatching(/^aws_security_group\.sg: name "accessweaver-prod-x" is fixed and the resource is created before it is destroyed/),
    ]);
    const plain = bareStack("prod", "network", (s) => new SecurityGroup(s, "sg", { name: "accessweaver-prod-x", vpcId: "vpc-1" }));
    expect(ruleMessages(replaceableNames, plain)).toEqual([]);
  });
});

describe("target-group-shape", () => {
  const tg = (port: number, protocol = "HTTP") =>
    bareStack("prod", "loadbalancer", (s) => new LbTargetGroup(s, "tg", { name: "aw-prod-gateway", port, protocol, targetType: "ip", vpcId: "vpc-1" }));
  it("refuses a port or protocol change of a fixed-name target group, naming the procedure", () => {
    expect(ruleMessages(targetGroupShape, tg(9090))).toEqual([
      'aws_lb_target_group.tg: port is 9090; expected 8080. Changing it replaces the target group, which fails while the listeners hold it and its fixed name is taken: follow "Changing a target group\'s port or protocol" in docs/edge.md (new groups under new names, with their own entry in TARGET_GROUP_SHAPES, first).',
    ]);
    expect(ruleMessages(targetGroupShape, tg(8080, "HTTPS"))).toEqual([expect.stringContaining('protocol is "HTTPS"; expected "HTTP"')]);
    expect(ruleMessages(targetGroupShape, tg(8080))).toEqual([]);
  });

  it("keeps each group to the shape its name is given, so that new groups of a new shape can stand beside the old ones", () => {
    const shapes = [
      { names: /-v2$/, shape: { port: 9090, protocol: "HTTP", target_type: "ip", protocol_version: "HTTP1" } },
      { names: /.*/, shape: { port: 8080, protocol: "HTTP", target_type: "ip", protocol_version: "HTTP1" } },
    ];
    expect(targetGroupShapeFor("aw-prod-api-gateway-blue-v2", shapes)?.port).toBe(9090);
    expect(targetGroupShapeFor("aw-prod-api-gateway-blue", shapes)?.port).toBe(8080);
    expect(targetGroupShapeFor("anything", [])).toBeUndefined();
    // The default: every name, the application's port.
    expect(targetGroupShapeFor("aw-prod-api-gateway-blue")).toEqual({ port: 8080, protocol: "HTTP", target_type: "ip", protocol_version: "HTTP1" });
  });

  it("stops a prod synth (enforce)", () => {
    const s = tg(9090);
    Guardrails.attach(s, LIFECYCLE_RULES, "enforce", () => undefined);
    expect(() => (s.node.root as App).synth()).toThrow(GuardrailError);
  });
});

describe("the synthesized environments", () => {
  const prod = synthEnv(config("prod"));

  it("name the parameter groups after their force-new arguments", () => {
    const rds = Object.values(resources(prod.json.database, "aws_db_parameter_group"))[0];
    expect(rds.name).toBe(names("prod").databaseParameterGroup(rds.family, rds.description));
    expect(rds.name).toMatch(/^accessweaver-prod-postgres15-[0-9a-f]{8}$/);
    const redis = Object.values(resources(prod.json.cache, "aws_elasticache_parameter_group"))[0];
    expect(redis.name).toMatch(/^accessweaver-prod-redis7-[0-9a-f]{8}$/);
    expect(redis.name).toBe(names("prod").redisParameterGroup(redis.family, redis.description));
  });

  it("give every Cloud Map service a failure threshold, so the block is read back", () => {
    const discovery = Object.values(resources(prod.json.services, "aws_service_discovery_service"));
    expect(discovery).toHaveLength(4);
    for (const d of discovery) expect(d.health_check_custom_config).toEqual({ failure_threshold: 1 });
  });
});
