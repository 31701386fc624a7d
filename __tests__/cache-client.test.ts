// The cache-client task of the services phase (make cache-flush) on the JSON of whole-environment synths:
// a hardened one-off redis-cli that reaches the cache from inside the VPC with TLS, AUTH and cluster mode.
import {
  CACHE_CLIENT_CONTAINER,
  CACHE_CLIENT_DEFAULT_COMMAND,
  CACHE_CLIENT_IMAGE,
  CACHE_CLIENT_USER,
  REDISCLI_AUTH,
  REDIS_CLI_TLS_CLUSTER,
} from "../src/constructs/cache-client";
import { ENVIRONMENTS, EnvironmentName } from "../src/naming";
import { StackJson, config, policyStatements, resources, synthEnv } from "./support/config";

const REMOTE = (phase: string, output: string) => `\${data.terraform_remote_state.${phase}.outputs.${output}}`;
const synthesized = Object.fromEntries(ENVIRONMENTS.map((env) => [env, synthEnv(config(env)).json.services!])) as Record<EnvironmentName, StackJson>;
const containerOf = (json: StackJson): any => JSON.parse(resources(json, "aws_ecs_task_definition")["cache-client_task-definition"].container_definitions)[0];

describe.each(ENVIRONMENTS)("%s: the cache-client task", (env) => {
  const json = synthesized[env];
  const td = resources(json, "aws_ecs_task_definition")["cache-client_task-definition"];
  const c = containerOf(json);

  it("is a task definition of its own family with no ECS service: it runs only when make cache-flush starts it", () => {
    expect(td).toEqual(
      expect.objectContaining({
        family: `accessweaver-${env}-cache-client`,
        network_mode: "awsvpc",
        requires_compatibilities: ["FARGATE"],
        execution_role_arn: "${aws_iam_role.cache-client_execution-role_role.arn}",
        task_role_arn: "${aws_iam_role.cache-client_task-role.arn}",
      }),
    );
    const services = Object.values(resources(json, "aws_ecs_service")) as { task_definition: string }[];
    expect(services.map((s) => s.task_definition)).not.toContain("${aws_ecs_task_definition.cache-client_task-definition.arn}");
  });

  it("runs the pinned redis image from the environment's registry (the ECR pull-through path), hardened: read-only root filesystem, non-root, no capability", () => {
    expect(c.image).toBe(`111122223333.dkr.ecr.eu-west-1.amazonaws.com/ecr-public/docker/library/redis:${CACHE_CLIENT_IMAGE.tag}`);
    expect(CACHE_CLIENT_IMAGE.tag).toMatch(/^7\.\d+\.\d+-alpine\d+\.\d+$/);
    expect(c).toEqual(
      expect.objectContaining({ name: CACHE_CLIENT_CONTAINER, essential: true, readonlyRootFilesystem: true, privileged: false, user: CACHE_CLIENT_USER }),
    );
    expect(Number(c.user)).toBeGreaterThan(0);
    expect(c.linuxParameters.capabilities).toEqual({ add: [], drop: ["ALL"] });
    expect(c.logConfiguration.options["awslogs-group"]).toBe(`/ecs/accessweaver-${env}/cache-client`);
  });

  it("runs redis-cli with TLS and cluster mode against the configuration endpoint unless overridden, the AUTH token from the Redis secret", () => {
    const [host, port] = [REMOTE("cache", "redis_configuration_endpoint"), REMOTE("cache", "redis_port")];
    // The image's own entry point (docker-entrypoint.sh) runs the command, or an override naming its program.
    expect(c.entryPoint).toBeUndefined();
    expect(c.command).toEqual(["redis-cli", ...REDIS_CLI_TLS_CLUSTER, "-h", host, "-p", port, ...CACHE_CLIENT_DEFAULT_COMMAND]);
    expect(REDIS_CLI_TLS_CLUSTER).toEqual(["--tls", "-c"]);
    // Where the cache is, for an override that is a script (make cache-flush's `sh -c`).
    expect(c.environment).toEqual([
      { name: "REDIS_HOST", value: host },
      { name: "REDIS_PORT", value: port },
    ]);
    // redis-cli reads REDISCLI_AUTH: the token is in no argument, no environment value, no task description.
    expect(c.secrets).toEqual([{ name: REDISCLI_AUTH, valueFrom: `${REMOTE("cache", "redis_secret_arn")}:auth_token::` }]);
    expect(c.command.filter((a: string) => a === "-a" || a.startsWith("--pass") || a.startsWith("--user"))).toEqual([]);
  });

  it("lets its execution role pull only the client image, write only its log group and read only the Redis secret; its task role has no policy", () => {
    const st = policyStatements(json, "cache-client_execution-role_permissions");
    expect(Object.keys(st).sort()).toEqual(["DecryptOwnSecrets", "EcrToken", "PullOwnImage", "ReadOwnSecrets", "WriteOwnLogs"]);
    expect(st.PullOwnImage.resources).toEqual([`arn:aws:ecr:eu-west-1:111122223333:repository/${CACHE_CLIENT_IMAGE.repository}`]);
    expect(st.ReadOwnSecrets.resources).toEqual([REMOTE("cache", "redis_secret_arn")]);
    expect(resources(json, "aws_iam_role_policy")["cache-client_task-role-policy"]).toBeUndefined();
    expect(resources(json, "aws_iam_role")["cache-client_task-role"].name).toBe(`accessweaver-${env}-cache-client-task`);
  });

  it("publishes what aws ecs run-task needs: the task definition, the services' private subnets and security group, the log group", () => {
    expect(json.output.cache_client_task_definition_arn.value).toBe("${aws_ecs_task_definition.cache-client_task-definition.arn}");
    expect(json.output.cache_client_subnet_ids.value).toBe(REMOTE("network", "private_subnet_ids"));
    expect(json.output.cache_client_security_group_id.value).toBe(REMOTE("network", "security_group_ids.services"));
    expect(json.output.cache_client_log_group.value).toBe("${aws_cloudwatch_log_group.cache-client_logs_log-group.name}");
  });
});
