// make cache-flush with the recording stand-ins (terraform, aws) and the fixture's services stack: what it
// reads, the exact calls in order, the task's command and its report; and the script the task runs, run
// here by the system's sh against a stand-in redis-cli that plays a three-shard cluster.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CACHE_FLUSH_SCRIPT } from "../scripts/operator/cache-flush";
import { tempDir } from "./support/config";
import { operatorHarness, refusedThroughMake } from "./support/standins-operator";

const h = operatorHarness();
const REGION = "eu-west-1";
const BASE = { FAKE_SERVICES: "1" };
const TASK_DEF = (env: string) => `arn:aws:ecs:${REGION}:444455556666:task-definition/accessweaver-${env}-cache-client:2`;
const TASK_ID = "fedcba9876543210fedcba9876543210";
const TASK = (env: string) => `arn:aws:ecs:${REGION}:444455556666:task/accessweaver-${env}-cluster/${TASK_ID}`;
const LOG_GROUP = (env: string) => `/ecs/accessweaver-${env}/cache-client`;
const NETWORK = '{"awsvpcConfiguration":{"subnets":["subnet-0a","subnet-0b"],"securityGroups":["sg-0services"],"assignPublicIp":"DISABLED"}}';
/** The aws calls, run-task's --overrides (the script: asserted apart, parsed) written <overrides>. */
const awsCalls = (log: string[]) =>
  log.filter((l) => l.startsWith("aws ")).map((l) => l.replace(/ --overrides .* --started-by /, " --overrides <overrides> --started-by "));

/** The services phase applied with the cache client (`omit`: outputs it lacks). */
function applied(env: string, omit: string[] = []): void {
  const services: Record<string, unknown> = {
    cluster_name: `accessweaver-${env}-cluster`,
    cache_client_task_definition_arn: TASK_DEF(env),
    cache_client_subnet_ids: ["subnet-0a", "subnet-0b"],
    cache_client_security_group_id: "sg-0services",
    cache_client_log_group: LOG_GROUP(env),
  };
  for (const o of omit) delete services[o];
  h.setOutputs(env, "services", JSON.stringify(Object.fromEntries(Object.entries(services).map(([k, value]) => [k, { value }]))));
}

/** The task definition as the services phase writes it (`change`: to break it). */
function taskDefinition(env: string, change: Record<string, unknown> = {}): void {
  h.answerAws(`ecs describe-task-definition --task-definition ${TASK_DEF(env)}`, {
    taskDefinition: {
      containerDefinitions: [
        {
          name: "cache-client",
          command: ["redis-cli", "--tls", "-c", "-h", `clustercfg.accessweaver-${env}-redis.abc123.euw1.cache.amazonaws.com`, "-p", "6379", "PING"],
          environment: [
            { name: "REDIS_HOST", value: `clustercfg.accessweaver-${env}-redis.abc123.euw1.cache.amazonaws.com` },
            { name: "REDIS_PORT", value: "6379" },
          ],
          secrets: [{ name: "REDISCLI_AUTH", valueFrom: `arn:aws:secretsmanager:${REGION}:444455556666:secret:accessweaver/${env}/redis:auth_token::` }],
          logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": LOG_GROUP(env), "awslogs-region": REGION, "awslogs-stream-prefix": "ecs" } },
          ...change,
        },
      ],
    },
  });
}

/** The task started, stopped with `exitCode`, and what it printed. */
function task(env: string, exitCode: number, printed: string[]): void {
  h.answerAws("ecs run-task", { tasks: [{ taskArn: TASK(env), lastStatus: "PROVISIONING" }], failures: [] });
  h.answerAws("ecs wait tasks-stopped", "");
  h.answerAws("ecs describe-tasks", {
    tasks: [{ taskArn: TASK(env), lastStatus: "STOPPED", stopCode: "EssentialContainerExited", containers: [{ name: "cache-client", exitCode }] }],
  });
  h.answerAws("logs get-log-events", { events: printed.map((message, n) => ({ timestamp: n, message })) });
}

/** The services phase applied, its task as written, and a run that stopped with `exitCode` after printing `printed`. */
function ready(env: string, exitCode: number, printed: string[]): void {
  applied(env);
  taskDefinition(env);
  task(env, exitCode, printed);
}
const flush = (env: string, pattern: string, more: NodeJS.ProcessEnv = {}) => h.multi(["cache-flush", env], { ...BASE, PATTERN: pattern, ...more });

/** The run-task call's --overrides, parsed. */
const overridesOf = () => {
  const call = h.s.calls().find((c) => c[1] === "ecs" && c[2] === "run-task")!;
  return JSON.parse(call[call.indexOf("--overrides") + 1]!);
};
const flushing = (pattern: string, all: "0" | "1") => ({
  containerOverrides: [
    {
      name: "cache-client",
      command: ["sh", "-c", CACHE_FLUSH_SCRIPT],
      environment: [
        { name: "FLUSH_PATTERN", value: pattern },
        { name: "FLUSH_ALL", value: all },
      ],
    },
  ],
});
const describeCall = (env: string) => `aws ecs describe-task-definition --task-definition ${TASK_DEF(env)} --output json --region ${REGION}`;
/** Every call of a run that started the task. */
const calls = (env: string) => [
  describeCall(env),
  `aws ecs run-task --cluster accessweaver-${env}-cluster --task-definition ${TASK_DEF(env)} --launch-type FARGATE --count 1 --network-configuration '${NETWORK}' --overrides <overrides> --started-by make-cache-flush --propagate-tags TASK_DEFINITION --output json --region ${REGION}`,
  `aws ecs wait tasks-stopped --cluster accessweaver-${env}-cluster --tasks ${TASK(env)} --region ${REGION}`,
  `aws ecs describe-tasks --cluster accessweaver-${env}-cluster --tasks ${TASK(env)} --output json --region ${REGION}`,
  `aws logs get-log-events --log-group-name ${LOG_GROUP(env)} --log-stream-name ecs/cache-client/${TASK_ID} --start-from-head --output json --region ${REGION}`,
];

describe("make cache-flush", () => {
  it("reads the cache client from the services phase, runs it with the script and the pattern as data, waits, and reports its exit code and output", async () => {
    ready("staging", 0, ["10.0.1.10:6379: 3 key(s) deleted of 3 matching", "total: 3 key(s) deleted on 3 primary node(s)"]);
    const r = await flush("staging", "aw:pdp:decision:tenant-42:*");
    expect(r.status).toBe(0);
    expect(r.log.filter((l) => l.startsWith("terraform "))).toEqual(h.outputReads("staging", ["services"]));
    expect(overridesOf()).toEqual(flushing("aw:pdp:decision:tenant-42:*", "0"));
    expect(awsCalls(r.log)).toEqual(calls("staging"));
    expect(r.stdout).toContain(
      `make cache-flush ENV=staging PATTERN='aw:pdp:decision:tenant-42:*': runs the cache client task ${TASK_DEF("staging")} in accessweaver-staging-cluster: redis-cli (TLS, AUTH) lists the primaries of accessweaver-staging-redis, and on each one scans the keys matching aw:pdp:decision:tenant-42:*`,
    );
    expect(r.stdout).toContain(
      `Task ${TASK_ID} exited 0. What it printed:\n  10.0.1.10:6379: 3 key(s) deleted of 3 matching\n  total: 3 key(s) deleted on 3 primary node(s)`,
    );
  });

  it("fails with the client's exit code, what it means, and what it printed", async () => {
    ready("staging", 2, ["cannot reach clustercfg:6379 (TLS, AUTH or the network): nothing deleted"]);
    const r = await flush("staging", "aw:*");
    expect(r.status).toBe(2);
    expect(awsCalls(r.log)).toEqual(calls("staging"));
    expect(r.stdout).not.toContain("exited 0");
    expect(r.stderr).toContain(
      `make cache-flush ENV=staging PATTERN='aw:*': the cache client exited 2 in task ${TASK_ID}: redis-cli could not reach the cluster (TLS, the AUTH token, or the network from the task's subnets): nothing was deleted. What it printed:\n  cannot reach clustercfg:6379`,
    );
  });

  it("reports exit 3 as a partial flush, naming the primaries the task skipped", async () => {
    const printed = [
      "primary b2 10.0.2.20:6379@1122 skipped: master,fail",
      "10.0.1.10:6379: 3 key(s) deleted of 3 matching",
      "node3.abc123.euw1.cache.amazonaws.com:6379: 2 key(s) deleted of 2 matching",
      "total: 5 key(s) deleted on 2 primary node(s)",
    ];
    ready("staging", 3, printed);
    const r = await flush("staging", "aw:*");
    expect(r.status).not.toBe(0);
    expect(awsCalls(r.log)).toEqual(calls("staging"));
    expect(r.stdout).not.toContain("exited 0");
    expect(r.stderr).toContain(
      `make cache-flush ENV=staging PATTERN='aw:*': PARTIAL FLUSH (primary b2 10.0.2.20:6379@1122 skipped: master,fail): the cache client exited 3 in task ${TASK_ID}: a primary was skipped (CLUSTER NODES flags it fail, fail?, handshake or noaddr) or could not be scanned or flushed: the keys of the others are deleted, not all of its own; run it again once the cluster is healthy. What it printed:\n${printed.map((l) => `  ${l}`).join("\n")}`,
    );
  });

  it("fails without waiting when ECS does not start the task", async () => {
    applied("staging");
    taskDefinition("staging");
    h.answerAws("ecs run-task", { tasks: [], failures: [{ reason: "RESOURCE:ENI", detail: "no ENI available" }] });
    const r = await flush("staging", "aw:*");
    expect(r.status).toBe(2);
    expect(awsCalls(r.log)).toEqual(calls("staging").slice(0, 2));
    expect(r.stderr).toContain("ECS did not start the cache client task (RESOURCE:ENI: no ENI available). Nothing was deleted.");
  });

  it("every key (PATTERN='*') in prod needs CONFIRM=<the replication group>; then FLUSHALL ASYNC on each primary", async () => {
    applied("prod");
    const refused = await flush("prod", "*");
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(
      "Deleting every key of accessweaver-prod-redis in prod is refused unless CONFIRM names exactly what it acts on. Nothing was started. To go ahead: make cache-flush ENV=prod PATTERN='*' CONFIRM=accessweaver-prod-redis",
    );
    expect(refused.log).toEqual([]);
    taskDefinition("prod");
    task("prod", 0, ["total: 120000 key(s) deleted on 3 primary node(s)"]);
    const r = await flush("prod", "*", { CONFIRM: "accessweaver-prod-redis" });
    expect(r.status).toBe(0);
    expect(overridesOf()).toEqual(flushing("*", "1"));
    expect(r.stdout).toContain("runs FLUSHALL ASYNC on each: EVERY key is deleted.");
  });

  it("a pattern that starts with a wildcard in prod needs CONFIRM too: it may match nearly every key", async () => {
    applied("prod");
    for (const pattern of ["*:*", "?*", "[a-z]*"]) {
      const refused = await flush("prod", pattern);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain(`(a pattern that starts with a wildcard) in prod is refused unless CONFIRM names exactly what it acts on.`);
      expect(refused.log).toEqual([]);
    }
  });

  it("a narrower pattern in prod needs no CONFIRM", async () => {
    ready("prod", 0, ["total: 2 key(s) deleted on 3 primary node(s)"]);
    const r = await flush("prod", "aw:pdp:decision:tenant-42:*");
    expect(r.status).toBe(0);
    expect(overridesOf()).toEqual(flushing("aw:pdp:decision:tenant-42:*", "0"));
  });

  describe("refuses, with nothing deleted", () => {
    it("when the services phase was applied before the cache client existed", async () => {
      applied("staging", ["cache_client_task_definition_arn", "cache_client_subnet_ids"]);
      const r = await flush("staging", "aw:*");
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(
        "make cache-flush ENV=staging PATTERN='aw:*': the state of accessweaver-staging-services has no cache_client_task_definition_arn, cache_client_subnet_ids: the services phase is not applied, or was applied before it published them.",
      );
      expect(awsCalls(r.log)).toEqual([]);
    });

    it.each([
      ["no REDISCLI_AUTH", { secrets: [] }, "no REDISCLI_AUTH"],
      ["an entry point of its own", { entryPoint: ["redis-cli", "--tls"] }, 'its entry point ["redis-cli","--tls"] would run the script as its arguments'],
    ])("when the task has %s", async (_what, change, found) => {
      applied("staging");
      taskDefinition("staging", change);
      const r = await flush("staging", "aw:*");
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(
        `The cache client task ${TASK_DEF("staging")} is not the one make cache-flush drives: it needs a container cache-client without an entry point of its own, given REDIS_HOST, REDIS_PORT, REDISCLI_AUTH (found: ${found}).`,
      );
      expect(awsCalls(r.log)).toEqual([describeCall("staging")]);
    });
  });

  refusedThroughMake(h, [
    [["cache-flush", "ENV=staging"], "make cache-flush needs PATTERN: the keys to delete"],
    [["cache-flush", "ENV=prod", "PATTERN="], "PATTERN was left out or empty: an empty PATTERN is never read as every key."],
    [
      ["cache-flush", "ENV=prod", "PATTERN=aw:*\n$(touch /tmp/aw-cache-flush-ran)"],
      'PATTERN "aw:*\\n$(touch /tmp/aw-cache-flush-ran)" holds a control character',
    ],
    [["cache-flush", "ENV=prod", "PATTERN=aw:*", "PHASE=cache"], 'make cache-flush reads the phases it needs itself: leave PHASE out (it was "cache").'],
  ]);
});

describe("the cache client's script (sh, against a stand-in redis-cli playing three shards)", () => {
  /**
   * redis-cli as the script calls it: CLUSTER NODES (three primaries, one failed, a replica; the third
   * announces a host name; FAKE_B2_FLAGS adds flags to the second), SCAN in pages, DBSIZE, FLUSHALL, and
   * UNLINK commands read from stdin (one reply each, none for a key named in FAKE_UNLINK_ERROR). Each call
   * and command read is logged.
   */
  const REDIS_CLI = String.raw`#!/usr/bin/env bash
host= port= n=0 cmd= c1= c2=
while (($#)); do
  case $1 in
    --tls | -c) shift ;;
    -h) host=$2; shift 2 ;;
    -p) port=$2; shift 2 ;;
    *) n=$((n + 1)); if ((n == 1)); then c1=$1; cmd=$1; else cmd="$cmd $1"; fi; if ((n == 2)); then c2=$1; fi; shift ;;
  esac
done
[[ -n $REDISCLI_AUTH ]] || { echo "NOAUTH Authentication required."; exit 0; }
if ((n == 0)); then
  while IFS= read -r line; do
    printf '%s %s\n' "$host:$port" "$line" >>"$FAKE_LOG"
    if [[ -n $FAKE_UNLINK_ERROR && $line == *"$FAKE_UNLINK_ERROR"* ]]; then echo "ERR the stand-in refuses" >&2; else echo 1; fi
  done
  exit 0
fi
printf '%s %s\n' "$host:$port" "$cmd" >>"$FAKE_LOG"
[[ -n $FAKE_DOWN ]] && { echo "Could not connect to Redis at $host:$port: Connection refused" >&2; exit 1; }
case "$c1 $c2" in
  "CLUSTER NODES")
    echo "a1 10.0.1.10:6379@1122 myself,master - 0 0 1 connected 0-5460"
    echo "b2 10.0.2.20:6379@1122 master$FAKE_B2_FLAGS - 0 0 2 connected 5461-10922"
    echo "c3 10.0.3.30:6379@1122,node3.abc123.euw1.cache.amazonaws.com master - 0 0 3 connected 10923-16383"
    echo "d4 10.0.1.11:6379@1122 slave a1 0 0 1 connected"
    echo "e5 10.0.9.99:6379@1122 master,fail - 0 0 4 disconnected"
    ;;
  "SCAN 0")
    case $host in
      10.0.1.10) printf '17\naw:pdp:1\naw:pdp:2\n' ;;
      10.0.2.20) printf '0\n' ;;
      *) printf '0\naw:pdp:"quoted" key\naw:pdp:back\\slash\n' ;;
    esac
    ;;
  "SCAN 17") printf '0\naw:pdp:3\n' ;;
  "DBSIZE ") echo 40 ;;
  "FLUSHALL ASYNC") echo OK ;;
  *) echo "ERR unknown command" >&2; exit 1 ;;
esac
`;

  function runScript(env: Record<string, string>): { status: number | null; stdout: string; calls: string[] } {
    const dir = tempDir("aw-redis-");
    fs.writeFileSync(path.join(dir, "redis-cli"), REDIS_CLI, { mode: 0o755 });
    const log = path.join(dir, "calls");
    fs.writeFileSync(log, "");
    const r = spawnSync("sh", ["-c", CACHE_FLUSH_SCRIPT], {
      env: {
        PATH: `${dir}${path.delimiter}${process.env.PATH}`,
        REDIS_HOST: "clustercfg.example",
        REDIS_PORT: "6379",
        REDISCLI_AUTH: "token",
        FLUSH_PATTERN: "aw:pdp:*",
        FLUSH_ALL: "0",
        FAKE_LOG: log,
        FAKE_UNLINK_ERROR: "",
        FAKE_DOWN: "",
        FAKE_B2_FLAGS: "",
        ...env,
      },
      encoding: "utf8",
    });
    return { status: r.status, stdout: r.stdout, calls: fs.readFileSync(log, "utf8").split("\n").filter(Boolean) };
  }

  it("scans each answering primary (its host name where it announces one) page by page, and UNLINKs each key found, quoted, one per command", () => {
    const r = runScript({});
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([
      "clustercfg.example:6379 CLUSTER NODES",
      "10.0.1.10:6379 SCAN 0 MATCH aw:pdp:* COUNT 1000",
      '10.0.1.10:6379 UNLINK "aw:pdp:1"',
      '10.0.1.10:6379 UNLINK "aw:pdp:2"',
      "10.0.1.10:6379 SCAN 17 MATCH aw:pdp:* COUNT 1000",
      '10.0.1.10:6379 UNLINK "aw:pdp:3"',
      "10.0.2.20:6379 SCAN 0 MATCH aw:pdp:* COUNT 1000",
      "node3.abc123.euw1.cache.amazonaws.com:6379 SCAN 0 MATCH aw:pdp:* COUNT 1000",
      'node3.abc123.euw1.cache.amazonaws.com:6379 UNLINK "aw:pdp:\\"quoted\\" key"',
      'node3.abc123.euw1.cache.amazonaws.com:6379 UNLINK "aw:pdp:back\\\\slash"',
    ]);
    expect(r.stdout).toBe(
      [
        "10.0.1.10:6379: 3 key(s) deleted of 3 matching",
        "10.0.2.20:6379: 0 key(s) deleted of 0 matching",
        "node3.abc123.euw1.cache.amazonaws.com:6379: 2 key(s) deleted of 2 matching",
        "total: 5 key(s) deleted on 3 primary node(s)",
        "",
      ].join("\n"),
    );
  });

  it("every key: FLUSHALL ASYNC on each primary, counting its keys first", () => {
    const r = runScript({ FLUSH_ALL: "1", FLUSH_PATTERN: "*" });
    expect(r.status).toBe(0);
    expect(r.calls.filter((c) => c.includes("FLUSHALL"))).toHaveLength(3);
    expect(r.stdout).toContain("total: 120 key(s) deleted on 3 primary node(s)");
  });

  it.each([",fail", ",fail?", ",handshake", ",noaddr"])(
    "reports a primary that owns slots but is flagged master%s as skipped, does the others, and exits 3",
    (flags) => {
      const r = runScript({ FAKE_B2_FLAGS: flags });
      expect(r.status).toBe(3);
      expect(r.calls.filter((c) => c.startsWith("10.0.2.20:"))).toEqual([]);
      expect(r.calls.filter((c) => c.includes("UNLINK"))).toHaveLength(5);
      expect(r.stdout).toBe(
        [
          `primary b2 10.0.2.20:6379@1122 skipped: master${flags}`,
          "10.0.1.10:6379: 3 key(s) deleted of 3 matching",
          "node3.abc123.euw1.cache.amazonaws.com:6379: 2 key(s) deleted of 2 matching",
          "total: 5 key(s) deleted on 2 primary node(s)",
          "",
        ].join("\n"),
      );
      const all = runScript({ FAKE_B2_FLAGS: flags, FLUSH_ALL: "1", FLUSH_PATTERN: "*" });
      expect(all.status).toBe(3);
      expect(all.calls.filter((c) => c.includes("FLUSHALL"))).toHaveLength(2);
      expect(all.stdout).toContain(`primary b2 10.0.2.20:6379@1122 skipped: master${flags}\n`);
    },
  );

  it("exits 4 when a key is not deleted, and 2 when the cluster does not answer or refuses the AUTH (nothing deleted)", () => {
    const partial = runScript({ FAKE_UNLINK_ERROR: "aw:pdp:2" });
    expect(partial.status).toBe(4);
    expect(partial.stdout).toContain("10.0.1.10:6379: 1 key(s) not deleted\n");
    expect(partial.stdout).toContain("10.0.1.10:6379: 2 key(s) deleted of 3 matching");
    const down = runScript({ FAKE_DOWN: "1" });
    expect(down.status).toBe(2);
    expect(down.stdout).toBe("cannot reach clustercfg.example:6379 (TLS, AUTH or the network): nothing deleted\n");
    const unauthenticated = runScript({ REDISCLI_AUTH: "" });
    expect(unauthenticated.status).toBe(2);
    expect(unauthenticated.stdout).toBe("CLUSTER NODES lists no primary that answers (it said: NOAUTH Authentication required.): nothing deleted\n");
  });
});
