// make restore and make restore-teardown with the recording stand-ins (terraform, aws, dig, curl) and
// the fixture's synth (its recovery stack with FAKE_RECOVERY=1, the six DR stacks with dr: true): the
// checks and refusals, the phases in order with the workflow's protections, the record of a stopped
// restore and the re-run that continues it, the DNS switch only once the DR environment answers, and the
// teardown's guards.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT, tempDir } from "./support/config";
import { Run, operatorHarness } from "./support/standins-operator";

const h = operatorHarness(["dig", "curl"]);
const { multi, dir, planFile } = h;
const DR = "eu-central-1";
const ZONE = "Z04455667788ABCDEF";
const PHASES6 = ["network", "database", "cache", "loadbalancer", "services", "observability"];
const SERVICES = ["aw-api-gateway", "aw-pdp-service", "aw-pap-service", "aw-tenant-service", "aw-audit-service"];
const BACKUPS = `arn:aws:rds:${DR}:444455556666:auto-backup:ab-restore0test`;
const IP = "192.0.2.10";
/** The DR load balancer and the primary one, per environment. */
const drAlb = (env: string) => `accessweaver-${env}-alb-1234.${DR}.elb.amazonaws.com`;
const primaryAlb = (env: string) => `accessweaver-${env}-alb-9876.eu-west-1.elb.amazonaws.com`;
const domain = (env: string) => (env === "prod" ? "accessweaver.com" : `${env}.accessweaver.com`);
/** Every restore test: the fixture's recovery stack, and a short health-check wait. */
const BASE = { FAKE_RECOVERY: "1", RESTORE_HEALTH_MINUTES: "0.5", RESTORE_HEALTH_POLL_SECONDS: "0.05" };

/** An ISO 8601 UTC time `minutes` from now, to the second. */
const at = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString().replace(/\.\d+Z$/, "Z");
const EARLIEST = at(-7 * 24 * 60);
const LATEST = at(-5);

let scripted = 0;
/** Scripts the aws stand-in: each call starting with `match` gets `body` (stdout on exit 0, else stderr); the first file scripted wins. */
function scriptAws(match: string, body: unknown, exit = 0): void {
  const folder = path.join(h.s.stateDir, "aws", "scripted");
  fs.mkdirSync(folder, { recursive: true });
  const text = typeof body === "string" ? body : JSON.stringify(body);
  fs.writeFileSync(path.join(folder, `${String(scripted++).padStart(5, "0")}.answer`), `match: ${match}\nexit: ${exit}\n---\n${text}`);
}
const awsError = (code: string, operation: string, message: string) => `\nAn error occurred (${code}) when calling the ${operation} operation: ${message}\n`;
/** Scripts an AWS error (exit 254, the CLI's for a service error) for the calls starting with `match`. */
const failAws = (match: string, code: string, operation: string, message: string) => scriptAws(match, awsError(code, operation, message), 254);
const aliasTo = (env: string, alb: string) => ({
  ResourceRecordSets: [{ Name: `${domain(env)}.`, Type: "A", AliasTarget: { HostedZoneId: "Z32O12XQLNTSW2", DNSName: `${alb}.`, EvaluateTargetHealth: true } }],
  IsTruncated: true,
  MaxItems: "1",
});

/** A DR region ready to restore into: the recovery phase applied, its copies there, no DR environment yet, DNS on the primary. */
function drReady(env: string): void {
  h.setOutputs(
    env,
    "recovery",
    JSON.stringify({ database_replicated_backups_arn: { value: BACKUPS }, dr_region: { value: DR }, jwt_secret_name: { value: `accessweaver/${env}/jwt` } }),
  );
  h.setOutputs(env, "dr-loadbalancer", JSON.stringify({ alb_dns_name: { value: drAlb(env) }, alb_zone_id: { value: "Z215JYRZR1TBD5" } }));
  fs.mkdirSync(path.join(h.s.stateDir, "dig"), { recursive: true });
  fs.writeFileSync(path.join(h.s.stateDir, "dig", drAlb(env)), `${IP}\n198.51.100.7\n`);
  const window = { EarliestTime: EARLIEST, LatestTime: LATEST };
  scriptAws("rds describe-db-instance-automated-backups", { DBInstanceAutomatedBackups: [{ Status: "replicating", RestoreWindow: window }] });
  failAws("s3api head-object", "404", "HeadObject", "Not Found");
  scriptAws("ecr describe-images", { imageDetails: [{ imageTags: ["1.0.0"] }] });
  scriptAws("secretsmanager describe-secret", { Name: `accessweaver/${env}/jwt`, PrimaryRegion: "eu-west-1" });
  scriptAws("route53 list-resource-record-sets", aliasTo(env, primaryAlb(env)));
  scriptAws("route53 change-resource-record-sets", { ChangeInfo: { Id: "/change/C0RESTORE", Status: "PENDING" } });
  scriptAws("route53 wait resource-record-sets-changed", "");
}

const stack = (env: string, phase: string) => `accessweaver-${env}-${phase}`;
const tf = (env: string, phase: string, ...args: string[]) => `terraform ${dir(env, phase)} ${args.join(" ")}`;
const initOf = (env: string, phase: string) => tf(env, phase, "init", "-no-color", "-input=false");
const planOf = (env: string, phase: string) => tf(env, phase, "plan", "-no-color", "-input=false", `-out=${planFile(env, phase)}`);
const applyOf = (env: string, phase: string) => tf(env, phase, "apply", "-no-color", "-input=false", planFile(env, phase));
/** The calls that read or change something (not Terraform's show and output, which only read what the workflow needs). */
const steps = (log: string[]) => log.filter((l) => !/^terraform \S+ (show|output) /.test(l));
const applies = (log: string[]) => log.filter((l) => / (apply|destroy) /.test(l));
const changed = (log: string[]) => log.filter((l) => / (plan|apply|destroy) |change-resource-record-sets/.test(l));
const recordOf = (env: string) => JSON.parse(fs.readFileSync(path.join(h.out, "restore", `${env}.json`), "utf8"));
const checks = (env: string) => [
  initOf(env, "recovery"),
  `aws rds describe-db-instance-automated-backups --db-instance-automated-backups-arn ${BACKUPS} --output json --region ${DR}`,
  `aws s3api head-object --bucket accessweaver-terraform-state-${env}-dr-444455556666 --key ${env}/dr/network/terraform.tfstate --region ${DR}`,
  ...SERVICES.map((s) => `aws ecr describe-images --registry-id 444455556666 --repository-name ${s} --image-ids imageTag=1.0.0 --region ${DR}`),
  `aws secretsmanager describe-secret --secret-id accessweaver/${env}/jwt --region ${DR}`,
];
const phaseSteps = (env: string, phases: string[]) => phases.flatMap((p) => [initOf(env, `dr-${p}`), planOf(env, `dr-${p}`), applyOf(env, `dr-${p}`)]);
const health = (env: string) => `curl -fsS --max-time 10 --resolve ${domain(env)}:443:${IP} https://${domain(env)}/actuator/health`;
const dnsSteps = (env: string) => [
  `aws route53 list-resource-record-sets --hosted-zone-id ${ZONE} --start-record-name ${domain(env)} --start-record-type A --max-items 1 --output json --region us-east-1`,
  `aws route53 change-resource-record-sets --hosted-zone-id ${ZONE} --change-batch file://${h.out}/restore/${env}/failover-dns.json --output json --region us-east-1`,
  `aws route53 wait resource-record-sets-changed --id /change/C0RESTORE --region us-east-1`,
];

/** Nothing was planned or applied, and no saved plan is left. */
function nothingChanged(r: Run): void {
  expect(r.status).toBe(2);
  expect(changed(r.log)).toEqual([]);
  expect(fs.existsSync(path.join(h.out, "plans")) ? fs.readdirSync(path.join(h.out, "plans")).filter((f) => f.endsWith(".tfplan")) : []).toEqual([]);
}

describe("make restore", () => {
  it("checks the copies, says what it restores from, then plans and applies each DR phase in order, and switches the DNS last", async () => {
    drReady("staging");
    const r = await multi(["restore", "staging"], BASE);
    expect(r.stderr).not.toMatch(/refused|failed/);
    expect(r.status).toBe(0);
    expect(steps(r.log)).toEqual([
      ...checks("staging"),
      ...phaseSteps("staging", PHASES6),
      `dig +short ${drAlb("staging")}`,
      health("staging"),
      ...dnsSteps("staging"),
    ]);
    // What it restores from, before anything is planned.
    const source = r.stdout.slice(0, r.stdout.indexOf("Plan summary"));
    expect(source).toContain(
      [
        `Restore of staging into ${DR}, from the copies its recovery phase keeps there:`,
        `  database   replicated automated backups ${BACKUPS} (replicating)`,
        `             restorable from ${EARLIEST} to ${LATEST}`,
        `             latest restorable time: ${LATEST} (5m 0`,
      ].join("\n"),
    );
    expect(source).toContain(`  images     ${SERVICES.map((s) => `${s}:1.0.0`).join(", ")}: found in ECR in ${DR}`);
    expect(source).toContain(`  secret     accessweaver/staging/jwt: replica present in ${DR}`);
    expect(source).toContain(
      `  state      no DR environment yet: s3://accessweaver-terraform-state-staging-dr-444455556666/staging/dr/network/terraform.tfstate does not exist`,
    );
    // A progress line per phase, then the measured summary.
    for (const [n, p] of PHASES6.entries())
      expect(r.stdout).toMatch(new RegExp(`Restore of staging: ${p} applied in \\d+s \\(${n + 1} of 6; \\d+s since the restore started at `));
    expect(r.stdout).toMatch(/ {2}step {12}status {8}started {8}ended {10}elapsed\n {2}network {9}applied {7}\d\d:\d\d:\d\d UTC/);
    expect(r.stdout).toMatch(/ {2}dns switch {6}switched {6}\d\d:\d\d:\d\d UTC {3}\d\d:\d\d:\d\d UTC {3}\d+s\n {2}total \(RTO\) {5}/);
    const record = recordOf("staging");
    expect(record).toMatchObject({ env: "staging", drRegion: DR, backupsArn: BACKUPS, restoreTime: null, status: "done" });
    expect(record.phases.map((p: { phase: string; status: string; attempts: number }) => [p.phase, p.status, p.attempts])).toEqual(
      PHASES6.map((p) => [p, "applied", 1]),
    );
    for (const p of record.phases) expect(Date.parse(p.end) - Date.parse(p.start)).toBeGreaterThanOrEqual(0);
    expect(record.dns).toMatchObject({ status: "switched", changeId: "/change/C0RESTORE", albDnsName: drAlb("staging") });
    // The switch, and the way back: the record as it was.
    expect(JSON.parse(fs.readFileSync(path.join(h.out, "restore", "staging", "failover-dns.json"), "utf8")).Changes).toEqual([
      {
        Action: "UPSERT",
        ResourceRecordSet: {
          Name: domain("staging"),
          Type: "A",
          AliasTarget: { HostedZoneId: "Z215JYRZR1TBD5", DNSName: drAlb("staging"), EvaluateTargetHealth: true },
        },
      },
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(h.out, "restore", "staging", "failback-dns.json"), "utf8")).Changes).toEqual([
      { Action: "UPSERT", ResourceRecordSet: aliasTo("staging", primaryAlb("staging")).ResourceRecordSets[0] },
    ]);
    // The primary's stacks were not planned or applied.
    expect(r.log.filter((l) => l.includes(`${stack("staging", "network")} `) && !l.includes("-dr-"))).toEqual([]);
  });

  it("restores to RESTORE_TIME: the DR synth gets it, the record keeps it, and the source says it", async () => {
    drReady("prod");
    const time = at(-60);
    const r = await multi(["restore", "prod"], { ...BASE, AUTO_APPROVE: "1", RESTORE_TIME: time });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`             restore time: ${time}\n`);
    for (const p of PHASES6)
      expect(JSON.parse(fs.readFileSync(path.join(h.out, "stacks", stack("prod", `dr-${p}`), "cdk.tf.json"), "utf8")).restoreTime).toBe(time);
    expect(recordOf("prod").restoreTime).toBe(time);
    expect(applies(r.log)).toEqual(PHASES6.map((p) => applyOf("prod", `dr-${p}`)));
  });

  it("asks prod's question once for the whole restore, and refuses without an answer", () => {
    drReady("prod");
    const fixture = (input: string) =>
      spawnSync(process.execPath, ["-r", path.join(ROOT, "scripts/register.js"), path.join(ROOT, "__tests__/fixtures/multi-phase.ts"), "restore", "prod"], {
        cwd: ROOT,
        env: { ...h.s.env, ACCESSWEAVER_SETTINGS_ROOT: h.root, CDKTF_OUTDIR: h.out, ...BASE },
        input,
        encoding: "utf8",
      });
    h.s.clearLog();
    const cancelled = fixture("");
    expect(cancelled.status).toBe(2);
    expect(cancelled.stderr).toContain("Apply to prod cancelled: no answer");
    expect(cancelled.stderr).toContain("pipe the answer (echo prod | make restore ENV=prod)");
    expect(cancelled.stderr).toContain("Next: make restore ENV=prod: it continues with network.");
    expect(applies(h.s.log())).toEqual([]);
    h.s.clearLog();
    const answered = fixture("prod\n");
    expect(answered.status).toBe(0);
    expect(answered.stdout.match(/Type "prod" to apply/g)).toHaveLength(1);
    expect(answered.stdout).toContain(
      `make restore ENV=prod applies the DR phases one after another, each planned just before: ${PHASES6.map((p) => stack("prod", `dr-${p}`)).join(", ")}. The one answer below approves all of them.`,
    );
    expect(applies(h.s.log())).toEqual(PHASES6.map((p) => applyOf("prod", `dr-${p}`)));
  });

  describe("refuses, naming what is missing and the next step, with nothing planned or applied", () => {
    it("in an environment without a DR region (dev)", async () => {
      const r = await multi(["restore", "dev"], BASE);
      nothingChanged(r);
      expect(r.stderr).toMatch(
        /^dev has no DR region: \S+terraform\.tfvars sets no dr_region\. dev is rebuilt, not restored\. See docs\/disaster-recovery\.md\./,
      );
      expect(r.log).toEqual([]);
    });

    it("without dig or curl, which the DNS switch at the end needs", async () => {
      fs.rmSync(path.join(h.s.bin, "dig"));
      const r = await multi(["restore", "staging"], { ...BASE, PATH: h.s.bin });
      nothingChanged(r);
      expect(r.stderr).toContain(
        "dig not found on PATH: the DNS switch that ends a restore checks the DR environment through its load balancer with dig and curl.",
      );
      expect(r.log).toEqual([]);
    });

    it("when the recovery phase was never applied (no replicated backups in its state)", async () => {
      const r = await multi(["restore", "staging"], BASE);
      nothingChanged(r);
      expect(r.stderr).toContain(
        "The recovery phase of staging was never applied: the state of accessweaver-staging-recovery (in the DR backend) has no database_replicated_backups_arn, so there are no replicated backups to restore from. Nothing was planned or applied. Apply the recovery phase first: make plan ENV=staging PHASE=recovery, then make apply ENV=staging PHASE=recovery",
      );
      expect(steps(r.log)).toEqual([initOf("staging", "recovery")]);
    });

    it.each([
      ["malformed", "2026-12-06 21:30", /RESTORE_TIME "2026-12-06 21:30" is not an ISO 8601 UTC time: .* e\.g\. RESTORE_TIME=2026-12-06T21:30:00Z/],
      ["a date that does not exist", "2026-02-30T10:00:00Z", /RESTORE_TIME "2026-02-30T10:00:00Z" is not an ISO 8601 UTC time/],
      ["in the future", at(24 * 60), /RESTORE_TIME \S+ is in the future \(it is now \S+Z\): a restore reaches at most the latest restorable time/],
    ])("with a RESTORE_TIME %s", async (_what, time, message) => {
      drReady("staging");
      const r = await multi(["restore", "staging"], { ...BASE, RESTORE_TIME: time });
      nothingChanged(r);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain("Nothing was planned or applied.");
      expect(r.log).toEqual([]);
    });

    it.each([
      ["before the replicated backups' window", at(-8 * 24 * 60), "is before the earliest restorable time"],
      ["after the latest restorable time", at(-1), "is after the latest restorable time"],
    ])("with a RESTORE_TIME %s", async (_what, time, message) => {
      drReady("staging");
      const r = await multi(["restore", "staging"], { ...BASE, RESTORE_TIME: time });
      nothingChanged(r);
      expect(r.stderr).toContain(`RESTORE_TIME ${time} ${message} of the replicated backups in ${DR}: they reach from ${EARLIEST} to ${LATEST}`);
      expect(r.stderr).toContain("Give a time in that window, or leave RESTORE_TIME out to restore to the latest restorable time.");
    });

    it("when the replicated backups are not replicating", async () => {
      scriptAws("rds describe-db-instance-automated-backups", { DBInstanceAutomatedBackups: [{ Status: "pending", RestoreWindow: {} }] });
      drReady("staging");
      const r = await multi(["restore", "staging"], BASE);
      nothingChanged(r);
      expect(r.stderr).toContain(`The replicated backups ${BACKUPS} in ${DR} are pending, not replicating or retained`);
    });

    it("when an image or the secret's replica is missing in the DR region (every missing copy named)", async () => {
      failAws(
        "ecr describe-images --registry-id 444455556666 --repository-name aw-pdp-service",
        "ImageNotFoundException",
        "DescribeImages",
        "The image does not exist",
      );
      failAws("secretsmanager describe-secret", "ResourceNotFoundException", "DescribeSecret", "Secrets Manager can't find the specified secret.");
      drReady("staging");
      const r = await multi(["restore", "staging"], BASE);
      nothingChanged(r);
      expect(r.stderr).toContain(
        [
          `Restore refused: a copy the DR environment needs is missing in ${DR}:`,
          "  - the image aw-pdp-service:1.0.0 (ECR repository aw-pdp-service)",
          "  - the replica of the secret accessweaver/staging/jwt",
          `Nothing was planned or applied. Images replicate on push: push the tag again while the primary region answers, or push it to 444455556666.dkr.ecr.${DR}.amazonaws.com/<service>:<tag> from your build.`,
        ].join("\n"),
      );
    });

    it("when a copy cannot be checked (credentials), saying that it is not known", async () => {
      failAws("secretsmanager describe-secret", "ExpiredTokenException", "DescribeSecret", "The security token included in the request is expired");
      drReady("staging");
      const r = await multi(["restore", "staging"], BASE);
      nothingChanged(r);
      expect(r.stderr).toContain(`Could not check the secret accessweaver/staging/jwt in ${DR}:`);
      expect(r.stderr).toContain("Whether it is there is not known, so nothing was planned or applied.");
    });

    it("when the DR environment already exists and this machine did not start it", async () => {
      scriptAws("s3api head-object", { ContentLength: 2048, ContentType: "application/json" });
      drReady("staging");
      const r = await multi(["restore", "staging"], BASE);
      nothingChanged(r);
      expect(r.stderr).toContain(
        `The DR environment of staging already exists: its network state s3://accessweaver-terraform-state-staging-dr-444455556666/staging/dr/network/terraform.tfstate is there, in ${DR}`,
      );
      expect(r.stderr).toContain(
        `If it is a drill's, tear it down first: make restore-teardown ENV=staging CONFIRM=${[...PHASES6]
          .reverse()
          .map((p) => stack("staging", `dr-${p}`))
          .join(",")}`,
      );
    });
  });

  it("an interrupt during the database phase's apply stops there; a re-run continues with database and does not apply network again", async () => {
    drReady("staging");
    const slow = `apply -no-color -input=false ${planFile("staging", "dr-database")}`;
    const run = h.multiAsync(["restore", "staging"], { ...BASE, STANDIN_TERRAFORM_SLOW_ON: slow, STANDIN_TERRAFORM_SLOW_SECONDS: "2" });
    await h.waitForSlow("apply", stack("staging", "dr-database"));
    process.kill(-run.child.pid!, "SIGINT");
    const r = await run.done;
    expect(r.status).toBe(130);
    expect(applies(r.log)).toEqual([applyOf("staging", "dr-network"), applyOf("staging", "dr-database")]);
    expect(r.log.filter((l) => l.startsWith("dig ") || l.startsWith("curl ") || l.includes("route53"))).toEqual([]);
    expect(r.stderr).toContain("Apply of staging stopped: terraform apply was interrupted (SIGINT) and has stopped (exit 1).");
    expect(r.stderr).toContain("  interrupted:    accessweaver-staging-dr-database (part of it may be applied");
    expect(r.stderr).not.toMatch(/Next: make (plan|apply)/);
    expect(r.stderr).toMatch(
      /make restore ENV=staging stopped at database \(interrupted: SIGINT\)\. Where the restore stands \(\S+restore\/staging\.json\):\n/,
    );
    expect(r.stderr).toMatch(/\n {2}network {9}applied {7}.*\n {2}database {8}interrupted {3}.*\n {2}cache {11}not started\n/);
    expect(r.stderr).toContain("Next: make restore ENV=staging: it continues with database, planned again from what is applied.");
    expect(recordOf("staging").phases.map((p: { phase: string; status: string }) => [p.phase, p.status])).toEqual([
      ["network", "applied"],
      ["database", "interrupted"],
    ]);

    const again = await multi(["restore", "staging"], BASE);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/Continuing the restore started at \d\d:\d\d:\d\d UTC \(\S+\): network applied\./);
    expect(again.stdout).toMatch(/network: applied at \d\d:\d\d:\d\d UTC by an earlier run of this restore; not planned again\./);
    // Its own restore: the DR environment's existence is not held against it.
    expect(again.log.filter((l) => l.includes("head-object"))).toEqual([]);
    expect(steps(again.log).filter((l) => l.startsWith("terraform ") && !l.includes("-recovery "))).toEqual(phaseSteps("staging", PHASES6.slice(1)));
    const record = recordOf("staging");
    expect(record.status).toBe("done");
    expect(record.phases.find((p: { phase: string }) => p.phase === "database")).toMatchObject({ status: "applied", attempts: 2 });
  });

  it("a failed apply says where the restore stands; a finished restore is not started again", async () => {
    drReady("staging");
    const failed = await multi(["restore", "staging"], {
      ...BASE,
      STANDIN_TERRAFORM_FAIL_ON: `apply -no-color -input=false ${planFile("staging", "dr-cache")}`,
    });
    expect(failed.status).toBe(2);
    expect(failed.stderr).toContain(
      "Next: read the error above and fix its cause, then make restore ENV=staging: it continues with cache, planned again from what is applied.",
    );
    expect(applies(failed.log)).toEqual(["network", "database", "cache"].map((p) => applyOf("staging", `dr-${p}`)));
    expect((await multi(["restore", "staging"], BASE)).status).toBe(0);
    const done = await multi(["restore", "staging"], BASE);
    expect(done.status).toBe(2);
    expect(done.stderr).toMatch(/^staging was restored into eu-central-1 at \S+ \(\S+\): its DR environment exists\. Nothing was planned or applied\./);
    expect(done.log).toEqual([]);
  });

  describe("the DNS switch", () => {
    it("waits for the health check through the DR load balancer: two failed tries, then the switch", async () => {
      drReady("staging");
      const r = await multi(["restore", "staging"], { ...BASE, STANDIN_CURL_FAIL_TIMES: "2" });
      expect(r.status).toBe(0);
      const dns = steps(r.log).slice(steps(r.log).indexOf(applyOf("staging", "dr-observability")) + 1);
      expect(dns).toEqual([...[1, 2, 3].flatMap(() => [`dig +short ${drAlb("staging")}`, health("staging")]), ...dnsSteps("staging")]);
      expect(r.stdout).toContain(
        `  try 1: https://staging.accessweaver.com/actuator/health through ${IP}: curl: (7) Failed to connect to staging.accessweaver.com port 443 after 12 ms: Connection refused; again in 0.05 s`,
      );
      expect(r.stdout).toContain(`The DR environment answers: https://staging.accessweaver.com/actuator/health through ${drAlb("staging")} (${IP}), try 3.`);
    });

    it("never switches while the DR environment does not answer: the failure names failover-dns.json; a re-run goes straight to the switch", async () => {
      drReady("staging");
      const r = await multi(["restore", "staging"], { ...BASE, RESTORE_HEALTH_MINUTES: "0.005", STANDIN_CURL_FAIL_ON: "-fsS" });
      expect(r.status).toBe(2);
      expect(r.log.filter((l) => l.includes("route53"))).toEqual([]);
      const failover = path.join(h.out, "restore", "staging", "failover-dns.json");
      expect(r.stderr).toContain(
        "The DR environment of staging did not answer within 0.005 minutes (last try: https://staging.accessweaver.com/actuator/health through",
      );
      expect(r.stderr).toContain(
        `The API's record was NOT switched: staging.accessweaver.com points where it did, and nothing in the primary region was changed. The switch is ready in ${failover}.`,
      );
      expect(r.stderr).toContain(
        `switch by hand: aws route53 change-resource-record-sets --hosted-zone-id ${ZONE} --change-batch file://${failover} --region us-east-1`,
      );
      expect(r.stderr).toMatch(/\n {2}observability {3}applied .*\n {2}dns switch {6}not answering .*\n/);
      expect(r.stderr).toContain(
        "Next: read the error above and fix its cause, then make restore ENV=staging: it continues with the DNS switch (every phase is applied).",
      );
      expect(fs.existsSync(failover)).toBe(true);
      expect(fs.existsSync(path.join(h.out, "restore", "staging", "failback-dns.json"))).toBe(false);
      expect(recordOf("staging")).toMatchObject({ status: "switching DNS", dns: { status: "not answering" } });

      const again = await multi(["restore", "staging"], BASE);
      expect(again.status).toBe(0);
      expect(changed(again.log)).toEqual([dnsSteps("staging")[1]]);
    });

    it("changes nothing when the record already points at the DR load balancer", async () => {
      scriptAws("route53 list-resource-record-sets", aliasTo("staging", `dualstack.${drAlb("staging").toUpperCase()}`));
      drReady("staging");
      const r = await multi(["restore", "staging"], BASE);
      expect(r.status).toBe(0);
      expect(r.log.filter((l) => l.includes("change-resource-record-sets"))).toEqual([]);
      expect(r.stdout).toContain(`staging.accessweaver.com already points at the DR load balancer ${drAlb("staging")}: nothing to change.`);
      expect(recordOf("staging").dns.status).toBe("unchanged");
    });
  });
});

describe("make restore-teardown", () => {
  const confirm = (env: string) => [...PHASES6].reverse().map((p) => stack(env, `dr-${p}`));

  it("refuses without CONFIRM naming the DR stacks, last phase first", async () => {
    const r = await multi(["restore-teardown", "staging"], BASE);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `Tearing down the DR environment of staging (in ${DR}) is refused unless CONFIRM names exactly what is destroyed. To destroy these stacks, in this order: make restore-teardown ENV=staging CONFIRM=${confirm("staging").join(",")}`,
    );
    expect(r.log).toEqual([]);
  });

  it("refuses while the API's record points at the DR load balancer: fail back first", async () => {
    drReady("staging");
    scriptAws("route53 list-resource-record-sets", aliasTo("staging", drAlb("staging")));
    // The earlier scripted answer (the primary) would win: drop it.
    const folder = path.join(h.s.stateDir, "aws", "scripted");
    for (const f of fs.readdirSync(folder)) if (fs.readFileSync(path.join(folder, f), "utf8").includes(primaryAlb("staging"))) fs.rmSync(path.join(folder, f));
    const r = await multi(["restore-teardown", "staging"], { ...BASE, CONFIRM: confirm("staging").join(",") });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `staging.accessweaver.com still points at the DR load balancer ${drAlb("staging")}: destroying the DR environment would take the API offline. Nothing was destroyed. Fail back first: docs/disaster-recovery.md`,
    );
    expect(applies(r.log)).toEqual([]);
  });

  it("after a failback, destroys the DR stacks in reverse order and removes the restore record", async () => {
    drReady("staging");
    expect((await multi(["restore", "staging"], BASE)).status).toBe(0);
    // The stand-in's record points at the primary again: failed back.
    const r = await multi(["restore-teardown", "staging"], { ...BASE, CONFIRM: confirm("staging").join(","), AUTO_APPROVE: "1" });
    expect(r.status).toBe(0);
    expect(applies(r.log)).toEqual(
      confirm("staging").map((s) => tf("staging", s.replace("accessweaver-staging-", ""), "destroy", "-no-color", "-input=false", "-auto-approve")),
    );
    expect(fs.existsSync(path.join(h.out, "restore", "staging.json"))).toBe(false);
    // A new restore may start again.
    expect(r.stdout).toContain("its restore record is removed.");
  });
});

describe("make restore and restore-teardown through make: inputs are data, refused before anything runs", () => {
  it.each([
    [["restore", "ENV=dev"], "dev has no DR region:"],
    [["restore-teardown", "ENV=dev"], "dev has no DR region:"],
    [["restore", "ENV=prod", "PHASE=network"], 'make restore acts on every phase of the DR environment, in order: leave PHASE out (it was "network").'],
    [
      ["restore", "ENV=prod", "RESTORE_TIME="],
      "RESTORE_TIME is given but empty (an unset variable in RESTORE_TIME=$...?). Name a time (RESTORE_TIME=2026-12-06T21:30:00Z), or leave RESTORE_TIME out to restore to the latest restorable time.",
    ],
  ])("make %j", (args, message) => {
    const r = h.make(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.log).toEqual([]);
  });

  it("a hostile RESTORE_TIME is refused as what it is, and never runs", () => {
    const marker = path.join(tempDir("aw-markers-"), "ran");
    for (const value of [`$(touch ${marker})`, `$$(touch ${marker})`, `\`touch ${marker}\``, `x; touch ${marker}`]) {
      const r = h.make(["restore", "ENV=prod", `RESTORE_TIME=${value}`]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`RESTORE_TIME ${JSON.stringify(value)} is not an ISO 8601 UTC time`);
      expect(r.log).toEqual([]);
    }
    expect(fs.existsSync(marker)).toBe(false);
  });
});
