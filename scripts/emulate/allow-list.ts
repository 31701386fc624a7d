/**
 * The emulator's known gaps: what moto (5.2.1) does not do as AWS does, each with its reason and how it
 * is handled without changing moto. Anything that shows in a second plan and is not explained here is
 * a finding about the configuration.
 * - `setting`: an emulator setting, given to the moto server make emulate starts;
 * - `stand-in`: the resource is removed from the emulated copy and what the stack reads from it is a
 *   stand-in value (the copy only; the synthesized stacks are untouched), like the random provider;
 * - `copy edit`: the emulated copy sets an argument differently, where the emulator refuses a value AWS
 *   accepts;
 * - `second plan`: a difference of the second plan that comes from the emulator's answers, not from the
 *   configuration; only the attributes listed are forgiven, any other difference of the same resource
 *   is still a finding.
 * Entries cover moto's behaviour; a new entry needs the failing call or the differing attribute seen
 * in a run, and `verified` says how.
 */
import { Json, JsonObject, isObject } from "../tf-check/json";
import type { JsonRequest } from "./emulator";
import type { Change } from "./findings";

export type GapKind = "not implemented" | "incomplete" | "second-plan artefact";

interface Gap {
  /** Short stable id, named in the report. */
  readonly id: string;
  readonly kind: GapKind;
  /** What the emulator does, against what AWS does. */
  readonly reason: string;
  /** How the gap was seen in a run of make emulate (the call or the attribute). */
  readonly verified: string;
}

export interface SettingRule extends Gap {
  readonly handling: "setting";
  /** Environment of the moto server. */
  readonly env: Readonly<Record<string, string>>;
}

export interface StandInRule extends Gap {
  readonly handling: "stand-in";
  /** Resource type removed from the copy. */
  readonly type: string;
  /** Narrower: `type.name` addresses it applies to. */
  readonly address?: RegExp;
  /**
   * What each attribute read from it stands in with, from the resource's arguments in the stack
   * (default: the argument of the same name when it is a literal, else a hashed stand-in string).
   */
  readonly values?: Readonly<Record<string, (args: JsonObject) => Json | undefined>>;
  /**
   * The resource is still made in the emulator, with this plain API call before the first apply, when
   * other resources need it there (they are applied and checked; the stood-in one is not read back).
   */
  readonly created?: (args: JsonObject) => JsonRequest | undefined;
}

export interface EditRule extends Gap {
  readonly handling: "copy edit";
  readonly type: string;
  readonly attribute: string;
  /** The value the emulated copy gets instead, undefined to leave it out (the synthesized stacks are untouched). */
  readonly edit: (value: Json) => Json | undefined;
}

export interface PlanRule extends Gap {
  readonly handling: "second plan";
  readonly type: string;
  readonly address?: RegExp;
  /**
   * Attribute paths forgiven: a path covers itself and everything below it; `[*]` is any list index,
   * `*` any one key. Every differing attribute of the change must be covered.
   */
  readonly attributes: readonly string[];
  /** The actions forgiven (default: update only; a replacement is forgiven only when listed). */
  readonly actions?: readonly (readonly string[])[];
  /** Narrower: only resources whose state satisfies this (e.g. a rule that references a group). */
  readonly applies?: (state: JsonObject) => boolean;
}

export type Rule = SettingRule | StandInRule | EditRule | PlanRule;

/** `HH:MM-HH:MM` ending a minute earlier: a window that touches the next one no longer does. */
export function endMinuteEarlier(value: Json): Json {
  const m = typeof value === "string" ? /^(\d\d:\d\d)-(\d\d):(\d\d)$/.exec(value) : null;
  if (!m) return value;
  const minutes = (Number(m[2]) * 60 + Number(m[3]) + 24 * 60 - 1) % (24 * 60);
  return `${m[1]}-${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

/** The member cluster ids AWS gives a replication group's nodes, from its arguments. */
export function memberClusters(args: JsonObject): Json | undefined {
  const id = args.replication_group_id;
  if (typeof id !== "string") return undefined;
  const count = (v: Json | undefined, fallback: number) => (typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : fallback);
  if (args.num_node_groups !== undefined || args.cluster_mode === "enabled") {
    const shards = count(args.num_node_groups, 1);
    const nodes = count(args.replicas_per_node_group, 0) + 1;
    return Array.from({ length: shards }, (_, s) =>
      Array.from({ length: nodes }, (_, n) => `${id}-${String(s + 1).padStart(4, "0")}-${String(n + 1).padStart(3, "0")}`),
    ).flat();
  }
  return Array.from({ length: count(args.num_cache_clusters, 1) }, (_, n) => `${id}-${String(n + 1).padStart(3, "0")}`);
}

const ECS_SERVICE_UNSET_FIELDS = ["availability_zone_rebalancing", "enable_ecs_managed_tags", "health_check_grace_period_seconds"];
const hasItems = (v: Json | undefined) => Array.isArray(v) && v.length > 0;
/** An ECS service whose deployments CodeDeploy makes (`deployment_controller { type = "CODE_DEPLOY" }`). */
export const codeDeployControlled = (state: JsonObject) =>
  Array.isArray(state.deployment_controller) && state.deployment_controller.some((d) => isObject(d) && d.type === "CODE_DEPLOY");

export const ALLOW_LIST: readonly Rule[] = [
  {
    id: "iam-managed-policies",
    kind: "incomplete",
    handling: "setting",
    env: { MOTO_IAM_LOAD_MANAGED_POLICIES: "true" },
    reason:
      "moto knows AWS managed IAM policies (arn:aws:iam::aws:policy/...) only when told to load them; without it, attaching one (the blue/green CodeDeploy role's AWSCodeDeployRoleForECSLimited; its iam:PassRole for the service's own roles is an inline policy, which needs no setting) fails with NoSuchEntity.",
    verified:
      "AttachRolePolicy and GetPolicy of arn:aws:iam::aws:policy/AWSCodeDeployRoleForECSLimited against moto_server: NoSuchEntity without the setting, the policy by that name with it (emulate-terraform.test.ts); the prod services phase attaches it.",
  },
  {
    id: "acm-validation-wait",
    kind: "incomplete",
    handling: "setting",
    env: { MOTO_ACM_VALIDATION_WAIT: "0" },
    reason:
      "moto keeps a DNS-validated certificate PENDING_VALIDATION for 60 s (MOTO_ACM_VALIDATION_WAIT) whatever the records, so aws_acm_certificate_validation waits a minute; 0 issues it at once, as AWS does once the validation records resolve.",
    verified: "moto settings.py ACM_VALIDATION_WAIT (default 60); the loadbalancer phase's aws_acm_certificate_validation completes at once with 0.",
  },
  {
    id: "elasticache-parameter-group",
    kind: "not implemented",
    handling: "stand-in",
    type: "aws_elasticache_parameter_group",
    values: { id: (args) => args.name },
    reason:
      "moto does not implement CreateCacheParameterGroup (it answers HTTP 500 with a body that is not an AWS error). The copy stands the group in with its name, which the replication group then names; the group's parameters are not applied.",
    verified: "terraform apply of the cache phase: CreateCacheParameterGroup, StatusCode: 500, error while deserializing xml error response.",
  },
  {
    id: "elasticache-member-clusters",
    kind: "incomplete",
    handling: "stand-in",
    type: "aws_elasticache_replication_group",
    values: {
      id: (args) => args.replication_group_id,
      member_clusters: memberClusters,
    },
    reason:
      "moto's replication groups list member clusters (<group>-0001-001, ...) that DescribeCacheClusters does not know, so the provider's read after create fails (CacheClusterNotFound) and the group cannot be applied. The copy stands the group in: its id, and the member clusters AWS names (<group>-<shard>-<node>); its endpoint is a stand-in.",
    verified:
      "terraform apply of the cache phase: reading ElastiCache Replication Group: DescribeCacheClusters ... CacheClusterNotFound: Cache cluster accessweaver-dev-redis-0001-001 not found (moto elasticache/models.py never registers them).",
  },
  {
    id: "appautoscaling-tags",
    kind: "not implemented",
    handling: "stand-in",
    type: "aws_appautoscaling_target",
    reason:
      "moto does not implement Application Auto Scaling's ListTagsForResource (HTTP 500, not an AWS error), which the provider calls to read every tagged scalable target, so no target can be applied. The copy stands the targets in; the scaling policies are still applied, reading the target's resource id, dimension and namespace from its arguments.",
    verified:
      "terraform apply of the services phase: listing tags for Application Auto Scaling Target: ListTagsForResource, StatusCode: 500, failed to decode response body.",
  },
  {
    id: "budgets-subscribers",
    kind: "not implemented",
    handling: "stand-in",
    type: "aws_budgets_budget",
    values: { id: (args) => args.name },
    reason:
      "moto does not implement Budgets' DescribeSubscribersForNotification nor ListTagsForResource (HTTP 500, not an AWS error); the provider calls both to read a budget, so none can be applied. The copy stands the budgets in; they are not checked here.",
    verified:
      "terraform apply of the observability phase: reading Budget subscribers: DescribeSubscribersForNotification, StatusCode: 500; without the notifications: listing tags for Budgets Budget: ListTagsForResource, StatusCode: 500.",
  },
  {
    id: "codedeploy-create-time",
    kind: "incomplete",
    handling: "stand-in",
    type: "aws_codedeploy_app",
    created: (args) =>
      typeof args.name === "string" && !args.name.includes("${")
        ? {
            service: "codedeploy",
            target: "CodeDeploy_20141006.CreateApplication",
            body: { applicationName: args.name, computePlatform: typeof args.compute_platform === "string" ? args.compute_platform : "Server" },
          }
        : undefined,
    reason:
      "moto answers GetApplication with the application's createTime as an ISO date string where CodeDeploy's API has a timestamp number; the provider's SDK cannot decode it, so an application is created but never read back, and the apply fails. The copy stands the application in (its name) and makes it in the emulator with a plain CreateApplication call (name and compute platform), so the deployment group that names it is still applied and checked; the application's own attributes are not.",
    verified:
      "terraform apply of the prod services phase: reading CodeDeploy Application (...:accessweaver-prod-aw-api-gateway): GetApplication, deserialization failed, expected Timestamp to be a JSON Number, got string instead (moto codedeploy/models.py Application: create_time = iso_8601_datetime_with_milliseconds()).",
  },
  {
    id: "cloudtrail-start-logging",
    kind: "incomplete",
    handling: "copy edit",
    type: "aws_cloudtrail",
    attribute: "enable_logging",
    edit: () => false,
    reason:
      "moto's StartLogging finds a trail only by its name; the provider passes the trail's ARN (as AWS accepts), and moto answers HTTP 500. The copy creates the trail with logging off, so the provider does not start it; whether logging is on is not checked here.",
    verified:
      "terraform apply of the observability phase: starting CloudTrail Trail (arn:aws:cloudtrail:...:trail/accessweaver-dev-audit-trail) logging: StartLogging, StatusCode: 500 (moto cloudtrail/models.py: self.trails[name]).",
  },
  {
    id: "codedeploy-alarm-configuration",
    kind: "incomplete",
    handling: "copy edit",
    type: "aws_codedeploy_deployment_group",
    attribute: "alarm_configuration",
    edit: () => undefined,
    reason:
      "moto keeps a deployment group's alarm configuration but answers GetDeploymentGroup with an empty alarmConfiguration, which the provider reads as no block, so every plan would add the alarms again; and moto has no UpdateDeploymentGroup, so that plan (the release's too) could not be applied. The copy creates the group without its alarms; which alarms stop a deployment is not checked here.",
    verified:
      'second plan of the prod services phase: aws_codedeploy_deployment_group.blue-green_group update, alarm_configuration[0]: (none) -> the four gateway alarms; moto codedeploy/models.py DeploymentGroup.to_dict answers "alarmConfiguration": {} (a TODO) and codedeploy/responses.py has no update_deployment_group (HTTP 500; emulate-terraform.test.ts).',
  },
  {
    id: "rds-touching-windows",
    kind: "incomplete",
    handling: "copy edit",
    type: "aws_db_instance",
    attribute: "backup_window",
    edit: endMinuteEarlier,
    reason:
      "moto counts a backup window that ends when the maintenance window starts (02:00-03:00 and sun:03:00-sun:04:00) as overlapping and refuses CreateDBInstance; AWS refuses only windows that share time. The copy ends the backup window a minute earlier.",
    verified: "CreateDBInstance: InvalidParameterValue: The backup window and maintenance window must not overlap (moto rds/utils.py compares with >= 0).",
  },
  {
    id: "sg-rule-reference-description",
    kind: "second-plan artefact",
    handling: "second plan",
    type: "aws_vpc_security_group_ingress_rule",
    attributes: ["description"],
    applies: (state) => Boolean(state.referenced_security_group_id || state.prefix_list_id),
    reason:
      "moto keeps the description of a security-group rule only for CIDR rules: a rule that references a security group or a prefix list reads back without it, so the second plan sets it again. CIDR rules read back with theirs.",
    verified:
      "second plan of the network phase: every ingress and egress rule with referenced_security_group_id or prefix_list_id shows description null -> the configured text; the CIDR rules are no-ops.",
  },
  {
    id: "sg-rule-reference-description-egress",
    kind: "second-plan artefact",
    handling: "second plan",
    type: "aws_vpc_security_group_egress_rule",
    attributes: ["description"],
    applies: (state) => Boolean(state.referenced_security_group_id || state.prefix_list_id),
    reason: "The same as sg-rule-reference-description, for egress rules.",
    verified: "second plan of the network phase: the egress rules to a group or to the S3 prefix list show description null -> the configured text.",
  },
  {
    id: "db-parameter-source",
    kind: "second-plan artefact",
    handling: "second plan",
    type: "aws_db_parameter_group",
    attributes: ["parameter"],
    reason:
      "moto's DescribeDBParameters answers the parameters as they were sent, without Source; the provider reads only the user-set ones (Source=user), so it reads none and the second plan adds every parameter again. The parameters are therefore not checked here.",
    verified:
      "second plan of the database phase: parameter[0..6] (none) -> each configured parameter; moto rds/responses.py describe_db_parameters returns the stored dicts.",
  },
  {
    id: "db-instance-unset-fields",
    kind: "second-plan artefact",
    handling: "second plan",
    type: "aws_db_instance",
    attributes: [
      "engine_lifecycle_support",
      "monitoring_interval",
      "monitoring_role_arn",
      "performance_insights_enabled",
      "performance_insights_kms_key_id",
      "performance_insights_retention_period",
    ],
    reason:
      "moto's DB instances do not keep EngineLifecycleSupport, MonitoringInterval, MonitoringRoleArn or the Performance Insights fields (PerformanceInsightsEnabled, PerformanceInsightsKMSKeyId, PerformanceInsightsRetentionPeriod): they read back empty and the second plan sets them again, in place.",
    verified:
      'second plan of the database phase: engine_lifecycle_support "" -> the configured value, monitoring_interval 0 -> 60, monitoring_role_arn "" -> the role (dev and prod); prod\'s performance_insights_enabled false -> true, performance_insights_kms_key_id "" -> the network key, performance_insights_retention_period 0 -> 7. None of them appears in moto rds/models.py (the only Performance Insights name in moto/rds is an engine-version flag in utils.py).',
  },
  {
    id: "ecs-service-unset-fields",
    kind: "second-plan artefact",
    handling: "second plan",
    type: "aws_ecs_service",
    attributes: ECS_SERVICE_UNSET_FIELDS,
    reason:
      "moto's ECS services do not keep availabilityZoneRebalancing, enableECSManagedTags or healthCheckGracePeriodSeconds: they read back empty and the second plan sets them again, in place. AWS returns them as set.",
    verified:
      'second plan of the services phase: availability_zone_rebalancing "" -> ENABLED, enable_ecs_managed_tags false -> true, the gateway\'s health_check_grace_period_seconds 0 -> 120; moto ecs/responses.py create_service reads none of them and ecs/models.py Service has none.',
  },
  {
    id: "ecs-service-capacity-provider-strategy",
    kind: "second-plan artefact",
    handling: "second plan",
    type: "aws_ecs_service",
    attributes: ["capacity_provider_strategy", ...ECS_SERVICE_UNSET_FIELDS],
    actions: [["update"], ["delete", "create"]],
    // Only where moto demonstrably dropped the strategy (the state has none) and only for a service that ECS
    // deploys: a CodeDeploy-released service must keep its strategy in ignore_changes (a deployment sets it
    // from the AppSpec, and drops it when the AppSpec has none, as moto does), so a strategy difference on
    // it, the replacement of the production service at the apply after a release, stays a finding.
    applies: (state) => !hasItems(state.capacity_provider_strategy) && !codeDeployControlled(state),
    reason:
      "moto's ECS services do not keep capacityProviderStrategy (nor the three fields of ecs-service-unset-fields): a service reads back without a strategy, and a strategy that reads back changed makes provider 5.x replace the service. Forgiven only when the state has no strategy at all and the service is deployed by ECS (not CODE_DEPLOY): a strategy that reads back different from the configuration, or any strategy difference on a CodeDeploy-released service, is a finding.",
    verified:
      "second plan of the services phase: every rolling service delete+create with capacity_provider_strategy (none) -> FARGATE (forces replacement); moto ecs/responses.py create_service does not read capacityProviderStrategy and ecs/models.py Service has no such field.",
  },
];

export const settingRules = (rules: readonly Rule[] = ALLOW_LIST) => rules.filter((r): r is SettingRule => r.handling === "setting");
export const standInRules = (rules: readonly Rule[] = ALLOW_LIST) => rules.filter((r): r is StandInRule => r.handling === "stand-in");
export const editRules = (rules: readonly Rule[] = ALLOW_LIST) => rules.filter((r): r is EditRule => r.handling === "copy edit");
export const planRules = (rules: readonly Rule[] = ALLOW_LIST) => rules.filter((r): r is PlanRule => r.handling === "second plan");

/** The moto server's environment from the `setting` entries. */
export function motoSettings(rules: readonly Rule[] = ALLOW_LIST): Record<string, string> {
  return Object.assign({}, ...settingRules(rules).map((r) => r.env)) as Record<string, string>;
}

/** `capacity_provider_strategy`, `ingress[*].description`, `tags.*` as a regular expression on attribute paths. */
export function attributePattern(pattern: string): RegExp {
  const body = pattern
    .split(/(\[\*\]|\*)/)
    .map((part) => (part === "[*]" ? "\\[\\d+\\]" : part === "*" ? "[^.\\[]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}(?:$|[.\\[])`);
}

/** The rule that explains every difference of `change`, if any. */
export function planRuleFor(change: Change, rules: readonly PlanRule[]): PlanRule | undefined {
  const paths = [...new Set([...change.attributes, ...change.replacePaths])];
  if (paths.length === 0) return undefined;
  return rules.find((r) => {
    if (r.type !== change.type || (r.address && !r.address.test(change.address.replace(/^module\.[^.]+\./, "")))) return false;
    const actions = r.actions ?? [["update"]];
    if (!actions.some((a) => a.join() === change.actions.join())) return false;
    if (r.applies && !(isObject(change.state) && r.applies(change.state))) return false;
    const patterns = r.attributes.map(attributePattern);
    return paths.every((p) => patterns.some((re) => re.test(p)));
  });
}
