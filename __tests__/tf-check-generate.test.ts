// The check-root generator of scripts/tf-check on small hand-written stacks: no Terraform needed.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CheckRoot, EPHEMERAL_REASON, GenerateError, STANDIN_AWS, buildCheckRoot } from "../scripts/tf-check/generate";
import { JsonObject } from "../scripts/tf-check/json";
import { Mirror } from "../scripts/tf-check/mirror";
import { phasesNamedIn } from "../scripts/tf-check/run";
import { SynthStack, dependencyOrder, readSynthOutput } from "../scripts/tf-check/stacks";

const ROOT = path.resolve(__dirname, "..");
const MIRROR: Mirror = { dir: "/opt/tf-plugins", providers: new Set(["registry.terraform.io/hashicorp/aws"]) };
const REF = "data.terraform_remote_state.cross-stack-reference-input-accessweaver-prod-network.outputs";

const provider = (phase: string) => ({
  aws: [{ region: "eu-west-1", allowed_account_ids: ["123456789012"], default_tags: [{ tags: { Environment: "prod", Phase: phase } }] }],
});
const terraform = (phase: string, extra: JsonObject = {}) => ({
  backend: { s3: { bucket: "state-prod", key: `prod/${phase}/terraform.tfstate`, region: "eu-west-1", dynamodb_table: "locks" } },
  required_providers: { aws: { source: "aws", version: "5.100.0" }, ...extra },
});

/** cdktf's shape of a network stack exporting its VPC, and a database stack reading it. */
function network(): JsonObject {
  return {
    terraform: terraform("network"),
    provider: provider("network"),
    resource: { aws_vpc: { vpc: { cidr_block: "10.0.0.0/16" } } },
    output: {
      "cross-stack-output-aws_vpcvpcid": { sensitive: true, value: "${aws_vpc.vpc.id}" },
      "cross-stack-output-aws_vpcvpccidr_block": { sensitive: true, value: "${aws_vpc.vpc.cidr_block}" },
    },
  };
}
function database(): JsonObject {
  return {
    terraform: terraform("database", { random: { source: "hashicorp/random", version: "3.7.2" } }),
    provider: { ...provider("database"), random: [{}] },
    data: {
      terraform_remote_state: {
        "cross-stack-reference-input-accessweaver-prod-network": {
          backend: "s3",
          config: { bucket: "state-prod", key: "prod/network/terraform.tfstate", region: "eu-west-1" },
          workspace: "${terraform.workspace}",
        },
      },
    },
    resource: {
      random_password: { "db-password": { length: 32, special: false } },
      random_integer: { port: { min: 5400, max: 5499 } },
      aws_subnet: {
        db: {
          vpc_id: `\${${REF}.cross-stack-output-aws_vpcvpcid}`,
          cidr_block: `\${cidrsubnet(${REF}.cross-stack-output-aws_vpcvpccidr_block, 8, 1)}`,
          depends_on: ["data.terraform_remote_state.cross-stack-reference-input-accessweaver-prod-network", "random_password.db-password"],
        },
      },
      aws_secretsmanager_secret_version: {
        db: { secret_id: "x", secret_string: "${jsonencode({password = random_password.db-password.result, port = random_integer.port.result})}" },
      },
    },
  };
}

const stack = (phase: string, config: JsonObject, dependencies: string[] = []): SynthStack => ({
  name: `accessweaver-prod-${phase}`,
  env: "prod",
  phase,
  dir: `/synth/stacks/accessweaver-prod-${phase}`,
  config,
  dependencies,
});
// null: no mirror (undefined would take the default).
const build = (stacks: SynthStack[], mirror: Mirror | null = MIRROR): CheckRoot => buildCheckRoot("prod", stacks, "/synth/check", mirror ?? undefined);
const file = (root: CheckRoot, rel: string) => root.files.get(rel) as any;

describe("tf-check generator: one check root per environment", () => {
  const net = stack("network", network());
  const db = stack("database", database(), [net.name]);
  const root = build([net, db]);
  const main = file(root, "main.tf.json");
  const netCopy = file(root, "accessweaver-prod-network/cdk.tf.json");
  const dbCopy = file(root, "accessweaver-prod-database/cdk.tf.json");

  it("includes each phase stack as a child module named after the phase, its copy in a folder named after the stack", () => {
    expect(root.dir).toBe("/synth/check/prod");
    expect(Object.keys(main.module)).toEqual(["network", "database"]);
    expect(main.module.network.source).toBe("./accessweaver-prod-network");
    expect(root.phases.map((p) => [p.phase, p.stack, p.module])).toEqual([
      ["network", "accessweaver-prod-network", "network"],
      ["database", "accessweaver-prod-database", "database"],
    ]);
  });

  it("removes the backend from each copy and leaves the synthesized stack untouched", () => {
    expect(netCopy.terraform.backend).toBeUndefined();
    expect(dbCopy.terraform.backend).toBeUndefined();
    expect(main.terraform.backend).toBeUndefined();
    expect(net.config).toEqual(network());
    expect(db.config).toEqual(database());
  });

  it("puts stand-in credentials only in the check root's per-phase providers, keeping region and default tags", () => {
    expect(netCopy.provider).toBeUndefined();
    expect(dbCopy.provider).toBeUndefined();
    expect(JSON.stringify([netCopy, dbCopy])).not.toContain(STANDIN_AWS.access_key);
    const [netProvider, dbProvider] = main.provider.aws;
    expect(netProvider).toEqual({
      alias: "network",
      region: "eu-west-1",
      default_tags: [{ tags: { Environment: "prod", Phase: "network" } }],
      ...STANDIN_AWS,
    });
    expect(netProvider.allowed_account_ids).toBeUndefined();
    expect(dbProvider.alias).toBe("database");
    expect(dbProvider.default_tags[0].tags.Phase).toBe("database");
    expect(main.module.network.providers).toEqual({ aws: "aws.network" });
    expect(main.module.database.providers).toEqual({ aws: "aws.database" });
    // The synthesized stacks keep their account lock and get no credentials.
    expect(JSON.stringify([net.config, db.config])).not.toContain(STANDIN_AWS.access_key);
    expect((db.config.provider as any).aws[0].allowed_account_ids).toEqual(["123456789012"]);
  });

  it("rewires each cross-stack remote state output that a stack reads into a module input fed by the upstream module", () => {
    expect(dbCopy.data).toBeUndefined();
    expect(dbCopy.resource.aws_subnet.db.vpc_id).toBe("${var.network__cross-stack-output-aws_vpcvpcid}");
    expect(dbCopy.resource.aws_subnet.db.cidr_block).toBe("${cidrsubnet(var.network__cross-stack-output-aws_vpcvpccidr_block, 8, 1)}");
    expect(dbCopy.variable["network__cross-stack-output-aws_vpcvpcid"]).toEqual(expect.objectContaining({ type: "any" }));
    expect(main.module.database["network__cross-stack-output-aws_vpcvpcid"]).toBe("${nonsensitive(module.network.cross-stack-output-aws_vpcvpcid)}");
    expect(main.module.database["network__cross-stack-output-aws_vpcvpccidr_block"]).toBe(
      "${nonsensitive(module.network.cross-stack-output-aws_vpcvpccidr_block)}",
    );
    expect(netCopy.output).toEqual(network().output);
    expect(root.wires).toEqual([
      expect.objectContaining({
        phase: "database",
        upstream: "accessweaver-prod-network",
        output: "cross-stack-output-aws_vpcvpcid",
        readBy: ["aws_subnet.db (vpc_id)"],
      }),
      expect.objectContaining({ phase: "database", output: "cross-stack-output-aws_vpcvpccidr_block" }),
    ]);
    expect(root.problems).toEqual([]);
    expect(JSON.stringify(dbCopy)).not.toContain("terraform_remote_state");
  });

  it("replaces the resources of a provider the mirror lacks by sensitive string inputs with stand-in values, and says so", () => {
    expect(dbCopy.resource.random_password).toBeUndefined();
    expect(dbCopy.resource.random_integer).toBeUndefined();
    expect(dbCopy.terraform.required_providers.random).toBeUndefined();
    expect(main.provider.random).toBeUndefined();
    expect(dbCopy.resource.aws_subnet.db.depends_on).toEqual([]);
    expect(dbCopy.resource.aws_secretsmanager_secret_version.db.secret_string).toBe(
      "${jsonencode({password = var.standin__random_password__db-password__result, port = var.standin__random_integer__port__result})}",
    );
    expect(dbCopy.variable["standin__random_password__db-password__result"]).toEqual(expect.objectContaining({ type: "string", sensitive: true }));
    expect(main.module.database["standin__random_password__db-password__result"]).toMatch(/^[0-9a-f]{32}$/);
    expect(main.module.database["standin__random_integer__port__result"]).toBe("5400");
    expect(root.standIns).toEqual([
      {
        phase: "database",
        address: "random_password.db-password",
        provider: "registry.terraform.io/hashicorp/random",
        inputs: [expect.objectContaining({ variable: "standin__random_password__db-password__result", attribute: "result" })],
      },
      {
        phase: "database",
        address: "random_integer.port",
        provider: "registry.terraform.io/hashicorp/random",
        inputs: [expect.objectContaining({ attribute: "result", value: "5400" })],
      },
    ]);
    // Stand-ins are not counted as resources of the phase.
    expect(root.phases[1]!.resources).toEqual(["aws_subnet.db", "aws_secretsmanager_secret_version.db"]);
  });

  it("replaces an ephemeral resource (read from AWS at plan time) by an ephemeral, sensitive input, with or without a mirror", () => {
    const withSecret = database();
    withSecret.ephemeral = { aws_secretsmanager_random_password: { jwt: { password_length: 64 } } };
    (withSecret.resource as any).aws_secretsmanager_secret_version.jwt = {
      secret_id: "y",
      secret_string_wo: "${jsonencode({secret = ephemeral.aws_secretsmanager_random_password.jwt.random_password})}",
      secret_string_wo_version: 1,
    };
    for (const mirror of [MIRROR, null]) {
      const r = build([net, stack("database", withSecret, [net.name])], mirror);
      const copy = file(r, "accessweaver-prod-database/cdk.tf.json");
      const variable = "standin__ephemeral__aws_secretsmanager_random_password__jwt__random_password";
      expect(copy.ephemeral).toBeUndefined();
      expect(copy.resource.aws_secretsmanager_secret_version.jwt.secret_string_wo).toBe(`\${jsonencode({secret = var.${variable}})}`);
      expect(copy.variable[variable]).toEqual(expect.objectContaining({ type: "string", sensitive: true, ephemeral: true }));
      expect(file(r, "main.tf.json").module.database[variable]).toMatch(/^[0-9a-f]{32}$/);
      expect(r.standIns.find((x) => x.address === "ephemeral.aws_secretsmanager_random_password.jwt")).toEqual(
        expect.objectContaining({ phase: "database", reason: EPHEMERAL_REASON }),
      );
    }
  });

  it("keeps every provider when there is no mirror (the registry has them all)", () => {
    const registry = build([stack("network", network()), stack("database", database())], null);
    const copy = file(registry, "accessweaver-prod-database/cdk.tf.json");
    expect(registry.standIns).toEqual([]);
    expect(copy.resource.random_password["db-password"]).toBeDefined();
    expect(copy.terraform.required_providers.random.source).toBe("registry.terraform.io/hashicorp/random");
    expect(file(registry, "main.tf.json").module.database.providers).toEqual({ aws: "aws.database", random: "random.database" });
  });

  it("passes aliased providers as configuration aliases of the phase", () => {
    const config = network();
    (config.provider as any).aws.push({ alias: "us_east_1", region: "us-east-1", allowed_account_ids: ["123456789012"] });
    const aliased = build([stack("network", config)]);
    const copy = file(aliased, "accessweaver-prod-network/cdk.tf.json");
    expect(copy.terraform.required_providers.aws.configuration_aliases).toEqual(["aws.us_east_1"]);
    expect(file(aliased, "main.tf.json").module.network.providers).toEqual({ aws: "aws.network", "aws.us_east_1": "aws.network__us_east_1" });
    expect(file(aliased, "main.tf.json").provider.aws[1]).toEqual({ alias: "network__us_east_1", region: "us-east-1", ...STANDIN_AWS });
  });

  it("reports a downstream reading an output its upstream does not declare, naming the phase and the resource", () => {
    const upstream = network();
    delete (upstream.output as any)["cross-stack-output-aws_vpcvpcid"];
    const broken = build([stack("network", upstream), stack("database", database())]);
    expect(broken.problems).toEqual([
      'prod/database (accessweaver-prod-database): aws_subnet.db (vpc_id) read(s) output "cross-stack-output-aws_vpcvpcid" of accessweaver-prod-network, which that stack does not declare.',
    ]);
    expect(phasesNamedIn(broken, broken.problems.join("\n")).map((p) => p.phase)).toEqual(["database"]);
  });

  it("refuses a stack reading the outputs of a stack that was not synthesized", () => {
    expect(() => build([stack("database", database())])).toThrow(GenerateError);
    expect(() => build([stack("database", database())])).toThrow(
      /prod\/database.*accessweaver-prod-network, which is not a synthesized stack of environment prod/,
    );
  });

  /** The project's shape: a network publishing named outputs, a database reading them by state key. */
  const explicit = () => {
    const up = network();
    up.output = { vpc_id: { value: "${aws_vpc.vpc.id}" }, security_group_ids: { value: { database: "${aws_vpc.vpc.default_security_group_id}" } } };
    const REF2 = "data.terraform_remote_state.network.outputs";
    const down: JsonObject = {
      terraform: terraform("database"),
      provider: provider("database"),
      data: {
        terraform_remote_state: { network: { backend: "s3", config: { bucket: "state-prod", key: "prod/network/terraform.tfstate", region: "eu-west-1" } } },
      },
      resource: { aws_subnet: { db: { vpc_id: `\${${REF2}.vpc_id}`, cidr_block: "10.0.1.0/24", tags: { Group: `\${${REF2}.security_group_ids.database}` } } } },
    };
    return { up, down };
  };

  it("rewires the project's explicit remote state reads, matched to the phase whose backend writes that state key", () => {
    const { up, down } = explicit();
    const wiredRoot = build([stack("network", up), stack("database", down, [])]);
    const copy = file(wiredRoot, "accessweaver-prod-database/cdk.tf.json");
    expect(copy.data).toBeUndefined();
    expect(copy.resource.aws_subnet.db.vpc_id).toBe("${var.network__vpc_id}");
    expect(copy.resource.aws_subnet.db.tags.Group).toBe("${var.network__security_group_ids.database}");
    const call = file(wiredRoot, "main.tf.json").module.database;
    expect(call.network__vpc_id).toBe("${nonsensitive(module.network.vpc_id)}");
    expect(call.network__security_group_ids).toBe("${nonsensitive(module.network.security_group_ids)}");
    expect(wiredRoot.wires.map((w) => [w.upstream, w.output])).toEqual([
      ["accessweaver-prod-network", "vpc_id"],
      ["accessweaver-prod-network", "security_group_ids"],
    ]);
    expect(wiredRoot.problems).toEqual([]);
    // The order comes from the state read even without a manifest dependency.
    expect(dependencyOrder([stack("database", down), stack("network", up)]).map((s) => s.phase)).toEqual(["network", "database"]);
  });

  it("reports an explicit read of an output the upstream phase does not declare", () => {
    const { up, down } = explicit();
    delete (up.output as any).vpc_id;
    const broken = build([stack("network", up), stack("database", down)]);
    expect(broken.problems).toEqual([
      'prod/database (accessweaver-prod-database): aws_subnet.db (vpc_id) read(s) output "vpc_id" of accessweaver-prod-network, which that stack does not declare.',
    ]);
  });

  it("refuses an explicit read of a state that no phase of the environment writes", () => {
    const { up, down } = explicit();
    (down.data as any).terraform_remote_state.network.config.key = "prod/edge/terraform.tfstate";
    expect(() => build([stack("network", up), stack("database", down)])).toThrow(
      /prod\/database \(accessweaver-prod-database\) reads data.terraform_remote_state.network \(.*prod\/edge\/terraform.tfstate.*\), a state that no synthesized stack of environment prod writes/,
    );
  });

  it("finds the phase that Terraform's message points at", () => {
    const message =
      "Error: Unsupported argument\n\n  with module.database.aws_subnet.db,\n  on accessweaver-prod-database/cdk.tf.json line 12\n  module.network is a object";
    expect(phasesNamedIn(root, message).map((p) => p.phase)).toEqual(["database"]);
  });
});

describe("tf-check: reading the synthesized output", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-check-gen-"));
    const stacks: Record<string, JsonObject> = {
      "accessweaver-prod-database": database(),
      "accessweaver-prod-network": network(),
      "accessweaver-dev-network": network(),
      other: network(),
    };
    const manifest: JsonObject = { stacks: {}, version: "0.21.0" };
    for (const [name, config] of Object.entries(stacks)) {
      fs.mkdirSync(path.join(dir, "stacks", name), { recursive: true });
      fs.writeFileSync(path.join(dir, "stacks", name, "cdk.tf.json"), JSON.stringify(config));
      (manifest.stacks as JsonObject)[name] = {
        name,
        synthesizedStackPath: `stacks/${name}/cdk.tf.json`,
        dependencies: name === "accessweaver-prod-database" ? ["accessweaver-prod-network"] : [],
      };
    }
    fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("groups stacks by environment from their names alone, upstream phases first", () => {
    const out = readSynthOutput(dir);
    expect([...out.environments.keys()]).toEqual(["prod", "dev"]);
    expect(out.environments.get("prod")!.map((s) => s.phase)).toEqual(["network", "database"]);
    expect(out.ignored).toEqual(["other"]);
  });

  const cli = (args: string[], extra: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, ["-r", path.join(ROOT, "scripts/register.js"), path.join(ROOT, "scripts/tf-check.ts"), ...args], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, CDKTF_OUTDIR: dir, ...extra },
    });

  it("exits 3 and says what was skipped when the Terraform binary is missing", () => {
    const result = cli(["validate"], { TF: "/nonexistent/terraform" });
    expect(result.status).toBe(3);
    expect(result.stderr).toContain('SKIPPED: Terraform binary "/nonexistent/terraform" not found');
    expect(result.stderr).toContain("SKIPPED: terraform validate of prod, dev");
    const rehearse = cli(["rehearse", "prod"], { TF: "/nonexistent/terraform" });
    expect(rehearse.status).toBe(3);
    expect(rehearse.stderr).toContain("SKIPPED: the offline plan rehearsal of prod");
  });

  it("exits 2 on an unknown command or an environment that was not synthesized", () => {
    expect(cli(["plan"], {}).status).toBe(2);
    const result = cli(["validate", "staging"], { TF: "/nonexistent/terraform" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("no synthesized stacks for staging");
  });
});
