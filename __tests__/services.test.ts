// The services phase on the JSON of whole-environment synths: cluster, the five catalog services (task
// definitions, services, roles, log groups), Cloud Map, autoscaling, and the handles it publishes.
import { CATALOG, DATABASE_SERVICES, SERVICE_CATALOG } from "../src/config/services";
import { PROFILES } from "../src/config/profiles";
import { ENVIRONMENTS, EnvironmentName, SERVICES, ServiceName, names } from "../src/naming";
import { BASELINE_RULES } from "../src/policy/rules";
import { evaluate, viewOf } from "../src/policy/guardrails";
import { StackJson, config, resources, synthEnv } from "./support/config";
import { needs } from "../scripts/preflight/checks";
import { GATEWAY_REQUESTS_PER_TARGET } from "../src/stacks/services-stack";
import { requestsPerTaskExpression } from "../src/constructs/fargate-service";

const synthesized = Object.fromEntries(ENVIRONMENTS.map((env) => [env, synthEnv(config(env))])) as Record<EnvironmentName, ReturnType<typeof synthEnv>>;

const container = (json: StackJson, s: ServiceName): any =>
  JSON.parse(resources(json, "aws_ecs_task_definition")[`${s}_task-definition`].container_definitions)[0];

const policyOf = (json: StackJson, s: ServiceName): any[] => json.data.aws_iam_policy_document[`${s}_execution-role_permissions`].statement;
const DB = "${data.terraform_remote_state.database.outputs.database_secret_arn}";
const MASTER = "${data.terraform_remote_state.database.outputs.database_master_secret_arn}";
const RESOURCE_ID = "${data.terraform_remote_state.database.outputs.database_resource_id}";
const REDIS = "${data.terraform_remote_state.cache.outputs.redis_secret_arn}";
const JWT = "${data.terraform_remote_state.cache.outputs.jwt_secret_arn}";

describe.each(ENVIRONMENTS)("%s: the services phase", (env) => {
  const json = synthesized[env].json.services!;
  const profile = PROFILES[env];

  it("is its own stack after the load balancer, reading earlier phases through their remote states", () => {
    const ids = Object.keys(synthesized[env].byStack); // in build order
    expect(ids.indexOf(`accessweaver-${env}-services`)).toBe(ids.indexOf(`accessweaver-${env}-loadbalancer`) + 1);
    expect(Object.keys(json.data.terraform_remote_state).sort()).toEqual(["cache", "database", "loadbalancer", "network"]);
    expect(JSON.stringify(json.resource)).not.toMatch(/\$\{aws_(vpc|subnet|security_group|kms_key|lb|lb_target_group|secretsmanager_secret)\./);
  });

  it("makes the cluster with enhanced Container Insights and the Fargate capacity providers", () => {
    expect(resources(json, "aws_ecs_cluster").ecs_cluster).toEqual(
      expect.objectContaining({ name: `accessweaver-${env}-cluster`, setting: [{ name: "containerInsights", value: "enhanced" }] }),
    );
    expect(resources(json, "aws_ecs_cluster_capacity_providers")["ecs_capacity-providers"]).toEqual(
      expect.objectContaining({
        capacity_providers: ["FARGATE", "FARGATE_SPOT"],
        default_capacity_provider_strategy: [{ capacity_provider: "FARGATE", weight: 1, base: 0 }],
      }),
    );
  });

  it.each(SERVICES)("%s: task definition sized from the profile, hardened container, image from the settings", (s) => {
    const td = resources(json, "aws_ecs_task_definition")[`${s}_task-definition`];
    const size = profile.services[s];
    expect(td).toEqual(
      expect.objectContaining({
        family: `accessweaver-${env}-${s}`,
        cpu: String(size.cpu),
        memory: String(size.memory),
        network_mode: "awsvpc",
        requires_compatibilities: ["FARGATE"],
        runtime_platform: { operating_system_family: "LINUX", cpu_architecture: "X86_64" },
        volume: [{ name: "scratch" }],
        // A release's new revision leaves this one ACTIVE: rollbacks and make restart start tasks from it.
        skip_destroy: true,
      }),
    );
    const c = container(json, s);
    expect(c.name).toBe(s);
    expect(c.image).toBe(`111122223333.dkr.ecr.eu-west-1.amazonaws.com/${s}:2.3.4`);
    expect(c.portMappings).toEqual([{ containerPort: 8080, protocol: "tcp" }]);
    expect(c.healthCheck.command).toEqual(["CMD-SHELL", "curl -fsS http://localhost:8080/actuator/health || exit 1"]);
    expect(c.healthCheck.startPeriod).toBeGreaterThanOrEqual(60);
    expect(c).toEqual(expect.objectContaining({ readonlyRootFilesystem: true, privileged: false, user: "1000" }));
    expect(c.mountPoints).toEqual([{ sourceVolume: "scratch", containerPath: "/tmp", readOnly: false }]);
    expect(c.linuxParameters.capabilities).toEqual({ add: [], drop: ["ALL"] });
    expect(c.logConfiguration).toEqual({
      logDriver: "awslogs",
      options: { "awslogs-group": `/ecs/accessweaver-${env}/${s}`, "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "ecs" },
    });
    // A database service also learns its role and how it logs in (IAM); neither is a secret.
    const usesDatabase = SERVICE_CATALOG[s].secrets.includes("database");
    expect(c.environment.map((e: { name: string }) => e.name).sort()).toEqual(
      ["AW_SERVICES_DOMAIN", "JAVA_TOOL_OPTIONS", "SERVER_PORT", "SPRING_PROFILES_ACTIVE", ...(usesDatabase ? ["DATABASE_AUTH", "DATABASE_USER"] : [])].sort(),
    );
    const value = (name: string) => c.environment.find((e: { name: string }) => e.name === name)?.value;
    expect([value("DATABASE_USER"), value("DATABASE_AUTH")]).toEqual(usesDatabase ? [names(env).databaseRole(s), "iam"] : [undefined, undefined]);
  });

  it.each(SERVICES)("%s: receives exactly the secrets the catalog lists", (s) => {
    const kinds = SERVICE_CATALOG[s].secrets;
    // No password: the database services log in with IAM tokens as their own roles.
    const byKind = {
      database: [{ name: "DATABASE_CONNECTION", valueFrom: DB }],
      redis: [{ name: "REDIS_CONNECTION", valueFrom: REDIS }],
      jwt: [{ name: "JWT_SIGNING", valueFrom: JWT }],
    };
    const expected = kinds.flatMap((k) => byKind[k]);
    expect(container(json, s).secrets).toEqual(expected);
    const arns = [...new Set(expected.map((e) => e.valueFrom))];
    const read = policyOf(json, s).find((st) => st.sid === "ReadOwnSecrets");
    expect(read).toEqual(expect.objectContaining({ actions: ["secretsmanager:GetSecretValue"], resources: arns }));
  });

  it("gives no service the master password: no container injects the master secret and no execution role reads it", () => {
    for (const s of SERVICES) {
      expect([s, JSON.stringify(container(json, s))]).toEqual([s, expect.not.stringContaining(MASTER)]);
      expect([s, JSON.stringify(policyOf(json, s))]).toEqual([s, expect.not.stringContaining(MASTER)]);
    }
    // Only the db-roles task reads it.
    const readers = Object.entries(json.data.aws_iam_policy_document as Record<string, unknown>)
      .filter(([, doc]) => JSON.stringify(doc).includes(MASTER))
      .map(([id]) => id);
    expect(readers).toEqual(["db-roles_execution-role_permissions"]);
  });

  it.each(SERVICES)(
    "%s: its task role may connect to PostgreSQL as its own role on this instance, and nothing else (none for a service without the database)",
    (s) => {
      const taskPolicies = Object.entries(resources(json, "aws_iam_role_policy")).filter(([, p]) => p.role === `\${aws_iam_role.${s}_task-role.id}`);
      if (!SERVICE_CATALOG[s].secrets.includes("database")) {
        expect(taskPolicies).toEqual([]);
        return;
      }
      expect(taskPolicies.map(([id]) => id)).toEqual([`${s}_task-role-policy`]);
      expect(taskPolicies[0]![1].policy).toBe(`\${data.aws_iam_policy_document.${s}_task-permissions.json}`);
      const role = names(env).databaseRole(s);
      expect(json.data.aws_iam_policy_document[`${s}_task-permissions`].statement).toEqual([
        {
          sid: "ConnectAsOwnDatabaseRole",
          effect: "Allow",
          actions: ["rds-db:connect"],
          resources: [`arn:aws:rds-db:eu-west-1:111122223333:dbuser:${RESOURCE_ID}/${role}`],
        },
      ]);
      // Each service names its own role, no other's: the four ARNs differ only by it.
      const others = DATABASE_SERVICES.filter((o) => o.name !== s).map((o) => names(env).databaseRole(o.name));
      for (const other of others) expect(JSON.stringify(json.data.aws_iam_policy_document[`${s}_task-permissions`])).not.toContain(`/${other}"`);
      // The task definition waits for the policy: a task never starts unable to log in.
      expect(resources(json, "aws_ecs_task_definition")[`${s}_task-definition`].depends_on).toContain(`aws_iam_role_policy.${s}_task-role-policy`);
    },
  );

  it("prod sizes and counts are the guide's", () => {
    if (env !== "prod") return;
    const guide: Record<ServiceName, [number, number, number]> = {
      "aw-api-gateway": [3, 1024, 2048],
      "aw-pdp-service": [3, 2048, 4096],
      "aw-pap-service": [2, 1024, 2048],
      "aw-tenant-service": [2, 512, 1024],
      "aw-audit-service": [2, 512, 1024],
    };
    for (const s of SERVICES) {
      const td = resources(json, "aws_ecs_task_definition")[`${s}_task-definition`];
      const svc = resources(json, "aws_ecs_service")[`${s}_service`];
      expect([svc.desired_count, Number(td.cpu), Number(td.memory)]).toEqual(guide[s]);
    }
  });

  it.each(SERVICES)("%s: private, no public IP, services security group, safe deployments", (s) => {
    const svc = resources(json, "aws_ecs_service")[`${s}_service`];
    const blueGreen = s === "aw-api-gateway" && profile.gatewayReleases === "blue-green";
    expect(svc).toEqual(
      expect.objectContaining({
        name: `accessweaver-${env}-${s}`,
        cluster: "${aws_ecs_cluster.ecs_cluster.id}",
        desired_count: profile.services[s].desiredCount,
        network_configuration: {
          subnets: "${data.terraform_remote_state.network.outputs.private_subnet_ids}",
          security_groups: ["${data.terraform_remote_state.network.outputs.security_group_ids.services}"],
          assign_public_ip: false,
        },
        deployment_controller: { type: blueGreen ? "CODE_DEPLOY" : "ECS" },
        deployment_minimum_healthy_percent: env === "prod" ? 100 : 50,
        enable_execute_command: false,
        propagate_tags: "SERVICE",
        lifecycle: { ignore_changes: blueGreen ? ["desired_count", "task_definition", "load_balancer", "capacity_provider_strategy"] : ["desired_count"] },
      }),
    );
    // ECS refuses the circuit breaker under CODE_DEPLOY; the deployment group rolls back there.
    expect(svc.deployment_circuit_breaker).toEqual(blueGreen ? undefined : { enable: true, rollback: true });
  });

  it("releases the gateway blue/green through CodeDeploy where the profile says so, rolling elsewhere", () => {
    const groups = resources(json, "aws_codedeploy_deployment_group");
    if (profile.gatewayReleases !== "blue-green") {
      expect(groups).toEqual({});
      expect(resources(json, "aws_codedeploy_app")).toEqual({});
      return;
    }
    expect(resources(json, "aws_codedeploy_app")["blue-green_app"]).toEqual(
      expect.objectContaining({ name: `accessweaver-${env}-aw-api-gateway`, compute_platform: "ECS" }),
    );
    const LB = "data.terraform_remote_state.loadbalancer.outputs";
    expect(groups["blue-green_group"]).toEqual(
      expect.objectContaining({
        app_name: "${aws_codedeploy_app.blue-green_app.name}",
        deployment_group_name: `accessweaver-${env}-aw-api-gateway`,
        service_role_arn: "${aws_iam_role.blue-green_role.arn}",
        deployment_config_name: "CodeDeployDefault.ECSCanary10Percent5Minutes",
        deployment_style: { deployment_option: "WITH_TRAFFIC_CONTROL", deployment_type: "BLUE_GREEN" },
        blue_green_deployment_config: {
          deployment_ready_option: { action_on_timeout: "CONTINUE_DEPLOYMENT" },
          terminate_blue_instances_on_deployment_success: { action: "TERMINATE", termination_wait_time_in_minutes: 5 },
        },
        auto_rollback_configuration: { enabled: true, events: ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] },
        ecs_service: { cluster_name: "${aws_ecs_cluster.ecs_cluster.name}", service_name: "${aws_ecs_service.aw-api-gateway_service.name}" },
        load_balancer_info: {
          target_group_pair_info: {
            prod_traffic_route: { listener_arns: [`\${${LB}.https_listener_arn}`] },
            test_traffic_route: { listener_arns: [`\${${LB}.test_listener_arn}`] },
            // Read through the loadbalancer phase's handles, not recomputed here.
            target_group: [{ name: `\${${LB}.api_gateway_target_group_name}` }, { name: `\${${LB}.api_gateway_green_target_group_name}` }],
          },
        },
      }),
    );
    // Across the phases: the listener CodeDeploy reroutes sends the API to the group the service starts
    // on (blue, CodeDeploy's first group) through its default action, which is what CodeDeploy rewrites;
    // no listener rule forwards anywhere (one would keep pointing at blue after a shift).
    const lb = synthesized[env].json.loadbalancer!;
    const handle = (name: string) => lb.output[name].value;
    expect(handle("https_listener_arn")).toBe("${aws_lb_listener.alb_listener_https.arn}");
    expect(handle("test_listener_arn")).toBe("${aws_lb_listener.alb_listener_test.arn}");
    const listeners = resources(lb, "aws_lb_listener");
    const groupsByRef = Object.fromEntries(
      Object.entries(resources(lb, "aws_lb_target_group")).map(([id, g]) => [`\${aws_lb_target_group.${id}.arn}`, g.name]),
    );
    expect(listeners.alb_listener_https.default_action.map((a: { target_group_arn: string }) => groupsByRef[a.target_group_arn])).toEqual([
      `aw-${env}-api-gateway-blue`,
    ]);
    expect(listeners.alb_listener_test.default_action.map((a: { target_group_arn: string }) => groupsByRef[a.target_group_arn])).toEqual([
      `aw-${env}-api-gateway-green`,
    ]);
    expect(handle("api_gateway_target_group_arn")).toBe(listeners.alb_listener_https.default_action[0].target_group_arn);
    // The names the deployment group reads are those of the groups the listeners forward to.
    const nameRef = (arnRef: string) => arnRef.replace(/\.arn\}$/, ".name}");
    expect(handle("api_gateway_target_group_name")).toBe(nameRef(listeners.alb_listener_https.default_action[0].target_group_arn));
    expect(handle("api_gateway_green_target_group_name")).toBe(nameRef(listeners.alb_listener_test.default_action[0].target_group_arn));
    for (const l of [listeners.alb_listener_https, listeners.alb_listener_test]) expect(l.lifecycle).toEqual({ ignore_changes: ["default_action"] });
    expect(resources(lb, "aws_lb_listener_rule")).toEqual({});
    expect(resources(json, "aws_iam_role")["blue-green_role"].name).toBe(`accessweaver-${env}-codedeploy`);
    expect(resources(json, "aws_iam_role_policy_attachment")["blue-green_role-policy"]).toEqual(
      expect.objectContaining({ role: "${aws_iam_role.blue-green_role.name}", policy_arn: "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECSLimited" }),
    );
  });

  it("attaches only the gateway to the load balancer's target group; the others register in Cloud Map", () => {
    const svcs = resources(json, "aws_ecs_service");
    expect(svcs["aw-api-gateway_service"].load_balancer).toEqual([
      {
        target_group_arn: "${data.terraform_remote_state.loadbalancer.outputs.api_gateway_target_group_arn}",
        container_name: "aw-api-gateway",
        container_port: 8080,
      },
    ]);
    expect(svcs["aw-api-gateway_service"].service_registries).toBeUndefined();
    expect(resources(json, "aws_service_discovery_private_dns_namespace").namespace).toEqual(
      expect.objectContaining({ name: `accessweaver-${env}.local`, vpc: "${data.terraform_remote_state.network.outputs.vpc_id}" }),
    );
    const internal = CATALOG.filter((c) => c.exposure === "internal").map((c) => c.name);
    expect(internal).toHaveLength(4);
    for (const s of internal) {
      expect(svcs[`${s}_service`].load_balancer).toBeUndefined();
      expect(svcs[`${s}_service`].service_registries).toEqual({ registry_arn: `\${aws_service_discovery_service.${s}-discovery.arn}` });
      expect(resources(json, "aws_service_discovery_service")[`${s}-discovery`]).toEqual(
        expect.objectContaining({
          name: s,
          dns_config: {
            namespace_id: "${aws_service_discovery_private_dns_namespace.namespace.id}",
            routing_policy: "MULTIVALUE",
            dns_records: [{ type: "A", ttl: 10 }],
          },
        }),
      );
    }
  });

  it.each(SERVICES)("%s: execution role scoped to its repository, log group, secrets and key", (s) => {
    const roles = resources(json, "aws_iam_role");
    expect(roles[`${s}_execution-role_role`].name).toBe(`accessweaver-${env}-${s}-execution`);
    expect(roles[`${s}_task-role`].name).toBe(`accessweaver-${env}-${s}-task`);
    const statements = policyOf(json, s);
    const bySid = Object.fromEntries(statements.map((st) => [st.sid, st]));
    expect(bySid.EcrToken.resources).toEqual(["*"]);
    expect(bySid.EcrToken.actions).toEqual(["ecr:GetAuthorizationToken"]);
    expect(bySid.PullOwnImage.resources).toEqual([`arn:aws:ecr:eu-west-1:111122223333:repository/${s}`]);
    expect(bySid.WriteOwnLogs.resources).toEqual([`\${aws_cloudwatch_log_group.${s}_logs_log-group.arn}:log-stream:*`]);
    expect(bySid.DecryptOwnSecrets).toEqual(
      expect.objectContaining({
        actions: ["kms:Decrypt"],
        resources: ["${data.terraform_remote_state.network.outputs.kms_key_arn}"],
        condition: [{ test: "StringEquals", variable: "kms:ViaService", values: ["secretsmanager.eu-west-1.amazonaws.com"] }],
      }),
    );
    // "*" only where AWS has no resource-level permission.
    for (const st of statements) if (st.sid !== "EcrToken") expect(st.resources).not.toContain("*");
  });

  it.each(SERVICES)("%s: encrypted application log group kept the profile's retention, protected where the profile protects data", (s) => {
    const lg = resources(json, "aws_cloudwatch_log_group")[`${s}_logs_log-group`];
    expect(lg).toEqual(
      expect.objectContaining({
        name: `/ecs/accessweaver-${env}/${s}`,
        kms_key_id: "${data.terraform_remote_state.network.outputs.kms_key_arn}",
        retention_in_days: profile.applicationLogRetentionDays,
      }),
    );
    expect(lg.tags).toEqual({ LogClass: "application" });
    expect(lg.lifecycle?.prevent_destroy ?? false).toBe(profile.preventDestroy);
  });

  it.each(SERVICES)("%s: counts its ERROR lines with a metric filter on its own log group, published for the observability phase", (s) => {
    const filters = resources(json, "aws_cloudwatch_log_metric_filter");
    expect(filters[`${s}_error-logs`]).toEqual(
      expect.objectContaining({
        name: `accessweaver-${env}-${s}-error-logs`,
        log_group_name: `\${aws_cloudwatch_log_group.${s}_logs_log-group.name}`,
        pattern: "ERROR",
        metric_transformation: { namespace: `AccessWeaver/${env}`, name: `${s}-error-logs`, value: "1", default_value: "0", unit: "Count" },
      }),
    );
    // One filter per service, on its own group.
    expect(Object.keys(filters).sort()).toEqual(SERVICES.map((x) => `${x}_error-logs`).sort());
    expect(json.output.error_log_metrics.value[s]).toBe(`\${aws_cloudwatch_log_metric_filter.${s}_error-logs.metric_transformation[0].name}`);
  });

  it.each(SERVICES)("%s: autoscaling between the profile's count and count x scaleOutFactor on CPU", (s) => {
    const target = resources(json, "aws_appautoscaling_target")[`${s}_scaling-target`];
    const count = profile.services[s].desiredCount;
    expect(target).toEqual(
      expect.objectContaining({
        service_namespace: "ecs",
        scalable_dimension: "ecs:service:DesiredCount",
        resource_id: `service/\${aws_ecs_cluster.ecs_cluster.name}/\${aws_ecs_service.${s}_service.name}`,
        min_capacity: count,
        max_capacity: count * profile.scaleOutFactor,
      }),
    );
    const cpu = resources(json, "aws_appautoscaling_policy")[`${s}_cpu-scaling`];
    const pdp = s === "aw-pdp-service";
    expect(cpu.policy_type).toBe("TargetTrackingScaling");
    expect(cpu.target_tracking_scaling_policy_configuration).toEqual({
      target_value: pdp ? 55 : 60,
      scale_in_cooldown: 300,
      scale_out_cooldown: pdp ? 180 : 60,
      predefined_metric_specification: { predefined_metric_type: "ECSServiceAverageCPUUtilization" },
    });
    if (pdp) expect(cpu.name).toBe(`accessweaver-${env}-pdp-cpu-scaling`);
  });

  it("scales the gateway on ALB requests per task and minute too: its one target group when rolling, both when blue/green", () => {
    const policies = resources(json, "aws_appautoscaling_policy");
    expect(Object.keys(policies).filter((k) => k.endsWith("request-scaling"))).toEqual(["aw-api-gateway_request-scaling"]);
    const policy = policies["aw-api-gateway_request-scaling"];
    expect(policy).toEqual(
      expect.objectContaining({
        name: `accessweaver-${env}-api-gateway-requests-scaling`,
        policy_type: "TargetTrackingScaling",
        resource_id: "${aws_appautoscaling_target.aw-api-gateway_scaling-target.resource_id}",
      }),
    );
    const OUT = "data.terraform_remote_state.loadbalancer.outputs";
    const common = { target_value: GATEWAY_REQUESTS_PER_TARGET, scale_in_cooldown: 300, scale_out_cooldown: 60 };
    if (profile.gatewayReleases !== "blue-green") {
      // Rolling (dev): one target group, ALB's own figure.
      expect(policy.target_tracking_scaling_policy_configuration).toEqual({
        ...common,
        predefined_metric_specification: {
          predefined_metric_type: "ALBRequestCountPerTarget",
          resource_label: `\${${OUT}.alb_arn_suffix}/\${${OUT}.api_gateway_target_group_arn_suffix}`,
        },
      });
      return;
    }
    // Blue/green (staging, prod): after a release the traffic is on green, so the policy reads both groups.
    const requests = (slot: string, suffix: string) => ({
      id: `${slot}_requests`,
      label: `ALB requests of the ${slot} target group`,
      metric_stat: {
        metric: {
          namespace: "AWS/ApplicationELB",
          metric_name: "RequestCount",
          dimensions: [
            { name: "LoadBalancer", value: `\${${OUT}.alb_arn_suffix}` },
            { name: "TargetGroup", value: `\${${OUT}.${suffix}}` },
          ],
        },
        stat: "Sum",
      },
      return_data: false,
    });
    expect(policy.target_tracking_scaling_policy_configuration).toEqual({
      ...common,
      customized_metric_specification: {
        metrics: [
          requests("blue", "api_gateway_target_group_arn_suffix"),
          requests("green", "api_gateway_green_target_group_arn_suffix"),
          {
            id: "running_tasks",
            label: "Running tasks of the service",
            metric_stat: {
              metric: {
                namespace: "ECS/ContainerInsights",
                metric_name: "RunningTaskCount",
                dimensions: [
                  { name: "ClusterName", value: "${aws_ecs_cluster.ecs_cluster.name}" },
                  { name: "ServiceName", value: `accessweaver-${env}-aw-api-gateway` },
                ],
              },
              stat: "Average",
            },
            return_data: false,
          },
          {
            id: "requests_per_task",
            label: "ALB requests per running task and minute",
            expression: "(FILL(blue_requests, 0) + FILL(green_requests, 0)) / IF(FILL(running_tasks, 0) > 0, FILL(running_tasks, 0), 1)",
            return_data: true,
          },
        ],
      },
    });
    // Exactly one query returns data (Application Auto Scaling tracks that one), and no stat sets a
    // period: the API's default minute, the period of ALBRequestCountPerTarget's target value.
    const metrics = policy.target_tracking_scaling_policy_configuration.customized_metric_specification.metrics;
    expect(metrics.filter((m: { return_data: boolean }) => m.return_data)).toHaveLength(1);
    expect(JSON.stringify(metrics)).not.toMatch(/period/);
    expect(policy.target_tracking_scaling_policy_configuration.predefined_metric_specification).toBeUndefined();
  });

  it("passes the baseline guardrails, the compute rules among them", () => {
    expect(evaluate(viewOf(`accessweaver-${env}-services`, json), BASELINE_RULES)).toEqual([]);
  });

  it("publishes cluster_name, service_names, service_log_groups, error_log_metrics, task_definition_arns, health_check_urls and what make db-roles and make cache-flush run, and the gateway's task definition where CodeDeploy releases it", () => {
    const blueGreen = profile.gatewayReleases === "blue-green";
    const dbRoles = ["db_roles_log_group", "db_roles_security_group_id", "db_roles_subnet_ids", "db_roles_task_definition_arn"];
    const cacheClient = ["cache_client_log_group", "cache_client_security_group_id", "cache_client_subnet_ids", "cache_client_task_definition_arn"];
    expect(Object.keys(json.output).sort()).toEqual(
      [
        "cluster_name",
        "error_log_metrics",
        "health_check_urls",
        "service_log_groups",
        "service_names",
        "task_definition_arns",
        ...dbRoles,
        ...cacheClient,
        ...(blueGreen ? ["api_gateway_task_definition_arn"] : []),
      ].sort(),
    );
    // make db-roles runs the task where the services run: their subnets and security group.
    expect(Object.fromEntries(dbRoles.map((o) => [o, json.output[o].value]))).toEqual({
      db_roles_log_group: "${aws_cloudwatch_log_group.db-roles_logs_log-group.name}",
      db_roles_security_group_id: "${data.terraform_remote_state.network.outputs.security_group_ids.services}",
      db_roles_subnet_ids: "${data.terraform_remote_state.network.outputs.private_subnet_ids}",
      db_roles_task_definition_arn: "${aws_ecs_task_definition.db-roles_task-definition.arn}",
    });
    // What make release checks each rolling service's deployment ends on.
    for (const s of SERVICES) expect(json.output.task_definition_arns.value[s]).toBe(`\${aws_ecs_task_definition.${s}_task-definition.arn}`);
    if (blueGreen) expect(json.output.api_gateway_task_definition_arn.value).toBe("${aws_ecs_task_definition.aw-api-gateway_task-definition.arn}");
    expect(json.output.cluster_name.value).toBe("${aws_ecs_cluster.ecs_cluster.name}");
    expect(Object.keys(json.output.service_names.value).sort()).toEqual([...SERVICES].sort());
    expect(json.output.health_check_urls.value).toEqual(["${data.terraform_remote_state.loadbalancer.outputs.api_url}/actuator/health"]);
    for (const o of Object.values(json.output)) expect((o as { sensitive: boolean }).sensitive).toBe(false);
  });
});

describe("prod: deployment alarms (no actions: the observability phase's own alarms notify)", () => {
  const json = synthesized.prod.json.services!;
  const alarms = resources(json, "aws_cloudwatch_metric_alarm");
  const rolling = SERVICES.filter((s) => SERVICE_CATALOG[s].exposure !== "alb");
  const LB = "${data.terraform_remote_state.loadbalancer.outputs.alb_arn_suffix}";
  const TG = {
    blue: "${data.terraform_remote_state.loadbalancer.outputs.api_gateway_target_group_arn_suffix}",
    green: "${data.terraform_remote_state.loadbalancer.outputs.api_gateway_green_target_group_arn_suffix}",
  };

  it.each(rolling)("%s: rolls back when it logs more than 10 ERROR lines a minute for 3 minutes (its own filter's metric)", (s) => {
    const alarm = alarms[`${s}_deployment-errors-alarm`];
    expect(alarm).toEqual(
      expect.objectContaining({
        alarm_name: `accessweaver-prod-${s}-deployment-errors`,
        namespace: "AccessWeaver/prod",
        metric_name: `${s}-error-logs`,
        statistic: "Sum",
        period: 60,
        evaluation_periods: 3,
        comparison_operator: "GreaterThanThreshold",
        threshold: 10,
        treat_missing_data: "notBreaching",
      }),
    );
    expect(alarm.alarm_actions).toBeUndefined();
    // The metric the alarm reads is the one the service's filter writes.
    const filter = resources(json, "aws_cloudwatch_log_metric_filter")[`${s}_error-logs`];
    expect([alarm.namespace, alarm.metric_name]).toEqual([filter.metric_transformation.namespace, filter.metric_transformation.name]);
  });

  it.each(rolling)("%s: rolls back when its running tasks stay below the profile's count", (s) => {
    const alarm = alarms[`${s}_deployment-alarm`];
    expect(alarm).toEqual(
      expect.objectContaining({
        alarm_name: `accessweaver-prod-${s}-deployment`,
        namespace: "ECS/ContainerInsights",
        metric_name: "RunningTaskCount",
        dimensions: { ClusterName: "${aws_ecs_cluster.ecs_cluster.name}", ServiceName: `accessweaver-prod-${s}` },
        comparison_operator: "LessThanThreshold",
        threshold: PROFILES.prod.services[s].desiredCount,
        evaluation_periods: 3,
        period: 60,
      }),
    );
    expect(alarm.alarm_actions).toBeUndefined();
    expect(resources(json, "aws_ecs_service")[`${s}_service`].alarms).toEqual({
      alarm_names: [
        `\${aws_cloudwatch_metric_alarm.${s}_deployment-alarm.alarm_name}`,
        `\${aws_cloudwatch_metric_alarm.${s}_deployment-errors-alarm.alarm_name}`,
      ],
      enable: true,
      rollback: true,
    });
  });

  it("gives the blue/green gateway no ECS alarms block, and alarms on both target groups' 5xx and p99 to CodeDeploy", () => {
    expect(resources(json, "aws_ecs_service")["aw-api-gateway_service"].alarms).toBeUndefined();
    const expected = (["blue", "green"] as const).flatMap(
      (slot) =>
        [
          [
            `aw-api-gateway-${slot}-5xx`,
            {
              alarm_name: `accessweaver-prod-aw-api-gateway-${slot}-5xx`,
              metric_name: "HTTPCode_Target_5XX_Count",
              statistic: "Sum",
              dimensions: { LoadBalancer: LB, TargetGroup: TG[slot] },
            },
          ],
          [
            `aw-api-gateway-${slot}-p99`,
            {
              alarm_name: `accessweaver-prod-aw-api-gateway-${slot}-p99-response-time`,
              metric_name: "TargetResponseTime",
              extended_statistic: "p99",
              dimensions: { LoadBalancer: LB, TargetGroup: TG[slot] },
            },
          ],
        ] as const,
    );
    for (const [id, fields] of expected) {
      expect(alarms[id]).toEqual(
        expect.objectContaining({
          ...fields,
          namespace: "AWS/ApplicationELB",
          comparison_operator: "GreaterThanThreshold",
          treat_missing_data: "notBreaching",
        }),
      );
      expect(alarms[id].alarm_actions).toBeUndefined();
    }
    const group = resources(json, "aws_codedeploy_deployment_group")["blue-green_group"];
    expect(group.alarm_configuration).toEqual({ enabled: true, alarms: expected.map(([id]) => `\${aws_cloudwatch_metric_alarm.${id}.alarm_name}`) });
    expect(group.auto_rollback_configuration.events).toContain("DEPLOYMENT_STOP_ON_ALARM");
  });

  it("has exactly these alarms", () => {
    expect(Object.keys(alarms).sort()).toEqual(
      [
        ...rolling.flatMap((s) => [`${s}_deployment-alarm`, `${s}_deployment-errors-alarm`]),
        ...["blue", "green"].flatMap((slot) => [`aw-api-gateway-${slot}-5xx`, `aw-api-gateway-${slot}-p99`]),
      ].sort(),
    );
  });
});

describe("dev: the rolling gateway gets the rolling deployment alarms", () => {
  it("alarms on the gateway's running tasks and ERROR lines, and has no CodeDeploy", () => {
    const json = synthesized.dev.json.services!;
    expect(resources(json, "aws_ecs_service")["aw-api-gateway_service"].alarms).toEqual({
      alarm_names: [
        "${aws_cloudwatch_metric_alarm.aw-api-gateway_deployment-alarm.alarm_name}",
        "${aws_cloudwatch_metric_alarm.aw-api-gateway_deployment-errors-alarm.alarm_name}",
      ],
      enable: true,
      rollback: true,
    });
    expect(json.resource.aws_codedeploy_deployment_group).toBeUndefined();
  });
});

describe("service_max_counts: the autoscaling ceiling as a setting", () => {
  it("replaces the profile's ceiling for the services it names, in the scaling target and in preflight's capacity", () => {
    const cfg = config("prod", { service_max_counts: { "aw-pdp-service": 12 } });
    expect(cfg.settings.serviceMaxCounts["aw-pdp-service"]).toBe(12);
    expect(cfg.settings.serviceMaxCounts["aw-pap-service"]).toBe(2 * PROFILES.prod.scaleOutFactor);
    const pdp = resources(synthEnv(cfg).json.services, "aws_appautoscaling_target")["aw-pdp-service_scaling-target"];
    expect([pdp.min_capacity, pdp.max_capacity]).toEqual([3, 12]);
    // (3 x 1 + 12 x 2 + 6 x 1 + 6 x 0.5 + 6 x 0.5) at the ceilings, + 9 x 1 for the gateway's second set.
    expect(needs(cfg)).toEqual(expect.objectContaining({ fargateVcpu: 45, surgeVcpu: 9, maxTasksPerService: 12 }));
  });

  it("refuses a ceiling below the task count, naming the file, key, value and expectation", () => {
    expect(() => config("prod", { service_max_counts: { "aw-api-gateway": 2 } })).toThrow(
      "environments/prod/terraform.tfvars: service_max_counts: found 2 for aw-api-gateway; expected at least its task count, 3 (service_desired_counts or the prod profile)",
    );
  });
});

describe("the request policy's expression", () => {
  it("adds every target group's requests, each filled with 0, and divides by the running tasks, or by 1 when none runs", () => {
    expect(requestsPerTaskExpression(["blue", "green"])).toBe(
      "(FILL(blue_requests, 0) + FILL(green_requests, 0)) / IF(FILL(running_tasks, 0) > 0, FILL(running_tasks, 0), 1)",
    );
  });
});
