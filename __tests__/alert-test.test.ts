// make alert-test with the recording stand-ins (terraform, aws) and the fixture's observability stack: a
// [TEST] message on each alerts topic, one alarm through ALARM and back, and the subscriptions still
// pending confirmation (exit non-zero), in the exact order of the calls.
import { operatorHarness, refusedThroughMake } from "./support/standins-operator";

const h = operatorHarness();
const REGION = "eu-west-1";
const BASE = { FAKE_PHASES: "observability", ALERT_TEST_HOLD_SECONDS: "0" };
const topicArn = (env: string, name: string, region = REGION) => `arn:aws:sns:${region}:444455556666:accessweaver-${env}-${name}`;
const ALERTS = topicArn("prod", "alerts");
const CRITICAL = topicArn("prod", "alerts-critical");
const AVAILABILITY = topicArn("prod", "alerts-availability", "us-east-1");
const ALARM = "accessweaver-prod-waf-blocked-requests";
const SUBJECT = "[TEST] AccessWeaver prod alert test";
const awsCalls = (log: string[]) => log.filter((l) => l.startsWith("aws "));
/** The calls with each --message value replaced (it carries the time and the sender). */
const withoutMessages = (log: string[]) => awsCalls(log).map((l) => l.replace(/ --message (\$'[^']*'|'[^']*'|\S+)/, " --message <text>"));
const confirmed = (endpoint: string, protocol = "email") => ({
  SubscriptionArn: `arn:aws:sns:${REGION}:444455556666:x:${endpoint}`,
  Protocol: protocol,
  Endpoint: endpoint,
});

/** prod's observability phase: the three topics. */
function applied(outputs: Record<string, string> = { alerts_topic_arn: ALERTS, critical_topic_arn: CRITICAL, availability_topic_arn: AVAILABILITY }): void {
  h.setOutputs("prod", "observability", JSON.stringify(Object.fromEntries(Object.entries(outputs).map(([k, value]) => [k, { value }]))));
}

function topicsAnswer(alarmState = "OK"): void {
  h.answerAws("sns publish", { MessageId: "0f0e0d0c-0000-4000-8000-000000000001" });
  h.answerAws(`cloudwatch describe-alarms --alarm-names ${ALARM}`, {
    MetricAlarms: [{ AlarmName: ALARM, StateValue: alarmState, AlarmActions: [ALERTS], OKActions: [ALERTS] }],
  });
  h.answerAws("cloudwatch set-alarm-state", "");
}

const publish = (arn: string, region = REGION) => `aws sns publish --topic-arn ${arn} --subject '${SUBJECT}' --message <text> --output json --region ${region}`;
const setState = (state: string, why: string) =>
  `aws cloudwatch set-alarm-state --alarm-name ${ALARM} --state-value ${state} --state-reason '[TEST] make alert-test ENV=prod: ${why}' --output json --region ${REGION}`;
const subscriptions = (arn: string, region = REGION) => `aws sns list-subscriptions-by-topic --topic-arn ${arn} --output json --region ${region}`;

describe("make alert-test", () => {
  it("prod: says what it sends, asks nothing, publishes on each topic, cycles the alarm, and lists the subscriptions (all confirmed: exit 0)", async () => {
    applied();
    topicsAnswer();
    h.answerAws(`sns list-subscriptions-by-topic --topic-arn ${CRITICAL}`, { Subscriptions: [confirmed("https://events.pagerduty.com/x", "https")] });
    h.answerAws("sns list-subscriptions-by-topic", { Subscriptions: [confirmed("platform-team@accessweaver.com")] });
    const r = await h.multi(["alert-test", "prod"], BASE);
    expect(r.stderr).not.toMatch(/refused|failed/i);
    expect(r.status).toBe(0);
    expect(r.log.filter((l) => l.startsWith("terraform "))).toEqual(h.outputReads("prod", ["observability"]));
    expect(withoutMessages(r.log)).toEqual([
      publish(ALERTS),
      publish(CRITICAL),
      publish(AVAILABILITY, "us-east-1"),
      `aws cloudwatch describe-alarms --alarm-names ${ALARM} --output json --region ${REGION}`,
      setState("ALARM", "a test of the path from an alarm to the alerts topic"),
      setState("OK", "back to OK after the test"),
      subscriptions(ALERTS),
      subscriptions(CRITICAL),
      subscriptions(AVAILABILITY, "us-east-1"),
    ]);
    // The message says it is a test, who sent it and why the reader gets it.
    const message = h.s.calls().find((c) => c[2] === "publish")!;
    expect(message[message.indexOf("--message") + 1]).toMatch(
      new RegExp(
        `^TEST - no action needed\\.\\nA test of the alerting of AccessWeaver prod, sent by make alert-test at \\S+Z from \\S+@\\S+\\.\\nYou receive it because you are subscribed to the alerts topic \\(${ALERTS}\\)\\.$`,
      ),
    );
    // What it sends is said before anything is sent; no question in prod.
    expect(r.stdout).toContain(
      [
        "make alert-test ENV=prod sends, now:",
        `  - one message "${SUBJECT}" on the alerts topic ${ALERTS} (every alarm's subscribers, the alert emails)`,
        `  - one message "${SUBJECT}" on the critical topic ${CRITICAL} (the paging endpoints: on-call is paged with it)`,
        `  - one message "${SUBJECT}" on the availability topic ${AVAILABILITY} (the Route 53 health check alarm's subscribers)`,
        `  - the alarm ${ALARM} set to ALARM, then back to OK: two notifications on the alerts topic.`,
      ].join("\n"),
    );
    expect(r.stdout).not.toMatch(/Type "prod"/);
    expect(r.stdout).toContain(
      `Subscriptions of prod's alerts topics:\n  alerts       1 confirmed (email platform-team@accessweaver.com)\n  critical     1 confirmed (https https://events.pagerduty.com/x)`,
    );
    expect(r.stdout).toContain(`Every topic reached its confirmed subscribers: ask them whether the "${SUBJECT}" messages arrived.`);
  });

  it("a subscription still pending confirmation is reported, and the command exits non-zero", async () => {
    applied({ alerts_topic_arn: ALERTS });
    topicsAnswer();
    h.answerAws("sns list-subscriptions-by-topic", {
      Subscriptions: [
        confirmed("platform-team@accessweaver.com"),
        { SubscriptionArn: "PendingConfirmation", Protocol: "email", Endpoint: "oncall@accessweaver.com" },
      ],
    });
    const r = await h.multi(["alert-test", "prod"], BASE);
    expect(r.status).toBe(2);
    expect(withoutMessages(r.log)).toEqual([
      publish(ALERTS),
      `aws cloudwatch describe-alarms --alarm-names ${ALARM} --output json --region ${REGION}`,
      setState("ALARM", "a test of the path from an alarm to the alerts topic"),
      setState("OK", "back to OK after the test"),
      subscriptions(ALERTS),
    ]);
    expect(r.stderr).toContain(
      "  alerts       1 confirmed (email platform-team@accessweaver.com)\n               PENDING CONFIRMATION: email oncall@accessweaver.com",
    );
    expect(r.stderr).toContain(
      "make alert-test ENV=prod: the alerts do not reach everyone:\n  - email oncall@accessweaver.com has not confirmed its subscription to the alerts topic: it receives nothing until it does",
    );
    expect(r.stderr).toContain("Then run make alert-test ENV=prod again.");
  });

  it("a topic nobody confirmed reaches no one: exit non-zero", async () => {
    applied({ alerts_topic_arn: ALERTS });
    topicsAnswer();
    h.answerAws("sns list-subscriptions-by-topic", { Subscriptions: [] });
    const r = await h.multi(["alert-test", "prod"], BASE);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("  - nobody has confirmed a subscription to the alerts topic: its alerts reach no one");
  });

  it("leaves an alarm already in ALARM alone (its notifications are real)", async () => {
    applied({ alerts_topic_arn: ALERTS });
    topicsAnswer("ALARM");
    h.answerAws("sns list-subscriptions-by-topic", { Subscriptions: [confirmed("platform-team@accessweaver.com")] });
    const r = await h.multi(["alert-test", "prod"], BASE);
    expect(r.status).toBe(0);
    expect(awsCalls(r.log).filter((l) => l.includes("set-alarm-state"))).toEqual([]);
    expect(r.stdout).toContain(`${ALARM} is in ALARM already: left as it is`);
  });

  it("refuses, sending nothing, when the observability phase is not applied", async () => {
    const r = await h.multi(["alert-test", "prod"], BASE);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      "make alert-test ENV=prod: the state of accessweaver-prod-observability has no alerts_topic_arn: the observability phase is not applied",
    );
    expect(r.stderr).toContain("Nothing was sent.");
    expect(awsCalls(r.log)).toEqual([]);
  });

  refusedThroughMake(h, [
    [["alert-test", "ENV=prod", "PHASE=observability"], 'make alert-test reads the phases it needs itself: leave PHASE out (it was "observability").'],
  ]);
});
