/**
 * `make release` and `make restart`: new images for the services (checked in ECR, planned and applied
 * through the services phase), and fresh tasks without a change. The blue/green gateway is released
 * and restarted through CodeDeploy, which owns its running task definition.
 */
import * as fs from "fs";
import { CATALOG, SERVICE_CATALOG } from "../../src/config/services";
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

const aws = async (t: Target, args: string[], options: { keepStderr?: boolean } = {}) =>
  (await run(t.aws, [...args, "--region", t.config.settings.region], { capture: true, ...options })).stdout.trim();

/** Refuses unless every released service's image `<registry>/<service>:<tag>` exists (read-only). */
export async function checkImages(t: Target, services: readonly ServiceName[], tag: string): Promise<void> {
  const { ecrRegistry } = t.config.settings;
  for (const service of services) {
    const image = `${ecrRegistry}/${service}:${tag}`;
    try {
      await aws(t, ["ecr", "describe-images", "--registry-id", ecrRegistry.split(".")[0]!, "--repository-name", service, "--image-ids", `imageTag=${tag}`], { keepStderr: true });
    } catch (e) {
      if (!(e instanceof StepFailed) || e.signal) throw e;
      throw new Refusal(
        `Release refused: the image ${image} was not found (aws ecr describe-images: ${e.stderr.trim() || e.message}). Nothing was planned or applied. Push ${service}:${tag} to ${ecrRegistry}, or give a TAG that exists, then run make release again.`,
      );
    }
  }
}

/** Whether the synthesized services stack releases the gateway through CodeDeploy. */
const blueGreenIn = (s: Stack) => Boolean(JSON.parse(fs.readFileSync(configOf(s), "utf8")).resource?.aws_codedeploy_deployment_group);

/**
 * The AppSpec of an ECS blue/green deployment. Written by hand: AppSpec's `version` is the number 0.0,
 * which JSON.stringify would shorten to 0.
 */
const appSpec = (taskDefinitionArn: string) =>
  `{"version":0.0,"Resources":${JSON.stringify([
    { TargetService: { Type: "AWS::ECS::Service", Properties: { TaskDefinition: taskDefinitionArn, LoadBalancerInfo: { ContainerName: GATEWAY.name, ContainerPort: GATEWAY.port } } } },
  ])}}`;

/** A CodeDeploy deployment of the gateway to `taskDefinitionArn`, waited for; prints its id and final state. */
export async function deployGateway(t: Target, taskDefinitionArn: string): Promise<void> {
  const n = names(t.config.env);
  // --revision as JSON: the shorthand syntax cannot carry the AppSpec's own braces and commas.
  const revision = JSON.stringify({ revisionType: "AppSpecContent", appSpecContent: { content: appSpec(taskDefinitionArn) } });
  const created = await aws(t, ["deploy", "create-deployment", "--application-name", n.codedeployApp(GATEWAY.name), "--deployment-group-name", n.codedeployGroup(GATEWAY.name), "--revision", revision, "--output", "json"]);
  const id = (JSON.parse(created) as { deploymentId?: string }).deploymentId;
  if (!id) throw new Refusal(`aws deploy create-deployment answered without a deploymentId: ${created}`);
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

/**
 * `make release`: the images exist (checked before the synth), then plan and apply of the services
 * phase, then the tag recorded in the settings, then CodeDeploy for a blue/green gateway.
 */
export async function release(ctx: Context, t: Target, stack: Stack, services: readonly ServiceName[], record: TagRecord): Promise<void> {
  await plan(ctx, [stack], `make release applies it now${ctx.env === "prod" ? " (prod asks first unless AUTO_APPROVE=1)" : ""}.`);
  await apply(ctx, [stack]);
  // After the apply, before CodeDeploy: the settings then say what Terraform's state holds (the new task
  // definitions). A CodeDeploy deployment that fails rolls the service back, yet Terraform's task
  // definition stays the new one: the next make plan is quiet, and releasing the same TAG again retries
  // the deployment; an earlier TAG goes back.
  // A settings file that cannot be written does not hold the gateway back: its new task definition is
  // registered and CodeDeploy still deploys it; the failure to record is reported at the end.
  let unrecorded: StepFailed | undefined;
  try {
    writeTagRecord(record);
  } catch (e) {
    if (!(e instanceof StepFailed)) throw e;
    unrecorded = e;
  }
  if (services.includes(GATEWAY.name) && blueGreenIn(stack)) {
    // The apply registered the gateway's new task definition; its service runs what CodeDeploy deploys.
    const arn = (await run(ctx.tf, [`-chdir=${stack.dir}`, "output", "-raw", "api_gateway_task_definition_arn"], { capture: true })).stdout.trim();
    await deployGateway(t, arn);
  }
  if (unrecorded) throw unrecorded;
}

/** `make restart`: fresh tasks of the same task definition (the rolling way, or CodeDeploy for the blue/green gateway). */
export async function restart(t: Target, service: ServiceName): Promise<void> {
  const n = names(t.config.env);
  if (SERVICE_CATALOG[service].exposure === "alb" && t.config.sizing.gatewayReleases === "blue-green") {
    // ECS refuses --force-new-deployment under the CODE_DEPLOY controller: CodeDeploy redeploys what runs.
    const current = await aws(t, ["ecs", "describe-services", "--cluster", n.cluster, "--services", n.service(service), "--query", "services[0].taskDefinition", "--output", "text"]);
    if (!current.startsWith("arn:")) throw new Refusal(`${n.service(service)} in ${n.cluster} has no running task definition (aws ecs describe-services answered ${JSON.stringify(current)}): is the services phase applied? make apply ENV=${t.config.env} PHASE=services`);
    return deployGateway(t, current);
  }
  const region = t.config.settings.region;
  const describe = `aws ecs describe-services --cluster ${n.cluster} --services ${n.service(service)} --region ${region}`;
  await aws(t, ["ecs", "update-service", "--cluster", n.cluster, "--service", n.service(service), "--force-new-deployment"]);
  say(`Restarting ${n.service(service)}: ECS replaces its tasks (rolling; the circuit breaker and deployment alarm roll back a failure). Waiting until the service is stable (up to 10 minutes)...`);
  try {
    // The restart is done when the new tasks run and the old ones are gone, not when ECS accepts it.
    await run(t.aws, ["ecs", "wait", "services-stable", "--cluster", n.cluster, "--services", n.service(service), "--region", region]);
  } catch (e) {
    if (!(e instanceof StepFailed) || e.signal) throw e;
    throw new StepFailed(
      `${n.service(service)} did not become stable after the restart (aws ecs wait services-stable failed): its new tasks may not start or stay healthy, or the deployment is still running or rolling back. Read its deployments and events: ${describe} --query 'services[0].[deployments,events[:10]]'`,
    );
  }
  say(`${n.service(service)} is stable: its tasks were replaced and run the desired count.`);
}
