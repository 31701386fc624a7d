/**
 * `make db-roles ENV=<env>`: runs the services phase's one-off db-roles task (src/constructs/db-roles.ts)
 * and reports how it ended. The task logs in as the master user and creates, or puts back, the database
 * role of each service (IAM authentication only) with its grants; it is idempotent and only creates and
 * grants, so it needs no confirmation, in prod neither. Run it after the first apply of the services
 * phase, after a release that adds a database service, and after a restore.
 *
 * What it reads comes from the services phase's outputs (its state): the task definition, subnets,
 * security group, log group and cluster. Then `aws ecs run-task`, `aws ecs wait tasks-stopped`, and
 * `aws ecs describe-tasks` for the container's exit code.
 */
import { DATABASE_SERVICES } from "../../src/config/services";
import { names } from "../../src/naming";
import { DB_ROLES_CONTAINER } from "../../src/constructs/db-roles";
import { SERVICES_HANDLES } from "../../src/stacks/handles";
import { Stack } from "./plans";
import { Refusal, StepFailed, run, say } from "./process";
import { Target, aws } from "./release";
import { Context, outputsJson } from "./workflow";

/** The outputs of the services phase that the run needs. */
const NEEDED = [
  SERVICES_HANDLES.clusterName.output,
  SERVICES_HANDLES.dbRolesTaskDefinitionArn.output,
  SERVICES_HANDLES.dbRolesSubnetIds.output,
  SERVICES_HANDLES.dbRolesSecurityGroupId.output,
  SERVICES_HANDLES.dbRolesLogGroup.output,
] as const;

/** One task of `aws ecs run-task` or `describe-tasks`: the fields read here. */
interface EcsTask {
  readonly taskArn?: string;
  readonly lastStatus?: string;
  readonly stopCode?: string;
  readonly stoppedReason?: string;
  readonly containers?: readonly { readonly name?: string; readonly exitCode?: number; readonly reason?: string }[];
}
interface TasksAnswer {
  readonly tasks?: readonly EcsTask[];
  readonly failures?: readonly { readonly arn?: string; readonly reason?: string; readonly detail?: string }[];
}

/** What psql's exit status says (psql's manual, "Exit Status"). */
const PSQL_EXIT: Readonly<Record<number, string>> = {
  // The script is one --command with ON_ERROR_STOP: a failed statement exits 1 (3 is -f's code only).
  1: "psql or PostgreSQL reported an error (a statement failed, or psql itself)",
  2: "the connection to PostgreSQL failed or was lost (network, TLS, the master password)",
};

/** The AWS CLI in the environment's region; stdout, or StepFailed with its stderr kept. */
const awsCall = (t: Target, args: string[]) => aws(t, args, { keepStderr: true });

/** Parses an AWS CLI JSON answer, or fails naming the command and what came back. */
function parsed<T>(answer: string, command: string): T {
  try {
    return JSON.parse(answer) as T;
  } catch {
    throw new StepFailed(`aws ${command} answered something that is not JSON: ${answer.slice(0, 200)}`);
  }
}

/** The services phase's outputs the run needs, or a refusal naming what is missing and what to apply. */
async function readOutputs(
  ctx: Context,
  stack: Stack,
): Promise<{ cluster: string; taskDefinition: string; subnets: string[]; securityGroup: string; logGroup: string }> {
  const all = parsed<Record<string, { value?: unknown }>>(await outputsJson(ctx, stack), "(terraform output -json)");
  const value = (name: string) => all[name]?.value;
  const missing = NEEDED.filter((name) => {
    const v = value(name);
    return Array.isArray(v) ? v.length === 0 || v.some((x) => typeof x !== "string") : typeof v !== "string" || v === "";
  });
  if (missing.length > 0) {
    throw new Refusal(
      `make db-roles ENV=${ctx.env}: the state of ${stack.name} has no ${missing.join(", ")}: the services phase is not applied, or was applied before the db-roles task existed. Apply it first (make plan ENV=${ctx.env} PHASE=services, then make apply ENV=${ctx.env} PHASE=services), then run make db-roles ENV=${ctx.env} again. Nothing was started.`,
    );
  }
  const [cluster, taskDefinition, subnets, securityGroup, logGroup] = NEEDED.map(value) as [string, string, string[], string, string];
  return { cluster, taskDefinition, subnets, securityGroup, logGroup };
}

/** `arn:...:task/<cluster>/<id>` -> `<id>`. */
const taskId = (arn: string) => arn.slice(arn.lastIndexOf("/") + 1);

export async function dbRoles(ctx: Context, t: Target, stack: Stack): Promise<void> {
  const region = t.config.settings.region;
  const o = await readOutputs(ctx, stack);
  const roles = DATABASE_SERVICES.map((spec) => names(ctx.env).databaseRole(spec.name));
  say(
    `make db-roles ENV=${ctx.env}: runs the one-off task ${o.taskDefinition} in ${o.cluster}. psql logs in to the application database as the master user (TLS required) and, for ${roles.join(", ")}: creates the role where it is missing (LOGIN, IAM authentication through rds_iam, no password), grants it CONNECT and its own schema, and revokes PUBLIC's defaults (CONNECT on the database, CREATE in schema public). It creates and grants only; running it again changes nothing that is already in place.`,
  );

  const network = JSON.stringify({ awsvpcConfiguration: { subnets: o.subnets, securityGroups: [o.securityGroup], assignPublicIp: "DISABLED" } });
  let answer: string;
  try {
    answer = await awsCall(t, [
      "ecs",
      "run-task",
      "--cluster",
      o.cluster,
      "--task-definition",
      o.taskDefinition,
      "--launch-type",
      "FARGATE",
      "--count",
      "1",
      "--network-configuration",
      network,
      "--started-by",
      "make-db-roles",
      "--propagate-tags",
      "TASK_DEFINITION",
      "--output",
      "json",
    ]);
  } catch (e) {
    if (!(e instanceof StepFailed) || e.signal) throw e;
    // Refused by the API (credentials, permissions, an unknown task definition): nothing started.
    throw new StepFailed(`make db-roles ENV=${ctx.env}: aws ecs run-task was refused: ${e.stderr.trim() || e.message} Nothing ran against the database.`);
  }
  const started = parsed<TasksAnswer>(answer, "ecs run-task");
  const arn = started.tasks?.[0]?.taskArn;
  if (!arn) {
    const why =
      (started.failures ?? []).map((f) => `${f.reason ?? "no reason given"}${f.detail ? ` (${f.detail})` : ""}`).join("; ") ||
      "ECS returned no task and no failure";
    throw new StepFailed(
      `make db-roles ENV=${ctx.env}: ECS did not start the task: ${why}. Nothing ran against the database. Check the cluster's capacity and the subnets (aws ecs describe-clusters --clusters ${o.cluster} --region ${region}), then run make db-roles ENV=${ctx.env} again.`,
    );
  }
  const id = taskId(arn);
  const logs = `aws logs tail ${o.logGroup} --log-stream-names ecs/${DB_ROLES_CONTAINER}/${id} --since 1d --region ${region}`;
  const describe = `aws ecs describe-tasks --cluster ${o.cluster} --tasks ${arn} --region ${region}`;
  say(`Task ${id} started; waiting until it stops (aws ecs wait tasks-stopped: every 6 s, up to 10 minutes)...`);

  let waitFailed = false;
  try {
    await run(t.aws, ["ecs", "wait", "tasks-stopped", "--cluster", o.cluster, "--tasks", arn, "--region", region]);
  } catch (e) {
    if (!(e instanceof StepFailed) || e.signal) throw e;
    waitFailed = true;
  }
  const described = parsed<TasksAnswer>(
    await awsCall(t, ["ecs", "describe-tasks", "--cluster", o.cluster, "--tasks", arn, "--output", "json"]),
    "ecs describe-tasks",
  );
  const task = described.tasks?.find((x) => x.taskArn === arn) ?? described.tasks?.[0];
  const container = task?.containers?.find((c) => c.name === DB_ROLES_CONTAINER);
  if (!task || task.lastStatus !== "STOPPED") {
    throw new StepFailed(
      `make db-roles ENV=${ctx.env}: task ${id} has not stopped${waitFailed ? " after 10 minutes" : ""} (ECS reports ${task?.lastStatus ?? "no such task"}). psql may still be waiting for the database or a lock. Read what it printed: ${logs}. Stop it if it hangs: aws ecs stop-task --cluster ${o.cluster} --task ${arn} --region ${region}; then run make db-roles ENV=${ctx.env} again (it is safe to repeat).`,
    );
  }
  const code = container?.exitCode;
  if (code === undefined || code === null) {
    // The container never ran: the image, a secret or the network stopped the task before psql started.
    const reason = [task.stopCode, task.stoppedReason, container?.reason].filter(Boolean).join(": ");
    const hint = /CannotPull|pull image|ImagePull/i.test(reason)
      ? ` The client image must be in the registry (${t.config.settings.ecrRegistry}); see docs/data-tier.md, "Database roles", for the pull-through cache rule or the copy.`
      : /secret|ResourceInitializationError/i.test(reason)
        ? " The task could not read the master password's secret (its execution role, the key, or the Secrets Manager endpoint)."
        : "";
    throw new StepFailed(
      `make db-roles ENV=${ctx.env}: task ${id} stopped before psql ran (${reason || "no reason given"}). Nothing ran against the database.${hint} Read the task: ${describe}`,
    );
  }
  if (code !== 0) {
    throw new StepFailed(
      `make db-roles ENV=${ctx.env}: psql exited ${code} in task ${id}: ${PSQL_EXIT[code] ?? "an unexpected exit status"}. The script runs as one transaction, so nothing of it was kept. Read what psql printed: ${logs}`,
    );
  }
  say(
    `Database roles of ${ctx.env} are in place: task ${id} exited 0 (${roles.join(", ")}). psql's report (each role, its login, IAM authentication and schema): ${logs}`,
  );
}
