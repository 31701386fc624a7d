import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";

export interface EncryptedLogGroupProps {
  readonly name: string;
  /** The environment's KMS key: log groups are never left on the default encryption. */
  readonly kmsKeyArn: string;
  /** Days to keep events; must be a value CloudWatch accepts (365, 1096, ...). */
  readonly retentionDays: number;
  /**
   * Logs that are evidence (audit, flow logs): Terraform refuses to destroy the group, and a destroy of
   * the stack leaves it in AWS (skip_destroy) to expire with its retention.
   */
  readonly protect?: boolean;
}

/** A CloudWatch log group encrypted with the environment's key and kept as long as policy requires. */
export class EncryptedLogGroup extends Construct {
  readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: EncryptedLogGroupProps) {
    super(scope, id);
    this.logGroup = new CloudwatchLogGroup(this, "log-group", {
      name: props.name,
      kmsKeyId: props.kmsKeyArn,
      retentionInDays: props.retentionDays,
      ...(props.protect ? { skipDestroy: true, lifecycle: { preventDestroy: true } } : {}),
    });
  }
}
