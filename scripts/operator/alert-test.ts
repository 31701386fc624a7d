/**
 * `make alert-test ENV=<env>`: proves that the alerts reach someone, the guide's "Validation des alertes
 * et seuils" (docs/operations-checks.md).
 *
 * 1. One message, subject `[TEST] AccessWeaver <env> alert test`, published on each alerts topic of the
 *    observability phase (`aws sns publish`): the alerts topic, the critical (paging) topic where there is
 *    one, and the availability topic in us-east-1 where the region is another.
 * 2. The alarm `accessweaver-<env>-waf-blocked-requests` set to ALARM, then back to OK (`aws cloudwatch
 *    set-alarm-state`): the path alarm -> topic -> subscriber. That alarm because it notifies the alerts
 *    topic only (it pages no one: it is not critical), it is no stop condition of a drill and no
 *    CodeDeploy rollback alarm (a forced ALARM stops or rolls back nothing), and it evaluates every 5
 *    minutes: a real count of blocked requests takes over again within 5 minutes. An alarm already in
 *    ALARM is left alone (its notifications are real, and OK would hide them).
 * 3. The subscriptions of each topic (`aws sns list-subscriptions-by-topic`): one still pending
 *    confirmation, or a topic that nobody has confirmed, makes the command exit non-zero.
 * Harmless, so prod asks nothing; it says first what it sends.
 */
import * as os from "os";
import { names } from "../../src/naming";
import { OBSERVABILITY_HANDLES } from "../../src/stacks/handles";
import { StepFailed, say } from "./process";
import type { Target } from "./release";
import { awsJson, lacking, notApplied, pause, phaseState, regionOf } from "./drill";
import { Context } from "./workflow";

/** The alarm cycled through ALARM and back (`names().alarm(TEST_ALARM)`): see above why this one. */
export const TEST_ALARM = "waf-blocked-requests";
/** Seconds between ALARM and OK (ALERT_TEST_HOLD_SECONDS, default 5): the ALARM notification leaves first. */
const holdSeconds = () => Math.max(0, Number(process.env.ALERT_TEST_HOLD_SECONDS ?? "5") || 0);

interface Topic {
  readonly what: string;
  readonly arn: string;
  readonly region: string;
  /** Who gets it. */
  readonly reaches: string;
}
interface Subscription {
  readonly SubscriptionArn?: string;
  readonly Protocol?: string;
  readonly Endpoint?: string;
}

export async function alertTest(ctx: Context, t: Target): Promise<void> {
  const { env } = ctx;
  const region = t.config.settings.region;
  const again = `make alert-test ENV=${env}`;
  const { stack, values } = await phaseState(ctx, "observability");
  const alerts = OBSERVABILITY_HANDLES.alertsTopicArn.output;
  if (lacking(values, [alerts]).length > 0) throw notApplied(ctx, stack, [alerts], again, "Nothing was sent.");
  const topic = (what: string, output: string, reaches: string): Topic[] => {
    const arn = values[output];
    return typeof arn === "string" && arn !== "" ? [{ what, arn, region: regionOf(arn, region), reaches }] : [];
  };
  const topics = [
    ...topic("alerts", alerts, "every alarm's subscribers, the alert emails"),
    ...topic("critical", OBSERVABILITY_HANDLES.criticalTopicArn.output, "the paging endpoints: on-call is paged with it"),
    ...topic("availability", OBSERVABILITY_HANDLES.availabilityTopicArn.output, "the Route 53 health check alarm's subscribers"),
  ];
  const alarm = names(env).alarm(TEST_ALARM);
  const subject = `[TEST] AccessWeaver ${env} alert test`;
  say(`make alert-test ENV=${env} sends, now:`);
  for (const x of topics) say(`  - one message "${subject}" on the ${x.what} topic ${x.arn} (${x.reaches})`);
  say(
    `  - the alarm ${alarm} set to ALARM, then back to OK: two notifications on the alerts topic. It notifies that topic only (it pages no one), stops no drill and rolls back no release, and re-evaluates within 5 minutes.`,
  );
  say(`Nothing else changes.`);

  // 1. A test message on each topic.
  const sender = `${os.userInfo().username}@${os.hostname()}`;
  for (const x of topics) {
    const message = [
      `TEST - no action needed.`,
      `A test of the alerting of AccessWeaver ${env}, sent by make alert-test at ${new Date().toISOString()} from ${sender}.`,
      `You receive it because you are subscribed to the ${x.what} topic (${x.arn}).`,
    ].join("\n");
    const sent = await awsJson<{ MessageId?: string }>(t, x.region, ["sns", "publish", "--topic-arn", x.arn, "--subject", subject, "--message", message]);
    say(`Sent on the ${x.what} topic: message ${sent.MessageId ?? "(no id returned)"}.`);
  }

  // 2. One alarm through ALARM and back.
  const problems = await cycleAlarm(t, region, alarm, values[alerts] as string, env);

  // 3. Who receives them.
  const lines: string[] = [];
  for (const x of topics) {
    const answer = await awsJson<{ Subscriptions?: Subscription[] }>(t, x.region, ["sns", "list-subscriptions-by-topic", "--topic-arn", x.arn]);
    const all = answer.Subscriptions ?? [];
    const pending = all.filter((s) => s.SubscriptionArn === "PendingConfirmation");
    const confirmed = all.filter((s) => s.SubscriptionArn?.startsWith("arn:"));
    lines.push(`  ${x.what.padEnd(13)}${confirmed.length} confirmed (${confirmed.map((s) => `${s.Protocol} ${s.Endpoint}`).join(", ") || "none"})`);
    for (const s of pending) {
      lines.push(`  ${"".padEnd(13)}PENDING CONFIRMATION: ${s.Protocol} ${s.Endpoint}`);
      problems.push(`${s.Protocol} ${s.Endpoint} has not confirmed its subscription to the ${x.what} topic: it receives nothing until it does`);
    }
    if (confirmed.length === 0) problems.push(`nobody has confirmed a subscription to the ${x.what} topic: its alerts reach no one`);
  }
  const report = [`Subscriptions of ${env}'s alerts topics:`, ...lines].join("\n");
  if (problems.length > 0) {
    throw new StepFailed(
      [
        report,
        `make alert-test ENV=${env}: the alerts do not reach everyone:`,
        ...problems.map((p) => `  - ${p}`),
        `An email subscription is confirmed with the link of the "AWS Notification - Subscription Confirmation" message (valid 3 days); to send it again: aws sns subscribe --topic-arn <topic> --protocol email --notification-endpoint <address> --region <region>. Then run ${again} again.`,
      ].join("\n"),
    );
  }
  say(`${report}\nEvery topic reached its confirmed subscribers: ask them whether the "${subject}" messages arrived.`);
}

/** The test alarm set to ALARM then OK, unless it is already in ALARM; what is wrong with it, if anything. */
async function cycleAlarm(t: Target, region: string, alarm: string, alertsArn: string, env: string): Promise<string[]> {
  const found = (
    await awsJson<{ MetricAlarms?: { StateValue?: string; AlarmActions?: string[] }[] }>(t, region, ["cloudwatch", "describe-alarms", "--alarm-names", alarm])
  ).MetricAlarms?.[0];
  if (!found) return [`the alarm ${alarm} does not exist: the observability phase is not applied as this project writes it`];
  if (!(found.AlarmActions ?? []).includes(alertsArn)) return [`the alarm ${alarm} does not notify the alerts topic ${alertsArn}`];
  if (found.StateValue === "ALARM") {
    say(`${alarm} is in ALARM already: left as it is (its notifications are real ones, and setting it to OK would hide them).`);
    return [];
  }
  const set = (state: "ALARM" | "OK", why: string) =>
    awsJson(t, region, [
      "cloudwatch",
      "set-alarm-state",
      "--alarm-name",
      alarm,
      "--state-value",
      state,
      "--state-reason",
      `[TEST] make alert-test ENV=${env}: ${why}`,
    ]);
  await set("ALARM", "a test of the path from an alarm to the alerts topic");
  say(`${alarm}: ALARM (a test); back to OK in ${holdSeconds()} s.`);
  try {
    await pause(holdSeconds());
    await set("OK", "back to OK after the test");
  } catch (e) {
    if (!(e instanceof StepFailed) || !e.signal) throw e;
    throw new StepFailed(
      `Interrupted (${e.signal}) with ${alarm} in ALARM for the test: it goes back to its real state at its next evaluation (within 5 minutes), or now: aws cloudwatch set-alarm-state --alarm-name ${alarm} --state-value OK --state-reason "[TEST] end" --region ${region}`,
      e.signal,
    );
  }
  say(`${alarm}: back to OK.`);
  return [];
}
