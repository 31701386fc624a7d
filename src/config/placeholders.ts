import * as fs from "fs";
import * as path from "path";
import { parseHcl } from "./load";
import { EnvironmentConfig, SettingKey } from "./settings";

/**
 * Settings that only the operator can know. An operator's copy that still holds the committed
 * example's value for one of them is not ready for a real plan or apply.
 */
export const ACCOUNT_SPECIFIC: readonly SettingKey[] = [
  "aws_account_id",
  "route53_zone_id",
  "ecr_registry",
  "alert_email_addresses",
  "alert_https_endpoints",
  "alert_paging_endpoints",
  "kms_key_arn",
  "sns_topic_arn",
  "cost_center",
  "owner",
];

/** The account-specific keys whose value in `own` is the example's own value. */
export function placeholderKeys(own: Record<string, unknown>, example: Record<string, unknown>): SettingKey[] {
  return ACCOUNT_SPECIFIC.filter((k) => {
    const value = example[k];
    const empty = value === undefined || (Array.isArray(value) && value.length === 0);
    return !empty && JSON.stringify(own[k]) === JSON.stringify(value);
  });
}

/**
 * Why real Terraform must not run on these settings, or undefined when it may: the example file itself,
 * or an operator's copy that still holds example values (compared key by key with the .example).
 */
export async function refusalForRealRun(config: EnvironmentConfig, action: string, rootDir: string): Promise<string | undefined> {
  const own = config.source.file.replace(/\.example$/, "");
  const example = `${own}.example`;
  if (config.source.isExample) {
    return `${action} refused for ${config.env}: it would run on the example settings (${config.source.file}). Create your copy and fill it in:\n  cp ${example} ${own}`;
  }
  const examplePath = path.join(rootDir, example);
  if (!fs.existsSync(examplePath)) return undefined;
  const parseFile = (file: string) => parseHcl(path.relative(rootDir, file), fs.readFileSync(file, "utf8"));
  const keys = placeholderKeys(await parseFile(path.join(rootDir, own)), await parseFile(examplePath));
  if (keys.length === 0) return undefined;
  return `${action} refused for ${config.env}: ${own} still holds the example's values for: ${keys.join(", ")}. Replace them with this environment's own values.`;
}
