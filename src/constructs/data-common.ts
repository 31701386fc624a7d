/** What the rds and redis constructs share: maintenance windows and the log groups their engines write to. */
import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { Names } from "../naming";
import { EncryptedLogGroup } from "./log-group";

/** Where a data store sits, from the network phase's handles: the same for PostgreSQL and Redis. */
export interface DataStorePlacement {
  readonly names: Names;
  /** Database subnets, one per zone (the network phase's `database_subnet_ids`). */
  readonly subnetIds: string[];
  /** The store's tier security group (network phase): its port from the services tier only. */
  readonly securityGroupId: string;
  /** The environment's key: data at rest, snapshots, secrets and the log groups. */
  readonly kmsKeyArn: string;
}

/**
 * Whether a daily `hh:mm-hh:mm` window (backups, snapshots) overlaps a weekly `ddd:hh:mm-ddd:hh:mm`
 * maintenance window on its day: RDS and ElastiCache refuse overlapping windows at apply time.
 */
export function windowsOverlap(daily: string, weekly: string): boolean {
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const [d0, d1] = daily.split("-").map(minutes) as [number, number];
  const [w0, w1] = weekly.split("-").map((w) => minutes(w.slice(4))) as [number, number];
  return d0 < w1 && w0 < d1;
}

/** Refuses overlapping windows with a message naming the resource. */
export function checkWindows(resource: string, what: string, daily: string, weekly: string): void {
  if (windowsOverlap(daily, weekly))
    throw new Error(`${resource}: the ${what} window ${daily} overlaps the maintenance window ${weekly}; AWS refuses overlapping windows.`);
}

/** A data store's daily window (backups, snapshots) and weekly maintenance window, UTC. */
export interface StoreWindows {
  readonly daily: string;
  readonly weekly: string;
}

/**
 * What every data store settles first: whether it is protected (`protect`, default false), and its two
 * windows (the props' or the store's defaults), refused where they overlap.
 */
export function storePreamble(
  resource: string,
  what: "backup" | "snapshot",
  given: { readonly protect?: boolean; readonly daily?: string; readonly weekly?: string },
  defaults: StoreWindows,
): { readonly protect: boolean } & StoreWindows {
  const daily = given.daily ?? defaults.daily;
  const weekly = given.weekly ?? defaults.weekly;
  checkWindows(resource, what, daily, weekly);
  return { protect: given.protect ?? false, daily, weekly };
}

/**
 * The log groups an engine writes to, made here with the key and a retention before the engine exists:
 * otherwise the service creates them itself, unencrypted and kept forever. Construct ids `log-<log>`.
 * Protected (prod, staging) like the data they describe: kept when the stack is destroyed.
 */
export function engineLogGroups<L extends string>(
  scope: Construct,
  logs: readonly L[],
  nameOf: (log: L) => string,
  kmsKeyArn: string,
  retentionDays?: number,
  protect = false,
): CloudwatchLogGroup[] {
  return logs.map(
    (log) =>
      new EncryptedLogGroup(scope, `log-${log}`, {
        name: nameOf(log),
        kmsKeyArn,
        logClass: "application",
        protect,
        ...(retentionDays ? { retentionDays } : {}),
      }).logGroup,
  );
}
