// Reading the second plan (scripts/emulate/findings.ts), the allow-list's matching and the report, on
// small `terraform show -json` documents.
import { PlanRule, attributePattern, planRuleFor, planRules } from "../scripts/emulate/allow-list";
import { Change, changesOf, differences, judge, pathText } from "../scripts/emulate/findings";
import { checkReleasePlan, codeDeployServices, currentTagOf, imagesOf, tagOf, taskDefinitionsRunning } from "../scripts/emulate/release";
import { RunContext, reportMarkdown, summaryText, terraformError } from "../scripts/emulate/report";
import { services, synthStack } from "./fixtures/emulate/stacks";
import { Json } from "../scripts/tf-check/json";

const rc = (address: string, actions: string[], before: Json, after: Json, more: Record<string, Json> = {}): Json => {
  const [type, name] = address.split(".");
  return { address, mode: "managed", type: type!, name: name!, change: { actions, before, after, after_unknown: {} }, ...more };
};

/** A second plan: one of each kind of change. */
const PLAN: Json = {
  resource_changes: [
    rc("aws_vpc.vpc", ["no-op"], { cidr_block: "10.0.0.0/16" }, { cidr_block: "10.0.0.0/16" }),
    { address: "data.aws_iam_policy_document.p", mode: "data", type: "aws_iam_policy_document", name: "p", change: { actions: ["read"] } },
    rc(
      "aws_service_discovery_service.pdp",
      ["delete", "create"],
      { name: "pdp", health_check_custom_config: [] },
      { name: "pdp", health_check_custom_config: [{ failure_threshold: null }] },
      {
        replace_paths: [["health_check_custom_config"]],
      },
    ),
    rc(
      "aws_vpc_security_group_ingress_rule.db",
      ["update"],
      { description: "", from_port: 5432, tags: { A: "1" } },
      { description: "from the services", from_port: 5432, tags: { A: "1" } },
    ),
    rc(
      "aws_ecs_service.api",
      ["update"],
      { capacity_provider_strategy: [], desired_count: 1 },
      { capacity_provider_strategy: [{ base: 0, capacity_provider: "FARGATE", weight: 1 }], desired_count: 1 },
    ),
    {
      address: "aws_db_instance.db",
      mode: "managed",
      type: "aws_db_instance",
      name: "db",
      change: {
        actions: ["update"],
        before: { performance_insights_retention_period: 0, monitoring_interval: 0, engine_version: "15.4" },
        after: { performance_insights_retention_period: null, monitoring_interval: 60, engine_version: "15" },
        after_unknown: { engine_version: true },
      },
    },
  ],
};

const RULES: PlanRule[] = [
  {
    id: "sg-rule-description",
    kind: "second-plan artefact",
    handling: "second plan",
    type: "aws_vpc_security_group_ingress_rule",
    attributes: ["description"],
    reason: "r",
    verified: "v",
  },
  {
    id: "ecs-strategy",
    kind: "second-plan artefact",
    handling: "second plan",
    type: "aws_ecs_service",
    attributes: ["capacity_provider_strategy"],
    reason: "r",
    verified: "v",
  },
];

describe("the second plan's changes", () => {
  const changes = changesOf("services", PLAN);

  test("no-ops and reads are empty; every other managed change is kept with its actions and differing attributes", () => {
    expect(changes.map((c) => [c.address, c.actions.join("+")])).toEqual([
      ["aws_service_discovery_service.pdp", "delete+create"],
      ["aws_vpc_security_group_ingress_rule.db", "update"],
      ["aws_ecs_service.api", "update"],
      ["aws_db_instance.db", "update"],
    ]);
    const byAddress = new Map(changes.map((c) => [c.address, c]));
    expect(byAddress.get("aws_service_discovery_service.pdp")!.attributes).toEqual(["health_check_custom_config[0]"]);
    expect(byAddress.get("aws_service_discovery_service.pdp")!.replacePaths).toEqual(["health_check_custom_config"]);
    expect(byAddress.get("aws_vpc_security_group_ingress_rule.db")!.diff).toEqual(['description: "" -> "from the services"']);
    expect(byAddress.get("aws_ecs_service.api")!.attributes).toEqual(["capacity_provider_strategy[0]"]);
    // A zero value read back for an unset argument is not a change; an unknown value after apply is.
    expect(byAddress.get("aws_db_instance.db")!.diff).toEqual(['engine_version: "15.4" -> (known after apply)', "monitoring_interval: 0 -> 60"]);
  });

  test("differences: empty and absent are the same; lists compare item by item; paths read as Terraform writes them", () => {
    expect(differences({ a: [], b: null, c: {} }, { a: null, c: undefined as unknown as Json }, {})).toEqual([]);
    expect(differences({ l: [1, 2] }, { l: [1, 3, 4] }, {}).map((d) => d.path)).toEqual(["l[1]", "l[2]"]);
    expect(pathText(["ingress", 0, "description"])).toBe("ingress[0].description");
  });

  test("a replacement lists what causes it, not the computed values it makes unknown", () => {
    const plan = {
      resource_changes: [
        {
          address: "aws_ecs_service.s",
          mode: "managed",
          type: "aws_ecs_service",
          change: {
            actions: ["delete", "create"],
            before: { id: "arn:1", launch_type: "EC2", capacity_provider_strategy: [] },
            after: { capacity_provider_strategy: [{ weight: 1 }] },
            after_unknown: { id: true, launch_type: true },
          },
        },
      ],
    };
    expect(changesOf("services", plan)[0]!.attributes).toEqual(["capacity_provider_strategy[0]"]);
  });

  test("a create or a delete in a second plan is a change too", () => {
    const plan = { resource_changes: [rc("aws_s3_bucket.b", ["create"], null, { bucket: "b" }), rc("aws_s3_bucket.c", ["delete"], { bucket: "c" }, null)] };
    expect(changesOf("x", plan).map((c) => [c.address, c.actions.join()])).toEqual([
      ["aws_s3_bucket.b", "create"],
      ["aws_s3_bucket.c", "delete"],
    ]);
  });
});

describe("the allow-list's matching", () => {
  const changes = changesOf("services", PLAN);
  const find = (address: string) => changes.find((c) => c.address === address)!;

  test("a change is forgiven only when a rule of its type covers every differing attribute", () => {
    expect(planRuleFor(find("aws_vpc_security_group_ingress_rule.db"), RULES)?.id).toBe("sg-rule-description");
    expect(planRuleFor(find("aws_ecs_service.api"), RULES)?.id).toBe("ecs-strategy");
    const more: Change = { ...find("aws_ecs_service.api"), attributes: ["capacity_provider_strategy[0]", "desired_count"] };
    expect(planRuleFor(more, RULES)).toBeUndefined();
    expect(planRuleFor({ ...find("aws_ecs_service.api"), type: "aws_ecs_cluster" }, RULES)).toBeUndefined();
  });

  test("a rule's condition on the state narrows it: a description lost only on rules that reference a group", () => {
    const rule: PlanRule = { ...RULES[0]!, applies: (state) => Boolean(state.referenced_security_group_id) };
    const change = find("aws_vpc_security_group_ingress_rule.db");
    expect(planRuleFor(change, [rule])).toBeUndefined();
    expect(planRuleFor({ ...change, state: { referenced_security_group_id: "sg-1", description: "" } }, [rule])?.id).toBe("sg-rule-description");
  });

  test("a replacement is forgiven only when the rule lists it; an address pattern narrows the rule", () => {
    const replaced: Change = { ...find("aws_ecs_service.api"), actions: ["delete", "create"] };
    expect(planRuleFor(replaced, RULES)).toBeUndefined();
    expect(planRuleFor(replaced, [{ ...RULES[1]!, actions: [["delete", "create"]] }])?.id).toBe("ecs-strategy");
    expect(planRuleFor(find("aws_ecs_service.api"), [{ ...RULES[1]!, address: /^aws_ecs_service\.other$/ }])).toBeUndefined();
    expect(planRuleFor(find("aws_ecs_service.api"), [{ ...RULES[1]!, address: /^aws_ecs_service\.api$/ }])?.id).toBe("ecs-strategy");
  });

  test("attribute patterns: a path covers what is below it, [*] any index, * any one key", () => {
    expect(attributePattern("capacity_provider_strategy").test("capacity_provider_strategy[0].weight")).toBe(true);
    expect(attributePattern("capacity_provider_strategy").test("capacity_provider_strategy_x")).toBe(false);
    expect(attributePattern("ingress[*].description").test("ingress[3].description")).toBe(true);
    expect(attributePattern("ingress[*].description").test("ingress[3].cidr")).toBe(false);
    expect(attributePattern("parameter.*.source").test("parameter.x.source")).toBe(true);
  });

  test("judge splits findings from allow-listed differences", () => {
    const verdict = judge(changes, RULES);
    expect(verdict.findings.map((f) => f.address)).toEqual(["aws_service_discovery_service.pdp", "aws_db_instance.db"]);
    expect(verdict.allowed.map((a) => [a.address, a.rule.id])).toEqual([
      ["aws_vpc_security_group_ingress_rule.db", "sg-rule-description"],
      ["aws_ecs_service.api", "ecs-strategy"],
    ]);
  });
});

describe("the ECS services' capacity provider strategy (moto drops it)", () => {
  const strategy = [{ base: 0, capacity_provider: "FARGATE", weight: 1 }];
  const replaced = (before: Record<string, Json>, after: Record<string, Json>) =>
    changesOf("services", {
      resource_changes: [rc("aws_ecs_service.pdp", ["delete", "create"], before, after, { replace_paths: [["capacity_provider_strategy"]] })],
    })[0]!;
  const rolling = { deployment_controller: [{ type: "ECS" }] };
  const blueGreen = { deployment_controller: [{ type: "CODE_DEPLOY" }] };

  test("a rolling service read back without any strategy: its replacement is moto's, forgiven with the fields moto also drops", () => {
    const c = replaced(
      { ...rolling, capacity_provider_strategy: [], enable_ecs_managed_tags: false },
      { ...rolling, capacity_provider_strategy: strategy, enable_ecs_managed_tags: true },
    );
    expect(planRuleFor(c, planRules())?.id).toBe("ecs-service-capacity-provider-strategy");
  });

  test("a strategy that reads back different from the configuration is a finding (moto did not drop it: the configuration changed it)", () => {
    const c = replaced(
      { ...rolling, capacity_provider_strategy: [{ base: 0, capacity_provider: "FARGATE_SPOT", weight: 1 }] },
      { ...rolling, capacity_provider_strategy: strategy },
    );
    expect(c.attributes).toEqual(["capacity_provider_strategy[0].capacity_provider"]);
    expect(judge([c], planRules()).findings.map((f) => f.address)).toEqual(["aws_ecs_service.pdp"]);
  });

  test("a CodeDeploy-released service: a strategy difference is a finding (CodeDeploy drops the strategy as moto does: it belongs in ignore_changes), the other dropped fields are not", () => {
    const c = replaced({ ...blueGreen, capacity_provider_strategy: [] }, { ...blueGreen, capacity_provider_strategy: strategy });
    expect(judge([c], planRules()).findings.map((f) => f.address)).toEqual(["aws_ecs_service.pdp"]);
    const inPlace = changesOf("services", {
      resource_changes: [
        rc("aws_ecs_service.api", ["update"], { ...blueGreen, health_check_grace_period_seconds: 0 }, { ...blueGreen, health_check_grace_period_seconds: 120 }),
      ],
    })[0]!;
    expect(planRuleFor(inPlace, planRules())?.id).toBe("ecs-service-unset-fields");
  });
});

describe("the report", () => {
  const verdict = judge(changesOf("services", PLAN), RULES);
  const ctx = (more: Partial<RunContext> = {}): RunContext => ({
    env: "dev",
    emulator: "http://127.0.0.1:4566",
    seconds: 42,
    copies: ["network", "services"].map((phase) => ({ phase, stack: `accessweaver-dev-${phase}`, config: {}, services: [], standIns: [], edits: [] })),
    phases: [
      { phase: "network", stack: "accessweaver-dev-network", applySeconds: 3, verdict: { findings: [], allowed: [] } },
      { phase: "services", stack: "accessweaver-dev-services", applySeconds: 5, verdict },
    ],
    verdict,
    rules: RULES,
    ...more,
  });

  test("the summary names the phases applied and each finding with its address, actions and attribute diffs", () => {
    const text = summaryText(ctx());
    expect(text).toContain("applied:      network, services");
    expect(text).toContain("2 finding(s), 2 allow-listed emulator difference(s)");
    expect(text).toContain("FINDING services: aws_service_discovery_service.pdp (delete+create)");
    expect(text).toContain('health_check_custom_config[0]: (none) -> {"failure_threshold":null} (forces replacement)');
    expect(text).toContain("FINDING services: aws_db_instance.db (update)");
    expect(text).toContain("allow-listed: sg-rule-description (1), ecs-strategy (1) (each resource in the report)");
    expect(text).toContain("The second plan is NOT empty");
    const clean = summaryText(ctx({ verdict: { findings: [], allowed: [] } }));
    expect(clean).toContain("The second plan is empty apart from the allow-listed emulator gaps.");
  });

  test("a failed apply names the phase, the step and Terraform's error; later phases are listed as not applied", () => {
    const output =
      "aws_db_instance.db: Creating...\n╷\n│ Error: creating RDS DB Instance (x): api error InvalidParameterValue: bad\n│ \n│   with aws_db_instance.db,\n╵\n";
    const failed = ctx({
      phases: [ctx().phases[0]!],
      failed: { phase: "services", step: "terraform apply", result: { code: 1, output, stdout: "", stderr: output } },
      verdict: { findings: [], allowed: [] },
    });
    const text = summaryText(failed);
    expect(text).toContain("not applied:  services");
    expect(text).toContain("FAILED in phase services: terraform apply exited 1: Error: creating RDS DB Instance (x): api error InvalidParameterValue: bad");
    const md = reportMarkdown(failed);
    expect(md).toContain("| services | accessweaver-dev-services | **FAILED** (terraform apply) | not planned |");
    expect(md).toContain("## Failed: services, terraform apply");
    expect(terraformError("no error here\nlast line")).toBe("no error here last line");
  });

  test("the markdown report has the phase table, each finding with its diff, the allow-listed differences with their reason, and the allow-list", () => {
    const md = reportMarkdown(ctx());
    expect(md).toContain("| services | accessweaver-dev-services | yes (5.0 s) | **2 finding(s)** |");
    expect(md).toContain("| network | accessweaver-dev-network | yes (3.0 s) | empty |");
    expect(md).toContain("### services: aws_service_discovery_service.pdp (delete+create)");
    expect(md).toContain('- `engine_version: "15.4" -> (known after apply)`');
    expect(md).toContain("- services: aws_ecs_service.api (update): `capacity_provider_strategy[0]`: **ecs-strategy**: r");
    expect(md).toContain("| sg-rule-description | second-plan artefact | second plan (`aws_vpc_security_group_ingress_rule`) | r |");
  });
});

describe("the release rehearsal's reading of the services stack and of the release plan", () => {
  test("images and tags: a registry with a port is not a tag, a digest has none", () => {
    expect(imagesOf({ container_definitions: JSON.stringify([{ image: "r.example:5000/aw-pdp-service:2.1.0" }, { image: "busybox@sha256:abc" }]) })).toEqual([
      "r.example:5000/aw-pdp-service:2.1.0",
      "busybox@sha256:abc",
    ]);
    expect(tagOf("r.example:5000/aw-pdp-service:2.1.0")).toBe("2.1.0");
    expect(tagOf("r.example:5000/aw-pdp-service")).toBeUndefined();
    expect(tagOf("busybox@sha256:abc")).toBeUndefined();
  });

  test("the current tag is the one most task definitions run (an override of one service does not win)", () => {
    const config = services({ tag: "1.4.0" });
    const tds = (config.resource as Record<string, Record<string, Record<string, Json>>>).aws_ecs_task_definition!;
    tds.tenant = { container_definitions: JSON.stringify([{ image: "r/aw-tenant-service:1.4.0" }]) };
    tds.api!.container_definitions = JSON.stringify([{ image: "r/aw-api-gateway:0.9.0" }]);
    expect(currentTagOf(synthStack("services", config))).toBe("1.4.0");
    expect(taskDefinitionsRunning(config, "1.4.0")).toEqual(["aws_ecs_task_definition.pdp", "aws_ecs_task_definition.tenant"]);
    expect(currentTagOf(synthStack("services", { resource: {} }))).toBeUndefined();
  });

  test("only a CODE_DEPLOY service is CodeDeploy's; its allow-listed emulator differences in the release plan are not a finding, any other change is", () => {
    const blueGreen = services({ tag: "2.0.0", blueGreen: true });
    expect(codeDeployServices(blueGreen)).toEqual(["aws_ecs_service.api"]);
    expect(codeDeployServices(services())).toEqual([]);
    const created = (name: string) => rc(`aws_ecs_task_definition.${name}`, ["create"], null, { family: name });
    const gateway = (before: Json, after: Json) => rc("aws_ecs_service.api", ["update"], before, after);
    const moto = checkReleasePlan(
      blueGreen,
      "2.0.0",
      changesOf("services", {
        resource_changes: [created("api"), created("pdp"), gateway({ enable_ecs_managed_tags: false }, { enable_ecs_managed_tags: true })],
      }),
      planRules(),
    );
    expect(moto.problems).toEqual([]);
    expect(moto.registered).toEqual(["aws_ecs_task_definition.api", "aws_ecs_task_definition.pdp"]);
    const wrong = checkReleasePlan(
      blueGreen,
      "2.0.0",
      changesOf("services", { resource_changes: [created("api"), gateway({ desired_count: 2 }, { desired_count: 3 })] }),
      planRules(),
    );
    expect(wrong.problems.map((p) => [p.address, p.found])).toEqual([
      ["aws_ecs_task_definition.pdp", "the release plan leaves it unchanged"],
      ["aws_ecs_service.api", "the release plan changes it (update: desired_count: 2 -> 3)"],
    ]);
  });
});
