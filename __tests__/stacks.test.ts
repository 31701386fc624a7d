import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { App, TerraformDataSource, TerraformRemoteState, TerraformResource, TerraformStack, Testing } from "cdktf";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { ENVIRONMENTS, PHASES, REQUIRED_TAGS } from "../src/naming";
import { loadEnvironments } from "../src/config/load";
import { REGISTERED_PHASES, buildEnvironment } from "../src/stacks/registry";
import { synthesize } from "../src/synth";
import { buildEnv, childEnv, config, readJson, runApp, synthEnv, tempDir, ROOT } from "./support/config";

const env = childEnv;
/** Whether an environment's example settings set a DR region (prod has one by default): it then has a recovery phase. */
const exampleHasDr = (env: string) =>
  env === "prod" || /^dr_region\s*=/m.test(fs.readFileSync(path.join(ROOT, "environments", env, "terraform.tfvars.example"), "utf8"));
/** The stacks of one environment the app builds from its example settings, sorted. */
const stacksOf = (env: string) =>
  REGISTERED_PHASES.filter((p) => p.phase !== "recovery" || exampleHasDr(env))
    .map((p) => `accessweaver-${env}-${p.phase}`)
    .sort();
/** Every stack of the three environments, sorted as a folder listing. */
const ALL_STACKS = ENVIRONMENTS.flatMap(stacksOf).sort();

describe("phase stacks", () => {
  it.each(ENVIRONMENTS)("%s: every stack has its own state key in the environment's backend, and a provider locked to its account", (name) => {
    const cfg = config(name);
    const { stacks, json } = synthEnv(cfg);
    // The tests' settings give prod its default DR region, and staging and dev none.
    const phases = REGISTERED_PHASES.filter((p) => p.phase !== "recovery" || name === "prod");
    expect(stacks.map((s) => s.node.id)).toEqual(phases.map((p) => `accessweaver-${name}-${p.phase}`));
    for (const stack of stacks) {
      const tf = json[stack.phase];
      // The recovery phase's state is in the DR backend, so that it can be read when the primary region is down.
      const dr = stack.phase === "recovery";
      expect(tf.terraform.backend.s3).toEqual({
        bucket: dr ? `accessweaver-terraform-state-${name}-dr-111122223333` : `accessweaver-terraform-state-${name}-111122223333`,
        key: `${name}/${stack.phase}/terraform.tfstate`,
        region: dr ? "eu-central-1" : "eu-west-1",
        encrypt: true,
        dynamodb_table: `accessweaver-terraform-locks-${name}`,
      });
      expect(tf.terraform.required_providers.aws).toEqual({ source: "hashicorp/aws", version: "5.100.0" });
      expect(tf.terraform.required_version).toBe(">= 1.11, < 2.0");
      const [provider] = tf.provider.aws;
      expect(provider.region).toBe(dr ? "eu-central-1" : "eu-west-1");
      expect(provider.allowed_account_ids).toEqual(["111122223333"]);
      expect(provider.default_tags[0].tags).toEqual({
        Project: "AccessWeaver",
        Environment: name,
        Phase: stack.phase,
        ManagedBy: "cdktf",
        CostCenter: "CC-42",
        Owner: "platform@example.org",
      });
      expect(Object.keys(provider.default_tags[0].tags).sort()).toEqual([...REQUIRED_TAGS].sort());
    }
  });

  it("registers phases only among the design's phases, network first", () => {
    expect(REGISTERED_PHASES[0]!.phase).toBe("network");
    for (const p of REGISTERED_PHASES) expect(PHASES).toContain(p.phase);
  });

  it("calls no AWS API from a data source: only local policy documents and the earlier phases' remote state", () => {
    for (const name of ENVIRONMENTS) {
      for (const tf of Object.values(synthEnv(config(name)).json)) {
        // terraform_remote_state reads an earlier phase's state (the check harness wires it offline).
        expect(Object.keys(tf.data ?? {}).filter((t) => t !== "aws_iam_policy_document" && t !== "terraform_remote_state")).toEqual([]);
      }
    }
  });
});

describe("rendering", () => {
  it("make synth writes, for every stack of every environment, exactly cdktf's own rendering of that stack", async () => {
    const out = tempDir("aw-render-");
    const notice = () => undefined;
    // What make synth runs (the operator adds only its lock): the example settings unless a copy exists.
    const written = await synthesize({ outdir: out, envSelection: "", rootDir: ROOT, notice });
    expect([...written].sort()).toEqual(ALL_STACKS);
    // The same configurations on a plain cdktf App, rendered by cdktf's own TerraformStack.toTerraform.
    const app = new App({ outdir: tempDir("aw-render-") });
    const stacks = (await loadEnvironments(ENVIRONMENTS, { rootDir: ROOT, notice })).flatMap((c) => buildEnvironment(app, c));
    app.synth();
    expect(stacks.map((s) => s.node.id).sort()).toEqual(ALL_STACKS);
    for (const stack of stacks) {
      expect(readJson(path.join(out, "stacks", stack.node.id, "cdk.tf.json"))).toStrictEqual(TerraformStack.prototype.toTerraform.call(stack));
    }
    fs.rmSync(out, { recursive: true, force: true });
    fs.rmSync(app.outdir, { recursive: true, force: true });
  });
});

describe("addresses", () => {
  const all = ENVIRONMENTS.map((name) => synthEnv(config(name)).json);

  it("are readable: the construct path, with no hash suffix", () => {
    for (const stacks of all) {
      for (const tf of Object.values(stacks)) {
        for (const [type, byName] of Object.entries<Record<string, unknown>>({ ...tf.resource, ...tf.data })) {
          for (const name of Object.keys(byName)) {
            expect(`${type}.${name}`).not.toMatch(/_[0-9A-F]{8}$/);
            expect(name).toMatch(/^[A-Za-z_][A-Za-z0-9_-]*$/);
          }
        }
      }
    }
    expect(all[2]!.network.resource.aws_vpc.vpc_vpc).toBeDefined();
    expect(all[2]!.network.resource.aws_subnet["vpc_subnet_private_eu-west-1a"]).toBeDefined();
  });

  it("are unique: every resource and data source construct has its own address in the JSON", () => {
    for (const name of ENVIRONMENTS) {
      const { stacks, json } = synthEnv(config(name));
      for (const stack of stacks) {
        const elements = stack.node
          .findAll()
          .filter((c) => c instanceof TerraformResource || c instanceof TerraformDataSource || c instanceof TerraformRemoteState);
        const tf = json[stack.phase];
        const inJson = [...Object.values<object>(tf.resource ?? {}), ...Object.values<object>(tf.data ?? {})].reduce(
          (n, byName) => n + Object.keys(byName).length,
          0,
        );
        expect(inJson).toBe(elements.length);
      }
    }
  });

  it("refuses two constructs that would share one address, naming both", () => {
    const stack = buildEnv(config("dev")).stacks[0]!;
    new Subnet(stack, "vpc_subnet_public_eu-west-1a", { vpcId: "vpc-1", cidrBlock: "10.0.0.0/24" });
    expect(() => Testing.synth(stack)).toThrow(
      'Two constructs of accessweaver-dev-network map to the Terraform address id "vpc_subnet_public_eu-west-1a": accessweaver-dev-network/vpc/subnet_public_eu-west-1a and accessweaver-dev-network/vpc_subnet_public_eu-west-1a',
    );
  });

  it("are stable: prod's network addresses are the committed list (a rename replaces a resource)", () => {
    const tf = all[2]!.network;
    const addresses = Object.entries<object>({ ...tf.resource })
      .flatMap(([t, byName]) => Object.keys(byName).map((n) => `${t}.${n}`))
      .sort();
    const golden = fs.readFileSync(path.join(__dirname, "fixtures/prod-network-addresses.txt"), "utf8").trim().split("\n");
    expect(addresses).toEqual(golden);
  });
});

describe("synth (the app)", () => {
  it("ENV=prod synthesizes only prod's stacks, creating the output folder's missing parents", () => {
    const out = path.join(tempDir(), "not-yet", "cdktf.out");
    const r = runApp(out, "prod");
    expect(r.status).toBe(0);
    expect(fs.readdirSync(path.join(out, "stacks")).sort()).toEqual(stacksOf("prod"));
    expect(Object.keys(readJson(path.join(out, "manifest.json")).stacks).sort()).toEqual(stacksOf("prod"));
    expect(r.stderr).toMatch(/prod: no environments\/prod\/terraform.tfvars; using the example settings/);
  });

  /** One synth of every environment, shared by the tests that only read it. */
  let everyEnv: string | undefined;
  const synthesizedAll = () => {
    if (everyEnv) return everyEnv;
    const out = path.join(tempDir(), "cdktf.out");
    expect(runApp(out, "").status).toBe(0);
    return (everyEnv = out);
  };

  it("without ENV synthesizes all three environments", () => {
    expect(fs.readdirSync(path.join(synthesizedAll(), "stacks")).sort()).toEqual(ALL_STACKS);
  });

  it("refuses an unknown environment and writes nothing", () => {
    const out = path.join(tempDir(), "cdktf.out");
    const r = runApp(out, "qa");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Unknown environment "qa" \(ENV\)\. Valid environments: dev, staging, prod/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it("stops on a bad setting with the file, key, value and expectation, leaving earlier output as it was", () => {
    const root = tempDir();
    for (const name of ENVIRONMENTS) {
      fs.mkdirSync(path.join(root, "environments", name), { recursive: true });
      fs.copyFileSync(path.join(ROOT, "environments", name, "terraform.tfvars.example"), path.join(root, "environments", name, "terraform.tfvars.example"));
    }
    const out = path.join(root, "cdktf.out");
    // Earlier output: the same example settings, synthesized once for the file.
    fs.cpSync(synthesizedAll(), out, { recursive: true });
    const before = fs.readFileSync(path.join(out, "stacks/accessweaver-dev-network/cdk.tf.json"), "utf8");
    // prod is valid; staging's copy has a bad CIDR: nothing at all may be written.
    fs.writeFileSync(
      path.join(root, "environments/staging/terraform.tfvars"),
      fs.readFileSync(path.join(root, "environments/staging/terraform.tfvars.example"), "utf8").replace("10.20.0.0/16", "10.20.0.0/26"),
    );
    fs.rmSync(path.join(out, "stacks/accessweaver-prod-network"), { recursive: true });
    const r = runApp(out, "", root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('environments/staging/terraform.tfvars: vpc_cidr: found "10.20.0.0/26"; expected a prefix from /16 to /20');
    expect(r.stderr).toContain("Nothing was written to the output folder.");
    expect(fs.existsSync(path.join(out, "stacks/accessweaver-prod-network"))).toBe(false);
    expect(fs.readFileSync(path.join(out, "stacks/accessweaver-dev-network/cdk.tf.json"), "utf8")).toBe(before);
    expect(fs.readdirSync(root).filter((f) => f.includes("partial"))).toEqual([]);
  });

  it("keeps Terraform's working files, leaves other environments alone, and removes stacks that no longer exist", () => {
    const out = path.join(tempDir(), "cdktf.out");
    fs.cpSync(synthesizedAll(), out, { recursive: true });
    const prodDir = path.join(out, "stacks/accessweaver-prod-network");
    const devDir = path.join(out, "stacks/accessweaver-dev-network");
    for (const d of [prodDir, devDir]) {
      fs.mkdirSync(path.join(d, ".terraform"));
      fs.writeFileSync(path.join(d, ".terraform.lock.hcl"), "lock");
    }
    const removedPhase = path.join(out, "stacks/accessweaver-prod-edge");
    fs.mkdirSync(removedPhase);
    expect(runApp(out, "prod").status).toBe(0);
    for (const d of [prodDir, devDir]) {
      expect(fs.existsSync(path.join(d, ".terraform"))).toBe(true);
      expect(fs.readFileSync(path.join(d, ".terraform.lock.hcl"), "utf8")).toBe("lock");
    }
    expect(fs.existsSync(removedPhase)).toBe(false);
    expect(fs.readdirSync(path.join(out, "stacks")).sort()).toEqual(ALL_STACKS);
  });
});

describe("Makefile", () => {
  it("lists its targets, its variables and the phases built (from the registry) when run without a target", () => {
    const r = spawnSync("make", ["-s"], { cwd: ROOT, env: env({}), encoding: "utf8" });
    expect(r.status).toBe(0);
    for (const target of ["synth", "test", "validate", "rehearse", "init", "plan", "apply", "deploy", "output", "destroy", "release", "restart"]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${target} +\\S`, "m"));
    }
    expect(r.stdout).toMatch(/^ {2}release +Release TAG to ENV/m);
    expect(r.stdout).toMatch(/^ {2}restart +Replace the tasks of SERVICE/m);
    expect(r.stdout).toMatch(/^ {2}ENV +dev, staging or prod/m);
    expect(r.stdout).toMatch(/^ {2}TAG +release: the image tag/m);
    expect(r.stdout).toMatch(/^ {2}SERVICE +release: one service/m);
    const built = PHASES.filter((p) => REGISTERED_PHASES.some((d) => d.phase === p));
    expect(built.length).toBeGreaterThan(0);
    expect(r.stdout).toMatch(new RegExp(`^ +built so far: ${built.join(", ")}$`, "m"));
  });

  it("refuses an unknown ENV with the list of valid ones, before doing anything", () => {
    const r = spawnSync("make", ["synth", "ENV=production"], { cwd: ROOT, env: env({}), encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Unknown ENV "production"\. Valid environments: dev staging prod/);
  });

  it("make synth ENV=prod synthesizes only prod's stacks (through the operator)", () => {
    const out = path.join(tempDir(), "cdktf.out");
    const r = spawnSync("make", ["synth", "ENV=prod", `OUTDIR=${out}`], { cwd: ROOT, env: env({}), encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(fs.readdirSync(path.join(out, "stacks")).sort()).toEqual(stacksOf("prod"));
    expect(Object.keys(readJson(path.join(out, "manifest.json")).stacks).sort()).toEqual(stacksOf("prod"));
    expect(fs.existsSync(path.join(out, "stacks/accessweaver-prod-network/cdk.tf.json"))).toBe(true);
  });
});
