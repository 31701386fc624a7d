// make emulate's orchestration (scripts/emulate/run.ts), in-process, with the recording Terraform
// stand-in first on PATH and the emulator's process and API calls answered by the test: the steps and
// their order, the copies it writes, the verdict, failures, interrupts and skips. The real run against
// moto is make test's emulate stage (emulate-terraform.test.ts and make emulate ENV=dev).
import * as fs from "fs";
import * as path from "path";
import { ALLOW_LIST } from "../scripts/emulate/allow-list";
import { ApiCall, RunningEmulator, startMoto } from "../scripts/emulate/emulator";
import { ReleaseSynthRequest } from "../scripts/emulate/release";
import { Dependencies, Io, main } from "../scripts/emulate/run";
import { tempDir } from "./support/config";
import { Standins, makeStandins } from "./support/standins";
import { ACCOUNT, BUCKET, REGISTRY, TABLE, ZONE, services, writeSynth } from "./fixtures/emulate/stacks";

const PHASES = ["network", "database", "cache", "loadbalancer", "observability"];
const FAKE_URL = "http://127.0.0.1:45999";

interface Harness {
  s: Standins;
  out: string;
  calls: ApiCall[];
  started: NodeJS.ProcessEnv[];
  stopped: number;
  /** What the release rehearsal asked its synth for. */
  releases: ReleaseSynthRequest[];
  /** The services stack the release synth writes, from the tag asked for (the real one: every service at it). */
  releasedServices: (tag: string) => ReturnType<typeof services>;
  deps: Dependencies;
  run(args?: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }>;
  /** The Terraform calls, `-chdir=<copy>` shortened to the stack name. */
  terraform(): string[];
  setPlan(phase: string, plan: unknown): void;
}

let h: Harness;
const saved = { ...process.env };

beforeEach(() => {
  const out = tempDir("aw-emulate-");
  writeSynth(out, PHASES);
  // A provider mirror holding aws only, as on these machines: random is stood in.
  const mirror = path.join(out, "mirror");
  fs.mkdirSync(path.join(mirror, "registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64"), { recursive: true });
  fs.writeFileSync(path.join(mirror, "registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64/terraform-provider-aws"), "");
  const s = makeStandins(["terraform"]);
  const harness: Harness = {
    s,
    out,
    calls: [],
    started: [],
    stopped: 0,
    releases: [],
    releasedServices: (tag) => services({ tag }),
    deps: {
      rules: ALLOW_LIST,
      synthesizeRelease: async (request) => {
        harness.releases.push(request);
        writeSynth(request.outdir, ["services"], { services: harness.releasedServices(request.tag) });
      },
      send: async (_url, call) => {
        harness.calls.push(call);
        return {
          status: 200,
          body:
            call.service === "route53" ? "<CreateHostedZoneResponse><HostedZone><Id>/hostedzone/ZEMULATED1</Id></HostedZone></CreateHostedZoneResponse>" : "",
        };
      },
      startMoto: async (_bin, env) => {
        harness.started.push(env);
        const running: RunningEmulator = { url: FAKE_URL, log: () => "", stop: async () => void (harness.stopped += 1) };
        return running;
      },
    },
    run: async (args = ["dev"], env = {}) => {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, s.env, { CDKTF_OUTDIR: out, TF: "terraform", TF_PLUGIN_DIR: mirror, EMULATOR_URL: "" }, env);
      let stdout = "";
      let stderr = "";
      const io: Io = { out: (t) => void (stdout += t), err: (t) => void (stderr += t) };
      try {
        const code = await main(args, io, harness.deps);
        return { code, stdout, stderr };
      } finally {
        for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
        Object.assign(process.env, saved);
      }
    },
    terraform: () => s.log().map((l) => l.replace(/-chdir=\S*\/(accessweaver-dev-[a-z]+)/, "$1")),
    setPlan: (phase, plan) => {
      fs.mkdirSync(path.join(s.stateDir, "terraform", "plans"), { recursive: true });
      fs.writeFileSync(path.join(s.stateDir, "terraform", "plans", `accessweaver-dev-${phase}.json`), JSON.stringify(plan));
    },
  };
  h = harness;
  for (const phase of PHASES) h.setPlan(phase, { resource_changes: [] });
});

afterEach(() => {
  h.s.cleanup();
  fs.rmSync(h.out, { recursive: true, force: true });
});

const stack = (phase: string) => `accessweaver-dev-${phase}`;
const copy = (phase: string) => JSON.parse(fs.readFileSync(path.join(h.out, "emulate", "dev", stack(phase), "cdk.tf.json"), "utf8"));

test("a clean run: the prerequisites, then init and apply of each phase in order, then a second plan of each; the emulator is stopped", async () => {
  const synthesized = PHASES.map((p) => fs.readFileSync(path.join(h.out, "stacks", stack(p), "cdk.tf.json"), "utf8"));
  const r = await h.run();
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);

  // moto started with the settings of the allow-list and the stacks' account; stopped once.
  expect(h.started).toHaveLength(1);
  expect(h.started[0]).toEqual(expect.objectContaining({ MOTO_ACCOUNT_ID: ACCOUNT, MOTO_IAM_LOAD_MANAGED_POLICIES: "true", MOTO_ACM_VALIDATION_WAIT: "0" }));
  expect(h.stopped).toBe(1);

  // The state bucket and lock table once, the hand-made hosted zone once.
  expect(h.calls.map((c) => `${c.service} ${c.method} ${c.path}`)).toEqual([`s3 PUT /${BUCKET}`, "dynamodb POST /", "route53 POST /2013-04-01/hostedzone"]);
  expect(JSON.parse(h.calls[1]!.body!)).toEqual(expect.objectContaining({ TableName: TABLE, KeySchema: [{ AttributeName: "LockID", KeyType: "HASH" }] }));
  expect(h.calls[0]!.headers.authorization).toContain(`Credential=${ACCOUNT}/20240101/eu-west-1/s3/`);

  const plugin = `-plugin-dir=${path.join(h.out, "mirror")}`;
  expect(h.terraform()).toEqual([
    "terraform version",
    ...PHASES.flatMap((p) => [
      `terraform ${stack(p)} init -input=false -no-color -reconfigure ${plugin}`,
      `terraform ${stack(p)} apply -auto-approve -input=false -no-color`,
    ]),
    ...PHASES.flatMap((p) => [
      `terraform ${stack(p)} plan -detailed-exitcode -input=false -no-color -out=second.tfplan`,
      `terraform ${stack(p)} show -json second.tfplan`,
      `terraform ${stack(p)} show -no-color second.tfplan`,
    ]),
  ]);

  // The copies point at the emulator and its hosted zone; the synthesized stacks are untouched.
  expect(copy("network").terraform.backend.s3.endpoints.s3).toBe(FAKE_URL);
  expect(copy("loadbalancer").resource.aws_route53_record.alias.zone_id).toBe("ZEMULATED1");
  expect(JSON.stringify(copy("loadbalancer"))).not.toContain(ZONE);
  expect(PHASES.map((p) => fs.readFileSync(path.join(h.out, "stacks", stack(p), "cdk.tf.json"), "utf8"))).toEqual(synthesized);

  expect(r.stdout).toContain(`moto_server on ${FAKE_URL} (started for this run, account ${ACCOUNT})`);
  expect(r.stdout).toContain("emulate: dev/cache: aws_elasticache_replication_group.redis stands in (allow-list elasticache-member-clusters)");
  expect(r.stdout).toContain(
    'emulate: dev/database: in the copy only: aws_db_instance.db.backup_window: "02:00-03:00" -> "02:00-02:59" (rds-touching-windows)',
  );
  expect(r.stdout).toContain(`applied:      ${PHASES.join(", ")}`);
  expect(r.stdout).toContain("second plan:  5 phase(s); 0 finding(s), 0 allow-listed emulator difference(s)");
  const report = fs.readFileSync(path.join(h.out, "emulate", "dev", "report.md"), "utf8");
  expect(report).toContain("| cache | accessweaver-dev-cache | yes (");
  expect(report).toContain("## Findings (0)");
  expect(fs.existsSync(path.join(h.out, "emulate", "dev", stack("cache"), "second-plan.json"))).toBe(true);
});

test("a resource that changes in the second plan is a finding: exit 1, its address, actions and attribute diff in the summary and the report", async () => {
  h.setPlan("loadbalancer", {
    resource_changes: [
      {
        address: "aws_route53_health_check.api",
        mode: "managed",
        type: "aws_route53_health_check",
        change: { actions: ["update"], before: { regions: ["us-east-1"] }, after: { regions: null }, after_unknown: {} },
      },
    ],
  });
  const r = await h.run();
  expect(r.code).toBe(1);
  expect(r.stdout).toContain("FINDING loadbalancer: aws_route53_health_check.api (update)");
  expect(r.stdout).toContain('regions: ["us-east-1"] -> null');
  expect(r.stdout).toContain("The second plan is NOT empty");
  expect(fs.readFileSync(path.join(h.out, "emulate", "dev", "report.md"), "utf8")).toContain("### loadbalancer: aws_route53_health_check.api (update)");
  expect(h.stopped).toBe(1);
});

test("a failed apply stops the run in that phase: no later phase is applied or planned, the emulator is stopped, Terraform's error is named", async () => {
  const r = await h.run(["dev"], {
    STANDIN_TERRAFORM_FAIL_ON: "apply",
    STANDIN_TERRAFORM_FAIL_MESSAGE: "Error: creating EC2 VPC: api error NotImplemented: boom",
  });
  expect(r.code).toBe(1);
  expect(
    h
      .terraform()
      .filter((l) => / (init|apply|plan) /.test(l))
      .map((l) => l.split(" ").slice(1, 3).join(" ")),
  ).toEqual([`${stack("network")} init`, `${stack("network")} apply`]);
  expect(r.stderr).toContain("  | Error: creating EC2 VPC: api error NotImplemented: boom");
  expect(r.stderr).toContain("emulate: dev: FAILED in phase network (accessweaver-dev-network): terraform apply exited 1");
  expect(r.stdout).toContain("not applied:  network, database, cache, loadbalancer, observability");
  expect(r.stdout).toContain("FAILED in phase network: terraform apply exited 1: Error: creating EC2 VPC: api error NotImplemented: boom");
  expect(h.stopped).toBe(1);
});

test("a failed second plan names its phase", async () => {
  const r = await h.run(["dev"], { STANDIN_TERRAFORM_FAIL_ON: "plan", STANDIN_TERRAFORM_FAIL_MESSAGE: "Error: reading Budget: NotImplemented" });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("FAILED in phase network (accessweaver-dev-network): terraform plan (second plan) exited 1");
  expect(r.stdout).toContain(`applied:      ${PHASES.join(", ")}`);
});

test("EMULATOR_URL: that emulator is used and no moto server is started or stopped", async () => {
  const r = await h.run(["dev"], { EMULATOR_URL: "http://localhost:4566/" });
  expect(r.code).toBe(0);
  expect(h.started).toHaveLength(0);
  expect(h.stopped).toBe(0);
  expect(r.stdout).toContain("the emulator at http://localhost:4566 (EMULATOR_URL)");
  expect(copy("observability").provider.aws[1].endpoints[0].cloudwatch).toBe("http://localhost:4566");
});

test("SIGTERM during an apply stops Terraform, then the emulator, and exits 143", async () => {
  const running = h.run(["dev"], { STANDIN_TERRAFORM_SLOW_ON: "apply", STANDIN_TERRAFORM_SLOW_SECONDS: "3" });
  const slow = path.join(h.s.stateDir, "terraform", "slow");
  while (!fs.existsSync(slow)) await new Promise((r) => setTimeout(r, 50));
  process.emit("SIGTERM", "SIGTERM");
  const r = await running;
  expect(r.code).toBe(143);
  expect(fs.readFileSync(path.join(h.s.stateDir, "terraform", "signals"), "utf8")).toBe(`SIGTERM apply ${stack("network")}\n`);
  expect(h.stopped).toBe(1);
  expect(h.terraform().some((l) => l.includes(stack("database")))).toBe(false);
  // The handlers are gone once the run is over.
  expect(process.listenerCount("SIGTERM")).toBe(0);
});

describe("skips and refusals", () => {
  test("no moto_server and no EMULATOR_URL: exit 3 and nothing is applied", async () => {
    h.deps = { ...h.deps, startMoto: () => Promise.reject(Object.assign(new Error("spawn moto_server ENOENT"), { code: "ENOENT" })) };
    const r = await h.run();
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("emulate: SKIPPED: no emulator: spawn moto_server ENOENT");
    expect(h.terraform()).toEqual(["terraform version"]);
  });

  test("MOTO_SERVER naming a missing program: exit 3 (skipped), through the real start", async () => {
    h.deps = { ...h.deps, startMoto };
    const r = await h.run(["dev"], { MOTO_SERVER: path.join(h.out, "no-moto") });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("emulate: SKIPPED: no emulator:");
    expect(r.stderr).toContain("install moto (pip install 'moto[server]') or set EMULATOR_URL");
  });

  test("no Terraform: exit 3 before any emulator starts", async () => {
    const r = await h.run(["dev"], { TF: path.join(h.out, "no-terraform") });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("SKIPPED: Terraform binary");
    expect(h.started).toHaveLength(0);
  });

  test("usage: one environment, synthesized", async () => {
    expect((await h.run([])).code).toBe(2);
    const r = await h.run(["prod"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no synthesized stacks for prod");
  });

  test("the real moto start: a missing binary is reported as such", async () => {
    await expect(startMoto(path.join(h.out, "no-moto"), {}, 2_000)).rejects.toMatchObject({
      code: "ENOENT",
      message: expect.stringContaining("could not be started"),
    });
  });
});

describe("the release rehearsal of the services phase", () => {
  const ALL = ["network", "database", "cache", "loadbalancer", "services", "observability"];
  const RELEASED = "1.0.0-emulate-release";
  const FOLDER = "accessweaver-dev-services-release";
  const releaseDir = () => path.join(h.out, "emulate", "dev", FOLDER);
  /** The release plan of the test (the stand-in answers one plan per folder; the release plan has its own). */
  let releasePlan: unknown;
  const td = (name: string, actions: string[]) => ({
    address: `aws_ecs_task_definition.${name}`,
    mode: "managed",
    type: "aws_ecs_task_definition",
    change: { actions, before: { family: name }, after: { family: name }, after_unknown: { arn: true } },
  });
  const svc = (
    name: string,
    actions: string[],
    before: unknown = { task_definition: "arn:1" },
    after: unknown = { task_definition: null },
    unknown: unknown = { task_definition: true },
  ) => ({
    address: `aws_ecs_service.${name}`,
    mode: "managed",
    type: "aws_ecs_service",
    change: { actions, before, after, after_unknown: unknown },
  });

  beforeEach(() => {
    fs.rmSync(path.join(h.out, "stacks"), { recursive: true, force: true });
    writeSynth(h.out, ALL);
    for (const phase of ALL) h.setPlan(phase, { resource_changes: [] });
    h.setPlan("services-release", { resource_changes: [] });
    releasePlan = { resource_changes: [td("api", ["delete", "create"]), td("pdp", ["create", "delete"]), svc("api", ["update"]), svc("pdp", ["update"])] };
    // TF: a wrapper of the stand-in that answers `show -json release.tfplan` with the test's release plan.
    const bin = path.join(h.out, "tf");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(h.out, "release-plan.json"), "");
    fs.writeFileSync(
      path.join(bin, "terraform"),
      `#!/usr/bin/env bash\nif [[ \${2:-} == show && \${3:-} == -json && \${4:-} == release.tfplan ]]; then\n  "${h.s.bin}/terraform" "$@" >/dev/null || exit\n  cat "${path.join(h.out, "release-plan.json")}"\n  exit\nfi\nexec "${h.s.bin}/terraform" "$@"\n`,
      { mode: 0o755 },
    );
  });

  const run = async (env: NodeJS.ProcessEnv = {}) => {
    fs.writeFileSync(path.join(h.out, "release-plan.json"), JSON.stringify(releasePlan));
    return h.run(["dev"], { TF: path.join(h.out, "tf", "terraform"), ...env });
  };

  test("after the second plans: make release's synth at a derived tag, the released copy on the same state, its plan applied, then a third plan", async () => {
    const settings = path.join(h.out, "settings-root");
    const r = await run({ ACCESSWEAVER_SETTINGS_ROOT: settings });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);

    // The synth was asked for every service at the settings' tag plus the suffix, into a folder of the run's own.
    expect(h.releases).toEqual([
      expect.objectContaining({ env: "dev", tag: RELEASED, outdir: path.join(h.out, "emulate", "dev", "release-synth"), settingsRoot: settings }),
    ]);

    const calls = h.terraform();
    const second = calls.indexOf("terraform accessweaver-dev-observability show -no-color second.tfplan");
    expect(second).toBeGreaterThan(0);
    const plugin = `-plugin-dir=${path.join(h.out, "mirror")}`;
    expect(calls.slice(second + 1)).toEqual([
      `terraform ${FOLDER} init -input=false -no-color -reconfigure ${plugin}`,
      `terraform ${FOLDER} plan -input=false -no-color -out=release.tfplan`,
      `terraform ${FOLDER} show -json release.tfplan`,
      `terraform ${FOLDER} show -no-color release.tfplan`,
      `terraform ${FOLDER} apply -input=false -no-color release.tfplan`,
      `terraform ${FOLDER} plan -detailed-exitcode -input=false -no-color -out=third.tfplan`,
      `terraform ${FOLDER} show -json third.tfplan`,
      `terraform ${FOLDER} show -no-color third.tfplan`,
    ]);

    // The released copy: the new tag, the same backend key and emulator as the first copy of the phase.
    const first = JSON.parse(fs.readFileSync(path.join(h.out, "emulate", "dev", "accessweaver-dev-services", "cdk.tf.json"), "utf8"));
    const released = JSON.parse(fs.readFileSync(path.join(releaseDir(), "cdk.tf.json"), "utf8"));
    expect(released.terraform.backend).toEqual(first.terraform.backend);
    expect(released.terraform.backend.s3.key).toBe("dev/services/terraform.tfstate");
    expect(released.provider).toEqual(first.provider);
    expect(released.resource.aws_ecs_task_definition.api.container_definitions).toContain(`${REGISTRY}/aw-api-gateway:${RELEASED}`);
    expect(first.resource.aws_ecs_task_definition.api.container_definitions).toContain(`${REGISTRY}/aw-api-gateway:1.0.0`);
    // The emulator gaps are handled as in the first copy.
    expect(released.resource.aws_appautoscaling_target).toBeUndefined();
    expect(released.variable).toEqual(first.variable);
    // The synthesized stacks of the run are untouched.
    expect(fs.readFileSync(path.join(h.out, "stacks", "accessweaver-dev-services", "cdk.tf.json"), "utf8")).toContain("aw-api-gateway:1.0.0");
    expect(fs.existsSync(path.join(releaseDir(), "release-plan.json"))).toBe(true);
    expect(fs.existsSync(path.join(releaseDir(), "third-plan.json"))).toBe(true);

    expect(r.stdout).toContain(`emulate: dev/services: rehearsing a release: every service from image tag 1.0.0 to ${RELEASED}`);
    expect(r.stdout).toContain("release plan: 2 new task definition revision(s), 2 service(s) changed; applied (");
    expect(r.stdout).toContain("third plan:   0 finding(s), 0 allow-listed emulator difference(s)");
    expect(r.stdout).toContain("The services phase's plan after a release is empty apart from the allow-listed emulator gaps.");
    expect(r.stdout).not.toContain("CodeDeploy:");
    const report = fs.readFileSync(path.join(h.out, "emulate", "dev", "report.md"), "utf8");
    expect(report).toContain("## After a release: the services phase planned again");
    expect(report).toContain("- new task definition revisions: `aws_ecs_task_definition.api`, `aws_ecs_task_definition.pdp`");
    expect(report).toContain("- services the release plan changes: `aws_ecs_service.api` (update), `aws_ecs_service.pdp` (update)");
    expect(report).toContain("### Findings after a release (0)");
  });

  test("a change in the plan after the release is a finding under its own heading: exit 1, even with empty second plans", async () => {
    h.setPlan("services-release", { resource_changes: [svc("pdp", ["update"], { desired_count: 2 }, { desired_count: 1 }, {})] });
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("second plan:  6 phase(s); 0 finding(s)");
    expect(r.stdout).toContain("The second plan is empty apart from the allow-listed emulator gaps.");
    expect(r.stdout).toContain("third plan:   1 finding(s), 0 allow-listed emulator difference(s)");
    expect(r.stdout).toContain("FINDING after a release: services: aws_ecs_service.pdp (update)");
    expect(r.stdout).toContain("desired_count: 2 -> 1");
    expect(r.stdout).toContain("After a release, the services phase is NOT as a release leaves it");
    const report = fs.readFileSync(path.join(h.out, "emulate", "dev", "report.md"), "utf8");
    expect(report).toContain("### Findings after a release (1)");
    expect(report).toContain("#### after a release: services: aws_ecs_service.pdp (update)");
    // The second-plan findings are not where it is counted.
    expect(report).toContain("## Findings (0)");
  });

  test("an allow-listed emulator gap in the plan after the release is not a finding", async () => {
    h.setPlan("services-release", { resource_changes: [svc("pdp", ["update"], { enable_ecs_managed_tags: true }, { enable_ecs_managed_tags: false }, {})] });
    h.setPlan("services", { resource_changes: [svc("pdp", ["update"], { enable_ecs_managed_tags: true }, { enable_ecs_managed_tags: false }, {})] });
    const r = await run();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("third plan:   0 finding(s), 1 allow-listed emulator difference(s)");
  });

  test("a release plan that registers no new revision of a task definition running the tag is a finding (the rehearsal would prove nothing)", async () => {
    releasePlan = { resource_changes: [td("api", ["delete", "create"]), svc("api", ["update"])] };
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `FINDING services (release plan): aws_ecs_task_definition.pdp: found the release plan leaves it unchanged; expected a new revision running the image tag ${RELEASED}`,
    );
  });

  test("blue/green: the CodeDeploy-released gateway's new task definition is registered and its service left alone; CodeDeploy is said not to be rehearsed", async () => {
    fs.rmSync(path.join(h.out, "stacks"), { recursive: true, force: true });
    writeSynth(h.out, ALL, { services: services({ blueGreen: true }) });
    h.releasedServices = (tag) => services({ tag, blueGreen: true });
    releasePlan = { resource_changes: [td("api", ["create"]), td("pdp", ["create"]), svc("pdp", ["update"])] };
    const r = await run();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("release plan: 2 new task definition revision(s), 1 service(s) changed");
    expect(r.stdout).toContain("CodeDeploy:   aws_ecs_service.api: its CodeDeploy deployment is not rehearsed (moto has no CODE_DEPLOY deployments)");
    expect(fs.readFileSync(path.join(h.out, "emulate", "dev", "report.md"), "utf8")).toContain(
      "`make release` then asks CodeDeploy to deploy it, which only AWS can show.",
    );
    // The CodeDeploy application stands in and is made in the emulator once, before the first apply (the
    // release continues in the same emulator); the deployment group names it.
    const created = h.calls.filter((c) => c.headers["x-amz-target"] === "CodeDeploy_20141006.CreateApplication");
    expect(created.map((c) => JSON.parse(c.body!))).toEqual([{ applicationName: "accessweaver-dev-api", computePlatform: "ECS" }]);
    expect(r.stdout).toContain("aws_codedeploy_app.api stands in (allow-list codedeploy-create-time); made in the emulator by a plain CreateApplication call");
    expect(copy("services").resource.aws_codedeploy_deployment_group.api.app_name).toBe("${var.standin__aws_codedeploy_app__api__name}");

    // A release plan that changes the CodeDeploy-released service itself is a finding.
    releasePlan = {
      resource_changes: [
        td("api", ["create"]),
        td("pdp", ["create"]),
        svc("api", ["update"], { task_definition: "arn:1" }, { task_definition: "arn:2" }, {}),
        svc("pdp", ["update"]),
      ],
    };
    const wrong = await run();
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain(
      'FINDING services (release plan): aws_ecs_service.api: found the release plan changes it (update: task_definition: "arn:1" -> "arn:2")',
    );
    expect(wrong.stdout).toContain("expected no change: CodeDeploy releases this service");
  });

  test("an emulator that refuses to make a stood-in resource fails before any apply, naming the call", async () => {
    fs.rmSync(path.join(h.out, "stacks"), { recursive: true, force: true });
    writeSynth(h.out, ALL, { services: services({ blueGreen: true }) });
    const answer = h.deps.send;
    h.deps = {
      ...h.deps,
      send: async (url, call) =>
        call.headers["x-amz-target"]?.endsWith(".CreateApplication") ? { status: 400, body: "ApplicationAlreadyExistsException" } : answer(url, call),
    };
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Error: the emulator refused CreateApplication: HTTP 400 ApplicationAlreadyExistsException");
    expect(r.stderr).toContain("FAILED in phase services (accessweaver-dev-services): CreateApplication of the stood-in aws_codedeploy_app.api exited 1");
    expect(h.terraform().some((l) => / apply /.test(` ${l} `))).toBe(false);
  });

  test("a failed release apply stops before the third plan and names the step; exit 1", async () => {
    const r = await run({
      STANDIN_TERRAFORM_FAIL_ON: "apply -input=false -no-color release.tfplan",
      STANDIN_TERRAFORM_FAIL_MESSAGE: "Error: updating ECS Service: boom",
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "emulate: dev: FAILED in phase services (accessweaver-dev-services): terraform apply (release) exited 1; Terraform's message is above.",
    );
    expect(r.stdout).toContain("second plan:  6 phase(s); 0 finding(s)");
    expect(r.stdout).toContain("FAILED in phase services: terraform apply (release) exited 1: Error: updating ECS Service: boom");
    expect(h.terraform().some((l) => l.includes("third.tfplan"))).toBe(false);
    expect(fs.readFileSync(path.join(h.out, "emulate", "dev", "report.md"), "utf8")).toContain(
      "None so far: the rehearsal stopped before the plan after the release.",
    );
  });

  test("a release synth that fails, or that does not put the tag in any task definition, fails the run with its message", async () => {
    h.deps = { ...h.deps, synthesizeRelease: () => Promise.reject(new Error("dev: image_tag: bad")) };
    const failed = await run();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("  | Error: the release's synth failed: dev: image_tag: bad");
    expect(failed.stderr).toContain("FAILED in phase services (accessweaver-dev-services): release synth exited 1; its message is above.");
    expect(h.terraform().some((l) => l.includes(FOLDER))).toBe(false);

    h.deps = { ...h.deps, synthesizeRelease: async (request) => writeSynth(request.outdir, ["services"], { services: services() }) };
    const untagged = await run();
    expect(untagged.code).toBe(1);
    expect(untagged.stderr).toContain(
      `Error: no task definition of accessweaver-dev-services runs ${RELEASED}; expected every service's task definition at the released tag.`,
    );
  });

  test("the real release synth: make release's, every service at the tag, the settings left as they are", async () => {
    const { synthesizeRelease } = await import("../scripts/emulate/release");
    const root = tempDir("aw-emulate-settings-");
    fs.mkdirSync(path.join(root, "environments", "dev"), { recursive: true });
    const example = path.resolve(__dirname, "..", "environments", "dev", "terraform.tfvars.example");
    fs.copyFileSync(example, path.join(root, "environments", "dev", "terraform.tfvars"));
    const before = fs.readFileSync(path.join(root, "environments", "dev", "terraform.tfvars"), "utf8");
    const outdir = path.join(h.out, "real-release");
    const notices: string[] = [];
    try {
      await synthesizeRelease({ env: "dev", tag: "9.9.9-emulate-release", outdir, settingsRoot: root, notice: (m) => notices.push(m) });
      const config = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", "accessweaver-dev-services", "cdk.tf.json"), "utf8"));
      const images = Object.values(config.resource.aws_ecs_task_definition as Record<string, { container_definitions: string }>).flatMap((t) =>
        JSON.parse(t.container_definitions).map((c: { name: string; image: string }) => [c.name, c.image.split(":").pop()]),
      );
      const services = images.filter(([name]) => String(name).startsWith("aw-"));
      expect(services.length).toBe(5);
      expect(services.every(([, tag]) => tag === "9.9.9-emulate-release")).toBe(true);
      expect(fs.readFileSync(path.join(root, "environments", "dev", "terraform.tfvars"), "utf8")).toBe(before);
      expect(notices).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});
