/**
 * Guardrails of the services phase: ECS services, their task definitions and task roles. Each rule reads
 * the synthesized configuration, as Terraform will see it; `container_definitions` is a JSON string there.
 */
import { ResourceView, Rule, StackView, Violation } from "./guardrails";
import { statementsOf } from "./policy-statements";
import { blocks, ofType, v } from "./rule-helpers";

/** Environment variable names that look like they carry a secret: those belong in `secrets`. */
export const SECRET_LOOKING = /PASSWORD|SECRET|TOKEN|KEY/i;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Terraform JSON, read key by key as Terraform reads it
type Container = Record<string, any>;

/**
 * Runs `check` on every container of every task definition. A `container_definitions` that is not a
 * JSON string (e.g. a Terraform expression) cannot be checked, and is reported as such.
 */
function eachContainer(s: StackView, rule: string, check: (c: Container) => string | undefined): Violation[] {
  const out: Violation[] = [];
  for (const r of ofType(s, "aws_ecs_task_definition")) {
    let containers: Container[];
    try {
      containers = [JSON.parse(String(r.config.container_definitions))].flat();
    } catch {
      out.push(v(rule, r, "container_definitions is not a JSON string, so the containers cannot be checked"));
      continue;
    }
    for (const c of containers) {
      const problem = check(c);
      if (problem) out.push(v(rule, r, `container ${JSON.stringify(c.name ?? "?")}: ${problem}`));
    }
  }
  return out;
}

export const serviceNoPublicIp: Rule = {
  id: "ecs-no-public-ip",
  types: ["aws_ecs_service"],
  description: "ECS services give their tasks no public IP address (only the ALB is public)",
  check(s) {
    return ofType(s, "aws_ecs_service")
      .filter((r) => blocks<Record<string, unknown>>(r.config.network_configuration).some((n) => n.assign_public_ip === true))
      .map((r) => v(this.id, r, "network_configuration.assign_public_ip is true"));
  },
};

export const containerReadOnlyRoot: Rule = {
  id: "ecs-read-only-root",
  types: ["aws_ecs_task_definition"],
  description: "containers run with a read-only root filesystem (a writable volume for scratch files)",
  check(s) {
    return eachContainer(s, this.id, (c) => (c.readonlyRootFilesystem === true ? undefined : "readonlyRootFilesystem is not true"));
  },
};

export const containerNotPrivileged: Rule = {
  id: "ecs-not-privileged",
  types: ["aws_ecs_task_definition"],
  description: "containers are not privileged and add no Linux capabilities",
  check(s) {
    return eachContainer(s, this.id, (c) => {
      if (c.privileged === true) return "privileged is true";
      const added = c.linuxParameters?.capabilities?.add ?? [];
      return Array.isArray(added) && added.length > 0 ? `adds Linux capabilities ${added.join(", ")}` : undefined;
    });
  },
};

export const containerLogs: Rule = {
  id: "ecs-log-configuration",
  types: ["aws_ecs_task_definition"],
  description: "every container sends its logs somewhere (logConfiguration with a log driver)",
  check(s) {
    return eachContainer(s, this.id, (c) =>
      typeof c.logConfiguration?.logDriver === "string" ? undefined : "no logConfiguration with a logDriver: its output would be lost",
    );
  },
};

export const noSecretsInEnvironment: Rule = {
  id: "ecs-no-secret-environment",
  types: ["aws_ecs_task_definition"],
  description: `no secret-looking names (${SECRET_LOOKING.source}) in a container's plain environment: secrets come through \`secrets\``,
  check(s) {
    return eachContainer(s, this.id, (c) => {
      const names = blocks<{ name?: string }>(c.environment).map((e) => String(e.name ?? ""));
      const bad = names.filter((n) => SECRET_LOOKING.test(n));
      return bad.length > 0 ? `environment has ${bad.join(", ")}; inject it through secrets (Secrets Manager) instead` : undefined;
    });
  },
};

export const safeDeployments: Rule = {
  id: "ecs-safe-deployments",
  types: ["aws_ecs_service"],
  description: "every ECS service rolls back a failed deployment: the circuit breaker with rollback, or the CODE_DEPLOY controller",
  check(s) {
    return ofType(s, "aws_ecs_service").flatMap((r) => {
      const controller = blocks<Record<string, unknown>>(r.config.deployment_controller)[0]?.type ?? "ECS";
      if (controller === "CODE_DEPLOY") return [];
      const breaker = blocks<Record<string, unknown>>(r.config.deployment_circuit_breaker)[0];
      return breaker?.enable === true && breaker.rollback === true
        ? []
        : [
            v(
              this.id,
              r,
              "neither deployment_circuit_breaker { enable = true, rollback = true } nor a CODE_DEPLOY controller: a broken image would stay deployed",
            ),
          ];
    });
  },
};

/** Services whose actions read or write data (`rds-db`: logging in to a database as one of its users). */
const DATA_SERVICES = ["s3", "dynamodb", "rds", "rds-data", "rds-db", "secretsmanager", "kms", "ssm", "elasticache", "sqs", "sns", "kinesis", "logs"];
/** An IAM wildcard pattern (`*`, `?`) as a regular expression; IAM matches action names without case. */
const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "i",
  );
/** The service part of an action (`*` alone is every service). */
const serviceOf = (action: string) => (action.includes(":") ? action.slice(0, action.indexOf(":")) : action);
/** Whether an action pattern reaches a data service: `s3:GetObject`, `s3:Get*`, `*:Get*`, `*`. */
const isDataAction = (action: string) => DATA_SERVICES.some((svc) => glob(serviceOf(action)).test(svc));
/** S3 ARNs name the bucket directly (`arn:aws:s3:::bucket/key`); other services put a type first (`secret:`, `table/`). */
const UNTYPED_ARN_SERVICES = new Set(["s3", "sqs", "sns"]);

/**
 * Whether a resource names no particular resource: `*`, or an ARN whose service is a wildcard or whose
 * resource part is only wildcards after its type, such as `arn:aws:s3:::*`, `arn:aws:s3:::*\/*`,
 * `arn:aws:secretsmanager:eu-west-1:111122223333:secret:*` or `arn:aws:dynamodb:*:*:table/*`.
 */
function isWideResource(resource: string): boolean {
  if (resource === "*") return true;
  const parts = resource.split(":");
  if (parts[0] !== "arn" || parts.length < 6) return false;
  const service = parts[2]!;
  if (/[*?]/.test(service)) return true;
  const name = parts.slice(5).join(":");
  const withoutType = UNTYPED_ARN_SERVICES.has(service) ? name : name.replace(/^[A-Za-z0-9_-]+[:/]/, "");
  return /^[*?/]*$/.test(withoutType);
}

/** What is wrong with one policy attached to a task role, as messages (none when it is scoped). */
function taskRoleProblems(s: StackView, policy: unknown): string[] {
  const statements = statementsOf(s, policy);
  if (!statements) return ["the task role's policy is neither an aws_iam_policy_document nor JSON, so it cannot be checked"];
  return statements
    .filter((st) => st.allow)
    .flatMap((st) => {
      const problems: string[] = [];
      if (st.notActions.length > 0) problems.push(`allows every action but ${st.notActions.join(", ")} (NotAction): list the actions instead`);
      if (st.notResources.length > 0) problems.push(`allows on every resource but ${st.notResources.join(", ")} (NotResource): name the resources instead`);
      for (const a of st.actions.filter((x) => /[*?]/.test(serviceOf(x))))
        problems.push(`allows ${a}: the actions of every matching service; name the service and its actions`);
      for (const a of st.actions.filter((x) => /^[^*?:]+:\*$/.test(x) && isDataAction(x)))
        problems.push(`allows ${a}: every action of ${serviceOf(a)}, its administration (policies, deletion) included; name the actions`);
      const data = st.actions.filter(isDataAction);
      const wide = st.resources.filter(isWideResource);
      if (data.length > 0 && wide.length > 0)
        problems.push(`allows ${data.join(", ")} on ${wide.map((r) => JSON.stringify(r)).join(", ")}: name the resources`);
      return problems;
    });
}

/** Whether `value` references an attribute of `r`, or is its name or its IAM ARN written out. */
const refersTo = (value: unknown, r: ResourceView, name: unknown, arnPart: "role" | "policy") =>
  typeof value === "string" &&
  (value.startsWith(`\${${r.address}.`) ||
    (typeof name === "string" &&
      name !== "" &&
      (value === name || new RegExp(`^arn:aws[a-z-]*:iam::\\d{12}:${arnPart}/(.*/)?${name.replace(/[.+^${}()|[\]\\*?]/g, "\\$&")}$`).test(value))));

/** AWS managed policies (`arn:aws:iam::aws:policy/...`) are written for every resource ("*"). */
const AWS_MANAGED_POLICY = /^arn:aws[a-z-]*:iam::aws:policy\//;

export const taskRoleNoWildcardData: Rule = {
  id: "ecs-task-role-scoped",
  types: ["aws_ecs_task_definition", "aws_iam_role", "aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_iam_policy_attachment", "aws_iam_policy"],
  description:
    'task roles (what the application may call) allow no data action on resource "*" or a wildcard ARN, no whole data service (s3:*), no service wildcard (*:Get*), no NotAction or NotResource, in inline or attached customer-managed policies; no AWS managed policy or policy of another stack is attached',
  check(s) {
    const out: Violation[] = [];
    const roles = ofType(s, "aws_iam_role");
    const policies = ofType(s, "aws_iam_policy");
    const taskRoles = new Set<ResourceView>();
    for (const td of ofType(s, "aws_ecs_task_definition")) {
      const arn: unknown = td.config.task_role_arn;
      if (arn === undefined || arn === "") continue;
      const role = roles.find((r) => refersTo(arn, r, r.config.name, "role"));
      if (role) taskRoles.add(role);
      else out.push(v(this.id, td, `task_role_arn is ${JSON.stringify(arn)}, a role this stack does not create: its policies cannot be checked`));
    }
    const ofTaskRole = (value: unknown) => [...taskRoles].some((r) => refersTo(value, r, r.config.name, "role"));
    /** The problems of a policy attached by ARN: one of the stack's aws_iam_policy, or refused. */
    const attached = (arn: unknown): string[] => {
      const policy = policies.find((p) => refersTo(arn, p, p.config.name, "policy"));
      if (policy) return taskRoleProblems(s, policy.config.policy).map((m) => `${policy.address} (attached): ${m}`);
      if (AWS_MANAGED_POLICY.test(String(arn)))
        return [`attaches ${arn} to a task role: AWS managed policies grant on every resource; write a policy naming this service's resources`];
      return [`attaches ${JSON.stringify(arn)}, a policy this stack does not create: it cannot be checked`];
    };
    const report = (r: ResourceView, problems: string[]) => problems.forEach((m) => out.push(v(this.id, r, m)));

    for (const r of ofType(s, "aws_iam_role_policy").filter((x) => ofTaskRole(x.config.role))) report(r, taskRoleProblems(s, r.config.policy));
    for (const role of taskRoles) {
      for (const p of blocks<Record<string, unknown>>(role.config.inline_policy)) report(role, taskRoleProblems(s, p.policy));
      for (const arn of blocks<unknown>(role.config.managed_policy_arns as unknown[])) report(role, attached(arn));
    }
    for (const r of ofType(s, "aws_iam_role_policy_attachment").filter((x) => ofTaskRole(x.config.role))) report(r, attached(r.config.policy_arn));
    for (const r of ofType(s, "aws_iam_policy_attachment").filter((x) => blocks<unknown>(x.config.roles as unknown[]).some(ofTaskRole)))
      report(r, attached(r.config.policy_arn));
    return out;
  },
};

/** An alias (`alias/...` or its ARN): Fargate takes a key ARN for its ephemeral storage, never an alias. */
const KEY_ALIAS = /(^|:)alias\//;

export const ephemeralStorageEncrypted: Rule = {
  id: "ecs-ephemeral-storage-encrypted",
  types: ["aws_ecs_cluster"],
  description:
    "ECS clusters encrypt their Fargate tasks' ephemeral storage with the environment's key (configuration.managed_storage_configuration.fargate_ephemeral_storage_kms_key_id, a key ARN; kms-environment-key checks which key)",
  check(s) {
    return ofType(s, "aws_ecs_cluster").flatMap((r) => {
      const storage = blocks<Record<string, unknown>>(
        blocks<Record<string, unknown>>(r.config.configuration)[0]?.managed_storage_configuration as Record<string, unknown> | undefined,
      )[0];
      const key: unknown = storage?.fargate_ephemeral_storage_kms_key_id;
      if (typeof key !== "string" || key.trim() === "")
        return [
          v(
            this.id,
            r,
            "configuration.managed_storage_configuration.fargate_ephemeral_storage_kms_key_id is not set: tasks' ephemeral storage is encrypted with a key AWS owns, not the environment's",
          ),
        ];
      if (KEY_ALIAS.test(key)) return [v(this.id, r, `fargate_ephemeral_storage_kms_key_id is ${JSON.stringify(key)}: Fargate takes a key ARN, not an alias`)];
      return [];
    });
  },
};

export const COMPUTE_RULES: readonly Rule[] = [
  serviceNoPublicIp,
  containerReadOnlyRoot,
  containerNotPrivileged,
  containerLogs,
  noSecretsInEnvironment,
  safeDeployments,
  taskRoleNoWildcardData,
  ephemeralStorageEncrypted,
];
