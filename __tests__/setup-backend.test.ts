// scripts/setup-backend.sh, run for real with the recording aws stand-in first on PATH.
// The stand-in answers from its own state (so a second run sees what the first created) and
// enforces some AWS rules itself (LocationConstraint, a new table is CREATING until waited for).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isDeepStrictEqual } from "util";
import { makeStandins, Standins } from "./support/standins";

const ROOT = path.resolve(__dirname, "..");
const SCRIPT = "scripts/setup-backend.sh";
const ACCOUNT = "123456789012";
const bucketOf = (env: string) => `accessweaver-terraform-state-${env}-${ACCOUNT}`;
const tableOf = (env: string) => `accessweaver-terraform-locks-${env}`;
/** A call that changes something in AWS. */
const MUTATING = /^aws (s3api|dynamodb) (create|put|update|delete)-/;
const STEP = /^(created|updated|unchanged) /;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

/** A settings folder with no terraform.tfvars unless a test writes one, so an operator's own copy never leaks in. */
function settingsRoot(tfvars?: { env: string; text: string }): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "aw-backend-settings-"));
  if (tfvars) {
    fs.mkdirSync(path.join(root, "environments", tfvars.env), { recursive: true });
    fs.writeFileSync(path.join(root, "environments", tfvars.env, "terraform.tfvars"), tfvars.text);
  }
  return root;
}

function run(s: Standins, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Run {
  const env = { ...s.env, ACCESSWEAVER_SETTINGS_ROOT: settingsRoot(), ...extraEnv };
  const r = spawnSync("bash", [SCRIPT, ...args], { cwd: ROOT, env, encoding: "utf8" });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split("\n").filter((l) => l !== "") };
}

/** Matches a string argument holding JSON deep-equal to `expected` (key order aside). */
function json(expected: unknown) {
  return {
    $$typeof: Symbol.for("jest.asymmetricMatcher"),
    asymmetricMatch(actual: unknown): boolean {
      if (typeof actual !== "string") return false;
      try {
        return isDeepStrictEqual(JSON.parse(actual), expected);
      } catch {
        return false;
      }
    },
    toString: () => "JsonMatching",
    toAsymmetricMatcher: () => `JSON ${JSON.stringify(expected)}`,
  };
}

// What the backend must hold, written here independently of the script.
const ENCRYPTION = { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms" }, BucketKeyEnabled: true }] };
const denyInsecureTransport = (bucket: string) => ({
  Sid: "DenyInsecureTransport",
  Effect: "Deny",
  Principal: "*",
  Action: "s3:*",
  Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
  Condition: { Bool: { "aws:SecureTransport": "false" } },
});
const RETENTION_RULE = {
  ID: "terraform-state-retention",
  Status: "Enabled",
  Filter: { Prefix: "" },
  NoncurrentVersionExpiration: { NoncurrentDays: 365, NewerNoncurrentVersions: 3 },
  AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
};
const tagsOf = (env: string) => [
  { Key: "Project", Value: "AccessWeaver" },
  { Key: "Environment", Value: env },
  { Key: "ManagedBy", Value: "setup-backend" },
];

function bucketReads(b: string, region: string): unknown[][] {
  const r = ["--region", region];
  return [
    ["aws", "s3api", "get-bucket-versioning", "--bucket", b, "--query", "Status", "--output", "text", ...r],
    ["aws", "s3api", "get-bucket-encryption", "--bucket", b, "--output", "json", ...r],
    ["aws", "s3api", "get-public-access-block", "--bucket", b, "--output", "json", ...r],
    ["aws", "s3api", "get-bucket-policy", "--bucket", b, "--query", "Policy", "--output", "text", ...r],
    ["aws", "s3api", "get-bucket-lifecycle-configuration", "--bucket", b, "--output", "json", ...r],
    ["aws", "s3api", "get-bucket-tagging", "--bucket", b, "--output", "json", ...r],
  ];
}
const stsCall = (region: string) => ["aws", "sts", "get-caller-identity", "--query", "Account", "--output", "text", "--region", region];
const headBucket = (b: string, region: string) => ["aws", "s3api", "head-bucket", "--bucket", b, "--output", "json", "--region", region];
const describeTable = (t: string, region: string) => [
  "aws",
  "dynamodb",
  "describe-table",
  "--table-name",
  t,
  "--query",
  "Table.[TableStatus,DeletionProtectionEnabled]",
  "--output",
  "text",
  "--region",
  region,
];
const describePitr = (t: string, region: string) => [
  "aws",
  "dynamodb",
  "describe-continuous-backups",
  "--table-name",
  t,
  "--query",
  "ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus",
  "--output",
  "text",
  "--region",
  region,
];
const verification = (b: string, t: string, region: string) => [
  ["aws", "s3", "ls", `s3://${b}`, "--region", region],
  ["aws", "dynamodb", "describe-table", "--table-name", t, "--query", "Table.TableStatus", "--output", "text", "--region", region],
];

function firstRunCalls(env: string, region: string): unknown[][] {
  const b = bucketOf(env);
  const t = tableOf(env);
  const r = ["--region", region];
  const location = region === "us-east-1" ? [] : ["--create-bucket-configuration", `LocationConstraint=${region}`];
  return [
    stsCall(region),
    headBucket(b, region),
    ["aws", "s3api", "create-bucket", "--bucket", b, ...location, ...r],
    ...bucketReads(b, region),
    ["aws", "s3api", "put-bucket-versioning", "--bucket", b, "--versioning-configuration", "Status=Enabled", ...r],
    ["aws", "s3api", "put-bucket-encryption", "--bucket", b, "--server-side-encryption-configuration", json(ENCRYPTION), ...r],
    // no put-public-access-block: a new bucket already blocks public access (S3's default, the stand-in's too)
    ["aws", "s3api", "put-bucket-policy", "--bucket", b, "--policy", json({ Version: "2012-10-17", Statement: [denyInsecureTransport(b)] }), ...r],
    ["aws", "s3api", "put-bucket-lifecycle-configuration", "--bucket", b, "--lifecycle-configuration", json({ Rules: [RETENTION_RULE] }), ...r],
    ["aws", "s3api", "put-bucket-tagging", "--bucket", b, "--tagging", json({ TagSet: tagsOf(env) }), ...r],
    describeTable(t, region),
    [
      "aws",
      "dynamodb",
      "create-table",
      "--table-name",
      t,
      "--attribute-definitions",
      "AttributeName=LockID,AttributeType=S",
      "--key-schema",
      "AttributeName=LockID,KeyType=HASH",
      "--billing-mode",
      "PAY_PER_REQUEST",
      "--sse-specification",
      "Enabled=true,SSEType=KMS",
      "--deletion-protection-enabled",
      "--tags",
      "Key=Project,Value=AccessWeaver",
      `Key=Environment,Value=${env}`,
      "Key=ManagedBy,Value=setup-backend",
      ...r,
    ],
    ["aws", "dynamodb", "wait", "table-exists", "--table-name", t, ...r],
    describePitr(t, region),
    ["aws", "dynamodb", "update-continuous-backups", "--table-name", t, "--point-in-time-recovery-specification", "PointInTimeRecoveryEnabled=true", ...r],
    ...verification(b, t, region),
  ];
}

describe("scripts/setup-backend.sh", () => {
  const all: Standins[] = [];
  const standins = (extraEnv: NodeJS.ProcessEnv = {}): Standins => {
    const s = makeStandins(["aws"], extraEnv);
    all.push(s);
    return s;
  };
  /** Stand-ins whose state is a copy of the complete dev/eu-west-1 backend made by the first run. */
  const withCompleteBackend = (extraEnv: NodeJS.ProcessEnv = {}): Standins => {
    const s = standins(extraEnv);
    fs.cpSync(fresh.stateDir, s.stateDir, { recursive: true });
    return s;
  };
  const B = bucketOf("dev");
  const T = tableOf("dev");

  let fresh: Standins;
  let firstRun: Run;
  beforeAll(() => {
    fresh = standins();
    firstRun = run(fresh, ["dev", "eu-west-1"]);
  });
  afterAll(() => all.forEach((s) => s.cleanup()));

  test("first run: creates and configures the bucket, then the lock table, then verifies, in this order", () => {
    expect(firstRun.stderr).toBe("");
    expect(firstRun.status).toBe(0);
    expect(fresh.calls()).toEqual(firstRunCalls("dev", "eu-west-1"));
    expect(firstRun.lines.filter((l) => STEP.test(l))).toHaveLength(9);
    expect(firstRun.lines).toEqual(
      expect.arrayContaining([
        `created   bucket ${B} in eu-west-1`,
        `updated   versioning of ${B}: Enabled (was None)`,
        `created   lock table ${T} (LockID, on demand, SSE-KMS, deletion protection on)`,
        `  bucket         = "${B}"`,
        `  dynamodb_table = "${T}"`,
        `  region         = "eu-west-1"`,
      ]),
    );
    expect(firstRun.lines[firstRun.lines.length - 1]).toBe("Summary: 2 created, 6 updated, 1 unchanged.");
  });

  test("us-east-1: create-bucket without a LocationConstraint (S3 refuses one there)", () => {
    const s = standins();
    const r = run(s, ["staging", "us-east-1"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(s.calls()).toEqual(firstRunCalls("staging", "us-east-1"));
    expect(s.log().join("\n")).not.toContain("LocationConstraint");
  });

  test("second run on a complete backend: reads only, and says nothing changed", () => {
    const s = withCompleteBackend();
    const r = run(s, ["dev", "eu-west-1"]);
    expect(r.status).toBe(0);
    expect(s.log().filter((l) => MUTATING.test(l))).toEqual([]);
    expect(s.calls()).toEqual([
      stsCall("eu-west-1"),
      headBucket(B, "eu-west-1"),
      ...bucketReads(B, "eu-west-1"),
      describeTable(T, "eu-west-1"),
      describePitr(T, "eu-west-1"),
      ...verification(B, T, "eu-west-1"),
    ]);
    const steps = r.lines.filter((l) => STEP.test(l));
    expect(steps).toHaveLength(10);
    expect(steps.filter((l) => !l.startsWith("unchanged "))).toEqual([]);
    expect(r.lines[r.lines.length - 1]).toBe("Backend already up to date: nothing changed.");
  });

  test("partial backend (versioning suspended): exactly that fix", () => {
    const s = withCompleteBackend();
    s.run("aws", ["s3api", "put-bucket-versioning", "--bucket", B, "--versioning-configuration", "Status=Suspended", "--region", "eu-west-1"]);
    s.clearLog();
    const r = run(s, ["dev", "eu-west-1"]);
    expect(r.status).toBe(0);
    expect(s.log().filter((l) => MUTATING.test(l))).toEqual([
      `aws s3api put-bucket-versioning --bucket ${B} --versioning-configuration Status=Enabled --region eu-west-1`,
    ]);
    expect(r.lines).toContain(`updated   versioning of ${B}: Enabled (was Suspended)`);
    expect(r.lines[r.lines.length - 1]).toBe("Summary: 0 created, 1 updated, 9 unchanged.");
  });

  test("backend made by hand: the missing settings are added, its own policy, rules, tags and KMS key are kept", () => {
    const s = standins();
    const aws = (...args: string[]) => {
      const r = s.run("aws", [...args, "--region", "eu-west-1"]);
      if (r.status !== 0) throw new Error(`seeding failed: aws ${args.join(" ")}: ${r.stderr}`);
    };
    const b = bucketOf("prod");
    const t = tableOf("prod");
    const customerKey = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
    const ciStatement = {
      Sid: "AllowCiRole",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/ci` },
      Action: "s3:GetObject",
      Resource: `arn:aws:s3:::${b}/*`,
    };
    const otherRule = { ID: "expire-tmp", Status: "Enabled", Filter: { Prefix: "tmp/" }, Expiration: { Days: 1 } };
    aws("s3api", "create-bucket", "--bucket", b, "--create-bucket-configuration", "LocationConstraint=eu-west-1");
    aws("s3api", "put-bucket-versioning", "--bucket", b, "--versioning-configuration", "Status=Enabled");
    aws(
      "s3api",
      "put-bucket-encryption",
      "--bucket",
      b,
      "--server-side-encryption-configuration",
      JSON.stringify({ Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: customerKey }, BucketKeyEnabled: true }] }),
    );
    aws("s3api", "delete-public-access-block", "--bucket", b); // a bucket from before S3 blocked public access by default
    aws("s3api", "put-bucket-policy", "--bucket", b, "--policy", JSON.stringify({ Version: "2012-10-17", Statement: [ciStatement] }));
    aws("s3api", "put-bucket-lifecycle-configuration", "--bucket", b, "--lifecycle-configuration", JSON.stringify({ Rules: [otherRule] }));
    aws(
      "s3api",
      "put-bucket-tagging",
      "--bucket",
      b,
      "--tagging",
      JSON.stringify({
        TagSet: [
          { Key: "Owner", Value: "platform" },
          { Key: "Project", Value: "old-name" },
        ],
      }),
    );
    aws(
      "dynamodb",
      "create-table",
      "--table-name",
      t,
      "--attribute-definitions",
      "AttributeName=LockID,AttributeType=S",
      "--key-schema",
      "AttributeName=LockID,KeyType=HASH",
      "--billing-mode",
      "PAY_PER_REQUEST",
    );
    aws("dynamodb", "wait", "table-exists", "--table-name", t);
    s.clearLog();

    const r = run(s, ["prod", "eu-west-1"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const reg = ["--region", "eu-west-1"];
    expect(s.calls().filter((c) => MUTATING.test(c.join(" ")))).toEqual([
      [
        "aws",
        "s3api",
        "put-public-access-block",
        "--bucket",
        b,
        "--public-access-block-configuration",
        "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
        ...reg,
      ],
      [
        "aws",
        "s3api",
        "put-bucket-policy",
        "--bucket",
        b,
        "--policy",
        json({ Version: "2012-10-17", Statement: [ciStatement, denyInsecureTransport(b)] }),
        ...reg,
      ],
      ["aws", "s3api", "put-bucket-lifecycle-configuration", "--bucket", b, "--lifecycle-configuration", json({ Rules: [otherRule, RETENTION_RULE] }), ...reg],
      ["aws", "s3api", "put-bucket-tagging", "--bucket", b, "--tagging", json({ TagSet: [{ Key: "Owner", Value: "platform" }, ...tagsOf("prod")] }), ...reg],
      ["aws", "dynamodb", "update-continuous-backups", "--table-name", t, "--point-in-time-recovery-specification", "PointInTimeRecoveryEnabled=true", ...reg],
      ["aws", "dynamodb", "update-table", "--table-name", t, "--deletion-protection-enabled", ...reg],
    ]);
    expect(r.lines).toContain(`unchanged default encryption of ${b}: aws:kms key ${customerKey}, bucket key on`);
    expect(r.lines).toContain(`updated   deletion protection of ${t}: on (was off)`);

    // and what it wrote is recognised as complete
    s.clearLog();
    const again = run(s, ["prod", "eu-west-1"]);
    expect(again.status).toBe(0);
    expect(s.log().filter((l) => MUTATING.test(l))).toEqual([]);
    expect(again.lines[again.lines.length - 1]).toBe("Backend already up to date: nothing changed.");
  });

  describe("refuses bad arguments before any aws call (exit 2)", () => {
    test.each([
      [[], /missing arguments: found none, expected <env> and <region>/],
      [["dev"], /missing argument <region>: found only 'dev'/],
      [["qa", "eu-west-1"], /unknown environment 'qa': expected one of dev, staging, prod/],
      [["eu-west-1", "dev"], /unknown environment 'eu-west-1'/],
      [["dev", "eu-west"], /malformed region 'eu-west': expected an AWS region such as eu-west-1/],
      [["prod", "EU-WEST-1"], /malformed region 'EU-WEST-1'/],
      [["dev", "eu-west-1", "extra"], /too many arguments: found 3 \(dev eu-west-1 extra\)/],
      [["dev", "eu-west-1", "--force"], /unknown option '--force': the only option is --dry-run/],
    ])("%j", (args, message) => {
      const s = standins();
      const r = run(s, args as string[]);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain(`usage: ${SCRIPT} <env> <region> [--dry-run]`);
      expect(r.status).toBe(2);
      expect(s.log()).toEqual([]);
      expect(r.stdout).toBe("");
    });
  });

  test("--dry-run on a new account: prints every change, makes none", () => {
    const s = standins();
    const r = run(s, ["--dry-run", "dev", "eu-west-1"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    // read-only calls only: the account, and the existence checks
    expect(s.calls()).toEqual([stsCall("eu-west-1"), headBucket(B, "eu-west-1"), describeTable(T, "eu-west-1")]);
    expect(fs.existsSync(path.join(s.stateDir, "aws", "s3", B))).toBe(false);
    const printed = r.lines.filter((l) => l.startsWith("[dry-run] aws "));
    expect(printed.map((l) => l.split(" ").slice(2, 4).join(" "))).toEqual([
      "s3api create-bucket",
      "s3api put-bucket-versioning",
      "s3api put-bucket-encryption",
      "s3api put-public-access-block",
      "s3api put-bucket-policy",
      "s3api put-bucket-lifecycle-configuration",
      "s3api put-bucket-tagging",
      "dynamodb create-table",
      "dynamodb wait",
      "dynamodb update-continuous-backups",
      "s3 ls",
      "dynamodb describe-table",
    ]);
    expect(printed[0]).toBe(`[dry-run] aws s3api create-bucket --bucket ${B} --create-bucket-configuration LocationConstraint=eu-west-1 --region eu-west-1`);
    expect(r.lines[r.lines.length - 1]).toBe("Dry run: 2 to create, 7 to update, 0 unchanged; nothing was changed.");
  });

  test("--dry-run on a partial backend: reads the real settings, prints only the missing fix", () => {
    const s = withCompleteBackend();
    s.run("aws", ["dynamodb", "update-table", "--table-name", T, "--no-deletion-protection-enabled", "--region", "eu-west-1"]);
    s.clearLog();
    const r = run(s, ["dev", "eu-west-1", "--dry-run"]);
    expect(r.status).toBe(0);
    expect(s.log().filter((l) => MUTATING.test(l))).toEqual([]);
    expect(r.lines.filter((l) => l.startsWith("[dry-run] aws ") && !/ (s3 ls|dynamodb describe-table) /.test(l))).toEqual([
      `[dry-run] aws dynamodb update-table --table-name ${T} --deletion-protection-enabled --region eu-west-1`,
    ]);
    // the table is still unprotected
    const d = s.run("aws", [
      "dynamodb",
      "describe-table",
      "--table-name",
      T,
      "--region",
      "eu-west-1",
      "--query",
      "Table.[TableStatus,DeletionProtectionEnabled]",
      "--output",
      "text",
    ]);
    expect(d.stdout.trim()).toBe("ACTIVE\tFalse");
  });

  describe("aws failures stop the script with a clear message", () => {
    test("bucket name owned by another account (head-bucket 403)", () => {
      const s = standins({ STANDIN_AWS_FOREIGN_BUCKETS: B });
      const r = run(s, ["dev", "eu-west-1"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`bucket ${B} exists but account ${ACCOUNT} cannot access it (HTTP 403)`);
      expect(r.stderr).toContain("owned by another account");
      expect(s.calls()).toEqual([stsCall("eu-west-1"), headBucket(B, "eu-west-1")]);
    });

    test("no credentials (sts fails)", () => {
      const s = standins({
        STANDIN_AWS_FAIL_ON: "sts get-caller-identity",
        STANDIN_AWS_FAIL_CODE: "253",
        STANDIN_AWS_FAIL_MESSAGE: 'Unable to locate credentials. You can configure credentials by running "aws configure".',
      });
      const r = run(s, ["dev", "eu-west-1"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/cannot read the AWS account id .*failed \(exit 253\): Unable to locate credentials/);
      expect(s.log()).toHaveLength(1);
    });

    test("a write refused half-way: stops there, says what failed and that a rerun is safe", () => {
      const s = standins({ STANDIN_AWS_FAIL_ON: "s3api put-bucket-policy" });
      const r = run(s, ["dev", "eu-west-1"]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(
        new RegExp(
          `cannot set the policy of ${B}: 'aws s3api put-bucket-policy .*' failed \\(exit 254\\): ` +
            "An error occurred \\(AccessDenied\\) when calling the PutBucketPolicy operation: Access Denied",
        ),
      );
      expect(r.stderr).toContain("run the script again");
      const log = s.log();
      expect(log[log.length - 1]).toMatch(/^aws s3api put-bucket-policy /);
      expect(r.stdout).not.toMatch(/Summary|nothing changed/);
    });

    test("bucket already in another region", () => {
      const s = withCompleteBackend();
      const r = run(s, ["dev", "us-east-1"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`bucket ${B} already exists in eu-west-1, not us-east-1`);
      expect(s.log().filter((l) => MUTATING.test(l))).toEqual([]);
    });
  });
});

describe("agreement with the environment's settings", () => {
  let s: Standins;
  beforeEach(() => (s = makeStandins(["aws"])));
  afterEach(() => s.cleanup());

  it("refuses a region other than the settings' aws_region, before any AWS call", () => {
    const root = settingsRoot({ env: "prod", text: 'aws_account_id = "123456789012"\naws_region     = "eu-central-1"\n' });
    const r = run(s, ["prod", "eu-west-1"], { ACCESSWEAVER_SETTINGS_ROOT: root });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`region 'eu-west-1' differs from aws_region = "eu-central-1" in ${root}/environments/prod/terraform.tfvars`);
    expect(s.log()).toEqual([]);
  });

  it("stops when the credentials belong to another account than aws_account_id, changing nothing", () => {
    const root = settingsRoot({ env: "prod", text: 'aws_account_id = "999988887777"\n' });
    const r = run(s, ["prod", "eu-west-1"], { ACCESSWEAVER_SETTINGS_ROOT: root });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("these credentials are for account 123456789012, but");
    expect(r.stderr).toContain('says aws_account_id = "999988887777": check AWS_PROFILE; nothing was changed.');
    expect(s.log()).toEqual(["aws sts get-caller-identity --query Account --output text --region eu-west-1"]);
  });

  it("goes ahead when the settings agree", () => {
    const root = settingsRoot({ env: "dev", text: 'aws_account_id = "123456789012"\naws_region = "eu-west-1"\n' });
    expect(run(s, ["dev", "eu-west-1"], { ACCESSWEAVER_SETTINGS_ROOT: root }).status).toBe(0);
  });
});
