import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { countChanges } from "../scripts/operator";
import { Standins, makeStandins } from "./support/standins";
import { ROOT, tempDir } from "./support/config";

/** A settings folder whose terraform.tfvars copies hold real-looking (non-example) values. */
function settingsRoot(envs: string[] = ["dev", "staging", "prod"], edit: (text: string) => string = (t) => t): string {
  const root = tempDir("aw-settings-");
  for (const env of envs) {
    const example = fs.readFileSync(path.join(ROOT, "environments", env, "terraform.tfvars.example"), "utf8");
    const own = example
      .replace(/123456789012/g, "444455556666")
      .replace("Z0123456789EXAMPLE", "Z04455667788ABCDEF")
      .replace(/platform-team@example\.com/g, "platform-team@accessweaver.com")
      .replace("CC-EXAMPLE", "CC-1042");
    fs.mkdirSync(path.join(root, "environments", env), { recursive: true });
    fs.writeFileSync(path.join(root, "environments", env, "terraform.tfvars.example"), example);
    fs.writeFileSync(path.join(root, "environments", env, "terraform.tfvars"), edit(own));
  }
  return root;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  log: string[];
}

let s: Standins;
let out: string;
let root: string;
beforeEach(() => {
  s = makeStandins(["terraform", "cdktf", "aws"]);
  out = path.join(tempDir("aw-out-"), "cdktf.out");
  root = settingsRoot();
});
afterEach(() => s.cleanup());

/** `make <target> ...` in the project, with the stand-ins first on PATH. */
function make(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Run {
  s.clearLog();
  const r = spawnSync("make", ["-s", "-C", ROOT, ...args, `OUTDIR=${out}`], {
    env: { ...s.env, ACCESSWEAVER_SETTINGS_ROOT: root, ...options.env },
    input: options.input ?? "",
    encoding: "utf8",
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, log: s.log() };
}

/** The operator with three fake phases (manifest out of order), for ordering tests. */
function multi(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  s.clearLog();
  const r = spawnSync(process.execPath, ["-r", path.join(ROOT, "node_modules/sucrase/register"), path.join(ROOT, "__tests__/fixtures/multi-phase.ts"), ...args], {
    cwd: ROOT,
    env: { ...s.env, ACCESSWEAVER_SETTINGS_ROOT: root, CDKTF_OUTDIR: out, ...env },
    input: "",
    encoding: "utf8",
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, log: s.log() };
}

const dir = (env: string, phase: string) => `-chdir=${out}/stacks/accessweaver-${env}-${phase}`;
const planFile = (env: string, phase: string) => `${out}/plans/accessweaver-${env}-${phase}.tfplan`;
/** `make apply ENV=prod`: each phase's saved plan in order; a phase that later phases read has its outputs compared before and after. */
const applyAll = () =>
  ["network", "database", "cache"].flatMap((phase, i, all) => {
    const apply = `terraform ${dir("prod", phase)} apply -input=false ${planFile("prod", phase)}`;
    const outputs = `terraform ${dir("prod", phase)} output -json`;
    return i < all.length - 1 ? [outputs, apply, outputs] : [apply];
  });

describe("init", () => {
  it("synthesizes and runs terraform init in every phase stack of the environment", () => {
    const r = make(["init", "ENV=prod"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.log).toEqual(["network", "database", "cache"].map((phase) => `terraform ${dir("prod", phase)} init -input=false`));
    expect(fs.existsSync(`${out}/stacks/accessweaver-prod-network/cdk.tf.json`)).toBe(true);
  });

  it("passes INIT_FLAGS, and points at setup-backend.sh when init fails", () => {
    expect(make(["init", "ENV=dev", "INIT_FLAGS=-reconfigure -upgrade"]).log).toEqual(["network", "database", "cache"].map((phase) => `terraform ${dir("dev", phase)} init -input=false -reconfigure -upgrade`));
    const r = make(["init", "ENV=dev"], { env: { STANDIN_TERRAFORM_FAIL_ON: "init" } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("terraform init failed (exit 1). If the state bucket accessweaver-terraform-state-dev-<account id> or the lock table accessweaver-terraform-locks-dev does not exist yet, run scripts/setup-backend.sh dev <region> first");
  });

  it("inits in phase order, or only PHASE", () => {
    expect(multi(["init", "dev"]).log).toEqual(["network", "database", "cache"].map((p) => `terraform ${dir("dev", p)} init -input=false`));
    expect(multi(["init", "dev", "database"]).log).toEqual([`terraform ${dir("dev", "database")} init -input=false`]);
  });
});

describe("plan", () => {
  it("plans each phase in order, saves the plan and its text, and summarises", () => {
    const r = multi(["plan", "staging"]);
    expect(r.status).toBe(0);
    const expected = ["network", "database", "cache"].flatMap((p) => [
      `terraform ${dir("staging", p)} init -input=false`,
      `terraform ${dir("staging", p)} plan -input=false -out=${planFile("staging", p)}`,
      `terraform ${dir("staging", p)} show -no-color ${planFile("staging", p)}`,
      `terraform ${dir("staging", p)} show -json ${planFile("staging", p)}`,
    ]);
    expect(r.log).toEqual(expected);
    for (const p of ["network", "database", "cache"]) {
      expect(fs.readFileSync(`${planFile("staging", p)}.txt`, "utf8")).toMatch(/stand-in plan .* of accessweaver-staging-/);
    }
    expect(r.stdout).toMatch(/Plan summary for staging[^\n]*\n\s+network\s+1 to add,\s+0 to change,\s+0 to destroy[^\n]*\n\s+database\s+1 to add[^\n]*\n\s+cache\s+1 to add/);
    expect(r.stdout).not.toMatch(/WARNING/);
  });

  it("warns loudly when a plan destroys or replaces a stateful resource", () => {
    fs.mkdirSync(path.join(s.stateDir, "terraform/plans"), { recursive: true });
    const changes = [
      { address: "aws_kms_key.kms_key", type: "aws_kms_key", change: { actions: ["delete", "create"] } },
      { address: "aws_cloudwatch_log_group.x", type: "aws_cloudwatch_log_group", change: { actions: ["delete"] } },
      { address: "aws_route.r", type: "aws_route", change: { actions: ["delete"] } },
      { address: "aws_subnet.s", type: "aws_subnet", change: { actions: ["update"] } },
    ];
    fs.writeFileSync(path.join(s.stateDir, "terraform/plans/accessweaver-prod-network.json"), JSON.stringify({ resource_changes: changes }));
    const r = make(["plan", "ENV=prod"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/network\s+1 to add,\s+1 to change,\s+3 to destroy \(1 replaced\)/);
    expect(r.stdout).toContain("WARNING: these plans DESTROY OR REPLACE resources that hold data");
    expect(r.stdout).toContain("!! accessweaver-prod-network: aws_kms_key.kms_key (replaced)");
    expect(r.stdout).toContain("!! accessweaver-prod-network: aws_cloudwatch_log_group.x (destroyed)");
    expect(r.stdout).not.toContain("aws_route.r (");
  });

  it("stops at the first phase that fails to plan, saying why", () => {
    const r = multi(["plan", "dev"], { STANDIN_TERRAFORM_FAIL_ON: "plan" });
    expect(r.status).toBe(2);
    expect(r.log).toEqual([`terraform ${dir("dev", "network")} init -input=false`, `terraform ${dir("dev", "network")} plan -input=false -out=${planFile("dev", "network")}`]);
    expect(r.stderr).toMatch(/terraform plan failed \(exit 1\)\. Planning accessweaver-dev-network failed\./);
  });

  it("counts replacements as an add and a destroy", () => {
    expect(countChanges({ resource_changes: [{ address: "a.b", type: "aws_db_instance", change: { actions: ["create", "delete"] } }] })).toEqual({
      add: 1,
      change: 0,
      destroy: 1,
      replace: 1,
      stateful: ["a.b (replaced)"],
    });
  });
});

describe("apply", () => {
  it("applies the saved plans in phase order, with no re-plan, then retires them", () => {
    expect(multi(["plan", "dev"]).status).toBe(0);
    const r = multi(["apply", "dev"]);
    expect(r.status).toBe(0);
    const apply = (p: string) => `terraform ${dir("dev", p)} apply -input=false ${planFile("dev", p)}`;
    const outputs = (p: string) => `terraform ${dir("dev", p)} output -json`;
    // Phases with later phases are checked for changed outputs around their apply.
    expect(r.log).toEqual([outputs("network"), apply("network"), outputs("network"), outputs("database"), apply("database"), outputs("database"), apply("cache")]);
    expect(fs.existsSync(planFile("dev", "network"))).toBe(false);
    expect(fs.existsSync(`${planFile("dev", "network")}.applied.txt`)).toBe(true);
    // Applied plans are gone: a second apply needs a new plan.
    const again = multi(["apply", "dev"]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain("No saved plan for accessweaver-dev-network. Run make plan ENV=dev");
    expect(again.log).toEqual([]);
  });

  it("stops after a phase whose outputs changed, retiring the later plans made against old values", () => {
    expect(multi(["plan", "dev"]).status).toBe(0);
    fs.mkdirSync(path.join(s.stateDir, "terraform/outputs/accessweaver-dev-network"), { recursive: true });
    fs.writeFileSync(path.join(s.stateDir, "terraform/outputs/accessweaver-dev-network/after-apply.json"), '{"vpc_id":{"value":"vpc-2"}}');
    const r = multi(["apply", "dev"]);
    expect(r.status).toBe(2);
    expect(r.log.filter((l) => l.includes(" apply "))).toEqual([`terraform ${dir("dev", "network")} apply -input=false ${planFile("dev", "network")}`]);
    expect(r.stderr).toContain(
      "The outputs of accessweaver-dev-network changed, so the saved plans of accessweaver-dev-database, accessweaver-dev-cache were made against old values: they were not applied and are removed. Run make plan ENV=dev again",
    );
    expect(fs.existsSync(planFile("dev", "database"))).toBe(false);
    expect(fs.existsSync(planFile("dev", "cache"))).toBe(false);
    expect(fs.existsSync(`${planFile("dev", "cache")}.txt`)).toBe(false);
  });

  it("applies only PHASE when given", () => {
    multi(["plan", "dev"]);
    expect(multi(["apply", "dev", "database"]).log).toEqual([`terraform ${dir("dev", "database")} apply -input=false ${planFile("dev", "database")}`]);
  });

  it("refuses a plan older than the synthesized configuration, applying nothing", () => {
    expect(multi(["plan", "dev"]).status).toBe(0);
    const r = multi(["apply", "dev"], { FAKE_MARKER: "changed" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/The plan of accessweaver-dev-network \(.*\) is older than the current synthesized configuration/);
    expect(r.log).toEqual([]);
  });

  it("asks before applying to prod, and stops on any answer but prod", () => {
    expect(make(["plan", "ENV=prod"]).status).toBe(0);
    const no = make(["apply", "ENV=prod"], { input: "yes\n" });
    expect(no.status).not.toBe(0);
    expect(no.stdout).toContain('Type "prod" to apply');
    expect(no.stderr).toContain('Apply to prod cancelled (answer was "yes")');
    expect(no.log).toEqual([]);
    const yes = make(["apply", "ENV=prod"], { input: "prod\n" });
    expect(yes.status).toBe(0);
    expect(yes.log).toEqual(applyAll());
  });

  it("applies to prod without the question when AUTO_APPROVE=1", () => {
    make(["plan", "ENV=prod"]);
    const r = make(["apply", "ENV=prod", "AUTO_APPROVE=1"]);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('Type "prod"');
    expect(r.log).toEqual(applyAll());
  });
});

describe("deploy, output", () => {
  it("deploy PHASE runs cdktf deploy of that one stack, for that environment only", () => {
    const r = make(["deploy", "ENV=dev", "PHASE=network"]);
    expect(r.status).toBe(0);
    expect(r.log).toEqual(["cdktf deploy accessweaver-dev-network"]);
    expect(r.stdout).toContain("ACCESSWEAVER_ENV=dev, TERRAFORM_BINARY_NAME=terraform");
    expect(make(["deploy", "ENV=dev", "PHASE=network", "AUTO_APPROVE=1"]).log).toEqual(["cdktf deploy accessweaver-dev-network --auto-approve"]);
  });

  it("output NAME prints the output from the stack that owns it", () => {
    fs.mkdirSync(path.join(s.stateDir, "terraform/outputs/accessweaver-prod-network"), { recursive: true });
    fs.writeFileSync(path.join(s.stateDir, "terraform/outputs/accessweaver-prod-network/vpc_id"), "vpc-0abc");
    const r = make(["output", "ENV=prod", "NAME=vpc_id"]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split("\n").pop()).toBe("vpc-0abc");
    expect(r.log).toEqual([`terraform ${dir("prod", "network")} init -input=false`, `terraform ${dir("prod", "network")} output -raw vpc_id`]);
    expect(multi(["output", "dev"], { NAME: "cache_id", FORMAT: "json" }).log.pop()).toBe(`terraform ${dir("dev", "cache")} output -json cache_id`);
  });

  it("output refuses an unknown NAME, listing the outputs", () => {
    const r = make(["output", "ENV=prod", "NAME=nope"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      'No output "nope" in prod. Outputs: database_subnet_ids (network), kms_key_alias (network), kms_key_arn (network), private_subnet_ids (network), public_subnet_ids (network), security_group_ids (network), vpc_cidr (network), vpc_id (network), ' +
        "database_endpoint (database), database_master_secret_arn (database), database_name (database), database_port (database), database_secret_arn (database), " +
        "jwt_secret_arn (cache), redis_configuration_endpoint (cache), redis_port (cache), redis_secret_arn (cache).",
    );
    expect(r.log).toEqual([]);
  });
});

describe("destroy", () => {
  it("destroys in reverse phase order outside prod", () => {
    const r = multi(["destroy", "dev"], { AUTO_APPROVE: "1" });
    expect(r.status).toBe(0);
    expect(r.log).toEqual(["cache", "database", "network"].flatMap((p) => [`terraform ${dir("dev", p)} init -input=false`, `terraform ${dir("dev", p)} destroy -input=false -auto-approve`]));
  });

  it("refuses prod unless CONFIRM names exactly what is destroyed", () => {
    const none = multi(["destroy", "prod", "cache"]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("Destroying prod is refused unless CONFIRM names exactly what is destroyed. To destroy this phase: make destroy ENV=prod PHASE=cache CONFIRM=accessweaver-prod-cache");
    expect(none.log).toEqual([]);
    const wrong = multi(["destroy", "prod", "cache"], { CONFIRM: "accessweaver-prod-network" });
    expect(wrong.status).toBe(2);
    expect(wrong.log).toEqual([]);
    const all = multi(["destroy", "prod"], { CONFIRM: "accessweaver-prod-cache" });
    expect(all.stderr).toContain("CONFIRM=accessweaver-prod-cache,accessweaver-prod-database,accessweaver-prod-network");
    expect(all.log).toEqual([]);
    // CONFIRM unlocks prod; Terraform still shows the destroy plan and asks.
    const ok = multi(["destroy", "prod", "cache"], { CONFIRM: "accessweaver-prod-cache" });
    expect(ok.status).toBe(0);
    expect(ok.log).toEqual([`terraform ${dir("prod", "cache")} init -input=false`, `terraform ${dir("prod", "cache")} destroy`]);
  });
});

describe("refusals (nothing is called)", () => {
  it.each(["init", "plan", "apply", "deploy", "output", "destroy"])("make %s without ENV", (target) => {
    const r = make([target]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`make ${target} needs ENV: one of dev, staging, prod.`);
    expect(r.log).toEqual([]);
  });

  it("an unknown ENV or PHASE", () => {
    const env = make(["plan", "ENV=qa"]);
    expect(env.stderr).toContain('Unknown ENV "qa". Valid environments: dev staging prod');
    const phase = make(["plan", "ENV=dev", "PHASE=edge"]);
    expect(phase.stderr).toContain('Unknown PHASE "edge". Phases: network, database, cache, loadbalancer, services, observability.');
    const unbuilt = make(["plan", "ENV=dev", "PHASE=services"]);
    expect(unbuilt.stderr).toContain('Phase "services" has no stack yet. Synthesized phases of dev: network, database, cache.');
    expect([env.log, phase.log, unbuilt.log]).toEqual([[], [], []]);
  });

  it("deploy without PHASE", () => {
    const r = make(["deploy", "ENV=dev"]);
    expect(r.stderr).toContain("make deploy needs PHASE");
    expect(r.log).toEqual([]);
  });

  it.each(["init", "plan", "apply", "deploy"])("make %s on the example settings", (target) => {
    fs.rmSync(path.join(root, "environments/prod/terraform.tfvars"));
    const r = make([target, "ENV=prod", "PHASE=network"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`make ${target} refused for prod: it would run on the example settings (environments/prod/terraform.tfvars.example). Create your copy and fill it in:`);
    expect(r.stderr).toContain("cp environments/prod/terraform.tfvars.example environments/prod/terraform.tfvars");
    expect(r.log).toEqual([]);
  });

  it("make plan on a copy that still holds placeholder values, naming them", () => {
    root = settingsRoot(["prod"], (t) => t.replace(/444455556666/g, "123456789012").replace("CC-1042", "CC-EXAMPLE"));
    const r = make(["plan", "ENV=prod"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("make plan refused for prod: environments/prod/terraform.tfvars still holds the example's values for: aws_account_id, ecr_registry, cost_center.");
    expect(r.log).toEqual([]);
  });

  it("a missing Terraform binary, saying which targets need it", () => {
    const r = make(["plan", "ENV=prod", "TF=tofu"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Terraform binary "tofu" (TF) not found on PATH. It is needed by make init, validate, rehearse, plan, apply, deploy, output, destroy; make synth and make test work without it.');
    expect(r.log).toEqual([]);
  });

  it("TF selects another Terraform build", () => {
    fs.symlinkSync(path.join(s.bin, "terraform"), path.join(s.bin, "tofu"));
    const r = make(["init", "ENV=dev", "TF=tofu"]);
    expect(r.status).toBe(0);
    // The stand-in records itself as terraform; the call went through the tofu name on PATH.
    expect(r.log).toEqual(["network", "database", "cache"].map((phase) => `terraform ${dir("dev", phase)} init -input=false`));
    expect(r.stdout).toContain("$ tofu -chdir=");
  });
});
