import { EnvironmentName, SERVICES, ServiceName, Site } from "../naming";
import { LARGEST_VPC_PREFIX, SMALLEST_VPC_PREFIX, isPrivate, parseCidr } from "./cidr";
import { DEFAULT_DR_REGION, DR_BACKUP_RETENTION_RANGE, EU_DR_REGIONS, NON_EEA_EUROPEAN_REGIONS } from "./dr-regions";
import { elbLogDeliveryPrincipal } from "./elb-log-delivery";
import { AlarmThresholds, DEFAULT_ALARM_THRESHOLDS, checkAlarmThresholds } from "./alarm-thresholds";
import { SettingProblem, SettingsError, show } from "./errors";
import { MAX_AZ_COUNT, MAX_SERVICE_COUNT, PROFILES, SizingProfile } from "./profiles";

/** The account-specific settings of one environment, as read from its terraform.tfvars. */
export interface Settings {
  readonly accountId: string;
  readonly region: string;
  readonly availabilityZones: readonly string[];
  readonly vpcCidr: string;
  readonly domainName: string;
  readonly hostedZoneId: string;
  readonly alertEmails: readonly string[];
  readonly alertHttpsEndpoints: readonly string[];
  /** https endpoints of the paging service (PagerDuty...): with any, critical alarms also go to `<prefix>-alerts-critical`. */
  readonly alertPagingEndpoints: readonly string[];
  /**
   * Who pages on-call when this project has no paging endpoint (`alert_paging_handled_elsewhere`): prod
   * needs one or the other, so that running without paging is a decision.
   */
  readonly alertPagingHandledElsewhere?: string;
  readonly ecrRegistry: string;
  readonly imageTags: Readonly<Record<ServiceName, string>>;
  /** Use this existing key instead of creating one. */
  readonly kmsKeyArn?: string;
  /** Publish alerts to this existing topic instead of creating one. */
  readonly snsTopicArn?: string;
  readonly costCenter: string;
  readonly owner: string;
  readonly monthlyBudgetUsd: number;
  /**
   * Version of the JWT signing secret: Terraform writes a new random secret (write-only, never in the
   * state) each time it changes. Raising it rotates the secret.
   */
  readonly jwtSecretVersion: number;
  /** The account-wide budget's limit: every cost of the account, tagged or not. */
  readonly accountMonthlyBudgetUsd: number;
  /**
   * Let the services open HTTPS connections to the internet (e.g. tenants' identity providers).
   * Where there are no interface endpoints (dev) they always can: that is how they reach AWS APIs.
   */
  readonly servicesInternetEgress: boolean;
  /**
   * Autoscaling ceiling of each service: `service_max_counts`, else the desired count times the
   * profile's `scaleOutFactor`. What the Fargate quota must allow (`make preflight`).
   */
  readonly serviceMaxCounts: Readonly<Record<ServiceName, number>>;
  /** Most requests one client IP may send in WAF_RATE_WINDOW_SECONDS before the WAF blocks it. */
  readonly wafRateLimit: number;
  /**
   * Object Lock mode of the audit bucket: `GOVERNANCE` (principals with s3:BypassGovernanceRetention may
   * still delete, e.g. to honour an erasure request) or `COMPLIANCE` (nobody, not even the root user, until
   * the retention ends).
   */
  readonly auditObjectLockMode: "GOVERNANCE" | "COMPLIANCE";
  /** Enable Inspector scans of ECR images and EC2 instances for this account (on; off where a delegated administrator enables it). */
  readonly inspectorEnabled: boolean;
  /** Enable GuardDuty in this account and region (off: many organisations manage it centrally). */
  readonly guarddutyEnabled: boolean;
  /** Enable Security Hub with the AWS Foundational Security Best Practices standard (off, as GuardDuty). */
  readonly securityHubEnabled: boolean;
  /** Every alarm threshold (src/config/alarm-thresholds.ts): the settings' values over the defaults. */
  readonly alarmThresholds: AlarmThresholds;
  /**
   * Where the recovery phase keeps the copies that survive the loss of `region` (src/config/dr-regions.ts):
   * required in prod (default eu-central-1), optional in staging (to drill), absent in dev.
   */
  readonly drRegion?: string;
  /** Days the database's automated backups replicated to `drRegion` are kept (with `drRegion` only). */
  readonly drBackupRetentionDays?: number;
  /**
   * This environment's recovery phase owns the registry's replication to `drRegion` (ECR keeps one
   * replication configuration per registry): prod by default, not staging, which usually shares prod's
   * registry (with `drRegion` only).
   */
  readonly drReplicateImages?: boolean;
}

/**
 * The WAF's rate-based rule: a flood guard per client IP, not the product's quota (the gateway limits
 * each tenant in Redis). 10 000 per 5 minutes is about 33 requests a second held for 5 minutes from one
 * address, above what one tenant's backend behind one NAT address sends in normal use.
 */
export const DEFAULT_WAF_RATE_LIMIT = 10_000;
/** AWS WAF's bounds for a rate-based rule's limit (the provider checks the same: 10 to 2 000 000 000). */
export const WAF_RATE_LIMIT_RANGE = { min: 10, max: 2_000_000_000 } as const;
/** The window the limit counts over (AWS allows 60, 120, 300 or 600 seconds). */
export const WAF_RATE_WINDOW_SECONDS = 300;

/** Settings merged over the environment's sizing profile: everything a stack needs. */
export interface EnvironmentConfig {
  readonly env: EnvironmentName;
  readonly settings: Settings;
  readonly sizing: SizingProfile;
  /** The file the settings came from, and whether it is the committed example. */
  readonly source: { readonly file: string; readonly isExample: boolean };
  /**
   * Where this configuration runs: the environment's region, or its DR environment in `dr_region`
   * (src/config/dr-environment.ts). @default "primary"
   */
  readonly site?: Site;
  /**
   * The DR environment's database: the point in time to restore (ISO 8601, UTC), or undefined for the
   * latest restorable time. `make restore` sets it.
   */
  readonly restoreTime?: string;
}

type Raw = Record<string, unknown>;
type Check<T> = (value: unknown) => { value: T } | { expected: string; found?: string };

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d+$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[a-z]{2,}$/i;
// ECR tags: up to 128 of letters, digits, _ . -; not starting with . or -.
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Why `tag` cannot be released to `env` (the settings' image-tag rule), or undefined when it can. */
export function imageTagProblem(env: EnvironmentName, tag: string): string | undefined {
  if (!IMAGE_TAG.test(tag)) return `${JSON.stringify(tag)} is not an image tag (letters, digits, _ . -; at most 128; not starting with . or -)`;
  // ECR tags are case-sensitive, so "LATEST" is another tag than "latest"; but whoever pushes a tag of
  // that name means the same moving one, which prod refuses.
  if (env === "prod" && tag.toLowerCase() === "latest") {
    return `${JSON.stringify(tag)} is refused in prod: give an immutable release tag${tag === "latest" ? "" : ` (ECR tags are case-sensitive, so this is not the tag "latest", but it names the same moving intent)`}`;
  }
  return undefined;
}
const LABEL = /^[A-Za-z0-9 _.:/=+@-]{1,256}$/;

const str =
  (pattern: RegExp, expected: string): Check<string> =>
  (v) =>
    typeof v === "string" && pattern.test(v) ? { value: v } : { expected };

const list =
  <T>(item: Check<T>, min: number, max: number, what: string): Check<T[]> =>
  (v) => {
    if (!Array.isArray(v)) return { expected: `a list of ${what}` };
    if (v.length < min || v.length > max) {
      return { expected: `between ${min} and ${max} ${what}`, found: `${v.length}: ${show(v)}` };
    }
    const out: T[] = [];
    for (const [i, x] of v.entries()) {
      const r = item(x);
      if (!("value" in r)) return { expected: `${r.expected} at position ${i}`, found: show(x) };
      out.push(r.value);
    }
    if (new Set(out.map(String)).size !== out.length) return { expected: `${what} without duplicates` };
    return { value: out };
  };

const number =
  (min: number, max: number, integer: boolean): Check<number> =>
  (v) =>
    typeof v === "number" && v >= min && v <= max && (!integer || Number.isInteger(v))
      ? { value: v }
      : { expected: `${integer ? "a whole number" : "a number"} from ${min} to ${max}` };

const oneOf =
  <T extends string>(values: readonly T[]): Check<T> =>
  (v) =>
    typeof v === "string" && (values as readonly string[]).includes(v)
      ? { value: v as T }
      : { expected: `one of ${values.map((x) => JSON.stringify(x)).join(", ")}` };

const bool: Check<boolean> = (v) => (typeof v === "boolean" ? { value: v } : { expected: "true or false" });

const serviceMap =
  <T>(item: Check<T>, what: string): Check<Partial<Record<ServiceName, T>>> =>
  (v) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      return { expected: `a map from service name (${SERVICES.join(", ")}) to ${what}` };
    }
    const out: Partial<Record<ServiceName, T>> = {};
    for (const [k, x] of Object.entries(v)) {
      if (!(SERVICES as readonly string[]).includes(k)) {
        return { expected: `service names among ${SERVICES.join(", ")}`, found: show(k) };
      }
      const r = item(x);
      if (!("value" in r)) return { expected: `${r.expected} for ${k}`, found: show(x) };
      out[k as ServiceName] = r.value;
    }
    return { value: out };
  };

interface Field<T> {
  readonly check: Check<T>;
  /** Absent from the file: use this (may depend on already-read fields), or the key is required. */
  readonly fallback?: (env: EnvironmentName, read: Partial<Record<string, unknown>>) => T | undefined;
}

const field = <T>(check: Check<T>, fallback?: Field<NoInfer<T>>["fallback"]): Field<T> => ({ check, ...(fallback ? { fallback } : {}) });
const none = () => undefined;

/** Every key a terraform.tfvars may hold. The example files document each one. */
export const FIELDS = {
  aws_account_id: field(str(/^\d{12}$/, "a 12-digit AWS account id")),
  aws_region: field(str(REGION, "an AWS region name such as eu-west-1"), () => "eu-west-1"),
  availability_zones: field(
    list(str(/^[a-z]{2}(-gov)?-[a-z]+-\d+[a-z]$/, "an availability zone name such as eu-west-1a"), 1, MAX_AZ_COUNT, "zones"),
    (env, read) => {
      const region = typeof read.aws_region === "string" ? read.aws_region : "eu-west-1";
      return ["a", "b", "c", "d"].slice(0, PROFILES[env].azCount).map((s) => region + s);
    },
  ),
  vpc_cidr: field(str(/^[\d./]+$/, "an IPv4 CIDR such as 10.30.0.0/16"), (env) => PROFILES[env].vpcCidr),
  domain_name: field(str(HOSTNAME, "a lower-case DNS name such as accessweaver.com")),
  route53_zone_id: field(str(/^Z[A-Z0-9]{1,32}$/, "a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ")),
  alert_email_addresses: field(list(str(EMAIL, "an e-mail address"), 1, 10, "e-mail addresses")),
  alert_https_endpoints: field(list(str(/^https:\/\/[^\s]+$/, "an https:// URL (PagerDuty or chat webhook)"), 0, 10, "https endpoints"), () => []),
  alert_paging_endpoints: field(
    list(str(/^https:\/\/[^\s]+$/, "an https:// URL (the paging service's SNS integration, e.g. PagerDuty)"), 0, 10, "paging endpoints"),
    () => [],
  ),
  alert_paging_handled_elsewhere: field(
    str(
      // eslint-disable-next-line no-control-regex -- refusing control characters is the point
      /^(?=.*\S)[^\x00-\x1f]{1,256}$/,
      'who pages on-call instead (1 to 256 printable characters), e.g. "Opsgenie, through the accessweaver-prod-alerts e-mail subscription"',
    ),
    none,
  ),
  ecr_registry: field(
    str(/^\d{12}\.dkr\.ecr\.[a-z]{2}(-gov)?-[a-z]+-\d+\.amazonaws\.com$/, "an ECR registry host such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
  ),
  image_tag: field(str(IMAGE_TAG, "an image tag (letters, digits, _ . -; at most 128)")),
  image_tag_overrides: field(serviceMap(str(IMAGE_TAG, "an image tag"), "image tag"), () => ({})),
  kms_key_arn: field(
    str(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/([0-9a-f-]{36}|mrk-[0-9a-f]{32})$/, "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<uuid or mrk-id>)"),
    none,
  ),
  sns_topic_arn: field(str(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, "an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)"), none),
  cost_center: field(str(LABEL, "a non-empty tag value (letters, digits, spaces, _.:/=+@-)")),
  owner: field(str(LABEL, "a non-empty tag value such as platform-team@company.com")),
  monthly_budget_usd: field(number(1, 1_000_000, false), (env) => PROFILES[env].monthlyBudgetUsd),
  account_monthly_budget_usd: field(number(1, 1_000_000, false), none),
  jwt_secret_version: field(number(1, 1_000_000, true), () => 1),
  services_internet_egress: field(bool, () => false),
  service_desired_counts: field(serviceMap(number(0, MAX_SERVICE_COUNT, true), "a task count"), () => ({})),
  service_max_counts: field(serviceMap(number(1, MAX_SERVICE_COUNT, true), "an autoscaling ceiling"), () => ({})),
  waf_rate_limit: field(number(WAF_RATE_LIMIT_RANGE.min, WAF_RATE_LIMIT_RANGE.max, true), () => DEFAULT_WAF_RATE_LIMIT),
  audit_object_lock_mode: field(oneOf(["GOVERNANCE", "COMPLIANCE"] as const), () => "GOVERNANCE" as const),
  inspector_enabled: field(bool, () => true),
  guardduty_enabled: field(bool, () => false),
  security_hub_enabled: field(bool, () => false),
  alarm_thresholds: field(checkAlarmThresholds, () => DEFAULT_ALARM_THRESHOLDS),
  dr_region: field(str(REGION, "an AWS region name such as eu-central-1"), (env) => (env === "prod" ? DEFAULT_DR_REGION : undefined)),
  dr_backup_retention_days: field(number(DR_BACKUP_RETENTION_RANGE.min, DR_BACKUP_RETENTION_RANGE.max, true), none),
  dr_replicate_images: field(bool, none),
} satisfies Record<string, Field<unknown>>;

export type SettingKey = keyof typeof FIELDS;

type Decoded = { [K in SettingKey]: (typeof FIELDS)[K]["check"] extends Check<infer T> ? T : never };

/**
 * Validates the raw tfvars of one environment. Throws one SettingsError listing every problem:
 * unknown keys, wrong types and formats, out-of-range counts, and values inconsistent with each other.
 */
export function validateSettings(env: EnvironmentName, raw: Raw, file: string): { settings: Settings; sizing: SizingProfile } {
  const problems: SettingProblem[] = [];
  const add = (key: string, found: string, expected: string) => problems.push({ file, key, found, expected });

  for (const key of Object.keys(raw)) {
    if (!(key in FIELDS)) add(key, `an unknown key (value ${show(raw[key])})`, `one of: ${Object.keys(FIELDS).join(", ")}`);
  }

  const read: Partial<Record<string, unknown>> = {};
  for (const [key, f] of Object.entries(FIELDS) as [SettingKey, Field<unknown>][]) {
    const value = raw[key];
    if (value === undefined || value === null) {
      const fallback = f.fallback?.(env, read);
      if (fallback === undefined && !f.fallback) add(key, "nothing (the key is missing)", "a value: this setting is required");
      read[key] = fallback;
      continue;
    }
    const r = f.check(value);
    if ("value" in r) read[key] = r.value;
    else add(key, r.found ?? show(value), r.expected);
  }
  if (problems.length > 0) throw new SettingsError(problems);
  const d = read as Decoded;
  const profile = PROFILES[env];

  // Consistency between settings.
  for (const az of d.availability_zones) {
    if (!az.startsWith(d.aws_region) || az.length !== d.aws_region.length + 1) {
      add("availability_zones", show(az), `zones of the region ${d.aws_region} (aws_region), such as ${d.aws_region}a`);
    }
  }
  if (d.availability_zones.length < profile.minAzCount) {
    add("availability_zones", `${d.availability_zones.length} zones`, `at least ${profile.minAzCount} zones in ${env}`);
  }
  const cidr = parseCidr(d.vpc_cidr);
  if (!cidr) {
    add("vpc_cidr", show(d.vpc_cidr), "an IPv4 network address with its prefix, such as 10.30.0.0/16 (no host bits set)");
  } else if (cidr.prefix < LARGEST_VPC_PREFIX) {
    add("vpc_cidr", show(d.vpc_cidr), `a prefix from /${LARGEST_VPC_PREFIX} to /${SMALLEST_VPC_PREFIX} (AWS allows no VPC larger than /16)`);
  } else if (cidr.prefix > SMALLEST_VPC_PREFIX) {
    add(
      "vpc_cidr",
      show(d.vpc_cidr),
      `a prefix from /${LARGEST_VPC_PREFIX} to /${SMALLEST_VPC_PREFIX}: the 3 subnet tiers x ${MAX_AZ_COUNT} zones need 16 blocks of at least /24`,
    );
  } else if (!isPrivate(cidr)) {
    add("vpc_cidr", show(d.vpc_cidr), "a private (RFC 1918) range: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16");
  }
  if (!elbLogDeliveryPrincipal(d.aws_region, "aws")) {
    add(
      "aws_region",
      show(d.aws_region),
      "a region whose ALB access-log delivery principal is known (src/config/elb-log-delivery.ts): add the region there from the ELB user guide first",
    );
  }
  if (d.ecr_registry.split(".")[3] !== d.aws_region) {
    add("ecr_registry", show(d.ecr_registry), `a registry in ${d.aws_region} (aws_region): the VPC endpoints for ECR serve their own region only`);
  }
  const arnChecks: [SettingKey, string | undefined][] = [
    ["kms_key_arn", d.kms_key_arn],
    ["sns_topic_arn", d.sns_topic_arn],
  ];
  for (const [key, arn] of arnChecks) {
    if (!arn) continue;
    const [, , , region, account] = arn.split(":");
    if (region !== d.aws_region || account !== d.aws_account_id) {
      add(key, show(arn), `an ARN in region ${d.aws_region} and account ${d.aws_account_id} (aws_region, aws_account_id)`);
    }
  }
  const imageTags = Object.fromEntries(SERVICES.map((s) => [s, d.image_tag_overrides[s] ?? d.image_tag])) as Record<ServiceName, string>;
  if (env === "prod") {
    // A moving tag makes rollbacks and audits impossible: prod deploys release tags only.
    const expected = 'an immutable release tag in prod, not "latest" (in any case: "LATEST" is another ECR tag, but the same moving intent)';
    const moving = (tag: string) => tag.toLowerCase() === "latest";
    if (moving(d.image_tag)) add("image_tag", show(d.image_tag), expected);
    for (const [service, tag] of Object.entries(d.image_tag_overrides)) {
      if (moving(tag)) add("image_tag_overrides", `${show(tag)} for ${service}`, expected);
    }
  }
  if (env === "prod" && d.alert_paging_endpoints.length === 0 && !d.alert_paging_handled_elsewhere) {
    // E-mail is read in the morning: an alarm at night must reach someone on call.
    add(
      "alert_paging_endpoints",
      "[] (no paging endpoint) and no alert_paging_handled_elsewhere",
      "in prod, at least one paging endpoint (the paging service's SNS integration), or alert_paging_handled_elsewhere naming who pages on-call instead",
    );
  }
  const accountBudget = d.account_monthly_budget_usd ?? d.monthly_budget_usd;
  if (accountBudget < d.monthly_budget_usd) {
    add(
      "account_monthly_budget_usd",
      show(accountBudget),
      `at least monthly_budget_usd (${d.monthly_budget_usd}): the account's spend includes this environment's`,
    );
  }
  if (d.audit_object_lock_mode === "COMPLIANCE" && !profile.preventDestroy) {
    // A compliance lock outlives any teardown: the bucket could not be emptied or deleted for three years.
    add(
      "audit_object_lock_mode",
      show(d.audit_object_lock_mode),
      `"GOVERNANCE" in ${env}, an environment that is torn down (compliance locks objects for three years, even against the root user)`,
    );
  }
  checkDrRegion(env, d, raw.dr_region === undefined || raw.dr_region === null, add);
  const services = { ...profile.services };
  for (const [service, count] of Object.entries(d.service_desired_counts) as [ServiceName, number][]) {
    if (count < profile.minServiceCount) {
      add("service_desired_counts", `${count} for ${service}`, `at least ${profile.minServiceCount} task(s) in ${env}`);
    }
    services[service] = { ...services[service], desiredCount: count };
  }
  const serviceMaxCounts = Object.fromEntries(SERVICES.map((s) => [s, d.service_max_counts[s] ?? services[s].desiredCount * profile.scaleOutFactor])) as Record<
    ServiceName,
    number
  >;
  for (const [service, ceiling] of Object.entries(d.service_max_counts) as [ServiceName, number][]) {
    if (ceiling < services[service].desiredCount) {
      add(
        "service_max_counts",
        `${ceiling} for ${service}`,
        `at least its task count, ${services[service].desiredCount} (service_desired_counts or the ${env} profile)`,
      );
    }
  }
  if (problems.length > 0) throw new SettingsError(problems);

  return {
    settings: {
      accountId: d.aws_account_id,
      region: d.aws_region,
      availabilityZones: d.availability_zones,
      vpcCidr: d.vpc_cidr,
      domainName: d.domain_name,
      hostedZoneId: d.route53_zone_id,
      alertEmails: d.alert_email_addresses,
      alertHttpsEndpoints: d.alert_https_endpoints,
      alertPagingEndpoints: d.alert_paging_endpoints,
      ...(d.alert_paging_handled_elsewhere ? { alertPagingHandledElsewhere: d.alert_paging_handled_elsewhere } : {}),
      ecrRegistry: d.ecr_registry,
      imageTags,
      ...(d.kms_key_arn ? { kmsKeyArn: d.kms_key_arn } : {}),
      ...(d.sns_topic_arn ? { snsTopicArn: d.sns_topic_arn } : {}),
      costCenter: d.cost_center,
      owner: d.owner,
      monthlyBudgetUsd: d.monthly_budget_usd,
      accountMonthlyBudgetUsd: accountBudget,
      jwtSecretVersion: d.jwt_secret_version,
      servicesInternetEgress: d.services_internet_egress || !profile.interfaceEndpoints,
      wafRateLimit: d.waf_rate_limit,
      serviceMaxCounts,
      auditObjectLockMode: d.audit_object_lock_mode,
      inspectorEnabled: d.inspector_enabled,
      guarddutyEnabled: d.guardduty_enabled,
      securityHubEnabled: d.security_hub_enabled,
      alarmThresholds: d.alarm_thresholds,
      ...(d.dr_region
        ? {
            drRegion: d.dr_region,
            drBackupRetentionDays: d.dr_backup_retention_days ?? profile.database.backupRetentionDays,
            drReplicateImages: d.dr_replicate_images ?? env === "prod",
          }
        : {}),
    },
    sizing: { ...profile, services },
  };
}

/**
 * `dr_region` and its retention: prod has one (its default), dev none (it is rebuilt, not recovered), and
 * the copies stay in another region of the EU/EEA.
 */
function checkDrRegion(env: EnvironmentName, d: Decoded, defaulted: boolean, add: (key: string, found: string, expected: string) => void): void {
  const region = d.dr_region;
  const found = (why?: string) => `${show(region)}${defaulted ? ` (prod's default: the key is not set)` : ""}${why ? ` (${why})` : ""}`;
  if (region === undefined) {
    if (d.dr_backup_retention_days !== undefined) {
      add("dr_backup_retention_days", show(d.dr_backup_retention_days), "no value without dr_region: it is the retention of the backups replicated there");
    }
    if (d.dr_replicate_images !== undefined) {
      add("dr_replicate_images", show(d.dr_replicate_images), "no value without dr_region: it says whether images are replicated there");
    }
    return;
  }
  if (env === "dev") {
    add("dr_region", show(region), "no value in dev: dev has no recovery phase (it is rebuilt from the code, not restored)");
  } else if (region === d.aws_region) {
    add("dr_region", found(), `a region of the EU/EEA other than aws_region (${d.aws_region}): copies in the primary region are lost with it`);
  } else if (!(region in EU_DR_REGIONS)) {
    add(
      "dr_region",
      found(NON_EEA_EUROPEAN_REGIONS[region] ?? "not a known region of the EU/EEA"),
      `a region of the EU/EEA (RGPD): ${Object.keys(EU_DR_REGIONS).join(", ")}`,
    );
  }
}
