import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Dependencies, countChanges } from "../scripts/operator";
import { codeDeployed } from "../scripts/operator/workflow";
import { loadEnvironment } from "../src/config/load";
import { SynthOptions, synthesize } from "../src/synth";
import { fakeSynth } from "./fixtures/multi-phase";
import { ROOT } from "./support/config";
import { noColor } from "../scripts/operator/process";
import { REGISTERED_PHASES } from "../src/stacks/registry";
import { PHASES } from "../src/naming";
import { operatorHarness, settingsRoot } from "./support/standins-operator";

const h = operatorHarness();
const { make, multi, dir, planFile } = h;
const PHASES3 = ["network", "database", "cache"];
/** The phases the real app builds, in phase order (what make runs against). */
const BUILT = PHASES.filter((p) => REGISTERED_PHASES.some((d) => d.phase === p));
/** dev's phases: the harness's dev settings have no DR region, so no recovery phase. */
const BUILT_DEV = BUILT.filter((p) => p !== "recovery");
const tf = (env: string, phase: string, ...args: string[]) => `terraform ${dir(env, phase)} ${args.join(" ")}`;
const init = (env: string, phase: string, ...flags: string[]) => tf(env, phase, "init", "-no-color", "-input=false", ...flags);

describe("init", () => {
  it("synthesizes and runs terraform init in every phase stack of the environment", () => {
    const r = make(["init", "ENV=prod"]);
    // stderr carries only the commands run (stdout is kept for what was asked, e.g. an output's value).
    expect(r.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("$ terraform "))).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.log).toEqual(BUILT.map((p) => init("prod", p)));
    expect(fs.existsSync(`${h.out}/stacks/accessweaver-prod-network/cdk.tf.json`)).toBe(true);
  });

  it("passes INIT_FLAGS as flags, not as command text", () => {
    expect(make(["init", "ENV=dev", "INIT_FLAGS=-reconfigure -upgrade"]).log).toEqual(BUILT_DEV.map((p) => init("dev", p, "-reconfigure", "-upgrade")));
  });

  it("when init fails, points at setup-backend.sh with the environment's real bucket, account and region", async () => {
    const r = await multi(["init", "prod", "network"], {
      STANDIN_TERRAFORM_FAIL_ON: "init",
      STANDIN_TERRAFORM_FAIL_MESSAGE: "Error: Failed to get existing workspaces: S3 bucket does not exist.",
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      "terraform init failed (exit 1). If the state bucket accessweaver-terraform-state-prod-444455556666 or the lock table accessweaver-terraform-locks-prod (eu-west-1) does not exist yet, run scripts/setup-backend.sh prod eu-west-1 first",
    );
    expect(r.stderr).not.toMatch(/<account id>|<region>|AWS_PROFILE/);
    // The recovery phase's backend is the DR one, which the same script makes.
    const dr = make(["init", "ENV=prod", "PHASE=recovery"], {
      env: { STANDIN_TERRAFORM_FAIL_ON: "init", STANDIN_TERRAFORM_FAIL_MESSAGE: "Error: Failed to get existing workspaces: S3 bucket does not exist." },
    });
    expect(dr.stderr).toContain(
      "If the state bucket accessweaver-terraform-state-prod-dr-444455556666 or the lock table accessweaver-terraform-locks-prod (eu-central-1) does not exist yet, run scripts/setup-backend.sh prod eu-west-1 first",
    );
  });

  it.each([
    "Error: No valid credential sources found",
    "Error: validating provider credentials: retrieving caller identity from STS: api error InvalidClientTokenId: The security token included in the request is invalid.",
    "Error: ExpiredToken: The security token included in the request is expired",
  ])("when init fails for credentials (%s), says so and names AWS_PROFILE", async (message) => {
    const r = await multi(["init", "staging", "network"], { STANDIN_TERRAFORM_FAIL_ON: "init", STANDIN_TERRAFORM_FAIL_MESSAGE: message });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain(
      "terraform init failed (exit 1). The AWS credentials are missing, expired or refused: Terraform could not reach the state of staging (account 444455556666, eu-west-1) with them. Select this account's credentials, e.g. export AWS_PROFILE=<your profile for account 444455556666>",
    );
    expect(r.stderr).toContain("check that aws sts get-caller-identity shows account 444455556666, then run make init ENV=staging again.");
    expect(r.stderr).not.toContain("setup-backend.sh");
  });

  it("inits in phase order, or only PHASE", async () => {
    expect((await multi(["init", "dev"])).log).toEqual(PHASES3.map((p) => init("dev", p)));
    expect((await multi(["init", "dev", "database"])).log).toEqual([init("dev", "database")]);
  });

  it("runs Terraform with -no-color only when the output is not a terminal", () => {
    const tty = process.stdout.isTTY;
    try {
      process.stdout.isTTY = true;
      expect(noColor()).toEqual([]);
      process.stdout.isTTY = false;
      expect(noColor()).toEqual(["-no-color"]);
    } finally {
      process.stdout.isTTY = tty;
    }
  });
});

describe("plan", () => {
  it("plans each phase in order against the outputs of the earlier ones, saves the plan, its text and what it was planned against", async () => {
    const r = await multi(["plan", "staging"]);
    expect(r.status).toBe(0);
    const outputs = (p: string) => tf("staging", p, "output", "-json");
    const steps = (p: string) => [
      tf("staging", p, "plan", "-no-color", "-input=false", `-out=${planFile("staging", p)}`),
      tf("staging", p, "show", "-no-color", planFile("staging", p)),
      tf("staging", p, "show", "-json", planFile("staging", p)),
    ];
    expect(r.log).toEqual([
      init("staging", "network"),
      ...steps("network"),
      init("staging", "database"),
      outputs("network"),
      ...steps("database"),
      init("staging", "cache"),
      outputs("database"),
      ...steps("cache"),
    ]);
    for (const p of PHASES3) expect(fs.readFileSync(`${planFile("staging", p)}.txt`, "utf8")).toMatch(/stand-in plan .* of accessweaver-staging-/);
    const [network, database, cache] = PHASES3.map((p) => h.record("staging", p)!);
    expect(network!.upstream).toEqual({});
    expect(Object.keys(database!.upstream as object)).toEqual(["accessweaver-staging-network"]);
    expect(Object.keys(cache!.upstream as object)).toEqual(["accessweaver-staging-network", "accessweaver-staging-database"]);
    expect(new Set([network!.runId, database!.runId, cache!.runId]).size).toBe(1);
    expect(cache!.status).toBe("planned");
    expect(r.stdout).toMatch(
      /Plan summary for staging \(run \S+; [^\n]*\n\s+network\s+1 to add,\s+0 to change,\s+0 to destroy[^\n]*\n\s+database\s+1 to add[^\n]*\n\s+cache\s+1 to add/,
    );
    expect(r.stdout).not.toMatch(/WARNING/);
  });

  it("warns loudly when a plan destroys or replaces a stateful resource", async () => {
    fs.mkdirSync(path.join(h.s.stateDir, "terraform/plans"), { recursive: true });
    const changes = [
      { address: "aws_kms_key.kms_key", type: "aws_kms_key", change: { actions: ["delete", "create"] } },
      { address: "aws_cloudwatch_log_group.x", type: "aws_cloudwatch_log_group", change: { actions: ["delete"] } },
      { address: "aws_route.r", type: "aws_route", change: { actions: ["delete"] } },
      { address: "aws_subnet.s", type: "aws_subnet", change: { actions: ["update"] } },
    ];
    fs.writeFileSync(path.join(h.s.stateDir, "terraform/plans/accessweaver-prod-network.json"), JSON.stringify({ resource_changes: changes }));
    const r = await multi(["plan", "prod", "network"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/network\s+1 to add,\s+1 to change,\s+3 to destroy \(1 replaced\)/);
    expect(r.stdout).toContain("WARNING: these plans DESTROY OR REPLACE resources that hold data");
    expect(r.stdout).toContain("!! accessweaver-prod-network: aws_kms_key.kms_key (replaced)");
    expect(r.stdout).toContain("!! accessweaver-prod-network: aws_cloudwatch_log_group.x (destroyed)");
    expect(r.stdout).not.toContain("aws_route.r (");
  });

  it("stops at the first phase that fails to plan, saying why and what was not planned", async () => {
    const r = await multi(["plan", "dev"], { STANDIN_TERRAFORM_FAIL_ON: "plan" });
    expect(r.status).toBe(2);
    expect(r.log).toEqual([init("dev", "network"), tf("dev", "network", "plan", "-no-color", "-input=false", `-out=${planFile("dev", "network")}`)]);
    expect(r.stderr).toContain(
      "terraform plan failed (exit 1). Planning accessweaver-dev-network failed. Not planned: accessweaver-dev-database, accessweaver-dev-cache (their older plans are retired).",
    );
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
  const apply = (env: string, p: string) => tf(env, p, "apply", "-no-color", "-input=false", planFile(env, p));

  it("applies the saved plans in phase order, with no re-plan, then retires them", async () => {
    expect((await multi(["plan", "dev"])).status).toBe(0);
    const r = await multi(["apply", "dev"]);
    expect(r.status).toBe(0);
    const outputs = (p: string) => tf("dev", p, "output", "-json");
    // After each phase, its outputs are read again for the plans bound to them.
    expect(r.log).toEqual([apply("dev", "network"), outputs("network"), apply("dev", "database"), outputs("database"), apply("dev", "cache")]);
    expect(fs.existsSync(planFile("dev", "network"))).toBe(false);
    expect(fs.existsSync(`${planFile("dev", "network")}.applied.txt`)).toBe(true);
    // Applied plans are gone: a second apply needs a new plan.
    const again = await multi(["apply", "dev"]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain("No saved plan for accessweaver-dev-network. Run make plan ENV=dev, review it, then apply.");
    expect(again.log).toEqual([]);
  });

  it("applies only PHASE when given", async () => {
    await multi(["plan", "dev", "database"]);
    const r = await multi(["apply", "dev", "database"]);
    expect(r.status).toBe(0);
    expect(r.log).toEqual([tf("dev", "network", "output", "-json"), apply("dev", "database")]);
  });

  it("refuses a plan older than the synthesized configuration, applying nothing", async () => {
    expect((await multi(["plan", "dev"])).status).toBe(0);
    const r = await multi(["apply", "dev"], { FAKE_MARKER: "changed" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /The plan of accessweaver-dev-network \(.*\) is older than the current synthesized configuration: code or settings changed since\. Run make plan ENV=dev again/,
    );
    expect(r.log).toEqual([]);
  });

  it("asks before applying to prod, and stops on any answer but prod; AUTO_APPROVE=1 skips the question", async () => {
    expect(make(["plan", "ENV=prod"]).status).toBe(0);
    const no = make(["apply", "ENV=prod"], { input: "yes\n" });
    expect(no.status).not.toBe(0);
    expect(no.stdout).toContain('Type "prod" to apply');
    expect(no.stderr).toContain('Apply to prod cancelled (answer was "yes")');
    expect(no.log).toEqual([]);
    const yes = make(["apply", "ENV=prod"], { input: "prod\n" });
    expect(yes.status).toBe(0);
    // Each applied phase's outputs are read before the next phase applies (its plan is bound to them).
    expect(yes.log.filter((l) => l.includes(" apply "))).toEqual(BUILT.map((p) => apply("prod", p)));
    await multi(["plan", "prod", "network"]);
    const auto = await multi(["apply", "prod", "network"], { AUTO_APPROVE: "1" });
    expect(auto.status).toBe(0);
    expect(auto.stdout).not.toContain('Type "prod"');
    expect(auto.log).toEqual([apply("prod", "network")]);
  });
});

describe("apply of a blue/green service's new task definition", () => {
  const GATEWAY_TD = "aws_ecs_task_definition.aw-api-gateway_task-definition";
  /** The fixture's stacks, whose services stack holds a CODE_DEPLOY gateway (prod) as the real one does. */
  const blueGreen: Dependencies = {
    synthesize: async (o: SynthOptions) => {
      const stacks = await fakeSynth(o);
      const file = path.join(o.outdir, "stacks", `accessweaver-${o.envSelection}-services`, "cdk.tf.json");
      const config = JSON.parse(fs.readFileSync(file, "utf8"));
      const controller = config.resource.aws_codedeploy_deployment_group ? "CODE_DEPLOY" : "ECS";
      config.resource.aws_ecs_service = {
        "aw-api-gateway_service": {
          name: `accessweaver-${o.envSelection}-aw-api-gateway`,
          task_definition: `\${${GATEWAY_TD}.arn}`,
          deployment_controller: { type: controller },
        },
        "aw-pdp-service_service": {
          name: `accessweaver-${o.envSelection}-aw-pdp-service`,
          task_definition: "${aws_ecs_task_definition.aw-pdp-service_task-definition.arn}",
          deployment_controller: { type: "ECS" },
        },
      };
      config.resource.aws_ecs_task_definition = {
        "aw-api-gateway_task-definition": {
          container_definitions: JSON.stringify([{ name: "aw-api-gateway", image: "444455556666.dkr.ecr.eu-west-1.amazonaws.com/aw-api-gateway:1.4.2" }]),
        },
      };
      fs.writeFileSync(file, JSON.stringify(config));
      return stacks;
    },
  };
  /** The services plan's `terraform show -json`: these addresses and actions. */
  const servicesPlan = (env: string, changes: Record<string, string[]>) => {
    fs.mkdirSync(path.join(h.s.stateDir, "terraform", "plans"), { recursive: true });
    const resource_changes = Object.entries(changes).map(([address, actions]) => ({ address, type: address.split(".")[0], change: { actions } }));
    fs.writeFileSync(path.join(h.s.stateDir, "terraform", "plans", `accessweaver-${env}-services.json`), JSON.stringify({ resource_changes }));
  };
  const ENV = { FAKE_SERVICES: "1", AUTO_APPROVE: "1" };
  const NOTICE = "this apply registered a new task definition for accessweaver-prod-aw-api-gateway";

  it("says, after the apply, that make release must deploy the gateway's new task definition, read from the saved plan (prod)", async () => {
    servicesPlan("prod", { [GATEWAY_TD]: ["delete", "create"], "aws_ecs_service.aw-api-gateway_service": ["update"] });
    expect((await multi(["plan", "prod", "services"], ENV, blueGreen)).status).toBe(0);
    const r = await multi(["apply", "prod", "services"], ENV, blueGreen);
    expect(r.status).toBe(0);
    // Read from the saved plan before it is applied.
    const show = r.log.indexOf(tf("prod", "services", "show", "-json", planFile("prod", "services")));
    expect(show).toBeGreaterThanOrEqual(0);
    expect(show).toBeLessThan(r.log.indexOf(tf("prod", "services", "apply", "-no-color", "-input=false", planFile("prod", "services"))));
    const after = r.stdout.slice(r.stdout.indexOf("Applied accessweaver-prod-services."));
    expect(after).toContain(
      `!!! accessweaver-prod-services: ${NOTICE} (${GATEWAY_TD}, image tag 1.4.2), but that service is released by CodeDeploy (blue/green): its task_definition is in ignore_changes, so it still runs the previous revision, and nothing deploys the new one by itself.`,
    );
    expect(after).toContain("!!! Deploy it: make release ENV=prod TAG=1.4.2 SERVICE=aw-api-gateway");
  });

  it("says nothing when the plan leaves the gateway's task definition alone, or only changes a rolling service's", async () => {
    servicesPlan("prod", { "aws_ecs_task_definition.aw-pdp-service_task-definition": ["create", "delete"], [GATEWAY_TD]: ["update"] });
    await multi(["plan", "prod", "services"], ENV, blueGreen);
    const r = await multi(["apply", "prod", "services"], ENV, blueGreen);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain("make release");
  });

  it("says nothing where the gateway is rolling (dev: ECS deploys the new revision itself) and reads no plan for it", async () => {
    servicesPlan("dev", { [GATEWAY_TD]: ["delete", "create"] });
    await multi(["plan", "dev", "services"], ENV, blueGreen);
    const r = await multi(["apply", "dev", "services"], ENV, blueGreen);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain("make release");
    expect(r.log.filter((l) => l.includes(" show -json "))).toEqual([]);
  });

  it("says nothing when the apply fails", async () => {
    servicesPlan("prod", { [GATEWAY_TD]: ["delete", "create"] });
    await multi(["plan", "prod", "services"], ENV, blueGreen);
    const r = await multi(["apply", "prod", "services"], { ...ENV, STANDIN_TERRAFORM_FAIL_ON: "apply" }, blueGreen);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).not.toContain(NOTICE);
  });

  it("finds the CODE_DEPLOY gateway, its task definition and its tag in the real synthesized services stacks (staging, prod), and none in dev", async () => {
    const outdir = path.join(h.out, "real");
    await synthesize({ outdir, envSelection: "dev,staging,prod", rootDir: ROOT, notice: () => undefined });
    for (const env of ["dev", "staging", "prod"] as const) {
      const name = `accessweaver-${env}-services`;
      const stack = { name, phase: "services" as const, dir: path.join(outdir, "stacks", name), plan: "" };
      const config = JSON.parse(fs.readFileSync(path.join(stack.dir, "cdk.tf.json"), "utf8"));
      const found = codeDeployed(stack);
      if (env === "dev") {
        expect({ env, found }).toEqual({ env, found: [] });
        continue;
      }
      const settings = (await loadEnvironment(env, { rootDir: ROOT, notice: () => undefined })).settings;
      expect({ env, found }).toEqual({
        env,
        found: [
          {
            service: "aw-api-gateway",
            serviceName: `accessweaver-${env}-aw-api-gateway`,
            taskDefinition: GATEWAY_TD,
            tag: settings.imageTags["aw-api-gateway"],
          },
        ],
      });
      expect(Object.keys(config.resource.aws_ecs_task_definition)).toContain(GATEWAY_TD.split(".")[1]);
    }
  }, 60_000);
});

describe("deploy, output", () => {
  it("deploy PHASE runs cdktf deploy of that one stack, for that environment only", async () => {
    // Without a terminal only with AUTO_APPROVE=1 (the refusal and the terminal case: operator-terminal.test.ts).
    const r = make(["deploy", "ENV=dev", "PHASE=network", "AUTO_APPROVE=1"]);
    expect(r.status).toBe(0);
    expect(r.log).toEqual(["cdktf deploy accessweaver-dev-network --auto-approve"]);
    expect(r.stdout).toContain("ACCESSWEAVER_ENV=dev, TERRAFORM_BINARY_NAME=terraform");
  });

  it("output NAME prints the output from the stack that owns it", async () => {
    h.setOutputs("prod", "network", "{}");
    fs.writeFileSync(path.join(h.s.stateDir, "terraform/outputs/accessweaver-prod-network/vpc_id"), "vpc-0abc");
    const r = make(["output", "ENV=prod", "NAME=vpc_id"]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split("\n").pop()).toBe("vpc-0abc");
    expect(r.log).toEqual([init("prod", "network"), tf("prod", "network", "output", "-raw", "vpc_id")]);
    expect((await multi(["output", "dev"], { NAME: "cache_id", FORMAT: "json" })).log.pop()).toBe(tf("dev", "cache", "output", "-json", "cache_id"));
  });

  it("output refuses an unknown NAME, listing the outputs one per line", () => {
    const r = make(["output", "ENV=prod", "NAME=nope"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      'No output "nope" in prod. Outputs of prod (name, phase), one of them as NAME, e.g. make output ENV=prod NAME=database_subnet_ids:\n  database_subnet_ids (network)\n  dr_kms_key_arn (network)\n  kms_key_alias (network)\n  kms_key_arn (network)\n',
    );
    const listed = r.stderr.split("\n").filter((l) => /^ {2}\S+ \((network|database|cache|loadbalancer|services|observability|recovery)\)$/.test(l));
    // Every phase's outputs, in phase order, each on its own line.
    expect(listed.join("\n")).toMatch(
      / {2}vpc_id \(network\)\n {2}database_arn \(database\)\n(.*\n)* {2}redis_secret_arn \(cache\)\n {2}alb_arn \(loadbalancer\)/,
    );
    expect(listed).toEqual(
      expect.arrayContaining(["  waf_web_acl_arn (loadbalancer)", "  api_gateway_task_definition_arn (services)", "  cluster_name (services)"]),
    );
    expect(listed.length).toBeGreaterThan(40);
    expect(r.log).toEqual([]);
  });
});

describe("destroy", () => {
  it("destroys in reverse phase order in dev, with no CONFIRM", async () => {
    const r = await multi(["destroy", "dev"], { AUTO_APPROVE: "1" });
    expect(r.status).toBe(0);
    expect(r.log).toEqual(
      ["cache", "database", "network"].flatMap((p) => [init("dev", p), tf("dev", p, "destroy", "-no-color", "-input=false", "-auto-approve")]),
    );
  });

  it("refuses prod and staging unless CONFIRM names exactly what is destroyed", async () => {
    const none = await multi(["destroy", "prod", "cache"]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain(
      "Destroying prod is refused unless CONFIRM names exactly what is destroyed. To destroy this phase: make destroy ENV=prod PHASE=cache CONFIRM=accessweaver-prod-cache",
    );
    expect(none.log).toEqual([]);
    const wrong = await multi(["destroy", "prod", "cache"], { CONFIRM: "accessweaver-prod-network" });
    expect(wrong.status).toBe(2);
    expect(wrong.log).toEqual([]);
    const all = await multi(["destroy", "prod"], { CONFIRM: "accessweaver-prod-cache" });
    expect(all.stderr).toContain("CONFIRM=accessweaver-prod-cache,accessweaver-prod-database,accessweaver-prod-network");
    expect(all.log).toEqual([]);
    const staging = await multi(["destroy", "staging"], { AUTO_APPROVE: "1" });
    expect(staging.status).toBe(2);
    expect(staging.stderr).toContain(
      "Destroying staging is refused unless CONFIRM names exactly what is destroyed. To destroy these phases, in this order: make destroy ENV=staging CONFIRM=accessweaver-staging-cache,accessweaver-staging-database,accessweaver-staging-network",
    );
    expect(staging.log).toEqual([]);
    // CONFIRM unlocks; Terraform still shows the destroy plan and asks.
    const ok = await multi(["destroy", "prod", "cache"], { CONFIRM: "accessweaver-prod-cache" });
    expect(ok.status).toBe(0);
    expect(ok.log).toEqual([init("prod", "cache"), tf("prod", "cache", "destroy", "-no-color")]);
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
    expect(phase.stderr).toContain('Unknown PHASE "edge". Phases: network, database, cache, loadbalancer, services, observability, recovery.');
    expect([env.log, phase.log]).toEqual([[], []]);
  });

  it("the recovery phase of an environment without a DR region", () => {
    const r = make(["plan", "ENV=dev", "PHASE=recovery"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("dev has no recovery phase: environments/dev/terraform.tfvars sets no dr_region. dev is rebuilt, not restored.");
    expect(r.log).toEqual([]);
  });

  it("deploy without PHASE", () => {
    const r = make(["deploy", "ENV=dev"]);
    expect(r.stderr).toContain("make deploy needs PHASE");
    expect(r.log).toEqual([]);
  });

  it.each(["init", "plan", "apply", "deploy"])("make %s on the example settings", (target) => {
    fs.rmSync(path.join(h.root, "environments/prod/terraform.tfvars"));
    const r = make([target, "ENV=prod", "PHASE=network"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      `make ${target} refused for prod: it would run on the example settings (environments/prod/terraform.tfvars.example). Create your copy and fill it in:`,
    );
    expect(r.stderr).toContain("cp environments/prod/terraform.tfvars.example environments/prod/terraform.tfvars");
    expect(r.log).toEqual([]);
  });

  it("make plan on a copy that still holds placeholder values, naming them", () => {
    h.root = settingsRoot(["prod"], (t) => t.replace(/444455556666/g, "123456789012").replace("CC-1042", "CC-EXAMPLE"));
    const r = make(["plan", "ENV=prod"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      "make plan refused for prod: environments/prod/terraform.tfvars still holds the example's values for: aws_account_id, ecr_registry, cost_center.",
    );
    expect(r.log).toEqual([]);
  });

  it("a missing Terraform binary, saying which targets need it", () => {
    const r = make(["plan", "ENV=prod", "TF=tofu"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      'Terraform binary "tofu" (TF) not found on PATH. It is needed by make init, validate, rehearse, plan, apply, deploy, output, destroy, drift, release, restore, restore-teardown; make synth and make test work without it.',
    );
    expect(r.log).toEqual([]);
  });

  it("TF selects another Terraform build", () => {
    // tofu is the terraform stand-in under another name on PATH.
    fs.writeFileSync(path.join(h.s.bin, "tofu"), ["#!/bin/sh", `exec '${path.join(h.s.bin, "terraform")}' "$@"`].join("\n"), { mode: 0o755 });
    const r = make(["init", "ENV=dev", "TF=tofu"]);
    expect(r.status).toBe(0);
    // The stand-in records itself as terraform; the call went through the tofu name on PATH.
    expect(r.log).toEqual(BUILT_DEV.map((p) => init("dev", p)));
    expect(r.stderr).toContain("$ tofu -chdir=");
  });
});

describe("a plan is bound only to the upstream outputs its stack reads", () => {
  const apply = (env: string, p: string) => tf(env, p, "apply", "-no-color", "-input=false", planFile(env, p));
  const outputs = (values: Record<string, string>) =>
    JSON.stringify(Object.fromEntries(Object.entries(values).map(([k, value]) => [k, { sensitive: false, type: "string", value }])));

  it("records, per earlier phase, the outputs the stack reads (its remote-state references)", async () => {
    expect((await multi(["plan", "dev"])).status).toBe(0);
    expect(h.record("dev", "network")!.reads).toEqual({});
    expect(h.record("dev", "cache")!.reads).toEqual({ "accessweaver-dev-network": ["vpc_id"], "accessweaver-dev-database": ["database_id"] });
  });

  it("a whole-environment apply goes on when an earlier phase changes only outputs the later stacks do not read", async () => {
    h.setOutputs("dev", "database", outputs({ database_id: "db-1", database_arn: "arn:1" }));
    h.setOutputs("dev", "database", outputs({ database_id: "db-1", database_arn: "arn:2" }), "after-apply");
    expect((await multi(["plan", "dev"])).status).toBe(0);
    const r = await multi(["apply", "dev"]);
    expect(r.status).toBe(0);
    expect(r.log.filter((l) => l.includes(" apply "))).toEqual(PHASES3.map((p) => apply("dev", p)));
    expect(r.stdout).not.toContain("retired");
  });

  it("and stops when an output a later stack reads changed", async () => {
    h.setOutputs("dev", "database", outputs({ database_id: "db-1", database_arn: "arn:1" }));
    h.setOutputs("dev", "database", outputs({ database_id: "db-2", database_arn: "arn:1" }), "after-apply");
    expect((await multi(["plan", "dev"])).status).toBe(0);
    const r = await multi(["apply", "dev"]);
    expect(r.status).toBe(2);
    expect(r.log.filter((l) => l.includes(" apply "))).toEqual([apply("dev", "network"), apply("dev", "database")]);
    expect(r.stderr).toContain("so the saved plans of accessweaver-dev-cache were made against old values");
  });

  it("a plan saved before plans recorded what they read stays bound to all the outputs", async () => {
    const before = outputs({ database_id: "db-1", database_arn: "arn:1" });
    h.setOutputs("dev", "database", before);
    for (const p of ["network", "database"]) {
      await multi(["plan", "dev", p]);
      await multi(["apply", "dev", p]);
    }
    await multi(["plan", "dev", "cache"]);
    const file = `${planFile("dev", "cache")}.json`;
    const { reads, ...older } = JSON.parse(fs.readFileSync(file, "utf8"));
    expect(reads).toBeDefined();
    // As older records hold them: hashes of each earlier phase's whole output.
    const sha = (text: string) =>
      createHash("sha256")
        .update(JSON.stringify(JSON.parse(text)))
        .digest("hex");
    fs.writeFileSync(file, JSON.stringify({ ...older, upstream: { "accessweaver-dev-network": sha("{}"), "accessweaver-dev-database": sha(before) } }));
    h.setOutputs("dev", "database", outputs({ database_id: "db-1", database_arn: "arn:2" }));
    const changed = await multi(["apply", "dev", "cache"]);
    expect(changed.status).toBe(2);
    expect(changed.stderr).toContain("The plan of accessweaver-dev-cache was made against other outputs of accessweaver-dev-database");
    h.setOutputs("dev", "database", before);
    expect((await multi(["apply", "dev", "cache"])).status).toBe(0);
  });

  it("in the real stacks, observability reads the services phase's names and log groups, not its task definition ARNs", async () => {
    const { remoteReads } = await import("../scripts/operator/plans");
    const outdir = path.join(h.out, "real");
    await synthesize({ outdir, envSelection: "prod", rootDir: ROOT, notice: () => undefined });
    const name = "accessweaver-prod-observability";
    const reads = remoteReads({ name, phase: "observability", dir: path.join(outdir, "stacks", name), plan: "" });
    expect(reads.get("services")).toEqual(expect.arrayContaining(["cluster_name", "service_names"]));
    expect(reads.get("services")).not.toContain("task_definition_arns");
    expect(reads.get("services")).not.toContain("api_gateway_task_definition_arn");
    expect(reads.get("services")).not.toContain("*");
    expect([...reads.keys()].sort()).toEqual(["cache", "database", "loadbalancer", "network", "services"]);
    const services = remoteReads({
      name: "accessweaver-prod-services",
      phase: "services",
      dir: path.join(outdir, "stacks", "accessweaver-prod-services"),
      plan: "",
    });
    expect(services.get("network")).toEqual(["kms_key_arn", "private_subnet_ids", "security_group_ids", "vpc_id"]);
  }, 60_000);
});
