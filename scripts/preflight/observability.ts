/**
 * The observability phase's prerequisites of the account: what it creates once per account (and region)
 * or under a name of its own, and that may already be there: the trail and the region's trail quota,
 * GuardDuty's detector, Security Hub, Inspector's switch, the budget. The audit bucket's name is checked
 * with the other buckets (`collisions`).
 */
import { EnvironmentConfig } from "../../src/config/settings";
import { names, partitionOf } from "../../src/naming";
import { Resource } from "../review/model";
import { Aws } from "./aws";
import { Check, PhaseApplied, fail, pass, warn } from "./checks";

/** CloudTrail's "Trails per Region", which cannot be increased. */
export const TRAILS_PER_REGION = 5;

/** Another environment's settings, as read from its own `terraform.tfvars` (never AWS). */
export interface OtherEnvironment {
  readonly env: string;
  /** The file, relative to the settings root. */
  readonly file: string;
  readonly accountId: string;
  readonly region: string;
  readonly inspectorEnabled: boolean;
  /** Its `dr_region`, when it has a recovery phase. */
  readonly drRegion?: string;
  /** Its `ecr_registry` (the images' registry host, `<account>.dkr.ecr.<region>.amazonaws.com`). */
  readonly ecrRegistry: string;
}

/** Budgets is a global API, served from one region of each partition. */
export function budgetsRegion(region: string): string {
  return partitionOf(region) === "aws-cn" ? "cn-northwest-1" : "us-east-1";
}

const PHASE = "observability";

export function observability(
  aws: Aws,
  config: EnvironmentConfig,
  resources: readonly Resource[],
  stackDir: (stack: string) => string,
  applied: PhaseApplied,
  others: readonly OtherEnvironment[],
): Check[] {
  const s = config.settings;
  const n = names(config.env);
  const file = config.source.file;
  // The resource of a type, or of a type and name where the phase has several (the two budgets).
  const ofType = (type: string, name?: string) => resources.find((r) => r.phase === PHASE && r.type === type && (name === undefined || r.config.name === name));
  const importCommand = (type: string, id: string, name?: string) => {
    const r = ofType(type, name);
    const address = r ? r.address : `${type}.<address>`;
    const dir = stackDir(r ? r.stack : `accessweaver-${config.env}-${PHASE}`);
    return `terraform -chdir=${dir} import '${address}' '${id}' (after make init ENV=${config.env} PHASE=${PHASE})`;
  };
  const own = (type: string, name?: string) => `phase ${PHASE} has a state, so it is its own ${ofType(type, name)?.address ?? type}`;
  const out: Check[] = [];

  // CloudTrail: the trail's name, and room for it under the region's quota.
  const trails = aws("cloudtrail", "describe-trails");
  if (!trails.ok) {
    out.push(
      warn(
        "trail",
        `cannot list the trails of ${s.region}: ${trails.error}`,
        `check by hand: aws cloudtrail describe-trails --region ${s.region} must not list ${n.trail} (or it must be imported), and list fewer than ${TRAILS_PER_REGION} trails`,
      ),
    );
  } else {
    const list = (trails.json.trailList ?? []) as { Name: string; TrailARN?: string; HomeRegion?: string }[];
    const mine = list.find((t) => t.Name === n.trail && (t.TrailARN ?? "").includes(`:${s.accountId}:`));
    if (!mine) out.push(pass("trail", `${n.trail} does not exist yet`));
    else if (applied(PHASE)) out.push(pass("trail", `${n.trail} exists; ${own("aws_cloudtrail")}`));
    else {
      out.push(
        fail(
          "trail",
          `${n.trail} already exists (${mine.TrailARN}), and phase ${PHASE} was never applied: creating it would fail; it is fine only once Terraform imports it`,
          `adopt it: ${importCommand("aws_cloudtrail", String(mine.TrailARN))}, or delete it if it is a leftover`,
        ),
      );
    }
    const detail = `${list.length} of ${TRAILS_PER_REGION} trails in ${s.region}${list.length > 0 ? ` (${list.map((t) => t.Name).join(", ")})` : ""}`;
    if (mine || list.length < TRAILS_PER_REGION)
      out.push(pass("quota: CloudTrail trails per region", `${detail}; ${mine ? "the trail is one of them" : "1 more needed"}`));
    else {
      out.push(
        fail(
          "quota: CloudTrail trails per region",
          `${detail}: no room for ${n.trail} (the quota cannot be increased; a multi-region trail counts in every region)`,
          `delete a trail that is no longer needed (aws cloudtrail describe-trails --region ${s.region}), or record this account with the organisation's trail`,
        ),
      );
    }
  }

  // GuardDuty: one detector per account and region.
  if (s.guarddutyEnabled) {
    const r = aws("guardduty", "list-detectors");
    const ids = r.ok ? ((r.json.DetectorIds ?? []) as string[]) : [];
    if (!r.ok)
      out.push(
        warn(
          "GuardDuty",
          `cannot list the detectors of ${s.region}: ${r.error}`,
          `check by hand: aws guardduty list-detectors --region ${s.region} must answer no detector while guardduty_enabled = true`,
        ),
      );
    else if (ids.length === 0) out.push(pass("GuardDuty", `no detector in ${s.region}: guardduty_enabled = true creates one`));
    else if (applied(PHASE)) out.push(pass("GuardDuty", `detector ${ids.join(", ")} exists; ${own("aws_guardduty_detector")}`));
    else {
      out.push(
        fail(
          "GuardDuty",
          `detector ${ids.join(", ")} already exists in ${s.region} (one per account and region): guardduty_enabled = true would fail to create another`,
          `set guardduty_enabled = false in ${file} if the organisation manages GuardDuty (its findings still reach the alerts topic), or import it: ${importCommand("aws_guardduty_detector", ids[0]!)}`,
        ),
      );
    }
  }

  // Security Hub: one hub per account and region; describe-hub answers an error where it is not enabled.
  if (s.securityHubEnabled) {
    const r = aws("securityhub", "describe-hub");
    const off = !r.ok && (r.code === "InvalidAccessException" || r.code === "ResourceNotFoundException" || /not subscribed/i.test(r.error));
    if (off) out.push(pass("Security Hub", `not enabled in ${s.region}: security_hub_enabled = true enables it`));
    else if (!r.ok)
      out.push(
        warn(
          "Security Hub",
          `cannot read Security Hub in ${s.region}: ${r.error}`,
          `check by hand: aws securityhub describe-hub --region ${s.region} must answer that the account is not subscribed while security_hub_enabled = true`,
        ),
      );
    else if (applied(PHASE)) out.push(pass("Security Hub", `enabled (${r.json.HubArn}); ${own("aws_securityhub_account")}`));
    else {
      out.push(
        fail(
          "Security Hub",
          `already enabled in ${s.region} (${r.json.HubArn}): security_hub_enabled = true would fail to enable it again`,
          `set security_hub_enabled = false in ${file} if the organisation manages Security Hub, or import it: ${importCommand("aws_securityhub_account", s.accountId)} (and the standard's subscription if it is already on: aws securityhub get-enabled-standards --region ${s.region})`,
        ),
      );
    }
  }

  // Inspector: a switch of the account and region. Enabling it again is harmless: its status is information.
  if (s.inspectorEnabled) {
    const r = aws("inspector2", "batch-get-account-status", "--account-ids", s.accountId);
    const account = r.ok
      ? ((r.json.accounts ?? []) as { accountId: string; resourceState?: Record<string, { status?: string }> }[]).find((a) => a.accountId === s.accountId)
      : undefined;
    if (!account) {
      out.push(
        warn(
          "Inspector",
          `cannot read Inspector's status in ${s.region}: ${r.error || "the account is not in the answer"}`,
          `check by hand: aws inspector2 batch-get-account-status --account-ids ${s.accountId} --region ${s.region}`,
        ),
      );
    } else {
      const state = (k: string) => account.resourceState?.[k]?.status ?? "unknown";
      out.push(
        pass(
          "Inspector",
          `ECR scanning ${state("ecr")}, EC2 scanning ${state("ec2")} in ${s.region}; inspector_enabled = true enables both (enabling what is already on changes nothing)`,
        ),
      );
    }
    const sharing = others.filter((o) => o.inspectorEnabled && o.accountId === s.accountId && o.region === s.region);
    if (sharing.length > 0) {
      out.push(
        warn(
          "Inspector",
          `${sharing.map((o) => `${o.env} (${o.file})`).join(" and ")} also ${sharing.length > 1 ? "have" : "has"} inspector_enabled = true in account ${s.accountId}, ${s.region}: both stacks would hold the account's one switch, and destroying either turns Inspector off for the account`,
          `keep inspector_enabled = true in one environment of the account (prod) and set it to false in the others (docs/audit.md, "Security scanning")`,
        ),
      );
    }
  }

  // The budgets (the environment's and the account-wide one): a name is unique in the account. Budgets is
  // global: its region is the partition's.
  for (const name of [n.budget, n.accountBudget]) {
    const budget = aws("budgets", "describe-budget", "--account-id", s.accountId, "--budget-name", name, "--region", budgetsRegion(s.region));
    if (!budget.ok && budget.code === "NotFoundException") out.push(pass("budget", `${name} does not exist yet`));
    else if (!budget.ok)
      out.push(
        warn(
          "budget",
          `cannot read the budget ${name}: ${budget.error}`,
          `check by hand: aws budgets describe-budget --account-id ${s.accountId} --budget-name ${name} --region ${budgetsRegion(s.region)} must answer NotFoundException`,
        ),
      );
    else if (applied(PHASE)) out.push(pass("budget", `${name} exists; ${own("aws_budgets_budget", name)}`));
    else {
      out.push(
        fail(
          "budget",
          `${name} already exists in account ${s.accountId}, and phase ${PHASE} was never applied: creating it would fail`,
          `adopt it: ${importCommand("aws_budgets_budget", `${s.accountId}:${name}`, name)}, or delete it if it is a leftover`,
        ),
      );
    }
  }
  return out;
}
