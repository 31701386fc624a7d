// The failover drills of the observability phase (AWS FIS experiment templates) on the JSON of whole-environment
// synths: each template's actions, targets, stop conditions and log, and the role's trust and scope.
import { ALARM_STOP_CONDITION, FIS_ACTIONS, fisMinutes } from "../src/constructs/fault-injection";
import { DRILL_SCENARIOS, SERVICES, names } from "../src/naming";
import { StackJson, config, policyStatements, resources, synthEnv } from "./support/config";

const ACCOUNT = "111122223333";
const REMOTE = (phase: string, output: string) => `\${data.terraform_remote_state.${phase}.outputs.${output}}`;
const element = (output: string, i: number) => `\${element(data.terraform_remote_state.network.outputs.${output}, ${i})}`;
const ALARM = (what: string) => `\${aws_cloudwatch_metric_alarm.alarms_${what}.arn}`;

const template = (json: StackJson, scenario: string) => resources(json, "aws_fis_experiment_template")[`drills_${scenario}`];
const param = (action: { parameter?: { key: string; value: string }[] }) => Object.fromEntries((action.parameter ?? []).map((p) => [p.key, p.value]));

describe.each(["staging", "prod"] as const)("%s: the failover drills", (env) => {
  const json = synthEnv(config(env)).json.observability!;
  const n = names(env);

  it("makes one template per scenario, named accessweaver-<env>-drill-<scenario> and described, each run as the FIS role", () => {
    expect(Object.keys(resources(json, "aws_fis_experiment_template")).sort()).toEqual(DRILL_SCENARIOS.map((s) => `drills_${s}`).sort());
    for (const scenario of DRILL_SCENARIOS) {
      const t = template(json, scenario);
      expect(t.tags).toEqual({ Name: `accessweaver-${env}-drill-${scenario}` });
      expect(t.description.length).toBeGreaterThan(40);
      expect(t.description.length).toBeLessThanOrEqual(512);
      expect(t.role_arn).toBe("${aws_iam_role.drills_role_role.arn}");
      expect(t.experiment_options.account_targeting).toBe("single-account");
    }
    // The guide's RTO for the component each drill takes down is in its description.
    expect(template(json, "db-failover").description).toMatch(/under 30 minutes/);
    expect(template(json, "cache-failover").description).toMatch(/under 5 minutes/);
    expect(template(json, "az-tasks").description).toMatch(/under 15 minutes/);
    expect(template(json, "az-network").description).toMatch(/under 15 minutes/);
  });

  it("stops every drill on the ALB's 5xx and p99 alarms of the region (the availability alarm is in us-east-1)", () => {
    for (const scenario of DRILL_SCENARIOS) {
      expect(template(json, scenario).stop_condition).toEqual([
        { source: ALARM_STOP_CONDITION, value: ALARM("alb-5xx-rate") },
        { source: ALARM_STOP_CONDITION, value: ALARM("alb-response-time") },
      ]);
    }
    const alarms = resources(json, "aws_cloudwatch_metric_alarm");
    expect(alarms["alarms_alb-5xx-rate"].alarm_name).toBe(n.alarm("alb-5xx-rate"));
    expect(alarms["alarms_alb-response-time"].alarm_name).toBe(n.alarm("alb-response-time"));
  });

  it("logs every experiment (schema 2) to its own log group, encrypted with the environment's key", () => {
    for (const scenario of DRILL_SCENARIOS) {
      expect(template(json, scenario).log_configuration).toEqual({
        log_schema_version: 2,
        cloudwatch_logs_configuration: { log_group_arn: "${aws_cloudwatch_log_group.drills_logs_log-group.arn}:*" },
      });
    }
    const group = resources(json, "aws_cloudwatch_log_group")["drills_logs_log-group"];
    expect(group).toEqual(expect.objectContaining({ name: `/ecs/accessweaver-${env}/drills`, kms_key_id: REMOTE("network", "kms_key_arn") }));
  });

  it("db-failover: reboots the environment's instance, by ARN, with a forced failover", () => {
    const t = template(json, "db-failover");
    expect(t.target).toEqual([{ name: "database", resource_type: "aws:rds:db", resource_arns: [REMOTE("database", "database_arn")], selection_mode: "ALL" }]);
    expect(t.action).toHaveLength(1);
    expect(t.action[0]).toEqual(expect.objectContaining({ action_id: FIS_ACTIONS.rebootDbInstances, target: { key: "DBInstances", value: "database" } }));
    expect(param(t.action[0])).toEqual({ forceFailover: "true" });
    expect(t.experiment_options.empty_target_resolution_mode).toBe("fail");
  });

  it("cache-failover: interrupts the power of the replication group's nodes in the first zone for 10 minutes, the group found by its tags", () => {
    const t = template(json, "cache-failover");
    expect(t.target).toEqual([
      {
        name: "cache",
        resource_type: "aws:elasticache:replicationgroup",
        resource_tag: [
          { key: "Project", value: "AccessWeaver" },
          { key: "Environment", value: env },
          { key: "Phase", value: "cache" },
        ],
        parameters: { availabilityZoneIdentifier: "eu-west-1a" },
        selection_mode: "ALL",
      },
    ]);
    expect(t.target[0].resource_arns).toBeUndefined();
    expect(t.action[0]).toEqual(
      expect.objectContaining({ action_id: FIS_ACTIONS.interruptCacheAzPower, target: { key: "ReplicationGroups", value: "cache" } }),
    );
    expect(param(t.action[0])).toEqual({ duration: "PT10M" });
  });

  it("az-tasks: stops the tasks of every service in the first zone, found by cluster and service, skipping a service with none there", () => {
    const t = template(json, "az-tasks");
    expect(t.target).toEqual(
      SERVICES.map((service) => ({
        name: `${service}-tasks`,
        resource_type: "aws:ecs:task",
        parameters: { cluster: REMOTE("services", "cluster_name"), service: REMOTE("services", `service_names.${service}`) },
        filter: [{ path: "AvailabilityZone", values: ["eu-west-1a"] }],
        selection_mode: "ALL",
      })),
    );
    expect(t.action.map((a: { action_id: string; target: unknown; parameter?: unknown }) => [a.action_id, a.target, a.parameter])).toEqual(
      SERVICES.map((service) => [FIS_ACTIONS.stopTask, { key: "Tasks", value: `${service}-tasks` }, undefined]),
    );
    expect(t.experiment_options.empty_target_resolution_mode).toBe("skip");
  });

  it("az-network: denies all traffic of the first zone's subnets (public, private, database) for 10 minutes", () => {
    const t = template(json, "az-network");
    const subnets = ["public_subnet_ids", "private_subnet_ids", "database_subnet_ids"].map((o) => `arn:aws:ec2:eu-west-1:${ACCOUNT}:subnet/${element(o, 0)}`);
    expect(t.target).toEqual([{ name: "zone-subnets", resource_type: "aws:ec2:subnet", resource_arns: subnets, selection_mode: "ALL" }]);
    expect(t.action[0]).toEqual(expect.objectContaining({ action_id: FIS_ACTIONS.disruptConnectivity, target: { key: "Subnets", value: "zone-subnets" } }));
    expect(param(t.action[0])).toEqual({ scope: "all", duration: "PT10M" });
  });

  it("lets FIS assume the role for this account's experiments only", () => {
    const role = resources(json, "aws_iam_role").drills_role_role;
    expect(role.name).toBe(n.fisRole);
    const trust = policyStatements(json, "drills_role_trust").AssumedByService;
    expect(trust.principals).toEqual([{ type: "Service", identifiers: ["fis.amazonaws.com"] }]);
    expect(trust.condition).toEqual([
      { test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT] },
      { test: "ArnLike", variable: "aws:SourceArn", values: [`arn:aws:fis:eu-west-1:${ACCOUNT}:experiment/*`] },
    ]);
  });

  it("scopes every action that changes something to this environment's resources, and uses '*' only where AWS has no resource-level permission", () => {
    const st = policyStatements(json, "drills_role_permissions");
    const arn = (service: string, resource: string) => `arn:aws:${service}:eu-west-1:${ACCOUNT}:${resource}`;
    const zoneSubnets = ["public_subnet_ids", "private_subnet_ids", "database_subnet_ids"].map((o) => arn("ec2", `subnet/${element(o, 0)}`));
    const vpc = arn("ec2", `vpc/${REMOTE("network", "vpc_id")}`);
    expect(st.RebootOwnDatabase).toEqual(expect.objectContaining({ actions: ["rds:RebootDBInstance"], resources: [REMOTE("database", "database_arn")] }));
    expect(st.InterruptOwnCacheZone.resources).toEqual([
      arn("elasticache", `replicationgroup:${REMOTE("cache", "redis_replication_group_id")}`),
      arn("elasticache", `cluster:${REMOTE("cache", "redis_replication_group_id")}-*`),
    ]);
    expect(st.StopOwnClusterTasks.resources).toEqual([arn("ecs", `task/${REMOTE("services", "cluster_name")}/*`)]);
    expect(st.ListOwnClusterTasks.condition).toEqual([
      { test: "ArnEquals", variable: "ecs:cluster", values: [arn("ecs", `cluster/${REMOTE("services", "cluster_name")}`)] },
    ]);
    expect(st.SwapOwnSubnetsAcls.resources).toEqual([...zoneSubnets, arn("ec2", "network-acl/*")]);
    expect(st.CloneNetworkAclsInOwnVpc.resources).toEqual([vpc]);
    // FIS's own network ACL clones only (tagged managedByFIS=true when FIS creates them).
    expect(st.CloneNetworkAcls.condition).toEqual([{ test: "StringEquals", variable: "aws:RequestTag/managedByFIS", values: ["true"] }]);
    expect(st.EditClonedNetworkAcls.condition).toEqual([{ test: "StringEquals", variable: "ec2:ResourceTag/managedByFIS", values: ["true"] }]);

    // "*" only for calls without resource-level permissions (tag resolution, log delivery, EC2 describes),
    // and for ListTasks, which its condition holds to the cluster.
    const wide = Object.values(st)
      .filter((s: { resources: string[] }) => s.resources.includes("*"))
      .map((s: { sid: string }) => s.sid)
      .sort();
    expect(wide).toEqual(["DeliverExperimentLog", "DescribeNetwork", "ListOwnClusterTasks", "ResolveTaggedTargets"]);
    expect(st.DescribeNetwork.actions.every((a: string) => a.startsWith("ec2:Describe"))).toBe(true);
    // No action of a service as a whole, nothing outside this account and region.
    for (const s of Object.values(st) as { actions: string[]; resources: string[] }[]) {
      expect(s.actions.filter((a) => a.endsWith(":*"))).toEqual([]);
      expect(s.resources.filter((r) => r !== "*" && !r.startsWith(`arn:aws:`) && !r.startsWith("${"))).toEqual([]);
    }
  });

  it("publishes each template's id as fis_experiment_templates, for make drill", () => {
    expect(json.output.fis_experiment_templates.value).toEqual(
      Object.fromEntries(DRILL_SCENARIOS.map((s) => [s, `\${aws_fis_experiment_template.drills_${s}.id}`])),
    );
  });
});

describe("where the drills are not", () => {
  it("dev (single-AZ database, cache without replicas: nothing to fail over to) has no template, role or output", () => {
    const json = synthEnv(config("dev")).json.observability!;
    expect(resources(json, "aws_fis_experiment_template")).toEqual({});
    expect(resources(json, "aws_iam_role").drills_role_role).toBeUndefined();
    expect(json.output.fis_experiment_templates).toBeUndefined();
  });

  it("an environment in us-east-1 stops its drills on the availability (Route 53 health check) alarm too: it is then in the template's region", () => {
    const json = synthEnv(
      config("prod", { aws_region: "us-east-1", availability_zones: undefined, ecr_registry: "111122223333.dkr.ecr.us-east-1.amazonaws.com" }),
    ).json.observability!;
    const stops = template(json, "db-failover").stop_condition.map((c: { value: string }) => c.value);
    expect(stops).toEqual([ALARM("alb-5xx-rate"), ALARM("alb-response-time"), "${aws_cloudwatch_metric_alarm.route53-health-check.arn}"]);
  });
});

describe("fisMinutes", () => {
  it("writes whole minutes as FIS's ISO 8601 durations and refuses what FIS would (under a minute, over 12 hours)", () => {
    expect(fisMinutes("x", 10)).toBe("PT10M");
    expect(fisMinutes("x", 720)).toBe("PT720M");
    expect(() => fisMinutes("The drill", 0)).toThrow(/The drill lasts 0 minutes; FIS accepts whole minutes from 1 to 720/);
    expect(() => fisMinutes("x", 721)).toThrow(/from 1 to 720/);
    expect(() => fisMinutes("x", 1.5)).toThrow(/whole minutes/);
  });
});
