import { PROFILES } from "../config/profiles";
import { Rule } from "./guardrails";
import { protectionOf } from "./rule-helpers";

/**
 * Resource types that hold data: destroying or replacing one loses it. The guardrail below protects
 * them, and the operator flags a plan that deletes one.
 */
export const STATEFUL_TYPES: readonly string[] = [
  "aws_db_instance",
  "aws_rds_cluster",
  "aws_rds_cluster_instance",
  "aws_elasticache_replication_group",
  "aws_elasticache_cluster",
  "aws_s3_bucket",
  "aws_kms_key",
  "aws_cloudwatch_log_group",
  "aws_dynamodb_table",
  "aws_secretsmanager_secret",
  "aws_cloudtrail",
];

export const dataProtected: Rule = {
  id: "data-prevent-destroy",
  types: STATEFUL_TYPES,
  description: `in environments whose sizing says preventDestroy (staging, prod), every resource that holds data (${STATEFUL_TYPES.join(", ")}) has lifecycle.prevent_destroy = true`,
  check(s) {
    // The environment is the one the naming contract gives the stack's name, as for the ALB's group.
    // A restore drill's DR environment (staging's) is torn down afterwards: held to dev's protections.
    const env = protectionOf(s);
    if (!env || !PROFILES[env].preventDestroy) return [];
    return s.resources
      .filter((r) => STATEFUL_TYPES.includes(r.type) && r.config.lifecycle?.prevent_destroy !== true)
      .map((r) => ({
        rule: this.id,
        address: r.address,
        message: `holds data but has no lifecycle.prevent_destroy = true: in ${env} a plan could destroy it; set lifecycle: { preventDestroy: true } on it`,
      }));
  },
};
