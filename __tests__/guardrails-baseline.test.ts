/**
 * The design's security and data-protection list, one protection at a time: the real configuration of
 * an environment with that one protection taken out fails the prod synth with a message naming the
 * rule and the resource, and is reported (not failed) in dev. The removals edit the synthesized JSON,
 * which is what the guardrails read, so one synth per environment serves every row; the last tests show
 * the same through a real synth.
 */
import * as fs from "fs";
import * as path from "path";
import { App, TerraformStack } from "cdktf";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { PROFILES } from "../src/config/profiles";
import { EnvironmentName } from "../src/naming";
import { GuardrailError, Guardrails, Violation, evaluate, viewOf } from "../src/policy/guardrails";
import { BASELINE_RULES } from "../src/policy/rules";
import { REGISTERED_PHASES } from "../src/stacks/registry";
import { ROOT, StackJson, buildEnv, config, synthEnv } from "./support/config";

type Config = Record<string, any>;
type Phase = "network" | "database" | "cache" | "loadbalancer" | "services" | "observability";

interface Removal {
  /** The protection, as the design lists it. */
  readonly protection: string;
  readonly phase: Phase;
  /** Takes the protection out of (a copy of) the phase's JSON. */
  readonly remove: (json: StackJson) => void;
  readonly rule: string;
  readonly address: string;
  /** What the message says was found. */
  readonly found: string | RegExp;
  /** Whether dev requires it too (and reports its removal); the rest is required in staging and prod only. */
  readonly dev: boolean;
  /** Other rules the same removal breaks on the same resource, where two rules hold one protection. @default none */
  readonly alsoBreaks?: readonly string[];
}

const [DB, REDIS, ALB_LOGS] = ["aws_db_instance.rds_instance", "aws_elasticache_replication_group.redis_replication-group", "aws_s3_bucket.access-logs_bucket"];

/** The resource at `address` in a stack's JSON. */
function at(json: StackJson, address: string): Config {
  const [type, name] = address.split(/\.(.*)/s) as [string, string];
  const r = json.resource?.[type]?.[name];
  if (!r) throw new Error(`no ${address} in the stack`);
  return r;
}
const drop = (json: StackJson, address: string) => {
  at(json, address);
  const [type, name] = address.split(/\.(.*)/s) as [string, string];
  delete json.resource[type][name];
};
const wafRules = (json: StackJson) => at(json, "aws_wafv2_web_acl.waf_web-acl").rule as Config[];
const withoutWafRule = (name: string) => (json: StackJson) => {
  const acl = at(json, "aws_wafv2_web_acl.waf_web-acl");
  const kept = wafRules(json).filter((r) => r.name !== name);
  if (kept.length !== acl.rule.length - 1) throw new Error(`no WAF rule ${name}`);
  acl.rule = kept;
};

const [TRAIL, AUDIT_BUCKET, TRAIL_LOGS] = [
  "aws_cloudtrail.audit_trail",
  "aws_s3_bucket.audit_bucket_bucket",
  "aws_cloudwatch_log_group.audit_log-group_log-group",
];

const REMOVALS: readonly Removal[] = [
  // The audit trail kept three years, unalterable; alert topics encrypted with the environment's key.
  {
    protection: "audit trail in every region",
    phase: "observability",
    remove: (j) => (at(j, TRAIL).is_multi_region_trail = false),
    rule: "trail-hardened",
    address: TRAIL,
    found: "is_multi_region_trail is not true",
    dev: true,
  },
  {
    protection: "audit trail log file validation",
    phase: "observability",
    remove: (j) => (at(j, TRAIL).enable_log_file_validation = false),
    rule: "trail-hardened",
    address: TRAIL,
    found: "enable_log_file_validation is not true",
    dev: true,
  },
  {
    protection: "audit trail global service events",
    phase: "observability",
    remove: (j) => (at(j, TRAIL).include_global_service_events = false),
    rule: "trail-hardened",
    address: TRAIL,
    found: "include_global_service_events is not true",
    dev: true,
  },
  {
    protection: "audit trail encrypted with the key",
    phase: "observability",
    remove: (j) => delete at(j, TRAIL).kms_key_id,
    rule: "trail-hardened",
    address: TRAIL,
    found: "kms_key_id is not set",
    dev: true,
  },
  {
    protection: "audit trail log group kept three years",
    phase: "observability",
    remove: (j) => (at(j, TRAIL_LOGS).retention_in_days = 365),
    rule: "log-group-encrypted-retained",
    address: TRAIL_LOGS,
    found: "retention_in_days is 365; audit logs need at least 1096",
    dev: true,
  },
  {
    protection: "audit trail log group declared audit evidence",
    phase: "observability",
    remove: (j) => (at(j, TRAIL_LOGS).tags.LogClass = "application"),
    rule: "trail-hardened",
    address: TRAIL,
    found: 'whose LogClass is "application"',
    dev: true,
  },
  {
    protection: "audit bucket Object Lock",
    phase: "observability",
    remove: (j) => drop(j, "aws_s3_bucket_object_lock_configuration.audit_bucket_object-lock"),
    rule: "audit-bucket-locked",
    address: AUDIT_BUCKET,
    found: "no aws_s3_bucket_object_lock_configuration sets a default retention",
    dev: true,
  },
  {
    protection: "audit bucket versions",
    phase: "observability",
    remove: (j) => (at(j, "aws_s3_bucket_versioning.audit_bucket_versioning").versioning_configuration.status = "Suspended"),
    rule: "bucket-versioned",
    address: AUDIT_BUCKET,
    found: 'versioning is "Suspended"',
    dev: true,
    alsoBreaks: ["audit-bucket-locked"],
  },
  {
    protection: "audit bucket kept three years",
    phase: "observability",
    remove: (j) => (at(j, "aws_s3_bucket_lifecycle_configuration.audit_bucket_lifecycle").rule[0].expiration[0].days = 365),
    rule: "log-bucket-retention",
    address: AUDIT_BUCKET,
    found: "expires objects after 365 days; audit logs need at least 1096",
    dev: true,
    alsoBreaks: ["audit-bucket-locked"],
  },
  {
    protection: "audit bucket SSE-KMS",
    phase: "observability",
    remove: (j) =>
      (at(j, "aws_s3_bucket_server_side_encryption_configuration.audit_bucket_encryption").rule[0].apply_server_side_encryption_by_default = {
        sse_algorithm: "AES256",
      }),
    rule: "bucket-encrypted",
    address: AUDIT_BUCKET,
    found: 'default encryption is "AES256" without kms_master_key_id',
    dev: true,
  },
  {
    protection: "audit bucket public access blocked",
    phase: "observability",
    remove: (j) => (at(j, "aws_s3_bucket_public_access_block.audit_bucket_public-access-block").block_public_policy = false),
    rule: "bucket-private-tls-only",
    address: AUDIT_BUCKET,
    found: "block_public_policy not true",
    dev: true,
  },
  {
    protection: "audit bucket denies plain HTTP",
    phase: "observability",
    remove: (j) => drop(j, "aws_s3_bucket_policy.audit_bucket_policy"),
    rule: "bucket-private-tls-only",
    address: AUDIT_BUCKET,
    found: "no bucket policy denies requests without TLS",
    dev: true,
  },
  {
    protection: "alert topic encrypted",
    phase: "observability",
    remove: (j) => delete at(j, "aws_sns_topic.alerts_topic").kms_master_key_id,
    rule: "sns-topic-cmk",
    address: "aws_sns_topic.alerts_topic",
    found: "kms_master_key_id is not set",
    dev: true,
  },
  // Encryption at rest with the environment's key, everywhere it is offered.
  {
    protection: "log group encrypted",
    phase: "database",
    remove: (j) => delete at(j, "aws_cloudwatch_log_group.rds_log-postgresql_log-group").kms_key_id,
    rule: "log-group-encrypted-retained",
    address: "aws_cloudwatch_log_group.rds_log-postgresql_log-group",
    found: "kms_key_id is not set",
    dev: true,
  },
  {
    protection: "RDS storage encrypted",
    phase: "database",
    remove: (j) => (at(j, DB).storage_encrypted = false),
    rule: "rds-encrypted",
    address: DB,
    found: "storage_encrypted must be true",
    dev: true,
  },
  {
    protection: "Redis encrypted at rest",
    phase: "cache",
    remove: (j) => (at(j, REDIS).at_rest_encryption_enabled = false),
    rule: "redis-encryption-auth",
    address: REDIS,
    found: "at_rest_encryption_enabled must be true",
    dev: true,
  },
  {
    protection: "secret encrypted with the key",
    phase: "database",
    remove: (j) => delete at(j, "aws_secretsmanager_secret.secret_secret").kms_key_id,
    rule: "secret-encrypted",
    address: "aws_secretsmanager_secret.secret_secret",
    found: "kms_key_id is not set",
    dev: true,
  },
  {
    protection: "bucket encrypted",
    phase: "loadbalancer",
    remove: (j) => drop(j, "aws_s3_bucket_server_side_encryption_configuration.access-logs_encryption"),
    rule: "bucket-encrypted",
    address: ALB_LOGS,
    found: "default encryption is not configured",
    dev: true,
  },
  {
    protection: "the environment's key, not an AWS-managed one",
    phase: "services",
    remove: (j) => (at(j, "aws_cloudwatch_log_group.aw-pdp-service_logs_log-group").kms_key_id = "alias/aws/logs"),
    rule: "kms-environment-key",
    address: "aws_cloudwatch_log_group.aw-pdp-service_logs_log-group",
    found: 'kms_key_id is "alias/aws/logs"',
    dev: true,
  },
  {
    protection: "Fargate ephemeral storage encrypted with the key",
    phase: "services",
    remove: (j) => delete at(j, "aws_ecs_cluster.ecs_cluster").configuration,
    rule: "ecs-ephemeral-storage-encrypted",
    address: "aws_ecs_cluster.ecs_cluster",
    found: "fargate_ephemeral_storage_kms_key_id is not set",
    dev: true,
  },
  {
    protection: "key rotation",
    phase: "network",
    remove: (j) => (at(j, "aws_kms_key.kms_key").enable_key_rotation = false),
    rule: "kms-key-rotation",
    address: "aws_kms_key.kms_key",
    found: "enable_key_rotation is not true",
    dev: true,
  },
  // TLS in transit.
  {
    protection: "ALB TLS 1.3 policy",
    phase: "loadbalancer",
    remove: (j) => (at(j, "aws_lb_listener.alb_listener_https").ssl_policy = "ELBSecurityPolicy-TLS-1-2-2017-01"),
    rule: "alb-listener-tls",
    address: "aws_lb_listener.alb_listener_https",
    found: 'ssl_policy is "ELBSecurityPolicy-TLS-1-2-2017-01"',
    dev: true,
  },
  {
    protection: "HTTP redirected to HTTPS",
    phase: "loadbalancer",
    remove: (j) => (at(j, "aws_lb_listener.alb_listener_http").default_action = [{ type: "forward", target_group_arn: "arn:tg" }]),
    rule: "alb-http-redirects",
    address: "aws_lb_listener.alb_listener_http",
    found: "not a permanent (HTTP_301) redirect to HTTPS",
    dev: true,
  },
  {
    protection: "rds.force_ssl",
    phase: "database",
    remove: (j) => {
      const g = at(j, "aws_db_parameter_group.rds_parameter-group");
      g.parameter = g.parameter.filter((p: Config) => p.name !== "rds.force_ssl");
    },
    rule: "rds-force-ssl",
    address: DB,
    found: "does not set rds.force_ssl = 1",
    dev: true,
  },
  {
    protection: "RDS TLS 1.2 minimum",
    phase: "database",
    remove: (j) => {
      const g = at(j, "aws_db_parameter_group.rds_parameter-group");
      g.parameter = g.parameter.map((p: Config) => (p.name === "ssl_min_protocol_version" ? { ...p, value: "TLSv1" } : p));
    },
    rule: "rds-parameters",
    address: DB,
    found: 'sets ssl_min_protocol_version to "TLSv1"',
    dev: true,
  },
  {
    protection: "RDS logs without bind values (personal data)",
    phase: "database",
    remove: (j) => {
      const g = at(j, "aws_db_parameter_group.rds_parameter-group");
      g.parameter = g.parameter.filter((p: Config) => p.name !== "log_parameter_max_length_on_error");
    },
    rule: "rds-parameters",
    address: DB,
    found: "sets log_parameter_max_length_on_error to nothing",
    dev: true,
  },
  {
    protection: "Redis transit encryption",
    phase: "cache",
    remove: (j) => (at(j, REDIS).transit_encryption_enabled = false),
    rule: "redis-encryption-auth",
    address: REDIS,
    found: "transit_encryption_enabled must be true",
    dev: true,
  },
  {
    protection: "Redis AUTH",
    phase: "cache",
    remove: (j) => delete at(j, REDIS).auth_token,
    rule: "redis-encryption-auth",
    address: REDIS,
    found: "no auth_token",
    dev: true,
  },
  {
    protection: "buckets deny plain HTTP",
    phase: "loadbalancer",
    remove: (j) => drop(j, "aws_s3_bucket_policy.access-logs_policy"),
    rule: "bucket-private-tls-only",
    address: ALB_LOGS,
    found: "no bucket policy denies requests without TLS",
    dev: true,
  },
  // Nothing public but the ALB.
  {
    protection: "no public IPs in subnets",
    phase: "network",
    remove: (j) => (at(j, "aws_subnet.vpc_subnet_private_eu-west-1a").map_public_ip_on_launch = true),
    rule: "no-public-ip-subnet",
    address: "aws_subnet.vpc_subnet_private_eu-west-1a",
    found: "map_public_ip_on_launch",
    dev: true,
  },
  {
    protection: "database not public",
    phase: "database",
    remove: (j) => (at(j, DB).publicly_accessible = true),
    rule: "rds-private",
    address: DB,
    found: "publicly_accessible must be false",
    dev: true,
  },
  {
    protection: "tasks without public IPs",
    phase: "services",
    remove: (j) => (at(j, "aws_ecs_service.aw-pdp-service_service").network_configuration.assign_public_ip = true),
    rule: "ecs-no-public-ip",
    address: "aws_ecs_service.aw-pdp-service_service",
    found: "assign_public_ip is true",
    dev: true,
  },
  {
    protection: "bucket public access blocked",
    phase: "loadbalancer",
    remove: (j) => (at(j, "aws_s3_bucket_public_access_block.access-logs_public-access-block").restrict_public_buckets = false),
    rule: "bucket-private-tls-only",
    address: ALB_LOGS,
    found: "restrict_public_buckets not true",
    dev: true,
  },
  {
    protection: "no elastic IP but the NAT gateways'",
    phase: "network",
    remove: (j) => (j.resource.aws_eip.loose = { domain: "vpc" }),
    rule: "public-only-alb",
    address: "aws_eip.loose",
    found: "no NAT gateway of this stack uses",
    dev: true,
  },
  {
    protection: "no other internet-facing load balancer",
    phase: "loadbalancer",
    remove: (j) => {
      // A second ALB as hardened as the first, behind the same WAF: only being public is wrong with it.
      j.resource.aws_lb.second = { ...structuredClone(at(j, "aws_lb.alb_alb")), name: "accessweaver-x-public" };
      j.resource.aws_wafv2_web_acl_association.second = { resource_arn: "${aws_lb.second.arn}", web_acl_arn: "${aws_wafv2_web_acl.waf_web-acl.arn}" };
    },
    rule: "public-only-alb",
    address: "aws_lb.second",
    found: 'internet-facing load balancer "accessweaver-x-public"',
    dev: true,
  },
  {
    protection: "alert topic publishable by this account only",
    phase: "observability",
    remove: (j) => {
      const publish = j.data.aws_iam_policy_document["alerts_policy-document"].statement.find((st: Config) => st.sid === "AllowCloudWatchAlarms");
      Object.assign(publish, { principals: [{ type: "AWS", identifiers: ["*"] }], condition: [] });
    },
    rule: "resource-policy-open-principal",
    address: "aws_sns_topic_policy.alerts_policy",
    found: 'statement AllowCloudWatchAlarms allows principal "*"',
    dev: true,
  },
  // No security group open to the world except the ALB's 80/443.
  {
    protection: "database group closed to the world",
    phase: "network",
    remove: (j) => {
      const r = at(j, "aws_vpc_security_group_ingress_rule.security-groups_database_in_postgres_from_services");
      delete r.referenced_security_group_id;
      r.cidr_ipv4 = "0.0.0.0/0";
    },
    rule: "no-world-ingress",
    address: "aws_vpc_security_group_ingress_rule.security-groups_database_in_postgres_from_services",
    found: "ingress tcp 5432-5432 from 0.0.0.0/0",
    dev: true,
  },
  {
    protection: "ALB open on 80/443 only",
    phase: "network",
    remove: (j) => Object.assign(at(j, "aws_vpc_security_group_ingress_rule.security-groups_alb_in_443_ipv4"), { from_port: 22, to_port: 22 }),
    rule: "no-world-ingress",
    address: "aws_vpc_security_group_ingress_rule.security-groups_alb_in_443_ipv4",
    found: "ingress tcp 22-22 from 0.0.0.0/0",
    dev: true,
  },
  // WAF: the AWS managed rule groups and a rate limit.
  ...["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesAmazonIpReputationList"].map(
    (group): Removal => ({
      protection: `WAF ${group}`,
      phase: "loadbalancer",
      remove: withoutWafRule(group),
      rule: "waf-managed-rules",
      address: "aws_wafv2_web_acl.waf_web-acl",
      found: `${group} is missing`,
      dev: true,
    }),
  ),
  {
    protection: "WAF managed rules block",
    phase: "loadbalancer",
    remove: (j) => (wafRules(j).find((r) => r.name === "AWSManagedRulesSQLiRuleSet")!.override_action = { count: {} }),
    rule: "waf-managed-rules",
    address: "aws_wafv2_web_acl.waf_web-acl",
    found: "only counts: its override_action must be none",
    dev: true,
  },
  {
    protection: "WAF rate limit",
    phase: "loadbalancer",
    remove: withoutWafRule("RateLimitPerIp"),
    rule: "waf-managed-rules",
    address: "aws_wafv2_web_acl.waf_web-acl",
    found: "no rate-based rule",
    dev: true,
  },
  {
    protection: "WAF in front of the ALB",
    phase: "loadbalancer",
    remove: (j) => drop(j, "aws_wafv2_web_acl_association.waf_association"),
    rule: "waf-association-logging",
    address: "aws_lb.alb_alb",
    found: "no aws_wafv2_web_acl_association",
    dev: true,
  },
  // Audit trail, flow logs and access logs kept three years (the trail is the observability phase's).
  {
    protection: "flow logs",
    phase: "network",
    remove: (j) => drop(j, "aws_flow_log.vpc_flow-log"),
    rule: "flow-logs-retained",
    address: "aws_vpc.vpc_vpc",
    found: "no aws_flow_log",
    dev: true,
  },
  {
    protection: "flow logs kept three years",
    phase: "network",
    remove: (j) => (at(j, "aws_cloudwatch_log_group.vpc_flow-logs_log-group").retention_in_days = 365),
    rule: "log-group-encrypted-retained",
    address: "aws_cloudwatch_log_group.vpc_flow-logs_log-group",
    found: "retention_in_days is 365; audit logs need at least 1096",
    dev: true,
  },
  {
    protection: "flow logs declared audit evidence",
    phase: "network",
    remove: (j) => (at(j, "aws_cloudwatch_log_group.vpc_flow-logs_log-group").tags.LogClass = "application"),
    rule: "flow-logs-retained",
    address: "aws_flow_log.vpc_flow-log",
    found: "not declared audit evidence",
    dev: true,
  },
  {
    protection: "ALB access logs",
    phase: "loadbalancer",
    remove: (j) => (at(j, "aws_lb.alb_alb").access_logs.enabled = false),
    rule: "alb-hardened",
    address: "aws_lb.alb_alb",
    found: "access_logs are not enabled",
    dev: true,
  },
  {
    protection: "ALB access logs kept three years",
    phase: "loadbalancer",
    remove: (j) => (at(j, "aws_s3_bucket_lifecycle_configuration.access-logs_lifecycle").rule[0].expiration[0].days = 365),
    rule: "log-bucket-retention",
    address: ALB_LOGS,
    found: "expires objects after 365 days; audit logs need at least 1096",
    dev: true,
  },
  {
    protection: "WAF request logs kept three years",
    phase: "loadbalancer",
    remove: (j) => (at(j, "aws_cloudwatch_log_group.waf_logs_log-group").tags.LogClass = "application"),
    rule: "access-logs-retained",
    address: "aws_wafv2_web_acl_logging_configuration.waf_logging",
    found: "not declared audit evidence",
    dev: true,
  },
  // Deletion protection, final snapshots, backups and prevent_destroy on what holds data.
  {
    protection: "RDS deletion protection",
    phase: "database",
    remove: (j) => (at(j, DB).deletion_protection = false),
    rule: "rds-backups",
    address: DB,
    found: "deletion_protection must be true",
    dev: false,
  },
  {
    protection: "RDS final snapshot",
    phase: "database",
    remove: (j) => (at(j, DB).skip_final_snapshot = true),
    rule: "rds-backups",
    address: DB,
    found: "skip_final_snapshot must be false",
    dev: false,
  },
  {
    protection: "RDS backups kept after deletion",
    phase: "database",
    remove: (j) => (at(j, DB).delete_automated_backups = true),
    rule: "rds-backups",
    address: DB,
    found: "delete_automated_backups must be false",
    dev: false,
  },
  {
    protection: "RDS backups",
    phase: "database",
    remove: (j) => (at(j, DB).backup_retention_period = 0),
    rule: "rds-backups",
    address: DB,
    found: "backup_retention_period is 0",
    dev: true,
  },
  {
    protection: "Redis snapshots",
    phase: "cache",
    remove: (j) => (at(j, REDIS).snapshot_retention_limit = 0),
    rule: "redis-snapshots",
    address: REDIS,
    found: "snapshot_retention_limit is 0",
    dev: true,
  },
  {
    protection: "Redis final snapshot",
    phase: "cache",
    remove: (j) => delete at(j, REDIS).final_snapshot_identifier,
    rule: "redis-snapshots",
    address: REDIS,
    found: "final_snapshot_identifier is not set",
    dev: false,
  },
  {
    protection: "ALB deletion protection",
    phase: "loadbalancer",
    remove: (j) => (at(j, "aws_lb.alb_alb").enable_deletion_protection = false),
    rule: "alb-hardened",
    address: "aws_lb.alb_alb",
    found: "enable_deletion_protection is not true in prod",
    dev: false,
  },
  {
    protection: "secret recovery window",
    phase: "cache",
    remove: (j) => (at(j, "aws_secretsmanager_secret.redis-secret_secret").recovery_window_in_days = 0),
    rule: "secret-encrypted",
    address: "aws_secretsmanager_secret.redis-secret_secret",
    found: "recovery_window_in_days is 0",
    dev: true,
  },
  {
    protection: "key deletion window",
    phase: "network",
    remove: (j) => (at(j, "aws_kms_key.kms_key").deletion_window_in_days = 7),
    rule: "kms-key-deletion-window",
    address: "aws_kms_key.kms_key",
    found: "deletion_window_in_days is 7",
    dev: false,
  },
  {
    protection: "bucket versions",
    phase: "loadbalancer",
    remove: (j) => (at(j, "aws_s3_bucket_versioning.access-logs_versioning").versioning_configuration.status = "Suspended"),
    rule: "bucket-versioned",
    address: ALB_LOGS,
    found: 'versioning is "Suspended"',
    dev: true,
  },
  {
    protection: "bucket not force-destroyed",
    phase: "loadbalancer",
    remove: (j) => (at(j, ALB_LOGS).force_destroy = true),
    rule: "bucket-versioned",
    address: ALB_LOGS,
    found: "force_destroy is true",
    dev: false,
  },
  {
    protection: "prevent_destroy on the database",
    phase: "database",
    remove: (j) => (at(j, DB).lifecycle.prevent_destroy = false),
    rule: "data-prevent-destroy",
    address: DB,
    found: "no lifecycle.prevent_destroy = true",
    dev: false,
  },
  {
    protection: "prevent_destroy on the cache",
    phase: "cache",
    remove: (j) => delete at(j, REDIS).lifecycle,
    rule: "data-prevent-destroy",
    address: REDIS,
    found: "no lifecycle.prevent_destroy = true",
    dev: false,
  },
  {
    protection: "prevent_destroy on the access-log bucket",
    phase: "loadbalancer",
    remove: (j) => delete at(j, ALB_LOGS).lifecycle,
    rule: "data-prevent-destroy",
    address: ALB_LOGS,
    found: "no lifecycle.prevent_destroy = true",
    dev: false,
  },
];

/**
 * Runs the guardrail aspect exactly as the synth does (the environment's mode, every baseline rule) on
 * a stack whose rendering is `json`. Returns what it threw and what it reported.
 */
function guard(env: EnvironmentName, stackName: string, json: StackJson): { error?: unknown; reports: string[] } {
  const reports: string[] = [];
  const stack = { node: { id: stackName }, toTerraform: () => json } as unknown as TerraformStack;
  new Guardrails(stack, BASELINE_RULES, PROFILES[env].guardrails, (m) => reports.push(m)).visit(stack);
  try {
    stack.toTerraform();
    return { reports };
  } catch (error) {
    return { error, reports };
  }
}

const synthesized = { prod: synthEnv(config("prod")), dev: synthEnv(config("dev")) };
const stackOf = (env: "prod" | "dev", phase: Phase) => ({ name: `accessweaver-${env}-${phase}`, json: synthesized[env].json[phase] as StackJson });
const after = (env: "prod" | "dev", row: Removal) => {
  const { name, json } = stackOf(env, row.phase);
  const copy = structuredClone(json);
  row.remove(copy);
  return { name, json: copy };
};
const line = (v: Violation) => `[${v.rule}] ${v.address}: ${v.message}`;

describe("the security baseline, one protection removed at a time", () => {
  it.each(["prod", "dev"] as const)("%s as configured passes every rule", (env) => {
    for (const phase of ["network", "database", "cache", "loadbalancer", "services", "observability"] as const) {
      const { name, json } = stackOf(env, phase);
      expect(evaluate(viewOf(name, json), BASELINE_RULES).map(line)).toEqual([]);
    }
  });

  it.each(REMOVALS.map((r) => [r.protection, r] as const))("%s", (_protection, row) => {
    const prod = after("prod", row);
    const violations = evaluate(viewOf(prod.name, prod.json), BASELINE_RULES);
    // The removal breaks this one rule (or the rules holding it together) on this one resource, and the message says what it found.
    expect(violations.map((v) => `${v.rule} ${v.address}`).sort()).toEqual(
      [row.rule, ...(row.alsoBreaks ?? [])].map((rule) => `${rule} ${row.address}`).sort(),
    );
    expect(violations.find((v) => v.rule === row.rule)!.message).toMatch(row.found);
    // The prod synth fails, naming rule and resource.
    const failed = guard("prod", prod.name, prod.json);
    expect(failed.error).toBeInstanceOf(GuardrailError);
    expect((failed.error as Error).message).toContain(`[${row.rule}] ${row.address}: `);

    // Dev, with the same removal, synthesizes; it reports what dev requires too.
    const dev = after("dev", row);
    const reported = guard("dev", dev.name, dev.json);
    expect(reported.error).toBeUndefined();
    if (row.dev) expect(reported.reports.join("\n")).toContain(`[${row.rule}] ${row.address}: `);
    else expect(reported.reports).toEqual([]);
  });

  it("covers every rule of the baseline that the phases' resources can break", () => {
    const covered = new Set(REMOVALS.map((r) => r.rule));
    // Rules of other concerns than the design's security list, shown by their own tests.
    const elsewhere = [
      "required-tags",
      "endpoint-policy",
      "kms-policy-open-principal",
      "database-subnet-acl",
      "rds-managed-password",
      "rds-log-exports",
      "redis-log-delivery",
      "ecs-read-only-root",
      "ecs-not-privileged",
      "ecs-log-configuration",
      "ecs-no-secret-environment",
      "ecs-safe-deployments",
      "ecs-task-role-scoped",
      "no-empty-block",
      "replaceable-names",
      "target-group-shape",
    ];
    expect(BASELINE_RULES.map((r) => r.id).filter((id) => !covered.has(id) && !elsewhere.includes(id))).toEqual([]);
  });

  it("docs/guardrails.md lists every rule of the baseline", () => {
    const doc = fs.readFileSync(path.join(ROOT, "docs/guardrails.md"), "utf8");
    expect(BASELINE_RULES.map((r) => r.id).filter((id) => !doc.includes(`| \`${id}\` |`))).toEqual([]);
  });
});

describe("through a real synth", () => {
  const phases = REGISTERED_PHASES.filter((p) => p.phase === "network" || p.phase === "database");
  /** Network and database of `env`, with the database's storage left unencrypted. */
  const unencrypted = (env: EnvironmentName) => {
    const { app, stacks } = buildEnv(config(env), phases);
    const db = stacks.flatMap((s) => s.node.findAll()).find((c): c is DbInstance => c instanceof DbInstance)!;
    db.addOverride("storage_encrypted", false);
    return app;
  };

  it("prod fails, naming the rule and the resource", () => {
    const app: App = unencrypted("prod");
    expect(() => app.synth()).toThrow(
      /Guardrails failed for accessweaver-prod-database \(1\):\n {2}- \[rds-encrypted\] aws_db_instance\.rds_instance: storage_encrypted must be true/,
    );
  });

  it("dev synthesizes and reports it", () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    try {
      unencrypted("dev").synth();
    } finally {
      spy.mockRestore();
    }
    expect(written.join("")).toContain(
      "guardrails (report only) for accessweaver-dev-database (1):\n  - [rds-encrypted] aws_db_instance.rds_instance: storage_encrypted must be true",
    );
  });
});
