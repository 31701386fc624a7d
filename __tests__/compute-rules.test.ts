// The compute guardrails, each shown rejecting a bad resource and passing a good one (the real services
// phase passing them is in services.test.ts, on its synth).
import { App, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsService, EcsServiceConfig } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamPolicyAttachment } from "@cdktf/provider-aws/lib/iam-policy-attachment";
import { IamRole, IamRoleConfig } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { policyDocument } from "../src/constructs/iam";
import {
  COMPUTE_RULES,
  containerLogs,
  containerNotPrivileged,
  containerReadOnlyRoot,
  ephemeralStorageEncrypted,
  noSecretsInEnvironment,
  safeDeployments,
  serviceNoPublicIp,
  taskRoleNoWildcardData,
} from "../src/policy/compute-rules";
import { Rule, evaluate, viewOf } from "../src/policy/guardrails";
import { BASELINE_RULES } from "../src/policy/rules";
import { defaultTags } from "../src/naming";
import { tempDir } from "./support/config";

const TAGS = defaultTags({ env: "prod", phase: "services", costCenter: "CC-42", owner: "platform" });

function stackWith(add: (s: TerraformStack) => void): TerraformStack {
  const s = new TerraformStack(new App({ outdir: tempDir() }), "accessweaver-prod-services");
  new AwsProvider(s, "aws", { region: "eu-west-1", defaultTags: [{ tags: TAGS }] });
  add(s);
  return s;
}
const check = (rule: Rule, s: TerraformStack) => evaluate(viewOf(s.node.id, s.toTerraform()), [rule]).map((x) => `${x.address}: ${x.message}`);

const GOOD_CONTAINER = {
  name: "app",
  image: "repo/app:1",
  readonlyRootFilesystem: true,
  privileged: false,
  linuxParameters: { capabilities: { add: [], drop: ["ALL"] } },
  environment: [{ name: "SERVER_PORT", value: "8080" }],
  secrets: [{ name: "DATABASE_PASSWORD", valueFrom: "arn:secret" }],
  logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/ecs/x" } },
};
const task = (s: TerraformStack, id: string, container: object | string, taskRoleArn?: string) =>
  new EcsTaskDefinition(s, id, {
    family: id,
    containerDefinitions: typeof container === "string" ? container : JSON.stringify([container]),
    ...(taskRoleArn ? { taskRoleArn } : {}),
  });
const GOOD_SERVICE: EcsServiceConfig = {
  name: "good",
  networkConfiguration: { subnets: ["subnet-1"], assignPublicIp: false },
  deploymentCircuitBreaker: { enable: true, rollback: true },
};

describe("compute guardrails reject bad resources", () => {
  it("ecs-no-public-ip: a service whose tasks get a public IP", () => {
    const s = stackWith((st) => {
      new EcsService(st, "good", GOOD_SERVICE);
      new EcsService(st, "public", { ...GOOD_SERVICE, name: "public", networkConfiguration: { subnets: ["subnet-1"], assignPublicIp: true } });
    });
    expect(check(serviceNoPublicIp, s)).toEqual(["aws_ecs_service.public: network_configuration.assign_public_ip is true"]);
  });

  it("ecs-read-only-root: a writable root filesystem, or one left unset", () => {
    const s = stackWith((st) => {
      task(st, "good", GOOD_CONTAINER);
      task(st, "writable", { ...GOOD_CONTAINER, readonlyRootFilesystem: false });
      const { readonlyRootFilesystem: _omit, ...unset } = GOOD_CONTAINER;
      task(st, "unset", unset);
    });
    expect(check(containerReadOnlyRoot, s)).toEqual([
      'aws_ecs_task_definition.writable: container "app": readonlyRootFilesystem is not true',
      'aws_ecs_task_definition.unset: container "app": readonlyRootFilesystem is not true',
    ]);
  });

  it("ecs-not-privileged: a privileged container and one adding a capability", () => {
    const s = stackWith((st) => {
      task(st, "good", GOOD_CONTAINER);
      task(st, "privileged", { ...GOOD_CONTAINER, privileged: true });
      task(st, "caps", { ...GOOD_CONTAINER, linuxParameters: { capabilities: { add: ["SYS_ADMIN"] } } });
    });
    expect(check(containerNotPrivileged, s)).toEqual([
      'aws_ecs_task_definition.privileged: container "app": privileged is true',
      'aws_ecs_task_definition.caps: container "app": adds Linux capabilities SYS_ADMIN',
    ]);
  });

  it("ecs-log-configuration: a container without logs, and container definitions it cannot read", () => {
    const s = stackWith((st) => {
      task(st, "good", GOOD_CONTAINER);
      const { logConfiguration: _omit, ...silent } = GOOD_CONTAINER;
      task(st, "silent", silent);
      task(st, "expression", "${jsonencode(local.containers)}");
    });
    expect(check(containerLogs, s)).toEqual([
      'aws_ecs_task_definition.silent: container "app": no logConfiguration with a logDriver: its output would be lost',
      "aws_ecs_task_definition.expression: container_definitions is not a JSON string, so the containers cannot be checked",
    ]);
  });

  it("ecs-no-secret-environment: a password, a token and an API key in plain environment", () => {
    const s = stackWith((st) => {
      task(st, "good", GOOD_CONTAINER);
      task(st, "leaky", {
        ...GOOD_CONTAINER,
        environment: [
          { name: "DB_PASSWORD", value: "hunter2" },
          { name: "auth_token", value: "x" },
          { name: "API_KEY", value: "y" },
          { name: "SERVER_PORT", value: "8080" },
        ],
      });
    });
    expect(check(noSecretsInEnvironment, s)).toEqual([
      'aws_ecs_task_definition.leaky: container "app": environment has DB_PASSWORD, auth_token, API_KEY; inject it through secrets (Secrets Manager) instead',
    ]);
  });

  it("ecs-safe-deployments: no circuit breaker, or one without rollback; CODE_DEPLOY passes", () => {
    const s = stackWith((st) => {
      new EcsService(st, "good", GOOD_SERVICE);
      new EcsService(st, "codedeploy", { name: "cd", networkConfiguration: GOOD_SERVICE.networkConfiguration, deploymentController: { type: "CODE_DEPLOY" } });
      new EcsService(st, "none", { name: "none", networkConfiguration: GOOD_SERVICE.networkConfiguration });
      new EcsService(st, "norollback", { ...GOOD_SERVICE, name: "nr", deploymentCircuitBreaker: { enable: true, rollback: false } });
    });
    expect(check(safeDeployments, s).map((x) => x.split(":")[0])).toEqual(["aws_ecs_service.none", "aws_ecs_service.norollback"]);
  });

  it("ecs-task-role-scoped: a task role reading every bucket and every secret; execution roles are not task roles", () => {
    const s = stackWith((st) => {
      const trust = JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "ecs-tasks.amazonaws.com" } }],
      });
      const scoped = new IamRole(st, "scoped", { name: "scoped", assumeRolePolicy: trust });
      const wide = new IamRole(st, "wide", { name: "wide", assumeRolePolicy: trust });
      const execution = new IamRole(st, "execution", { name: "execution", assumeRolePolicy: trust });
      task(st, "good", GOOD_CONTAINER, scoped.arn);
      task(st, "bad", GOOD_CONTAINER, wide.arn);
      new IamRolePolicy(st, "scoped-policy", {
        role: scoped.id,
        policy: policyDocument(st, "scoped-doc", [{ sid: "One", actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*"] }]).json,
      });
      new IamRolePolicy(st, "wide-doc-policy", {
        role: wide.id,
        policy: policyDocument(st, "wide-doc", [{ sid: "All", actions: ["s3:GetObject", "sts:GetCallerIdentity"], resources: ["*"] }]).json,
      });
      new IamRolePolicy(st, "wide-json-policy", {
        role: wide.name,
        policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: "*" }] }),
      });
      // An execution role needs ecr:GetAuthorizationToken on "*"; it is not what the application may call.
      new IamRolePolicy(st, "execution-policy", {
        role: execution.id,
        policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "logs:CreateLogStream", Resource: "*" }] }),
      });
    });
    expect(check(taskRoleNoWildcardData, s)).toEqual([
      'aws_iam_role_policy.wide-doc-policy: allows s3:GetObject on "*": name the resources',
      'aws_iam_role_policy.wide-json-policy: allows secretsmanager:GetSecretValue on "*": name the resources',
    ]);
  });

  describe("ecs-task-role-scoped: every way a policy reaches a task role, and every way a statement is too wide", () => {
    const TRUST = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "ecs-tasks.amazonaws.com" } }],
    });
    const allow = (statement: object) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", ...statement }] });
    /** The rule's findings on a stack with one task whose role `id` gets its policies from `add`. */
    const findings = (add: (st: TerraformStack, role: IamRole) => void, roleConfig: Partial<IamRoleConfig> = {}, taskRoleArn?: (role: IamRole) => string) =>
      check(
        taskRoleNoWildcardData,
        stackWith((st) => {
          const role = new IamRole(st, "app", { name: "accessweaver-prod-app-task", assumeRolePolicy: TRUST, ...roleConfig });
          task(st, "td", GOOD_CONTAINER, taskRoleArn ? taskRoleArn(role) : role.arn);
          add(st, role);
        }),
      );
    const inline = (statement: object) => findings((st, role) => new IamRolePolicy(st, "inline", { role: role.id, policy: allow(statement) }));

    it.each([
      ["a named object", { Action: "s3:GetObject", Resource: "arn:aws:s3:::accessweaver-prod-data/*" }, []],
      [
        "a named secret",
        { Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:accessweaver/prod/jwt-AbCdEf" },
        [],
      ],
      ["every bucket by ARN", { Action: "s3:GetObject", Resource: "arn:aws:s3:::*" }, ['allows s3:GetObject on "arn:aws:s3:::*": name the resources']],
      [
        "every object of every bucket",
        { Action: "s3:GetObject", Resource: "arn:aws:s3:::*/*" },
        ['allows s3:GetObject on "arn:aws:s3:::*/*": name the resources'],
      ],
      [
        "every secret of the account",
        { Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:*" },
        ['allows secretsmanager:GetSecretValue on "arn:aws:secretsmanager:eu-west-1:111122223333:secret:*": name the resources'],
      ],
      [
        "every table anywhere",
        { Action: "dynamodb:Query", Resource: "arn:aws:dynamodb:*:*:table/*" },
        ['allows dynamodb:Query on "arn:aws:dynamodb:*:*:table/*": name the resources'],
      ],
      [
        "every action of S3 on one bucket",
        { Action: "s3:*", Resource: "arn:aws:s3:::accessweaver-prod-data" },
        ["allows s3:*: every action of s3, its administration (policies, deletion) included; name the actions"],
      ],
      [
        "every service's reads",
        { Action: "*:Get*", Resource: "arn:aws:s3:::accessweaver-prod-data/*" },
        ["allows *:Get*: the actions of every matching service; name the service and its actions"],
      ],
      [
        "everything but one action",
        { NotAction: "iam:*", Resource: "arn:aws:s3:::accessweaver-prod-data/*" },
        ["allows every action but iam:* (NotAction): list the actions instead"],
      ],
      [
        "everywhere but one bucket",
        { Action: "s3:GetObject", NotResource: "arn:aws:s3:::accessweaver-prod-data/*" },
        ["allows on every resource but arn:aws:s3:::accessweaver-prod-data/* (NotResource): name the resources instead"],
      ],
      ["a read of a non-data service on *", { Action: "ecs:DescribeTasks", Resource: "*" }, []],
    ])("an inline aws_iam_role_policy allowing %s", (_what, statement, expected) => {
      expect(inline(statement)).toEqual(expected.map((m) => `aws_iam_role_policy.inline: ${m}`));
    });

    it("a Deny statement is no way in", () => {
      expect(
        findings(
          (st, role) =>
            new IamRolePolicy(st, "deny", { role: role.id, policy: JSON.stringify({ Statement: [{ Effect: "Deny", Action: "s3:*", Resource: "*" }] }) }),
        ),
      ).toEqual([]);
    });

    it("the role's own inline_policy block", () => {
      expect(findings(() => undefined, { inlinePolicy: [{ name: "inline", policy: allow({ Action: "s3:GetObject", Resource: "*" }) }] })).toEqual([
        'aws_iam_role.app: allows s3:GetObject on "*": name the resources',
      ]);
    });

    it("a customer-managed aws_iam_policy attached by aws_iam_role_policy_attachment is read through its document", () => {
      expect(
        findings((st, role) => {
          const p = new IamPolicy(st, "wide", {
            name: "accessweaver-prod-wide",
            policy: policyDocument(st, "wide-doc", [
              { sid: "Tables", actions: ["dynamodb:Query"], resources: ["arn:aws:dynamodb:eu-west-1:111122223333:table/*"] },
            ]).json,
          });
          const ok = new IamPolicy(st, "ok", {
            name: "accessweaver-prod-ok",
            policy: allow({ Action: "dynamodb:Query", Resource: "arn:aws:dynamodb:eu-west-1:111122223333:table/decisions" }),
          });
          new IamRolePolicyAttachment(st, "wide-attachment", { role: role.name, policyArn: p.arn });
          new IamRolePolicyAttachment(st, "ok-attachment", { role: role.name, policyArn: ok.arn });
        }),
      ).toEqual([
        'aws_iam_role_policy_attachment.wide-attachment: aws_iam_policy.wide (attached): allows dynamodb:Query on "arn:aws:dynamodb:eu-west-1:111122223333:table/*": name the resources',
      ]);
    });

    it("AWS managed policies, and policies of another stack, attached to a task role", () => {
      expect(
        findings((st, role) => {
          new IamRolePolicyAttachment(st, "managed", { role: role.name, policyArn: "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" });
          new IamRolePolicyAttachment(st, "foreign", { role: role.id, policyArn: "arn:aws:iam::111122223333:policy/made-elsewhere" });
        }),
      ).toEqual([
        "aws_iam_role_policy_attachment.managed: attaches arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess to a task role: AWS managed policies grant on every resource; write a policy naming this service's resources",
        'aws_iam_role_policy_attachment.foreign: attaches "arn:aws:iam::111122223333:policy/made-elsewhere", a policy this stack does not create: it cannot be checked',
      ]);
    });

    it("managed_policy_arns naming a policy of the stack by its ARN, and aws_iam_policy_attachment by the role's name", () => {
      expect(
        findings(
          (st) => {
            new IamPolicy(st, "named", { name: "accessweaver-prod-named", policy: allow({ Action: "kms:Decrypt", Resource: "*" }) });
            new IamPolicyAttachment(st, "group-attachment", {
              name: "a",
              roles: ["accessweaver-prod-app-task"],
              policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
            });
          },
          { managedPolicyArns: ["arn:aws:iam::111122223333:policy/accessweaver-prod-named"] },
        ),
      ).toEqual([
        'aws_iam_role.app: aws_iam_policy.named (attached): allows kms:Decrypt on "*": name the resources',
        "aws_iam_policy_attachment.group-attachment: attaches arn:aws:iam::aws:policy/AdministratorAccess to a task role: AWS managed policies grant on every resource; write a policy naming this service's resources",
      ]);
    });

    it("a task role given by its ARN written out, and one this stack does not create", () => {
      const literal = findings(
        (st) => new IamRolePolicy(st, "by-name", { role: "accessweaver-prod-app-task", policy: allow({ Action: "ssm:GetParameter", Resource: "*" }) }),
        {},
        () => "arn:aws:iam::111122223333:role/accessweaver-prod-app-task",
      );
      expect(literal).toEqual(['aws_iam_role_policy.by-name: allows ssm:GetParameter on "*": name the resources']);
      const foreign = findings(
        () => undefined,
        {},
        () => "${data.aws_iam_role.elsewhere.arn}",
      );
      expect(foreign).toEqual([
        'aws_ecs_task_definition.td: task_role_arn is "${data.aws_iam_role.elsewhere.arn}", a role this stack does not create: its policies cannot be checked',
      ]);
    });

    it("a policy it cannot read", () => {
      expect(findings((st, role) => new IamRolePolicy(st, "expression", { role: role.id, policy: "${jsonencode(local.p)}" }))).toEqual([
        "aws_iam_role_policy.expression: the task role's policy is neither an aws_iam_policy_document nor JSON, so it cannot be checked",
      ]);
    });
  });

  it("ecs-ephemeral-storage-encrypted: a cluster without a key for Fargate ephemeral storage, or with an alias", () => {
    const s = stackWith((st) => {
      const storage = (key: string) => ({ configuration: { managedStorageConfiguration: { fargateEphemeralStorageKmsKeyId: key } } });
      new EcsCluster(st, "good", { name: "good", ...storage("${data.terraform_remote_state.network.outputs.kms_key_arn}") });
      new EcsCluster(st, "aws-owned", { name: "aws-owned" });
      new EcsCluster(st, "exec-only", { name: "exec-only", configuration: { executeCommandConfiguration: { logging: "DEFAULT" } } });
      new EcsCluster(st, "alias", { name: "alias", ...storage("alias/accessweaver-prod") });
    });
    expect(check(ephemeralStorageEncrypted, s)).toEqual([
      "aws_ecs_cluster.aws-owned: configuration.managed_storage_configuration.fargate_ephemeral_storage_kms_key_id is not set: tasks' ephemeral storage is encrypted with a key AWS owns, not the environment's",
      "aws_ecs_cluster.exec-only: configuration.managed_storage_configuration.fargate_ephemeral_storage_kms_key_id is not set: tasks' ephemeral storage is encrypted with a key AWS owns, not the environment's",
      'aws_ecs_cluster.alias: fargate_ephemeral_storage_kms_key_id is "alias/accessweaver-prod": Fargate takes a key ARN, not an alias',
    ]);
  });

  it("are part of the baseline", () => {
    for (const rule of COMPUTE_RULES) expect(BASELINE_RULES).toContain(rule);
  });
});
