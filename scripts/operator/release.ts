/**
 * `make release` and `make restart`: new images for the services (checked in ECR, planned and applied
 * through the services phase), and fresh tasks without a change. The blue/green gateway is released
 * and restarted through CodeDeploy, which owns its running task definition; the rolling services are
 * waited for until ECS says their new deployment completed, and a rollback fails the command.
 */
import * as fs from "fs";
import { CAPACITY_PROVIDER_STRATEGY, CATALOG, SERVICE_CATALOG } from "../../src/config/services";
import { EnvironmentConfig } from "../../src/config/settings";
import { ServiceName, names } from "../../src/naming";
import { Stack, configOf } from "./plans";
import { Refusal, StepFailed, run, say } from "./process";
import { TagRecord, writeTagRecord } from "./release-settings";
import { Context, apply, plan } from "./workflow";

const GATEWAY = CATALOG.find((s) => s.exposure === "alb")!;

/** What the AWS calls of one environment need. */
export interface Target {
  readonly config: EnvironmentConfig;
  /** The AWS CLI (AWS_CLI, default aws). */
  readonly aws: string;
}

/** One AWS CLI call in the environment's region; its standard output, trimmed. */
export const aws = async (t: Target, args: string[], options: { keepStderr?: boolean } = {}) =>
  (await run(t.aws, [...args, "--region", t.config.settings.region], { capture: true, ...options })).stdout.trim();

/** The make release command line of this release, with every variable it needs (TAG, SERVICE). */
export const releaseCommand = (env: string, services: readonly ServiceName[], tag: string) =>
  `make release ENV=${env} TAG=${tag}${services.length === 1 ? ` SERVICE=${services[0]}` : ""}`;

/** What ECR answers when the image or its repository is not there: the only answers that mean "push it". */
const IMAGE_MISSING = /ImageNotFoundException|RepositoryNotFoundException/;
/** Credentials missing, expired or refused (the CLI's and STS's wording). */
const CREDENTIALS =
  /ExpiredToken|UnrecognizedClientException|InvalidClientTokenId|InvalidSignatureException|SignatureDoesNotMatch|Unable to locate credentials|NoCredentialProviders|security token included in the request is (invalid|expired)|Token has expired|SSO session .* expired|Error loading SSO Token|could not (load|retrieve|be refreshed)|credentials/i;
const ACCESS_DENIED = /AccessDenied|not authorized to perform/i;
/** The AWS CLI is not there: spawn's ENOENT, or a shell or wrapper that cannot find it. */
const CLI_MISSING = /could not be started|ENOENT|(^|\s|:)aws: (command )?not found|command not found/;

/** Refuses unless every released service's image `<registry>/<service>:<tag>` exists (read-only). */
export async function checkImages(t: Target, services: readonly ServiceName[], tag: string): Promise<void> {
  const { ecrRegistry, accountId } = t.config.settings;
  const again = releaseCommand(t.config.env, services, tag);
  for (const service of services) {
    const image = `${ecrRegistry}/${service}:${tag}`;
    try {
      await aws(t, ["ecr", "describe-images", "--registry-id", ecrRegistry.split(".")[0]!, "--repository-name", service, "--image-ids", `imageTag=${tag}`], {
        keepStderr: true,
      });
    } catch (e) {
      if (!(e instanceof StepFailed)) throw e;
      if (e.signal) throw new StepFailed(`${e.message} Nothing was planned or applied, and the settings are unchanged. Next: ${again}`, e.signal, e.stderr);
      const said = e.stderr.trim() || e.message;
      // Only ECR's own "not found" means the image is missing: anything else is why it could not be asked.
      if (IMAGE_MISSING.test(said)) {
        throw new Refusal(
          `Release refused: the image ${image} was not found (aws ecr describe-images: ${said}). Nothing was planned or applied. Push ${service}:${tag} to ${ecrRegistry}, or give a TAG that exists, then run ${again} again.`,
        );
      }
      const cause = CLI_MISSING.test(said)
        ? `the AWS CLI (${t.aws}) could not be run: ${said}. Install the AWS CLI v2, or point AWS_CLI at it`
        : CREDENTIALS.test(said)
          ? `the AWS credentials are missing, expired or refused: ${said}. Select credentials for account ${accountId} (e.g. export AWS_PROFILE=<your profile>, then aws sso login if it uses SSO) and check them with aws sts get-caller-identity`
          : ACCESS_DENIED.test(said)
            ? `these credentials may not read the repository ${service} in ${ecrRegistry}: ${said}. Use a role allowed ecr:DescribeImages on it`
            : `aws ecr describe-images failed: ${said}`;
      throw new Refusal(
        `Release refused: could not check the image ${image}: ${cause}. Whether the image exists is not known. Nothing was planned or applied. Then run ${again} again.`,
      );
    }
  }
}

/** Whether the synthesized services stack releases the gateway through CodeDeploy. */
const blueGreenIn = (s: Stack) => Boolean(JSON.parse(fs.readFileSync(configOf(s), "utf8")).resource?.aws_codedeploy_deployment_group);

/**
 * The AppSpec of an ECS blue/green deployment. Written by hand: AppSpec's `version` is the number 0.0,
 * which JSON.stringify would shorten to 0. It carries the service's capacity provider strategy: without
 * it CodeDeploy's new task set drops the strategy, and the next apply would replace the service.
 */
export const appSpec = (taskDefinitionArn: string) =>
  `{"version":0.0,"Resources":${JSON.stringify([
    {
      TargetService: {
        Type: "AWS::ECS::Service",
        Properties: {
          TaskDefinition: taskDefinitionArn,
          LoadBalancerInfo: { ContainerName: GATEWAY.name, ContainerPort: GATEWAY.port },
          CapacityProviderStrategy: CAPACITY_PROVIDER_STRATEGY.map((c) => ({ Base: c.base, CapacityProvider: c.capacityProvider, Weight: c.weight })),
        },
      },
    },
  ])}}`;

/** How far a CodeDeploy deployment of the gateway got, for the message of an interrupted release. */
export interface GatewayDeployment {
  /** aws deploy create-deployment was started (it may have created one even if interrupted). */
  creating?: boolean;
  /** The deployment's id, once CodeDeploy answered. */
  id?: string;
}

/** A CodeDeploy deployment of the gateway to `taskDefinitionArn`, waited for; prints its id and final state. */
export async function deployGateway(t: Target, taskDefinitionArn: string, progress: GatewayDeployment = {}): Promise<void> {
  const n = names(t.config.env);
  // --revision as JSON: the shorthand syntax cannot carry the AppSpec's own braces and commas.
  const revision = JSON.stringify({ revisionType: "AppSpecContent", appSpecContent: { content: appSpec(taskDefinitionArn) } });
  progress.creating = true;
  const created = await aws(t, [
    "deploy",
    "create-deployment",
    "--application-name",
    n.codedeployApp(GATEWAY.name),
    "--deployment-group-name",
    n.codedeployGroup(GATEWAY.name),
    "--revision",
    revision,
    "--output",
    "json",
  ]);
  const id = (JSON.parse(created) as { deploymentId?: string }).deploymentId;
  if (!id) throw new Refusal(`aws deploy create-deployment answered without a deploymentId: ${created}`);
  progress.id = id;
  say(`CodeDeploy deployment ${id}: ${GATEWAY.name} to ${taskDefinitionArn} (canary, then all traffic).`);
  let waitFailed: StepFailed | undefined;
  try {
    await run(t.aws, ["deploy", "wait", "deployment-successful", "--deployment-id", id, "--region", t.config.settings.region]);
  } catch (e) {
    if (!(e instanceof StepFailed) || e.signal) throw e;
    waitFailed = e;
  }
  const status = await aws(t, ["deploy", "get-deployment", "--deployment-id", id, "--query", "deploymentInfo.status", "--output", "text"]);
  say(`CodeDeploy deployment ${id}: ${status}`);
  if (waitFailed || status !== "Succeeded") {
    throw new StepFailed(
      `CodeDeploy deployment ${id} of ${GATEWAY.name} ended ${status}: the deployment group rolls back to the blue tasks on failure or alarm. Read why: aws deploy get-deployment --deployment-id ${id} --region ${t.config.settings.region}.`,
    );
  }
}

/** What a rolling service's deployment must end on: the task definition just applied, or the deployment a restart started. */
export interface Rollout {
  readonly service: ServiceName;
  /** The ARN (with revision) the PRIMARY deployment must run. */
  readonly taskDefinition?: string;
  /** The PRIMARY deployment's id must still be this one (a rollback starts a new deployment). */
  readonly deploymentId?: string;
}

/** One deployment of `aws ecs describe-services`, the fields read here. */
interface EcsDeployment {
  readonly id?: string;
  readonly status?: string;
  readonly taskDefinition?: string;
  readonly rolloutState?: string;
  readonly rolloutStateReason?: string;
}
interface EcsServiceView {
  readonly serviceName?: string;
  readonly deployments?: readonly EcsDeployment[];
  readonly events?: readonly { readonly message?: string }[];
}

/** A service whose rollout did not complete on what it should run, with what ECS reports. */
export interface RolloutProblem {
  readonly service: ServiceName;
  /** The PRIMARY deployment went back to another task definition or deployment: the circuit breaker or an alarm rolled back. */
  readonly rolledBack: boolean;
  /** What the service runs now (the PRIMARY deployment's task definition). */
  readonly running?: string;
  /** One line: the rollout state and its reason, as ECS gives them. */
  readonly reported: string;
}

/** What to read when a rollout went wrong: the deployments and the latest events. */
const describeCommand = (t: Target, serviceNames: readonly string[]) =>
  `aws ecs describe-services --cluster ${names(t.config.env).cluster} --services ${serviceNames.join(" ")} --region ${t.config.settings.region} --query 'services[].[serviceName,deployments,events[:10]]'`;

/** Seconds between two reads of the deployments while a rollout is still IN_PROGRESS (ROLLOUT_POLL_SECONDS). */
const pollSeconds = () => Math.max(0, Number(process.env.ROLLOUT_POLL_SECONDS ?? "15") || 0);
/** Reads after the wait before an unfinished rollout is reported: 40 x 15 s, ten minutes of bake time. */
const ROLLOUT_POLLS = 40;

/**
 * Waits until the services are stable (`aws ecs wait services-stable`: every service at one deployment
 * and its desired count, polled every 15 s for up to 10 minutes), then reads their deployments: each
 * rollout must have COMPLETED on what it should run. With deployment alarms ECS keeps a deployment
 * IN_PROGRESS for a bake time after the old tasks are gone, so an IN_PROGRESS rollout on the right
 * revision is read again (every ROLLOUT_POLL_SECONDS, up to ten more minutes). A deployment that the
 * circuit breaker or an alarm rolled back also ends stable, on the previous revision; that, a FAILED or
 * still unfinished rollout, and a failed wait are returned as problems.
 */
export async function checkRollouts(t: Target, rollouts: readonly Rollout[]): Promise<{ waitFailed: boolean; problems: RolloutProblem[] }> {
  const n = names(t.config.env);
  const serviceNames = rollouts.map((r) => n.service(r.service));
  let waitFailed = false;
  try {
    await run(t.aws, ["ecs", "wait", "services-stable", "--cluster", n.cluster, "--services", ...serviceNames, "--region", t.config.settings.region]);
  } catch (e) {
    if (!(e instanceof StepFailed) || e.signal) throw e;
    waitFailed = true;
  }
  for (let read = 1; ; read++) {
    const { problems, baking } = await readRollouts(t, rollouts);
    if (waitFailed || baking === 0 || read > ROLLOUT_POLLS) return { waitFailed, problems };
    await new Promise((resolve) => setTimeout(resolve, pollSeconds() * 1000));
  }
}

/** One read of the deployments: the problems, and how many of them are rollouts still IN_PROGRESS on the right revision. */
async function readRollouts(t: Target, rollouts: readonly Rollout[]): Promise<{ problems: RolloutProblem[]; baking: number }> {
  const n = names(t.config.env);
  const serviceNames = rollouts.map((r) => n.service(r.service));
  const answer = await aws(t, ["ecs", "describe-services", "--cluster", n.cluster, "--services", ...serviceNames, "--output", "json"]);
  let described: readonly EcsServiceView[];
  try {
    described = (JSON.parse(answer) as { services?: EcsServiceView[] }).services ?? [];
  } catch {
    throw new StepFailed(
      `aws ecs describe-services answered something that is not JSON: ${answer.slice(0, 200)}. Read the services yourself: ${describeCommand(t, serviceNames)}`,
    );
  }
  const problems: RolloutProblem[] = [];
  let baking = 0;
  for (const r of rollouts) {
    const view = described.find((s) => s.serviceName === n.service(r.service));
    const deployments = view?.deployments ?? [];
    const primary = deployments.find((d) => d.status === "PRIMARY");
    if (!primary) {
      problems.push({ service: r.service, rolledBack: false, reported: `ECS reports no PRIMARY deployment of ${n.service(r.service)}` });
      continue;
    }
    const rolledBack =
      (r.taskDefinition !== undefined && primary.taskDefinition !== r.taskDefinition) || (r.deploymentId !== undefined && primary.id !== r.deploymentId);
    if (!rolledBack && primary.rolloutState === "COMPLETED") continue;
    // The failed deployment's rollout state reason while ECS still lists it; once a rollback is over only
    // the PRIMARY (the rollback) is left, and the failure is in the service's events (newest first).
    const failed = deployments.find((d) => d.rolloutState === "FAILED");
    if (!rolledBack && !failed && primary.rolloutState === "IN_PROGRESS") baking++;
    const state = failed
      ? `deployment ${failed.id ?? "(no id)"} of ${failed.taskDefinition ?? "the new revision"} FAILED: "${failed.rolloutStateReason ?? "no reason given"}"`
      : `PRIMARY deployment ${primary.id ?? "(no id)"} ${primary.rolloutState ?? "(no rollout state)"}: "${primary.rolloutStateReason ?? "no reason given"}"`;
    const event = view?.events?.find((e) => /fail|roll(ing|ed)? back/i.test(e.message ?? ""))?.message;
    problems.push({ service: r.service, rolledBack, running: primary.taskDefinition, reported: event ? `${state}; latest failure event: "${event}"` : state });
  }
  return { problems, baking };
}

/** Where a release got to, for the message of one that was interrupted or failed. */
interface ReleaseProgress {
  stage: "plan" | "apply" | "rollout" | "codedeploy" | "done";
  /** The settings record was written (after the apply). */
  recorded: boolean;
  /** Why the settings could not be written, when they could not. */
  unrecorded?: StepFailed;
  readonly gateway: GatewayDeployment;
  /** The failure thrown already says where everything stands and what to run (a rollback, a failed deployment). */
  reported?: boolean;
}

/**
 * `make release`: the images exist (checked before the synth), then plan and apply of the services
 * phase, then the tag recorded in the settings, then the rolling services waited for until their
 * rollout completed on the applied task definition, then CodeDeploy for a blue/green gateway. An
 * interrupt at any step, or a failed plan or apply, ends with what was applied, what the settings say,
 * whether CodeDeploy started, and the release command to run again (never make plan and make apply of
 * the services phase: before the record they would plan the old tag back).
 */
export async function release(
  ctx: Context,
  t: Target,
  stack: Stack,
  released: { readonly services: readonly ServiceName[]; readonly tag: string },
  record: TagRecord,
): Promise<void> {
  const progress: ReleaseProgress = { stage: "plan", recorded: false, gateway: {} };
  const blueGreen = released.services.includes(GATEWAY.name) && blueGreenIn(stack);
  try {
    const r: ReleaseRun = { t, stack, released, record, blueGreen, progress };
    await releaseSteps({ ...ctx, again: releaseCommand(ctx.env, released.services, released.tag) }, r);
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    const signal = e instanceof StepFailed ? e.signal : undefined;
    // A rollout or CodeDeploy deployment that failed already says where things stand and what to run.
    if (!signal && progress.reported) throw e;
    throw new StepFailed(stoppedRelease({ t, stack, released, record, blueGreen, progress }, e, signal), signal);
  }
}

/** What one release works with: its target, the services stack, what is released, the settings' record, how the gateway is released, and how far it got. */
interface ReleaseRun {
  readonly t: Target;
  readonly stack: Stack;
  readonly released: { readonly services: readonly ServiceName[]; readonly tag: string };
  readonly record: TagRecord;
  readonly blueGreen: boolean;
  readonly progress: ReleaseProgress;
}

async function releaseSteps(ctx: Context, r: ReleaseRun): Promise<void> {
  const { t, stack, released, record, blueGreen, progress } = r;
  const services = released.services;
  await plan(ctx, [stack], `make release applies it now${ctx.env === "prod" ? " (prod asks first unless AUTO_APPROVE=1)" : ""}.`);
  progress.stage = "apply";
  await apply(ctx, [stack], { releasing: true });
  // After the apply, before CodeDeploy: the settings then say what Terraform's state holds (the new task
  // definitions). A CodeDeploy deployment that fails rolls the service back, yet Terraform's task
  // definition stays the new one: the next make plan is quiet, and releasing the same TAG again retries
  // the deployment; an earlier TAG goes back.
  // A settings file that cannot be written does not hold the gateway back: its new task definition is
  // registered and CodeDeploy still deploys it; the failure to record is reported at the end.
  progress.stage = "rollout";
  let unrecorded: StepFailed | undefined;
  try {
    writeTagRecord(record);
    progress.recorded = true;
  } catch (e) {
    if (!(e instanceof StepFailed)) throw e;
    unrecorded = e;
    progress.unrecorded = e;
  }
  const rolling = services.filter((s) => !(blueGreen && s === GATEWAY.name));
  if (rolling.length > 0) {
    // The apply returns once ECS has accepted the new task definitions, not when they run: wait for the rollouts.
    const applied = JSON.parse((await run(ctx.tf, [`-chdir=${stack.dir}`, "output", "-json", "task_definition_arns"], { capture: true })).stdout) as Record<
      string,
      string
    >;
    say(`Waiting for the rolling deployment of ${rolling.join(", ")} (up to 10 minutes until stable, then up to 10 more while ECS watches its alarms)...`);
    const { waitFailed, problems } = await checkRollouts(
      t,
      rolling.map((s) => ({ service: s, taskDefinition: applied[s] })),
    );
    if (waitFailed || problems.length > 0) {
      progress.reported = true;
      throw new StepFailed(releaseFailure(t, record, unrecorded, { tag: released.tag, rolling, waitFailed, problems, applied, gatewayNotStarted: blueGreen }));
    }
    say(`${rolling.map((s) => names(t.config.env).service(s)).join(", ")}: rollout COMPLETED on the released task definitions.`);
  }
  if (blueGreen) {
    progress.stage = "codedeploy";
    // The apply registered the gateway's new task definition; its service runs what CodeDeploy deploys.
    const arn = (await run(ctx.tf, [`-chdir=${stack.dir}`, "output", "-raw", "api_gateway_task_definition_arn"], { capture: true })).stdout.trim();
    try {
      await deployGateway(t, arn, progress.gateway);
    } catch (e) {
      // An interrupted wait: release() says where everything stands (the deployment goes on in AWS).
      if (!(e instanceof StepFailed) || e.signal) throw e;
      // Where the gateway now stands (settings, state, what runs, the next plan) and what to run. Both
      // failures matter: with `unrecorded`, the settings still hold the old tags of services that now run TAG.
      const where = await gatewayFailure(t, record, unrecorded, released.tag, arn);
      progress.reported = true;
      throw new StepFailed([e.message, where, ...(unrecorded ? [unrecorded.message] : [])].join("\n"));
    }
  }
  progress.stage = "done";
  progress.reported = true;
  if (unrecorded) throw unrecorded;
}

/** "1.0.0 for aw-pdp-service, aw-pap-service; 1.3.0 for aw-tenant-service": the tags the settings held before the release. */
function tagsBefore(t: Target, services: readonly ServiceName[]): string {
  const byTag = new Map<string, ServiceName[]>();
  for (const s of services) {
    const tag = t.config.settings.imageTags[s];
    byTag.set(tag, [...(byTag.get(tag) ?? []), s]);
  }
  return [...byTag].map(([tag, ss]) => `${tag} for ${ss.join(", ")}`).join("; ");
}

/** The release commands that go back to the tags the settings held before: one when they all had one tag. */
function goingBack(t: Target, services: readonly ServiceName[]): string {
  const env = t.config.env;
  const tags = new Set(services.map((s) => t.config.settings.imageTags[s]));
  if (tags.size === 1) return releaseCommand(env, services, [...tags][0]!);
  return services.map((s) => releaseCommand(env, [s], t.config.settings.imageTags[s])).join("; ");
}

/**
 * The message of a release that was interrupted (at any step) or whose plan or apply failed: what
 * stopped, what is applied, what the settings say, whether CodeDeploy started (and goes on in AWS),
 * and the next command. The apply's own "Next: make plan ... make apply" is left out: before the
 * release records its tag, that plan would put the old tag back.
 */
function stoppedRelease(r: ReleaseRun, e: Refusal, signal: NodeJS.Signals | undefined): string {
  const { t, stack, released, record, blueGreen, progress } = r;
  const env = t.config.env;
  const region = t.config.settings.region;
  const n = names(env);
  const { services, tag } = released;
  const again = releaseCommand(env, services, tag);
  const gateway = releaseCommand(env, [GATEWAY.name], tag);
  const rolling = services.filter((s) => !(blueGreen && s === GATEWAY.name));
  const doing = {
    plan: "planning the services phase",
    apply: "applying the services phase",
    rollout: `waiting for the rolling deployment of ${rolling.join(", ")}`,
    codedeploy: `deploying ${GATEWAY.name} through CodeDeploy`,
    done: "finishing",
  }[progress.stage];
  const inner = e.message.split("\n").filter((l) => !(/^Next: /.test(l) && /make (plan|apply) /.test(l)));
  const lines = [...inner, "", signal ? `${again} was interrupted (${signal}) while ${doing}:` : `${again} stopped: ${doing} failed:`];
  const afterApply = progress.stage !== "plan" && progress.stage !== "apply";
  lines.push(
    progress.stage === "plan"
      ? `  applied:     nothing (${stack.name} was not applied)`
      : progress.stage === "apply"
        ? `  applied:     ${stack.name} ${signal ? "was interrupted" : "failed"} part-way: part of it may be applied (Terraform keeps what it did in the state), such as some ${tag} task definitions`
        : `  applied:     ${stack.name}: the ${tag} task definitions are registered${rolling.length > 0 ? `; ECS goes on rolling out ${rolling.join(", ")} (a failure rolls back by itself)` : ""}`,
  );
  lines.push(
    progress.recorded
      ? `  settings:    ${record.shown} records ${tag} for ${services.join(", ")} (written after the apply)`
      : progress.unrecorded
        ? `  settings:    ${record.shown} was NOT updated (${progress.unrecorded.message.replace(/^The apply succeeded, but \S+ was not updated: /, "").replace(/\.$/, "")}): it still holds ${tagsBefore(t, services)}`
        : `  settings:    ${record.shown} unchanged: it still holds ${tagsBefore(t, services)} (a release records its tag only once its apply succeeded)`,
  );
  const follow = (id: string) => `aws deploy get-deployment --deployment-id ${id} --region ${region}`;
  const { id, creating } = progress.gateway;
  if (!blueGreen) {
    lines.push(`  CodeDeploy:  none (no blue/green service in this release)`);
  } else if (id) {
    lines.push(
      `  CodeDeploy:  deployment ${id} of ${GATEWAY.name} was started and goes on in AWS: stopping make release does not stop it (canary, then all traffic; a failure or an alarm rolls it back). Follow it: ${follow(id)}`,
    );
  } else if (creating) {
    lines.push(
      `  CodeDeploy:  aws deploy create-deployment was running: a deployment of ${GATEWAY.name} may have been started, and would go on in AWS. List them: aws deploy list-deployments --application-name ${n.codedeployApp(GATEWAY.name)} --deployment-group-name ${n.codedeployGroup(GATEWAY.name)} --include-only-statuses Created Queued Ready InProgress --region ${region}`,
    );
  } else {
    lines.push(`  CodeDeploy:  not started: ${n.service(GATEWAY.name)} runs the task definition it ran before this release`);
  }
  if (!afterApply) {
    const fix = signal ? "" : "read the error above and fix its cause, then ";
    const back = progress.stage === "apply" ? ` To go back instead to the tags the settings hold: ${goingBack(t, services)}.` : "";
    lines.push(
      `Next: ${fix}${again}. It plans the services phase again from what is really applied, applies it, records ${tag} in the settings and deploys. Not make plan and make apply ENV=${env} PHASE=services: the settings still hold the earlier tags, so that plan would put them back.${back}`,
    );
  } else if (id) {
    lines.push(
      `Next: follow deployment ${id} until it ends: aws deploy wait deployment-successful --deployment-id ${id} --region ${region} (or ${follow(id)} --query deploymentInfo.status). While it is in progress CodeDeploy refuses another one of the group, so do not run make release yet. If it ends Failed or Stopped, ${gateway} deploys it again; to stop it now and send all traffic back to the blue tasks: aws deploy stop-deployment --deployment-id ${id} --auto-rollback-enabled --region ${region}.`,
    );
  } else if (creating) {
    lines.push(
      `Next: if the list shows a deployment in progress, follow it (aws deploy get-deployment --deployment-id <id> --region ${region}) until it ends; if it shows none, ${gateway} deploys the gateway (nothing is left to apply).`,
    );
  } else {
    const fix = signal ? "" : "read the error above and fix its cause, then ";
    const read = rolling.length > 0 && progress.stage === "rollout" ? `read the rollout: ${describeCommand(t, rolling.map(n.service))}; then ` : "";
    lines.push(
      `Next: ${fix}${read}${again}. Nothing is left to apply: it ${rolling.length > 0 ? "waits for the rolling deployment again" : ""}${rolling.length > 0 && blueGreen ? ", then " : ""}${blueGreen ? "deploys the gateway through CodeDeploy" : ""}.`,
    );
  }
  return lines.join("\n");
}

/**
 * The message of a release whose rolling deployments did not all complete: each service and what ECS
 * reports, what the settings and Terraform's state now hold and what the next plan would do, and what
 * to do next.
 */
function releaseFailure(
  t: Target,
  record: TagRecord,
  unrecorded: StepFailed | undefined,
  f: {
    tag: string;
    rolling: readonly ServiceName[];
    waitFailed: boolean;
    problems: readonly RolloutProblem[];
    applied: Readonly<Record<string, string>>;
    gatewayNotStarted: boolean;
  },
): string {
  const env = t.config.env;
  const n = names(env);
  const lines = [`make release ENV=${env} TAG=${f.tag}: the rolling deployment did not complete.`];
  for (const p of f.problems) {
    lines.push(
      p.rolledBack
        ? `- ${n.service(p.service)} ROLLED BACK: it runs ${p.running ?? "its previous revision"} again, not ${f.applied[p.service] ?? `the ${f.tag} revision`}. ECS reports: ${p.reported}.`
        : `- ${n.service(p.service)} did not complete: ${p.reported}.`,
    );
  }
  if (f.waitFailed && f.problems.length === 0)
    lines.push(`- aws ecs wait services-stable gave up (10 minutes) before every service was stable, though each now reports its rollout COMPLETED.`);
  const back = f.problems.filter((p) => p.rolledBack).map((p) => p.service);
  const pending = f.problems.filter((p) => !p.rolledBack).map((p) => p.service);
  if (unrecorded) {
    lines.push(
      `${record.shown} was NOT updated (it changed while make release ran, or could not be written): it still holds the tags from before this release, while Terraform's state holds the ${f.tag} task definitions; the next make plan ENV=${env} PHASE=services plans the earlier tags again (new revisions of the earlier images).`,
    );
  } else {
    lines.push(
      `${record.shown} already records ${f.tag} for ${f.rolling.join(", ")} (written after the apply), and Terraform's state holds their ${f.tag} task definitions.`,
    );
    if (back.length > 0) {
      lines.push(
        `So the next make plan ENV=${env} PHASE=services shows an in-place change of task_definition on ${back.map(n.service).join(", ")}, from the revision ECS went back to, to the ${f.tag} one: applying it deploys the failing release again.`,
      );
    }
  }
  if (pending.length > 0) lines.push(`${pending.join(", ")} may still complete or roll back: read the deployments before anything else.`);
  if (back.length > 0 || pending.length > 0) {
    const service = f.rolling.length === 1 ? ` SERVICE=${f.rolling[0]}` : "";
    const previous = [...back, ...pending].map((s) => `make release ENV=${env} TAG=${t.config.settings.imageTags[s]} SERVICE=${s}`);
    lines.push(
      `Next: fix the image and release a fixed tag (make release ENV=${env} TAG=<fixed tag>${service}), or go back to the tag the settings held before this release: ${previous.join("; ")}. Either records its tag, after which make plan is quiet again.`,
    );
  }
  if (f.gatewayNotStarted) {
    lines.push(
      `The gateway's CodeDeploy deployment was not started (its ${f.tag} task definition is registered): once the rolling services are sound, make release ENV=${env} TAG=${f.tag} SERVICE=${GATEWAY.name} deploys it.`,
    );
  }
  lines.push(`Read the deployments and events: ${describeCommand(t, f.rolling.map(n.service))}`);
  return lines.join("\n");
}

/**
 * After a failed CodeDeploy deployment of the gateway in a release: the settings (unless `unrecorded`)
 * and Terraform's state hold TAG while the blue tasks of the earlier revision run, and the next plan
 * does not notice (CodeDeploy owns the service's task definition: it is in ignore_changes). Says so,
 * with what runs (asked of ECS; the message stands without it), and the commands that end the gap.
 */
async function gatewayFailure(t: Target, record: TagRecord, unrecorded: StepFailed | undefined, tag: string, registered: string): Promise<string> {
  const env = t.config.env;
  const n = names(env);
  const service = n.service(GATEWAY.name);
  let running: string | undefined;
  try {
    const answer = await aws(t, [
      "ecs",
      "describe-services",
      "--cluster",
      n.cluster,
      "--services",
      service,
      "--query",
      "services[0].taskDefinition",
      "--output",
      "text",
    ]);
    running = answer.startsWith("arn:") ? answer : undefined;
  } catch (e) {
    if (!(e instanceof StepFailed) || e.signal) throw e;
  }
  const previous = t.config.settings.imageTags[GATEWAY.name];
  const runs = `${service} runs its blue tasks: ${running ?? "the task definition it ran before this release"}${running === registered ? " (ECS names the new revision: the deployment may still be rolling back; read it before anything else)" : ""}.`;
  const lines = unrecorded
    ? [
        `Where the gateway stands: Terraform's state holds its ${tag} task definition (${registered}), ${record.shown} still holds ${previous} (not updated, below), and ${runs}`,
        `The next make plan ENV=${env} PHASE=services registers a new ${previous} revision, which nothing deploys: the service's task_definition is in ignore_changes, CodeDeploy deploys it.`,
      ]
    : [
        `Where the gateway stands: ${record.shown} already records ${tag} for ${GATEWAY.name} (written after the apply) and Terraform's state holds its ${tag} task definition (${registered}), but ${runs}`,
        `The next make plan ENV=${env} PHASE=services is quiet about it (the service's task_definition is in ignore_changes: CodeDeploy, not Terraform, deploys it), so the gateway stays on the earlier revision until a make release deploys one.`,
      ];
  lines.push(
    `Next: fix the image and release a fixed tag: make release ENV=${env} TAG=<fixed tag> SERVICE=${GATEWAY.name}; or go back to the tag the settings held before this release, so that they say what runs: make release ENV=${env} TAG=${previous} SERVICE=${GATEWAY.name}. (make release ENV=${env} TAG=${tag} SERVICE=${GATEWAY.name} retries the same deployment.)`,
  );
  return lines.join("\n");
}

/** `make restart`: fresh tasks of the same task definition (the rolling way, or CodeDeploy for the blue/green gateway). */
export async function restart(t: Target, service: ServiceName): Promise<void> {
  const n = names(t.config.env);
  if (SERVICE_CATALOG[service].exposure === "alb" && t.config.sizing.gatewayReleases === "blue-green") {
    // ECS refuses --force-new-deployment under the CODE_DEPLOY controller: CodeDeploy redeploys what runs.
    const current = await aws(t, [
      "ecs",
      "describe-services",
      "--cluster",
      n.cluster,
      "--services",
      n.service(service),
      "--query",
      "services[0].taskDefinition",
      "--output",
      "text",
    ]);
    if (!current.startsWith("arn:"))
      throw new Refusal(
        `${n.service(service)} in ${n.cluster} has no running task definition (aws ecs describe-services answered ${JSON.stringify(current)}): is the services phase applied? make apply ENV=${t.config.env} PHASE=services`,
      );
    return deployGateway(t, current);
  }
  const started = await aws(t, [
    "ecs",
    "update-service",
    "--cluster",
    n.cluster,
    "--service",
    n.service(service),
    "--force-new-deployment",
    "--output",
    "json",
  ]);
  // The deployment the restart started: a rollback ends on another one, with the same task definition.
  let deploymentId: string | undefined;
  try {
    deploymentId = (JSON.parse(started) as { service?: EcsServiceView }).service?.deployments?.find((d) => d.status === "PRIMARY")?.id;
  } catch {
    deploymentId = undefined;
  }
  say(
    `Restarting ${n.service(service)}: ECS replaces its tasks (rolling; the circuit breaker and the deployment alarms roll back a failure). Waiting until the service is stable (up to 10 minutes, then up to 10 more while ECS watches its alarms)...`,
  );
  // The restart is done when the new tasks run and the old ones are gone, not when ECS accepts it.
  const { waitFailed, problems } = await checkRollouts(t, [{ service, deploymentId }]);
  const problem = problems[0];
  const read = `Read its deployments and events: ${describeCommand(t, [n.service(service)])}`;
  if (problem?.rolledBack) {
    throw new StepFailed(
      `${n.service(service)}: the restart ROLLED BACK. ECS reports: ${problem.reported}. The service runs the tasks of its previous deployment again (${problem.running ?? "the same revision"}). Nothing changed in the settings or in Terraform's state (make plan stays quiet): new tasks of an unchanged revision that fail point outside the release (a secret, the database, a dependency). ${read}`,
    );
  }
  if (waitFailed || problem) {
    throw new StepFailed(
      `${n.service(service)} did not become stable after the restart (${problem ? `ECS reports: ${problem.reported}` : "aws ecs wait services-stable failed"}): its new tasks may not start or stay healthy, or the deployment is still running or rolling back. ${read}`,
    );
  }
  say(`${n.service(service)} is stable: its tasks were replaced, run the desired count, and the restart's deployment COMPLETED.`);
}
