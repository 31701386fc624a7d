// make release and make restart with the recording stand-ins: the ECR check, the services-only plan
// and apply, CodeDeploy for the blue/green gateway (prod's fixture stack has its deployment group),
// ECS's forced deployment for rolling services, and the refusals.
import * as fs from "fs";
import * as path from "path";
import { loadEnvironment } from "../src/config/load";
import { SERVICES, ServiceName } from "../src/naming";
import { withImageTag } from "../src/synth";
import { prepareTagRecord, writeTagRecord } from "../scripts/operator/release-settings";
import { Refusal } from "../scripts/operator/process";
import { config } from "./support/config";
import { operatorHarness, settingsRoot } from "./support/standins-operator";

const h = operatorHarness();
const REGION = "eu-west-1";
const REGISTRY = "444455556666.dkr.ecr.eu-west-1.amazonaws.com";
const TASK_DEF = "arn:aws:ecs:eu-west-1:444455556666:task-definition/accessweaver-prod-aw-api-gateway:7";
const WITH_SERVICES = { FAKE_SERVICES: "1", AUTO_APPROVE: "1" };
/** The services released rolling everywhere (prod's gateway is blue/green). */
const INTERNAL = SERVICES.filter((s) => s !== "aw-api-gateway");

/** Scripts one aws answer; earlier calls of this function win when prefixes overlap. `once`: used by one call only. */
function answer(match: string, body: unknown, exit = 0, once = false): void {
  const dir = path.join(h.s.stateDir, "aws", "scripted");
  fs.mkdirSync(dir, { recursive: true });
  const n = fs.readdirSync(dir).length;
  fs.writeFileSync(
    path.join(dir, `${String(n).padStart(3, "0")}${once ? ".once" : ""}.answer`),
    `match: ${match}\nexit: ${exit}\n---\n${typeof body === "string" ? body : JSON.stringify(body)}`,
  );
}

const describeImages = (service: string, tag: string) =>
  `aws ecr describe-images --registry-id 444455556666 --repository-name ${service} --image-ids imageTag=${tag} --region ${REGION}`;
const awsCalls = (log: string[]) => log.filter((l) => l.startsWith("aws "));
const tfCalls = (log: string[], command: string) => log.filter((l) => l.startsWith("terraform ") && l.includes(` ${command} `));
const overrideOf = (env: string) =>
  JSON.parse(fs.readFileSync(path.join(h.out, "stacks", `accessweaver-${env}-services`, "cdk.tf.json"), "utf8")).imageTagOverride;

/** A task definition ARN of the fixture's account. */
const td = (env: string, s: string, revision: number) => `arn:aws:ecs:eu-west-1:444455556666:task-definition/accessweaver-${env}-${s}:${revision}`;
const waitStable = (env: string, services: readonly string[]) =>
  `aws ecs wait services-stable --cluster accessweaver-${env}-cluster --services ${services.map((s) => `accessweaver-${env}-${s}`).join(" ")} --region ${REGION}`;
const describeServices = (env: string, services: readonly string[]) =>
  `aws ecs describe-services --cluster accessweaver-${env}-cluster --services ${services.map((s) => `accessweaver-${env}-${s}`).join(" ")} --output json --region ${REGION}`;
const CIRCUIT_BREAKER = "ECS deployment circuit breaker: tasks failed to start.";

/**
 * The services phase's task_definition_arns after the apply (revision 8 of every service), and ECS's
 * answers for the rolling services: stable, each PRIMARY deployment COMPLETED on revision 8, except
 * `rolledBack`, which the circuit breaker took back to revision 7 (a new PRIMARY deployment).
 */
function rolloutAnswers(env: string, services: readonly string[], opts: { rolledBack?: string; waitExit?: number } = {}): void {
  const outputs = path.join(h.s.stateDir, "terraform", "outputs", `accessweaver-${env}-services`);
  fs.mkdirSync(outputs, { recursive: true });
  fs.writeFileSync(path.join(outputs, "task_definition_arns"), JSON.stringify(Object.fromEntries(SERVICES.map((s) => [s, td(env, s, 8)]))));
  answer("ecs wait services-stable", opts.waitExit ? "Waiter ServicesStable failed: Max attempts exceeded" : "", opts.waitExit ?? 0);
  answer("ecs describe-services", {
    services: services.map((s) => ({
      serviceName: `accessweaver-${env}-${s}`,
      deployments:
        s === opts.rolledBack
          ? [
              {
                id: "ecs-svc/222",
                status: "PRIMARY",
                taskDefinition: td(env, s, 7),
                rolloutState: "COMPLETED",
                rolloutStateReason: "ECS deployment ecs-svc/222 completed.",
              },
            ]
          : [
              {
                id: "ecs-svc/111",
                status: "PRIMARY",
                taskDefinition: td(env, s, 8),
                rolloutState: "COMPLETED",
                rolloutStateReason: "ECS deployment ecs-svc/111 completed.",
              },
            ],
      events:
        s === opts.rolledBack
          ? [
              { message: `(service accessweaver-${env}-${s}) has reached a steady state.` },
              { message: `(service accessweaver-${env}-${s}) (deployment ecs-svc/111) deployment failed: tasks failed to start.` },
            ]
          : [{ message: `(service accessweaver-${env}-${s}) has reached a steady state.` }],
    })),
  });
}

/** A settings folder's terraform.tfvars of an environment. */
const tfvars = (root: string, env = "prod") => path.join(root, "environments", env, "terraform.tfvars");

/** The services phase's output: the gateway's task definition registered by the apply. */
function gatewayTaskDefinition(): void {
  const outputs = path.join(h.s.stateDir, "terraform", "outputs", "accessweaver-prod-services");
  fs.mkdirSync(outputs, { recursive: true });
  fs.writeFileSync(path.join(outputs, "api_gateway_task_definition_arn"), TASK_DEF);
}

/** Releases prod's gateway while someone edits its settings file during the apply (so the tag cannot be recorded). */
async function releaseGatewayWhileSettingsChange() {
  const run = h.multiAsync(["release", "prod"], {
    ...WITH_SERVICES,
    TAG: "1.4.2",
    SERVICE: "aw-api-gateway",
    STANDIN_TERRAFORM_SLOW_ON: "apply",
    STANDIN_TERRAFORM_SLOW_SECONDS: "1",
  });
  await h.waitForSlow("apply", "accessweaver-prod-services");
  fs.appendFileSync(tfvars(h.root), "# edited meanwhile\n");
  return run.done;
}

function codeDeployAnswers(status = "Succeeded", waitExit = 0): void {
  answer("ecr describe-images", { imageDetails: [{ imageTags: ["1.4.2"] }] });
  answer("deploy create-deployment", { deploymentId: "d-ABC" });
  answer("deploy wait deployment-successful", waitExit === 0 ? "" : "Waiter DeploymentSuccessful failed", waitExit);
  answer("deploy get-deployment --deployment-id d-ABC", `${status}\n`);
}

describe("make release", () => {
  it("checks every service's image, plans and applies only the services phase, waits for the rolling services, then deploys the gateway through CodeDeploy (prod)", async () => {
    codeDeployAnswers();
    rolloutAnswers("prod", INTERNAL);
    gatewayTaskDefinition();

    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2" });
    expect(r.stderr).not.toContain("refused");
    expect(r.status).toBe(0);
    const calls = awsCalls(r.log);
    expect(calls.slice(0, SERVICES.length)).toEqual(SERVICES.map((s) => describeImages(s, "1.4.2")));
    // The four rolling services first: stable, then each PRIMARY deployment COMPLETED on what was applied.
    expect(calls.slice(SERVICES.length, SERVICES.length + 2)).toEqual([waitStable("prod", INTERNAL), describeServices("prod", INTERNAL)]);
    const outputRead = r.log.indexOf(`terraform ${h.dir("prod", "services")} output -json task_definition_arns`);
    expect(outputRead).toBeGreaterThanOrEqual(0);
    expect(outputRead).toBeLessThan(r.log.indexOf(waitStable("prod", INTERNAL)));
    expect(r.stdout).toContain(
      "accessweaver-prod-aw-pdp-service, accessweaver-prod-aw-pap-service, accessweaver-prod-aw-tenant-service, accessweaver-prod-aw-audit-service: rollout COMPLETED on the released task definitions.",
    );
    const [create, wait, get] = calls.slice(SERVICES.length + 2);
    expect(create).toMatch(
      /^aws deploy create-deployment --application-name accessweaver-prod-aw-api-gateway --deployment-group-name accessweaver-prod-aw-api-gateway --revision '\{.*\}' --output json --region eu-west-1$/,
    );
    const revision = JSON.parse(create!.replace(/^.* --revision '(\{.*\})' --output json.*$/, "$1"));
    expect(revision.revisionType).toBe("AppSpecContent");
    expect(revision.appSpecContent.content).toBe(
      `{"version":0.0,"Resources":[{"TargetService":{"Type":"AWS::ECS::Service","Properties":{"TaskDefinition":"${TASK_DEF}","LoadBalancerInfo":{"ContainerName":"aw-api-gateway","ContainerPort":8080},"CapacityProviderStrategy":[{"Base":0,"CapacityProvider":"FARGATE","Weight":1}]}}}]}`,
    );
    expect([wait, get]).toEqual([
      `aws deploy wait deployment-successful --deployment-id d-ABC --region ${REGION}`,
      `aws deploy get-deployment --deployment-id d-ABC --query deploymentInfo.status --output text --region ${REGION}`,
    ]);
    // Only the services phase is planned and applied, and CodeDeploy starts after the apply.
    expect(tfCalls(r.log, "plan").map((l) => l.split(" ")[1])).toEqual([h.dir("prod", "services")]);
    expect(tfCalls(r.log, "apply").map((l) => l.split(" ")[1])).toEqual([h.dir("prod", "services")]);
    expect(r.log.findIndex((l) => l.includes(" apply "))).toBeLessThan(r.log.indexOf(waitStable("prod", INTERNAL)));
    expect(r.log.indexOf(describeServices("prod", INTERNAL))).toBeLessThan(r.log.indexOf(create!));
    expect(overrideOf("prod")).toEqual({ services: [...SERVICES], tag: "1.4.2" });
    expect(r.stdout).toContain("CodeDeploy deployment d-ABC: Succeeded");
    expect(r.stdout).toContain("Next: make release applies it now (prod asks first unless AUTO_APPROVE=1).");
  });

  it("synthesizes the tag over the settings for the released services only", () => {
    const prod = config("prod");
    const released = withImageTag(prod, { services: ["aw-pdp-service"], tag: "1.4.2" });
    expect(released.settings.imageTags["aw-pdp-service"]).toBe("1.4.2");
    for (const s of SERVICES.filter((x) => x !== "aw-pdp-service")) expect(released.settings.imageTags[s]).toBe(prod.settings.imageTags[s]);
    expect(prod.settings.imageTags["aw-pdp-service"]).not.toBe("1.4.2");
  });

  it("releases one rolling service with SERVICE: its image only, waits for its rollout, and no CodeDeploy", async () => {
    answer("ecr describe-images", { imageDetails: [] });
    rolloutAnswers("prod", ["aw-pdp-service"]);
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", SERVICE: "aw-pdp-service" });
    expect(r.status).toBe(0);
    expect(awsCalls(r.log)).toEqual([
      describeImages("aw-pdp-service", "1.4.2"),
      waitStable("prod", ["aw-pdp-service"]),
      describeServices("prod", ["aw-pdp-service"]),
    ]);
    expect(r.log.filter((l) => l.includes(" output -json task_definition_arns"))).toEqual([
      `terraform ${h.dir("prod", "services")} output -json task_definition_arns`,
    ]);
    expect(r.stdout).toContain("accessweaver-prod-aw-pdp-service: rollout COMPLETED on the released task definitions.");
    expect(overrideOf("prod")).toEqual({ services: ["aw-pdp-service"], tag: "1.4.2" });
    expect(tfCalls(r.log, "apply")).toHaveLength(1);
  });

  it("reads a rollout still IN_PROGRESS on the released revision again (the alarms' bake time) until it COMPLETED", async () => {
    answer("ecr describe-images", { imageDetails: [] });
    const baking = {
      id: "ecs-svc/111",
      status: "PRIMARY",
      taskDefinition: td("prod", "aw-pdp-service", 8),
      rolloutState: "IN_PROGRESS",
      rolloutStateReason: "ECS deployment ecs-svc/111 in progress.",
    };
    answer("ecs describe-services", { services: [{ serviceName: "accessweaver-prod-aw-pdp-service", deployments: [baking] }] }, 0, true);
    answer("ecs describe-services", { services: [{ serviceName: "accessweaver-prod-aw-pdp-service", deployments: [baking] }] }, 0, true);
    rolloutAnswers("prod", ["aw-pdp-service"]);
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", SERVICE: "aw-pdp-service", ROLLOUT_POLL_SECONDS: "0" });
    expect(r.status).toBe(0);
    expect(awsCalls(r.log)).toEqual([
      describeImages("aw-pdp-service", "1.4.2"),
      waitStable("prod", ["aw-pdp-service"]),
      ...Array(3).fill(describeServices("prod", ["aw-pdp-service"])),
    ]);
    expect(r.stdout).toContain("accessweaver-prod-aw-pdp-service: rollout COMPLETED on the released task definitions.");
  });

  it("fails a rollout that is still IN_PROGRESS after ten minutes of reads, saying it may still complete or roll back", async () => {
    answer("ecr describe-images", { imageDetails: [] });
    answer("ecs describe-services", {
      services: [
        {
          serviceName: "accessweaver-prod-aw-pdp-service",
          deployments: [
            {
              id: "ecs-svc/111",
              status: "PRIMARY",
              taskDefinition: td("prod", "aw-pdp-service", 8),
              rolloutState: "IN_PROGRESS",
              rolloutStateReason: "ECS deployment ecs-svc/111 in progress.",
            },
          ],
        },
      ],
    });
    rolloutAnswers("prod", ["aw-pdp-service"]); // the outputs and the wait; its COMPLETED answer comes after the one above
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", SERVICE: "aw-pdp-service", ROLLOUT_POLL_SECONDS: "0" });
    expect(r.status).toBe(2);
    // The first read after the wait, then 40 more (every 15 s by default: ten minutes).
    expect(awsCalls(r.log).filter((c) => c.startsWith("aws ecs describe-services"))).toHaveLength(41);
    expect(r.stderr).toContain('PRIMARY deployment ecs-svc/111 IN_PROGRESS: "ECS deployment ecs-svc/111 in progress."');
    expect(r.stderr).toContain("aw-pdp-service may still complete or roll back: read the deployments before anything else.");
  });

  it("fails, naming the deployment and its state, when CodeDeploy does not succeed", async () => {
    codeDeployAnswers("Stopped", 255);
    answer("ecs describe-services", `${td("prod", "aw-api-gateway", 6)}\n`);
    gatewayTaskDefinition();
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", SERVICE: "aw-api-gateway" });
    expect(r.status).toBe(2);
    expect(r.stdout).toContain("CodeDeploy deployment d-ABC: Stopped");
    expect(r.stderr).toContain("CodeDeploy deployment d-ABC of aw-api-gateway ended Stopped: the deployment group rolls back to the blue tasks");
    // What runs is asked of ECS once CodeDeploy has answered.
    expect(awsCalls(r.log).slice(-1)).toEqual([
      `aws ecs describe-services --cluster accessweaver-prod-cluster --services accessweaver-prod-aw-api-gateway --query 'services[0].taskDefinition' --output text --region ${REGION}`,
    ]);
  });

  it("after a failed CodeDeploy deployment, says the settings and the state hold the new tag while blue runs the old one, what the next plan does, and what to run", async () => {
    codeDeployAnswers("Failed", 255);
    answer("ecs describe-services", `${td("prod", "aw-api-gateway", 6)}\n`);
    gatewayTaskDefinition();
    const previous = (await loadEnvironment("prod", { rootDir: h.root, notice: () => undefined })).settings.imageTags["aw-api-gateway"];
    expect(previous).not.toBe("1.4.2");
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", SERVICE: "aw-api-gateway" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `Where the gateway stands: environments/prod/terraform.tfvars already records 1.4.2 for aw-api-gateway (written after the apply) and Terraform's state holds its 1.4.2 task definition (${TASK_DEF}), but accessweaver-prod-aw-api-gateway runs its blue tasks: ${td("prod", "aw-api-gateway", 6)}.`,
    );
    expect(r.stderr).toContain(
      "The next make plan ENV=prod PHASE=services is quiet about it (the service's task_definition is in ignore_changes: CodeDeploy, not Terraform, deploys it), so the gateway stays on the earlier revision until a make release deploys one.",
    );
    expect(r.stderr).toContain(
      `Next: fix the image and release a fixed tag: make release ENV=prod TAG=<fixed tag> SERVICE=aw-api-gateway; or go back to the tag the settings held before this release, so that they say what runs: make release ENV=prod TAG=${previous} SERVICE=aw-api-gateway. (make release ENV=prod TAG=1.4.2 SERVICE=aw-api-gateway retries the same deployment.)`,
    );
  });

  it("after a failed CodeDeploy deployment, still says what to run when ECS cannot be asked what runs", async () => {
    codeDeployAnswers("Failed", 255);
    answer("ecs describe-services", "An error occurred (AccessDeniedException)", 254);
    gatewayTaskDefinition();
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", SERVICE: "aw-api-gateway" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("but accessweaver-prod-aw-api-gateway runs its blue tasks: the task definition it ran before this release.");
    expect(r.stderr).toContain("Next: fix the image and release a fixed tag: make release ENV=prod TAG=<fixed tag> SERVICE=aw-api-gateway;");
  });

  it("fails when the circuit breaker rolled a released service back, naming it, what ECS reports, what the settings and the next plan hold, and what to do", async () => {
    answer("ecr describe-images", { imageDetails: [] });
    rolloutAnswers("prod", ["aw-pdp-service"], { rolledBack: "aw-pdp-service" });
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", SERVICE: "aw-pdp-service" });
    expect(r.status).toBe(2);
    // It ended "stable" (the rollback is): only the deployment's task definition tells.
    expect(awsCalls(r.log).slice(1)).toEqual([waitStable("prod", ["aw-pdp-service"]), describeServices("prod", ["aw-pdp-service"])]);
    expect(r.stdout).not.toContain("rollout COMPLETED");
    expect(r.stderr).toContain(
      [
        "make release ENV=prod TAG=1.4.2: the rolling deployment did not complete.",
        `- accessweaver-prod-aw-pdp-service ROLLED BACK: it runs ${td("prod", "aw-pdp-service", 7)} again, not ${td("prod", "aw-pdp-service", 8)}. ECS reports: PRIMARY deployment ecs-svc/222 COMPLETED: "ECS deployment ecs-svc/222 completed."; latest failure event: "(service accessweaver-prod-aw-pdp-service) (deployment ecs-svc/111) deployment failed: tasks failed to start.".`,
        "environments/prod/terraform.tfvars already records 1.4.2 for aw-pdp-service (written after the apply), and Terraform's state holds their 1.4.2 task definitions.",
        "So the next make plan ENV=prod PHASE=services shows an in-place change of task_definition on accessweaver-prod-aw-pdp-service, from the revision ECS went back to, to the 1.4.2 one: applying it deploys the failing release again.",
        "Next: fix the image and release a fixed tag (make release ENV=prod TAG=<fixed tag> SERVICE=aw-pdp-service), or go back to the tag the settings held before this release: make release ENV=prod TAG=1.0.0 SERVICE=aw-pdp-service. Either records its tag, after which make plan is quiet again.",
        `Read the deployments and events: aws ecs describe-services --cluster accessweaver-prod-cluster --services accessweaver-prod-aw-pdp-service --region ${REGION} --query 'services[].[serviceName,deployments,events[:10]]'`,
      ].join("\n"),
    );
    // The settings say what Terraform applied (the record comes before the wait).
    expect(fs.readFileSync(path.join(h.root, "environments/prod/terraform.tfvars"), "utf8")).toContain('image_tag_overrides = { aw-pdp-service = "1.4.2" }');
  });

  it("after a wait that gave up, reads the deployments once and reports the failed deployment's rollout state reason while ECS still lists it", async () => {
    answer("ecr describe-images", { imageDetails: [] });
    answer("ecs describe-services", {
      services: [
        {
          serviceName: "accessweaver-prod-aw-tenant-service",
          deployments: [
            {
              id: "ecs-svc/222",
              status: "PRIMARY",
              taskDefinition: td("prod", "aw-tenant-service", 7),
              rolloutState: "IN_PROGRESS",
              rolloutStateReason: "ECS deployment ecs-svc/222 in progress.",
            },
            {
              id: "ecs-svc/111",
              status: "ACTIVE",
              taskDefinition: td("prod", "aw-tenant-service", 8),
              rolloutState: "FAILED",
              rolloutStateReason: CIRCUIT_BREAKER,
            },
          ],
          events: [],
        },
      ],
    });
    rolloutAnswers("prod", ["aw-tenant-service"], { waitExit: 255 }); // the outputs and the failed wait; the answer above comes first
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", SERVICE: "aw-tenant-service" });
    expect(r.status).toBe(2);
    expect(awsCalls(r.log).filter((c) => c.startsWith("aws ecs describe-services"))).toHaveLength(1);
    expect(r.stderr).toContain(
      `- accessweaver-prod-aw-tenant-service ROLLED BACK: it runs ${td("prod", "aw-tenant-service", 7)} again, not ${td("prod", "aw-tenant-service", 8)}. ECS reports: deployment ecs-svc/111 of ${td("prod", "aw-tenant-service", 8)} FAILED: "${CIRCUIT_BREAKER}".`,
    );
  });

  it("fails a release whose wait gave up even though every rollout now reports COMPLETED, saying so", async () => {
    answer("ecr describe-images", { imageDetails: [] });
    rolloutAnswers("prod", ["aw-tenant-service"], { waitExit: 255 });
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", SERVICE: "aw-tenant-service" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      "- aws ecs wait services-stable gave up (10 minutes) before every service was stable, though each now reports its rollout COMPLETED.",
    );
  });

  it("does not start the gateway's CodeDeploy deployment when a rolling service rolled back (prod, every service)", async () => {
    codeDeployAnswers();
    rolloutAnswers("prod", INTERNAL, { rolledBack: "aw-audit-service" });
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2" });
    expect(r.status).toBe(2);
    expect(awsCalls(r.log).some((c) => c.startsWith("aws deploy "))).toBe(false);
    expect(r.stderr).toContain("- accessweaver-prod-aw-audit-service ROLLED BACK:");
    expect(r.stderr).not.toContain("- accessweaver-prod-aw-pdp-service");
    expect(r.stderr).toContain(
      "environments/prod/terraform.tfvars already records 1.4.2 for aw-pdp-service, aw-pap-service, aw-tenant-service, aw-audit-service (written after the apply)",
    );
    expect(r.stderr).toContain("go back to the tag the settings held before this release: make release ENV=prod TAG=1.0.0 SERVICE=aw-audit-service.");
    expect(r.stderr).toContain(
      "The gateway's CodeDeploy deployment was not started (its 1.4.2 task definition is registered): once the rolling services are sound, make release ENV=prod TAG=1.4.2 SERVICE=aw-api-gateway deploys it.",
    );
  });

  it("refuses a missing image, naming it, before any synth, plan or apply", async () => {
    answer(
      "ecr describe-images --registry-id 444455556666 --repository-name aw-pdp-service",
      "An error occurred (ImageNotFoundException): Requested image not found",
      254,
    );
    answer("ecr describe-images", { imageDetails: [] });
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.3" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `Release refused: the image ${REGISTRY}/aw-pdp-service:1.4.3 was not found (aws ecr describe-images: An error occurred (ImageNotFoundException): Requested image not found). Nothing was planned or applied.`,
    );
    expect(r.log.filter((l) => l.startsWith("terraform "))).toEqual([]);
    expect(fs.existsSync(path.join(h.out, "stacks", "accessweaver-prod-services"))).toBe(false);
  });

  it.each([
    [
      ["release", "prod"],
      { TAG: "latest" },
      'TAG refused: "latest" is refused in prod: give an immutable release tag. Nothing was checked, planned or applied.',
    ],
    [["release", "dev"], { TAG: "-bad" }, 'TAG refused: "-bad" is not an image tag'],
    [["release", "dev"], {}, "make release needs TAG"],
    [["release", "dev"], { TAG: "1.4.2", SERVICE: "aw-billing" }, 'Unknown SERVICE "aw-billing". Services: aw-api-gateway, '],
    [["release", "dev", "cache"], { TAG: "1.4.2" }, 'make release acts on the services phase only: leave PHASE out (it was "cache")'],
    [["restart", "dev"], {}, "make restart needs SERVICE"],
  ] as const)("refuses %j with %j, calling nothing", async (args, env, message) => {
    const r = await h.multi([...args], { ...WITH_SERVICES, ...env });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.log).toEqual([]);
  });

  it("lets dev release latest (only prod refuses it)", async () => {
    answer("ecr describe-images", { imageDetails: [] });
    rolloutAnswers("dev", ["aw-api-gateway"]);
    const r = await h.multi(["release", "dev"], { ...WITH_SERVICES, TAG: "latest", SERVICE: "aw-api-gateway" });
    expect(r.status).toBe(0);
    // dev's gateway is rolling: waited for as the others are, no CodeDeploy.
    expect(awsCalls(r.log)).toEqual([
      describeImages("aw-api-gateway", "latest"),
      waitStable("dev", ["aw-api-gateway"]),
      describeServices("dev", ["aw-api-gateway"]),
    ]);
  });
});

describe("make release records the tag in the settings", () => {
  const read = (root: string, env = "prod") => fs.readFileSync(tfvars(root, env), "utf8");
  const DEFAULT_LINES = 'image_tag           = "1.0.0"\nimage_tag_overrides = {}\n';

  /** Prepares and writes the record in a settings copy whose tag lines are `lines`; returns the file after. */
  async function recorded(
    lines: string,
    services: readonly ServiceName[],
    tag: string,
  ): Promise<{ before: string; after: string; changes: readonly string[] }> {
    const root = settingsRoot(["prod"], (t) => t.replace(DEFAULT_LINES, lines));
    const before = read(root);
    expect(before).toContain(lines);
    const r = await prepareTagRecord(root, await loadEnvironment("prod", { rootDir: root }), services, tag);
    writeTagRecord(r);
    const after = read(root);
    // Read back by the loader: what was released, the rest as before.
    const loaded = await loadEnvironment("prod", { rootDir: root });
    for (const s of services) expect(loaded.settings.imageTags[s]).toBe(tag);
    expect(fs.readdirSync(path.dirname(tfvars(root))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    return { before, after, changes: r.changes };
  }

  it("after the apply and before CodeDeploy, sets image_tag for a release of every service (prod)", async () => {
    codeDeployAnswers();
    rolloutAnswers("prod", INTERNAL);
    gatewayTaskDefinition();
    const before = read(h.root);
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2" });
    expect(r.status).toBe(0);
    expect(read(h.root)).toBe(before.replace('image_tag           = "1.0.0"', 'image_tag           = "1.4.2"'));
    expect(r.stdout).toContain('Settings environments/prod/terraform.tfvars now record the release:\n  image_tag: "1.0.0" -> "1.4.2"\n');
    expect(r.stdout.indexOf("now record the release")).toBeLessThan(r.stdout.indexOf("CodeDeploy deployment d-ABC:"));
  });

  it("deploys the gateway even when the settings cannot be recorded (changed during the apply), then fails naming what to set", async () => {
    codeDeployAnswers();
    gatewayTaskDefinition();
    const r = await releaseGatewayWhileSettingsChange();
    expect(r.status).toBe(2);
    // The registered task definition still reaches the service: CodeDeploy ran and succeeded.
    expect(awsCalls(r.log).some((c) => c.startsWith("aws deploy create-deployment "))).toBe(true);
    expect(r.stdout).toContain("CodeDeploy deployment d-ABC: Succeeded");
    expect(r.stderr).toContain(
      'The apply succeeded, but environments/prod/terraform.tfvars was not updated: it changed while make release ran. Set image_tag_overrides entry aw-api-gateway = "1.4.2" in it by hand',
    );
    expect(read(h.root)).not.toContain("1.4.2");
  });

  it("when CodeDeploy fails too, reports both: the deployment's end and the tag the settings did not record", async () => {
    codeDeployAnswers("Stopped", 255);
    gatewayTaskDefinition();
    answer("ecs describe-services", `${td("prod", "aw-api-gateway", 6)}\n`);
    const r = await releaseGatewayWhileSettingsChange();
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("CodeDeploy deployment d-ABC of aw-api-gateway ended Stopped");
    // The settings were not updated: they hold the earlier tag, and the next plan registers a revision of it.
    expect(r.stderr).toMatch(
      /Where the gateway stands: Terraform's state holds its 1\.4\.2 task definition \(.*\), environments\/prod\/terraform\.tfvars still holds \S+ \(not updated, below\), and accessweaver-prod-aw-api-gateway runs its blue tasks: .*:6\./,
    );
    expect(r.stderr).toContain("The next make plan ENV=prod PHASE=services registers a new");
    expect(r.stderr).toContain(
      'environments/prod/terraform.tfvars was not updated: it changed while make release ran. Set image_tag_overrides entry aw-api-gateway = "1.4.2" in it by hand',
    );
  });

  it("keeps the recorded tag when CodeDeploy then fails: the settings say what Terraform applied", async () => {
    codeDeployAnswers("Stopped", 255);
    gatewayTaskDefinition();
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", SERVICE: "aw-api-gateway" });
    expect(r.status).toBe(2);
    expect(read(h.root)).toContain('image_tag_overrides = { aw-api-gateway = "1.4.2" }\n');
  });

  it("leaves the file untouched when the apply fails", async () => {
    answer("ecr describe-images", { imageDetails: [] });
    const before = read(h.root);
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", STANDIN_TERRAFORM_FAIL_ON: "apply" });
    expect(r.status).not.toBe(0);
    expect(tfCalls(r.log, "apply")).toHaveLength(1);
    expect(read(h.root)).toBe(before);
    expect(r.stdout).not.toContain("now record");
  });

  it("Ctrl-C during the release's apply: Terraform stops, the settings are untouched, no service is waited for or deployed; a second release meanwhile is refused", async () => {
    answer("ecr describe-images", { imageDetails: [] });
    const before = read(h.root);
    const run = h.multiAsync(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", STANDIN_TERRAFORM_SLOW_ON: "apply", STANDIN_TERRAFORM_SLOW_SECONDS: "2" });
    await h.waitForSlow("apply", "accessweaver-prod-services");
    // (The harness's call log restarts here: what follows counts both runs; the refused one calls nothing.)
    const second = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.3" });
    expect(second.status).toBe(2);
    expect(second.stderr).toMatch(/make release of prod/);
    process.kill(-run.child.pid!, "SIGINT"); // the whole process group, as a terminal does
    const r = await run.done;
    expect(r.status).toBe(130);
    expect(fs.readFileSync(path.join(h.s.stateDir, "terraform", "signals"), "utf8")).toBe("SIGINT apply accessweaver-prod-services\n");
    expect(read(h.root)).toBe(before);
    expect(awsCalls(r.log).filter((c) => !c.startsWith("aws ecr "))).toEqual([]);
    expect(r.stdout).not.toContain("now record");
  });

  it("refuses when only the example exists, calling nothing and writing nothing", async () => {
    fs.rmSync(tfvars(h.root));
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("make release refused for prod: it would run on the example settings (environments/prod/terraform.tfvars.example)");
    expect(r.log).toEqual([]);
    expect(fs.existsSync(tfvars(h.root))).toBe(false);
  });

  it("refuses a shape it cannot edit before anything is checked or planned, naming the file, key, found and expected", async () => {
    fs.writeFileSync(tfvars(h.root), read(h.root).replace("image_tag_overrides = {}", 'image_tag_overrides = {\n  aw-pap-service = "1.3.0" }'));
    const before = read(h.root);
    const line = before.split("\n").indexOf('  aw-pap-service = "1.3.0" }') + 1;
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", SERVICE: "aw-pdp-service" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `environments/prod/terraform.tfvars: image_tag_overrides: found line ${line}: aw-pap-service = "1.3.0" }; expected one service = "<tag>" per line. Nothing was checked, planned or applied.`,
    );
    expect(r.stderr).toContain('set image_tag_overrides entry aw-pdp-service = "1.4.2"');
    expect(r.log).toEqual([]);
    expect(read(h.root)).toBe(before);
  });

  it("refuses when the file changed during the release, naming what to set by hand", async () => {
    const root = settingsRoot(["prod"]);
    const r = await prepareTagRecord(root, await loadEnvironment("prod", { rootDir: root }), ["aw-pdp-service"], "1.4.2");
    fs.appendFileSync(tfvars(root), "# edited meanwhile\n");
    expect(() => writeTagRecord(r)).toThrow(
      'The apply succeeded, but environments/prod/terraform.tfvars was not updated: it changed while make release ran. Set image_tag_overrides entry aw-pdp-service = "1.4.2" in it by hand',
    );
    expect(read(root)).toContain("# edited meanwhile\n");
    expect(read(root)).not.toContain("1.4.2");
  });

  it.each([
    [
      "every service, pins present (one line): image_tag set, the pins go",
      'image_tag           = "1.0.0"\nimage_tag_overrides = { aw-pdp-service = "0.9.0" } # pinned\n',
      SERVICES,
      'image_tag           = "1.4.2"\nimage_tag_overrides = {} # pinned\n',
    ],
    [
      "one service, key absent: the map is added after image_tag",
      'image_tag           = "1.0.0"\n',
      ["aw-pdp-service"],
      'image_tag           = "1.0.0"\nimage_tag_overrides = { aw-pdp-service = "1.4.2" }\n',
    ],
    [
      "one service, one-line map: its entry added, the others and the comment kept",
      'image_tag           = "1.0.0"\nimage_tag_overrides = { "aw-pap-service" = "1.3.0" } # pinned for INC-7\n',
      ["aw-pdp-service"],
      'image_tag           = "1.0.0"\nimage_tag_overrides = { aw-pap-service = "1.3.0", aw-pdp-service = "1.4.2" } # pinned for INC-7\n',
    ],
    [
      "one service, multi-line map: its line changed in place, comments and other entries kept",
      'image_tag           = "1.0.0"\nimage_tag_overrides = {\n  # hotfix line\n  aw-pdp-service = "1.3.9" # INC-7\n  "aw-pap-service" = "1.3.0"\n}\n',
      ["aw-pdp-service"],
      'image_tag           = "1.0.0"\nimage_tag_overrides = {\n  # hotfix line\n  aw-pdp-service = "1.4.2" # INC-7\n  "aw-pap-service" = "1.3.0"\n}\n',
    ],
    [
      "one service, multi-line map without it: a line added before the closing brace",
      'image_tag           = "1.0.0"\nimage_tag_overrides = {\n    aw-pap-service = "1.3.0"\n}\n',
      ["aw-pdp-service"],
      'image_tag           = "1.0.0"\nimage_tag_overrides = {\n    aw-pap-service = "1.3.0"\n    aw-pdp-service = "1.4.2"\n}\n',
    ],
    [
      "every service, multi-line map: entries removed, its comments kept",
      'image_tag           = "1.0.0"\nimage_tag_overrides = {\n  # hotfix line\n  aw-pdp-service = "1.3.9"\n}\n',
      SERVICES,
      'image_tag           = "1.4.2"\nimage_tag_overrides = {\n  # hotfix line\n}\n',
    ],
    [
      "one service released at image_tag's own tag: its pin goes",
      'image_tag           = "1.4.2"\nimage_tag_overrides = { aw-pdp-service = "1.3.9" }\n',
      ["aw-pdp-service"],
      'image_tag           = "1.4.2"\nimage_tag_overrides = {}\n',
    ],
  ] as const)("%s", async (_name, lines, services, expected) => {
    const { before, after } = await recorded(lines, services, "1.4.2");
    expect(after).toBe(before.replace(lines, expected));
  });

  it("changes nothing, and says so, when the settings already record the release", async () => {
    const { before, after, changes } = await recorded('image_tag           = "1.4.2"\nimage_tag_overrides = {}\n', ["aw-pdp-service"], "1.4.2");
    expect(changes).toEqual([]);
    expect(after).toBe(before);
  });

  it("keeps Windows line endings and the file's mode", async () => {
    const root = settingsRoot(["prod"], (t) => t.replace(/\n/g, "\r\n"));
    fs.chmodSync(tfvars(root), 0o600);
    const r = await prepareTagRecord(root, await loadEnvironment("prod", { rootDir: root }), SERVICES, "1.4.2");
    writeTagRecord(r);
    expect(read(root)).toContain('image_tag           = "1.4.2"\r\nimage_tag_overrides = {}\r\n');
    expect(read(root).replace(/\r\n/g, "")).not.toContain("\n");
    expect(fs.statSync(tfvars(root)).mode & 0o777).toBe(0o600);
  });

  it("refuses an image_tag that is not a plain string on one line", async () => {
    const root = settingsRoot(["prod"], (t) => t.replace('image_tag           = "1.0.0"', 'image_tag           = lower("1.0.0")'));
    const cfg = { ...config("prod"), source: { file: "environments/prod/terraform.tfvars", isExample: false } };
    await expect(prepareTagRecord(root, cfg, SERVICES, "1.4.2")).rejects.toThrow(Refusal);
    const line = fs.readFileSync(tfvars(root), "utf8").split("\n").indexOf('image_tag           = lower("1.0.0")') + 1;
    expect(line).toBeGreaterThan(0);
    await expect(prepareTagRecord(root, cfg, SERVICES, "1.4.2")).rejects.toThrow(
      `environments/prod/terraform.tfvars: image_tag: found line ${line}: image_tag           = lower("1.0.0"); expected image_tag = "<tag>" on one line`,
    );
  });
});

describe("make restart", () => {
  /** update-service's answer: the restart's new PRIMARY deployment. */
  const started = (id: string) => ({
    service: { deployments: [{ id, status: "PRIMARY", taskDefinition: td("prod", "aw-pdp-service", 7), rolloutState: "IN_PROGRESS" }] },
  });
  const primaryAfter = (id: string, rolloutState = "COMPLETED") => ({
    services: [
      {
        serviceName: "accessweaver-prod-aw-pdp-service",
        deployments: [
          {
            id,
            status: "PRIMARY",
            taskDefinition: td("prod", "aw-pdp-service", 7),
            rolloutState,
            rolloutStateReason: `ECS deployment ${id} ${rolloutState === "COMPLETED" ? "completed" : "in progress"}.`,
          },
        ],
        events:
          id === "ecs-svc/999"
            ? []
            : [{ message: "(service accessweaver-prod-aw-pdp-service) (deployment ecs-svc/999) deployment failed: tasks failed to start." }],
      },
    ],
  });

  it("forces a new ECS deployment of a rolling service, waits until it is stable, and checks that deployment COMPLETED", async () => {
    answer("ecs update-service", started("ecs-svc/999"));
    answer("ecs wait services-stable", "");
    answer("ecs describe-services", primaryAfter("ecs-svc/999"));
    const r = await h.multi(["restart", "prod"], { SERVICE: "aw-pdp-service" });
    expect(r.status).toBe(0);
    expect(r.log).toEqual([
      `aws ecs update-service --cluster accessweaver-prod-cluster --service accessweaver-prod-aw-pdp-service --force-new-deployment --output json --region ${REGION}`,
      waitStable("prod", ["aw-pdp-service"]),
      describeServices("prod", ["aw-pdp-service"]),
    ]);
    expect(r.stdout).toContain(
      "accessweaver-prod-aw-pdp-service is stable: its tasks were replaced, run the desired count, and the restart's deployment COMPLETED.",
    );
  });

  it("fails when the restart was rolled back (stable, but on another deployment than the one it started)", async () => {
    answer("ecs update-service", started("ecs-svc/999"));
    answer("ecs wait services-stable", "");
    answer("ecs describe-services", primaryAfter("ecs-svc/1000"));
    const r = await h.multi(["restart", "prod"], { SERVICE: "aw-pdp-service" });
    expect(r.status).toBe(2);
    expect(r.stdout).not.toContain("is stable:");
    expect(r.stderr).toContain(
      `accessweaver-prod-aw-pdp-service: the restart ROLLED BACK. ECS reports: PRIMARY deployment ecs-svc/1000 COMPLETED: "ECS deployment ecs-svc/1000 completed."; latest failure event: "(service accessweaver-prod-aw-pdp-service) (deployment ecs-svc/999) deployment failed: tasks failed to start.". The service runs the tasks of its previous deployment again (${td("prod", "aw-pdp-service", 7)}). Nothing changed in the settings or in Terraform's state (make plan stays quiet)`,
    );
  });

  it("fails clearly, with the describe-services command to read, when the service does not become stable", async () => {
    answer("ecs update-service", started("ecs-svc/999"));
    answer("ecs wait services-stable", "Waiter ServicesStable failed: Max attempts exceeded", 255);
    answer("ecs describe-services", primaryAfter("ecs-svc/999", "IN_PROGRESS"));
    const r = await h.multi(["restart", "prod"], { SERVICE: "aw-pdp-service" });
    expect(r.status).not.toBe(0);
    expect(r.log).toHaveLength(3);
    expect(r.stdout).not.toContain("is stable:");
    expect(r.stderr).toContain(
      `accessweaver-prod-aw-pdp-service did not become stable after the restart (ECS reports: PRIMARY deployment ecs-svc/999 IN_PROGRESS: "ECS deployment ecs-svc/999 in progress."): its new tasks may not start or stay healthy, or the deployment is still running or rolling back. Read its deployments and events: aws ecs describe-services --cluster accessweaver-prod-cluster --services accessweaver-prod-aw-pdp-service --region ${REGION} --query 'services[].[serviceName,deployments,events[:10]]'`,
    );
  });

  it("redeploys the blue/green gateway's current task definition through CodeDeploy", async () => {
    codeDeployAnswers();
    answer("ecs describe-services", `${TASK_DEF}\n`);
    const r = await h.multi(["restart", "prod"], { SERVICE: "aw-api-gateway" });
    expect(r.status).toBe(0);
    const calls = awsCalls(r.log);
    expect(calls[0]).toBe(
      `aws ecs describe-services --cluster accessweaver-prod-cluster --services accessweaver-prod-aw-api-gateway --query 'services[0].taskDefinition' --output text --region ${REGION}`,
    );
    expect(calls[1]).toContain(`"TaskDefinition\\":\\"${TASK_DEF}\\"`);
    expect(calls.slice(2)).toEqual([
      `aws deploy wait deployment-successful --deployment-id d-ABC --region ${REGION}`,
      `aws deploy get-deployment --deployment-id d-ABC --query deploymentInfo.status --output text --region ${REGION}`,
    ]);
    expect(r.log.some((l) => l.includes("force-new-deployment"))).toBe(false);
  });

  it("restarts dev's rolling gateway with ECS", async () => {
    answer("ecs update-service", { service: {} });
    answer("ecs wait services-stable", "");
    answer("ecs describe-services", {
      services: [
        {
          serviceName: "accessweaver-dev-aw-api-gateway",
          deployments: [{ id: "ecs-svc/5", status: "PRIMARY", taskDefinition: td("dev", "aw-api-gateway", 3), rolloutState: "COMPLETED" }],
        },
      ],
    });
    const r = await h.multi(["restart", "dev"], { SERVICE: "aw-api-gateway" });
    expect(r.status).toBe(0);
    expect(r.log).toEqual([
      expect.stringContaining("aws ecs update-service --cluster accessweaver-dev-cluster --service accessweaver-dev-aw-api-gateway --force-new-deployment"),
      waitStable("dev", ["aw-api-gateway"]),
      describeServices("dev", ["aw-api-gateway"]),
    ]);
  });
});

describe("through make", () => {
  it("passes TAG and SERVICE as data: make release refuses latest in prod, make restart an unknown SERVICE", () => {
    const latest = h.make(["release", "ENV=prod", "TAG=latest"]);
    expect(latest.status).not.toBe(0);
    expect(latest.stderr).toContain('TAG refused: "latest" is refused in prod');
    const unknown = h.make(["restart", "ENV=prod", "SERVICE=$(shell echo aw-x)"]);
    expect(unknown.stderr).toContain('Unknown SERVICE "$(shell echo aw-x)"');
    expect(latest.log.concat(unknown.log)).toEqual([]);
  });
});

describe("make release stopped part-way says what was applied, what the settings say, whether CodeDeploy started, and the exact next command", () => {
  const read = () => fs.readFileSync(tfvars(h.root), "utf8");

  /**
   * An AWS CLI that waits in `ecs wait` and `deploy wait` until a signal, records it in
   * <state>/aws-signals, and otherwise is the recording stand-in (found on PATH).
   */
  function slowWaits(): string {
    const wrapper = path.join(h.s.dir, "aws-slow-waits");
    fs.writeFileSync(
      wrapper,
      [
        "#!/bin/bash",
        `state=${JSON.stringify(h.s.stateDir)}`,
        'case " $* " in',
        '  *" ecs wait "*|*" deploy wait "*)',
        '    trap \'echo "SIGINT $1 $2" >> "$state/aws-signals"; exit 130\' INT',
        '    trap \'echo "SIGTERM $1 $2" >> "$state/aws-signals"; exit 143\' TERM',
        '    echo "$1 $2" >> "$state/aws-slow"',
        "    sleep 2 & wait $!",
        "    ;;",
        "esac",
        'exec aws "$@"',
      ].join("\n"),
      { mode: 0o755 },
    );
    return wrapper;
  }
  async function waitForAws(what: string): Promise<void> {
    const file = path.join(h.s.stateDir, "aws-slow");
    for (let i = 0; i < 1200; i++) {
      if (fs.existsSync(file) && fs.readFileSync(file, "utf8").split("\n").includes(what)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no slow aws ${what} within 30 s`);
  }
  const awsSignals = () => fs.readFileSync(path.join(h.s.stateDir, "aws-signals"), "utf8");

  it("Ctrl-C while planning: nothing applied, the settings untouched, no CodeDeploy; next, the same release", async () => {
    answer("ecr describe-images", { imageDetails: [] });
    const before = read();
    const run = h.multiAsync(["release", "prod"], {
      ...WITH_SERVICES,
      TAG: "1.4.2",
      SERVICE: "aw-api-gateway",
      STANDIN_TERRAFORM_SLOW_ON: "plan",
      STANDIN_TERRAFORM_SLOW_SECONDS: "2",
    });
    await h.waitForSlow("plan", "accessweaver-prod-services");
    process.kill(-run.child.pid!, "SIGINT");
    const r = await run.done;
    expect(r.status).toBe(130);
    expect(r.stderr).toContain(
      [
        "make release ENV=prod TAG=1.4.2 SERVICE=aw-api-gateway was interrupted (SIGINT) while planning the services phase:",
        "  applied:     nothing (accessweaver-prod-services was not applied)",
        "  settings:    environments/prod/terraform.tfvars unchanged: it still holds 1.0.0 for aw-api-gateway (a release records its tag only once its apply succeeded)",
        "  CodeDeploy:  not started: accessweaver-prod-aw-api-gateway runs the task definition it ran before this release",
        "Next: make release ENV=prod TAG=1.4.2 SERVICE=aw-api-gateway. It plans the services phase again from what is really applied, applies it, records 1.4.2 in the settings and deploys. Not make plan and make apply ENV=prod PHASE=services: the settings still hold the earlier tags, so that plan would put them back.",
      ].join("\n"),
    );
    expect(read()).toBe(before);
    expect(tfCalls(r.log, "apply")).toEqual([]);
  });

  it("SIGTERM during the apply: part of it may be applied, the settings hold the earlier tag, and no Next of make plan and make apply (that plan would roll back)", async () => {
    answer("ecr describe-images", { imageDetails: [] });
    const run = h.multiAsync(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", STANDIN_TERRAFORM_SLOW_ON: "apply", STANDIN_TERRAFORM_SLOW_SECONDS: "2" });
    await h.waitForSlow("apply", "accessweaver-prod-services");
    process.kill(-run.child.pid!, "SIGTERM");
    const r = await run.done;
    expect(r.status).toBe(143);
    expect(fs.readFileSync(path.join(h.s.stateDir, "terraform", "signals"), "utf8")).toBe("SIGTERM apply accessweaver-prod-services\n");
    expect(r.stderr).toContain(
      [
        "make release ENV=prod TAG=1.4.2 was interrupted (SIGTERM) while applying the services phase:",
        "  applied:     accessweaver-prod-services was interrupted part-way: part of it may be applied (Terraform keeps what it did in the state), such as some 1.4.2 task definitions",
        `  settings:    environments/prod/terraform.tfvars unchanged: it still holds 1.0.0 for ${SERVICES.join(", ")} (a release records its tag only once its apply succeeded)`,
        "  CodeDeploy:  not started: accessweaver-prod-aw-api-gateway runs the task definition it ran before this release",
        "Next: make release ENV=prod TAG=1.4.2. It plans the services phase again from what is really applied, applies it, records 1.4.2 in the settings and deploys. Not make plan and make apply ENV=prod PHASE=services: the settings still hold the earlier tags, so that plan would put them back. To go back instead to the tags the settings hold: make release ENV=prod TAG=1.0.0.",
      ].join("\n"),
    );
    // The apply's own report stays (what was and was not applied), without its make plan / make apply advice.
    expect(r.stderr).toContain("  interrupted:    accessweaver-prod-services (part of it may be applied");
    expect(r.stderr).not.toMatch(/^Next: .*make (plan|apply) ENV=prod PHASE=services \(/m);
    expect(r.stderr.match(/^Next: /gm)).toHaveLength(1);
    expect(awsCalls(r.log).filter((c) => !c.startsWith("aws ecr "))).toEqual([]);
  });

  it("a failed apply: the same summary, after Terraform's error, and the release to run again once it is fixed", async () => {
    answer("ecr describe-images", { imageDetails: [] });
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", SERVICE: "aw-pdp-service", STANDIN_TERRAFORM_FAIL_ON: "apply" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("make release ENV=prod TAG=1.4.2 SERVICE=aw-pdp-service stopped: applying the services phase failed:");
    expect(r.stderr).toContain("  applied:     accessweaver-prod-services failed part-way: part of it may be applied");
    expect(r.stderr).toContain("  CodeDeploy:  none (no blue/green service in this release)");
    expect(r.stderr).toContain(
      "Next: read the error above and fix its cause, then make release ENV=prod TAG=1.4.2 SERVICE=aw-pdp-service. It plans the services phase again from what is really applied, applies it, records 1.4.2 in the settings and deploys.",
    );
    expect(r.stderr).toContain("To go back instead to the tags the settings hold: make release ENV=prod TAG=1.0.0 SERVICE=aw-pdp-service.");
    expect(r.stderr.match(/^Next: /gm)).toHaveLength(1);
  });

  it("Ctrl-C while waiting for the rolling deployment: applied, the settings record the tag, ECS goes on; next, read the rollout, then the same release", async () => {
    answer("ecr describe-images", { imageDetails: [] });
    rolloutAnswers("prod", ["aw-pdp-service"]);
    const run = h.multiAsync(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", SERVICE: "aw-pdp-service", AWS_CLI: slowWaits() });
    await waitForAws("ecs wait");
    process.kill(-run.child.pid!, "SIGINT");
    const r = await run.done;
    expect(r.status).toBe(130);
    expect(awsSignals()).toBe("SIGINT ecs wait\n");
    expect(r.stderr).toContain(
      [
        "make release ENV=prod TAG=1.4.2 SERVICE=aw-pdp-service was interrupted (SIGINT) while waiting for the rolling deployment of aw-pdp-service:",
        "  applied:     accessweaver-prod-services: the 1.4.2 task definitions are registered; ECS goes on rolling out aw-pdp-service (a failure rolls back by itself)",
        "  settings:    environments/prod/terraform.tfvars records 1.4.2 for aw-pdp-service (written after the apply)",
        "  CodeDeploy:  none (no blue/green service in this release)",
        `Next: read the rollout: aws ecs describe-services --cluster accessweaver-prod-cluster --services accessweaver-prod-aw-pdp-service --region ${REGION} --query 'services[].[serviceName,deployments,events[:10]]'; then make release ENV=prod TAG=1.4.2 SERVICE=aw-pdp-service. Nothing is left to apply: it waits for the rolling deployment again.`,
      ].join("\n"),
    );
    expect(read()).toContain('image_tag_overrides = { aw-pdp-service = "1.4.2" }');
    expect(awsCalls(r.log).some((c) => c.startsWith("aws ecs describe-services"))).toBe(false);
  });

  it("Ctrl-C while waiting for CodeDeploy: the deployment goes on in AWS; the summary names it and how to follow it", async () => {
    codeDeployAnswers();
    gatewayTaskDefinition();
    const run = h.multiAsync(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", SERVICE: "aw-api-gateway", AWS_CLI: slowWaits() });
    await waitForAws("deploy wait");
    process.kill(-run.child.pid!, "SIGINT");
    const r = await run.done;
    expect(r.status).toBe(130);
    expect(awsSignals()).toBe("SIGINT deploy wait\n");
    expect(r.stderr).toContain(
      [
        "make release ENV=prod TAG=1.4.2 SERVICE=aw-api-gateway was interrupted (SIGINT) while deploying aw-api-gateway through CodeDeploy:",
        "  applied:     accessweaver-prod-services: the 1.4.2 task definitions are registered",
        "  settings:    environments/prod/terraform.tfvars records 1.4.2 for aw-api-gateway (written after the apply)",
        `  CodeDeploy:  deployment d-ABC of aw-api-gateway was started and goes on in AWS: stopping make release does not stop it (canary, then all traffic; a failure or an alarm rolls it back). Follow it: aws deploy get-deployment --deployment-id d-ABC --region ${REGION}`,
        `Next: follow deployment d-ABC until it ends: aws deploy wait deployment-successful --deployment-id d-ABC --region ${REGION} (or aws deploy get-deployment --deployment-id d-ABC --region ${REGION} --query deploymentInfo.status). While it is in progress CodeDeploy refuses another one of the group, so do not run make release yet. If it ends Failed or Stopped, make release ENV=prod TAG=1.4.2 SERVICE=aw-api-gateway deploys it again; to stop it now and send all traffic back to the blue tasks: aws deploy stop-deployment --deployment-id d-ABC --auto-rollback-enabled --region ${REGION}.`,
      ].join("\n"),
    );
    // Nothing after the interrupted wait: no get-deployment, no describe-services.
    expect(
      awsCalls(r.log)
        .filter((c) => !c.startsWith("aws ecr "))
        .map((c) => c.split(" ").slice(0, 3).join(" ")),
    ).toEqual(["aws deploy create-deployment"]);
  });
});

describe("make release's image check tells a missing image from a check that could not be made", () => {
  const refusal = async (env: NodeJS.ProcessEnv) => {
    const r = await h.multi(["release", "prod"], { ...WITH_SERVICES, TAG: "1.4.2", SERVICE: "aw-pdp-service", ...env });
    expect(r.status).toBe(2);
    expect(r.log.filter((l) => l.startsWith("terraform "))).toEqual([]);
    return r.stderr;
  };

  it("expired credentials: the real cause, no 'push it'", async () => {
    answer(
      "ecr describe-images",
      "An error occurred (ExpiredTokenException) when calling the DescribeImages operation: The security token included in the request is expired",
      254,
    );
    const said = await refusal({});
    expect(said).toContain(
      `Release refused: could not check the image ${REGISTRY}/aw-pdp-service:1.4.2: the AWS credentials are missing, expired or refused: An error occurred (ExpiredTokenException) when calling the DescribeImages operation: The security token included in the request is expired. Select credentials for account 444455556666`,
    );
    expect(said).toContain(
      "Whether the image exists is not known. Nothing was planned or applied. Then run make release ENV=prod TAG=1.4.2 SERVICE=aw-pdp-service again.",
    );
    expect(said).not.toMatch(/not found|Push /);
  });

  it("access denied: says these credentials may not read the repository", async () => {
    answer(
      "ecr describe-images",
      "An error occurred (AccessDeniedException) when calling the DescribeImages operation: User: arn:aws:sts::444455556666:assumed-role/dev/x is not authorized to perform: ecr:DescribeImages",
      254,
    );
    const said = await refusal({});
    expect(said).toContain(`these credentials may not read the repository aw-pdp-service in ${REGISTRY}: An error occurred (AccessDeniedException)`);
    expect(said).not.toContain("Push ");
  });

  it("no AWS CLI (not on PATH, or a wrapper that cannot find it): says so", async () => {
    const missing = await refusal({ AWS_CLI: path.join(h.s.dir, "no-such-aws") });
    expect(missing).toContain(`the AWS CLI (${path.join(h.s.dir, "no-such-aws")}) could not be run:`);
    expect(missing).not.toContain("Push ");
    const wrapper = path.join(h.s.dir, "aws-wrapper");
    fs.writeFileSync(wrapper, "#!/bin/sh\necho '/bin/sh: 1: aws: not found' >&2\nexit 127\n", { mode: 0o755 });
    const notFound = await refusal({ AWS_CLI: wrapper });
    expect(notFound).toContain(`the AWS CLI (${wrapper}) could not be run: /bin/sh: 1: aws: not found. Install the AWS CLI v2, or point AWS_CLI at it`);
    expect(notFound).not.toContain("Push ");
  });

  it.each(["ImageNotFoundException", "RepositoryNotFoundException"])("%s: the image is missing, push it, then the same release", async (code) => {
    answer("ecr describe-images", `An error occurred (${code}) when calling the DescribeImages operation: not found`, 254);
    const said = await refusal({});
    expect(said).toContain(`Release refused: the image ${REGISTRY}/aw-pdp-service:1.4.2 was not found`);
    expect(said).toContain(
      `Push aw-pdp-service:1.4.2 to ${REGISTRY}, or give a TAG that exists, then run make release ENV=prod TAG=1.4.2 SERVICE=aw-pdp-service again.`,
    );
  });
});
