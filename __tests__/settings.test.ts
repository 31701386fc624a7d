import * as fs from "fs";
import * as path from "path";
import { SettingsError } from "../src/config/errors";
import { loadEnvironment, parseCacheEntry, parseHcl, selectEnvironments } from "../src/config/load";
import { PROFILES } from "../src/config/profiles";
import { FIELDS, validateSettings } from "../src/config/settings";
import { EnvironmentName } from "../src/naming";
import { ROOT, config, rawSettings, tempDir } from "./support/config";

const FILE = "environments/prod/terraform.tfvars";

function problemsOf(env: EnvironmentName, overrides: Record<string, unknown>): string[] {
  try {
    validateSettings(env, rawSettings(env, overrides), `environments/${env}/terraform.tfvars`);
  } catch (e) {
    if (e instanceof SettingsError) return e.problems.map((p) => `${p.file} | ${p.key} | ${p.found} | ${p.expected}`);
    throw e;
  }
  return [];
}

describe("settings validation", () => {
  it("accepts valid settings and fills the documented defaults", () => {
    const c = config("prod");
    expect(c.settings.region).toBe("eu-west-1");
    expect(c.settings.availabilityZones).toEqual(["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    expect(c.settings.vpcCidr).toBe("10.30.0.0/16");
    expect(c.settings.monthlyBudgetUsd).toBe(3000);
    expect(c.settings.imageTags["aw-pdp-service"]).toBe("2.3.4");
    expect(config("dev").settings.availabilityZones).toEqual(["eu-west-1a", "eu-west-1b"]);
    expect(
      config("prod", { aws_region: "eu-central-1", ecr_registry: "111122223333.dkr.ecr.eu-central-1.amazonaws.com", dr_region: "eu-west-1" }).settings
        .availabilityZones,
    ).toEqual(["eu-central-1a", "eu-central-1b", "eu-central-1c"]);
  });

  it("keeps the guide's prod sizes in the prod profile", () => {
    const p = PROFILES.prod;
    expect(p.services["aw-api-gateway"]).toEqual({ cpu: 1024, memory: 2048, desiredCount: 3 });
    expect(p.services["aw-pdp-service"]).toEqual({ cpu: 2048, memory: 4096, desiredCount: 3 });
    expect(p.services["aw-pap-service"]).toEqual({ cpu: 1024, memory: 2048, desiredCount: 2 });
    expect(p.services["aw-tenant-service"]).toEqual({ cpu: 512, memory: 1024, desiredCount: 2 });
    expect(p.services["aw-audit-service"]).toEqual({ cpu: 512, memory: 1024, desiredCount: 2 });
    expect(p.database).toMatchObject({ engineVersion: "15", instanceClass: "db.r6g.xlarge", multiAz: true, backupRetentionDays: 30 });
    expect(p.cache.nodeType).toBe("cache.r6g.xlarge");
    expect(p.cache.shards * (1 + p.cache.replicasPerShard)).toBe(9);
    expect(p.azCount).toBe(3);
  });

  it("merges task-count overrides and image-tag overrides over the profile", () => {
    const c = config("prod", { service_desired_counts: { "aw-pdp-service": 5 }, image_tag_overrides: { "aw-pap-service": "2.3.5" } });
    expect(c.sizing.services["aw-pdp-service"]).toEqual({ cpu: 2048, memory: 4096, desiredCount: 5 });
    expect(c.sizing.services["aw-api-gateway"].desiredCount).toBe(3);
    expect(c.settings.imageTags["aw-pap-service"]).toBe("2.3.5");
    expect(c.settings.imageTags["aw-api-gateway"]).toBe("2.3.4");
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ["an unknown key", { vpc_cidr_block: "10.0.0.0/16" }, /vpc_cidr_block \| an unknown key \(value "10.0.0.0\/16"\) \| one of: aws_account_id/],
    ["a missing required key", { aws_account_id: undefined }, /aws_account_id \| nothing \(the key is missing\) \| a value/],
    ["a wrong type", { monthly_budget_usd: "3000" }, /monthly_budget_usd \| "3000" \| a number from 1 to 1000000/],
    ["a malformed account id", { aws_account_id: "12345" }, /aws_account_id \| "12345" \| a 12-digit AWS account id/],
    ["a malformed region", { aws_region: "europe" }, /aws_region \| "europe" \| an AWS region name/],
    ["a malformed CIDR", { vpc_cidr: "10.0.0.1/16" }, /vpc_cidr \| "10.0.0.1\/16" \| an IPv4 network address/],
    ["a public CIDR", { vpc_cidr: "8.8.0.0/16" }, /vpc_cidr \| "8.8.0.0\/16" \| a private \(RFC 1918\) range/],
    ["a CIDR too small for the subnets", { vpc_cidr: "10.30.0.0/24" }, /vpc_cidr \| "10.30.0.0\/24" \| a prefix from \/16 to \/20: the 3 subnet tiers/],
    ["a CIDR larger than AWS allows", { vpc_cidr: "10.0.0.0/8" }, /vpc_cidr \| "10.0.0.0\/8" \| a prefix from \/16 to \/20/],
    [
      "a malformed KMS ARN",
      { kms_key_arn: "arn:aws:kms:eu-west-1:111122223333:alias/x" },
      /kms_key_arn \| "arn:aws:kms:eu-west-1:111122223333:alias\/x" \| a KMS key ARN/,
    ],
    [
      "a KMS key of another account",
      { kms_key_arn: "arn:aws:kms:eu-west-1:999999999999:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0" },
      /kms_key_arn \| .* \| an ARN in region eu-west-1 and account 111122223333/,
    ],
    ["a malformed SNS ARN", { sns_topic_arn: "arn:aws:sqs:eu-west-1:111122223333:q" }, /sns_topic_arn \| .* \| an SNS topic ARN/],
    ["a malformed zone id", { route53_zone_id: "abc" }, /route53_zone_id \| "abc" \| a Route 53 hosted zone id/],
    [
      "a malformed AZ name",
      { availability_zones: ["eu-west-1a", "eu-west-1b", "west"] },
      /availability_zones \| "west" \| an availability zone name .* at position 2/,
    ],
    [
      "an AZ outside the region",
      { availability_zones: ["eu-west-1a", "eu-west-1b", "us-east-1a"] },
      /availability_zones \| "us-east-1a" \| zones of the region eu-west-1/,
    ],
    ["too few AZs for prod", { availability_zones: ["eu-west-1a", "eu-west-1b"] }, /availability_zones \| 2 zones \| at least 3 zones in prod/],
    [
      "too many AZs",
      { availability_zones: ["eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d", "eu-west-1e"] },
      /availability_zones \| 5: .* \| between 1 and 4 zones/,
    ],
    [
      "an out-of-range task count",
      { service_desired_counts: { "aw-pdp-service": 500 } },
      /service_desired_counts \| 500 \| a whole number from 0 to 50 for aw-pdp-service/,
    ],
    [
      "a prod task count below the HA minimum",
      { service_desired_counts: { "aw-pdp-service": 1 } },
      /service_desired_counts \| 1 for aw-pdp-service \| at least 2 task\(s\) in prod/,
    ],
    ["an unknown service", { service_desired_counts: { "aw-foo": 2 } }, /service_desired_counts \| "aw-foo" \| service names among aw-api-gateway/],
    ["a mutable image tag in prod", { image_tag: "latest" }, /image_tag \| "latest" \| an immutable release tag in prod/],
    [
      "a mutable image-tag override in prod",
      { image_tag_overrides: { "aw-pdp-service": "latest" } },
      /image_tag_overrides \| "latest" for aw-pdp-service \| an immutable/,
    ],
    ["latest in another case in prod", { image_tag: "LATEST" }, /image_tag \| "LATEST" \| an immutable release tag in prod, not "latest" \(in any case/],
    [
      "an override of latest in another case in prod",
      { image_tag_overrides: { "aw-pap-service": "Latest" } },
      /image_tag_overrides \| "Latest" for aw-pap-service \| an immutable/,
    ],
    ["a malformed e-mail", { alert_email_addresses: ["nobody"] }, /alert_email_addresses \| "nobody" \| an e-mail address at position 0/],
    ["a registry in another region", { ecr_registry: "111122223333.dkr.ecr.us-east-1.amazonaws.com" }, /ecr_registry \| .* \| a registry in eu-west-1/],
  ];
  it.each(bad)("refuses %s, naming the file, the key, the value and what is expected", (_what, overrides, message) => {
    const problems = problemsOf("prod", overrides);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${FILE.replace(/[./]/g, "\\$&")} \\| `));
    expect(problems[0]).toMatch(message);
  });

  describe("dr_region (Region loss)", () => {
    it("gives prod its default DR region and the database's retention; staging has one only when set; dev none", () => {
      expect(config("prod").settings).toMatchObject({ drRegion: "eu-central-1", drBackupRetentionDays: 30, drReplicateImages: true });
      expect(config("staging", { dr_region: "eu-west-3" }).settings.drReplicateImages).toBe(false);
      expect(config("prod", { dr_region: "eu-north-1", dr_backup_retention_days: 35 }).settings).toMatchObject({
        drRegion: "eu-north-1",
        drBackupRetentionDays: 35,
      });
      expect(config("staging").settings.drRegion).toBeUndefined();
      expect(config("staging", { dr_region: "eu-west-3" }).settings).toMatchObject({ drRegion: "eu-west-3", drBackupRetentionDays: 14 });
      expect(config("dev").settings.drRegion).toBeUndefined();
    });

    const refused: [string, string, Record<string, unknown>, RegExp][] = [
      ["the primary region", "prod", { dr_region: "eu-west-1" }, /dr_region \| "eu-west-1" \| a region of the EU\/EEA other than aws_region \(eu-west-1\)/],
      [
        "prod's default when it is the primary region",
        "prod",
        { aws_region: "eu-central-1", ecr_registry: "111122223333.dkr.ecr.eu-central-1.amazonaws.com" },
        /dr_region \| "eu-central-1" \(prod's default: the key is not set\) \| a region of the EU\/EEA other than aws_region \(eu-central-1\)/,
      ],
      [
        "London (outside the EU/EEA)",
        "prod",
        { dr_region: "eu-west-2" },
        /dr_region \| "eu-west-2" \(London is in the United Kingdom, outside the EU\/EEA\) \| a region of the EU\/EEA \(RGPD\): eu-west-1, eu-west-3/,
      ],
      [
        "Zurich (outside the EU/EEA)",
        "staging",
        { dr_region: "eu-central-2" },
        /dr_region \| "eu-central-2" \(Zurich is in Switzerland, outside the EU\/EEA\)/,
      ],
      [
        "a region outside Europe",
        "prod",
        { dr_region: "us-east-1" },
        /dr_region \| "us-east-1" \(not a known region of the EU\/EEA\) \| a region of the EU\/EEA/,
      ],
      ["an unknown region", "prod", { dr_region: "eu-moon-1" }, /dr_region \| "eu-moon-1" \(not a known region of the EU\/EEA\)/],
      ["a malformed region", "prod", { dr_region: "Frankfurt" }, /dr_region \| "Frankfurt" \| an AWS region name such as eu-central-1/],
      ["a DR region in dev", "dev", { dr_region: "eu-central-1" }, /dr_region \| "eu-central-1" \| no value in dev: dev has no recovery phase/],
      ["a retention beyond what RDS keeps", "prod", { dr_backup_retention_days: 36 }, /dr_backup_retention_days \| 36 \| a whole number from 1 to 35/],
      ["a retention without a DR region", "staging", { dr_backup_retention_days: 7 }, /dr_backup_retention_days \| 7 \| no value without dr_region/],
      ["image replication without a DR region", "staging", { dr_replicate_images: true }, /dr_replicate_images \| true \| no value without dr_region/],
    ];
    it.each(refused)("refuses %s in %s, naming the file, the key, what was found and what is expected", (_what, env, overrides, message) => {
      const problems = problemsOf(env as EnvironmentName, overrides);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^environments/${env}/terraform\\.tfvars \\| `));
      expect(problems[0]).toMatch(message);
    });
  });

  it("lets dev run one task and two zones, which prod refuses", () => {
    expect(problemsOf("dev", { service_desired_counts: { "aw-pdp-service": 1 }, availability_zones: ["eu-west-1a", "eu-west-1b"] })).toEqual([]);
    expect(problemsOf("dev", { image_tag: "latest" })).toEqual([]);
  });

  it("refuses prod without paging unless the settings say who pages; other environments may run without", () => {
    expect(problemsOf("prod", { alert_paging_handled_elsewhere: undefined })).toEqual([
      `${FILE} | alert_paging_endpoints | [] (no paging endpoint) and no alert_paging_handled_elsewhere | in prod, at least one paging endpoint (the paging service's SNS integration), or alert_paging_handled_elsewhere naming who pages on-call instead`,
    ]);
    expect(
      problemsOf("prod", { alert_paging_handled_elsewhere: undefined, alert_paging_endpoints: ["https://events.pagerduty.com/integration/abc/enqueue"] }),
    ).toEqual([]);
    expect(config("prod", { alert_paging_handled_elsewhere: "Opsgenie by e-mail" }).settings.alertPagingHandledElsewhere).toBe("Opsgenie by e-mail");
    expect(problemsOf("prod", { alert_paging_handled_elsewhere: "" })).toEqual([
      expect.stringMatching(/^environments\/prod\/terraform\.tfvars \| alert_paging_handled_elsewhere \| "" \| who pages on-call instead/),
    ]);
    expect(problemsOf("staging", {})).toEqual([]);
    expect(config("staging").settings.alertPagingHandledElsewhere).toBeUndefined();
  });

  it("gives the account-wide budget the environment's limit by default, and refuses one below it", () => {
    expect(config("prod", { monthly_budget_usd: 2500 }).settings.accountMonthlyBudgetUsd).toBe(2500);
    expect(config("prod", { account_monthly_budget_usd: 4000 }).settings.accountMonthlyBudgetUsd).toBe(4000);
    expect(problemsOf("prod", { monthly_budget_usd: 3000, account_monthly_budget_usd: 2000 })).toEqual([
      `${FILE} | account_monthly_budget_usd | 2000 | at least monthly_budget_usd (3000): the account's spend includes this environment's`,
    ]);
  });

  it("reports every problem of a file in one error", () => {
    const problems = problemsOf("prod", { aws_account_id: "1", route53_zone_id: "x", extra: 1 });
    expect(problems.map((p) => p.split(" | ")[1])).toEqual(["extra", "aws_account_id", "route53_zone_id"]);
  });
});

describe("docs/settings.md", () => {
  // The table's rows: the keys each row documents, and its "required" column.
  const rows = fs
    .readFileSync(path.join(ROOT, "docs/settings.md"), "utf8")
    .split("\n")
    .map((line) => /^\| (`[a-z0-9_]+`(?:, `[a-z0-9_]+`)*) \| ([^|]+) \|/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .flatMap((m) => [...m[1]!.matchAll(/`([a-z0-9_]+)`/g)].map((k) => ({ key: k[1]!, required: m[2]!.trim() })));

  it("documents every key a terraform.tfvars may hold, and no other", () => {
    expect(rows.map((r) => r.key).sort()).toEqual(Object.keys(FIELDS).sort());
  });

  it("calls a key required exactly when the settings have no default for it", () => {
    for (const { key, required } of rows) {
      const hasDefault = Boolean(FIELDS[key as keyof typeof FIELDS].fallback);
      expect({ key, required: required === "yes" }).toEqual({ key, required: !hasDefault });
    }
  });
});

describe("settings files", () => {
  function project(files: Record<string, string>): string {
    const root = tempDir();
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
      fs.writeFileSync(path.join(root, name), text);
    }
    return root;
  }
  const example = fs.readFileSync(path.join(ROOT, "environments/prod/terraform.tfvars.example"), "utf8");

  it("falls back to the committed example with a visible notice", async () => {
    const notices: string[] = [];
    const c = await loadEnvironment("prod", { rootDir: project({ "environments/prod/terraform.tfvars.example": example }), notice: (m) => notices.push(m) });
    expect(c.source).toEqual({ file: "environments/prod/terraform.tfvars.example", isExample: true });
    expect(notices.join("\n")).toMatch(/prod: no environments\/prod\/terraform.tfvars; using the example settings/);
  });

  it("prefers the operator's terraform.tfvars, without a notice", async () => {
    const notices: string[] = [];
    const root = project({
      "environments/prod/terraform.tfvars.example": example,
      "environments/prod/terraform.tfvars": example.replace(/"123456789012"/g, '"444455556666"').replace(/123456789012\.dkr/, "444455556666.dkr"),
    });
    const c = await loadEnvironment("prod", { rootDir: root, notice: (m) => notices.push(m) });
    expect(c.settings.accountId).toBe("444455556666");
    expect(c.source.isExample).toBe(false);
    expect(notices).toEqual([]);
  });

  it("every committed example is valid", async () => {
    for (const env of ["dev", "staging", "prod"] as const) {
      const c = await loadEnvironment(env, { rootDir: ROOT, notice: () => undefined });
      expect(c.env).toBe(env);
    }
  });

  it("names the file and line of an HCL syntax error", async () => {
    const root = project({ "environments/dev/terraform.tfvars": 'aws_account_id = "1234\n' });
    await expect(loadEnvironment("dev", { rootDir: root })).rejects.toThrow(
      /environments\/dev\/terraform\.tfvars: \(syntax\): found HCL that does not parse: .*terraform\.tfvars:1,.*expected valid HCL/,
    );
  });

  it("refuses an unknown environment with the list of valid ones", () => {
    expect(() => selectEnvironments("production")).toThrow('Unknown environment "production" (ENV). Valid environments: dev, staging, prod');
    expect(selectEnvironments("")).toEqual(["dev", "staging", "prod"]);
    expect(selectEnvironments("prod")).toEqual(["prod"]);
  });
});

describe("settings parse cache", () => {
  it("parses a text once, then answers from the cache, keyed by the text", async () => {
    const text = `owner = "cache-test-${process.pid}-${Date.now()}"\n`;
    const entry = parseCacheEntry(text);
    expect(entry.startsWith(path.join(ROOT, "node_modules/.cache/accessweaver-settings") + path.sep)).toBe(true);
    expect(parseCacheEntry(`${text} `)).not.toBe(entry);
    expect(await parseHcl("x.tfvars", text)).toEqual({ owner: text.split('"')[1] });
    expect(fs.existsSync(entry)).toBe(true);
    // A planted entry proves the second call reads the cache rather than parsing again.
    fs.writeFileSync(entry, JSON.stringify({ owner: "from-cache" }));
    try {
      expect(await parseHcl("y.tfvars", text)).toEqual({ owner: "from-cache" });
    } finally {
      fs.rmSync(entry);
    }
  });

  it("keys the cache by the installed parser's version: another version parses again", async () => {
    const text = `owner = "version-test-${process.pid}-${Date.now()}"\n`;
    fs.mkdirSync(path.dirname(parseCacheEntry(text)), { recursive: true });
    fs.writeFileSync(parseCacheEntry(text), JSON.stringify({ owner: "from-cache" }));
    let other!: typeof import("../src/config/load");
    jest.isolateModules(() => {
      jest.doMock("@cdktf/hcl2json/package.json", () => ({ version: "0.0.0-other" }));
      other = jest.requireActual<typeof import("../src/config/load")>("../src/config/load");
    });
    try {
      expect(other.parseCacheEntry(text)).not.toBe(parseCacheEntry(text));
      expect(await other.parseHcl("x.tfvars", text)).toEqual({ owner: text.split('"')[1] });
    } finally {
      jest.dontMock("@cdktf/hcl2json/package.json");
      fs.rmSync(parseCacheEntry(text), { force: true });
      fs.rmSync(other.parseCacheEntry(text), { force: true });
    }
  });

  it("never caches a parse error", async () => {
    const text = `owner = "unterminated-${Date.now()}\n`;
    await expect(parseHcl("x.tfvars", text)).rejects.toThrow(/x\.tfvars:1/);
    expect(fs.existsSync(parseCacheEntry(text))).toBe(false);
  });
});
