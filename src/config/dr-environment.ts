import { EnvironmentConfig } from "./settings";

/** `2026-12-06T21:30:00Z`: the form `make restore`'s RESTORE_TIME and RDS's restore_time take. */
export const RESTORE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * The DR environment of `config` (Region loss, part 2): the same environment, sizes and guardrails, in
 * its `dr_region`, restored from the recovery phase's copies. What differs, and why:
 *  - region and zones: `dr_region`, with as many zones as the primary (`<dr_region>a`, `b`, `c`);
 *  - registry: the same account's registry in `dr_region`, where ECR replicated the images;
 *  - no existing key or topic from the settings (they are the primary region's), no DR region of its own;
 *  - GuardDuty, Security Hub and Inspector are regional: the settings' switches hold in dr_region too;
 *    the trail and the budgets are the account's, made once by the primary (the observability phase skips them);
 *  - staging's DR environment is a drill, torn down afterwards (`make restore-teardown`): it is not
 *    protected from destroy. prod's keeps every protection.
 */
export function drEnvironment(config: EnvironmentConfig, restoreTime?: string): EnvironmentConfig {
  const s = config.settings;
  if (!s.drRegion) throw new Error(`${config.env} has no DR environment: ${config.source.file} sets no dr_region.`);
  if (restoreTime !== undefined && !RESTORE_TIME.test(restoreTime)) {
    throw new Error(`restore time ${JSON.stringify(restoreTime)}: expected an ISO 8601 UTC time such as 2026-12-06T21:30:00Z.`);
  }
  const region = s.drRegion;
  const zones = s.availabilityZones.map((_, i) => `${region}${"abcdef"[i]}`);
  const { kmsKeyArn: _key, snsTopicArn: _topic, drRegion: _dr, drBackupRetentionDays: _days, ...rest } = s;
  void [_key, _topic, _dr, _days];
  return {
    ...config,
    site: "dr",
    ...(restoreTime ? { restoreTime } : {}),
    settings: {
      ...rest,
      region,
      availabilityZones: zones,
      ecrRegistry: s.ecrRegistry.replace(`.dkr.ecr.${s.region}.`, `.dkr.ecr.${region}.`),
    },
    sizing: config.env === "prod" ? config.sizing : { ...config.sizing, preventDestroy: false },
  };
}
