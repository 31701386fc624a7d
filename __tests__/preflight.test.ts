// make preflight's checks, run for real with the recording aws and dig stand-ins scripted per case:
// every call is read-only, and each failure names what to do.
import * as fs from "fs";
import * as path from "path";
import { needs } from "../scripts/preflight/checks";
import { main } from "../scripts/preflight";
import { synthesize } from "../src/synth";
import { SERVICES } from "../src/naming";
import { Standins, makeStandins } from "./support/standins";
import { ROOT, config, tempDir } from "./support/config";

const ACCOUNT = "210987654321";
const ZONE = "Z0PREFLIGHTTEST";
const NS = ["ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk"];

/** A prod settings file with the operator's own values (not the example's). */
const TFVARS = `aws_account_id = "${ACCOUNT}"
domain_name = "api.accessweaver.com"
route53_zone_id = "${ZONE}"
alert_email_addresses = ["oncall@accessweaver.com"]
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
    "s3api get-bucket-encryption": { body: { ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms" } }] } } },
    "dynamodb describe-table": { body: { Table: { TableStatus: "ACTIVE", SSEDescription: { Status: "ENABLED" } } } },
    "route53 get-hosted-zone": { body: { HostedZone: { Name: "accessweaver.com.", Config: { PrivateZone: false } }, DelegationSet: { NameServers: NS } } },
    "service-quotas get-service-quota --service-code fargate": quota(4000),
    "service-quotas get-service-quota --service-code ecs": quota(5000),
    "service-quotas get-service-quota --service-code ec2": quota(5),
    "service-quotas get-service-quota --service-code vpc --quota-code L-F678F1CE": quota(5),
    "service-quotas get-service-quota --service-code vpc --quota-code L-29B6F2EB": quota(50),
    "service-quotas get-service-quota --service-code rds": quota(40),
    "service-quotas list-service-quotas --service-code elasticache": { body: { Quotas: [{ QuotaName: "Nodes per Region", QuotaCode: "L-EC000001", Value: 300 }] } },
    "ec2 describe-addresses": { body: { Addresses: [{}] } },
    "ec2 describe-vpcs": { body: { Vpcs: [{}] } },
    "rds describe-db-instances": { body: { DBInstances: [] } },
    "elasticache describe-cache-clusters": { body: { CacheClusters: [] } },
    "ecr describe-images": { body: { imageDetails: [{ imageTags: ["x"] }] } },
    "s3api head-object": { exit: 254, body: "An error occurred (404) when calling the HeadObject operation: Not Found" },
    "kms list-aliases": { body: { Aliases: [{ AliasName: "alias/aws/s3" }] } },
    "logs describe-log-groups": { body: { logGroups: [] } },
    "secretsmanager describe-secret": { exit: 254, body: "An error occurred (ResourceNotFoundException) when calling the DescribeSecret operation: Secrets Manager can't find the specified secret." },
    "s3api head-bucket": { exit: 254, body: "An error occurred (404) when calling the HeadBucket operation: Not Found" },
  };
  return answers;
}

/** Runs the preflight in-process (its calls go to the stand-ins on the environment's PATH). */
async function run(answers: Answers, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ s: Standins; status: number; stdout: string; stderr: string }> {
  const s = makeStandins(["aws", "dig"], { STANDIN_AWS_ACCOUNT: ACCOUNT });
  const dir = path.join(s.stateDir, "aws", "scripted");
  fs.mkdirSync(dir, { recursive: true });
  // More specific prefixes first: files answer in name order.
  Object.entries(answers)
    .sort(([a], [b]) => b.length - a.length)
    .forEach(([match, a], i) => fs.writeFileSync(path.join(dir, `${String(i).padStart(3, "0")}.answer`), `match: ${match}\nexit: ${a.exit ?? 0}\n---\n${typeof a.body === "string" ? a.body : JSON.stringify(a.body)}`));
  fs.mkdirSync(path.join(s.stateDir, "dig"), { recursive: true });
  fs.writeFileSync(path.join(s.stateDir, "dig", "accessweaver.com"), NS.map((n) => `${n}.`).join("\n"));
  const env: NodeJS.ProcessEnv = { ...s.env, CDKTF_OUTDIR: outdir, ACCESSWEAVER_SETTINGS_ROOT: root, AWS_PROFILE: "accessweaver-prod", ...extraEnv };
  delete env.AWS_REGION;
  delete env.AWS_DEFAULT_REGION;
  let stdout = "";
  let stderr = "";
  const status = await main(["prod"], { env, out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { s, status, stdout, stderr };
}

const READ_ONLY_CALL = /^(aws \S+ (get|describe|list|head)-\S*|dig \+short NS \S+)( |$)/;

describe("make preflight", () => {
  it("passes on a ready account, with read-only calls only, each passing the environment's region", async () => {
    const r = await run(healthy());
    try {
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const calls = r.s.log();
      for (const c of calls) expect(c).toMatch(READ_ONLY_CALL);
      for (const c of calls.filter((x) => x.startsWith("aws "))) expect(c).toMatch(/ --region eu-west-1 --output json$/);
      expect(calls.slice(0, 5).map((c) => c.split(" --region")[0])).toEqual([
        "aws sts get-caller-identity",
        `aws s3api get-bucket-versioning --bucket accessweaver-terraform-state-prod-${ACCOUNT}`,
        `aws s3api get-bucket-encryption --bucket accessweaver-terraform-state-prod-${ACCOUNT}`,
        "aws dynamodb describe-table --table-name accessweaver-terraform-locks-prod",
        `aws route53 get-hosted-zone --id ${ZONE}`,
      ]);
      expect(calls).toContain("dig +short NS accessweaver.com");
      expect(calls).toContain(`aws ecr describe-images --registry-id ${ACCOUNT} --repository-name aw-pdp-service --image-ids imageTag=2.4.2 --region eu-west-1 --output json`);
      expect(r.stdout).toMatch(/^PASS {2}quota: Fargate On-Demand vCPUs: needed 48 \/ available 4000 vCPU \(quota 4000\)$/m);
      expect(r.stdout).toMatch(/^PASS {2}delegation: accessweaver\.com is delegated to the zone's 2 name servers$/m);
      expect(r.stdout).toMatch(/^Preflight prod: \d+ pass, 0 warn, 0 fail\.$/m);
    } finally {
      r.s.cleanup();
    }
  });

  it("computes prod's Fargate need from the profile and the catalog: ceilings plus the gateway's blue/green surge", async () => {
    // (3 x 1 + 3 x 2 + 2 x 1 + 2 x 0.5 + 2 x 0.5) vCPU x 3 (ceiling) = 39, plus 9 x 1 for the gateway's second set.
    expect(needs(config("prod"))).toEqual(expect.objectContaining({ fargateVcpu: 39, surgeVcpu: 9, maxTasksPerService: 9, eips: 3, interfaceEndpoints: 5, cacheNodes: 9 }));
  });

  it("stops at the credentials when they are for another account, naming AWS_PROFILE", async () => {
    const answers = healthy();
    answers["sts get-caller-identity"] = { body: { Account: "999999999999", Arn: "arn:aws:iam::999999999999:user/x" } };
    const r = await run(answers);
    try {
      expect(r.status).toBe(1);
      expect(r.stdout).toContain(`FAIL  credentials: the caller is in account 999999999999, environments/prod/terraform.tfvars says aws_account_id = "${ACCOUNT}"`);
      expect(r.stdout).toContain("-> use credentials of account 210987654321: AWS_PROFILE=accessweaver-prod; select the environment's profile (export AWS_PROFILE=accessweaver-prod)");
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
      expect(r.stdout).toContain("FAIL  quota: Fargate On-Demand vCPUs: needed 48 / available 6 vCPU (quota 6)\n      -> aws service-quotas request-service-quota-increase --service-code fargate --quota-code L-3032A538 --desired-value 48 --region eu-west-1");
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
    undelegated["route53 get-hosted-zone"] = { body: { HostedZone: { Name: "accessweaver.com.", Config: { PrivateZone: false } }, DelegationSet: { NameServers: ["ns-9.awsdns-09.net"] } } };
    const r = await run(undelegated);
    try {
      expect(r.status).toBe(1);
      expect(r.stdout).toContain("FAIL  delegation: DNS serves accessweaver.com from ns-1.awsdns-01.org, ns-2.awsdns-02.co.uk, the zone's name servers are ns-9.awsdns-09.net");
    } finally {
      r.s.cleanup();
    }
  });

  it("fails a service whose image tag is not in the registry", async () => {
    const answers = healthy();
    answers["ecr describe-images --registry-id 210987654321 --repository-name aw-pdp-service"] = {
      exit: 254,
      body: "An error occurred (ImageNotFoundException) when calling the DescribeImages operation: The image with imageId {imageTag:'2.4.2'} does not exist",
    };
    const r = await run(answers);
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
      expect(r.s.log()).toContain(`aws s3api head-object --bucket accessweaver-terraform-state-prod-${ACCOUNT} --key prod/network/terraform.tfstate --region eu-west-1 --output json`);
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
    answers["s3api head-bucket --bucket accessweaver-prod-alb-access-logs-"] = { exit: 254, body: "An error occurred (403) when calling the HeadBucket operation: Forbidden" };
    const r = await run(answers);
    try {
      expect(r.status).toBe(1);
      expect(r.stdout).toContain(`FAIL  name accessweaver-prod-alb-access-logs-${ACCOUNT}: bucket accessweaver-prod-alb-access-logs-${ACCOUNT} exists in another account`);
    } finally {
      r.s.cleanup();
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
