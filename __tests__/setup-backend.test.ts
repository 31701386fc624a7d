// scripts/setup-backend.sh, run for real with the recording aws stand-in first on PATH.
// The stand-in answers from its own state (so a second run sees what the first created) and
// enforces some AWS rules itself (LocationConstraint, a new table is CREATING until waited for).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isDeepStrictEqual } from "util";
import { DR_DEFAULT_REGIONS } from "../scripts/backend-names";
import { FIELDS } from "../src/config/settings";
import { ENVIRONMENTS } from "../src/naming";
import { makeStandins, Standins } from "./support/standins";

const ROOT = path.resolve(__dirname, "..");
const SCRIPT = "scripts/setup-backend.sh";
const ACCOUNT = "123456789012";
const bucketOf = (env: string) => `accessweaver-terraform-state-${env}-${ACCOUNT}`;
const drBucketOf = (env: string) => `accessweaver-terraform-state-${env}-dr-${ACCOUNT}`;
const tableOf = (env: string) => `accessweaver-terraform-locks-${env}`;
const roleOf = (env: string) => `accessweaver-terraform-state-replication-${env}`;
/** A call that changes something in AWS. */
const MUTATING = /^aws (s3api|dynamodb|iam) (create|put|update|delete)-/;
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
const tagArgs = (env: string) => ["Key=Project,Value=AccessWeaver", `Key=Environment,Value=${env}`, "Key=ManagedBy,Value=setup-backend"];
/** Only S3 may assume the replication role (S3's documented trust: no source conditions). */
const TRUST = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { Service: "s3.amazonaws.com" },
      Action: "sts:AssumeRole",
    },
  ],
};
const replicationOf = (env: string, drRegion: string) => ({
  Role: `arn:aws:iam::${ACCOUNT}:role/${roleOf(env)}`,
  Rules: [
    {
      ID: "terraform-state-to-dr-region",
      Status: "Enabled",
      Priority: 1,
      Filter: { Prefix: "" },
      DeleteMarkerReplication: { Status: "Disabled" },
      SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: "Enabled" } },
      Destination: {
        Bucket: `arn:aws:s3:::${drBucketOf(env)}`,
        EncryptionConfiguration: { ReplicaKmsKeyID: `arn:aws:kms:${drRegion}:${ACCOUNT}:alias/aws/s3` },
        StorageClass: "STANDARD",
      },
    },
  ],
});

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}
/** What a policy grants, action by action: its effect, resources and conditions (however the statements group them). */
function grants(policy: { Statement: Statement[] }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const st of policy.Statement) {
    for (const action of ([] as string[]).concat(st.Action)) {
      if (action in out) throw new Error(`${action} is granted twice`);
      out[action] = { Effect: st.Effect, Resource: ([] as string[]).concat(st.Resource), Condition: st.Condition };
    }
  }
  return out;
}

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

const getRole = (env: string, region: string) => ["aws", "iam", "get-role", "--role-name", roleOf(env), "--output", "json", "--region", region];
const getRolePolicy = (env: string, region: string) => [
  "aws",
  "iam",
  "get-role-policy",
  "--role-name",
  roleOf(env),
  "--policy-name",
  "terraform-state-replication",
  "--output",
  "json",
  "--region",
  region,
];
const getReplication = (env: string, region: string) => [
  "aws",
  "s3api",
  "get-bucket-replication",
  "--bucket",
  bucketOf(env),
  "--output",
  "json",
  "--region",
  region,
];

/** head-bucket, then create-bucket (no LocationConstraint in us-east-1, where S3 refuses one). */
function newBucketCalls(b: string, region: string): unknown[][] {
  const location = region === "us-east-1" ? [] : ["--create-bucket-configuration", `LocationConstraint=${region}`];
  return [headBucket(b, region), ["aws", "s3api", "create-bucket", "--bucket", b, ...location, "--region", region]];
}

/** A new bucket's settings: all read, then the differing ones written. */
function configureNewBucket(env: string, b: string, region: string): unknown[][] {
  const r = ["--region", region];
  return [
    ...bucketReads(b, region),
    ["aws", "s3api", "put-bucket-versioning", "--bucket", b, "--versioning-configuration", "Status=Enabled", ...r],
    ["aws", "s3api", "put-bucket-encryption", "--bucket", b, "--server-side-encryption-configuration", json(ENCRYPTION), ...r],
    // no put-public-access-block: a new bucket already blocks public access (S3's default, the stand-in's too)
    ["aws", "s3api", "put-bucket-policy", "--bucket", b, "--policy", json({ Version: "2012-10-17", Statement: [denyInsecureTransport(b)] }), ...r],
    ["aws", "s3api", "put-bucket-lifecycle-configuration", "--bucket", b, "--lifecycle-configuration", json({ Rules: [RETENTION_RULE] }), ...r],
    ["aws", "s3api", "put-bucket-tagging", "--bucket", b, "--tagging", json({ TagSet: tagsOf(env) }), ...r],
  ];
}

function newTableCalls(env: string, t: string, region: string): unknown[][] {
  const r = ["--region", region];
  return [
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
      ...tagArgs(env),
      ...r,
    ],
    ["aws", "dynamodb", "wait", "table-exists", "--table-name", t, ...r],
    describePitr(t, region),
    ["aws", "dynamodb", "update-continuous-backups", "--table-name", t, "--point-in-time-recovery-specification", "PointInTimeRecoveryEnabled=true", ...r],
  ];
}

function firstRunCalls(env: string, region: string): unknown[][] {
  const b = bucketOf(env);
  const t = tableOf(env);
  return [
    stsCall(region),
    ...newBucketCalls(b, region),
    ...configureNewBucket(env, b, region),
    ...newTableCalls(env, t, region),
    ...verification(b, t, region),
  ];
}

/** The first run of an environment with a DR region, in a new account. */
function drFirstRunCalls(env: string, region: string, drRegion: string): unknown[][] {
  const b = bucketOf(env);
  const d = drBucketOf(env);
  const t = tableOf(env);
  const r = ["--region", region];
  return [
    stsCall(region),
    ...newBucketCalls(b, region),
    // what the replication needs is read before anything is written (no replication to read on a bucket just made)
    getRole(env, region),
    ...configureNewBucket(env, b, region),
    ...newTableCalls(env, t, region),
    ...newBucketCalls(d, drRegion),
    ...configureNewBucket(env, d, drRegion),
    ...newTableCalls(env, t, drRegion),
    [
      "aws",
      "iam",
      "create-role",
      "--role-name",
      roleOf(env),
      "--assume-role-policy-document",
      json(TRUST),
      "--description",
      expect.any(String),
      "--tags",
      ...tagArgs(env),
      ...r,
    ],
    // the policy's content: its own test below
    [
      "aws",
      "iam",
      "put-role-policy",
      "--role-name",
      roleOf(env),
      "--policy-name",
      "terraform-state-replication",
      "--policy-document",
      expect.any(String),
      ...r,
    ],
    ["aws", "s3api", "put-bucket-replication", "--bucket", b, "--replication-configuration", json(replicationOf(env, drRegion)), ...r],
    ...verification(b, t, region),
    ...verification(d, t, drRegion),
  ];
}

/** The changes a dry run lists for a backend that does not exist yet (service and operation), in order. */
const NEW_BACKEND_CHANGES = [
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
];
/** The "[dry-run] aws ..." lines of a run. */
const dryRunLines = (r: Run) => r.lines.filter((l) => l.startsWith("[dry-run] aws "));
/** Their service and operation, e.g. "s3api create-bucket". */
const operations = (lines: string[]) => lines.map((l) => l.split(" ").slice(2, 4).join(" "));

/** aws ARGS --region eu-west-1 through the stand-in, to set up a test's starting state; throws when the call fails. */
const seeder =
  (s: Standins) =>
  (...args: string[]): void => {
    const r = s.run("aws", [...args, "--region", "eu-west-1"]);
    if (r.status !== 0) throw new Error(`seeding failed: aws ${args.join(" ")}: ${r.stderr}`);
  };

/** A run on a complete backend: every one of its `steps` lines is "unchanged", no call changed anything, and the summary says so. */
function expectUpToDate(s: Standins, r: Run, steps: number): void {
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  expect(s.log().filter((l) => MUTATING.test(l))).toEqual([]);
  const lines = r.lines.filter((l) => STEP.test(l));
  expect(lines).toHaveLength(steps);
  expect(lines.filter((l) => !l.startsWith("unchanged "))).toEqual([]);
  expect(r.lines[r.lines.length - 1]).toBe("Backend already up to date: nothing changed.");
}

/**
 * The stand-ins of one describe block, removed after it, and the first run of `args` in a new account,
 * made before its tests; withCompleteBackend() gives stand-ins whose state is a copy of that run's.
 */
function suiteStandins(args: string[]) {
  const all: Standins[] = [];
  const standins = (extraEnv: NodeJS.ProcessEnv = {}): Standins => {
    const s = makeStandins(["aws"], extraEnv);
    all.push(s);
    return s;
  };
  const first = {} as { standins: Standins; run: Run };
  beforeAll(() => {
    first.standins = standins();
    first.run = run(first.standins, args);
  });
  afterAll(() => all.forEach((s) => s.cleanup()));
  const withCompleteBackend = (extraEnv: NodeJS.ProcessEnv = {}): Standins => {
    const s = standins(extraEnv);
    fs.cpSync(first.standins.stateDir, s.stateDir, { recursive: true });
    return s;
  };
  return { standins, withCompleteBackend, first };
}

describe("scripts/setup-backend.sh", () => {
  // withCompleteBackend(): the complete dev/eu-west-1 backend
  const { standins, withCompleteBackend, first } = suiteStandins(["dev", "eu-west-1"]);
  const B = bucketOf("dev");
  const T = tableOf("dev");

  test("first run: creates and configures the bucket, then the lock table, then verifies, in this order", () => {
    expect(first.run.stderr).toBe("");
    expect(first.run.status).toBe(0);
    expect(first.standins.calls()).toEqual(firstRunCalls("dev", "eu-west-1"));
    expect(first.run.lines.filter((l) => STEP.test(l))).toHaveLength(9);
    expect(first.run.lines).toEqual(
      expect.arrayContaining([
        `created   bucket ${B} in eu-west-1`,
        `updated   versioning of ${B}: Enabled (was None)`,
        `created   lock table ${T} (LockID, on demand, SSE-KMS, deletion protection on)`,
        `  bucket         = "${B}"`,
        `  dynamodb_table = "${T}"`,
        `  region         = "eu-west-1"`,
      ]),
    );
    expect(first.run.lines[first.run.lines.length - 1]).toBe("Summary: 2 created, 6 updated, 1 unchanged.");
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
    expectUpToDate(s, r, 10);
    expect(s.calls()).toEqual([
      stsCall("eu-west-1"),
      headBucket(B, "eu-west-1"),
      ...bucketReads(B, "eu-west-1"),
      describeTable(T, "eu-west-1"),
      describePitr(T, "eu-west-1"),
      ...verification(B, T, "eu-west-1"),
    ]);
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
    // staging without dr_region: only the primary backend (the DR part has its own tests)
    const s = standins();
    const aws = seeder(s);
    const b = bucketOf("staging");
    const t = tableOf("staging");
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

    const r = run(s, ["staging", "eu-west-1"]);
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
      ["aws", "s3api", "put-bucket-tagging", "--bucket", b, "--tagging", json({ TagSet: [{ Key: "Owner", Value: "platform" }, ...tagsOf("staging")] }), ...reg],
      ["aws", "dynamodb", "update-continuous-backups", "--table-name", t, "--point-in-time-recovery-specification", "PointInTimeRecoveryEnabled=true", ...reg],
      ["aws", "dynamodb", "update-table", "--table-name", t, "--deletion-protection-enabled", ...reg],
    ]);
    expect(r.lines).toContain(`unchanged default encryption of ${b}: aws:kms key ${customerKey}, bucket key on`);
    expect(r.lines).toContain(`updated   deletion protection of ${t}: on (was off)`);

    // and what it wrote is recognised as complete
    s.clearLog();
    expectUpToDate(s, run(s, ["staging", "eu-west-1"]), 10);
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
    const printed = dryRunLines(r);
    expect(operations(printed)).toEqual([...NEW_BACKEND_CHANGES, "s3 ls", "dynamodb describe-table"]);
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
    expect(dryRunLines(r).filter((l) => !/ (s3 ls|dynamodb describe-table) /.test(l))).toEqual([
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

describe("the DR backend and the state replication (environments with a DR region)", () => {
  // withCompleteBackend(): the complete prod backend, eu-west-1 and its DR region eu-central-1
  const { standins, withCompleteBackend, first } = suiteStandins(["prod", "eu-west-1"]);
  const withSettings = (env: string, text: string) => ({ ACCESSWEAVER_SETTINGS_ROOT: settingsRoot({ env, text }) });
  const B = bucketOf("prod");
  const D = drBucketOf("prod");
  const T = tableOf("prod");
  const ROLE = roleOf("prod");
  const replicationFile = (s: Standins, bucket = B) => path.join(s.stateDir, "aws", "s3", bucket, "replication.json");

  test("prod without settings: DR region eu-central-1; both backends, then the role, its policy and the replication, in this order", () => {
    expect(first.run.stderr).toBe("");
    expect(first.run.status).toBe(0);
    const calls = first.standins.calls();
    expect(calls).toEqual(drFirstRunCalls("prod", "eu-west-1", "eu-central-1"));

    // every call about the DR backend goes to the DR region
    const drCalls = calls.filter((c) => c.includes(D) || c.includes(`s3://${D}`) || (c[1] === "dynamodb" && c.indexOf("eu-west-1") < 0));
    expect(drCalls).toHaveLength(13 + 6 + 1); // the bucket's (head, create, 6 reads, 5 writes), the table's (with its check), s3 ls
    for (const c of drCalls) expect(c.slice(-2)).toEqual(["--region", "eu-central-1"]);

    // S3 accepts a replication only between versioned buckets, with the role able to act
    const at = (op: string, bucket?: string) => calls.findIndex((c) => c[2] === op && (bucket === undefined || c[4] === bucket));
    const replication = at("put-bucket-replication");
    expect(replication).toBeGreaterThan(at("put-bucket-versioning", B));
    expect(replication).toBeGreaterThan(at("put-bucket-versioning", D));
    expect(replication).toBeGreaterThan(at("create-role"));
    expect(replication).toBeGreaterThan(at("put-role-policy"));

    expect(first.run.lines).toEqual(
      expect.arrayContaining([
        `created   bucket ${D} in eu-central-1`,
        `created   lock table ${T} in eu-central-1 (LockID, on demand, SSE-KMS, deletion protection on)`,
        `created   role ${ROLE} (S3 may assume it for ${B} only)`,
        `verified  lock table ${T} in eu-central-1 is ACTIVE`,
        // the recovery phase's backend
        `  bucket         = "${D}"`,
        `  key            = "prod/recovery/terraform.tfstate"`,
        `  region         = "eu-central-1"`,
      ]),
    );
    expect(first.run.lines).toContain(
      `updated   replication of ${B}: rule terraform-state-to-dr-region to ${D} in eu-central-1, role arn:aws:iam::${ACCOUNT}:role/${ROLE} (was none)`,
    );
    expect(first.run.lines[first.run.lines.length - 1]).toBe("Summary: 5 created, 14 updated, 2 unchanged.");
  });

  test("the role's policy: the least privilege replication needs, the AWS-managed keys used through S3 of each region only", () => {
    const call = first.standins.calls().find((c) => c[2] === "put-role-policy")!;
    const policy = JSON.parse(call[call.indexOf("--policy-document") + 1]!) as { Version: string; Statement: Statement[] };
    expect(policy.Version).toBe("2012-10-17");
    const source = `arn:aws:s3:::${B}`;
    const allow = (Resource: string[], Condition?: unknown) => ({ Effect: "Allow", Resource, Condition });
    const viaS3 = (region: string) => expect.objectContaining({ StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } });
    expect(grants(policy)).toEqual({
      "s3:GetReplicationConfiguration": allow([source]),
      "s3:ListBucket": allow([source]),
      "s3:GetObjectVersionForReplication": allow([`${source}/*`]),
      "s3:GetObjectVersionAcl": allow([`${source}/*`]),
      "s3:GetObjectVersionTagging": allow([`${source}/*`]),
      "s3:ReplicateObject": allow([`arn:aws:s3:::${D}/*`]),
      "s3:ReplicateDelete": allow([`arn:aws:s3:::${D}/*`]),
      "s3:ReplicateTags": allow([`arn:aws:s3:::${D}/*`]),
      "kms:Decrypt": allow(["*"], viaS3("eu-west-1")),
      "kms:Encrypt": allow(["*"], viaS3("eu-central-1")),
      "kms:GenerateDataKey": allow(["*"], viaS3("eu-central-1")),
    });
  });

  test("second run on a complete setup: reads only, and says nothing changed", () => {
    const s = withCompleteBackend();
    const r = run(s, ["prod", "eu-west-1"]);
    expectUpToDate(s, r, 23);
    expect(s.calls()).toEqual([
      stsCall("eu-west-1"),
      headBucket(B, "eu-west-1"),
      getReplication("prod", "eu-west-1"),
      getRole("prod", "eu-west-1"),
      getRolePolicy("prod", "eu-west-1"),
      ...bucketReads(B, "eu-west-1"),
      describeTable(T, "eu-west-1"),
      describePitr(T, "eu-west-1"),
      headBucket(D, "eu-central-1"),
      ...bucketReads(D, "eu-central-1"),
      describeTable(T, "eu-central-1"),
      describePitr(T, "eu-central-1"),
      ...verification(B, T, "eu-west-1"),
      ...verification(D, T, "eu-central-1"),
    ]);
  });

  test("replication removed, the role's trust and policy changed by hand: exactly those three fixes, in order", () => {
    const s = withCompleteBackend();
    const empty = '{"Version":"2012-10-17","Statement":[]}';
    s.run("aws", ["s3api", "delete-bucket-replication", "--bucket", B, "--region", "eu-west-1"]);
    s.run("aws", ["iam", "update-assume-role-policy", "--role-name", ROLE, "--policy-document", empty]);
    s.run("aws", ["iam", "put-role-policy", "--role-name", ROLE, "--policy-name", "terraform-state-replication", "--policy-document", empty]);
    s.clearLog();
    const r = run(s, ["prod", "eu-west-1"]);
    expect(r.status).toBe(0);
    const changes = s.calls().filter((c) => MUTATING.test(c.join(" ")));
    expect(changes.map((c) => c.slice(1, 3).join(" "))).toEqual(["iam update-assume-role-policy", "iam put-role-policy", "s3api put-bucket-replication"]);
    expect(changes[0]).toEqual(["aws", "iam", "update-assume-role-policy", "--role-name", ROLE, "--policy-document", json(TRUST), "--region", "eu-west-1"]);
    expect(JSON.parse(fs.readFileSync(replicationFile(s), "utf8"))).toEqual(replicationOf("prod", "eu-central-1"));
    expect(r.lines).toContain(`updated   trust policy of role ${ROLE}: S3 may assume it for ${B} only (was trust policy of another shape)`);
    expect(r.lines[r.lines.length - 1]).toBe("Summary: 0 created, 3 updated, 20 unchanged.");
    s.clearLog();
    expectUpToDate(s, run(s, ["prod", "eu-west-1"]), 23);
  });

  test("--dry-run on a new account: reads only, lists every change of both backends, the role and the replication", () => {
    const s = standins();
    const r = run(s, ["prod", "eu-west-1", "--dry-run"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(s.calls()).toEqual([
      stsCall("eu-west-1"),
      headBucket(B, "eu-west-1"),
      getRole("prod", "eu-west-1"),
      describeTable(T, "eu-west-1"),
      headBucket(D, "eu-central-1"),
      describeTable(T, "eu-central-1"),
    ]);
    for (const made of ["s3", "dynamodb", "iam"]) expect(fs.existsSync(path.join(s.stateDir, "aws", made))).toBe(false);
    const printed = dryRunLines(r);
    expect(operations(printed)).toEqual([
      ...NEW_BACKEND_CHANGES,
      ...NEW_BACKEND_CHANGES,
      "iam create-role",
      "iam put-role-policy",
      "s3api put-bucket-replication",
      "s3 ls",
      "dynamodb describe-table",
      "s3 ls",
      "dynamodb describe-table",
    ]);
    expect(printed.slice(10, 20).every((l) => l.endsWith(" --region eu-central-1"))).toBe(true);
    expect(printed).toContain(
      `[dry-run] aws s3api create-bucket --bucket ${D} --create-bucket-configuration LocationConstraint=eu-central-1 --region eu-central-1`,
    );
    expect(r.lines[r.lines.length - 1]).toBe("Dry run: 5 to create, 16 to update, 0 unchanged; nothing was changed.");
  });

  test("staging without dr_region: no DR backend, no role, no replication", () => {
    const s = standins();
    const r = run(s, ["staging", "eu-west-1"], withSettings("staging", 'aws_region = "eu-west-1"\n'));
    expect(r.status).toBe(0);
    expect(s.calls()).toEqual(firstRunCalls("staging", "eu-west-1"));
    expect(r.stdout).not.toMatch(/DR region|recovery phase|-dr-/);
  });

  test("staging with dr_region in its settings: the DR backend in that region, and the replication to it", () => {
    const s = standins();
    const r = run(s, ["staging", "eu-west-1"], withSettings("staging", 'aws_region = "eu-west-1"\ndr_region  = "eu-west-3"   # Paris\n'));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(s.calls()).toEqual(drFirstRunCalls("staging", "eu-west-1", "eu-west-3"));
    expect(r.lines[0]).toBe(`Terraform backend of staging in eu-west-1, DR region eu-west-3, account ${ACCOUNT}`);
    expect(r.lines).toContain(`  key            = "staging/recovery/terraform.tfstate"`);
  });

  test("a replication configuration of someone else's: refused, naming the bucket and its rules, before anything is changed", () => {
    const s = standins();
    const aws = seeder(s);
    const backup = `backup-of-everything-${ACCOUNT}`;
    for (const bucket of [B, backup]) {
      aws("s3api", "create-bucket", "--bucket", bucket, "--create-bucket-configuration", "LocationConstraint=eu-west-1");
      aws("s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled");
    }
    const theirs = JSON.stringify({
      Role: `arn:aws:iam::${ACCOUNT}:role/backup`,
      Rules: [
        {
          ID: "to-backup",
          Status: "Enabled",
          Priority: 1,
          Filter: { Prefix: "" },
          DeleteMarkerReplication: { Status: "Disabled" },
          Destination: { Bucket: `arn:aws:s3:::${backup}` },
        },
      ],
    });
    aws("s3api", "put-bucket-replication", "--bucket", B, "--replication-configuration", theirs);
    s.clearLog();

    const r = run(s, ["prod", "eu-west-1"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`bucket ${B} already has a replication configuration with other rules than terraform-state-to-dr-region`);
    expect(r.stderr).toContain(`1 rule(s): to-backup (Enabled, to arn:aws:s3:::${backup}); role arn:aws:iam::${ACCOUNT}:role/backup`);
    expect(r.stderr).toContain("nothing was changed");
    expect(s.log().filter((l) => MUTATING.test(l))).toEqual([]);
    expect(s.calls()).toEqual([stsCall("eu-west-1"), headBucket(B, "eu-west-1"), getReplication("prod", "eu-west-1"), getRole("prod", "eu-west-1")]);
    expect(fs.readFileSync(replicationFile(s), "utf8")).toBe(theirs);
    expect(r.stdout).not.toMatch(/Summary|nothing changed/);
  });

  test("the state replication's rule beside other rules, put there by hand: kept, nothing to do", () => {
    const s = withCompleteBackend();
    const mine = replicationOf("prod", "eu-central-1");
    const other = {
      ID: "to-archive",
      Status: "Enabled",
      Priority: 2,
      Filter: { Prefix: "archive/" },
      DeleteMarkerReplication: { Status: "Disabled" },
      Destination: { Bucket: `arn:aws:s3:::${D}` },
    };
    const both = JSON.stringify({ Role: mine.Role, Rules: [...mine.Rules, other] });
    expect(s.run("aws", ["s3api", "put-bucket-replication", "--bucket", B, "--replication-configuration", both, "--region", "eu-west-1"]).status).toBe(0);
    s.clearLog();
    const r = run(s, ["prod", "eu-west-1"]);
    expectUpToDate(s, r, 23);
    expect(r.lines).toContain(`unchanged replication of ${B}: rule terraform-state-to-dr-region to ${D} in eu-central-1, beside 1 other rule(s)`);
  });

  describe("refuses a DR region that the synth would refuse, before any aws call (exit 2)", () => {
    let s: Standins;
    beforeEach(() => (s = makeStandins(["aws"])));
    afterEach(() => s.cleanup());

    test.each([
      ["dev", "eu-west-1", 'dr_region = "eu-central-1"', [`dr_region = "eu-central-1" in {file}`, "expected no dr_region in dev: dev has no recovery phase"]],
      [
        "prod",
        "eu-west-1",
        'dr_region = "eu-west-1"',
        [`dr_region = "eu-west-1" in {file}`, "expected a DR region other than the environment's region eu-west-1"],
      ],
      [
        "prod",
        "eu-central-1",
        'aws_region = "eu-central-1"',
        [
          "prod's default DR region eu-central-1 ({file} sets no dr_region)",
          "expected a DR region other than the environment's region eu-central-1",
          "set dr_region in {file}",
        ],
      ],
      [
        "prod",
        "eu-west-1",
        'dr_region = "eu-west-2"',
        [
          `dr_region = "eu-west-2" in {file}`,
          "found 'eu-west-2', expected a region of the EU/EEA (RGPD): eu-west-1, eu-west-3, eu-central-1, eu-north-1, eu-south-1, eu-south-2.",
        ],
      ],
      ["staging", "eu-west-1", 'dr_region = "us-east-1"', [`dr_region = "us-east-1" in {file}`, "found 'us-east-1', expected a region of the EU/EEA (RGPD): "]],
      ["prod", "cn-north-1", "", ["prod's default DR region eu-central-1", "S3 does not replicate across partitions"]],
    ])("%s %s, settings %j", (env, region, text, messages) => {
      const root = settingsRoot({ env, text: `${text}\n` });
      const file = `${root}/environments/${env}/terraform.tfvars`;
      const r = run(s, [env, region], { ACCESSWEAVER_SETTINGS_ROOT: root });
      for (const m of messages) expect(r.stderr).toContain(m.replace(/\{file\}/g, file));
      expect(r.stderr).toContain(`usage: ${SCRIPT} <env> <region> [--dry-run]`);
      expect(r.status).toBe(2);
      expect(s.log()).toEqual([]);
      expect(r.stdout).toBe("");
    });
  });
});

describe("the aws stand-in's put-bucket-replication refuses, as S3 does, buckets that are not versioned", () => {
  let s: Standins;
  beforeAll(() => {
    s = makeStandins(["aws"]);
    for (const bucket of ["source", "replica"]) {
      s.run("aws", ["s3api", "create-bucket", "--bucket", bucket, "--create-bucket-configuration", "LocationConstraint=eu-west-1", "--region", "eu-west-1"]);
    }
  });
  afterAll(() => s.cleanup());
  const put = () =>
    s.run("aws", [
      "s3api",
      "put-bucket-replication",
      "--bucket",
      "source",
      "--replication-configuration",
      JSON.stringify({ Role: "arn:aws:iam::123456789012:role/r", Rules: [{ ID: "x", Status: "Enabled", Destination: { Bucket: "arn:aws:s3:::replica" } }] }),
      "--region",
      "eu-west-1",
    ]);
  const enable = (bucket: string) =>
    s.run("aws", ["s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled", "--region", "eu-west-1"]);

  test("in order: the source, then the destination, then accepted", () => {
    expect(put().stderr).toContain(
      "An error occurred (InvalidRequest) when calling the PutBucketReplication operation: Versioning must be 'Enabled' on the bucket",
    );
    enable("source");
    expect(put().stderr).toContain("(InvalidRequest) when calling the PutBucketReplication operation: Destination bucket must have versioning enabled.");
    enable("replica");
    expect(put().status).toBe(0);
  });
});

test("setup-backend's default DR regions are the settings' (src/config/settings.ts)", () => {
  for (const env of ENVIRONMENTS) expect(DR_DEFAULT_REGIONS[env]).toBe(FIELDS.dr_region.fallback?.(env, {}));
});
