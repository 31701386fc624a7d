// make db-roles with the recording stand-ins: what it reads from the services phase's state, the exact
// aws calls in order, and how it reports a task that succeeded, failed, never started or never ran psql.
import * as fs from "fs";
import * as path from "path";
import { operatorHarness } from "./support/standins-operator";

const h = operatorHarness();
const REGION = "eu-west-1";
const CLUSTER = "accessweaver-prod-cluster";
const TASK_DEF = "arn:aws:ecs:eu-west-1:444455556666:task-definition/accessweaver-prod-db-roles:3";
const TASK = "arn:aws:ecs:eu-west-1:444455556666:task/accessweaver-prod-cluster/0123456789abcdef0123456789abcdef";
const LOG_GROUP = "/ecs/accessweaver-prod/db-roles";
const WITH_SERVICES = { FAKE_SERVICES: "1" };
const NETWORK = '{"awsvpcConfiguration":{"subnets":["subnet-0a","subnet-0b","subnet-0c"],"securityGroups":["sg-0services"],"assignPublicIp":"DISABLED"}}';

/** Scripts one aws answer (first match wins), as release.test.ts does. */
function answer(match: string, body: unknown, exit = 0): void {
  const dir = path.join(h.s.stateDir, "aws", "scripted");
  fs.mkdirSync(dir, { recursive: true });
  const n = fs.readdirSync(dir).length;
  fs.writeFileSync(
    path.join(dir, `${String(n).padStart(3, "0")}.answer`),
    `match: ${match}\nexit: ${exit}\n---\n${typeof body === "string" ? body : JSON.stringify(body)}`,
  );
}

/** The services phase's state: what an applied services phase publishes for make db-roles. */
function appliedServices(omit: string[] = []): void {
  const outputs: Record<string, unknown> = {
    cluster_name: CLUSTER,
    db_roles_task_definition_arn: TASK_DEF,
    db_roles_subnet_ids: ["subnet-0a", "subnet-0b", "subnet-0c"],
    db_roles_security_group_id: "sg-0services",
    db_roles_log_group: LOG_GROUP,
  };
  for (const o of omit) delete outputs[o];
  h.setOutputs(
    "prod",
    "services",
    JSON.stringify(Object.fromEntries(Object.entries(outputs).map(([k, value]) => [k, { sensitive: false, type: "string", value }]))),
  );
}

/** describe-tasks: the task STOPPED, with the container's exit code (or none: it never ran). */
const stopped = (
  container: Record<string, unknown>,
  task: Record<string, unknown> = { stopCode: "EssentialContainerExited", stoppedReason: "Essential container in task exited" },
) => ({
  tasks: [{ taskArn: TASK, lastStatus: "STOPPED", ...task, containers: [{ name: "db-roles", lastStatus: "STOPPED", ...container }] }],
  failures: [],
});

const RUN_TASK = `aws ecs run-task --cluster ${CLUSTER} --task-definition ${TASK_DEF} --launch-type FARGATE --count 1 --network-configuration '${NETWORK}' --started-by make-db-roles --propagate-tags TASK_DEFINITION --output json --region ${REGION}`;
const WAIT = `aws ecs wait tasks-stopped --cluster ${CLUSTER} --tasks ${TASK} --region ${REGION}`;
const DESCRIBE = `aws ecs describe-tasks --cluster ${CLUSTER} --tasks ${TASK} --output json --region ${REGION}`;
const LOGS = `aws logs tail ${LOG_GROUP} --log-stream-names ecs/db-roles/0123456789abcdef0123456789abcdef --since 1d --region ${REGION}`;
const awsCalls = (log: string[]) => log.filter((l) => l.startsWith("aws "));

describe("make db-roles", () => {
  it("reads the services phase's outputs, says what it does, runs the task, waits until it stops and reports exit 0 (prod needs no CONFIRM)", async () => {
    appliedServices();
    answer("ecs run-task", { tasks: [{ taskArn: TASK, lastStatus: "PROVISIONING" }], failures: [] });
    answer("ecs wait tasks-stopped", "");
    answer("ecs describe-tasks", stopped({ exitCode: 0 }));
    const r = await h.multi(["db-roles", "prod"], WITH_SERVICES);
    expect(r.stderr).not.toMatch(/refused|failed/i);
    expect(r.status).toBe(0);
    // Terraform only reads the services phase's outputs (after its init); nothing is planned or applied.
    expect(r.log.filter((l) => l.startsWith("terraform "))).toEqual([
      `terraform ${h.dir("prod", "services")} init -no-color -input=false`,
      `terraform ${h.dir("prod", "services")} output -json`,
    ]);
    expect(awsCalls(r.log)).toEqual([RUN_TASK, WAIT, DESCRIBE]);
    // What it does is said before the task starts.
    expect(r.stdout.indexOf("creates the role where it is missing")).toBeGreaterThanOrEqual(0);
    expect(r.stdout.indexOf("creates the role where it is missing")).toBeLessThan(r.stdout.indexOf("Task 0123456789abcdef0123456789abcdef started"));
    expect(r.stdout).toContain("for aw_pdp, aw_pap, aw_tenant, aw_audit:");
    expect(r.stdout).toContain(
      `Database roles of prod are in place: task 0123456789abcdef0123456789abcdef exited 0 (aw_pdp, aw_pap, aw_tenant, aw_audit). psql's report (each role, its login, IAM authentication and schema): ${LOGS}`,
    );
  });

  it("fails with psql's exit code, what it means, and the exact command to read the task's logs", async () => {
    appliedServices();
    answer("ecs run-task", { tasks: [{ taskArn: TASK }], failures: [] });
    answer("ecs wait tasks-stopped", "");
    answer("ecs describe-tasks", stopped({ exitCode: 2 }));
    const r = await h.multi(["db-roles", "prod"], WITH_SERVICES);
    expect(r.status).toBe(2);
    expect(awsCalls(r.log)).toEqual([RUN_TASK, WAIT, DESCRIBE]);
    expect(r.stdout).not.toContain("are in place");
    expect(r.stderr).toContain(
      `make db-roles ENV=prod: psql exited 2 in task 0123456789abcdef0123456789abcdef: the connection to PostgreSQL failed or was lost (network, TLS, the master password). The script runs as one transaction, so nothing of it was kept. Read what psql printed: ${LOGS}`,
    );
  });

  it("fails without waiting when ECS does not start the task, saying why and that nothing ran", async () => {
    appliedServices();
    answer("ecs run-task", {
      tasks: [],
      failures: [{ arn: "arn:aws:ecs:eu-west-1:444455556666:container-instance/x", reason: "RESOURCE:ENI", detail: "no ENI available" }],
    });
    const r = await h.multi(["db-roles", "prod"], WITH_SERVICES);
    expect(r.status).toBe(2);
    expect(awsCalls(r.log)).toEqual([RUN_TASK]);
    expect(r.stderr).toContain(
      `make db-roles ENV=prod: ECS did not start the task: RESOURCE:ENI (no ENI available). Nothing ran against the database. Check the cluster's capacity and the subnets (aws ecs describe-clusters --clusters ${CLUSTER} --region ${REGION}), then run make db-roles ENV=prod again.`,
    );
  });

  it("fails with the CLI's error when ECS refuses run-task (e.g. a task definition that is not registered)", async () => {
    appliedServices();
    answer("ecs run-task", "An error occurred (ClientException) when calling the RunTask operation: TaskDefinition not found.", 254);
    const r = await h.multi(["db-roles", "prod"], WITH_SERVICES);
    expect(r.status).toBe(2);
    expect(awsCalls(r.log)).toEqual([RUN_TASK]);
    expect(r.stderr).toContain(
      "make db-roles ENV=prod: aws ecs run-task was refused: An error occurred (ClientException) when calling the RunTask operation: TaskDefinition not found. Nothing ran against the database.",
    );
  });

  it("fails when the task stopped before psql ran (an image that could not be pulled), naming the reason and the registry", async () => {
    appliedServices();
    answer("ecs run-task", { tasks: [{ taskArn: TASK }], failures: [] });
    answer("ecs wait tasks-stopped", "");
    answer(
      "ecs describe-tasks",
      stopped(
        { reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found" },
        { stopCode: "TaskFailedToStart", stoppedReason: "CannotPullContainerError: pull image manifest has been retried 5 time(s)" },
      ),
    );
    const r = await h.multi(["db-roles", "prod"], WITH_SERVICES);
    expect(r.status).toBe(2);
    expect(awsCalls(r.log)).toEqual([RUN_TASK, WAIT, DESCRIBE]);
    expect(r.stderr).toContain(
      "make db-roles ENV=prod: task 0123456789abcdef0123456789abcdef stopped before psql ran (TaskFailedToStart: CannotPullContainerError",
    );
    expect(r.stderr).toContain("Nothing ran against the database. The client image must be in the registry (444455556666.dkr.ecr.eu-west-1.amazonaws.com)");
    expect(r.stderr).toContain(`Read the task: aws ecs describe-tasks --cluster ${CLUSTER} --tasks ${TASK} --region ${REGION}`);
  });

  it("fails when the task has not stopped after the wait, with the logs and stop-task commands", async () => {
    appliedServices();
    answer("ecs run-task", { tasks: [{ taskArn: TASK }], failures: [] });
    answer("ecs wait tasks-stopped", "Waiter TasksStopped failed: Max attempts exceeded", 255);
    answer("ecs describe-tasks", {
      tasks: [{ taskArn: TASK, lastStatus: "RUNNING", containers: [{ name: "db-roles", lastStatus: "RUNNING" }] }],
      failures: [],
    });
    const r = await h.multi(["db-roles", "prod"], WITH_SERVICES);
    expect(r.status).toBe(2);
    expect(awsCalls(r.log)).toEqual([RUN_TASK, WAIT, DESCRIBE]);
    expect(r.stderr).toContain(`task 0123456789abcdef0123456789abcdef has not stopped after 10 minutes (ECS reports RUNNING)`);
    expect(r.stderr).toContain(`Read what it printed: ${LOGS}. Stop it if it hangs: aws ecs stop-task --cluster ${CLUSTER} --task ${TASK} --region ${REGION}`);
  });

  it("refuses before any aws call when the services phase's state lacks the task (not applied yet), naming what to apply", async () => {
    appliedServices(["db_roles_task_definition_arn", "db_roles_subnet_ids"]);
    const r = await h.multi(["db-roles", "prod"], WITH_SERVICES);
    expect(r.status).toBe(2);
    expect(awsCalls(r.log)).toEqual([]);
    expect(r.stderr).toContain(
      "make db-roles ENV=prod: the state of accessweaver-prod-services has no db_roles_task_definition_arn, db_roles_subnet_ids: the services phase is not applied, or was applied before the db-roles task existed. Apply it first (make plan ENV=prod PHASE=services, then make apply ENV=prod PHASE=services), then run make db-roles ENV=prod again. Nothing was started.",
    );
  });

  it("acts on the services phase only: PHASE is refused, through make as well, before anything runs", () => {
    const r = h.make(["db-roles", "ENV=prod", "PHASE=database"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('make db-roles runs the services phase\'s db-roles task: leave PHASE out (it was "database").');
    expect(r.log).toEqual([]);
  });
});
