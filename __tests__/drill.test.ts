// make drill with the recording stand-ins (terraform, aws) and the fixture's loadbalancer and observability
// stacks: the exact calls in order, the experiment followed until it ends, the recovery measured against
// the guide's RTO, a drill stopped by its stop condition, an interrupt midway, and the refusals.
import * as fs from "fs";
import * as path from "path";
import { operatorHarness, refusedThroughMake } from "./support/standins-operator";

const h = operatorHarness();
const REGION = "eu-west-1";
const BASE = { FAKE_PHASES: "loadbalancer,observability", DRILL_POLL_SECONDS: "0.01" };
const TEMPLATES = { "db-failover": "EXTdbfailover01", "cache-failover": "EXTcachefail01", "az-tasks": "EXTaztasks0001", "az-network": "EXTaznetwork01" };
type Scenario = keyof typeof TEMPLATES;
const ACTIONS: Record<Scenario, string> = {
  "db-failover": "aws:rds:reboot-db-instances",
  "cache-failover": "aws:elasticache:replicationgroup-interrupt-az-power",
  "az-tasks": "aws:ecs:stop-task",
  "az-network": "aws:network:disrupt-connectivity",
};
/** The stop conditions the observability phase gives every template outside us-east-1: what users see at the load balancer. */
const STOP_ALARMS = ["alb-5xx-rate", "alb-response-time"];
const EXP = "EXPdrill0000001";
const ALB = "app/accessweaver-staging-alb/0123456789abcdef";
/** The zone the cache-failover template cuts off. */
const ZONE = "eu-west-1a";

/** An ISO time `seconds` from now. */
const at = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
const awsCalls = (log: string[]) => log.filter((l) => l.startsWith("aws "));
const alarmNames = (env: string) => STOP_ALARMS.map((what) => `accessweaver-${env}-${what}`);

/** The observability and loadbalancer phases applied, with the drill templates; the template of `scenario`; its stop conditions OK unless told. */
function ready(env: string, scenario: Scenario, states: string[] = ["OK", "OK"]): void {
  h.setOutputs(env, "observability", JSON.stringify({ fis_experiment_templates: { value: TEMPLATES }, alerts_topic_arn: { value: "arn:x" } }));
  h.setOutputs(env, "loadbalancer", JSON.stringify({ alb_arn_suffix: { value: ALB } }));
  h.answerAws(`fis get-experiment-template --id ${TEMPLATES[scenario]}`, {
    experimentTemplate: {
      id: TEMPLATES[scenario],
      description: `accessweaver-${env}: ${scenario}`,
      actions: { inject: { actionId: ACTIONS[scenario] } },
      // The zone cut off: a parameter of the cache's target, as the observability phase makes it.
      ...(scenario === "cache-failover"
        ? { targets: { cache: { resourceType: "aws:elasticache:replicationgroup", parameters: { availabilityZoneIdentifier: ZONE } } } }
        : {}),
      stopConditions: alarmNames(env).map((name) => ({ source: "aws:cloudwatch:alarm", value: `arn:aws:cloudwatch:${REGION}:444455556666:alarm:${name}` })),
      tags: { Name: `accessweaver-${env}-drill-${scenario}` },
    },
  });
  alarmStates(env, states, false);
}

/** describe-alarms of the stop conditions: the state of each (once: for the check before the start only). */
function alarmStates(env: string, states: string[], once: boolean): void {
  const alarms = alarmNames(env).map((AlarmName, n) => ({ AlarmName, StateValue: states[n] }));
  h.answerAws(`cloudwatch describe-alarms --alarm-names ${alarmNames(env).join(" ")}`, { MetricAlarms: alarms }, { once });
}

/** An environment ready to drill `scenario` whose experiment started `seconds` ago and completed: its start. */
function completed(env: string, scenario: Scenario, seconds: number): string {
  ready(env, scenario);
  const start = at(-seconds);
  experiment(start, ["completed"]);
  return start;
}

/** The experiment: started at `start`, then each state of `states` once, the last one for good. */
function experiment(start: string, states: string[], reason?: string): void {
  h.answerAws("fis start-experiment", { experiment: { id: EXP, state: { status: "initiating" }, startTime: start } });
  states.forEach((status, n) => {
    const action = { actionId: "aws:fis:inject", state: { status: status === "initiating" ? "pending" : status } };
    const ended = n === states.length - 1;
    const state = { status, ...(ended && reason ? { reason } : {}) };
    h.answerAws(`fis get-experiment --id ${EXP}`, { experiment: { id: EXP, state, startTime: start, actions: { inject: action } } }, { once: !ended });
  });
}

/** describe-replication-groups of the staging cache: one shard per zone given, its primary there, its replica in the next one. */
function cacheGroup(primaryZones: string[]): void {
  const group = "accessweaver-staging-redis";
  h.answerAws(`elasticache describe-replication-groups --replication-group-id ${group}`, {
    ReplicationGroups: [
      {
        ReplicationGroupId: group,
        NodeGroups: primaryZones.map((zone, n) => {
          const shard = String(n + 1).padStart(4, "0");
          const other = zone === "eu-west-1b" ? "eu-west-1c" : "eu-west-1b";
          return {
            NodeGroupId: shard,
            NodeGroupMembers: [
              { CacheClusterId: `${group}-${shard}-001`, CurrentRole: "replica", PreferredAvailabilityZone: other },
              { CacheClusterId: `${group}-${shard}-002`, CurrentRole: "primary", PreferredAvailabilityZone: zone },
            ],
          };
        }),
      },
    ],
  });
}

/** The load balancer's 5xx and requests over the window. */
function requests(failed: number[], total: number[]): void {
  const points = (sums: number[]) => ({ Datapoints: sums.map((Sum) => ({ Sum, Unit: "Count" })) });
  h.answerAws("cloudwatch get-metric-statistics --namespace AWS/ApplicationELB --metric-name HTTPCode_ELB_5XX_Count", points(failed));
  // The gateway's own 5xx: none here, so the failed count is the load balancer's.
  h.answerAws("cloudwatch get-metric-statistics --namespace AWS/ApplicationELB --metric-name HTTPCode_Target_5XX_Count", points([0]));
  h.answerAws("cloudwatch get-metric-statistics --namespace AWS/ApplicationELB --metric-name RequestCount", points(total));
}

const minute = (iso: string) => new Date(Math.floor(Date.parse(iso) / 60_000) * 60_000).toISOString();
const recordsOf = () => {
  const dir = path.join(h.out, "drills");
  return fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => ({ file: f, record: JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) })) : [];
};
const drill = (env: string, scenario: Scenario, more: NodeJS.ProcessEnv = {}) => h.multi(["drill", env], { ...BASE, SCENARIO: scenario, ...more });

describe("make drill", () => {
  it("starts the scenario's template, follows it, then measures the failover against the database's RTO and the requests that failed", async () => {
    ready("staging", "db-failover");
    const start = at(-120);
    experiment(start, ["initiating", "running", "completed"]);
    h.answerAws("rds describe-events", {
      Events: [
        { Message: "Multi-AZ instance failover completed.", Date: at(-25), EventCategories: ["failover"] },
        { Message: "Multi-AZ instance failover started.", Date: at(-110), EventCategories: ["failover"] },
        { Message: "DB instance restarted", Date: at(-60), EventCategories: ["availability"] },
      ],
    });
    requests([7, 5], [24000, 24210]);
    const r = await drill("staging", "db-failover");
    expect(r.status).toBe(0);
    expect(r.log.filter((l) => l.startsWith("terraform "))).toEqual(h.outputReads("staging", ["observability", "loadbalancer"]));
    const calls = awsCalls(r.log);
    expect(calls.slice(0, -3)).toEqual([
      `aws fis get-experiment-template --id ${TEMPLATES["db-failover"]} --output json --region ${REGION}`,
      `aws cloudwatch describe-alarms --alarm-names ${alarmNames("staging").join(" ")} --output json --region ${REGION}`,
      `aws fis start-experiment --experiment-template-id ${TEMPLATES["db-failover"]} --tags Name=accessweaver-staging-drill-db-failover --output json --region ${REGION}`,
      ...[1, 2, 3].map(() => `aws fis get-experiment --id ${EXP} --output json --region ${REGION}`),
      `aws rds describe-events --source-identifier accessweaver-staging-postgres --source-type db-instance --start-time ${start} --output json --region ${REGION}`,
    ]);
    // The failed requests over the minutes of the drill (the end is the time of the report).
    const window = (metric: string) =>
      new RegExp(
        `^aws cloudwatch get-metric-statistics --namespace AWS/ApplicationELB --metric-name ${metric} --dimensions Name=LoadBalancer,Value=${ALB} --start-time ${minute(start)} --end-time \\S+:00\\.000Z --period 60 --statistics Sum --output json --region ${REGION}$`,
      );
    expect(calls.slice(-3)).toEqual([
      expect.stringMatching(window("HTTPCode_ELB_5XX_Count")),
      expect.stringMatching(window("HTTPCode_Target_5XX_Count")),
      expect.stringMatching(window("RequestCount")),
    ]);
    // What it starts is said first, then each change of state with the time since the start.
    expect(r.stdout).toContain(
      `make drill ENV=staging SCENARIO=db-failover: starts the FIS experiment template accessweaver-staging-drill-db-failover (${TEMPLATES["db-failover"]}): accessweaver-staging: db-failover.`,
    );
    expect(r.stdout).toContain(`  stops when   ${alarmNames("staging").join(", ")} goes to ALARM`);
    expect(r.stdout).toContain("  guide        database: Multi-AZ failover, RTO < 30 min");
    expect(r.stdout).toMatch(/ {2}\+\d+s +experiment initiating\n {2}\+\d+s +action inject \(aws:fis:inject\): pending\n {2}\+\d+s +experiment running\n/);
    expect(r.stdout).toMatch(/ {2}\+\d+s +experiment completed\n/);
    // The report: the events, the time to recover from the experiment's start, the failed requests.
    expect(r.stdout).toContain("Drill db-failover of staging: PASSED.");
    expect(r.stdout).toMatch(
      / {2}database {9}\d\d:\d\d:\d\d UTC {2}Multi-AZ instance failover started\.\n {19}\d\d:\d\d:\d\d UTC {2}Multi-AZ instance failover completed\./,
    );
    expect(r.stdout).toMatch(/ {2}time to recover {2}1m 35s \(from the experiment's start at \d\d:\d\d:\d\d UTC\) — guide's RTO < 30 min: met/);
    expect(r.stdout).toContain("  requests failed  12 of 48210 request(s) (0.025 %) answered 5xx (HTTPCode_ELB_5XX_Count + HTTPCode_Target_5XX_Count)");
    const [saved] = recordsOf();
    expect(saved!.file).toMatch(/^staging-db-failover-\d{8}T\d{6}Z\.json$/);
    expect(saved!.record).toMatchObject({
      env: "staging",
      scenario: "db-failover",
      template: { id: TEMPLATES["db-failover"], name: "accessweaver-staging-drill-db-failover" },
      experimentId: EXP,
      experiment: { status: "completed", startTime: start },
      recovery: { recovered: true, seconds: 95, rtoMinutes: 30, met: true },
      requests: { failed: 12, total: 48210 },
      result: "passed",
    });
  });

  it("fails when the component recovers after its RTO (the cache: 5 minutes)", async () => {
    const start = completed("staging", "cache-failover", 600);
    cacheGroup([ZONE]);
    h.answerAws("elasticache describe-events", {
      Events: [
        {
          SourceIdentifier: "accessweaver-staging-redis-0001-001",
          Message: "Failover from primary node 0001-001 to replica node 0001-002 completed",
          Date: at(-200),
        },
        { SourceIdentifier: "accessweaver-staging-redis", Message: "Failover to replica node accessweaver-staging-redis-0001-002 started", Date: at(-590) },
        { SourceIdentifier: "another-redis-0001-001", Message: "Failover completed", Date: at(-595) },
      ],
    });
    requests([0], [1000]);
    const r = await drill("staging", "cache-failover");
    expect(r.status).toBe(2);
    expect(awsCalls(r.log)).toContain(`aws elasticache describe-events --start-time ${start} --output json --region ${REGION}`);
    expect(r.stderr).toContain("Drill cache-failover of staging: FAILED: the component did not recover within the guide's RTO.");
    expect(r.stderr).toMatch(/time to recover {2}6m 40s \(from the experiment's start at .*\) — guide's RTO < 5 min: MISSED/);
    expect(r.stderr).toContain("accessweaver-staging-redis-0001-001: Failover from primary node 0001-001 to replica node 0001-002 completed");
    expect(r.stderr).not.toContain("another-redis");
    expect(recordsOf()[0]!.record).toMatchObject({ result: "not recovered within the RTO", recovery: { recovered: true, seconds: 400, met: false } });
  });

  it("cache-failover: one failover per shard whose primary is in the zone cut off, recovered at the last one", async () => {
    const start = completed("staging", "cache-failover", 300);
    cacheGroup([ZONE, ZONE, "eu-west-1b"]);
    const group = "accessweaver-staging-redis";
    h.answerAws("elasticache describe-events", {
      Events: [
        { SourceIdentifier: `${group}-0001-002`, Message: "Failover from primary node 0001-002 to replica node 0001-001 completed", Date: at(-250) },
        { SourceIdentifier: `${group}-0002-002`, Message: "Failover from primary node 0002-002 to replica node 0002-001 completed", Date: at(-180) },
        { SourceIdentifier: group, Message: "Failover to replica node accessweaver-staging-redis-0001-001 started", Date: at(-290) },
      ],
    });
    requests([4], [2000]);
    const r = await drill("staging", "cache-failover");
    expect(r.status).toBe(0);
    const calls = awsCalls(r.log);
    const read = calls.indexOf(`aws elasticache describe-replication-groups --replication-group-id ${group} --output json --region ${REGION}`);
    expect(read).toBeGreaterThan(-1);
    expect(read).toBeLessThan(calls.findIndex((c) => c.startsWith("aws fis start-experiment")));
    expect(calls).toContain(`aws elasticache describe-events --start-time ${start} --output json --region ${REGION}`);
    expect(r.stdout).toContain("Drill cache-failover of staging: PASSED.");
    expect(r.stdout).toContain("  shards affected  2 of 3 (0001, 0002) with a primary in eu-west-1a: one failover each expected");
    expect(r.stdout).toMatch(/time to recover {2}2m 00s \(from the experiment's start at .*\) — guide's RTO < 5 min: met/);
    expect(recordsOf()[0]!.record).toMatchObject({
      cache: { zone: ZONE, affectedShards: ["0001", "0002"], shards: 3 },
      recovery: { recovered: true, seconds: 120, met: true },
      result: "passed",
    });
  });

  it("cache-failover: two shards affected, one failover completed: not recovered", async () => {
    completed("staging", "cache-failover", 300);
    cacheGroup([ZONE, ZONE]);
    h.answerAws("elasticache describe-events", {
      Events: [
        {
          SourceIdentifier: "accessweaver-staging-redis-0001-002",
          Message: "Failover from primary node 0001-002 to replica node 0001-001 completed",
          Date: at(-250),
        },
      ],
    });
    requests([0], [100]);
    const r = await drill("staging", "cache-failover");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/time to recover {2}NOT RECOVERED after .* — guide's RTO < 5 min: MISSED/);
  });

  it("az-tasks: recovered once every service runs its desired tasks, at the last service's steady state", async () => {
    completed("staging", "az-tasks", 300);
    const services = ["aw-api-gateway", "aw-pdp-service", "aw-pap-service", "aw-tenant-service", "aw-audit-service"].map((s) => `accessweaver-staging-${s}`);
    h.answerAws("ecs describe-services", {
      services: services.map((serviceName, n) => ({
        serviceName,
        runningCount: 2,
        desiredCount: 2,
        events: [
          { createdAt: at(-240 + n * 10), message: `(service ${serviceName}) has reached a steady state.` },
          { createdAt: at(-3600), message: `(service ${serviceName}) has reached a steady state.` },
        ],
      })),
    });
    requests([], []);
    const r = await drill("staging", "az-tasks");
    expect(r.status).toBe(0);
    expect(awsCalls(r.log)).toContain(
      `aws ecs describe-services --cluster accessweaver-staging-cluster --services ${services.join(" ")} --output json --region ${REGION}`,
    );
    expect(r.stdout).toMatch(/ {2}application {6}accessweaver-staging-aw-api-gateway: 2 of 2 task\(s\) running, steady since \d\d:\d\d:\d\d UTC/);
    expect(r.stdout).toMatch(/time to recover {2}1m 40s .* guide's RTO < 15 min: met/);
    expect(r.stdout).toContain("  requests failed  0 of 0 request(s) answered 5xx");
  });

  it("az-network: measured from the stop conditions' and the Route 53 health check alarm's history", async () => {
    const start = completed("staging", "az-network", 900);
    h.answerAws("cloudwatch describe-alarm-history --alarm-name accessweaver-staging-route53-health-check", {
      AlarmHistoryItems: [
        { Timestamp: at(-600), HistorySummary: "Alarm updated from ALARM to OK" },
        { Timestamp: at(-780), HistorySummary: "Alarm updated from OK to ALARM" },
      ],
    });
    h.answerAws("cloudwatch describe-alarm-history", { AlarmHistoryItems: [] });
    requests([3], [9000]);
    const r = await drill("staging", "az-network");
    expect(r.status).toBe(0);
    const history = (name: string, region = REGION) =>
      `aws cloudwatch describe-alarm-history --alarm-name ${name} --history-item-type StateUpdate --start-date ${start} --output json --region ${region}`;
    expect(awsCalls(r.log).filter((c) => c.includes("describe-alarm-history"))).toEqual([
      ...alarmNames("staging").map((name) => history(name)),
      history("accessweaver-staging-route53-health-check", "us-east-1"),
    ]);
    expect(r.stdout).toContain("accessweaver-staging-alb-5xx-rate: no change of state");
    expect(r.stdout).toMatch(/accessweaver-staging-route53-health-check: ALARM at \d\d:\d\d:\d\d UTC, OK at \d\d:\d\d:\d\d UTC/);
    expect(r.stdout).toMatch(/time to recover {2}5m 00s .* guide's RTO < 15 min: met/);
  });

  it("az-network: no alarm reacted is INCONCLUSIVE (exit 0), not a 0s recovery that met the RTO", async () => {
    completed("staging", "az-network", 900);
    h.answerAws("cloudwatch describe-alarm-history", { AlarmHistoryItems: [] });
    requests([0], [9000]);
    const r = await drill("staging", "az-network");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      "Drill az-network of staging: INCONCLUSIVE (not PASSED): no alarm reacted (a zone's loss may not reach the alarms' thresholds), so the time to recover was not measured",
    );
    expect(r.stdout).toContain(
      "  time to recover  not measured: no alarm reacted (a zone's loss may not reach the alarms' thresholds) — guide's RTO < 15 min: neither met nor missed",
    );
    expect(r.stdout).not.toContain("PASSED.");
    expect(r.stdout).not.toContain("no outage seen");
    expect(recordsOf()[0]!.record).toMatchObject({ result: "inconclusive", recovery: { recovered: true, seconds: null, met: null } });
  });

  it("a drill whose stop condition fires is reported as such, with the alarm in ALARM, and exits non-zero", async () => {
    alarmStates("staging", ["OK", "OK"], true);
    ready("staging", "db-failover", ["ALARM", "OK"]);
    experiment(at(-60), ["running", "stopping", "stopped"], "Experiment stopped by a stop condition.");
    requests([480], [5000]);
    const r = await drill("staging", "db-failover");
    expect(r.status).toBe(2);
    expect(awsCalls(r.log).filter((c) => c.includes("rds "))).toEqual([]);
    expect(r.stdout).toMatch(/ {2}\+\d+s +experiment stopped: Experiment stopped by a stop condition\.\n/);
    expect(r.stderr).toContain(
      "Drill db-failover of staging: STOPPED BY ITS STOP CONDITION: FIS stopped the experiment (Experiment stopped by a stop condition.). Users saw errors beyond the alarms' thresholds during the drill: the guide's promise was not kept.",
    );
    expect(r.stderr).toContain("  stop condition   accessweaver-staging-alb-5xx-rate in ALARM");
    expect(r.stderr).toContain("  requests failed  480 of 5000 request(s) (9.600 %)");
    expect(recordsOf()[0]!.record).toMatchObject({ result: "stopped by its stop condition", stopCondition: { alarms: ["accessweaver-staging-alb-5xx-rate"] } });
  });

  it("an interrupt while it follows the experiment stops the experiment (aws fis stop-experiment) and says so", async () => {
    ready("staging", "az-network");
    experiment(at(0), ["initiating", "running"]);
    h.answerAws(`fis stop-experiment --id ${EXP}`, { experiment: { id: EXP, state: { status: "stopping" } } });
    const run = h.multiAsync(["drill", "staging"], { ...BASE, SCENARIO: "az-network", DRILL_POLL_SECONDS: "0.2" });
    await h.waitForCall(`aws fis get-experiment --id ${EXP}`, 3);
    process.kill(-run.child.pid!, "SIGINT");
    const r = await run.done;
    expect(r.status).toBe(130);
    const calls = awsCalls(r.log);
    expect(calls[calls.length - 1]).toBe(`aws fis stop-experiment --id ${EXP} --output json --region ${REGION}`);
    expect(calls.filter((c) => c.includes("describe-alarm-history") || c.includes("get-metric-statistics"))).toEqual([]);
    expect(r.stderr).toContain(`Drill az-network of staging interrupted (SIGINT). FIS was asked to stop experiment ${EXP} (aws fis stop-experiment)`);
    expect(r.stderr).toContain(`Follow it: aws fis get-experiment --id ${EXP} --region ${REGION}`);
    expect(recordsOf()[0]!.record).toMatchObject({ result: "interrupted", experimentId: EXP });
  });

  describe("refuses, with nothing started", () => {
    it("prod without CONFIRM naming the experiment template (a wrong one too), before reading anything", async () => {
      for (const confirm of [undefined, "accessweaver-prod-drill-az-tasks"]) {
        const r = await drill("prod", "db-failover", confirm ? { CONFIRM: confirm } : {});
        expect(r.status).toBe(2);
        expect(r.stderr).toContain(
          "Drilling db-failover in prod is refused unless CONFIRM names exactly what it acts on" +
            (confirm ? ` (CONFIRM was "${confirm}")` : "") +
            ". Nothing was started. To go ahead: make drill ENV=prod SCENARIO=db-failover CONFIRM=accessweaver-prod-drill-db-failover",
        );
        expect(r.log).toEqual([]);
      }
    });

    it("prod with CONFIRM goes ahead (an experiment that failed: nothing measured, exit non-zero)", async () => {
      ready("prod", "db-failover");
      experiment(at(-60), ["failed"], "Target resolution failed");
      requests([], []);
      const r = await drill("prod", "db-failover", { CONFIRM: "accessweaver-prod-drill-db-failover" });
      expect(awsCalls(r.log)).toContain(
        `aws fis start-experiment --experiment-template-id ${TEMPLATES["db-failover"]} --tags Name=accessweaver-prod-drill-db-failover --output json --region ${REGION}`,
      );
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`Drill db-failover of prod: FAILED: the experiment ended failed (Target resolution failed); nothing was measured.`);
    });

    it("in dev, which has no drills: a single-AZ database and a cache without replicas have nothing to fail over to", async () => {
      const r = await drill("dev", "az-tasks");
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(
        "dev has no failover drills: the observability phase makes drill templates only where the data tier is Multi-AZ, and dev's database is single-AZ, its cache has 0 replica(s) per shard: there is nothing to fail over to. Drill staging: make drill ENV=staging SCENARIO=az-tasks. Nothing was started.",
      );
      expect(r.log).toEqual([]);
    });

    it("the observability phase applied before the drill templates existed", async () => {
      h.setOutputs("staging", "observability", JSON.stringify({ alerts_topic_arn: { value: "arn:x" } }));
      const r = await drill("staging", "az-tasks");
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(
        "make drill ENV=staging SCENARIO=az-tasks: the state of accessweaver-staging-observability has no fis_experiment_templates: the observability phase is not applied, or was applied before it published them. Apply it first (make plan ENV=staging PHASE=observability, then make apply ENV=staging PHASE=observability), then run make drill ENV=staging SCENARIO=az-tasks again. Nothing was started.",
      );
      expect(awsCalls(r.log)).toEqual([]);
    });

    it("cache-failover when no shard's primary is in the zone cut off: no failover would happen", async () => {
      ready("staging", "cache-failover");
      cacheGroup(["eu-west-1b", "eu-west-1c"]);
      const r = await drill("staging", "cache-failover");
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(
        "accessweaver-staging-drill-cache-failover cuts the power of accessweaver-staging-redis's nodes in eu-west-1a, but no shard's primary is in eu-west-1a (primaries: 0001 in eu-west-1b, 0002 in eu-west-1c): no failover would happen",
      );
      expect(r.stderr).toContain("Nothing was started. Either drill a zone that holds a primary by hand (the FIS console");
      expect(r.stderr).toContain("availabilityZoneIdentifier eu-west-1b or eu-west-1c), or wait until a primary is in eu-west-1a again");
      expect(awsCalls(r.log).filter((c) => c.includes("start-experiment"))).toEqual([]);
      expect(recordsOf()).toEqual([]);
    });

    it("a stop condition already in ALARM: FIS would stop at once", async () => {
      ready("staging", "az-tasks", ["OK", "ALARM"]);
      const r = await drill("staging", "az-tasks");
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(
        "accessweaver-staging-alb-response-time is in ALARM now: it is a stop condition of accessweaver-staging-drill-az-tasks, so FIS would stop the drill at once, and staging is not healthy enough to drill. Nothing was started.",
      );
      expect(awsCalls(r.log).filter((c) => c.includes("start-experiment"))).toEqual([]);
    });
  });

  refusedThroughMake(h, [
    [["drill", "ENV=staging"], "make drill needs SCENARIO: the failure to drill, one of db-failover, cache-failover, az-tasks, az-network."],
    [["drill", "ENV=staging", "SCENARIO="], "make drill needs SCENARIO: the failure to drill, one of db-failover, cache-failover, az-tasks, az-network."],
    [["drill", "ENV=staging", "SCENARIO=disk-full"], 'Unknown SCENARIO "disk-full". Scenarios: db-failover, cache-failover, az-tasks, az-network.'],
    [["drill", "ENV=staging", "SCENARIO=az-tasks", "PHASE=services"], 'make drill reads the phases it needs itself: leave PHASE out (it was "services").'],
  ]);

  it("through make: a hostile SCENARIO is refused as what it is, and never runs", () => {
    const marker = path.join(h.s.dir, "ran");
    const r = h.make(["drill", "ENV=staging", `SCENARIO=$(touch ${marker})`]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`Unknown SCENARIO "$(touch ${marker})".`);
    expect(fs.existsSync(marker)).toBe(false);
  });
});
