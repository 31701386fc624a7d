/**
 * The seams between phases. A phase publishes what later phases need as Terraform outputs with stable
 * names; a later phase reads them through an explicit S3 remote state of that phase, wrapped in a typed
 * handles object. A reviewer reading a downstream stack then sees
 * `data.terraform_remote_state.network.outputs.database_subnet_ids`, as in hand-written HCL, and no
 * stack carries cdktf's generated `cross-stack-output-*` outputs.
 */
import { DataTerraformRemoteStateS3, TerraformOutput } from "cdktf";
import { EnvironmentConfig } from "../config/settings";
import { DRILL_SCENARIOS, PHASES, PhaseName, RESTORE_TESTED_ENVIRONMENTS, SECURITY_GROUPS, SERVICES, names } from "../naming";
import type { PhaseStack } from "./phase-stack";

/** A string, a list of strings, or a map of strings with fixed keys. */
type HandleKind = "string" | "list" | { readonly keys: readonly string[] };

/** One handle: the output that carries it, and when the phase publishes it. */
export interface HandleSpec {
  /** Output name, part of the contract (`terraform output`, remote-state reads, the runbooks). */
  readonly output: string;
  readonly kind: HandleKind;
  readonly description: string;
  /** Published (and readable) only when this holds for the environment. @default always */
  readonly when?: (config: EnvironmentConfig) => boolean;
  /** Secret values only. @default false */
  readonly sensitive?: boolean;
}
export type HandleSpecs = Readonly<Record<string, HandleSpec>>;

type ValueOf<K> = K extends "string"
  ? string
  : K extends "list"
    ? string[]
    : K extends { readonly keys: readonly (infer T extends string)[] }
      ? Readonly<Record<T, string>>
      : never;
/** The typed values of a set of handles: optional where the spec has a `when`. */
export type Handles<S extends HandleSpecs> = {
  readonly [F in keyof S]: S[F] extends { readonly when: unknown } ? ValueOf<S[F]["kind"]> | undefined : ValueOf<S[F]["kind"]>;
};

/** Phase 1: what the database, cache, load balancer and services phases place themselves in. */
export const NETWORK_HANDLES = {
  vpcId: { output: "vpc_id", kind: "string", description: "VPC of the environment" },
  vpcCidr: { output: "vpc_cidr", kind: "string", description: "IPv4 CIDR of the VPC" },
  publicSubnetIds: { output: "public_subnet_ids", kind: "list", description: "Public subnets, one per zone in zone order (ALB, NAT gateways)" },
  privateSubnetIds: { output: "private_subnet_ids", kind: "list", description: "Private subnets, one per zone in zone order (Fargate tasks)" },
  databaseSubnetIds: { output: "database_subnet_ids", kind: "list", description: "Database subnets, one per zone in zone order, no route out (RDS, Redis)" },
  securityGroupIds: {
    output: "security_group_ids",
    kind: { keys: SECURITY_GROUPS },
    description: "Security group id of each tier: alb, services, database, cache, endpoints",
  },
  kmsKeyArn: { output: "kms_key_arn", kind: "string", description: "The environment's KMS key" },
  kmsKeyAlias: { output: "kms_key_alias", kind: "string", description: "Alias of the environment's KMS key", when: (c) => !c.settings.kmsKeyArn },
  drKmsKeyArn: {
    output: "dr_kms_key_arn",
    kind: "string",
    description: "The DR region's key: the JWT secret's replica and every copy of the recovery phase are encrypted with it",
    when: (c) => c.settings.drRegion !== undefined,
  },
} as const satisfies HandleSpecs;
export type NetworkHandles = Handles<typeof NETWORK_HANDLES>;

/** Phase 2: where the services connect to PostgreSQL, and the secrets that say how. */
export const DATABASE_HANDLES = {
  databaseEndpoint: { output: "database_endpoint", kind: "string", description: "Host name of the PostgreSQL instance (follows a Multi-AZ failover)" },
  databasePort: { output: "database_port", kind: "string", description: "PostgreSQL port" },
  databaseName: { output: "database_name", kind: "string", description: "Name of the application database" },
  databaseSecretArn: {
    output: "database_secret_arn",
    kind: "string",
    description: "Secret accessweaver/<env>/database: engine, host, port and dbname (no user, no password)",
  },
  databaseMasterSecretArn: {
    output: "database_master_secret_arn",
    kind: "string",
    description: "Secret holding the master password, created and rotated by RDS",
  },
  databaseArn: {
    output: "database_arn",
    kind: "string",
    description: "ARN of the PostgreSQL instance (the recovery phase replicates its automated backups)",
  },
  databaseIdentifier: {
    output: "database_identifier",
    kind: "string",
    description: "Identifier of the PostgreSQL instance: the DBInstanceIdentifier dimension of its CloudWatch metrics",
  },
  databaseResourceId: {
    output: "database_resource_id",
    kind: "string",
    description:
      "The instance's DbiResourceId (db-...): the services' rds-db:connect ARNs name it (it survives a Multi-AZ failover, not a restore into a new instance)",
  },
  databaseMasterUsername: {
    output: "database_master_username",
    kind: "string",
    description: "The master user (break-glass and make db-roles only; no service logs in as it)",
  },
} as const satisfies HandleSpecs;
export type DatabaseHandles = Handles<typeof DATABASE_HANDLES>;

/** Phase 3: the Redis cluster, its secret, and the JWT signing secret (both read by the API gateway). */
export const CACHE_HANDLES = {
  redisConfigurationEndpoint: {
    output: "redis_configuration_endpoint",
    kind: "string",
    description: "Configuration endpoint of the Redis cluster (cluster protocol, TLS)",
  },
  redisPort: { output: "redis_port", kind: "string", description: "Redis port" },
  redisSecretArn: {
    output: "redis_secret_arn",
    kind: "string",
    description: "Secret accessweaver/<env>/redis: configuration endpoint, port, TLS flag and AUTH token",
  },
  jwtSecretArn: { output: "jwt_secret_arn", kind: "string", description: "Secret accessweaver/<env>/jwt: the JWT signing secret and its expiration" },
  redisReplicationGroupId: {
    output: "redis_replication_group_id",
    kind: "string",
    description: "The Redis replication group (guide: aws elasticache describe-replication-groups)",
  },
  redisMemberClusters: {
    output: "redis_member_clusters",
    kind: "list",
    description: "The group's nodes (<group>-<shard>-<node>, sorted): the CacheClusterId dimension of their CloudWatch metrics",
  },
} as const satisfies HandleSpecs;
export type CacheHandles = Handles<typeof CACHE_HANDLES>;

const blueGreen = (c: EnvironmentConfig) => c.sizing.gatewayReleases === "blue-green";

/** Phase 4: what the services phase attaches the gateway to, and what the alarms and runbooks read. */
export const LOADBALANCER_HANDLES = {
  albArn: { output: "alb_arn", kind: "string", description: "The API's load balancer" },
  albArnSuffix: {
    output: "alb_arn_suffix",
    kind: "string",
    description: "The load balancer's ARN suffix: the LoadBalancer dimension of its CloudWatch metrics",
  },
  albDnsName: { output: "alb_dns_name", kind: "string", description: "The load balancer's DNS name (the domain's alias points to it)" },
  albZoneId: { output: "alb_zone_id", kind: "string", description: "The load balancer's hosted zone id (an alias record to it names both)" },
  apiUrl: { output: "api_url", kind: "string", description: "Public URL of the API" },
  httpsListenerArn: {
    output: "https_listener_arn",
    kind: "string",
    description: "Production listener (HTTPS 443): its default action forwards to the gateway; CodeDeploy's production traffic route",
  },
  testListenerArn: {
    output: "test_listener_arn",
    kind: "string",
    description: "Test listener (HTTPS, from the VPC only): CodeDeploy's test traffic route",
    when: blueGreen,
  },
  targetGroupArn: {
    output: "api_gateway_target_group_arn",
    kind: "string",
    description: "The gateway's target group the service starts attached to (blue where releases are blue/green)",
  },
  targetGroupArnSuffix: {
    output: "api_gateway_target_group_arn_suffix",
    kind: "string",
    description: "Its ARN suffix: the TargetGroup dimension of its CloudWatch metrics",
  },
  targetGroupName: {
    output: "api_gateway_target_group_name",
    kind: "string",
    description: "Its name (CodeDeploy's deployment group names its target groups, not their ARNs)",
  },
  greenTargetGroupArn: {
    output: "api_gateway_green_target_group_arn",
    kind: "string",
    description: "The gateway's green target group (CodeDeploy's replacement group)",
    when: blueGreen,
  },
  greenTargetGroupArnSuffix: {
    output: "api_gateway_green_target_group_arn_suffix",
    kind: "string",
    description: "The green group's ARN suffix, for its alarms",
    when: blueGreen,
  },
  greenTargetGroupName: {
    output: "api_gateway_green_target_group_name",
    kind: "string",
    description: "The green group's name, for CodeDeploy's deployment group",
    when: blueGreen,
  },
  wafWebAclArn: {
    output: "waf_web_acl_arn",
    kind: "string",
    description: "The regional web ACL in front of the load balancer (guide: aws wafv2 get-sampled-requests --web-acl-arn)",
  },
  healthCheckId: {
    output: "route53_health_check_id",
    kind: "string",
    description: "Route 53 health check of https://<domain>/actuator/health (its metrics are in us-east-1)",
  },
  certificateArn: {
    output: "certificate_arn",
    kind: "string",
    description: "The API's ACM certificate: the CertificateArn dimension of its DaysToExpiry metric",
  },
} as const satisfies HandleSpecs;
export type LoadbalancerHandles = Handles<typeof LOADBALANCER_HANDLES>;

/** Phase 5: what the runbooks and the observability phase call the services by. */
export const SERVICES_HANDLES = {
  clusterName: { output: "cluster_name", kind: "string", description: "The ECS cluster (guide: aws ecs describe-services --cluster)" },
  serviceNames: { output: "service_names", kind: { keys: SERVICES }, description: "ECS service name of each AccessWeaver service" },
  serviceLogGroups: {
    output: "service_log_groups",
    kind: { keys: SERVICES },
    description: "Log group of each service (guide: aws logs tail /ecs/accessweaver-<env>/aw-api-gateway)",
  },
  errorLogMetrics: {
    output: "error_log_metrics",
    kind: { keys: SERVICES },
    description: "Metric (namespace AccessWeaver/<env>) counting each service's ERROR log lines, written by the metric filter on its log group",
  },
  healthCheckUrls: {
    output: "health_check_urls",
    kind: "list",
    description: "Public health URLs an operator curls after a deployment (guide: for url in $(terraform output -json health_check_urls ...))",
  },
  taskDefinitionArns: {
    output: "task_definition_arns",
    kind: { keys: SERVICES },
    description: "Each service's newest task definition (ARN with revision): what make release checks each rolling service's deployment ends on",
  },
  gatewayTaskDefinitionArn: {
    output: "api_gateway_task_definition_arn",
    kind: "string",
    description: "The gateway's newest task definition: what make release hands to CodeDeploy (the service itself runs what CodeDeploy last deployed)",
    when: blueGreen,
  },
  dbRolesTaskDefinitionArn: {
    output: "db_roles_task_definition_arn",
    kind: "string",
    description: "The one-off task that creates the services' database roles (make db-roles runs it with aws ecs run-task)",
  },
  dbRolesSubnetIds: { output: "db_roles_subnet_ids", kind: "list", description: "Subnets make db-roles runs its task in (the services' private subnets)" },
  dbRolesSecurityGroupId: {
    output: "db_roles_security_group_id",
    kind: "string",
    description: "Security group of the db-roles task (the services' group, which reaches PostgreSQL)",
  },
  dbRolesLogGroup: { output: "db_roles_log_group", kind: "string", description: "Log group of the db-roles task (what psql printed)" },
  cacheClientTaskDefinitionArn: {
    output: "cache_client_task_definition_arn",
    kind: "string",
    description: "The one-off redis-cli task (TLS, AUTH, cluster mode) whose command make cache-flush gives with aws ecs run-task --overrides",
  },
  cacheClientSubnetIds: {
    output: "cache_client_subnet_ids",
    kind: "list",
    description: "Subnets the cache-client task runs in (the services' private subnets)",
  },
  cacheClientSecurityGroupId: {
    output: "cache_client_security_group_id",
    kind: "string",
    description: "Security group of the cache-client task (the services' group, which reaches Redis)",
  },
  cacheClientLogGroup: { output: "cache_client_log_group", kind: "string", description: "Log group of the cache-client task (what redis-cli printed)" },
} as const satisfies HandleSpecs;
export type ServicesHandles = Handles<typeof SERVICES_HANDLES>;

/** Phase 6: what operators and other teams' tooling send to or read (no later phase reads them). */
export const OBSERVABILITY_HANDLES = {
  alertsTopicArn: {
    output: "alerts_topic_arn",
    kind: "string",
    description: "SNS topic every alarm, the budget and the event rules notify (guide: SNS_TOPIC)",
  },
  criticalTopicArn: {
    output: "critical_topic_arn",
    kind: "string",
    description: "SNS topic of the paging endpoints: the critical alarms only",
    when: (c) => c.settings.alertPagingEndpoints.length > 0,
  },
  auditTrailArn: {
    output: "audit_trail_arn",
    kind: "string",
    description: "The CloudTrail trail accessweaver-<env>-audit-trail (guide: aws cloudtrail get-trail-status --name)",
    when: (c) => c.site !== "dr",
  },
  auditBucketName: {
    output: "audit_bucket_name",
    kind: "string",
    description: "The Object Lock bucket the trail delivers to (the guide's accessweaver-<env>-audit-logs, with the account id)",
    when: (c) => c.site !== "dr",
  },
  auditLogGroupName: {
    output: "audit_log_group_name",
    kind: "string",
    description: "The log group the trail delivers to (aws logs filter-log-events --log-group-name)",
    when: (c) => c.site !== "dr",
  },
  availabilityTopicArn: {
    output: "availability_topic_arn",
    kind: "string",
    description: "SNS topic in us-east-1 of the Route 53 health-check alarm (Route 53 publishes its metrics there only)",
    when: (c) => c.settings.region !== "us-east-1",
  },
  dashboardName: { output: "dashboard_name", kind: "string", description: "The CloudWatch dashboard of the environment (guide: AccessWeaver-Production)" },
  fisExperimentTemplates: {
    output: "fis_experiment_templates",
    kind: { keys: DRILL_SCENARIOS },
    description:
      "FIS experiment template id of each drill (make drill starts one; in prod only after CONFIRM): db-failover, cache-failover, az-tasks, az-network",
    // Where the data tier is Multi-AZ (staging, prod): a single-AZ database or a cache without replicas has
    // nothing to fail over to. Drills belong to the primary site, not to a restore in the DR region.
    when: (c) => c.site !== "dr" && c.sizing.database.multiAz && c.sizing.cache.replicasPerShard > 0,
  },
  databaseBackupVaultName: {
    output: "database_backup_vault_name",
    kind: "string",
    description: "AWS Backup vault of the database's daily recovery points (aws backup list-recovery-points-by-backup-vault)",
    when: (c) => c.site !== "dr" && RESTORE_TESTED_ENVIRONMENTS.includes(c.env),
  },
  restoreTestingPlanName: {
    output: "restore_testing_plan_name",
    kind: "string",
    description: "AWS Backup restore testing plan of the database: a weekly restore into a throw-away instance (aws backup list-restore-jobs)",
    when: (c) => c.site !== "dr" && RESTORE_TESTED_ENVIRONMENTS.includes(c.env),
  },
} as const satisfies HandleSpecs;
export type ObservabilityHandles = Handles<typeof OBSERVABILITY_HANDLES>;

/** Phase 7: what a restore in the DR region starts from (its state is in the DR backend). */
export const RECOVERY_HANDLES = {
  drRegion: { output: "dr_region", kind: "string", description: "The region holding the copies" },
  drKmsKeyArn: { output: "dr_kms_key_arn", kind: "string", description: "The DR region's key, which encrypts every copy" },
  databaseBackupsArn: {
    output: "database_replicated_backups_arn",
    kind: "string",
    description: "ARN of the database's automated backups replicated to the DR region (restore_to_point_in_time source)",
  },
  auditReplicaBucketName: { output: "audit_replica_bucket_name", kind: "string", description: "The audit bucket's replica in the DR region (Object Lock)" },
  jwtSecretName: { output: "jwt_secret_name", kind: "string", description: "The JWT secret, whose replica in the DR region a restore reads" },
  jwtSecretReplicaArn: {
    output: "jwt_secret_replica_arn",
    kind: "string",
    description: "ARN of the JWT secret's replica in the DR region (the DR environment's gateway reads it)",
  },
  replicatedRepositories: { output: "replicated_repositories", kind: "list", description: "ECR repositories replicated to the DR region" },
} as const satisfies HandleSpecs;
export type RecoveryHandles = Handles<typeof RECOVERY_HANDLES>;

/** The handles each phase publishes. A phase that later phases read gets its entry here. */
export const PHASE_HANDLES = {
  network: NETWORK_HANDLES,
  database: DATABASE_HANDLES,
  cache: CACHE_HANDLES,
  loadbalancer: LOADBALANCER_HANDLES,
  services: SERVICES_HANDLES,
  observability: OBSERVABILITY_HANDLES,
  recovery: RECOVERY_HANDLES,
} as const satisfies Partial<Record<PhaseName, HandleSpecs>>;
export type PublishingPhase = keyof typeof PHASE_HANDLES;
export type PhaseHandles<P extends PublishingPhase> = Handles<(typeof PHASE_HANDLES)[P]>;

/** The stacks of one environment built so far, by phase: later phases read earlier ones from here. */
export type BuiltPhases = Partial<Record<PhaseName, PhaseStack>>;

const published = (spec: HandleSpec, config: EnvironmentConfig) => spec.when?.(config) ?? true;

/**
 * Declares the outputs of `stack`'s phase from typed values: exactly the outputs of its specs, with
 * their stable names (`staticId`), sensitive only where the spec says so.
 */
export function publishHandles<P extends PublishingPhase>(stack: PhaseStack, phase: P, values: PhaseHandles<P>): void {
  if (stack.phase !== phase) throw new Error(`${stack.node.id} cannot publish the handles of phase ${phase}.`);
  const specs: HandleSpecs = PHASE_HANDLES[phase];
  for (const [field, spec] of Object.entries(specs)) {
    const value = (values as Record<string, unknown>)[field];
    const expected = published(spec, stack.config);
    if (expected !== (value !== undefined)) {
      throw new Error(
        `${stack.node.id}: handle ${field} (output ${spec.output}) is ${value === undefined ? "missing" : "set"}, but ${expected ? "this environment publishes it" : "it is published only when its condition holds"}.`,
      );
    }
    if (value === undefined) continue;
    new TerraformOutput(stack, spec.output, { value, staticId: true, description: spec.description, sensitive: spec.sensitive ?? false });
  }
}

/**
 * What the DR environment (Region loss, part 2) restores from: the recovery phase's outputs, read from
 * its state in the DR backend (`data.terraform_remote_state.recovery`). That phase belongs to the
 * primary environment, so no stack of this synth publishes them: the spec is the contract.
 */
export function readRecoveryCopies(reader: PhaseStack): RecoveryHandles {
  if (reader.config.site !== "dr")
    throw new Error(`${reader.node.id} is not in the DR environment: only the DR environment restores from the recovery phase's copies.`);
  const primary = names(reader.config.env);
  const remote =
    (reader.node.tryFindChild("recovery") as DataTerraformRemoteStateS3 | undefined) ??
    new DataTerraformRemoteStateS3(reader, "recovery", {
      bucket: primary.drStateBucket(reader.config.settings.accountId),
      key: primary.stateKey("recovery"),
      region: reader.region,
    });
  const values: Record<string, unknown> = {};
  for (const [field, spec] of Object.entries(RECOVERY_HANDLES as HandleSpecs)) {
    values[field] = spec.kind === "list" ? remote.getList(spec.output) : remote.getString(spec.output);
  }
  return values as RecoveryHandles;
}

/**
 * The handles of an earlier phase, read through an explicit remote state of its state key in the
 * bucket that holds it (the environment's, or the DR backend for the recovery phase) (`data.terraform_remote_state.<phase>`). Refuses to read a later phase, a
 * phase not built yet, or an output the upstream stack does not declare. Records the dependency, so
 * `cdktf deploy` and the Makefile apply the upstream first.
 */
export function readHandles<P extends PublishingPhase>(reader: PhaseStack, built: BuiltPhases, phase: P): PhaseHandles<P> {
  const upstream = built[phase];
  if (PHASES.indexOf(phase) >= PHASES.indexOf(reader.phase)) {
    throw new Error(`${reader.node.id} reads phase ${phase}, which is not earlier than ${reader.phase}: phases read only earlier phases.`);
  }
  if (!upstream) throw new Error(`${reader.node.id} reads phase ${phase}, which is not built: build ${phase} first (src/stacks/registry.ts).`);
  const remote =
    (reader.node.tryFindChild(phase) as DataTerraformRemoteStateS3 | undefined) ?? new DataTerraformRemoteStateS3(reader, phase, { ...upstream.stateLocation });
  reader.addDependency(upstream);

  const specs: HandleSpecs = PHASE_HANDLES[phase];
  const values: Record<string, unknown> = {};
  for (const [field, spec] of Object.entries(specs)) {
    if (!published(spec, reader.config)) continue;
    if (!(upstream.node.tryFindChild(spec.output) instanceof TerraformOutput)) {
      throw new Error(
        `${reader.node.id} reads output ${spec.output} of ${upstream.node.id}, which that stack does not declare: publish it there with publishHandles.`,
      );
    }
    const kind = spec.kind;
    values[field] =
      kind === "string"
        ? remote.getString(spec.output)
        : kind === "list"
          ? remote.getList(spec.output)
          : Object.fromEntries(kind.keys.map((key) => [key, remote.getString(`${spec.output}.${key}`)]));
  }
  return values as PhaseHandles<P>;
}
