// scripts/tf-check with real Terraform: the real stacks of every environment validate, prod rehearses, and
// deliberately broken stacks fail with Terraform's message naming them. Needs Terraform (TF, default
// `terraform`) and, offline, the provider mirror; skipped with the reason shown when Terraform is absent.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { synthFixtures } from "./fixtures/tf-check/apps";
import { buildCheckRoot } from "../scripts/tf-check/generate";
import { readSynthOutput } from "../scripts/tf-check/stacks";
import { planMismatches } from "../scripts/tf-check/summary";
import { readMirror } from "../scripts/tf-check/mirror";

const ROOT = path.resolve(__dirname, "..");
const TF = process.env.TF || "terraform";
const present = spawnSync(TF, ["version"], { stdio: "ignore" }).status === 0;
if (!present) console.warn(`tf-check Terraform tests SKIPPED: Terraform binary "${TF}" not found (set TF).`);
const describeTf = present ? describe : describe.skip;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command asynchronously, so that independent Terraform checks overlap. */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-r", path.join(ROOT, "scripts/register.js"), ...args], {
      cwd: ROOT,
      env: { ...process.env, CHECKPOINT_DISABLE: "1", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
const tfCheck = (outdir: string, ...args: string[]) => run([path.join(ROOT, "scripts/tf-check.ts"), ...args], { CDKTF_OUTDIR: outdir });
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));
const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

describeTf(present ? `tf-check with ${TF}` : `tf-check with ${TF}: SKIPPED, binary not found`, () => {
  let tmp: string;
  let fixtures: string;
  // Started once in beforeAll and awaited by the tests. The real stacks of every environment are
  // checked by `make validate` and `make rehearse`, which `make test` runs right after the unit tests
  // (and which now fail when a rehearsal does not create exactly the synthesized resources); here the
  // harness itself is tested, on small stacks built to be wired or broken.
  let fixtureRuns: Record<"broken" | "wired", Promise<Run>>;

  // A generous limit: on a loaded 2-core machine the first init takes a while.
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tf-check-"));
    fixtures = path.join(tmp, "fixtures");
    synthFixtures(fixtures);
    fixtureRuns = {
      broken: tfCheck(fixtures, "validate", "broken"),
      wired: tfCheck(fixtures, "rehearse", "wired"),
    };
    // Nothing rejects: failures are asserted by the tests.
    await Promise.all(Object.values(fixtureRuns));
  }, 400_000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("rehearses a first apply, writing the plan, its JSON and text, and a summary per phase", async () => {
    const rehearse = await fixtureRuns.wired;
    if (rehearse.code !== 0) throw new Error(show(rehearse));
    expect(rehearse.stdout).toContain("a rehearsal of a first apply into an empty account, not a plan of real infrastructure");
    const dir = path.join(fixtures, "rehearsal", "wired");
    expect(fs.readdirSync(dir).sort()).toEqual(["plan.json", "plan.tfplan", "plan.txt", "summary.md"]);
    const summary = fs.readFileSync(path.join(dir, "summary.md"), "utf8");
    expect(summary).toContain("# Rehearsal of a first apply: wired");
    expect(summary).toContain("## network (accessweaver-wired-network): 1 to create");
    expect(summary).toContain("## database (accessweaver-wired-database): 3 to create");
    // The terminal gets the totals and where the tables are, not the tables themselves.
    expect(rehearse.stdout).toMatch(
      /tf-check: rehearse wired: a first apply would create 4 resources \(network 1, database 3\); by type: \S*rehearsal\/wired\/summary\.md; the plan: \S*rehearsal\/wired\/plan\.txt/,
    );
    expect(rehearse.stdout).not.toContain("## network");
    expect(fs.readFileSync(path.join(dir, "plan.txt"), "utf8")).toContain("module.network.aws_vpc.vpc will be created");
  });

  it("checks that the rehearsal creates exactly each phase's resources, and says what differs", async () => {
    await fixtureRuns.wired;
    const plan = readJson(path.join(fixtures, "rehearsal", "wired", "plan.json"));
    const stacks = readSynthOutput(fixtures).environments.get("wired")!;
    // The mirror the harness used (its stand-ins, e.g. random_password, are not planned).
    const root = buildCheckRoot("wired", stacks, path.join(fixtures, "check"), readMirror(process.env.TF_PLUGIN_DIR || "/opt/tf-plugins"));
    expect(planMismatches(root, plan)).toEqual([]);
    // Terraform's own plan, doctored: one resource missing, one updated instead of created.
    const doctored = JSON.parse(JSON.stringify(plan));
    doctored.resource_changes = doctored.resource_changes.filter((r: any) => r.address !== "module.network.aws_vpc.vpc");
    doctored.resource_changes.find((r: any) => r.address === "module.database.aws_subnet.subnet").change.actions = ["update"];
    expect(planMismatches(root, doctored)).toEqual([
      "network: aws_vpc.vpc is in accessweaver-wired-network but not in the plan",
      "database: module.database.aws_subnet.subnet would update, not create, from an empty state",
    ]);
  });

  it("wires phases as on a first apply: upstream outputs are module inputs, known after apply; random is a stand-in", async () => {
    const wired = await fixtureRuns.wired;
    if (wired.code !== 0) throw new Error(show(wired));
    expect(wired.stdout).toContain("wired/database: random_password.password stands in as sensitive input(s) var.standin__random_password__password__result");
    const plan = readJson(path.join(fixtures, "rehearsal", "wired", "plan.json"));
    const subnet = plan.resource_changes.find((r: any) => r.address === "module.database.aws_subnet.subnet");
    expect(subnet.change.after_unknown.vpc_id).toBe(true);
    // Both tags come from the network phase, so the whole map is known only after its apply.
    expect(subnet.change.after_unknown.tags).toBe(true);
    const call = plan.configuration.root_module.module_calls.database.expressions;
    expect(
      Object.keys(call)
        .filter((k) => k.startsWith("network__"))
        .sort(),
    ).toEqual(["network__cross-stack-output-aws_vpcvpcarn", "network__security_group_ids", "network__vpc_id"]);
    expect(plan.resource_changes.map((r: any) => r.address).sort()).toEqual([
      "module.database.aws_secretsmanager_secret.secret",
      "module.database.aws_secretsmanager_secret_version.secret-version",
      "module.database.aws_subnet.subnet",
      "module.network.aws_vpc.vpc",
    ]);
    const secret = plan.configuration.root_module.module_calls.database.module.resources.find((r: any) => r.address === "aws_secretsmanager_secret.secret");
    expect(secret.provider_config_key).toBe("aws.database__us_east_1");
    expect(plan.configuration.provider_config["aws.database__us_east_1"].expressions.region.constant_value).toBe("us-east-1");
    expect(fs.readFileSync(path.join(fixtures, "rehearsal", "wired", "summary.md"), "utf8")).toContain(
      "`random_password.password` (registry.terraform.io/hashicorp/random)",
    );
  });

  // The three faults live in three phases of one environment: one Terraform run reports each, named
  // by its own phase and resource (and the environment fails).
  it("fails validate on an unknown attribute added through an override, with Terraform's message naming the stack and resource", async () => {
    const r = await fixtureRuns.broken;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No argument or block type is named "enable_dns_magic"');
    expect(r.stderr).toMatch(/on accessweaver-broken-override\/cdk.tf.json line \d+, in resource.aws_vpc.vpc/);
    expect(r.stderr).toMatch(/tf-check: validate broken: FAILED in phases .*override \(accessweaver-broken-override\)/);
    expect(r.stderr).toContain("tf-check: validate: FAILED for 1 of 1 environment(s).");
  });

  it("fails validate on a value the provider rejects (a /33 CIDR), naming the module and resource", async () => {
    const r = await fixtureRuns.broken;
    expect(r.stderr).toContain("invalid CIDR address: 10.0.0.0/33");
    expect(r.stderr).toContain("with module.cidr.aws_vpc.vpc,\n  |   on accessweaver-broken-cidr/cdk.tf.json line");
    expect(r.stderr).toMatch(/FAILED in phases .*cidr \(accessweaver-broken-cidr\)/);
  });

  it("fails validate when a downstream stack reads an upstream output that does not exist, naming the phase, resource and output", async () => {
    const r = await fixtureRuns.broken;
    expect(r.stderr).toContain('This object does not have an attribute named\n  | "cross-stack-output-aws_vpcvpcid"');
    expect(r.stderr).toContain("in module.database:");
    expect(r.stderr).toContain(
      'broken/database (accessweaver-broken-database): aws_subnet.subnet (vpc_id) read(s) output "cross-stack-output-aws_vpcvpcid" of accessweaver-broken-network',
    );
    expect(r.stderr).toMatch(/FAILED in phases .*database \(accessweaver-broken-database\)/);
    // The network phase itself is fine and is not blamed.
    expect(r.stderr).not.toMatch(/FAILED in phases .*network \(accessweaver-broken-network\)/);
  });
});
