// The emulated copy of each phase (scripts/emulate/rewrite.ts) on small hand-written stacks: backend,
// providers, remote state, stand-ins, copy edits and hosted zones. No Terraform or emulator needed.
import { ALLOW_LIST, EditRule, StandInRule, editRules, endMinuteEarlier, memberClusters, standInRules } from "../scripts/emulate/allow-list";
import { SERVICE_OF_PREFIX, serviceOf } from "../scripts/emulate/endpoints";
import { CopyOptions, EmulatedStack, emulatedCopy, hostedZonesOf, servicesOf } from "../scripts/emulate/rewrite";
import { GenerateError } from "../scripts/tf-check/generate";
import { JsonObject, isObject } from "../scripts/tf-check/json";
import { Mirror } from "../scripts/tf-check/mirror";
import { ACCOUNT, BUCKET, TABLE, ZONE, cache, loadbalancer, network, observability, synthStack } from "./fixtures/emulate/stacks";

const MIRROR: Mirror = { dir: "/opt/tf-plugins", providers: new Set(["registry.terraform.io/hashicorp/aws"]) };
const URL = "http://127.0.0.1:45123";
const options = (more: Partial<CopyOptions> = {}): CopyOptions => ({
  emulator: { url: URL, accessKey: ACCOUNT, secretKey: "standin" },
  mirror: MIRROR,
  standInRules: standInRules(),
  editRules: editRules(),
  zoneIds: new Map([[ZONE, "EMULATEDZONE42"]]),
  copyDir: "/tmp/emulate-fixture/emulate/dev/x",
  ...more,
});
const copyOf = (phase: string, config?: JsonObject, more?: Partial<CopyOptions>): EmulatedStack => emulatedCopy(synthStack(phase, config), options(more));
const at = (value: unknown, ...keys: (string | number)[]): unknown =>
  keys.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], value);

describe("the backend and the remote state reads", () => {
  test("the S3 backend keeps its bucket, key and lock table and reaches them in the emulator, path-style, with stand-in credentials", () => {
    const backend = at(copyOf("network").config, "terraform", "backend", "s3");
    expect(backend).toEqual({
      bucket: BUCKET,
      key: "dev/network/terraform.tfstate",
      region: "eu-west-1",
      dynamodb_table: TABLE,
      encrypt: true,
      endpoints: { s3: URL, dynamodb: URL, iam: URL, sts: URL },
      use_path_style: true,
      access_key: ACCOUNT,
      secret_key: "standin",
      skip_credentials_validation: true,
      skip_requesting_account_id: true,
      skip_metadata_api_check: true,
      skip_region_validation: true,
    });
  });

  test("every remote state read of an earlier phase reads the same state in the emulator (not a stand-in output)", () => {
    const copy = copyOf("observability");
    const remote = at(copy.config, "data", "terraform_remote_state") as JsonObject;
    expect(Object.keys(remote).sort()).toEqual(["cache", "loadbalancer", "network"]);
    for (const [phase, block] of Object.entries(remote)) {
      expect(at(block, "config")).toEqual(
        expect.objectContaining({
          bucket: BUCKET,
          key: `dev/${phase}/terraform.tfstate`,
          endpoints: { s3: URL, dynamodb: URL, iam: URL, sts: URL },
          use_path_style: true,
          access_key: ACCOUNT,
        }),
      );
    }
    // The read itself is untouched: the alarm still names the upstream output.
    expect(at(copy.config, "resource", "aws_cloudwatch_metric_alarm", "redis", "dimensions", "ReplicationGroupId")).toBe(
      "${data.terraform_remote_state.cache.outputs.redis_id}",
    );
  });

  test("the synthesized stack itself is not changed", () => {
    const stack = synthStack("cache");
    const before = JSON.stringify(stack.config);
    emulatedCopy(stack, options());
    expect(JSON.stringify(stack.config)).toBe(before);
  });

  test("a stack without an S3 backend, or a remote state that is not S3, is refused naming the phase", () => {
    const local = network();
    (local.terraform as JsonObject).backend = { local: { path: "x" } };
    expect(() => copyOf("network", local)).toThrow(/dev\/network \(accessweaver-dev-network\): no S3 backend/);
    const gcs = cache();
    ((gcs.data as JsonObject).terraform_remote_state as JsonObject).network = { backend: "gcs", config: { bucket: "b" } };
    expect(() => copyOf("cache", gcs)).toThrow(/dev\/cache .*data\.terraform_remote_state\.network does not read an S3 state/);
  });
});

describe("the providers", () => {
  test("every AWS provider block, the us-east-1 alias too, sends each service the stack uses to the emulator, with one retry", () => {
    const copy = copyOf("observability");
    const blocks = at(copy.config, "provider", "aws") as JsonObject[];
    expect(blocks).toHaveLength(2);
    expect(copy.services).toEqual(["cloudtrail", "cloudwatch", "iam", "sts"]);
    for (const block of blocks) {
      expect(block).toEqual(
        expect.objectContaining({
          access_key: ACCOUNT,
          max_retries: 3,
          s3_use_path_style: true,
          skip_credentials_validation: true,
          skip_metadata_api_check: true,
          endpoints: [{ cloudtrail: URL, cloudwatch: URL, iam: URL, sts: URL }],
        }),
      );
      // Real credential sources go; the account lock and the stack's own settings stay.
      expect(block.profile).toBeUndefined();
      expect(block.assume_role).toBeUndefined();
      expect(block.allowed_account_ids).toEqual([ACCOUNT]);
      expect(block.default_tags).toEqual([{ tags: { Environment: "dev", Phase: "observability" } }]);
    }
    expect(blocks.map((b) => [b.alias, b.region])).toEqual([
      [undefined, "eu-west-1"],
      ["us-east-1", "us-east-1"],
    ]);
  });

  test("the services come from the resource and data source types; a type the endpoint table lacks is refused", () => {
    expect(copyOf("network").services).toEqual(["ec2", "iam", "kms", "sts"]);
    const odd = network();
    (odd.resource as JsonObject).aws_quicksight_user = { u: { user_name: "x" } };
    expect(() => copyOf("network", odd)).toThrow(GenerateError);
    expect(() => copyOf("network", odd)).toThrow(/dev\/network .*resource type aws_quicksight_user .*scripts\/emulate\/endpoints\.ts/);
  });

  test("the endpoint table maps prefixes to the provider's endpoint keys, longest prefix first", () => {
    expect(serviceOf("aws_cloudwatch_log_group")).toBe("logs");
    expect(serviceOf("aws_cloudwatch_event_rule")).toBe("events");
    expect(serviceOf("aws_cloudwatch_metric_alarm")).toBe("cloudwatch");
    expect(serviceOf("aws_route_table_association")).toBe("ec2");
    expect(serviceOf("aws_lb_listener")).toBe("elbv2");
    expect(serviceOf("aws_codedeploy_deployment_group")).toBe("deploy");
    expect(serviceOf("aws_unknown_thing")).toBeUndefined();
    // No alias beside its canonical key: the provider refuses both at once.
    const keys = new Set(Object.values(SERVICE_OF_PREFIX));
    for (const [alias, canonical] of [
      ["codedeploy", "deploy"],
      ["cloudwatchlogs", "logs"],
      ["elasticloadbalancingv2", "elbv2"],
      ["eventbridge", "events"],
    ]) {
      expect(keys.has(alias!) && keys.has(canonical!)).toBe(false);
    }
    expect(servicesOf({ data: { aws_iam_policy_document: { x: {} } } }, "here")).toEqual(["iam", "sts"]);
  });

  test("ephemeral resources call AWS too: their service is pointed at the emulator, and an unmapped one is refused", () => {
    expect(servicesOf({ ephemeral: { aws_secretsmanager_random_password: { jwt: { password_length: 64 } } } }, "here")).toEqual([
      "iam",
      "secretsmanager",
      "sts",
    ]);
    expect(() => servicesOf({ ephemeral: { aws_quicksight_thing: { x: {} } } }, "dev/cache")).toThrow(
      /dev\/cache: ephemeral type aws_quicksight_thing calls an AWS API/,
    );
  });
});

describe("stand-ins", () => {
  test("random resources go with their provider; each attribute read becomes a sensitive variable with a stand-in value", () => {
    const copy = copyOf("cache");
    const c = copy.config;
    expect(at(c, "resource", "random_password")).toBeUndefined();
    expect(at(c, "terraform", "required_providers", "random")).toBeUndefined();
    expect(at(c, "provider", "random")).toBeUndefined();
    const variable = at(c, "variable", "standin__random_password__auth-token__result") as JsonObject;
    expect(variable).toEqual(expect.objectContaining({ type: "string", sensitive: true }));
    expect(variable.default).toMatch(/^[0-9a-f]{32}$/);
    expect(at(c, "resource", "aws_secretsmanager_secret_version", "redis", "secret_string")).toBe(
      "${jsonencode({token = var.standin__random_password__auth-token__result, host = var.standin__aws_elasticache_replication_group__redis__configuration_endpoint_address})}",
    );
    expect(copy.standIns.find((s) => s.address === "random_password.auth-token")?.why).toBe(
      "provider registry.terraform.io/hashicorp/random is not in the plugin mirror",
    );
  });

  test("a resource the emulator cannot create (allow-list) stands in with the values AWS would give, not secret", () => {
    const copy = copyOf("cache");
    const c = copy.config;
    expect(at(c, "resource", "aws_elasticache_replication_group")).toBeUndefined();
    expect(at(c, "resource", "aws_elasticache_parameter_group")).toBeUndefined();
    const v = (name: string) => at(c, "variable", name) as JsonObject;
    expect(v("standin__aws_elasticache_replication_group__redis__id")).toEqual(expect.objectContaining({ type: "string", default: "accessweaver-dev-redis" }));
    expect(v("standin__aws_elasticache_replication_group__redis__id").sensitive).toBeUndefined();
    expect(v("standin__aws_elasticache_replication_group__redis__member_clusters")).toEqual(
      expect.objectContaining({
        type: "any",
        default: ["accessweaver-dev-redis-0001-001", "accessweaver-dev-redis-0001-002", "accessweaver-dev-redis-0002-001", "accessweaver-dev-redis-0002-002"],
      }),
    );
    expect(v("standin__aws_elasticache_replication_group__redis__port").default).toBe(6379);
    expect(at(c, "output", "redis_members", "value")).toBe("${var.standin__aws_elasticache_replication_group__redis__member_clusters}");
    expect(copy.standIns.map((s) => [s.address, s.why])).toEqual([
      ["random_password.auth-token", "provider registry.terraform.io/hashicorp/random is not in the plugin mirror"],
      ["aws_elasticache_parameter_group.params", "allow-list elasticache-parameter-group"],
      ["aws_elasticache_replication_group.redis", "allow-list elasticache-member-clusters"],
    ]);
  });

  test("a stood-in argument that is a template of other resources is read as that template, keeping the reader's ordering", () => {
    const copy = copyOf("services");
    const policy = at(copy.config, "resource", "aws_appautoscaling_policy", "cpu") as JsonObject;
    expect(at(copy.config, "resource", "aws_appautoscaling_target")).toBeUndefined();
    expect(policy.resource_id).toBe('${"service/${aws_ecs_cluster.cluster.name}/${aws_ecs_service.api.name}"}');
    expect(policy.scalable_dimension).toBe("${var.standin__aws_appautoscaling_target__api__scalable_dimension}");
    expect(at(copy.config, "variable", "standin__aws_appautoscaling_target__api__scalable_dimension", "default")).toBe("ecs:service:DesiredCount");
    expect(policy.depends_on).toEqual([]);
    expect(copy.standIns).toEqual([
      {
        address: "aws_appautoscaling_target.api",
        why: "allow-list appautoscaling-tags",
        attributes: [
          { attribute: "resource_id", value: "service/${aws_ecs_cluster.cluster.name}/${aws_ecs_service.api.name}" },
          { attribute: "scalable_dimension", value: "ecs:service:DesiredCount" },
          { attribute: "service_namespace", value: "ecs" },
        ],
      },
    ]);
  });

  test("depends_on a removed resource goes; a read of one other than through an attribute is refused", () => {
    const config = cache();
    ((config.resource as JsonObject).aws_secretsmanager_secret_version as JsonObject).other = {
      secret_id: "x",
      secret_string: "${jsonencode(random_password.auth-token)}",
    };
    expect(() => copyOf("cache", config)).toThrow(
      /dev\/cache .*uses random_password\.auth-token .*other than through an attribute; make emulate cannot stand in for it/,
    );
    // Without it, nothing depends on the removed blocks any more.
    expect(JSON.stringify(copyOf("cache").config)).not.toMatch(/"random_password\.auth-token"/);
  });

  test("a CodeDeploy application stands in by its name and is still made in the emulator, in its provider's region, for the deployment group that names it", () => {
    const config = network();
    (config.provider as JsonObject).aws = [
      ...((config.provider as JsonObject).aws as JsonObject[]),
      { alias: "useast1", region: "us-east-1", allowed_account_ids: [ACCOUNT] },
    ];
    (config.resource as JsonObject).aws_codedeploy_app = {
      app: { name: "accessweaver-dev-gw", compute_platform: "ECS" },
      other: { provider: "aws.useast1", name: "other-app", compute_platform: "ECS" },
    };
    (config.resource as JsonObject).aws_codedeploy_deployment_group = {
      group: { app_name: "${aws_codedeploy_app.app.name}", deployment_group_name: "g", service_role_arn: "arn:aws:iam::1:role/r" },
    };
    const copy = copyOf("network", config);
    expect(at(copy.config, "resource", "aws_codedeploy_app")).toBeUndefined();
    expect(at(copy.config, "resource", "aws_codedeploy_deployment_group", "group", "app_name")).toBe("${var.standin__aws_codedeploy_app__app__name}");
    expect(at(copy.config, "variable", "standin__aws_codedeploy_app__app__name", "default")).toBe("accessweaver-dev-gw");
    const created = new Map(copy.standIns.map((s) => [s.address, s.created]));
    expect(created.get("aws_codedeploy_app.app")?.what).toBe("CreateApplication");
    const call = created.get("aws_codedeploy_app.app")!.call;
    expect(call.headers["x-amz-target"]).toBe("CodeDeploy_20141006.CreateApplication");
    expect(call.headers.authorization).toContain(`${ACCOUNT}/20240101/eu-west-1/codedeploy/`);
    expect(JSON.parse(call.body!)).toEqual({ applicationName: "accessweaver-dev-gw", computePlatform: "ECS" });
    expect(created.get("aws_codedeploy_app.other")!.call.headers.authorization).toContain("/us-east-1/codedeploy/");
    // A stand-in without a plain call is not made in the emulator.
    expect(copyOf("services").standIns.every((s) => s.created === undefined)).toBe(true);
  });

  test("a rule stands in only for its type (and address, when it names one)", () => {
    const rule: StandInRule = {
      id: "only-b",
      kind: "not implemented",
      handling: "stand-in",
      type: "aws_vpc",
      address: /^aws_vpc\.b$/,
      reason: "r",
      verified: "v",
    };
    const config = network();
    (config.resource as JsonObject).aws_vpc = { vpc: { cidr_block: "10.0.0.0/16" }, b: { cidr_block: "10.1.0.0/16" } };
    const copy = copyOf("network", config, { standInRules: [rule] });
    expect(Object.keys(at(copy.config, "resource", "aws_vpc") as JsonObject)).toEqual(["vpc"]);
    expect(copy.standIns.map((s) => s.address)).toEqual(["aws_vpc.b"]);
  });
});

describe("copy edits and hosted zones", () => {
  test("the backup window that touches the maintenance window ends a minute earlier in the copy only", () => {
    const copy = copyOf("database");
    expect(at(copy.config, "resource", "aws_db_instance", "db", "backup_window")).toBe("02:00-02:59");
    expect(at(copy.config, "resource", "aws_db_instance", "db", "maintenance_window")).toBe("sun:03:00-sun:04:00");
    expect(copy.edits).toEqual(['aws_db_instance.db.backup_window: "02:00-03:00" -> "02:00-02:59" (rds-touching-windows)']);
    expect(endMinuteEarlier("00:00-00:30")).toBe("00:00-00:29");
    expect(endMinuteEarlier("23:00-00:00")).toBe("23:00-23:59");
    expect(endMinuteEarlier("${var.x}")).toBe("${var.x}");
    const none: EditRule[] = [];
    expect(at(copyOf("database", undefined, { editRules: none }).config, "resource", "aws_db_instance", "db", "backup_window")).toBe("02:00-03:00");
  });

  test("budgets stand in and the trail is created with logging off, in the copy only", () => {
    const copy = copyOf("observability");
    expect(at(copy.config, "resource", "aws_budgets_budget")).toBeUndefined();
    expect(copy.standIns.map((s) => [s.address, s.why])).toEqual([["aws_budgets_budget.monthly", "allow-list budgets-subscribers"]]);
    expect(at(copy.config, "resource", "aws_cloudtrail", "audit", "enable_logging")).toBe(false);
    expect(copy.edits).toEqual(["aws_cloudtrail.audit.enable_logging: true -> false (cloudtrail-start-logging)"]);
    expect(at(observability(), "resource", "aws_cloudtrail", "audit", "enable_logging")).toBe(true);
  });

  test("the settings' hosted zone id becomes the emulator's zone, wherever it appears", () => {
    const copy = copyOf("loadbalancer");
    expect(at(copy.config, "resource", "aws_route53_record", "alias", "zone_id")).toBe("EMULATEDZONE42");
    expect(at(copy.config, "resource", "aws_route53_record", "www", "zone_id")).toBe("EMULATEDZONE42");
    expect(at(copy.config, "resource", "aws_route53_health_check", "api", "reference_name")).toBe("hc-EMULATEDZONE42");
    // The ALB's own zone (a reference) is left alone.
    expect(at(copy.config, "resource", "aws_route53_record", "alias", "alias", "zone_id")).toBe("${aws_lb.alb.zone_id}");
  });

  test("the hosted zones to create: each literal zone id, named after its shortest record name", () => {
    const zones = hostedZonesOf([synthStack("network"), synthStack("loadbalancer")]);
    expect([...zones]).toEqual([[ZONE, "dev.accessweaver.com"]]);
    const noName = loadbalancer();
    ((noName.resource as JsonObject).aws_route53_record as JsonObject) = { r: { zone_id: "ZABC", name: "${var.x}", type: "A" } };
    expect([...hostedZonesOf([synthStack("loadbalancer", noName)])]).toEqual([["ZABC", "zabc.emulated.test"]]);
  });
});

describe("the allow-list's stand-in values", () => {
  test("member clusters are named as AWS names them, with and without cluster mode", () => {
    expect(memberClusters({ replication_group_id: "g", num_node_groups: 1, replicas_per_node_group: 0 })).toEqual(["g-0001-001"]);
    expect(memberClusters({ replication_group_id: "g", cluster_mode: "enabled", num_node_groups: "2" })).toEqual(["g-0001-001", "g-0002-001"]);
    expect(memberClusters({ replication_group_id: "g", num_cache_clusters: 3 })).toEqual(["g-001", "g-002", "g-003"]);
    expect(memberClusters({ replication_group_id: "${var.x}" })).toEqual(["${var.x}-001"]);
    expect(memberClusters({})).toBeUndefined();
  });

  test("every entry has an id, a reason and how it was verified; ids are unique", () => {
    const ids = ALLOW_LIST.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of ALLOW_LIST) {
      expect(r.reason.length).toBeGreaterThan(40);
      expect(r.verified.length).toBeGreaterThan(20);
      if (r.handling !== "setting") expect(r.type).toMatch(/^aws_/);
    }
    expect(isObject(observability())).toBe(true);
  });
});
