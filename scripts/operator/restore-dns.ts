/**
 * The DNS switch that ends `make restore` (scripts/operator/restore.ts), and what `make
 * restore-teardown` reads before it destroys anything: the API's public name, the alias A record
 * `<domain>` in the environment's hosted zone (made by the primary's loadbalancer phase), and whether
 * it points at the DR load balancer.
 *
 * The switch waits until the DR environment answers: the DR load balancer's address (`dig +short`),
 * then the gateway's health path through it, as the domain (`curl --resolve`, so TLS checks the DR
 * certificate for the domain). Only then is the current record read and kept as the change batch that
 * puts it back (`failback-dns.json`), and the switch (`failover-dns.json`, the file the guide's command
 * names) applied and waited for. Nothing else in the primary region is touched.
 *
 * Route 53 is a global service: its API has one endpoint, whose requests are signed for us-east-1
 * whatever region the profile or AWS_REGION names. Every route53 call here still says `--region
 * us-east-1`, so that the call is the same on every machine and no call names the lost region (in a
 * log, that would read as if the switch depended on it).
 */
import * as fs from "fs";
import * as path from "path";
import { CATALOG } from "../../src/config/services";
import { StepFailed, run, say, shownPath } from "./process";

export const ROUTE53_REGION = "us-east-1";
/** The gateway's health path (src/config/services.ts), which the load balancer routes to it. */
export const GATEWAY_HEALTH_PATH = CATALOG.find((s) => s.exposure === "alb")!.healthPath;

/** The change batches, in `<outdir>/restore/<env>/`: a staging drill and a prod restore keep their own. */
export const dnsFiles = (outdir: string, env: string) => ({
  failover: path.join(outdir, "restore", env, "failover-dns.json"),
  failback: path.join(outdir, "restore", env, "failback-dns.json"),
});

/** A load balancer an alias record can point at: its DNS name and its hosted zone. */
export interface AliasTarget {
  readonly dnsName: string;
  readonly zoneId: string;
}

/** Where the API's name lives: the domain, its hosted zone, and the AWS CLI. */
export interface ApiName {
  readonly domain: string;
  readonly zoneId: string;
  readonly aws: string;
}

/** One record set as Route 53 lists it (the fields read here; the rest is kept as it is). */
interface RecordSet {
  readonly Name: string;
  readonly Type: string;
  readonly AliasTarget?: { readonly DNSName?: string; readonly HostedZoneId?: string };
  readonly [field: string]: unknown;
}

/** A DNS name as Route 53 and the load balancer compare: lower case, no final dot, no `dualstack.`. */
const plainName = (name: string) =>
  name
    .toLowerCase()
    .replace(/\.$/, "")
    .replace(/^dualstack\./, "");

/** A route53 call: its standard output, parsed when JSON is asked for. */
async function route53(api: ApiName, args: string[]): Promise<string> {
  return (await run(api.aws, ["route53", ...args, "--region", ROUTE53_REGION], { capture: true, keepStderr: true })).stdout;
}

/** The domain's A record as it is now (`list-resource-record-sets` from it), or undefined when there is none. */
export async function currentRecord(api: ApiName): Promise<RecordSet | undefined> {
  const answer = await route53(api, [
    "list-resource-record-sets",
    "--hosted-zone-id",
    api.zoneId,
    "--start-record-name",
    api.domain,
    "--start-record-type",
    "A",
    "--max-items",
    "1",
    "--output",
    "json",
  ]);
  const sets = (JSON.parse(answer || "{}") as { ResourceRecordSets?: RecordSet[] }).ResourceRecordSets ?? [];
  // The listing starts at the name: without a record of its own, it shows the next one.
  return sets.find((r) => plainName(r.Name) === plainName(api.domain) && r.Type === "A");
}

/** Whether `record` is an alias to `target` (the DR load balancer). */
export const pointsAt = (record: RecordSet | undefined, dnsName: string): boolean =>
  record?.AliasTarget?.DNSName !== undefined && plainName(record.AliasTarget.DNSName) === plainName(dnsName);

/** The change batch that points `domain` at `target`. */
const failoverBatch = (api: ApiName, target: AliasTarget, why: string) => ({
  Comment: why,
  Changes: [
    {
      Action: "UPSERT",
      ResourceRecordSet: { Name: api.domain, Type: "A", AliasTarget: { HostedZoneId: target.zoneId, DNSName: target.dnsName, EvaluateTargetHealth: true } },
    },
  ],
});

const writeJson = (file: string, value: unknown) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
};

/** The command that applies a change batch by hand, as the guide writes it. */
export const changeCommand = (api: ApiName, file: string) =>
  `aws route53 change-resource-record-sets --hosted-zone-id ${api.zoneId} --change-batch file://${shownPath(file)} --region ${ROUTE53_REGION}`;

/** Writes failover-dns.json (before the health check: a switch by hand needs it whatever happens next). */
export function writeFailover(outdir: string, env: string, api: ApiName, target: AliasTarget, why: string): string {
  const file = dnsFiles(outdir, env).failover;
  writeJson(file, failoverBatch(api, target, why));
  return file;
}

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** How long the DR environment is given to answer (RESTORE_HEALTH_MINUTES, default 15), and the pause between tries (RESTORE_HEALTH_POLL_SECONDS, default 15). */
export const healthWait = () => ({
  minutes: Math.max(0, Number(process.env.RESTORE_HEALTH_MINUTES ?? "15") || 0),
  poll: Math.max(0, Number(process.env.RESTORE_HEALTH_POLL_SECONDS ?? "15") || 0),
});

/** One try: the load balancer's first IPv4 address, then the health path through it; why not, when it does not answer. */
async function tryHealth(api: ApiName, target: AliasTarget): Promise<{ ip: string } | { why: string }> {
  const stepFailed = (e: unknown) => {
    if (!(e instanceof StepFailed) || e.signal) throw e;
    return e.stderr.trim().split("\n").pop() || e.message;
  };
  let ip: string | undefined;
  try {
    ip = (await run("dig", ["+short", target.dnsName], { capture: true })).stdout
      .split("\n")
      .map((l) => l.trim())
      .find((l) => IPV4.test(l));
  } catch (e) {
    return { why: `dig +short ${target.dnsName} failed: ${stepFailed(e)}` };
  }
  if (!ip) return { why: `${target.dnsName} has no address yet (dig +short answered none)` };
  const url = `https://${api.domain}${GATEWAY_HEALTH_PATH}`;
  try {
    await run("curl", ["-fsS", "--max-time", "10", "--resolve", `${api.domain}:443:${ip}`, url], { capture: true, keepStderr: true });
    return { ip };
  } catch (e) {
    return { why: `${url} through ${ip}: ${stepFailed(e)}` };
  }
}

/** Tries until the DR environment answers or the wait is over: its address, or the last reason it did not answer. */
export async function waitUntilAnswering(api: ApiName, target: AliasTarget): Promise<{ ip: string } | { why: string }> {
  const { minutes, poll } = healthWait();
  const until = Date.now() + minutes * 60_000;
  for (let attempt = 1; ; attempt++) {
    const answer = await tryHealth(api, target);
    if ("ip" in answer) {
      say(`The DR environment answers: https://${api.domain}${GATEWAY_HEALTH_PATH} through ${target.dnsName} (${answer.ip}), try ${attempt}.`);
      return answer;
    }
    if (Date.now() + poll * 1000 > until) return answer;
    say(`  try ${attempt}: ${answer.why}; again in ${poll} s (until ${new Date(until).toISOString().slice(11, 19)} UTC)`);
    await sleep(poll);
  }
}

/**
 * The switch, once the DR environment answers: the record as it is now goes to failback-dns.json (unless
 * it already points at the DR load balancer: then nothing is changed, and an earlier failback file is
 * kept), then failover-dns.json is applied. Returns the change id (waitForChange waits for it), or
 * undefined when there was nothing to change.
 */
export async function switchDns(outdir: string, env: string, api: ApiName, target: AliasTarget, why: string): Promise<string | undefined> {
  const files = dnsFiles(outdir, env);
  const record = await currentRecord(api);
  if (pointsAt(record, target.dnsName)) {
    say(`${api.domain} already points at the DR load balancer ${target.dnsName}: nothing to change.`);
    return undefined;
  }
  // The way back: the record as it was, or (there was none) the removal of the one the switch makes.
  const back = record
    ? { Action: "UPSERT", ResourceRecordSet: record }
    : { Action: "DELETE", ResourceRecordSet: failoverBatch(api, target, why).Changes[0]!.ResourceRecordSet };
  writeJson(files.failback, {
    Comment: `Failback of ${api.domain}: the record as it was before make restore switched it (${new Date().toISOString().slice(0, 19)}Z)`,
    Changes: [back],
  });
  say(`The record as it was is kept in ${shownPath(files.failback)} (failback: docs/disaster-recovery.md).`);
  const answer = await route53(api, [
    "change-resource-record-sets",
    "--hosted-zone-id",
    api.zoneId,
    "--change-batch",
    `file://${files.failover}`,
    "--output",
    "json",
  ]);
  const id = (JSON.parse(answer || "{}") as { ChangeInfo?: { Id?: string } }).ChangeInfo?.Id;
  if (!id) throw new StepFailed(`aws route53 change-resource-record-sets answered without a ChangeInfo.Id: ${answer.slice(0, 200)}`);
  say(`Route 53 change ${id}: ${api.domain} to ${target.dnsName}; waiting until every Route 53 server has it...`);
  return id;
}

/** Waits until Route 53 reports the change INSYNC (the CLI's waiter: every 30 s, up to an hour). */
export async function waitForChange(api: ApiName, id: string): Promise<void> {
  await route53(api, ["wait", "resource-record-sets-changed", "--id", id]);
}
