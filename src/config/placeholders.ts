import { SettingKey } from "./settings";
import { EnvironmentConfig } from "./settings";

/** Example values of the committed .example files: a real plan or apply must not run on them. */
const EXAMPLE_ACCOUNT = "123456789012";

const CHECKS: [SettingKey, (c: EnvironmentConfig["settings"]) => boolean][] = [
  ["aws_account_id", (s) => s.accountId === EXAMPLE_ACCOUNT],
  ["route53_zone_id", (s) => /EXAMPLE/.test(s.hostedZoneId)],
  ["ecr_registry", (s) => s.ecrRegistry.startsWith(`${EXAMPLE_ACCOUNT}.`)],
  ["alert_email_addresses", (s) => s.alertEmails.some((e) => e.endsWith("@example.com"))],
  ["owner", (s) => /example\.com|EXAMPLE/.test(s.owner)],
  ["cost_center", (s) => /EXAMPLE/.test(s.costCenter)],
  ["kms_key_arn", (s) => (s.kmsKeyArn ?? "").includes(EXAMPLE_ACCOUNT) || /key\/0{8}-/.test(s.kmsKeyArn ?? "")],
  ["sns_topic_arn", (s) => (s.snsTopicArn ?? "").includes(`:${EXAMPLE_ACCOUNT}:`)],
];

/** The settings that still hold an example value, by key. */
export function placeholderSettings(config: EnvironmentConfig): SettingKey[] {
  return CHECKS.filter(([, isPlaceholder]) => isPlaceholder(config.settings)).map(([key]) => key);
}

/**
 * Why real Terraform must not run on these settings, or undefined when it may: the example file itself,
 * or an operator's copy that still holds example values.
 */
export function refusalForRealRun(config: EnvironmentConfig, action: string): string | undefined {
  const own = config.source.file.replace(/\.example$/, "");
  if (config.source.isExample) {
    return `${action} refused for ${config.env}: it would run on the example settings (${config.source.file}). Create your copy and fill it in:\n  cp ${config.source.file} ${own}`;
  }
  const keys = placeholderSettings(config);
  if (keys.length === 0) return undefined;
  return `${action} refused for ${config.env}: ${config.source.file} still holds example values for: ${keys.join(", ")}. Replace them with this environment's own values.`;
}
