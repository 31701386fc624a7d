/**
 * Which AWS API each resource type calls, as the keys of the AWS provider's `endpoints` block
 * (hashicorp/aws 5.100.0, canonical names: setting an alias beside its canonical key is refused).
 * Every resource and data source of an emulated copy must map to one: a type that does not would
 * call real AWS (with stand-in credentials, so it would fail late and confusingly), so it is refused.
 */

/** Type prefix (longest match wins) -> endpoint key. */
export const SERVICE_OF_PREFIX: Readonly<Record<string, string>> = {
  aws_acm_: "acm",
  aws_appautoscaling_: "appautoscaling",
  aws_budgets_: "budgets",
  aws_cloudtrail: "cloudtrail",
  aws_cloudwatch_log_: "logs",
  aws_cloudwatch_event_: "events",
  aws_cloudwatch_metric_alarm: "cloudwatch",
  aws_cloudwatch_composite_alarm: "cloudwatch",
  aws_cloudwatch_dashboard: "cloudwatch",
  aws_codedeploy_: "deploy",
  aws_db_: "rds",
  aws_rds_: "rds",
  aws_default_: "ec2",
  aws_vpc: "ec2",
  aws_subnet: "ec2",
  aws_route_table: "ec2",
  aws_route: "ec2",
  aws_internet_gateway: "ec2",
  aws_egress_only_internet_gateway: "ec2",
  aws_nat_gateway: "ec2",
  aws_eip: "ec2",
  aws_security_group: "ec2",
  aws_network_acl: "ec2",
  aws_flow_log: "ec2",
  aws_ec2_: "ec2",
  aws_availability_zones: "ec2",
  aws_prefix_list: "ec2",
  aws_dynamodb_: "dynamodb",
  aws_ecr_: "ecr",
  aws_ecs_: "ecs",
  aws_elasticache_: "elasticache",
  aws_lb: "elbv2",
  aws_alb: "elbv2",
  aws_guardduty_: "guardduty",
  aws_iam_: "iam",
  aws_inspector2_: "inspector2",
  aws_kms_: "kms",
  aws_lambda_: "lambda",
  aws_route53_: "route53",
  aws_s3_: "s3",
  aws_secretsmanager_: "secretsmanager",
  aws_securityhub_: "securityhub",
  aws_service_discovery_: "servicediscovery",
  aws_sns_: "sns",
  aws_sqs_: "sqs",
  aws_ssm_: "ssm",
  aws_wafv2_: "wafv2",
  aws_caller_identity: "sts",
  aws_region: "ec2",
  aws_partition: "sts",
};

/** Always pointed at the emulator: the provider itself calls them (account id, credentials). */
export const ALWAYS = ["iam", "sts"] as const;

/** The endpoint key a resource or data source type calls, or undefined when the table lacks it. */
export function serviceOf(type: string): string | undefined {
  let best: string | undefined;
  for (const prefix of Object.keys(SERVICE_OF_PREFIX)) {
    if (type.startsWith(prefix) && (best === undefined || prefix.length > best.length)) best = prefix;
  }
  return best === undefined ? undefined : SERVICE_OF_PREFIX[best];
}
