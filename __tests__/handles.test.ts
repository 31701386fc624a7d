// The seams between phases: named outputs published by the network phase, read by a later phase through
// an explicit S3 remote state, on the JSON of a whole-environment synth (`app.synth()`).
import { Construct } from "constructs";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { EncryptedLogGroup } from "../src/constructs/log-group";
import { EnvironmentConfig } from "../src/config/settings";
import { ENVIRONMENTS, PhaseName } from "../src/naming";
import { BuiltPhases, NETWORK_HANDLES, publishHandles, readHandles } from "../src/stacks/handles";
import { PhaseStack, generatedCrossStackWiring } from "../src/stacks/phase-stack";
import { PhaseDefinition, REGISTERED_PHASES } from "../src/stacks/registry";
import { StackJson, buildEnv, config, synthEnv } from "./support/config";

/** A stand-in second phase that places itself in the network as the database phase will. */
class ProbeDatabaseStack extends PhaseStack {
  constructor(scope: Construct, cfg: EnvironmentConfig, built: BuiltPhases) {
    super(scope, "database", { config: cfg });
    const network = readHandles(this, built, "network");
    new DbSubnetGroup(this, "subnets", { name: this.names.databaseSubnetGroup, subnetIds: network.databaseSubnetIds });
    new VpcSecurityGroupIngressRule(this, "probe", {
      securityGroupId: network.securityGroupIds.database,
      referencedSecurityGroupId: network.securityGroupIds.services,
      ipProtocol: "tcp",
      fromPort: 5432,
      toPort: 5432,
    });
    new EncryptedLogGroup(this, "logs", {
      name: this.names.databaseLogGroup("postgresql"),
      kmsKeyArn: network.kmsKeyArn,
      logClass: "application",
      retentionDays: cfg.sizing.applicationLogRetentionDays,
      protect: true,
    });
  }
}
// The network alone, then the probe in place of the database phase.
const withProbe: PhaseDefinition[] = [
  ...REGISTERED_PHASES.filter((p) => p.phase === "network"),
  { phase: "database", build: (scope, cfg, built) => new ProbeDatabaseStack(scope, cfg, built) },
];

const NETWORK_OUTPUTS = [
  "vpc_id",
  "vpc_cidr",
  "public_subnet_ids",
  "private_subnet_ids",
  "database_subnet_ids",
  "security_group_ids",
  "kms_key_arn",
  "kms_key_alias",
  "dr_kms_key_arn",
];

/** Every `data.terraform_remote_state.<name>.outputs.<output>` a stack reads. */
function remoteReads(tf: StackJson): { state: string; output: string }[] {
  const text = JSON.stringify(tf.resource ?? {}) + JSON.stringify(tf.output ?? {}) + JSON.stringify(tf.locals ?? {});
  return [...text.matchAll(/data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g)].map((m) => ({ state: m[1]!, output: m[2]! }));
}

/**
 * Reads of an output that the stack writing that state does not declare, in a whole environment:
 * `<reader> reads <output> of <upstream>`. The wiring check every environment must pass.
 */
function undeclaredReads(byStack: Record<string, StackJson>): string[] {
  const writerOf = new Map(Object.entries(byStack).map(([name, tf]) => [`${tf.terraform.backend.s3.bucket}/${tf.terraform.backend.s3.key}`, name]));
  const out: string[] = [];
  for (const [name, tf] of Object.entries(byStack)) {
    for (const { state, output } of remoteReads(tf)) {
      const config = tf.data?.terraform_remote_state?.[state]?.config;
      const upstream = config && writerOf.get(`${config.bucket}/${config.key}`);
      if (!upstream) out.push(`${name} reads ${output} of a state no stack writes (${state})`);
      else if (!(output in (byStack[upstream]!.output ?? {}))) out.push(`${name} reads ${output} of ${upstream}, which does not declare it`);
    }
  }
  return out;
}

describe.each(ENVIRONMENTS)("%s: the network phase publishes named handles", (env) => {
  const { json, byStack } = synthEnv(config(env));

  it("declares exactly the documented outputs, with stable names, not sensitive", () => {
    const outputs = json.network!.output;
    // The DR key exists only where there is a DR region (the tests' prod).
    const expected = NETWORK_OUTPUTS.filter((o) => o !== "dr_kms_key_arn" || env === "prod");
    expect(Object.keys(outputs).sort()).toEqual([...expected].sort());
    for (const name of expected) expect(outputs[name].sensitive).toBe(false);
    expect(outputs.security_group_ids.value).toEqual({
      alb: "${aws_security_group.security-groups_alb.id}",
      services: "${aws_security_group.security-groups_services.id}",
      database: "${aws_security_group.security-groups_database.id}",
      cache: "${aws_security_group.security-groups_cache.id}",
      endpoints: "${aws_security_group.security-groups_endpoints.id}",
    });
    const zones = config(env).settings.availabilityZones;
    expect(outputs.database_subnet_ids.value).toEqual(zones.map((az) => `\${aws_subnet.vpc_subnet_database_${az}.id}`));
    expect(outputs.vpc_cidr.value).toBe("${aws_vpc.vpc_vpc.cidr_block}");
  });

  it("carries none of cdktf's generated cross-stack outputs or reads, in any stack", () => {
    for (const tf of Object.values(byStack)) {
      expect(Object.keys(tf.output ?? {}).filter((o) => o.startsWith("cross-stack-output-"))).toEqual([]);
      expect(Object.keys(tf.data?.terraform_remote_state ?? {}).filter((d) => d.startsWith("cross-stack-reference-input-"))).toEqual([]);
    }
  });

  it("every remote-state read of the environment names an output its upstream declares", () => {
    expect(undeclaredReads(byStack)).toEqual([]);
  });
});

describe("a later phase reads the network only through its handles", () => {
  const prod = synthEnv(config("prod"), withProbe);
  const db = prod.json.database!;

  it("reads the network's state with an explicit S3 remote state: the environment's bucket, the phase's key, the region", () => {
    expect(db.data.terraform_remote_state).toEqual({
      network: {
        backend: "s3",
        config: { bucket: "accessweaver-terraform-state-prod-111122223333", key: "prod/network/terraform.tfstate", region: "eu-west-1" },
      },
    });
  });

  it("uses the named outputs as a reviewer would write them by hand", () => {
    expect(db.resource.aws_db_subnet_group.subnets.subnet_ids).toBe("${data.terraform_remote_state.network.outputs.database_subnet_ids}");
    expect(db.resource.aws_vpc_security_group_ingress_rule.probe).toEqual(
      expect.objectContaining({
        security_group_id: "${data.terraform_remote_state.network.outputs.security_group_ids.database}",
        referenced_security_group_id: "${data.terraform_remote_state.network.outputs.security_group_ids.services}",
      }),
    );
    expect(db.resource.aws_cloudwatch_log_group["logs_log-group"].kms_key_id).toBe("${data.terraform_remote_state.network.outputs.kms_key_arn}");
    // Nothing of the network stack's own resources leaks into the database stack.
    expect(JSON.stringify(db)).not.toMatch(/\$\{aws_(subnet|security_group|kms_key)\./);
  });

  it("reads only outputs the network declares, and records the order for cdktf deploy and the Makefile", () => {
    const reads = remoteReads(db);
    expect(new Set(reads.map((r) => r.output))).toEqual(new Set(["database_subnet_ids", "security_group_ids", "kms_key_arn"]));
    for (const { output } of reads) expect(Object.keys(prod.json.network!.output)).toContain(output);
    expect(undeclaredReads(prod.byStack)).toEqual([]);
    expect(prod.manifest.stacks["accessweaver-prod-database"].dependencies).toEqual(["accessweaver-prod-network"]);
    expect(Object.keys(prod.json.network!.output).filter((o) => o.startsWith("cross-stack"))).toEqual([]);
  });

  it("the wiring check fails on a read of an output the upstream does not declare", () => {
    const tampered = JSON.parse(JSON.stringify(prod.byStack));
    tampered["accessweaver-prod-database"].resource.aws_db_subnet_group.subnets.subnet_ids = "${data.terraform_remote_state.network.outputs.nat_gateway_ids}";
    expect(undeclaredReads(tampered)).toEqual(["accessweaver-prod-database reads nat_gateway_ids of accessweaver-prod-network, which does not declare it"]);
  });

  it("reads the key alias only where the network publishes it (no alias with an existing key)", () => {
    const arn = "arn:aws:kms:eu-west-1:111122223333:key/0f0e0d0c-0b0a-0908-0706-050403020100";
    const existing = synthEnv(config("prod", { kms_key_arn: arn }), withProbe);
    expect(Object.keys(existing.json.network!.output)).not.toContain("kms_key_alias");
    expect(existing.json.network!.output.kms_key_arn.value).toBe(arn);
    expect(undeclaredReads(existing.byStack)).toEqual([]);
  });
});

describe("the seams refuse what would break the wiring", () => {
  const build = (phase: PhaseName, body: (stack: PhaseStack, built: BuiltPhases) => void): PhaseDefinition => ({
    phase,
    build: (scope, cfg, built) => {
      const stack = new (class extends PhaseStack {})(scope, phase, { config: cfg });
      body(stack, built);
      return stack;
    },
  });

  it("refuses a read of an output the upstream stack does not declare, at synth", () => {
    const dropOutput: PhaseDefinition = {
      phase: "network",
      build: (scope, cfg, built) => {
        const network = REGISTERED_PHASES[0]!.build(scope, cfg, built);
        network.node.tryRemoveChild(NETWORK_HANDLES.databaseSubnetIds.output);
        return network;
      },
    };
    expect(() => buildEnv(config("dev"), [dropOutput, build("cache", (s, built) => readHandles(s, built, "network"))])).toThrow(
      "accessweaver-dev-cache reads output database_subnet_ids of accessweaver-dev-network, which that stack does not declare: publish it there with publishHandles.",
    );
  });

  it("refuses to read a phase that is not earlier, or not built", () => {
    expect(() => buildEnv(config("dev"), [build("network", (s, built) => readHandles(s, built, "network"))])).toThrow(
      "accessweaver-dev-network reads phase network, which is not earlier than network: phases read only earlier phases.",
    );
    expect(() => buildEnv(config("dev"), [build("cache", (s, built) => readHandles(s, built, "network"))])).toThrow(
      "accessweaver-dev-cache reads phase network, which is not built: build network first (src/stacks/registry.ts).",
    );
  });

  it("refuses to publish a handle that is missing, or one the environment does not publish", () => {
    const values = (alias: string | undefined) => ({
      vpcId: "v",
      vpcCidr: "c",
      publicSubnetIds: [],
      privateSubnetIds: [],
      databaseSubnetIds: [],
      securityGroupIds: { alb: "a", services: "s", database: "d", cache: "c", endpoints: "e" },
      kmsKeyArn: "k",
      kmsKeyAlias: alias,
      drKmsKeyArn: undefined,
    });
    const arn = "arn:aws:kms:eu-west-1:111122223333:key/0f0e0d0c-0b0a-0908-0706-050403020100";
    expect(() => buildEnv(config("dev"), [build("network", (s) => publishHandles(s, "network", values(undefined)))])).toThrow(
      "accessweaver-dev-network: handle kmsKeyAlias (output kms_key_alias) is missing, but this environment publishes it.",
    );
    expect(() => buildEnv(config("dev", { kms_key_arn: arn }), [build("network", (s) => publishHandles(s, "network", values("alias/x")))])).toThrow(
      "accessweaver-dev-network: handle kmsKeyAlias (output kms_key_alias) is set, but it is published only when its condition holds.",
    );
  });
});

describe("a reference to another phase's resource instead of its handles", () => {
  /** A database phase that takes the VPC id straight from the network stack's construct. */
  class ShortcutDatabaseStack extends PhaseStack {
    constructor(scope: Construct, cfg: EnvironmentConfig, built: BuiltPhases) {
      super(scope, "database", { config: cfg });
      const network = built.network as unknown as { vpc: { vpc: { id: string } }; securityGroups: { groups: { services: { id: string } } } };
      new VpcSecurityGroupIngressRule(this, "shortcut", {
        securityGroupId: network.securityGroups.groups.services.id,
        cidrIpv4: "10.30.0.0/16",
        ipProtocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
      });
    }
  }

  it("stops the synth at cdktf's generated output, naming the stack, the output and the value, and pointing at the handles", () => {
    const { app } = buildEnv(config("dev"), [REGISTERED_PHASES[0]!, { phase: "database", build: (s, c, b) => new ShortcutDatabaseStack(s, c, b) }]);
    expect(() => app.synth()).toThrow(
      "accessweaver-dev-network holds cdktf's generated cross-stack wiring: output \"cross-stack-output-aws_security_group_security-groups_services_id\" (of \"${aws_security_group.security-groups_services.id}\"). A construct of one phase's stack is used in another phase's stack; a value of another phase is read through that phase's handles (readHandles in src/stacks/handles.ts), never by reference.",
    );
  });

  it("refuses the reading stack's generated remote state as well", () => {
    const { app, stacks } = buildEnv(config("dev"), [REGISTERED_PHASES[0]!, { phase: "database", build: (s, c, b) => new ShortcutDatabaseStack(s, c, b) }]);
    expect(() => app.synth()).toThrow(/^accessweaver-dev-network holds/);
    // cdktf prepared every stack before rendering the first: the database stack now reads the network's state.
    expect(() => stacks[1]!.toTerraform()).toThrow(
      "accessweaver-dev-database holds cdktf's generated cross-stack wiring: data.terraform_remote_state.cross-stack-reference-input-accessweaver-dev-network.",
    );
  });

  it("generatedCrossStackWiring: finds cdktf's generated outputs and remote states, not the named handles", () => {
    const json = {
      output: { vpc_id: { value: "${aws_vpc.vpc_vpc.id}" }, "cross-stack-output-aws_vpc_vpc_id": { value: "${aws_vpc.vpc_vpc.id}", sensitive: true } },
      data: { terraform_remote_state: { network: {}, "cross-stack-reference-input-accessweaver-dev-network": {} } },
    };
    expect(generatedCrossStackWiring(json)).toEqual([
      'output "cross-stack-output-aws_vpc_vpc_id" (of "${aws_vpc.vpc_vpc.id}")',
      "data.terraform_remote_state.cross-stack-reference-input-accessweaver-dev-network",
    ]);
    expect(generatedCrossStackWiring({ output: { vpc_id: {} }, data: { terraform_remote_state: { network: {} } } })).toEqual([]);
  });
});
