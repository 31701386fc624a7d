/**
 * `make cache-flush ENV=<env> PATTERN=<pattern> [CONFIRM=<group>]`: deletes the Redis keys matching a
 * pattern, the guide's cache invalidation (docs/runbooks/cache-invalidation.md, docs/operations-checks.md).
 * Redis has no public endpoint and speaks TLS with AUTH in cluster mode, so the delete runs inside the VPC:
 * the services phase's one-off cache client task (src/constructs/cache-client.ts: the Redis image, the
 * endpoint in REDIS_HOST and REDIS_PORT, the AUTH token in REDISCLI_AUTH from the secret
 * accessweaver/<env>/redis), with a script as its command override (`sh -c`).
 *
 * In cluster mode SCAN sees one node's keys only, and one command may name keys of one hash slot only
 * (UNLINK a b is CROSSSLOT). So the script lists the primaries (CLUSTER NODES), and on each one SCANs the
 * pattern 1000 keys at a time and UNLINKs each key found, one per command, on one connection (`-c`
 * follows a slot that moved meanwhile). The scan is paged and UNLINK frees memory in the background, so
 * no primary is held for long (a server-side script would hold its primary for the whole scan).
 * PATTERN='*' alone (every key) is FLUSHALL ASYNC on each primary instead, and needs CONFIRM=<the
 * replication group> in prod. An empty PATTERN is refused everywhere (scripts/operator/inputs.ts): an
 * unset variable must never read as every key. The pattern reaches the script as data (FLUSH_PATTERN).
 *
 * Then, as make db-roles: `aws ecs run-task`, `aws ecs wait tasks-stopped`, `aws ecs describe-tasks` for
 * the container's exit code (CACHE_FLUSH_EXIT), and what the script printed (`aws logs get-log-events`).
 */
import { CACHE_CLIENT_CONTAINER, REDISCLI_AUTH } from "../../src/constructs/cache-client";
import { names } from "../../src/naming";
import { SERVICES_HANDLES } from "../../src/stacks/handles";
import { Inputs, commandLine } from "./inputs";
import { Refusal, StepFailed, run, say } from "./process";
import type { Target } from "./release";
import { awsJson, lacking, notApplied, phaseState, requireConfirm } from "./drill";
import { Context } from "./workflow";

/**
 * The script the task runs (sh, redis-cli, sed, awk, grep, wc: the Redis image has them). It reads
 * REDIS_HOST, REDIS_PORT and REDISCLI_AUTH from the task definition, FLUSH_PATTERN and FLUSH_ALL from the
 * override. Each primary gets a line `<host>:<port>: ...`, then a total. Exits as CACHE_FLUSH_EXIT says.
 * A primary that owns slots but is flagged fail, fail?, handshake or noaddr is not reachable as a primary:
 * it gets a line `primary <id> <address> skipped: <flags>` first, the others are done, and the exit is 3 (a
 * failed primary without slots is one whose replica took over: nothing of the keyspace is left on it).
 */
export const CACHE_FLUSH_SCRIPT = String.raw`set -u
status=0
worse() { if [ "$1" -gt "$status" ]; then status=$1; fi; }
cli() { ch=$1; cp=$2; shift 2; redis-cli --tls -h "$ch" -p "$cp" "$@" </dev/null; }
nodes=$(cli "$REDIS_HOST" "$REDIS_PORT" CLUSTER NODES) || { echo "cannot reach $REDIS_HOST:$REDIS_PORT (TLS, AUTH or the network): nothing deleted"; exit 2; }
primaries=$(printf '%s\n' "$nodes" | awk '$3 ~ /master/ && $3 !~ /fail|noaddr|handshake/ { split($2, a, ","); split(a[1], b, "@"); split(b[1], c, ":"); print (a[2] != "" ? a[2] : c[1]), c[2] }')
skipped=$(printf '%s\n' "$nodes" | awk '$3 ~ /master/ && $3 ~ /fail|noaddr|handshake/ { for (i = 9; i <= NF; i++) if ($i !~ /^\[/) { print "primary " $1 " " $2 " skipped: " $3; break } }')
[ -z "$skipped" ] || { printf '%s\n' "$skipped"; worse 3; }
[ -n "$primaries" ] || { echo "CLUSTER NODES lists no primary that answers (it said: $(printf '%s\n' "$nodes" | sed -n 1p)): nothing deleted"; exit 2; }
total=0
while read -r host port; do
  if [ "$FLUSH_ALL" = 1 ]; then
    keys=$(cli "$host" "$port" DBSIZE) && cli "$host" "$port" FLUSHALL ASYNC >/dev/null || { echo "$host:$port: FLUSHALL failed"; worse 3; continue; }
    echo "$host:$port: FLUSHALL ASYNC: $keys key(s) deleted"
    total=$((total + keys))
    continue
  fi
  cursor=0; deleted=0; matched=0
  while :; do
    reply=$(cli "$host" "$port" SCAN "$cursor" MATCH "$FLUSH_PATTERN" COUNT 1000) || { echo "$host:$port: SCAN failed"; worse 3; break; }
    cursor=$(printf '%s\n' "$reply" | sed -n 1p)
    batch=$(printf '%s\n' "$reply" | sed '1d;/^$/d')
    if [ -n "$batch" ]; then
      n=$(printf '%s\n' "$batch" | wc -l)
      replies=$(printf '%s\n' "$batch" | sed 's/[\\"]/\\&/g;s/^/UNLINK "/;s/$/"/' | redis-cli --tls -c -h "$host" -p "$port")
      answered=$(printf '%s\n' "$replies" | grep -c '^[01]$')
      matched=$((matched + n)); deleted=$((deleted + $(printf '%s\n' "$replies" | grep -c '^1$')))
      [ "$answered" -eq "$n" ] || { echo "$host:$port: $((n - answered)) key(s) not deleted"; worse 4; }
    fi
    case $cursor in '' | *[!0-9]*) echo "$host:$port: SCAN answered no cursor"; worse 3; break ;; esac
    [ "$cursor" = 0 ] && break
  done
  echo "$host:$port: $deleted key(s) deleted of $matched matching"
  total=$((total + deleted))
done <<EOF
$primaries
EOF
echo "total: $total key(s) deleted on $(printf '%s\n' "$primaries" | wc -l) primary node(s)"
exit $status`;

/** What the script's exit status says. */
const CACHE_FLUSH_EXIT: Readonly<Record<number, string>> = {
  2: "redis-cli could not reach the cluster (TLS, the AUTH token, or the network from the task's subnets): nothing was deleted",
  3: "a primary was skipped (CLUSTER NODES flags it fail, fail?, handshake or noaddr) or could not be scanned or flushed: the keys of the others are deleted, not all of its own; run it again once the cluster is healthy",
  4: "some keys could not be deleted (UNLINK answered an error): run it again",
};

/** The services phase's outputs the run needs. */
const NEEDED = [
  SERVICES_HANDLES.clusterName.output,
  SERVICES_HANDLES.cacheClientTaskDefinitionArn.output,
  SERVICES_HANDLES.cacheClientSubnetIds.output,
  SERVICES_HANDLES.cacheClientSecurityGroupId.output,
] as const;
/** What the script reads from the task definition. */
const FROM_TASK = ["REDIS_HOST", "REDIS_PORT", REDISCLI_AUTH];

interface ContainerDefinition {
  readonly name?: string;
  readonly entryPoint?: readonly string[];
  readonly environment?: readonly { readonly name?: string }[];
  readonly secrets?: readonly { readonly name?: string }[];
  readonly logConfiguration?: { readonly options?: Readonly<Record<string, string>> };
}
interface Task {
  readonly taskArn?: string;
  readonly lastStatus?: string;
  readonly stopCode?: string;
  readonly stoppedReason?: string;
  readonly containers?: readonly { readonly name?: string; readonly exitCode?: number | null; readonly reason?: string }[];
}

/** `--key value` for each entry, in order. */
const flags = (o: Readonly<Record<string, string>>) => Object.entries(o).flatMap(([k, v]) => [`--${k}`, v]);

/** The cache client's container, checked: no entry point of its own (the override's `sh -c` runs as given), and what the script reads. */
async function clientOf(t: Target, taskDefinition: string, env: string): Promise<ContainerDefinition> {
  const answer = await awsJson<{ taskDefinition?: { containerDefinitions?: ContainerDefinition[] } }>(t, t.config.settings.region, [
    "ecs",
    "describe-task-definition",
    ...flags({ "task-definition": taskDefinition }),
  ]);
  const container = answer.taskDefinition?.containerDefinitions?.find((c) => c.name === CACHE_CLIENT_CONTAINER);
  const given = new Set([...(container?.environment ?? []), ...(container?.secrets ?? [])].map((v) => v.name));
  const absent = FROM_TASK.filter((v) => !given.has(v));
  const entry = container?.entryPoint ?? [];
  if (!container || entry.length > 0 || absent.length > 0) {
    const found = !container
      ? "no such container"
      : [
          entry.length > 0 ? `its entry point ${JSON.stringify(entry)} would run the script as its arguments` : "",
          absent.length > 0 ? `no ${absent.join(", ")}` : "",
        ]
          .filter(Boolean)
          .join("; ");
    throw new Refusal(
      `The cache client task ${taskDefinition} is not the one make cache-flush drives: it needs a container ${CACHE_CLIENT_CONTAINER} without an entry point of its own, given ${FROM_TASK.join(", ")} (found: ${found}). Apply the services phase as this project writes it (make plan ENV=${env} PHASE=services). Nothing was deleted.`,
    );
  }
  return container;
}

/** `make cache-flush ENV=<env> PATTERN=<pattern>`. */
export async function cacheFlush(ctx: Context, t: Target, i: Inputs): Promise<void> {
  const pattern = i.pattern!;
  const everything = /^\*+$/.test(pattern);
  const region = t.config.settings.region;
  const group = names(ctx.env).redis;
  const again = commandLine(i);
  // A pattern that starts with a wildcard (`*:*`, `?*`, `[a-z]*`) may match nearly every key: prod asks as for everything.
  const wide = everything || /^[*?[]/.test(pattern);
  if (wide)
    requireConfirm(
      ctx.env,
      group,
      everything
        ? `Deleting every key of ${group}`
        : `Deleting the keys of ${group} that match ${JSON.stringify(pattern)} (a pattern that starts with a wildcard)`,
      commandLine(i, { ...process.env, CONFIRM: "" }),
    );

  // The task, its subnets and group (the services phase), and its container.
  const { stack, values } = await phaseState(ctx, "services");
  const missing = lacking(values, NEEDED);
  if (missing.length > 0) throw notApplied(ctx, stack, missing, again, "Nothing was deleted.");
  const [cluster, taskDefinition, subnets, securityGroup] = NEEDED.map((o) => values[o]) as [string, string, string[], string];
  const container = await clientOf(t, taskDefinition, ctx.env);
  say(
    everything
      ? `${again}: runs the cache client task ${taskDefinition} in ${cluster}: redis-cli (TLS, AUTH) lists the primaries of ${group} and runs FLUSHALL ASYNC on each: EVERY key is deleted.`
      : `${again}: runs the cache client task ${taskDefinition} in ${cluster}: redis-cli (TLS, AUTH) lists the primaries of ${group}, and on each one scans the keys matching ${pattern} (SCAN MATCH, 1000 at a time) and deletes each one found (UNLINK, one key per command: keys of different slots cannot share one in cluster mode).`,
  );
  say(`The services rebuild what they need from the database: expect more database reads until the cache is warm again.`);

  // The task: started, waited for, read.
  const network = { awsvpcConfiguration: { subnets, securityGroups: [securityGroup], assignPublicIp: "DISABLED" } };
  const environment = [
    { name: "FLUSH_PATTERN", value: pattern },
    { name: "FLUSH_ALL", value: everything ? "1" : "0" },
  ];
  const overrides = { containerOverrides: [{ name: container.name, command: ["sh", "-c", CACHE_FLUSH_SCRIPT], environment }] };
  let started: { tasks?: Task[]; failures?: { reason?: string; detail?: string }[] };
  try {
    started = await awsJson(t, region, [
      "ecs",
      "run-task",
      ...flags({
        cluster,
        "task-definition": taskDefinition,
        "launch-type": "FARGATE",
        count: "1",
        "network-configuration": JSON.stringify(network),
        overrides: JSON.stringify(overrides),
        "started-by": "make-cache-flush",
        "propagate-tags": "TASK_DEFINITION",
      }),
    ]);
  } catch (e) {
    if (!(e instanceof StepFailed) || e.signal) throw e;
    throw new StepFailed(`${e.message} Nothing was deleted.`, undefined, e.stderr);
  }
  const arn = started.tasks?.[0]?.taskArn;
  if (!arn) {
    const why = (started.failures ?? []).map((f) => [f.reason, f.detail].filter(Boolean).join(": ")).join("; ") || "no task and no failure in its answer";
    throw new StepFailed(`${again}: ECS did not start the cache client task (${why}). Nothing was deleted.`);
  }
  const id = arn.slice(arn.lastIndexOf("/") + 1);
  const options = container.logConfiguration?.options ?? {};
  const logGroup = options["awslogs-group"];
  const stream = `${options["awslogs-stream-prefix"] ?? "ecs"}/${container.name}/${id}`;
  const tail = logGroup ? ` Read it: aws logs tail ${logGroup} --log-stream-names ${stream} --since 1d --region ${region}.` : "";
  const stop = `aws ecs stop-task --cluster ${cluster} --task ${arn} --region ${region}`;
  say(`Task ${id} started; waiting until it stops (aws ecs wait tasks-stopped: up to 10 minutes)...`);
  let waited = true;
  try {
    await run(t.aws, ["ecs", "wait", "tasks-stopped", ...flags({ cluster, tasks: arn, region })]);
  } catch (e) {
    if (!(e instanceof StepFailed)) throw e;
    if (e.signal) throw new StepFailed(`Interrupted (${e.signal}): task ${id} goes on in ECS until it ends.${tail} Stop it: ${stop}`, e.signal);
    waited = false;
  }
  const task = (await awsJson<{ tasks?: Task[] }>(t, region, ["ecs", "describe-tasks", ...flags({ cluster, tasks: arn })])).tasks?.[0];
  if (task?.lastStatus !== "STOPPED") {
    throw new StepFailed(
      `${again}: task ${id} is ${task?.lastStatus ?? "unknown to ECS"}${waited ? "" : " after 10 minutes"}: a large pattern takes a while.${tail} Stop it if it hangs: ${stop}`,
    );
  }
  const code = task.containers?.find((c) => c.name === container.name)?.exitCode;
  if (code === undefined || code === null) {
    const reason = [task.stopCode, task.stoppedReason, task.containers?.[0]?.reason].filter(Boolean).join(": ") || "no reason given";
    throw new StepFailed(`${again}: task ${id} stopped before redis-cli ran (${reason}). Nothing was deleted.`);
  }
  const printed = await printedBy(t, region, logGroup, stream);
  if (code === 3) {
    // A partial flush: the lines naming the primaries not done lead the report.
    const undone = printed.split("\n").filter((l) => / skipped: |: (SCAN|FLUSHALL) failed$|: SCAN answered no cursor$/.test(l));
    const named = undone.length > 0 ? ` (${undone.map((l) => l.trim()).join("; ")})` : "";
    throw new StepFailed(`${again}: PARTIAL FLUSH${named}: the cache client exited 3 in task ${id}: ${CACHE_FLUSH_EXIT[3]}. What it printed:\n${printed}`);
  }
  if (code !== 0) {
    throw new StepFailed(
      `${again}: the cache client exited ${code} in task ${id}: ${CACHE_FLUSH_EXIT[code] ?? "an unexpected exit status"}. What it printed:\n${printed}`,
    );
  }
  say(`Task ${id} exited 0. What it printed:\n${printed}`);
}

/** The lines the task printed (its log stream), indented; or why they cannot be shown. */
async function printedBy(t: Target, region: string, group: string | undefined, stream: string): Promise<string> {
  if (!group) return "  (the task definition names no log group)";
  try {
    const answer = await awsJson<{ events?: { message?: string }[] }>(t, region, [
      "logs",
      "get-log-events",
      ...flags({ "log-group-name": group, "log-stream-name": stream }),
      "--start-from-head",
    ]);
    const lines = (answer.events ?? []).map((e) => `  ${e.message ?? ""}`);
    return lines.length > 0 ? lines.join("\n") : `  (nothing in ${group} ${stream})`;
  } catch (e) {
    if (!(e instanceof StepFailed) || e.signal) throw e;
    return `  (could not read ${group} ${stream}: ${e.message})`;
  }
}
