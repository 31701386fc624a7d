/**
 * `make drill ENV=<env> SCENARIO=<scenario> [CONFIRM=<template>]`: one failover drill with AWS Fault
 * Injection Service, the guide's "Tests de failover Multi-AZ" (docs/operations-checks.md).
 *
 * 1. Reads the template of the scenario from the observability phase's state (`fis_experiment_templates`:
 *    scenario -> template id; each template is tagged Name `accessweaver-<env>-drill-<scenario>`), and the
 *    load balancer's ARN suffix from the loadbalancer phase's (to count the requests that failed).
 * 2. Refuses where the environment has no drills: the observability phase makes the templates only where
 *    the data tier is Multi-AZ (dev has no standby database and no cache replica: a "failover" there would
 *    only prove that dev goes down, which it is allowed to). Refuses in prod without CONFIRM=<template
 *    name> (as make destroy names its stacks; staging drills without: it serves no customer), and when a
 *    stop condition's alarm is already in ALARM (FIS would stop at once: not healthy enough to drill), and
 *    cache-failover when no shard's primary is in the template's zone (nothing would fail over).
 * 3. `aws fis start-experiment`, then `aws fis get-experiment` until the experiment ends, printing each
 *    change of the experiment's and its actions' states with the time since the start. Ctrl-C asks FIS to
 *    stop the experiment (`aws fis stop-experiment`) and says so.
 * 4. Measures what the guide promises for the component against its RTO table (database < 30 min, cache
 *    < 5 min, application < 15 min): the time to recover from the component's own record (RDS and
 *    ElastiCache events, the ECS services' running tasks and events, the alarms' history), waiting for it
 *    until the RTO has passed; and the requests that failed (the load balancer's 5xx over the window).
 *    az-network with no alarm that reacted is INCONCLUSIVE (exit 0), not a recovery in 0s.
 * 5. Writes `<outdir>/drills/<env>-<scenario>-<start>.json`. A drill that did not recover within the
 *    RTO, whose stop condition fired, or whose experiment failed exits non-zero.
 *
 * The small pieces make alert-test and make cache-flush share with it live here too (phaseState,
 * awsJson, requireConfirm, pause).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DrillScenario, EnvironmentName, PhaseName, SERVICES, names } from "../../src/naming";
import { LOADBALANCER_HANDLES, OBSERVABILITY_HANDLES } from "../../src/stacks/handles";
import { Inputs, commandLine } from "./inputs";
import { Stack } from "./plans";
import { Refusal, StepFailed, interruptedBy, run, say, shownPath } from "./process";
import type { Target } from "./release";
import { duration } from "./restore";
import { Context, outputsJson } from "./workflow";

// ---- shared with make alert-test and make cache-flush ----------------------------------------------

/** The outputs of a phase's stack (its state), by name; a refusal when the environment has no stack of that phase. */
export async function phaseState(ctx: Context, phase: PhaseName): Promise<{ stack: Stack; values: Record<string, unknown> }> {
  const stack = ctx.all.find((s) => s.phase === phase);
  if (!stack) throw new Refusal(`${ctx.env} has no ${phase} phase stack: synthesized phases: ${ctx.all.map((s) => s.phase).join(", ")}.`);
  const json = await outputsJson(ctx, stack);
  let outputs: Record<string, { value?: unknown }>;
  try {
    outputs = JSON.parse(json || "{}") as Record<string, { value?: unknown }>;
  } catch {
    throw new StepFailed(`terraform output -json of ${stack.name} answered something that is not JSON: ${json.slice(0, 200)}`);
  }
  return { stack, values: Object.fromEntries(Object.entries(outputs).map(([k, o]) => [k, o?.value])) };
}

/** The names among `wanted` whose value is absent or empty (a string, a number, a list of strings, a map). */
export function lacking(values: Record<string, unknown>, wanted: readonly string[]): string[] {
  const present = (v: unknown) =>
    typeof v === "string"
      ? v !== ""
      : typeof v === "number" ||
        (Array.isArray(v) ? v.length > 0 && v.every((x) => typeof x === "string") : typeof v === "object" && v !== null && Object.keys(v).length > 0);
  return wanted.filter((name) => !present(values[name]));
}

/** The refusal of a check whose phase's state lacks what it reads: that phase is not applied, or older than the check. */
export function notApplied(ctx: Context, stack: Stack, missing: readonly string[], again: string, untouched: string): Refusal {
  return new Refusal(
    `${again}: the state of ${stack.name} has no ${missing.join(", ")}: the ${stack.phase} phase is not applied, or was applied before it published them. Apply it first (make plan ENV=${ctx.env} PHASE=${stack.phase}, then make apply ENV=${ctx.env} PHASE=${stack.phase}), then run ${again} again. ${untouched}`,
  );
}

/** One AWS CLI call in `region` that answers JSON, parsed; a failure names the call and what the CLI said. */
export async function awsJson<T>(t: Target, region: string, args: string[]): Promise<T> {
  const call = `aws ${args.slice(0, 2).join(" ")}`;
  let answer: string;
  try {
    answer = (await run(t.aws, [...args, "--output", "json", "--region", region], { capture: true, keepStderr: true })).stdout.trim();
  } catch (e) {
    if (!(e instanceof StepFailed) || e.signal) throw e;
    throw new StepFailed(`${call} failed: ${e.stderr.trim() || e.message}`, undefined, e.stderr);
  }
  try {
    return JSON.parse(answer || "{}") as T;
  } catch {
    throw new StepFailed(`${call} answered something that is not JSON: ${answer.slice(0, 200)}`);
  }
}

/** The region of an ARN (`arn:aws:sns:us-east-1:...`), or `fallback` for anything else. */
export const regionOf = (arn: string, fallback: string): string => arn.split(":")[3] || fallback;

/** In prod, refuses unless CONFIRM names exactly `expected` (what the command acts on), as make destroy does. */
export function requireConfirm(env: EnvironmentName, expected: string, what: string, again: string): void {
  if (env !== "prod" || process.env.CONFIRM === expected) return;
  const given = process.env.CONFIRM ? ` (CONFIRM was ${JSON.stringify(process.env.CONFIRM)})` : "";
  throw new Refusal(
    `${what} in prod is refused unless CONFIRM names exactly what it acts on${given}. Nothing was started. To go ahead: ${again} CONFIRM=${expected}`,
  );
}

/** Waits `seconds`, in short slices; an interrupt ends the wait at once (StepFailed with its signal). */
export async function pause(seconds: number): Promise<void> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const signal = interruptedBy();
    if (signal) throw new StepFailed(`Interrupted (${signal}).`, signal);
    const left = until - Date.now();
    if (left <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(left, 100)));
  }
}

/** `10:31:45 UTC`. */
export const clock = (iso: string): string => `${new Date(iso).toISOString().slice(11, 19)} UTC`;

// ---- the drill -------------------------------------------------------------------------------------

/** The observability phase's output: scenario -> FIS experiment template id. */
const TEMPLATES = OBSERVABILITY_HANDLES.fisExperimentTemplates;
/** How often the experiment and the recovery are read (DRILL_POLL_SECONDS, default 15). */
const pollSeconds = () => Math.max(0, Number(process.env.DRILL_POLL_SECONDS ?? "15") || 0);
const ENDED = new Set(["completed", "stopped", "failed", "cancelled"]);

interface FisState {
  readonly status?: string;
  readonly reason?: string;
}
interface Experiment {
  readonly id?: string;
  readonly state?: FisState;
  readonly startTime?: string;
  readonly endTime?: string;
  readonly actions?: Readonly<Record<string, { readonly actionId?: string; readonly state?: FisState }>>;
}
interface Template {
  readonly id?: string;
  readonly description?: string;
  readonly actions?: Readonly<
    Record<string, { readonly actionId?: string; readonly description?: string; readonly parameters?: Readonly<Record<string, string>> }>
  >;
  readonly targets?: Readonly<Record<string, { readonly parameters?: Readonly<Record<string, string>> }>>;
  readonly stopConditions?: readonly { readonly source?: string; readonly value?: string }[];
  readonly tags?: Readonly<Record<string, string>>;
}

/** An alarm, by name, in its region (the Route 53 health check's is in us-east-1). */
interface AlarmRef {
  readonly name: string;
  readonly region: string;
}

/** What a drill run measures with. */
interface DrillRun {
  readonly ctx: Context;
  readonly t: Target;
  readonly region: string;
  /** The experiment's start (FIS's, or this machine's clock), ISO 8601. */
  readonly start: string;
  readonly stopAlarms: readonly AlarmRef[];
  /** cache-failover: the shards whose primary was in the zone cut off, each one failover expected. */
  readonly shards?: number;
}

/** Where the component stands: recovered (at the time its record says; null: no outage was seen), or not yet. */
interface Recovery {
  readonly recovered: boolean;
  readonly at?: string | null;
  /** What the record says, a line each. */
  readonly lines: readonly string[];
  /** Why the record cannot tell the time to recover (nothing reacted): neither met nor missed. */
  readonly inconclusive?: string;
}

/** One scenario: the component it fails, the guide's promise for it, and how its recovery is read. */
interface Scenario {
  readonly component: "database" | "cache" | "application";
  /** The guide's RTO table: the procedure and the RTO in minutes. */
  readonly promise: string;
  readonly rtoMinutes: number;
  readonly measuredBy: string;
  readonly probe: (d: DrillRun) => Promise<Recovery>;
}

const byDate = <T>(items: readonly T[], date: (x: T) => string | undefined) => [...items].sort((a, b) => Date.parse(date(a) ?? "") - Date.parse(date(b) ?? ""));

/**
 * A recovery read from events: recovered once `expected` events say a failover completed, at the last
 * one (a cache of several shards fails over shard by shard: the component is back when the last one is).
 */
function fromEvents(events: readonly { readonly message: string; readonly date: string }[], what: string, expected = 1): Recovery {
  const sorted = byDate(events, (e) => e.date);
  const completions = sorted.filter((e) => /complet/i.test(e.message));
  const recovered = completions.length >= Math.max(1, expected);
  const lines = sorted.map((e) => `${clock(e.date)}  ${e.message}`);
  return { recovered, at: recovered ? completions.at(-1)?.date : undefined, lines: lines.length > 0 ? lines : [`no ${what} event yet`] };
}

const SCENARIOS: Readonly<Record<DrillScenario, Scenario>> = {
  "db-failover": {
    component: "database",
    promise: "Multi-AZ failover",
    rtoMinutes: 30,
    measuredBy: "the instance's failover events (aws rds describe-events)",
    probe: async ({ ctx, t, region, start }) => {
      const answer = await awsJson<{ Events?: { Message?: string; Date?: string; EventCategories?: string[] }[] }>(t, region, [
        "rds",
        "describe-events",
        "--source-identifier",
        names(ctx.env).database,
        "--source-type",
        "db-instance",
        "--start-time",
        start,
      ]);
      const failover = (answer.Events ?? []).filter((e) => e.EventCategories?.includes("failover") || /failover/i.test(e.Message ?? ""));
      return fromEvents(
        failover.map((e) => ({ message: e.Message ?? "", date: e.Date ?? start })),
        "failover",
      );
    },
  },
  "cache-failover": {
    component: "cache",
    promise: "Cluster failover",
    rtoMinutes: 5,
    measuredBy: "the replication group's failover events (aws elasticache describe-events)",
    probe: async ({ ctx, t, region, start, shards }) => {
      const group = names(ctx.env).redis;
      const answer = await awsJson<{ Events?: { SourceIdentifier?: string; Message?: string; Date?: string }[] }>(t, region, [
        "elasticache",
        "describe-events",
        "--start-time",
        start,
      ]);
      const ours = (answer.Events ?? []).filter(
        (e) => (e.SourceIdentifier === group || e.SourceIdentifier?.startsWith(`${group}-`)) && /failover/i.test(e.Message ?? ""),
      );
      return fromEvents(
        ours.map((e) => ({ message: `${e.SourceIdentifier}: ${e.Message}`, date: e.Date ?? start })),
        "failover",
        shards,
      );
    },
  },
  "az-tasks": {
    component: "application",
    promise: "ECS replaces the lost tasks",
    rtoMinutes: 15,
    measuredBy: "each service's running tasks against its desired count, and its events (aws ecs describe-services)",
    probe: tasksRecovery,
  },
  "az-network": {
    component: "application",
    promise: "the other zones carry the traffic",
    rtoMinutes: 15,
    measuredBy: "the history of the stop-condition alarms and of the Route 53 health check's alarm (aws cloudwatch describe-alarm-history)",
    probe: alarmsRecovery,
  },
};

interface EcsService {
  readonly serviceName?: string;
  readonly runningCount?: number;
  readonly desiredCount?: number;
  readonly events?: readonly { readonly createdAt?: string; readonly message?: string }[];
}

/** Every service runs its desired tasks again; recovered at the last of their first steady states since the start. */
async function tasksRecovery({ ctx, t, region, start }: DrillRun): Promise<Recovery> {
  const n = names(ctx.env);
  const answer = await awsJson<{ services?: EcsService[] }>(t, region, [
    "ecs",
    "describe-services",
    "--cluster",
    n.cluster,
    "--services",
    ...SERVICES.map(n.service),
  ]);
  const services = answer.services ?? [];
  const steady = (s: EcsService) =>
    byDate(
      (s.events ?? []).filter((e) => /reached a steady state/.test(e.message ?? "") && Date.parse(e.createdAt ?? "") >= Date.parse(start)),
      (e) => e.createdAt,
    )[0]?.createdAt;
  const lines = services.map((s) => {
    const at = steady(s);
    return `${s.serviceName}: ${s.runningCount ?? 0} of ${s.desiredCount ?? 0} task(s) running${at ? `, steady since ${clock(at)}` : ""}`;
  });
  const recovered = services.length === SERVICES.length && services.every((s) => (s.desiredCount ?? 0) > 0 && (s.runningCount ?? 0) >= (s.desiredCount ?? 0));
  const times = services.map(steady).filter((x): x is string => x !== undefined);
  return { recovered, at: recovered ? (byDate(times, (x) => x).pop() ?? new Date().toISOString()) : undefined, lines };
}

/** The state each alarm went to since the start, in order: recovered when none is in ALARM; at the last return to OK. */
async function alarmsRecovery({ ctx, t, start, stopAlarms }: DrillRun): Promise<Recovery> {
  const health: AlarmRef = { name: names(ctx.env).alarm("route53-health-check"), region: "us-east-1" };
  const alarms = [...stopAlarms, ...(stopAlarms.some((a) => a.name === health.name) ? [] : [health])];
  const lines: string[] = [];
  let recovered = true;
  let at: string | null = null;
  for (const a of alarms) {
    const answer = await awsJson<{ AlarmHistoryItems?: { Timestamp?: string; HistorySummary?: string }[] }>(t, a.region, [
      "cloudwatch",
      "describe-alarm-history",
      "--alarm-name",
      a.name,
      "--history-item-type",
      "StateUpdate",
      "--start-date",
      start,
    ]);
    const updates = byDate(answer.AlarmHistoryItems ?? [], (h) => h.Timestamp).map((h) => ({
      at: h.Timestamp ?? start,
      to: /to (\w+)$/.exec(h.HistorySummary ?? "")?.[1] ?? "?",
    }));
    const fired = updates.some((u) => u.to === "ALARM");
    const now = updates[updates.length - 1]?.to;
    if (now === "ALARM") recovered = false;
    const back = [...updates].reverse().find((u) => u.to === "OK");
    if (fired && back && (at === null || Date.parse(back.at) > Date.parse(at))) at = back.at;
    lines.push(`${a.name}: ${updates.length > 0 ? updates.map((u) => `${u.to} at ${clock(u.at)}`).join(", ") : "no change of state"}`);
  }
  // Nothing went to ALARM: a lost zone may stay under every threshold; that is no measured recovery.
  const inconclusive = recovered && at === null ? "no alarm reacted (a zone's loss may not reach the alarms' thresholds)" : undefined;
  return { recovered, at: recovered ? at : undefined, lines, inconclusive };
}

/** The load balancer's 5xx and requests over the window: what failed, measured where every request passes. */
async function failedRequests(
  d: DrillRun,
  albSuffix: string | undefined,
  end: string,
): Promise<{ failed: number; total: number; text: string } | { text: string }> {
  if (!albSuffix) return { text: `not measured: the state of the loadbalancer phase has no ${LOADBALANCER_HANDLES.albArnSuffix.output}` };
  const from = new Date(Math.floor(Date.parse(d.start) / 60_000) * 60_000).toISOString();
  const to = new Date(Math.ceil(Date.parse(end) / 60_000) * 60_000).toISOString();
  const sum = async (metric: string) => {
    const answer = await awsJson<{ Datapoints?: { Sum?: number }[] }>(d.t, d.region, [
      "cloudwatch",
      "get-metric-statistics",
      "--namespace",
      "AWS/ApplicationELB",
      "--metric-name",
      metric,
      "--dimensions",
      `Name=LoadBalancer,Value=${albSuffix}`,
      "--start-time",
      from,
      "--end-time",
      to,
      "--period",
      "60",
      "--statistics",
      "Sum",
    ]);
    return (answer.Datapoints ?? []).reduce((s, p) => s + (p.Sum ?? 0), 0);
  };
  // A failover shows mostly as the gateway's 5xx (target), a lost zone as the load balancer's own: both count.
  const failed = (await sum("HTTPCode_ELB_5XX_Count")) + (await sum("HTTPCode_Target_5XX_Count"));
  const total = await sum("RequestCount");
  const share = total > 0 ? ` (${((100 * failed) / total).toFixed(3)} %)` : "";
  return {
    failed,
    total,
    text: `${failed} of ${total} request(s)${share} answered 5xx (HTTPCode_ELB_5XX_Count + HTTPCode_Target_5XX_Count) between ${clock(from)} and ${clock(to)}; CloudWatch may still add the last minute`,
  };
}

/** The zone a template's fault acts in: the availabilityZoneIdentifier of its targets (or of its actions). */
const zoneOf = (template: Template): string | undefined =>
  [...Object.values(template.targets ?? {}), ...Object.values(template.actions ?? {})]
    .map((x) => x.parameters?.availabilityZoneIdentifier)
    .find((z): z is string => typeof z === "string" && z !== "");

interface CacheShards {
  readonly zone: string;
  /** The shards whose primary is in the zone; null: the group does not say where its primaries are. */
  readonly affected: readonly string[] | null;
  readonly shards: number;
  readonly primaries: string;
}

/**
 * Before a cache-failover drill: the shards whose primary is in the template's zone. None there (the usual
 * case on a second run: ElastiCache does not fail back) would fail nothing over: refused, nothing started.
 */
async function cacheShards(ctx: Context, t: Target, region: string, template: Template, templateName: string, again: string): Promise<CacheShards | string> {
  const zone = zoneOf(template);
  if (!zone) return `${templateName} names no availabilityZoneIdentifier: which shards fail over is not checked`;
  const group = names(ctx.env).redis;
  const answer = await awsJson<{
    ReplicationGroups?: {
      NodeGroups?: {
        NodeGroupId?: string;
        NodeGroupMembers?: { CacheClusterId?: string; CurrentRole?: string; PreferredAvailabilityZone?: string }[];
      }[];
    }[];
  }>(t, region, ["elasticache", "describe-replication-groups", "--replication-group-id", group]);
  const groups = answer.ReplicationGroups?.[0]?.NodeGroups ?? [];
  const primaries = groups.map((g) => ({
    shard: g.NodeGroupId ?? "?",
    zone: g.NodeGroupMembers?.find((m) => m.CurrentRole === "primary")?.PreferredAvailabilityZone,
  }));
  const known = primaries.filter((p): p is { shard: string; zone: string } => p.zone !== undefined);
  const where = known.map((p) => `${p.shard} in ${p.zone}`).join(", ");
  if (known.length === 0) return { zone, affected: null, shards: groups.length, primaries: "not reported (no node has a CurrentRole)" };
  const affected = known.filter((p) => p.zone === zone).map((p) => p.shard);
  if (affected.length === 0) {
    throw new Refusal(
      `${templateName} cuts the power of ${group}'s nodes in ${zone}, but no shard's primary is in ${zone} (primaries: ${where}): no failover would happen, so there would be nothing to measure (ElastiCache does not fail back after a drill). Nothing was started. Either drill a zone that holds a primary by hand (the FIS console: an experiment like ${templateName} with availabilityZoneIdentifier ${[...new Set(known.map((p) => p.zone))].join(" or ")}), or wait until a primary is in ${zone} again, then run ${again} again.`,
    );
  }
  return { zone, affected, shards: groups.length, primaries: where };
}

/** The stop conditions' alarms of a template (FIS names them by ARN). */
const alarmsOf = (template: Template, fallback: string): AlarmRef[] =>
  (template.stopConditions ?? [])
    .filter((s) => s.source === "aws:cloudwatch:alarm" && s.value)
    .map((s) => ({ name: s.value!.slice(s.value!.lastIndexOf(":alarm:") + ":alarm:".length), region: regionOf(s.value!, fallback) }));

/** The alarms among `alarms` in ALARM now, read in each one's region. */
async function alarming(t: Target, alarms: readonly AlarmRef[]): Promise<string[]> {
  const found: string[] = [];
  for (const region of [...new Set(alarms.map((a) => a.region))]) {
    const these = alarms.filter((a) => a.region === region).map((a) => a.name);
    const answer = await awsJson<{
      MetricAlarms?: { AlarmName?: string; StateValue?: string }[];
      CompositeAlarms?: { AlarmName?: string; StateValue?: string }[];
    }>(t, region, ["cloudwatch", "describe-alarms", "--alarm-names", ...these]);
    for (const a of [...(answer.MetricAlarms ?? []), ...(answer.CompositeAlarms ?? [])]) if (a.StateValue === "ALARM" && a.AlarmName) found.push(a.AlarmName);
  }
  return found;
}

/**
 * After an interrupt: asks FIS to stop the experiment. Started directly, not through run(), which starts
 * nothing once the run is interrupted (a Terraform step must not begin after a Ctrl-C): this is the one
 * step a Ctrl-C asks for.
 */
function stopExperiment(t: Target, region: string, id: string): string {
  const args = ["fis", "stop-experiment", "--id", id, "--output", "json", "--region", region];
  process.stderr.write(`$ ${path.basename(t.aws)} ${args.join(" ")}\n`);
  const r = spawnSync(t.aws, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const follow = `Follow it: aws fis get-experiment --id ${id} --region ${region}`;
  if (r.status === 0) {
    return `FIS was asked to stop experiment ${id} (aws fis stop-experiment): it stops its actions and undoes what it can (a network disruption ends); a reboot or failover already made stays made. ${follow}`;
  }
  const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim();
  return `FIS did NOT accept the stop of experiment ${id} (${why}): it may still be running. Stop it yourself: aws fis stop-experiment --id ${id} --region ${region}. ${follow}`;
}

/** `<outdir>/drills/<env>-<scenario>-<start>.json`. */
function writeDrill(outdir: string, record: Record<string, unknown> & { env: string; scenario: string; startedAt: string }): string {
  const stamp = record.startedAt.replace(/[-:]/g, "").replace(/\.\d+/, "");
  const file = path.join(outdir, "drills", `${record.env}-${record.scenario}-${stamp}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  return file;
}

/** `make drill ENV=<env> SCENARIO=<scenario>`. */
export async function drill(ctx: Context, t: Target, i: Inputs): Promise<void> {
  const scenarioName = i.scenario!;
  const scenario = SCENARIOS[scenarioName];
  const region = t.config.settings.region;
  const again = commandLine(i);
  const templateName = names(ctx.env).drillTemplate(scenarioName);
  if (!TEMPLATES.when(t.config)) {
    const { database, cache } = t.config.sizing;
    throw new Refusal(
      `${ctx.env} has no failover drills: the observability phase makes drill templates only where the data tier is Multi-AZ, and ${ctx.env}'s database is ${database.multiAz ? "Multi-AZ" : "single-AZ"}, its cache has ${cache.replicasPerShard} replica(s) per shard: there is nothing to fail over to. Drill staging: make drill ENV=staging SCENARIO=${scenarioName}. Nothing was started.`,
    );
  }
  requireConfirm(ctx.env, templateName, `Drilling ${scenarioName}`, commandLine(i, { ...process.env, CONFIRM: "" }));

  // 1. What it starts, and what it measures with.
  const { stack, values } = await phaseState(ctx, "observability");
  if (lacking(values, [TEMPLATES.output]).length > 0) throw notApplied(ctx, stack, [TEMPLATES.output], again, "Nothing was started.");
  const templates = values[TEMPLATES.output] as Record<string, unknown>;
  const templateId = templates[scenarioName];
  if (typeof templateId !== "string" || templateId === "") {
    throw new Refusal(
      `${ctx.env} has no drill template for ${scenarioName}: ${TEMPLATES.output} in the state of ${stack.name} holds ${Object.keys(templates).join(", ") || "none"}. Apply the observability phase again (make plan ENV=${ctx.env} PHASE=observability). Nothing was started.`,
    );
  }
  const lb = ctx.all.some((s) => s.phase === "loadbalancer") ? (await phaseState(ctx, "loadbalancer")).values : {};
  const albSuffix = typeof lb[LOADBALANCER_HANDLES.albArnSuffix.output] === "string" ? (lb[LOADBALANCER_HANDLES.albArnSuffix.output] as string) : undefined;
  const template =
    (await awsJson<{ experimentTemplate?: Template }>(t, region, ["fis", "get-experiment-template", "--id", templateId])).experimentTemplate ?? {};
  const tagged = template.tags?.Name;
  if (tagged !== undefined && tagged !== templateName) {
    throw new Refusal(
      `${TEMPLATES.output} of ${ctx.env} maps ${scenarioName} to ${templateId}, which is tagged Name=${tagged}, not ${templateName}: the state and the template disagree. Nothing was started. Apply the observability phase again (make plan ENV=${ctx.env} PHASE=observability).`,
    );
  }
  const stopAlarms = alarmsOf(template, region);
  const already = stopAlarms.length > 0 ? await alarming(t, stopAlarms) : [];
  if (already.length > 0) {
    throw new Refusal(
      `${already.join(", ")} ${already.length === 1 ? "is" : "are"} in ALARM now: ${already.length === 1 ? "it is a stop condition" : "they are stop conditions"} of ${templateName}, so FIS would stop the drill at once, and ${ctx.env} is not healthy enough to drill. Nothing was started. Find why first (docs/observability.md), then run ${again} again.`,
    );
  }
  const cache = scenarioName === "cache-failover" ? await cacheShards(ctx, t, region, template, templateName, again) : undefined;
  const actions = Object.entries(template.actions ?? {}).map(([name, a]) => `${name} (${a.actionId ?? "?"})`);
  say(
    `make drill ENV=${ctx.env} SCENARIO=${scenarioName}: starts the FIS experiment template ${templateName} (${templateId})${template.description ? `: ${template.description}` : ""}.`,
  );
  say(`  actions      ${actions.join(", ") || "as the template says"}`);
  say(
    `  stops when   ${stopAlarms.map((a) => a.name).join(", ") || "nothing: the template has no stop condition"}${stopAlarms.length > 0 ? " goes to ALARM" : ""}`,
  );
  say(`  guide        ${scenario.component}: ${scenario.promise}, RTO < ${scenario.rtoMinutes} min`);
  say(`  measured by  ${scenario.measuredBy}; failed requests from the load balancer's 5xx`);
  const shardsLine =
    typeof cache === "string"
      ? cache
      : cache && cache.affected
        ? `${cache.affected.length} of ${cache.shards} (${cache.affected.join(", ")}) with a primary in ${cache.zone}: one failover each expected`
        : cache
          ? `unknown: the primaries' zones are ${cache.primaries}; one failover expected`
          : undefined;
  if (shardsLine) say(`  shards       ${shardsLine}`);
  say(`Ctrl-C stops the experiment (aws fis stop-experiment).`);

  // 2. The experiment, followed until it ends.
  const began = Date.now();
  const record: Record<string, unknown> & { env: string; scenario: string; startedAt: string } = {
    env: ctx.env,
    scenario: scenarioName,
    template: { id: templateId, name: templateName },
    ...(typeof cache === "object" ? { cache: { zone: cache.zone, affectedShards: cache.affected, shards: cache.shards } } : {}),
    startedAt: new Date(began).toISOString(),
  };
  const transitions: { at: string; elapsed: number; what: string }[] = [];
  const note = (what: string) => {
    const elapsed = Math.round((Date.now() - began) / 1000);
    transitions.push({ at: new Date().toISOString(), elapsed, what });
    say(`  +${duration(elapsed).padEnd(8)} ${what}`);
  };
  let id: string | undefined;
  let experiment: Experiment;
  try {
    const started = await awsJson<{ experiment?: Experiment }>(t, region, [
      "fis",
      "start-experiment",
      "--experiment-template-id",
      templateId,
      "--tags",
      `Name=${templateName}`,
    ]);
    id = started.experiment?.id;
    if (!id) throw new StepFailed(`aws fis start-experiment answered without an experiment id: ${JSON.stringify(started).slice(0, 200)}`);
    record.experimentId = id;
    experiment = await follow(t, region, id, note);
  } catch (e) {
    if (!(e instanceof StepFailed) || !e.signal) throw e;
    const stop = id
      ? stopExperiment(t, region, id)
      : `Interrupted while the experiment was being started: it may have started. Look: aws fis list-experiments --region ${region}; stop it with aws fis stop-experiment --id <id> --region ${region}.`;
    const file = writeDrill(i.outdir, { ...record, result: "interrupted", transitions, stop });
    throw new StepFailed(`Drill ${scenarioName} of ${ctx.env} interrupted (${e.signal}). ${stop}\nRecord: ${shownPath(file)}`, e.signal);
  }
  const start = experiment.startTime ? new Date(experiment.startTime).toISOString() : (record.startedAt as string);
  const d: DrillRun = { ctx, t, region, start, stopAlarms, shards: typeof cache === "object" ? (cache.affected?.length ?? 1) : undefined };
  const status = experiment.state?.status ?? "unknown";
  record.experiment = { id, status, reason: experiment.state?.reason ?? null, startTime: start, endTime: experiment.endTime ?? null };
  record.transitions = transitions;

  // 3. What the guide promises, measured.
  const lines: string[] = [`  experiment       ${id} ${status}${experiment.state?.reason ? ` (${experiment.state.reason})` : ""}`];
  let verdict: string;
  let passed = false;
  let byCondition = false;
  let inconclusive = false;
  if (status === "completed") {
    let recovery: Recovery;
    try {
      recovery = await recover(d, scenario, note);
    } catch (e) {
      if (!(e instanceof StepFailed) || !e.signal) throw e;
      const file = writeDrill(i.outdir, { ...record, result: "interrupted while measuring" });
      throw new StepFailed(
        `Drill ${scenarioName} of ${ctx.env} interrupted (${e.signal}) while waiting for the ${scenario.component} to recover: experiment ${id} had completed, so nothing was stopped; the time to recover was not measured (${scenario.measuredBy}).\nRecord: ${shownPath(file)}`,
        e.signal,
      );
    }
    const seconds = recovery.at ? Math.max(0, Math.round((Date.parse(recovery.at) - Date.parse(start)) / 1000)) : 0;
    const within = seconds <= scenario.rtoMinutes * 60;
    inconclusive = recovery.inconclusive !== undefined;
    passed = recovery.recovered && within && !inconclusive;
    lines.push(...recovery.lines.map((l, n) => `  ${(n === 0 ? scenario.component : "").padEnd(17)}${l}`));
    if (shardsLine) lines.push(`  shards affected  ${shardsLine}`);
    lines.push(
      recovery.inconclusive
        ? `  time to recover  not measured: ${recovery.inconclusive} — guide's RTO < ${scenario.rtoMinutes} min: neither met nor missed`
        : recovery.recovered
          ? `  time to recover  ${recovery.at ? `${duration(seconds)} (from the experiment's start at ${clock(start)})` : "0s: no outage seen"} — guide's RTO < ${scenario.rtoMinutes} min: ${within ? "met" : "MISSED"}`
          : `  time to recover  NOT RECOVERED after ${duration(Math.round((Date.now() - Date.parse(start)) / 1000))} — guide's RTO < ${scenario.rtoMinutes} min: MISSED`,
    );
    record.recovery = {
      recovered: recovery.recovered,
      at: recovery.at ?? null,
      seconds: recovery.recovered && !inconclusive ? seconds : null,
      rtoMinutes: scenario.rtoMinutes,
      met: inconclusive ? null : passed,
      record: recovery.lines,
    };
    verdict = inconclusive
      ? `INCONCLUSIVE (not PASSED): ${recovery.inconclusive}, so the time to recover was not measured; the failed requests below are all this drill shows`
      : passed
        ? "PASSED"
        : "FAILED: the component did not recover within the guide's RTO";
  } else if (status === "stopped") {
    const firing = stopAlarms.length > 0 ? await alarming(t, stopAlarms) : [];
    lines.push(`  stop condition   ${firing.length > 0 ? `${firing.join(", ")} in ALARM` : "the alarms are back to OK by now"}`);
    record.stopCondition = { alarms: firing };
    const reason = experiment.state?.reason ?? "no reason given";
    // FIS says "stop condition" in its reason; a stop by someone else (the console, the CLI) says otherwise.
    byCondition = firing.length > 0 || /stop condition/i.test(reason);
    verdict = byCondition
      ? `STOPPED BY ITS STOP CONDITION: FIS stopped the experiment (${reason}). Users saw errors beyond the alarms' thresholds during the drill: the guide's promise was not kept`
      : `STOPPED, not by this command nor by a stop condition (${reason}): someone stopped experiment ${id}; nothing was measured`;
  } else {
    verdict = `FAILED: the experiment ended ${status} (${experiment.state?.reason ?? "no reason given"}); nothing was measured. Read it: aws fis get-experiment --id ${id} --region ${region}`;
  }
  const requests = await failedRequests(d, albSuffix, new Date().toISOString());
  lines.push(`  requests failed  ${requests.text}`);
  record.requests = "failed" in requests ? { failed: requests.failed, total: requests.total } : null;
  record.result = passed
    ? "passed"
    : inconclusive
      ? "inconclusive"
      : byCondition
        ? "stopped by its stop condition"
        : status === "completed"
          ? "not recovered within the RTO"
          : status;
  const file = writeDrill(i.outdir, record);
  lines.push(`  record           ${shownPath(file)}`);
  const report = [`Drill ${scenarioName} of ${ctx.env}: ${verdict}.`, ...lines].join("\n");
  if (!passed && !inconclusive) throw new StepFailed(report);
  say(`\n${report}`);
}

/** `aws fis get-experiment` until the experiment ends; each change of its state or an action's is noted. */
async function follow(t: Target, region: string, id: string, note: (what: string) => void): Promise<Experiment> {
  const seen = new Map<string, string>();
  for (;;) {
    const experiment = (await awsJson<{ experiment?: Experiment }>(t, region, ["fis", "get-experiment", "--id", id])).experiment ?? {};
    const status = experiment.state?.status ?? "unknown";
    const changes: [string, string][] = [
      ["", `${status}${experiment.state?.reason ? `: ${experiment.state.reason}` : ""}`],
      ...Object.entries(experiment.actions ?? {}).map(([name, a]): [string, string] => [name, `${a.state?.status ?? "?"}`]),
    ];
    for (const [key, state] of changes) {
      if (seen.get(key) === state) continue;
      seen.set(key, state);
      note(key === "" ? `experiment ${state}` : `action ${key} (${experiment.actions?.[key]?.actionId ?? "?"}): ${state}`);
    }
    if (ENDED.has(status)) return experiment;
    await pause(pollSeconds());
  }
}

/** Reads the component's recovery until it has recovered or its RTO has passed since the experiment's start. */
async function recover(d: DrillRun, scenario: Scenario, note: (what: string) => void): Promise<Recovery> {
  const deadline = Date.parse(d.start) + scenario.rtoMinutes * 60_000;
  for (;;) {
    const r = await scenario.probe(d);
    if (r.recovered || Date.now() + pollSeconds() * 1000 > deadline) return r;
    note(`${scenario.component} not recovered yet: ${r.lines[r.lines.length - 1] ?? "no record yet"}`);
    await pause(pollSeconds());
  }
}
