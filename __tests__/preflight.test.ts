// make preflight's checks, run for real with the recording aws and dig stand-ins scripted per case:
// every call is read-only, and each failure names what to do.
import * as fs from "fs";
import * as path from "path";
import { needs } from "../scripts/preflight/checks";
import { CliRunner, awsCli } from "../scripts/preflight/aws";
import { main } from "../scripts/preflight";
import { synthesize } from "../src/synth";
import { EnvironmentName, SERVICES } from "../src/naming";
import { Standins, makeStandins } from "./support/standins";
import { ROOT, config, tempDir } from "./support/config";

const ACCOUNT = "210987654321";
const ZONE = "Z0PREFLIGHTTEST";
const NS = ["ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk"];
/** prod's dr_region by default, and its backend there (the lock table keeps the primary's name). */
const DR = "eu-central-1";
const DR_BUCKET = `accessweaver-terraform-state-prod-dr-${ACCOUNT}`;
const LOCK_TABLE = "accessweaver-terraform-locks-prod";

/** A prod settings file with the operator's own values (not the example's). */
const TFVARS = `aws_account_id = "${ACCOUNT}"
domain_name = "api.accessweaver.com"
route53_zone_id = "${ZONE}"
alert_email_addresses = ["oncall@accessweaver.com"]
alert_paging_endpoints = ["https://events.pagerduty.com/integration/a1b2c3d4e5f60718293a4b5c6d7e8f90/enqueue"]
ecr_registry = "${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"
image_tag = "2.4.1"
image_tag_overrides = { "aw-pdp-service" = "2.4.2" }
cost_center = "CC-7"
owner = "platform@accessweaver.com"
`;

let root: string;
let outdir: string;

beforeAll(async () => {
  root = tempDir("aw-preflight-");
  fs.mkdirSync(path.join(root, "environments", "prod"), { recursive: true });
  fs.copyFileSync(path.join(ROOT, "environments/prod/terraform.tfvars.example"), path.join(root, "environments/prod/terraform.tfvars.example"));
  fs.writeFileSync(path.join(root, "environments/prod/terraform.tfvars"), TFVARS);
  outdir = path.join(root, "cdktf.out");
  await synthesize({ outdir, envSelection: "prod", rootDir: root, notice: () => undefined });
}, 60_000);

type Answers = Record<string, { exit?: number; body: unknown }>;

/** The answers of a healthy account; each case changes a few. */
function healthy(): Answers {
  const quota = (value: number) => ({ body: { Quota: { Value: value } } });
  const answers: Answers = {
    "sts get-caller-identity": { body: { Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/ops` } },
    "s3api get-bucket-versioning": { body: { Status: "Enabled" } },
    "s3api get-bucket-encryption": {
      body: { ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms" } }] } },
    },
    "dynamodb describe-table": { body: { Table: { TableStatus: "ACTIVE", SSEDescription: { Status: "ENABLED" } } } },
    "route53 get-hosted-zone": { body: { HostedZone: { Name: "accessweaver.com.", Config: { PrivateZone: false } }, DelegationSet: { NameServers: NS } } },
    "service-quotas get-service-quota --service-code fargate": quota(4000),
    "service-quotas get-service-quota --service-code ecs": quota(5000),
    "service-quotas get-service-quota --service-code ec2": quota(5),
    "service-quotas get-service-quota --service-code vpc --quota-code L-F678F1CE": quota(5),
    "service-quotas get-service-quota --service-code vpc --quota-code L-29B6F2EB": quota(50),
    "service-quotas get-service-quota --service-code rds": quota(40),
    "service-quotas list-service-quotas --service-code elasticache": {
      body: { Quotas: [{ QuotaName: "Nodes per Region", QuotaCode: "L-EC000001", Value: 300 }] },
    },
    "ec2 describe-addresses": { body: { Addresses: [{}] } },
    "ec2 describe-vpcs": { body: { Vpcs: [{}] } },
    "rds describe-db-instances": { body: { DBInstances: [] } },
    "elasticache describe-cache-clusters": { body: { CacheClusters: [] } },
    "ecr describe-images": { body: { imageDetails: [{ imageTags: ["x"] }] } },
    "s3api head-object": { exit: 254, body: "An error occurred (404) when calling the HeadObject operation: Not Found" },
    "kms list-aliases": { body: { Aliases: [{ AliasName: "alias/aws/s3" }] } },
    "logs describe-log-groups": { body: { logGroups: [] } },
    "secretsmanager describe-secret": {
      exit: 254,
      body: "An error occurred (ResourceNotFoundException) when calling the DescribeSecret operation: Secrets Manager can't find the specified secret.",
    },
    "s3api head-bucket": { exit: 254, body: "An error occurred (404) when calling the HeadBucket operation: Not Found" },
    "cloudtrail describe-trails": { body: { trailList: [] } },
    "inspector2 batch-get-account-status": {
      body: {
        accounts: [{ accountId: ACCOUNT, state: { status: "DISABLED" }, resourceState: { ec2: { status: "DISABLED" }, ecr: { status: "DISABLED" } } }],
        failedAccounts: [],
      },
    },
    "budgets describe-budget": {
      exit: 254,
      body: "An error occurred (NotFoundException) when calling the DescribeBudget operation: Unable to get budget: AccessWeaver-Production-Monthly - the budget doesn't exist.",
    },
    "guardduty list-detectors": { body: { DetectorIds: [] } },
    // The recovery phase's prerequisites (prod's dr_region, eu-central-1 by default): the DR backend answers as the primary's.
    "account get-region-opt-status": { body: { RegionName: DR, RegionOptStatus: "ENABLED_BY_DEFAULT" } },
    "s3api get-bucket-replication": {
      body: {
        ReplicationConfiguration: {
          Role: `arn:aws:iam::${ACCOUNT}:role/accessweaver-terraform-state-replication-prod`,
          Rules: [{ ID: "terraform-state-to-dr-region", Status: "Enabled", Destination: { Bucket: `arn:aws:s3:::${DR_BUCKET}` } }],
        },
      },
    },
    "ecr describe-registry": { body: { registryId: ACCOUNT, replicationConfiguration: { rules: [] } } },
    "rds describe-source-regions": {
      body: { SourceRegions: [{ RegionName: "eu-west-1", Status: "available", SupportsDBInstanceAutomatedBackupsReplication: true }] },
    },
    "ecr describe-repository-creation-templates": { body: { registryId: ACCOUNT, repositoryCreationTemplates: [] } },
    "securityhub describe-hub": {
      exit: 254,
      body: `An error occurred (InvalidAccessException) when calling the DescribeHub operation: Account ${ACCOUNT} is not subscribed to AWS Security Hub`,
    },
  };
  return answers;
}

/**
 * The aws stand-in's scripted answers (__tests__/support/standins/aws, "scripted answers"), answered in
 * this process: the call without --region and --output matched by prefix, the longest match first; the
 * call recorded in the stand-ins' log as the stand-in records it. The preflight's own argument building
 * and answer reading run as they do on the CLI; a few cases below go through the stand-in on the PATH
 * (VIA_PATH) to show that the CLI path gives the same calls.
 */
function scriptedCli(answers: Answers, logFile: string): CliRunner {
  const ordered = Object.entries(answers).sort(([a], [b]) => b.length - a.length);
  const quote = (w: string) => (/^[A-Za-z0-9_./:=,@%+-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`);
  return (args) => {
    fs.appendFileSync(logFile, `${["aws", ...args].map(quote).join(" ")}\n`);
    const call = args.filter((a, i) => !["--region", "--output"].includes(a) && !["--region", "--output"].includes(args[i - 1] ?? "")).join(" ");
    const hit = ordered.find(([match]) => call.startsWith(match));
    if (!hit) throw new Error(`no scripted answer for: aws ${call}`);
    const [, a] = hit;
    const body = typeof a.body === "string" ? a.body : JSON.stringify(a.body);
    return (a.exit ?? 0) === 0 ? { status: 0, stdout: body, stderr: "" } : { status: a.exit!, stdout: "", stderr: body };
  };
}

/** Through the aws stand-in on the PATH (a process per call), instead of in this process. */
const VIA_PATH = { via: "path" as const };

interface How {
  /** "path": through the aws stand-in on the PATH (its scripted answers, then what it models); default in this process. */
  readonly via?: "path" | "process";
  /** The environment checked (default prod). */
  readonly env?: EnvironmentName;
  /** Seeds the stand-ins' state before the run (its calls are then forgotten). */
  readonly prepare?: (s: Standins) => void;
}

/** Runs the preflight in-process; its aws calls are answered in-process, or by the stand-in on the environment's PATH. */
async function run(
  answers: Answers,
  extraEnv: NodeJS.ProcessEnv = {},
  how: How = {},
): Promise<{ s: Standins; status: number; stdout: string; stderr: string }> {
  const s = makeStandins(["aws", "dig"], { STANDIN_AWS_ACCOUNT: ACCOUNT });
  if (how.prepare) {
    how.prepare(s);
    s.clearLog();
  }
  if (how.via === "path") {
    const dir = path.join(s.stateDir, "aws", "scripted");
    fs.mkdirSync(dir, { recursive: true });
    // More specific prefixes first: files answer in name order.
    Object.entries(answers)
      .sort(([a], [b]) => b.length - a.length)
      .forEach(([match, a], i) =>
        fs.writeFileSync(
          path.join(dir, `${String(i).padStart(3, "0")}.answer`),
          `match: ${match}\nexit: ${a.exit ?? 0}\n---\n${typeof a.body === "string" ? a.body : JSON.stringify(a.body)}`,
        ),
      );
  }
  fs.mkdirSync(path.join(s.stateDir, "dig"), { recursive: true });
  fs.writeFileSync(path.join(s.stateDir, "dig", "accessweaver.com"), NS.map((n) => `${n}.`).join("\n"));
  const env: NodeJS.ProcessEnv = { ...s.env, CDKTF_OUTDIR: outdir, ACCESSWEAVER_SETTINGS_ROOT: root, AWS_PROFILE: "accessweaver-prod", ...extraEnv };
  delete env.AWS_REGION;
  delete env.AWS_DEFAULT_REGION;
  let stdout = "";
  let stderr = "";
  const io = { env, out: (t: string) => (stdout += t), err: (t: string) => (stderr += t) };
  const status = await main([how.env ?? "prod"], io, how.via === "path" ? undefined : scriptedCli(answers, s.logFile));
  return { s, status, stdout, stderr };
}

const READ_ONLY_CALL = /^(aws \S+ (get|describe|list|head|batch-get)-\S*|dig \+short NS \S+)( |$)/;

describe("make preflight", () => {
  it("passes on a ready account, with read-only calls only, each passing the environment's region (through the aws stand-in)", async () => {
    const r = await run(healthy(), {}, VIA_PATH);
    try {
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const calls = r.s.log();
      for (const c of calls) expect(c).toMatch(READ_ONLY_CALL);
      // Budgets is a global API, served from us-east-1; the DR backend and the recovery phase's state are read
      // in the DR region; every other call is on the environment's region.
      const inDr = calls.filter((x) => x.includes(` --region ${DR} `));
      expect(inDr).toEqual([
        `aws s3api get-bucket-versioning --bucket ${DR_BUCKET} --region ${DR} --output json`,
        `aws s3api get-bucket-encryption --bucket ${DR_BUCKET} --region ${DR} --output json`,
        `aws dynamodb describe-table --table-name ${LOCK_TABLE} --region ${DR} --output json`,
        `aws rds describe-source-regions --region ${DR} --region-name eu-west-1 --output json`,
        `aws ecr describe-repository-creation-templates --prefixes ROOT --region ${DR} --output json`,
        `aws s3api head-object --bucket ${DR_BUCKET} --key prod/recovery/terraform.tfstate --region ${DR} --output json`,
      ]);
      for (const c of calls.filter((x) => x.startsWith("aws ") && !x.startsWith("aws budgets ") && !inDr.includes(x)))
        expect(c).toMatch(/ --region eu-west-1 --output json$/);
      expect(calls.filter((x) => x.startsWith("aws budgets "))).toEqual(
        ["AccessWeaver-Production-Monthly", "AccessWeaver-Production-Account-Monthly"].map(
          (b) => `aws budgets describe-budget --account-id ${ACCOUNT} --budget-name ${b} --region us-east-1 --output json`,
        ),
      );
      expect(calls.slice(0, 5).map((c) => c.split(" --region")[0])).toEqual([
        "aws sts get-caller-identity",
        `aws s3api get-bucket-versioning --bucket accessweaver-terraform-state-prod-${ACCOUNT}`,
        `aws s3api get-bucket-encryption --bucket accessweaver-terraform-state-prod-${ACCOUNT}`,
        "aws dynamodb describe-table --table-name accessweaver-terraform-locks-prod",
        `aws route53 get-hosted-zone --id ${ZONE}`,
      ]);
      expect(calls).toContain("dig +short NS accessweaver.com");
      expect(calls).toContain(
        `aws ecr describe-images --registry-id ${ACCOUNT} --repository-name aw-pdp-service --image-ids imageTag=2.4.2 --region eu-west-1 --output json`,
      );
      expect(r.stdout).toMatch(/^PASS {2}quota: Fargate On-Demand vCPUs: needed 48 \/ available 4000 vCPU \(quota 4000\)$/m);
      expect(r.stdout).toMatch(/^PASS {2}delegation: accessweaver\.com is delegated to the zone's 2 name servers$/m);
      expect(r.stdout).toMatch(/^Preflight prod: \d+ pass, 0 warn, 0 fail\.$/m);
      // The other cases answer in this process: the same calls, in the same order, and the same report.
      const inProcess = await run(healthy());
      try {
        expect(inProcess.s.log()).toEqual(calls);
        expect(inProcess.stdout).toBe(r.stdout);
      } finally {
        inProcess.s.cleanup();
      }
    } finally {
      r.s.cleanup();
    }
  });

  it("computes prod's Fargate need from the profile and the catalog: ceilings plus the gateway's blue/green surge", async () => {
    // (3 x 1 + 3 x 2 + 2 x 1 + 2 x 0.5 + 2 x 0.5) vCPU x 3 (ceiling) = 39, plus 9 x 1 for the gateway's second set.
    expect(needs(config("prod"))).toEqual(
      expect.objectContaining({ fargateVcpu: 39, surgeVcpu: 9, maxTasksPerService: 9, eips: 3, interfaceEndpoints: 5, cacheNodes: 9 }),
    );
  });

  it("stops at the credentials when they are for another account, naming AWS_PROFILE", async () => {
    const answers = healthy();
    answers["sts get-caller-identity"] = { body: { Account: "999999999999", Arn: "arn:aws:iam::999999999999:user/x" } };
    const r = await run(answers);
    try {
      expect(r.status).toBe(1);
      expect(r.stdout).toContain(
        `FAIL  credentials: the caller is in account 999999999999, environments/prod/terraform.tfvars says aws_account_id = "${ACCOUNT}"`,
      );
      expect(r.stdout).toContain(
        "-> use credentials of account 210987654321: AWS_PROFILE=accessweaver-prod; select the environment's profile (export AWS_PROFILE=accessweaver-prod)",
      );
      expect(r.s.log()).toHaveLength(1);
    } finally {
      r.s.cleanup();
    }
  });

  it("fails a Fargate quota too low for the ceiling, with the increase request to send", async () => {
    const answers = healthy();
    answers["service-quotas get-service-quota --service-code fargate"] = { body: { Quota: { Value: 6 } } };
    const r = await run(answers);
    try {
      expect(r.status).toBe(1);
      expect(r.stdout).toContain(
        "FAIL  quota: Fargate On-Demand vCPUs: needed 48 / available 6 vCPU (quota 6)\n      -> aws service-quotas request-service-quota-increase --service-code fargate --quota-code L-3032A538 --desired-value 48 --region eu-west-1",
      );
    } finally {
      r.s.cleanup();
    }
  });

  it("fails a hosted zone that is not the domain's, and a domain not delegated to it", async () => {
    const answers = healthy();
    answers["route53 get-hosted-zone"] = { body: { HostedZone: { Name: "example.org.", Config: { PrivateZone: false } }, DelegationSet: { NameServers: NS } } };
    const wrong = await run(answers);
    try {
      expect(wrong.stdout).toContain(`FAIL  hosted zone: ${ZONE} is example.org, which is not api.accessweaver.com (domain_name) nor a parent of it`);
    } finally {
      wrong.s.cleanup();
    }
    const undelegated = healthy();
    undelegated["route53 get-hosted-zone"] = {
      body: { HostedZone: { Name: "accessweaver.com.", Config: { PrivateZone: false } }, DelegationSet: { NameServers: ["ns-9.awsdns-09.net"] } },
    };
    const r = await run(undelegated);
    try {
      expect(r.status).toBe(1);
      expect(r.stdout).toContain(
        "FAIL  delegation: DNS serves accessweaver.com from ns-1.awsdns-01.org, ns-2.awsdns-02.co.uk, the zone's name servers are ns-9.awsdns-09.net",
      );
    } finally {
      r.s.cleanup();
    }
  });

  it("fails a service whose image tag is not in the registry (through the aws stand-in)", async () => {
    const answers = healthy();
    answers["ecr describe-images --registry-id 210987654321 --repository-name aw-pdp-service"] = {
      exit: 254,
      body: "An error occurred (ImageNotFoundException) when calling the DescribeImages operation: The image with imageId {imageTag:'2.4.2'} does not exist",
    };
    const r = await run(answers, {}, VIA_PATH);
    try {
      expect(r.status).toBe(1);
      expect(r.stdout).toContain(`FAIL  image aw-pdp-service: ${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/aw-pdp-service:2.4.2: ImageNotFoundException`);
      for (const s of SERVICES.filter((x) => x !== "aw-pdp-service")) expect(r.stdout).toContain(`PASS  image ${s}:`);
    } finally {
      r.s.cleanup();
    }
  });

  it("fails on names made by hand before the first apply, with the import command", async () => {
    const answers = healthy();
    answers["kms list-aliases"] = { body: { Aliases: [{ AliasName: "alias/accessweaver-prod" }] } };
    answers["logs describe-log-groups"] = { body: { logGroups: [{ logGroupName: "/aws/vpc/accessweaver-prod/flow-logs" }] } };
    const r = await run(answers);
    try {
      expect(r.status).toBe(1);
      expect(r.stdout).toContain(
        `FAIL  name alias/accessweaver-prod: already exists, and phase network was never applied: the apply would fail on it\n      -> adopt it: terraform -chdir=${path.join(outdir, "stacks", "accessweaver-prod-network")} import 'aws_kms_alias.kms_alias' 'alias/accessweaver-prod'`,
      );
      expect(r.stdout).toContain("FAIL  name /aws/vpc/accessweaver-prod/flow-logs: already exists");
      expect(r.s.log()).toContain(
        `aws s3api head-object --bucket accessweaver-terraform-state-prod-${ACCOUNT} --key prod/network/terraform.tfstate --region eu-west-1 --output json`,
      );
    } finally {
      r.s.cleanup();
    }
  });

  it("fails on a secret made by hand from the guide's prerequisites, with the import of its ARN into the database phase", async () => {
    const arn = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:accessweaver/prod/database-AbCdEf`;
    const answers = healthy();
    answers["secretsmanager describe-secret --secret-id accessweaver/prod/database"] = { body: { ARN: arn, Name: "accessweaver/prod/database" } };
    const r = await run(answers);
    try {
      expect(r.status).toBe(1);
      expect(r.stdout).toContain(
        `FAIL  name accessweaver/prod/database: already exists, and phase database was never applied: the apply would fail on it\n      -> adopt it: terraform -chdir=${path.join(outdir, "stacks", "accessweaver-prod-database")} import 'aws_secretsmanager_secret.secret_secret' '${arn}'`,
      );
      // The other two secrets do not exist: nothing said about them.
      expect(r.stdout).not.toContain("name accessweaver/prod/redis");
      expect(r.s.log()).toContain("aws secretsmanager describe-secret --secret-id accessweaver/prod/jwt --region eu-west-1 --output json");
    } finally {
      r.s.cleanup();
    }
  });

  it("fails a bucket name another account holds", async () => {
    const answers = healthy();
    answers["s3api head-bucket --bucket accessweaver-prod-alb-access-logs-"] = {
      exit: 254,
      body: "An error occurred (403) when calling the HeadBucket operation: Forbidden",
    };
    const r = await run(answers);
    try {
      expect(r.status).toBe(1);
      expect(r.stdout).toContain(
        `FAIL  name accessweaver-prod-alb-access-logs-${ACCOUNT}: bucket accessweaver-prod-alb-access-logs-${ACCOUNT} exists in another account`,
      );
    } finally {
      r.s.cleanup();
    }
  });

  it("checks the audit bucket's name with the other buckets: free, another account's, or this account's with or without the phase's state", async () => {
    const audit = `accessweaver-prod-audit-logs-${ACCOUNT}`;
    const free = await run(healthy());
    try {
      expect(free.s.log()).toContain(`aws s3api head-bucket --bucket ${audit} --region eu-west-1 --output json`);
      expect(free.stdout).not.toContain(`name ${audit}`);
    } finally {
      free.s.cleanup();
    }
    const foreign = healthy();
    foreign[`s3api head-bucket --bucket ${audit}`] = { exit: 254, body: "An error occurred (403) when calling the HeadBucket operation: Forbidden" };
    const taken = await run(foreign);
    try {
      expect(taken.status).toBe(1);
      expect(taken.stdout).toContain(
        `FAIL  name ${audit}: bucket ${audit} exists in another account\n      -> bucket names are global: choose another name in src/naming.ts`,
      );
    } finally {
      taken.s.cleanup();
    }
    const ours = healthy();
    ours[`s3api head-bucket --bucket ${audit}`] = { body: {} };
    const unadopted = await run(ours);
    try {
      expect(unadopted.status).toBe(1);
      expect(unadopted.stdout).toContain(
        `FAIL  name ${audit}: already exists, and phase observability was never applied: the apply would fail on it\n      -> adopt it: terraform -chdir=${path.join(outdir, "stacks", "accessweaver-prod-observability")} import 'aws_s3_bucket.audit_bucket_bucket' '${audit}'`,
      );
    } finally {
      unadopted.s.cleanup();
    }
    ours[`s3api head-object --bucket accessweaver-terraform-state-prod-${ACCOUNT} --key prod/observability/`] = { body: {} };
    const adopted = await run(ours);
    try {
      expect(adopted.status).toBe(0);
      expect(adopted.stdout).toContain(`PASS  name ${audit}: exists; phase observability has a state, so it is its own aws_s3_bucket.audit_bucket_bucket`);
    } finally {
      adopted.s.cleanup();
    }
  });

  it("passes a region with room for the trail, and fails one whose trails fill CloudTrail's quota of 5", async () => {
    const ok = healthy();
    ok["cloudtrail describe-trails"] = {
      body: { trailList: [{ Name: "org-trail", TrailARN: "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail", HomeRegion: "us-east-1" }] },
    };
    const room = await run(ok);
    try {
      expect(room.status).toBe(0);
      expect(room.s.log()).toContain("aws cloudtrail describe-trails --region eu-west-1 --output json");
      expect(room.stdout).toContain("PASS  trail: accessweaver-prod-audit-trail does not exist yet");
      expect(room.stdout).toContain("PASS  quota: CloudTrail trails per region: 1 of 5 trails in eu-west-1 (org-trail); 1 more needed");
    } finally {
      room.s.cleanup();
    }
    const full = healthy();
    const five = [1, 2, 3, 4, 5].map((i) => ({ Name: `t${i}`, TrailARN: `arn:aws:cloudtrail:eu-west-1:${ACCOUNT}:trail/t${i}`, HomeRegion: "eu-west-1" }));
    full["cloudtrail describe-trails"] = { body: { trailList: five } };
    const r = await run(full);
    try {
      expect(r.status).toBe(1);
      expect(r.stdout).toContain(
        "FAIL  quota: CloudTrail trails per region: 5 of 5 trails in eu-west-1 (t1, t2, t3, t4, t5): no room for accessweaver-prod-audit-trail (the quota cannot be increased; a multi-region trail counts in every region)\n      -> delete a trail that is no longer needed (aws cloudtrail describe-trails --region eu-west-1), or record this account with the organisation's trail",
      );
    } finally {
      r.s.cleanup();
    }
  });

  it("fails a trail of the same name made before the first apply, with its import; passes it once the phase has a state", async () => {
    const arn = `arn:aws:cloudtrail:eu-west-1:${ACCOUNT}:trail/accessweaver-prod-audit-trail`;
    const answers = healthy();
    answers["cloudtrail describe-trails"] = { body: { trailList: [{ Name: "accessweaver-prod-audit-trail", TrailARN: arn, HomeRegion: "eu-west-1" }] } };
    const r = await run(answers);
    try {
      expect(r.status).toBe(1);
      expect(r.stdout).toContain(
        `FAIL  trail: accessweaver-prod-audit-trail already exists (${arn}), and phase observability was never applied: creating it would fail; it is fine only once Terraform imports it\n      -> adopt it: terraform -chdir=${path.join(outdir, "stacks", "accessweaver-prod-observability")} import 'aws_cloudtrail.audit_trail' '${arn}' (after make init ENV=prod PHASE=observability), or delete it if it is a leftover`,
      );
      expect(r.stdout).toContain(
        "PASS  quota: CloudTrail trails per region: 1 of 5 trails in eu-west-1 (accessweaver-prod-audit-trail); the trail is one of them",
      );
    } finally {
      r.s.cleanup();
    }
    answers[`s3api head-object --bucket accessweaver-terraform-state-prod-${ACCOUNT} --key prod/observability/`] = { body: {} };
    const applied = await run(answers);
    try {
      expect(applied.stdout).toContain(
        "PASS  trail: accessweaver-prod-audit-trail exists; phase observability has a state, so it is its own aws_cloudtrail.audit_trail",
      );
    } finally {
      applied.s.cleanup();
    }
  });

  it("fails a budget name already taken in the account, asking Budgets in us-east-1 (a global API)", async () => {
    const answers = healthy();
    answers["budgets describe-budget"] = { body: { Budget: { BudgetName: "AccessWeaver-Production-Monthly", BudgetType: "COST" } } };
    const r = await run(answers);
    try {
      expect(r.status).toBe(1);
      expect(r.s.log()).toContain(
        `aws budgets describe-budget --account-id ${ACCOUNT} --budget-name AccessWeaver-Production-Monthly --region us-east-1 --output json`,
      );
      expect(r.stdout).toContain(
        `FAIL  budget: AccessWeaver-Production-Monthly already exists in account ${ACCOUNT}, and phase observability was never applied: creating it would fail\n      -> adopt it: terraform -chdir=${path.join(outdir, "stacks", "accessweaver-prod-observability")} import 'aws_budgets_budget.budget_budget' '${ACCOUNT}:AccessWeaver-Production-Monthly' (after make init ENV=prod PHASE=observability), or delete it if it is a leftover`,
      );
      // The stand-in answers every describe-budget alike: the account-wide budget is reported under its own address.
      expect(r.stdout).toContain(
        `FAIL  budget: AccessWeaver-Production-Account-Monthly already exists in account ${ACCOUNT}, and phase observability was never applied: creating it would fail\n      -> adopt it: terraform -chdir=${path.join(outdir, "stacks", "accessweaver-prod-observability")} import 'aws_budgets_budget.account-budget_budget' '${ACCOUNT}:AccessWeaver-Production-Account-Monthly'`,
      );
    } finally {
      r.s.cleanup();
    }
  });

  it("reports Inspector's status as information, and reads no detector or hub when their switches are off", async () => {
    const answers = healthy();
    answers["inspector2 batch-get-account-status"] = {
      body: {
        accounts: [{ accountId: ACCOUNT, state: { status: "ENABLED" }, resourceState: { ec2: { status: "DISABLED" }, ecr: { status: "ENABLED" } } }],
        failedAccounts: [],
      },
    };
    const r = await run(answers);
    try {
      expect(r.status).toBe(0);
      expect(r.s.log()).toContain(`aws inspector2 batch-get-account-status --account-ids ${ACCOUNT} --region eu-west-1 --output json`);
      expect(r.stdout).toContain(
        "PASS  Inspector: ECR scanning ENABLED, EC2 scanning DISABLED in eu-west-1; inspector_enabled = true enables both (enabling what is already on changes nothing)",
      );
      expect(r.s.log().filter((c) => /^aws (guardduty|securityhub) /.test(c))).toEqual([]);
    } finally {
      r.s.cleanup();
    }
  });

  describe("with GuardDuty, Security Hub and Inspector on, and staging in the same account", () => {
    let root2: string;
    let outdir2: string;
    beforeAll(async () => {
      root2 = tempDir("aw-preflight-switches-");
      for (const env of ["prod", "staging", "dev"]) {
        fs.mkdirSync(path.join(root2, "environments", env), { recursive: true });
        fs.copyFileSync(path.join(ROOT, `environments/${env}/terraform.tfvars.example`), path.join(root2, `environments/${env}/terraform.tfvars.example`));
      }
      fs.writeFileSync(path.join(root2, "environments/prod/terraform.tfvars"), `${TFVARS}guardduty_enabled = true\nsecurity_hub_enabled = true\n`);
      // staging shares prod's account and region, also turns Inspector on and has a dr_region (a drill); dev is in another account.
      fs.writeFileSync(
        path.join(root2, "environments/staging/terraform.tfvars"),
        `${TFVARS.replace("api.accessweaver.com", "staging.accessweaver.com")}inspector_enabled = true\ndr_region = "${DR}"\n`,
      );
      fs.writeFileSync(
        path.join(root2, "environments/dev/terraform.tfvars"),
        `${TFVARS.replace(/210987654321/g, "333333333333").replace("api.accessweaver.com", "dev.accessweaver.com")}inspector_enabled = true\n`,
      );
      outdir2 = path.join(root2, "cdktf.out");
      await synthesize({ outdir: outdir2, envSelection: "prod", rootDir: root2, notice: () => undefined });
    }, 60_000);
    const env2 = () => ({ ACCESSWEAVER_SETTINGS_ROOT: root2, CDKTF_OUTDIR: outdir2 });

    it("passes an account without a detector or a hub (describe-hub's not-subscribed error means free; through the aws stand-in)", async () => {
      const r = await run(healthy(), env2(), VIA_PATH);
      try {
        expect(r.stdout).toContain("PASS  GuardDuty: no detector in eu-west-1: guardduty_enabled = true creates one");
        expect(r.stdout).toContain("PASS  Security Hub: not enabled in eu-west-1: security_hub_enabled = true enables it");
        expect(r.s.log()).toContain("aws guardduty list-detectors --region eu-west-1 --output json");
        expect(r.s.log()).toContain("aws securityhub describe-hub --region eu-west-1 --output json");
      } finally {
        r.s.cleanup();
      }
    });

    it("fails a detector and a hub that already exist: turn the switch off or import", async () => {
      const answers = healthy();
      answers["guardduty list-detectors"] = { body: { DetectorIds: ["12abc34d567e8fa901bc2d34e56789f0"] } };
      answers["securityhub describe-hub"] = { body: { HubArn: `arn:aws:securityhub:eu-west-1:${ACCOUNT}:hub/default`, AutoEnableControls: true } };
      const r = await run(answers, env2());
      const dir = path.join(outdir2, "stacks", "accessweaver-prod-observability");
      try {
        expect(r.status).toBe(1);
        expect(r.stdout).toContain(
          `FAIL  GuardDuty: detector 12abc34d567e8fa901bc2d34e56789f0 already exists in eu-west-1 (one per account and region): guardduty_enabled = true would fail to create another\n      -> set guardduty_enabled = false in environments/prod/terraform.tfvars if the organisation manages GuardDuty (its findings still reach the alerts topic), or import it: terraform -chdir=${dir} import 'aws_guardduty_detector.scanning_guardduty' '12abc34d567e8fa901bc2d34e56789f0' (after make init ENV=prod PHASE=observability)`,
        );
        expect(r.stdout).toContain(
          `FAIL  Security Hub: already enabled in eu-west-1 (arn:aws:securityhub:eu-west-1:${ACCOUNT}:hub/default): security_hub_enabled = true would fail to enable it again\n      -> set security_hub_enabled = false in environments/prod/terraform.tfvars if the organisation manages Security Hub, or import it: terraform -chdir=${dir} import 'aws_securityhub_account.scanning_security-hub' '${ACCOUNT}'`,
        );
      } finally {
        r.s.cleanup();
      }
    });

    it("warns when Security Hub cannot be read (an error other than not subscribed)", async () => {
      const answers = healthy();
      answers["securityhub describe-hub"] = {
        exit: 254,
        body: "An error occurred (AccessDeniedException) when calling the DescribeHub operation: not authorized",
      };
      const r = await run(answers, env2());
      try {
        expect(r.stdout).toMatch(/^WARN {2}Security Hub: cannot read Security Hub in eu-west-1: .*AccessDeniedException/m);
      } finally {
        r.s.cleanup();
      }
    });

    it("warns that another environment of the same account and region also holds Inspector's switch", async () => {
      const r = await run(healthy(), env2());
      try {
        expect(r.stdout).toContain(
          `WARN  Inspector: staging (environments/staging/terraform.tfvars) also has inspector_enabled = true in account ${ACCOUNT}, eu-west-1: both stacks would hold the account's one switch, and destroying either turns Inspector off for the account\n      -> keep inspector_enabled = true in one environment of the account (prod) and set it to false in the others (docs/audit.md, "Security scanning")`,
        );
        // dev is in another account: not the same switch.
        expect(r.stdout).not.toContain("dev (environments/dev");
        expect(
          r.s
            .log()
            .filter((c) => c.startsWith("aws "))
            .every((c) => !c.includes("333333333333")),
        ).toBe(true);
      } finally {
        r.s.cleanup();
      }
    });

    it("warns that staging, in the same account and region with a dr_region, also replicates the registry from its recovery phase", async () => {
      const r = await run(healthy(), env2());
      try {
        expect(r.stdout).toContain(
          `WARN  image replication: staging (environments/staging/terraform.tfvars, dr_region ${DR}) also replicates the registry of account ${ACCOUNT} in eu-west-1: each recovery phase holds its one replication configuration, so the last apply's rule replaces the other's, and destroying either phase stops the replication of both\n      -> let one environment of the account replicate the images (prod): give the other's images a registry of their own (ecr_registry), or remove its dr_region (staging's is optional)`,
        );
        // The registry itself is free: the recovery phase will create its configuration.
        expect(r.stdout).toMatch(/^PASS {2}image replication: the registry of account \d+ in eu-west-1 has no replication configuration/m);
      } finally {
        r.s.cleanup();
      }
    });
  });

  describe("with a dr_region (prod's default, eu-central-1): the recovery phase", () => {
    const stateKey = `s3api head-object --bucket ${DR_BUCKET} --key prod/recovery/`;
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
    const backups = (...list: object[]) => ({ body: { DBInstanceAutomatedBackups: list } });
    const replicating = (latest: string) => ({
      Status: "replicating",
      Region: "eu-west-1",
      RestoreWindow: { EarliestTime: minutesAgo(7 * 24 * 60), LatestTime: latest },
    });
    /** The recovery phase applied (its state in the DR bucket), its database backups replicated up to `latest`. */
    const recovered = (latest = minutesAgo(10)): Answers => ({
      ...healthy(),
      [stateKey]: { body: {} },
      "rds describe-db-instance-automated-backups": backups(replicating(latest)),
    });
    const denied = (operation: string) => ({
      exit: 254,
      body: `An error occurred (AccessDeniedException) when calling the ${operation} operation: not authorized`,
    });

    it("passes an enabled DR region, a DR backend that the state bucket replicates to, and a free registry; the copies wait for the first apply", async () => {
      const r = await run(healthy());
      try {
        expect(r.status).toBe(0);
        expect(r.stdout).toContain(`PASS  DR region: ${DR} (dr_region) is enabled for account ${ACCOUNT} (ENABLED_BY_DEFAULT)`);
        expect(r.stdout).toContain(`PASS  DR state bucket: ${DR_BUCKET} in ${DR}: versioned, encrypted`);
        expect(r.stdout).toContain(`PASS  DR lock table: ${LOCK_TABLE} in ${DR}: active, encrypted`);
        expect(r.stdout).toContain(
          `PASS  state replication: accessweaver-terraform-state-prod-${ACCOUNT} replicates to ${DR_BUCKET} in ${DR} (rule terraform-state-to-dr-region)`,
        );
        expect(r.stdout).toContain(
          `PASS  image replication: the registry of account ${ACCOUNT} in eu-west-1 has no replication configuration: the recovery phase will create it (aw-api-gateway, aw-pdp-service, aw-pap-service, aw-tenant-service, aw-audit-service to ${DR})`,
        );
        expect(r.stdout).toContain(
          `PASS  DR database backups: phase recovery has no state yet: the backups of accessweaver-prod-postgres replicate to ${DR} from its first apply (make apply ENV=prod PHASE=recovery)`,
        );
        expect(r.stdout).toContain(`PASS  RDS region pair: RDS replicates automated backups from eu-west-1 to ${DR} (dr_region)`);
        expect(r.stdout).toContain(
          `PASS  ECR creation template: no ROOT repository creation template in ${DR}: the recovery phase creates it (encrypted with alias/accessweaver-prod-dr)`,
        );
        expect(r.stdout).toContain(
          `PASS  JWT secret replica: phase cache has no state yet: accessweaver/prod/jwt is replicated to ${DR} from its first apply (make apply ENV=prod PHASE=cache)`,
        );
        const calls = r.s.log();
        expect(calls).toContain(`aws account get-region-opt-status --region-name ${DR} --region eu-west-1 --output json`);
        expect(calls).toContain(`aws s3api get-bucket-replication --bucket accessweaver-terraform-state-prod-${ACCOUNT} --region eu-west-1 --output json`);
        expect(calls).toContain("aws ecr describe-registry --region eu-west-1 --output json");
        // The Account API answered: no fallback; the phase has no state: no backup is read.
        expect(calls.filter((c) => / ec2 describe-regions | rds describe-db-instance-automated-backups /.test(c))).toEqual([]);
        // The cache phase has no state: its secret is read once, by the existing names' check only.
        expect(calls.filter((c) => c.startsWith("aws secretsmanager describe-secret --secret-id accessweaver/prod/jwt "))).toHaveLength(1);
      } finally {
        r.s.cleanup();
      }
    });

    it("fails a DR region that is not enabled, with the command that enables it, and makes no call there; warns while it is being enabled", async () => {
      const answers = healthy();
      answers["account get-region-opt-status"] = { body: { RegionName: DR, RegionOptStatus: "DISABLED" } };
      const r = await run(answers);
      try {
        expect(r.status).toBe(1);
        expect(r.stdout).toContain(
          `FAIL  DR region: ${DR} (dr_region) is not enabled for account ${ACCOUNT} (DISABLED): nothing can be made or copied there; the DR backend and the copies are not checked until it is enabled\n      -> aws account enable-region --region-name ${DR}, then wait until aws account get-region-opt-status --region-name ${DR} answers ENABLED; or choose another dr_region in environments/prod/terraform.tfvars`,
        );
        expect(r.s.log().filter((c) => c.includes(` --region ${DR} `))).toEqual([]);
        expect(r.stdout).not.toMatch(/DR state bucket|DR lock table|state replication|DR database backups/);
        // The registry is in the primary region: still checked.
        expect(r.stdout).toContain("PASS  image replication:");
      } finally {
        r.s.cleanup();
      }
      answers["account get-region-opt-status"] = { body: { RegionName: DR, RegionOptStatus: "ENABLING" } };
      const enabling = await run(answers);
      try {
        expect(enabling.status).toBe(0);
        expect(enabling.stdout).toContain(
          `WARN  DR region: ${DR} (dr_region) is being enabled for account ${ACCOUNT} (ENABLING); the DR backend and the copies are not checked until it is enabled\n      -> wait until aws account get-region-opt-status --region-name ${DR} answers ENABLED (minutes, sometimes hours), then run make preflight ENV=prod again`,
        );
      } finally {
        enabling.s.cleanup();
      }
    });

    it("asks EC2's list of regions where the Account API is denied, and warns when neither answers", async () => {
      const answers = healthy();
      answers["account get-region-opt-status"] = denied("GetRegionOptStatus");
      answers["ec2 describe-regions"] = { body: { Regions: [{ RegionName: DR, Endpoint: `ec2.${DR}.amazonaws.com`, OptInStatus: "not-opted-in" }] } };
      const off = await run(answers);
      try {
        expect(off.status).toBe(1);
        expect(off.s.log()).toContain(`aws ec2 describe-regions --all-regions --region-names ${DR} --region eu-west-1 --output json`);
        expect(off.stdout).toContain(`FAIL  DR region: ${DR} (dr_region) is not enabled for account ${ACCOUNT} (not-opted-in)`);
        expect(off.stdout).toContain(`-> aws account enable-region --region-name ${DR}`);
      } finally {
        off.s.cleanup();
      }
      answers["ec2 describe-regions"] = { body: { Regions: [{ RegionName: DR, OptInStatus: "opt-in-not-required" }] } };
      const on = await run(answers);
      try {
        expect(on.status).toBe(0);
        expect(on.stdout).toContain(`PASS  DR region: ${DR} (dr_region) is enabled for account ${ACCOUNT} (opt-in-not-required)`);
      } finally {
        on.s.cleanup();
      }
      answers["ec2 describe-regions"] = denied("DescribeRegions");
      const unknown = await run(answers);
      try {
        expect(unknown.status).toBe(0);
        expect(unknown.stdout).toMatch(
          new RegExp(
            `^WARN {2}DR region: cannot read whether ${DR} \\(dr_region\\) is enabled for account ${ACCOUNT}: account get-region-opt-status: .*AccessDeniedException.*; ec2 describe-regions: .*AccessDeniedException.*\n {6}-> allow account:GetRegionOptStatus \\(or ec2:DescribeRegions\\) to the caller, or check by hand: aws account get-region-opt-status --region-name ${DR}$`,
            "m",
          ),
        );
        // Not known to be off: the DR backend is still read.
        expect(unknown.stdout).toContain(`PASS  DR state bucket: ${DR_BUCKET} in ${DR}: versioned, encrypted`);
      } finally {
        unknown.s.cleanup();
      }
    });

    it("fails a DR state bucket that does not exist, with setup-backend.sh; the environment's own bucket still passes", async () => {
      const answers = healthy();
      for (const verb of ["get-bucket-versioning", "get-bucket-encryption"]) {
        answers[`s3api ${verb} --bucket ${DR_BUCKET}`] = {
          exit: 254,
          body: "An error occurred (NoSuchBucket) when calling the GetBucketVersioning operation: The specified bucket does not exist",
        };
      }
      const r = await run(answers);
      try {
        expect(r.status).toBe(1);
        expect(r.stdout).toContain(
          `FAIL  DR state bucket: ${DR_BUCKET} in ${DR}: An error occurred (NoSuchBucket) when calling the GetBucketVersioning operation: The specified bucket does not exist\n      -> run scripts/setup-backend.sh prod eu-west-1`,
        );
        expect(r.stdout).toContain(`PASS  state bucket: accessweaver-terraform-state-prod-${ACCOUNT}: versioned, encrypted`);
      } finally {
        r.s.cleanup();
      }
    });

    it("fails a DR lock table missing in the DR region while the environment's exists (the stand-in's tables, by region)", async () => {
      const answers = healthy();
      delete answers["dynamodb describe-table"];
      // The environment's lock table, in eu-west-1 only: the stand-in keeps tables by region.
      const lockTable = (s: Standins) => {
        const table = ["--table-name", LOCK_TABLE, "--region", "eu-west-1"];
        const schema = ["--attribute-definitions", "AttributeName=LockID,AttributeType=S", "--key-schema", "AttributeName=LockID,KeyType=HASH"];
        const options = ["--billing-mode", "PAY_PER_REQUEST", "--sse-specification", "Enabled=true,SSEType=KMS"];
        s.run("aws", ["dynamodb", "create-table", ...table, ...schema, ...options]);
        s.run("aws", ["dynamodb", "wait", "table-exists", ...table]);
      };
      const r = await run(answers, {}, { ...VIA_PATH, prepare: lockTable });
      try {
        expect(r.status).toBe(1);
        expect(r.stdout).toContain(`PASS  lock table: ${LOCK_TABLE}: active, encrypted`);
        expect(r.stdout).toMatch(
          new RegExp(
            `^FAIL {2}DR lock table: ${LOCK_TABLE} in ${DR}: An error occurred \\(ResourceNotFoundException\\).*\n {6}-> run scripts/setup-backend.sh prod eu-west-1$`,
            "m",
          ),
        );
        expect(r.s.log()).toContain(`aws dynamodb describe-table --table-name ${LOCK_TABLE} --region ${DR} --output json`);
      } finally {
        r.s.cleanup();
      }
    });

    it("fails a state bucket that does not replicate to the DR bucket: no configuration, or no enabled rule to it", async () => {
      const answers = healthy();
      answers["s3api get-bucket-replication"] = {
        exit: 254,
        body: "An error occurred (ReplicationConfigurationNotFoundError) when calling the GetBucketReplication operation: The replication configuration was not found",
      };
      const none = await run(answers);
      try {
        expect(none.status).toBe(1);
        expect(none.stdout).toContain(
          `FAIL  state replication: accessweaver-terraform-state-prod-${ACCOUNT} has no replication configuration (ReplicationConfigurationNotFoundError): its state files are not copied to ${DR_BUCKET} in ${DR}\n      -> run scripts/setup-backend.sh prod eu-west-1`,
        );
      } finally {
        none.s.cleanup();
      }
      answers["s3api get-bucket-replication"] = {
        body: {
          ReplicationConfiguration: {
            Role: `arn:aws:iam::${ACCOUNT}:role/x`,
            Rules: [
              { ID: "old", Status: "Disabled", Destination: { Bucket: `arn:aws:s3:::${DR_BUCKET}` } },
              { ID: "elsewhere", Status: "Enabled", Destination: { Bucket: "arn:aws:s3:::someone-elses-bucket" } },
            ],
          },
        },
      };
      const other = await run(answers);
      try {
        expect(other.status).toBe(1);
        expect(other.stdout).toContain(
          `FAIL  state replication: no enabled rule of accessweaver-terraform-state-prod-${ACCOUNT} replicates to arn:aws:s3:::${DR_BUCKET} (old: Disabled to arn:aws:s3:::${DR_BUCKET}; elsewhere: Enabled to arn:aws:s3:::someone-elses-bucket)\n      -> run scripts/setup-backend.sh prod eu-west-1`,
        );
      } finally {
        other.s.cleanup();
      }
    });

    it("passes the registry's configuration when it is the recovery phase's own; fails other rules before the phase's first apply, warns after", async () => {
      const own = {
        destinations: [{ region: DR, registryId: ACCOUNT }],
        repositoryFilters: SERVICES.map((filter) => ({ filter, filterType: "PREFIX_MATCH" })),
      };
      const registry = (...rules: object[]) => ({ body: { registryId: ACCOUNT, replicationConfiguration: { rules } } });
      const mine = healthy();
      mine["ecr describe-registry"] = registry(own);
      const r = await run(mine);
      try {
        expect(r.status).toBe(0);
        expect(r.stdout).toContain(
          `PASS  image replication: the registry of account ${ACCOUNT} in eu-west-1 replicates aw-api-gateway, aw-pdp-service, aw-pap-service, aw-tenant-service, aw-audit-service to ${DR}: the recovery phase's own rule`,
        );
      } finally {
        r.s.cleanup();
      }
      // Another team's rule to another region, and one that sends everything to another account.
      const others = [
        { destinations: [{ region: "eu-west-3", registryId: ACCOUNT }], repositoryFilters: [{ filter: "team-x", filterType: "PREFIX_MATCH" }] },
        { destinations: [{ region: DR, registryId: "444455556666" }] },
      ];
      const shared = healthy();
      shared["ecr describe-registry"] = registry(own, ...others);
      const before = await run(shared);
      const detail = `image replication: the registry of account ${ACCOUNT} in eu-west-1 already replicates team-x to eu-west-3; every repository to ${DR} of account 444455556666, which is not this environment's (aw-api-gateway, aw-pdp-service, aw-pap-service, aw-tenant-service, aw-audit-service to ${DR}). ECR keeps one replication configuration per registry, and the recovery phase owns it`;
      const fix = `-> agree with the owner of those rules (another environment of the account, another team) on one configuration: merge the rules by hand (the recovery phase then shows the others as drift, and its next apply removes them again), or keep this environment's images in a registry of their own (ecr_registry in environments/prod/terraform.tfvars, another account, replicated by its owner)`;
      try {
        expect(before.status).toBe(1);
        expect(before.stdout).toContain(
          `FAIL  ${detail}: its first apply would REPLACE the configuration with its own rule and drop those rules\n      ${fix}`,
        );
        expect(before.s.log()).toContain(`aws s3api head-object --bucket ${DR_BUCKET} --key prod/recovery/terraform.tfstate --region ${DR} --output json`);
      } finally {
        before.s.cleanup();
      }
      const after = await run({ ...recovered(), "ecr describe-registry": registry(own, ...others) });
      try {
        expect(after.status).toBe(0);
        expect(after.stdout).toContain(`WARN  ${detail}: its next apply removes those rules\n      ${fix}`);
      } finally {
        after.s.cleanup();
      }
    });

    it("fails a DR region to which RDS cannot replicate the primary's automated backups; warns when it cannot be read", async () => {
      const cases: [Answers[string], string, number][] = [
        [
          { body: { SourceRegions: [{ RegionName: "eu-west-1", SupportsDBInstanceAutomatedBackupsReplication: false }] } },
          `FAIL  RDS region pair: RDS cannot replicate automated backups from eu-west-1 to ${DR} (aws rds describe-source-regions --region ${DR} --region-name eu-west-1 answers SupportsDBInstanceAutomatedBackupsReplication false)\n      -> choose another dr_region in environments/prod/terraform.tfvars`,
          1,
        ],
        [
          { body: { SourceRegions: [] } },
          `FAIL  RDS region pair: RDS cannot replicate automated backups from eu-west-1 to ${DR} (aws rds describe-source-regions --region ${DR} --region-name eu-west-1 answers SupportsDBInstanceAutomatedBackupsReplication absent)`,
          1,
        ],
        [
          denied("DescribeSourceRegions"),
          `WARN  RDS region pair: cannot read whether RDS replicates automated backups from eu-west-1 to ${DR}: An error occurred (AccessDeniedException) when calling the DescribeSourceRegions operation: not authorized\n      -> check by hand: aws rds describe-source-regions --region ${DR} --region-name eu-west-1 must answer SupportsDBInstanceAutomatedBackupsReplication true`,
          0,
        ],
      ];
      for (const [answer, line, status] of cases) {
        const r = await run({ ...healthy(), "rds describe-source-regions": answer });
        try {
          expect(r.stdout).toContain(line);
          expect(r.status).toBe(status);
          expect(r.s.log()).toContain(`aws rds describe-source-regions --region ${DR} --region-name eu-west-1 --output json`);
        } finally {
          r.s.cleanup();
        }
      }
    });

    it("fails a ROOT creation template in the DR region that is not this environment's before the phase's first apply; passes none, or its own", async () => {
      const template = (kmsKey: string) => ({
        body: {
          registryId: ACCOUNT,
          repositoryCreationTemplates: [{ prefix: "ROOT", appliedFor: ["REPLICATION"], encryptionConfiguration: { encryptionType: "KMS", kmsKey } }],
        },
      });
      const foreign = `arn:aws:kms:${DR}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
      const ownAlias = `arn:aws:kms:${DR}:${ACCOUNT}:alias/accessweaver-prod-dr`;
      const notFound = {
        exit: 254,
        body: "An error occurred (TemplateNotFoundException) when calling the DescribeRepositoryCreationTemplates operation: The specified repository creation template could not be found",
      };
      const cases: [Answers, string, number][] = [
        [
          { ...healthy(), "ecr describe-repository-creation-templates": template(foreign) },
          `FAIL  ECR creation template: a ROOT repository creation template encrypted with ${foreign} already exists in ${DR}, not with this environment's DR key (alias/accessweaver-prod-dr), while phase recovery has no state: its apply would fail (one template per prefix)\n      -> find its owner`,
          1,
        ],
        [
          { ...healthy(), "ecr describe-repository-creation-templates": notFound },
          `PASS  ECR creation template: no ROOT repository creation template in ${DR}: the recovery phase creates it`,
          0,
        ],
        [
          { ...recovered(), "ecr describe-repository-creation-templates": template(foreign) },
          `PASS  ECR creation template: the ROOT repository creation template in ${DR} (encrypted with ${foreign}) is the recovery phase's own (it has a state)`,
          0,
        ],
        [
          { ...healthy(), "ecr describe-repository-creation-templates": template(ownAlias) },
          `WARN  ECR creation template: a ROOT repository creation template with the DR key (encrypted with ${ownAlias}) already exists in ${DR} while phase recovery has no state: its first apply fails on it (one template per prefix) unless it is imported`,
          0,
        ],
      ];
      for (const [answers, line, status] of cases) {
        const r = await run(answers);
        try {
          expect(r.stdout).toContain(line);
          expect(r.status).toBe(status);
          expect(r.s.log()).toContain(`aws ecr describe-repository-creation-templates --prefixes ROOT --region ${DR} --output json`);
        } finally {
          r.s.cleanup();
        }
      }
    });

    it("once the cache phase has a state, passes the JWT secret's replica in sync in the DR region; warns while it is made, fails one failed or missing", async () => {
      const cacheState = `s3api head-object --bucket accessweaver-terraform-state-prod-${ACCOUNT} --key prod/cache/`;
      const jwt = (...replicas: object[]) => ({
        body: {
          ARN: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:accessweaver/prod/jwt-AbCdEf`,
          Name: "accessweaver/prod/jwt",
          ReplicationStatus: replicas,
        },
      });
      const cases: [Answers[string], string, number][] = [
        [
          jwt({ Region: DR, KmsKeyId: "alias/accessweaver-prod-dr", Status: "InSync" }),
          `PASS  JWT secret replica: accessweaver/prod/jwt is replicated to ${DR} (InSync)`,
          0,
        ],
        [
          jwt({ Region: DR, Status: "InProgress", StatusMessage: "Replication in progress" }),
          `WARN  JWT secret replica: accessweaver/prod/jwt's replica in ${DR} is being made (InProgress: Replication in progress)`,
          0,
        ],
        [
          jwt({ Region: DR, Status: "Failed", StatusMessage: "Replication failed: a secret with this name already exists in this region." }),
          `FAIL  JWT secret replica: accessweaver/prod/jwt's replica in ${DR} is Failed: Replication failed: a secret with this name already exists in this region.\n      -> fix what the message names`,
          1,
        ],
        [
          jwt({ Region: "eu-west-3", Status: "InSync" }),
          `FAIL  JWT secret replica: accessweaver/prod/jwt has no replica in ${DR}: a restore there cannot verify the tokens issued before it\n      -> make apply ENV=prod PHASE=cache adds the replica`,
          1,
        ],
      ];
      for (const [answer, line, status] of cases) {
        const r = await run({ ...healthy(), [cacheState]: { body: {} }, "secretsmanager describe-secret --secret-id accessweaver/prod/jwt": answer });
        try {
          expect(r.stdout).toContain(line);
          expect(r.status).toBe(status);
          // Read in the primary region, where the secret is (a second read after the existing names' check).
          expect(
            r.s.log().filter((c) => c === `aws secretsmanager describe-secret --secret-id accessweaver/prod/jwt --region eu-west-1 --output json`),
          ).toHaveLength(2);
        } finally {
          r.s.cleanup();
        }
      }
    });

    it("once the phase has a state, passes backups replicated within the hour, with the latest restorable time", async () => {
      const latest = minutesAgo(10);
      const r = await run(recovered(latest));
      try {
        expect(r.status).toBe(0);
        expect(r.s.log()).toContain(
          `aws rds describe-db-instance-automated-backups --db-instance-identifier accessweaver-prod-postgres --region ${DR} --output json`,
        );
        expect(r.stdout).toMatch(
          new RegExp(
            `^PASS {2}DR database backups: accessweaver-prod-postgres's backups replicate to ${DR}, latest restorable time ${latest.replace(/\./g, "\\.")} \\(1[01] minutes ago\\), within the guide's RPO of 60 minutes for a region loss$`,
            "m",
          ),
        );
      } finally {
        r.s.cleanup();
      }
    });

    it("fails backups older than the RPO, none replicated, or a replication that stopped; warns while it starts", async () => {
      const stale = minutesAgo(180);
      const cases: [Answers[string], RegExp][] = [
        [
          backups(replicating(stale)),
          new RegExp(
            `^FAIL {2}DR database backups: .*latest restorable time ${stale.replace(/\./g, "\\.")} \\(18[01] minutes ago\\): the guide's RPO for a region loss \\(< 1 hour\\) is exceeded\n {6}-> the transaction logs are not reaching ${DR}: .*aws rds describe-events --source-type db-instance --source-identifier accessweaver-prod-postgres`,
            "m",
          ),
        ],
        [
          backups(),
          /^FAIL {2}DR database backups: no backup of accessweaver-prod-postgres is replicated to eu-central-1: a restore there has nothing to start from\n {6}-> make apply ENV=prod PHASE=recovery starts the replication again/m,
        ],
        [
          { exit: 254, body: "An error occurred (DBInstanceAutomatedBackupNotFound) when calling the DescribeDBInstanceAutomatedBackups operation: not found" },
          /^FAIL {2}DR database backups: no backup of accessweaver-prod-postgres is replicated to eu-central-1/m,
        ],
        [
          backups({ Status: "retained", RestoreWindow: { LatestTime: stale } }),
          /^FAIL {2}DR database backups: the replication of accessweaver-prod-postgres's backups to eu-central-1 stopped \(retained; latest restorable time .*\): what is kept there ages until its retention ends\n {6}-> find why \(RDS stops it when either region is opted out/m,
        ],
        [
          backups({ Status: "pending" }),
          /^WARN {2}DR database backups: the replication of accessweaver-prod-postgres's backups to eu-central-1 is starting \(pending; no restorable time\): RDS copies the latest snapshot first/m,
        ],
      ];
      for (const [answer, line] of cases) {
        const r = await run({ ...recovered(), "rds describe-db-instance-automated-backups": answer });
        try {
          expect(r.stdout).toMatch(line);
          expect(r.status).toBe(line.source.startsWith("^FAIL") ? 1 : 0);
        } finally {
          r.s.cleanup();
        }
      }
    });

    describe("dev (no dr_region), and images in another account's registry", () => {
      let root3: string;
      let outdir3: string;
      beforeAll(async () => {
        root3 = tempDir("aw-preflight-dr-");
        for (const env of ["prod", "dev"]) {
          fs.mkdirSync(path.join(root3, "environments", env), { recursive: true });
          fs.copyFileSync(path.join(ROOT, `environments/${env}/terraform.tfvars.example`), path.join(root3, `environments/${env}/terraform.tfvars.example`));
        }
        const registry = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`;
        fs.writeFileSync(path.join(root3, "environments/prod/terraform.tfvars"), TFVARS.replace(registry, "999988887777.dkr.ecr.eu-west-1.amazonaws.com"));
        fs.writeFileSync(
          path.join(root3, "environments/dev/terraform.tfvars"),
          `${TFVARS.replace("api.accessweaver.com", "dev.accessweaver.com")}inspector_enabled = false\n`,
        );
        outdir3 = path.join(root3, "cdktf.out");
        for (const env of ["prod", "dev"]) await synthesize({ outdir: outdir3, envSelection: env, rootDir: root3, notice: () => undefined });
      }, 60_000);
      const env3 = () => ({ ACCESSWEAVER_SETTINGS_ROOT: root3, CDKTF_OUTDIR: outdir3 });

      it("makes no call of the recovery phase's checks for dev", async () => {
        const r = await run(healthy(), env3(), { env: "dev" });
        try {
          expect(r.stderr).toBe("");
          const calls = r.s.log();
          expect(calls.length).toBeGreaterThan(10);
          expect(
            calls.filter((c) =>
              /eu-central-1|-dr-|recovery|^aws account |get-bucket-replication|describe-registry|describe-regions|automated-backups|describe-source-regions|repository-creation-templates/.test(
                c,
              ),
            ),
          ).toEqual([]);
          // The existing names' check reads the JWT secret; no replica check reads it again.
          expect(calls.filter((c) => c.startsWith("aws secretsmanager describe-secret --secret-id accessweaver/dev/jwt "))).toHaveLength(1);
          expect(r.stdout).not.toMatch(/DR |replication/);
          expect(r.stdout).toMatch(/^Preflight dev: \d+ pass, 0 warn, 0 fail\.$/m);
        } finally {
          r.s.cleanup();
        }
      });

      it("warns that another account's registry is replicated by its owner, without reading it", async () => {
        const r = await run(healthy(), env3());
        try {
          expect(r.stdout).toContain(
            `WARN  image replication: the images are in account 999988887777's registry (ecr_registry), not in account ${ACCOUNT}'s: the recovery phase does not replicate them\n      -> the registry's owner must replicate aw-api-gateway, aw-pdp-service, aw-pap-service, aw-tenant-service, aw-audit-service to ${DR} (its registry's one replication configuration is theirs); a restore in ${DR} pulls them there`,
          );
          expect(r.s.log().filter((c) => c.startsWith("aws ecr describe-registry") || c.includes("repository-creation-templates"))).toEqual([]);
          expect(r.stdout).not.toContain("ECR creation template");
        } finally {
          r.s.cleanup();
        }
      });
    });
  });

  it("refuses a call whose verb could change something, before making it", () => {
    const s = makeStandins(["aws"], { STANDIN_AWS_ACCOUNT: ACCOUNT });
    try {
      const aws = awsCli("eu-west-1", s.env);
      expect(() => aws("guardduty", "create-detector", "--enable")).toThrow("preflight makes read-only calls only; refused: aws guardduty create-detector");
      expect(() => aws("inspector2", "batch-enable", "--resource-types", "ECR")).toThrow("refused: aws inspector2 batch-enable");
      expect(s.log()).toEqual([]);
    } finally {
      s.cleanup();
    }
  });

  it("refuses the example settings before any call", async () => {
    const bare = tempDir("aw-preflight-example-");
    fs.mkdirSync(path.join(bare, "environments", "prod"), { recursive: true });
    fs.copyFileSync(path.join(ROOT, "environments/prod/terraform.tfvars.example"), path.join(bare, "environments/prod/terraform.tfvars.example"));
    const r = await run(healthy(), { ACCESSWEAVER_SETTINGS_ROOT: bare });
    try {
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("preflight refused for prod: it would run on the example settings");
      expect(r.s.log()).toEqual([]);
    } finally {
      r.s.cleanup();
    }
  });
});
