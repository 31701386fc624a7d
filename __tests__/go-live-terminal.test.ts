// The go-live commands as operators type them, through make, at a real terminal (a pseudo-terminal from
// util-linux `script`) and into a closed pipe (`| head`): make restore's prod question, make restore and
// make alert-test into head, and Ctrl-C while make drill follows its experiment.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./support/config";
import { operatorHarness } from "./support/standins-operator";
import { onPty } from "./support/standins-pty";

const h = operatorHarness(["dig", "curl"]);
const QUESTION = 'Type "prod" to apply (anything else cancels): ';
const DR_PHASES = ["network", "database", "cache", "loadbalancer", "services", "observability"];
const applies = (log: string[]) => log.filter((l) => / (apply|destroy) /.test(l));
const awsCalls = (log: string[]) => log.filter((l) => l.startsWith("aws "));
/** A Node.js error with its stack trace, as an unhandled EPIPE prints it (not the operator's own "EPIPE on stdout" note). */
const STACK_TRACE = /Error: write EPIPE|^\s+at .+:\d+:\d+\)?$|node:internal|Unhandled 'error' event/m;

/** `make <args>` (the project's Makefile, the app's own synth), writing to this test's output folder. */
const make = (args: string) => `make -s -C ${ROOT} ${args} OUTDIR=${h.out}`;
/** The stand-ins first on PATH; OUTDIR in the environment too, so that nothing reaches the project's cdktf.out. */
const env = (more: NodeJS.ProcessEnv = {}) => ({ ...h.s.env, ACCESSWEAVER_SETTINGS_ROOT: h.root, OUTDIR: h.out, ...more });
/** A command line (bash) at a terminal. */
const atTerminal = (line: string, more: NodeJS.ProcessEnv = {}) => {
  h.s.clearLog();
  return onPty(line, { cwd: ROOT, env: env(more) });
};
/** `<line>` through bash without a terminal, then the exit status of each command of its pipeline on stderr. */
const piped = (line: string, more: NodeJS.ProcessEnv = {}) => {
  h.s.clearLog();
  const r = spawnSync("bash", ["-c", `${line}; echo "pipeline: \${PIPESTATUS[*]}" >&2`], { cwd: ROOT, env: env(more), encoding: "utf8", input: "" });
  return { ...r, log: h.s.log() };
};

// make restore: a DR region ready to restore into (as restore.test.ts sets it up).
const DR = "eu-central-1";
const BACKUPS = `arn:aws:rds:${DR}:444455556666:auto-backup:ab-restore0test`;
const RESTORE = { RESTORE_HEALTH_MINUTES: "0.5", RESTORE_HEALTH_POLL_SECONDS: "0.05" };
const at = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString().replace(/\.\d+Z$/, "Z");
function drReady(): void {
  const alb = `accessweaver-prod-alb-1234.${DR}.elb.amazonaws.com`;
  h.setOutputs(
    "prod",
    "recovery",
    JSON.stringify({ database_replicated_backups_arn: { value: BACKUPS }, dr_region: { value: DR }, jwt_secret_name: { value: "accessweaver/prod/jwt" } }),
  );
  h.setOutputs("prod", "dr-loadbalancer", JSON.stringify({ alb_dns_name: { value: alb }, alb_zone_id: { value: "Z215JYRZR1TBD5" } }));
  fs.mkdirSync(path.join(h.s.stateDir, "dig"), { recursive: true });
  fs.writeFileSync(path.join(h.s.stateDir, "dig", alb), "192.0.2.10\n");
  h.answerAws("rds describe-db-instance-automated-backups", {
    DBInstanceAutomatedBackups: [{ Status: "replicating", RestoreWindow: { EarliestTime: at(-7 * 24 * 60), LatestTime: at(-5) } }],
  });
  h.answerAws("s3api head-object", "\nAn error occurred (404) when calling the HeadObject operation: Not Found\n", { exit: 254 });
  h.answerAws("ecr describe-images", { imageDetails: [{ imageTags: ["1.0.0"] }] });
  h.answerAws("secretsmanager describe-secret", { Name: "accessweaver/prod/jwt", PrimaryRegion: "eu-west-1" });
  h.answerAws("route53 list-resource-record-sets", {
    ResourceRecordSets: [
      {
        Name: "accessweaver.com.",
        Type: "A",
        AliasTarget: { HostedZoneId: "Z32O12XQLNTSW2", DNSName: "accessweaver-prod-alb-9876.eu-west-1.elb.amazonaws.com.", EvaluateTargetHealth: true },
      },
    ],
    IsTruncated: true,
    MaxItems: "1",
  });
  h.answerAws("route53 change-resource-record-sets", { ChangeInfo: { Id: "/change/C0RESTORE", Status: "PENDING" } });
  h.answerAws("route53 wait resource-record-sets-changed", "");
}
const drApplies = () => DR_PHASES.map((p) => `apply -input=false ${h.out}/plans/accessweaver-prod-dr-${p}.tfplan`);
/** A Terraform call without its folder and colour flag (at a terminal Terraform may colour; into a pipe it does not). */
const withoutColourFlag = (l: string) => l.replace(/^terraform \S+ /, "").replace(" -no-color", "");

describe("make restore ENV=prod at a terminal", () => {
  it("asks prod's question once; prod typed at the terminal restores every DR phase and switches the DNS", async () => {
    drReady();
    const t = atTerminal(make("restore ENV=prod"), RESTORE);
    await t.waitFor(QUESTION);
    t.type("prod\r");
    const r = await t.done;
    expect(r.output).not.toMatch(STACK_TRACE);
    expect(r.status).toBe(0);
    expect(r.output.split(QUESTION)).toHaveLength(2);
    expect(r.output).toContain("The one answer below approves all of them.");
    expect(applies(h.s.log()).map(withoutColourFlag)).toEqual(drApplies());
    expect(awsCalls(h.s.log()).filter((l) => l.includes("change-resource-record-sets"))).toHaveLength(1);
  });

  it("anything else typed at the question refuses the restore: nothing planned is applied, the DNS is not touched", async () => {
    drReady();
    const t = atTerminal(make("restore ENV=prod"), RESTORE);
    await t.waitFor(QUESTION);
    t.type("yes\r");
    const r = await t.done;
    expect(r.output).not.toMatch(STACK_TRACE);
    expect(r.status).toBe(2);
    expect(r.output.split(QUESTION)).toHaveLength(2);
    expect(r.output).toContain('Apply to prod cancelled (answer was "yes")');
    expect(r.output).toContain("Next: make restore ENV=prod: it continues with network.");
    expect(applies(h.s.log())).toEqual([]);
    expect(awsCalls(h.s.log()).filter((l) => l.includes("change-resource-record-sets"))).toEqual([]);
  });
});

describe("make restore ENV=prod | head -n 3 (at a terminal)", () => {
  it("no stack trace: the question is asked on the terminal, the restore goes on to the end, and stderr says the output was cut and where all of it is", async () => {
    drReady();
    const t = atTerminal(`${make("restore ENV=prod")} | head -n 3; echo "pipeline: \${PIPESTATUS[*]}"`, RESTORE);
    // stdout is the pipe: the question goes to stderr, the terminal.
    await t.waitFor(QUESTION);
    t.type("prod\r");
    const r = await t.done;
    expect(r.output).not.toMatch(STACK_TRACE);
    expect(r.output).toContain("pipeline: 0 0");
    expect(r.output.split(QUESTION)).toHaveLength(2);
    const cut = /The output was cut: its reader closed the pipe \(EPIPE on stdout\)\. The run goes on; all of its output is in (\S+)\.\n/.exec(r.output);
    expect(cut).not.toBeNull();
    // The whole restore ran: every DR phase applied, then the DNS switched; nothing half-done.
    expect(applies(h.s.log()).map(withoutColourFlag)).toEqual(drApplies());
    expect(awsCalls(h.s.log()).filter((l) => l.includes("change-resource-record-sets"))).toHaveLength(1);
    expect(JSON.parse(fs.readFileSync(path.join(h.out, "restore", "prod.json"), "utf8")).status).toBe("done");
    // The log has what head did not show, the summary too.
    const log = fs.readFileSync(path.resolve(ROOT, cut![1]!), "utf8");
    expect(log).toContain("Restore of prod into eu-central-1, from the copies its recovery phase keeps there:");
    expect(log).toMatch(/total \(RTO\)/);
    expect(log).toContain("# exit 0");
  });
});

// make drill: staging's observability and loadbalancer phases applied, its db-failover template, an experiment that runs on.
const EXP = "EXPdrill0000001";
const TEMPLATE = "EXTdbfailover01";
const STOP_ALARMS = ["accessweaver-staging-alb-5xx-rate", "accessweaver-staging-alb-response-time"];
function drillReady(): void {
  h.setOutputs(
    "staging",
    "observability",
    JSON.stringify({ fis_experiment_templates: { value: { "db-failover": TEMPLATE } }, alerts_topic_arn: { value: "arn:x" } }),
  );
  h.setOutputs("staging", "loadbalancer", JSON.stringify({ alb_arn_suffix: { value: "app/accessweaver-staging-alb/0123456789abcdef" } }));
  h.answerAws(`fis get-experiment-template --id ${TEMPLATE}`, {
    experimentTemplate: {
      id: TEMPLATE,
      description: "accessweaver-staging: db-failover",
      actions: { inject: { actionId: "aws:rds:reboot-db-instances" } },
      stopConditions: STOP_ALARMS.map((name) => ({ source: "aws:cloudwatch:alarm", value: `arn:aws:cloudwatch:eu-west-1:444455556666:alarm:${name}` })),
      tags: { Name: "accessweaver-staging-drill-db-failover" },
    },
  });
  h.answerAws(`cloudwatch describe-alarms --alarm-names ${STOP_ALARMS.join(" ")}`, {
    MetricAlarms: STOP_ALARMS.map((AlarmName) => ({ AlarmName, StateValue: "OK" })),
  });
  const start = new Date().toISOString();
  h.answerAws("fis start-experiment", { experiment: { id: EXP, state: { status: "initiating" }, startTime: start } });
  h.answerAws(`fis get-experiment --id ${EXP}`, {
    experiment: { id: EXP, state: { status: "running" }, startTime: start, actions: { inject: { state: { status: "running" } } } },
  });
  h.answerAws(`fis stop-experiment --id ${EXP}`, { experiment: { id: EXP, state: { status: "stopping" } } });
}

describe("make drill ENV=staging SCENARIO=db-failover at a terminal", () => {
  it("Ctrl-C while it follows the experiment: aws fis stop-experiment is called, and the message says so", async () => {
    drillReady();
    const t = atTerminal(make("drill ENV=staging SCENARIO=db-failover"), { DRILL_POLL_SECONDS: "0.2" });
    await t.waitFor("Ctrl-C stops the experiment (aws fis stop-experiment).");
    await h.waitForCall(`aws fis get-experiment --id ${EXP}`, 2);
    t.type("\x03");
    const r = await t.done;
    expect(r.output).not.toMatch(STACK_TRACE);
    expect(r.status).toBe(130);
    const calls = awsCalls(h.s.log());
    expect(calls.filter((c) => c.includes("fis stop-experiment"))).toEqual([`aws fis stop-experiment --id ${EXP} --output json --region eu-west-1`]);
    expect(calls[calls.length - 1]).toContain("fis stop-experiment");
    expect(r.output).toContain(`Drill db-failover of staging interrupted (SIGINT). FIS was asked to stop experiment ${EXP} (aws fis stop-experiment)`);
    expect(r.output).toContain(`Follow it: aws fis get-experiment --id ${EXP} --region eu-west-1`);
  });
});

// make alert-test: staging's observability phase applied, with its alerts topic.
describe("make alert-test ENV=staging | head -n 1", () => {
  it("no stack trace: the test goes on to the end (both alarm states, the subscriptions), and stderr says the output was cut", () => {
    const alerts = "arn:aws:sns:eu-west-1:444455556666:accessweaver-staging-alerts";
    const alarm = "accessweaver-staging-waf-blocked-requests";
    h.setOutputs("staging", "observability", JSON.stringify({ alerts_topic_arn: { value: alerts } }));
    h.answerAws("sns publish", { MessageId: "0f0e0d0c-0000-4000-8000-000000000001" });
    h.answerAws(`cloudwatch describe-alarms --alarm-names ${alarm}`, {
      MetricAlarms: [{ AlarmName: alarm, StateValue: "OK", AlarmActions: [alerts], OKActions: [alerts] }],
    });
    h.answerAws("cloudwatch set-alarm-state", "");
    h.answerAws("sns list-subscriptions-by-topic", {
      Subscriptions: [{ SubscriptionArn: `${alerts}:1`, Protocol: "email", Endpoint: "platform-team@accessweaver.com" }],
    });
    const r = piped(`${make("alert-test ENV=staging")} | head -n 1`, { ALERT_TEST_HOLD_SECONDS: "0" });
    expect(r.stderr).not.toMatch(STACK_TRACE);
    expect(r.stdout.split("\n")).toHaveLength(2);
    expect(r.stderr).toContain("pipeline: 0 0");
    expect(r.stderr).toMatch(/The output was cut: its reader closed the pipe \(EPIPE on stdout\)\. The run goes on; all of its output is in \S+\.log\./);
    const calls = awsCalls(r.log);
    expect(calls.filter((c) => c.includes("set-alarm-state")).map((c) => / --state-value (\S+)/.exec(c)![1])).toEqual(["ALARM", "OK"]);
    expect(calls[calls.length - 1]).toContain("sns list-subscriptions-by-topic");
  });
});
