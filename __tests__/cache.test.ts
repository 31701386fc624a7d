// The cache phase (guide phase 3), on the JSON of a whole-environment synth: Redis in cluster mode placed
// in the network through its named outputs, TLS and AUTH, snapshots and logs, the redis and jwt secrets,
// and the handles of both data phases as a later phase reads them.
import * as fs from "fs";
import * as path from "path";
import { Construct } from "constructs";
import { App, TerraformOutput, TerraformStack } from "cdktf";
import { REDIS_AUTH_SPECIALS, REDIS_AUTH_TOKEN, Redis, RedisProps } from "../src/constructs/redis";
import { ENVIRONMENTS, names } from "../src/naming";
import { PROFILES } from "../src/config/profiles";
import { evaluate, viewOf } from "../src/policy/guardrails";
import { DATA_RULES } from "../src/policy/data-rules";
import { EnvironmentConfig } from "../src/config/settings";
import { BuiltPhases, CACHE_HANDLES, DATABASE_HANDLES, readHandles } from "../src/stacks/handles";
import { PhaseStack } from "../src/stacks/phase-stack";
import { PhaseDefinition, REGISTERED_PHASES } from "../src/stacks/registry";
import { ROOT, config, resources, synthEnv, tempDir } from "./support/config";
import { addresses, allOutputs, golden, secretDocument } from "./support/data";

const NET = (output: string) => `\${data.terraform_remote_state.network.outputs.${output}}`;
const KEY = NET("kms_key_arn");

const EXPECTED = {
  dev: { nodeType: "cache.t4g.micro", shards: 1, replicas: 0, nodes: 1, snapshots: 1, protect: false },
  staging: { nodeType: "cache.r6g.large", shards: 3, replicas: 1, nodes: 6, snapshots: 7, protect: true },
  prod: { nodeType: "cache.r6g.xlarge", shards: 3, replicas: 2, nodes: 9, snapshots: 30, protect: true },
} as const;

describe.each(ENVIRONMENTS)("%s: the cache phase", (env) => {
  const { json, byStack, manifest } = synthEnv(config(env));
  const cache = json.cache!;
  const want = EXPECTED[env];
  const group = resources(cache, "aws_elasticache_replication_group")["redis_replication-group"];

  it("is one Redis 7.1 replication group in cluster mode, named for the runbooks, sized by the profile", () => {
    expect(Object.keys(resources(cache, "aws_elasticache_replication_group"))).toEqual(["redis_replication-group"]);
    expect(group).toEqual(
      expect.objectContaining({
        replication_group_id: `accessweaver-${env}-redis`,
        engine: "redis",
        engine_version: "7.1",
        cluster_mode: "enabled",
        node_type: want.nodeType,
        num_node_groups: want.shards,
        replicas_per_node_group: want.replicas,
        port: 6379,
      }),
    );
    expect(group.num_node_groups * (1 + group.replicas_per_node_group)).toBe(want.nodes);
    expect(group.num_cache_clusters).toBeUndefined();
    const parameters = resources(cache, "aws_elasticache_parameter_group")["redis_parameter-group"];
    expect(parameters).toEqual(expect.objectContaining({ family: "redis7", parameter: [{ name: "cluster-enabled", value: "yes" }] }));
    expect(parameters.name).toMatch(new RegExp(`^accessweaver-${env}-redis7-[0-9a-f]{8}$`));
    // A changed AUTH token is added beside the current one (explicit: provider 6.0 drops the default).
    expect(group.auth_token_update_strategy).toBe("ROTATE");
    expect(group.parameter_group_name).toBe("${aws_elasticache_parameter_group.redis_parameter-group.name}");
  });

  it("fails over automatically, and across zones wherever shards have replicas", () => {
    expect(group.automatic_failover_enabled).toBe(true);
    expect(group.multi_az_enabled).toBe(want.replicas > 0);
  });

  it("sits in the network's database subnets and cache security group, read through named outputs", () => {
    expect(resources(cache, "aws_elasticache_subnet_group")["redis_subnet-group"]).toEqual(
      expect.objectContaining({ name: `accessweaver-${env}-redis`, subnet_ids: NET("database_subnet_ids") }),
    );
    expect(group.subnet_group_name).toBe("${aws_elasticache_subnet_group.redis_subnet-group.name}");
    expect(group.security_group_ids).toEqual([NET("security_group_ids.cache")]);
    expect(resources(cache, "aws_vpc_security_group_ingress_rule")).toEqual({});
    expect(manifest.stacks[`accessweaver-${env}-cache`].dependencies).toEqual([`accessweaver-${env}-network`]);
  });

  it("requires TLS with an AUTH token, and encrypts at rest with the network's key", () => {
    expect(group).toEqual(
      expect.objectContaining({
        transit_encryption_enabled: true,
        transit_encryption_mode: "required",
        auth_token: "${random_password.auth-token.result}",
        at_rest_encryption_enabled: "true",
        kms_key_id: KEY,
      }),
    );
  });

  it("generates the AUTH token from characters Redis accepts, the JWT secret at least 64 long", () => {
    const token = resources(cache, "random_password")["auth-token"];
    expect(token.length).toBeGreaterThanOrEqual(16);
    expect(token.length).toBeLessThanOrEqual(128);
    // Letters and digits only, or specials among those ElastiCache accepts.
    const specials: string = token.special ? (token.override_special ?? "!@#$%&*()-_=+[]{}<>:?") : "";
    expect([...specials].filter((c) => !REDIS_AUTH_SPECIALS.includes(c))).toEqual([]);
    expect(REDIS_AUTH_TOKEN.test(`Aa1${"x".repeat(token.length - 3)}`)).toBe(true);
    // The JWT signing secret is not Terraform's: Secrets Manager draws it (an ephemeral resource, never stored).
    expect(resources(cache, "random_password")["jwt-signing-secret"]).toBeUndefined();
    expect(cache.ephemeral.aws_secretsmanager_random_password["jwt-signing-secret"]).toEqual({
      password_length: 64,
      exclude_punctuation: true,
      require_each_included_type: true,
    });
  });

  it("keeps daily snapshots per profile in windows that do not overlap; protects the data in staging and prod", () => {
    expect(group).toEqual(
      expect.objectContaining({
        snapshot_retention_limit: want.snapshots,
        snapshot_window: "04:00-05:00",
        maintenance_window: "sun:05:00-sun:06:00",
        auto_minor_version_upgrade: "true",
        apply_immediately: !want.protect,
        lifecycle: { prevent_destroy: want.protect },
      }),
    );
    expect(group.final_snapshot_identifier).toBe(want.protect ? `accessweaver-${env}-redis-final` : undefined);
  });

  it("delivers slow and engine logs as JSON to groups it creates, encrypted and kept a year", () => {
    const groups = resources(cache, "aws_cloudwatch_log_group");
    expect(group.log_delivery_configuration).toEqual(
      (["slow-log", "engine-log"] as const).map((log) => ({
        destination: `\${aws_cloudwatch_log_group.redis_log-${log}_log-group.name}`,
        destination_type: "cloudwatch-logs",
        log_format: "json",
        log_type: log,
      })),
    );
    for (const log of ["slow-log", "engine-log"]) {
      expect(groups[`redis_log-${log}_log-group`]).toEqual(
        expect.objectContaining({
          name: `/aws/elasticache/accessweaver-${env}-redis/${log}`,
          kms_key_id: KEY,
          retention_in_days: PROFILES[env].applicationLogRetentionDays,
          tags: { LogClass: "application" },
        }),
      );
    }
  });

  it("rotates the JWT signing secret when jwt_secret_version changes", () => {
    const rotated = synthEnv(config(env, { jwt_secret_version: 2 })).json.cache!;
    expect(resources(rotated, "aws_secretsmanager_secret_version")["jwt-secret_value"].secret_string_wo_version).toBe(2);
    expect(() => config(env, { jwt_secret_version: 0 })).toThrow(/jwt_secret_version: found 0; expected a whole number from 1 to 1000000/);
  });

  it("writes accessweaver/<env>/redis and accessweaver/<env>/jwt, encrypted, recoverable, values by reference", () => {
    const secrets = resources(cache, "aws_secretsmanager_secret");
    const versions = resources(cache, "aws_secretsmanager_secret_version");
    for (const [id, kind] of [
      ["redis-secret", "redis"],
      ["jwt-secret", "jwt"],
    ] as const) {
      expect(secrets[`${id}_secret`]).toEqual(
        expect.objectContaining({ name: names(env).secret(kind), kms_key_id: KEY, recovery_window_in_days: want.protect ? 30 : 7 }),
      );
      expect(versions[`${id}_value`].secret_id).toBe(`\${aws_secretsmanager_secret.${id}_secret.id}`);
    }
    expect(secretDocument(versions["redis-secret_value"].secret_string)).toEqual({
      configuration_endpoint: "aws_elasticache_replication_group.redis_replication-group.configuration_endpoint_address",
      port: "6379",
      tls: "true",
      auth_token: "random_password.auth-token.result",
    });
    // Write-only: sent to Secrets Manager, never kept in the state; written again when the version changes.
    const jwt = versions["jwt-secret_value"];
    expect(jwt.secret_string).toBeUndefined();
    expect(jwt.secret_string_wo_version).toBe(1);
    expect(secretDocument(jwt.secret_string_wo)).toEqual({
      secret: "ephemeral.aws_secretsmanager_random_password.jwt-signing-secret.random_password",
      expiration: '"3600"',
    });
  });

  it("publishes exactly its handles, none sensitive; no output of any phase carries a token or secret value", () => {
    expect(cache.output).toEqual({
      redis_configuration_endpoint: expect.objectContaining({
        value: "${aws_elasticache_replication_group.redis_replication-group.configuration_endpoint_address}",
        sensitive: false,
      }),
      redis_port: expect.objectContaining({ value: 6379, sensitive: false }),
      redis_secret_arn: expect.objectContaining({ value: "${aws_secretsmanager_secret.redis-secret_secret.arn}", sensitive: false }),
      jwt_secret_arn: expect.objectContaining({ value: "${aws_secretsmanager_secret.jwt-secret_secret.arn}", sensitive: false }),
      redis_replication_group_id: expect.objectContaining({
        value: "${aws_elasticache_replication_group.redis_replication-group.replication_group_id}",
        sensitive: false,
      }),
      redis_member_clusters: expect.objectContaining({
        value: "${tolist(aws_elasticache_replication_group.redis_replication-group.member_clusters)}",
        sensitive: false,
      }),
    });
    for (const o of allOutputs(byStack)) expect(o).not.toMatch(/random_password|auth_token|secret_string/);
    // The generated values are read only by the replication group and the two secret versions.
    const text = JSON.stringify({
      ...cache.resource,
      random_password: undefined,
      aws_secretsmanager_secret_version: undefined,
      aws_elasticache_replication_group: undefined,
    });
    expect(text).not.toContain("random_password.");
    expect(JSON.stringify(cache.locals ?? {})).not.toContain("random_password.");
  });

  it("passes the data tier's guardrails", () => {
    expect(evaluate(viewOf(`accessweaver-${env}-cache`, cache), DATA_RULES)).toEqual([]);
  });
});

describe("addresses", () => {
  it("are stable: prod's cache addresses are the committed list (a rename replaces a resource)", () => {
    expect(addresses(synthEnv(config("prod")).json.cache)).toEqual(golden("prod-cache-addresses.txt"));
  });

  it("the import commands in docs/data-tier.md name real addresses of the phases", () => {
    const doc = fs.readFileSync(path.join(ROOT, "docs/data-tier.md"), "utf8");
    const imported = [...doc.matchAll(/terraform import (\S+)/g)].map((m) => m[1]!);
    expect(imported).toEqual([
      "aws_secretsmanager_secret.secret_secret",
      "aws_secretsmanager_secret.redis-secret_secret",
      "aws_secretsmanager_secret.jwt-secret_secret",
    ]);
    const known = [...golden("prod-database-addresses.txt"), ...golden("prod-cache-addresses.txt")];
    for (const address of imported) expect(known).toContain(address);
  });
});

/** A stand-in services phase that reads the data tier's handles as the services phase will. */
class ProbeServicesStack extends PhaseStack {
  constructor(scope: Construct, cfg: EnvironmentConfig, built: BuiltPhases) {
    super(scope, "services", { config: cfg });
    const database = readHandles(this, built, "database");
    const cache = readHandles(this, built, "cache");
    new TerraformOutput(this, "probe", { value: { ...database, ...cache } });
  }
}

describe("a later phase reads the data tier only through its handles", () => {
  const withProbe: PhaseDefinition[] = [
    ...REGISTERED_PHASES.filter((p) => p.phase !== "services" && p.phase !== "observability" && p.phase !== "recovery"),
    { phase: "services", build: (scope, cfg, built) => new ProbeServicesStack(scope, cfg, built) },
  ];
  const { json, manifest } = synthEnv(config("dev"), withProbe);
  const services = json.services!;

  it("reads the database and cache states of the environment, after both phases", () => {
    expect(Object.keys(services.data.terraform_remote_state).sort()).toEqual(["cache", "database"]);
    for (const phase of ["database", "cache"]) {
      expect(services.data.terraform_remote_state[phase].config).toEqual({
        bucket: "accessweaver-terraform-state-dev-111122223333",
        key: `dev/${phase}/terraform.tfstate`,
        region: "eu-west-1",
      });
    }
    expect(manifest.stacks["accessweaver-dev-services"].dependencies.sort()).toEqual(["accessweaver-dev-cache", "accessweaver-dev-database"]);
  });

  it("gets each handle as the named output, as a reviewer would write it", () => {
    const outputs = [...Object.values(DATABASE_HANDLES).map((h) => ["database", h.output]), ...Object.values(CACHE_HANDLES).map((h) => ["cache", h.output])];
    expect(Object.values(services.output.probe.value).sort()).toEqual(
      outputs.map(([phase, output]) => `\${data.terraform_remote_state.${phase}.outputs.${output}}`).sort(),
    );
    for (const [phase, output] of outputs) expect(Object.keys(json[phase!]!.output)).toContain(output);
  });
});

describe("the redis construct refuses what ElastiCache would refuse at apply", () => {
  const props = (over: Partial<RedisProps>): RedisProps => ({
    names: names("dev"),
    subnetIds: ["subnet-a", "subnet-b"],
    securityGroupId: "sg-1",
    kmsKeyArn: "arn:k",
    authToken: "Abcdefghijklmnop1234",
    nodeType: "cache.t4g.micro",
    shards: 1,
    replicasPerShard: 0,
    snapshotRetentionDays: 1,
    ...over,
  });
  const stack = () => new TerraformStack(new App({ outdir: tempDir() }), "accessweaver-dev-cache");

  it("an AUTH token with a character Redis refuses, or too short", () => {
    for (const authToken of ["has@at-sign-1234567", "has/slash-12345678", 'has"quote-12345678', "Short1"]) {
      expect(() => new Redis(stack(), "redis", props({ authToken }))).toThrow(
        "accessweaver-dev-redis: the AUTH token must be 16 to 128 letters, digits or !&#$^<>-.",
      );
    }
    expect(() => new Redis(stack(), "redis", props({ authToken: "Valid-token&1234567" }))).not.toThrow();
  });

  it("overlapping snapshot and maintenance windows", () => {
    expect(() => new Redis(stack(), "redis", props({ snapshotWindow: "05:30-06:30" }))).toThrow(
      "accessweaver-dev-redis: the snapshot window 05:30-06:30 overlaps the maintenance window sun:05:00-sun:06:00; AWS refuses overlapping windows.",
    );
  });

  it("a shape ElastiCache does not offer", () => {
    expect(() => new Redis(stack(), "redis", props({ shards: 0 }))).toThrow(
      "0 shard(s) of 0 replica(s); expected at least one shard and 0 to 5 replicas each.",
    );
    expect(() => new Redis(stack(), "redis", props({ replicasPerShard: 6 }))).toThrow("1 shard(s) of 6 replica(s)");
  });
});
