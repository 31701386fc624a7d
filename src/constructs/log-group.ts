import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CLOUDWATCH_RETENTION_DAYS, LogClass, MIN_RETENTION_DAYS } from "../config/profiles";

/** The tag that declares a log group's class; the retention guardrail reads it, never the name. */
export const LOG_CLASS_TAG = "LogClass";

export interface EncryptedLogGroupProps {
  readonly name: string;
  /** The environment's KMS key: log groups are never left on the default encryption. */
  readonly kmsKeyArn: string;
  /**
   * What the group holds: `application` logs, or `audit` evidence (flow logs, trail, access logs).
   * Declared here, where the group is made, as the `LogClass` tag; it sets the least retention.
   */
  readonly logClass: LogClass;
  /**
   * Days to keep events: one of CloudWatch Logs' values (CLOUDWATCH_RETENTION_DAYS), or 0 (never expire).
   * Application log groups pass their environment's `applicationLogRetentionDays`.
   * @default 365 for application logs, 1096 (three years) for audit evidence
   */
  readonly retentionDays?: number;
  /**
   * Logs that are evidence (audit, flow logs): Terraform refuses to destroy the group, and a destroy of
   * the stack leaves it in AWS (skip_destroy) to expire with its retention.
   * @default false
   */
  readonly protect?: boolean;
}

/** A CloudWatch log group encrypted with the environment's key and kept as long as its class requires. */
export class EncryptedLogGroup extends Construct {
  readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: EncryptedLogGroupProps) {
    super(scope, id);
    const retentionDays = props.retentionDays ?? MIN_RETENTION_DAYS[props.logClass];
    // CloudWatch refuses any other value, at apply; refused here, at synth.
    if (retentionDays !== 0 && !(CLOUDWATCH_RETENTION_DAYS as readonly number[]).includes(retentionDays)) {
      const from =
        props.retentionDays === undefined
          ? `MIN_RETENTION_DAYS.${props.logClass}`
          : "retentionDays (application logs: the profile's applicationLogRetentionDays, src/config/profiles.ts)";
      throw new Error(
        `Log group ${props.name}: retention ${retentionDays} days (${from}) is not one CloudWatch Logs accepts; expected one of ${CLOUDWATCH_RETENTION_DAYS.join(", ")} (or 0, never expire).`,
      );
    }
    this.logGroup = new CloudwatchLogGroup(this, "log-group", {
      name: props.name,
      kmsKeyId: props.kmsKeyArn,
      retentionInDays: retentionDays,
      tags: { [LOG_CLASS_TAG]: props.logClass },
      ...(props.protect ? { skipDestroy: true, lifecycle: { preventDestroy: true } } : {}),
    });
  }
}
