/**
 * Guardrails of the services phase: ECS services, their task definitions and task roles. Each rule reads
 * the synthesized configuration, as Terraform will see it; `container_definitions` is a JSON string there.
 */
import { ResourceView, Rule, StackView, Violation } from "./guardrails";

const v = (rule: string, r: ResourceView, message: string): Violation => ({ rule, address: r.address, message });
const ofType = (s: StackView, ...types: string[]) => s.resources.filter((r) => types.includes(r.type));
/** `x` as a list: Terraform JSON writes a single nested block either as an object or a list of one. */
const blocks = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** Environment variable names that look like they carry a secret: those belong in `secrets`. */
export const SECRET_LOOKING = /PASSWORD|SECRET|TOKEN|KEY/i;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
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
    return eachContainer(s, this.id, (c) => (typeof c.logConfiguration?.logDriver === "string" ? undefined : "no logConfiguration with a logDriver: its output would be lost"));
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
      return breaker?.enable === true && breaker.rollback === true ? [] : [v(this.id, r, "neither deployment_circuit_breaker { enable = true, rollback = true } nor a CODE_DEPLOY controller: a broken image would stay deployed")];
    });
  },
};

/** Services whose actions read or write data. */
const DATA_SERVICES = ["s3", "dynamodb", "rds", "rds-data", "secretsmanager", "kms", "ssm", "elasticache", "sqs", "sns", "kinesis", "logs"];
const isDataAction = (action: string) => action === "*" || DATA_SERVICES.includes(action.split(":")[0]!.toLowerCase());
const DOCUMENT_REF = /^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}$/;

/** Allow statements of a policy attribute as actions and resources; undefined when unreadable. */
function allows(s: StackView, policy: unknown): { actions: string[]; resources: string[] }[] | undefined {
  const text = String(policy);
  const ref = DOCUMENT_REF.exec(text);
  if (ref) {
    const doc = (s.dataSources ?? []).find((d) => d.type === "aws_iam_policy_document" && d.name === ref[1]);
    if (!doc) return undefined;
    return blocks<Record<string, unknown>>(doc.config.statement)
      .filter((st) => (st.effect ?? "Allow") === "Allow")
      .map((st) => ({ actions: blocks(st.actions as string[]), resources: blocks(st.resources as string[]) }));
  }
  try {
    const json = JSON.parse(text);
    return blocks<Record<string, unknown>>(json.Statement)
      .filter((st) => st.Effect === "Allow")
      .map((st) => ({ actions: blocks(st.Action as string | string[]), resources: blocks(st.Resource as string | string[]) }));
  } catch {
    return undefined;
  }
}

export const taskRoleNoWildcardData: Rule = {
  id: "ecs-task-role-scoped",
  types: ["aws_iam_role", "aws_iam_role_policy", "aws_iam_role_policy_attachment"],
  description: "task roles (what the application may call) allow no data action on resource \"*\"",
  check(s) {
    const out: Violation[] = [];
    const taskRoles = new Set(
      ofType(s, "aws_ecs_task_definition")
        .map((r) => /^\$\{aws_iam_role\.([A-Za-z0-9_-]+)\.arn\}$/.exec(String(r.config.task_role_arn ?? ""))?.[1])
        .filter((x): x is string => x !== undefined),
    );
    const ofTaskRole = (role: unknown) => [...taskRoles].some((name) => String(role).includes(`aws_iam_role.${name}.`));
    const policies: { r: ResourceView; policy: unknown }[] = [
      ...ofType(s, "aws_iam_role_policy").filter((r) => ofTaskRole(r.config.role)).map((r) => ({ r, policy: r.config.policy })),
      ...ofType(s, "aws_iam_role")
        .filter((r) => taskRoles.has(r.name))
        .flatMap((r) => blocks<Record<string, unknown>>(r.config.inline_policy).map((p) => ({ r, policy: p.policy }))),
    ];
    for (const { r, policy } of policies) {
      const statements = allows(s, policy);
      if (!statements) {
        out.push(v(this.id, r, "the task role's policy is neither an aws_iam_policy_document nor JSON, so it cannot be checked"));
        continue;
      }
      for (const st of statements) {
        const data = st.actions.filter(isDataAction);
        if (data.length > 0 && st.resources.includes("*")) out.push(v(this.id, r, `allows ${data.join(", ")} on "*": name the resources`));
      }
    }
    for (const r of ofType(s, "aws_iam_role_policy_attachment").filter((a) => ofTaskRole(a.config.role))) {
      if (/AdministratorAccess|FullAccess|PowerUserAccess/.test(String(r.config.policy_arn))) out.push(v(this.id, r, `attaches ${r.config.policy_arn} to a task role`));
    }
    return out;
  },
};

export const COMPUTE_RULES: readonly Rule[] = [serviceNoPublicIp, containerReadOnlyRoot, containerNotPrivileged, containerLogs, noSecretsInEnvironment, safeDeployments, taskRoleNoWildcardData];
