import { Construct } from "constructs";
import { ServiceDiscoveryPrivateDnsNamespace } from "@cdktf/provider-aws/lib/service-discovery-private-dns-namespace";
import { ServiceDiscoveryService } from "@cdktf/provider-aws/lib/service-discovery-service";
import { CATALOG, DATABASE_SERVICES, ServiceSpec } from "../config/services";
import { EnvironmentConfig } from "../config/settings";
import { SecretKind, ServiceName } from "../naming";
import { EcsBlueGreen } from "../constructs/blue-green";
import { CACHE_CLIENT_IMAGE, CacheClientTask } from "../constructs/cache-client";
import { DB_CLIENT_IMAGE, DatabaseRolesTask } from "../constructs/db-roles";
import { targetGroupAlarms } from "../constructs/deployment-alarms";
import { EcsFargateCluster } from "../constructs/ecs-cluster";
import { FargateService, InjectedSecret, TargetTracking } from "../constructs/fargate-service";
import { Statement } from "../constructs/iam";
import { BuiltPhases, CacheHandles, DatabaseHandles, publishHandles, readHandles, readRecoveryCopies } from "./handles";
import { PhaseStack } from "./phase-stack";

/** CPU target of every service but the PDP. */
export const CPU_TARGET = 60;
/** The guide's PDP policy: average CPU 55 %, scale out after 180 s, in after 300 s. */
export const PDP_CPU_SCALING = { targetValue: 55, scaleOutCooldown: 180, scaleInCooldown: 300 } as const;
/** ALB requests per gateway task per minute before another task is added (both target groups under blue/green). */
export const GATEWAY_REQUESTS_PER_TARGET = 1000;

/**
 * The variables each secret kind injects: the catalog says which kinds a service gets, this says how.
 * Whole-secret variables carry the JSON (host, port, ...). No password: a database service logs in as
 * its own role with an IAM token (`databaseAccess`), never with the master user's rotated password.
 */
export function secretsFor(kinds: readonly SecretKind[], db: DatabaseHandles, cache: CacheHandles): InjectedSecret[] {
  const byKind: Record<SecretKind, InjectedSecret[]> = {
    database: [{ name: "DATABASE_CONNECTION", secretArn: db.databaseSecretArn }],
    redis: [{ name: "REDIS_CONNECTION", secretArn: cache.redisSecretArn }],
    jwt: [{ name: "JWT_SIGNING", secretArn: cache.jwtSecretArn }],
  };
  return kinds.flatMap((k) => byKind[k]);
}

/**
 * How a service that uses the database logs in: its role (`DATABASE_USER`), IAM authentication
 * (`DATABASE_AUTH=iam`: the driver signs a 15-minute token with the task role for each new connection,
 * so the master password's rotation and a Multi-AZ failover need nothing from anyone), and the one
 * statement its task role needs: `rds-db:connect` as that role on this instance, nothing else.
 */
export function databaseAccess(
  role: string,
  db: DatabaseHandles,
  where: { readonly partition: string; readonly region: string; readonly accountId: string },
): {
  environment: Record<string, string>;
  statements: Statement[];
} {
  return {
    environment: { DATABASE_USER: role, DATABASE_AUTH: "iam" },
    statements: [
      {
        sid: "ConnectAsOwnDatabaseRole",
        actions: ["rds-db:connect"],
        resources: [`arn:${where.partition}:rds-db:${where.region}:${where.accountId}:dbuser:${db.databaseResourceId}/${role}`],
      },
    ],
  };
}

/**
 * Phase 5 (the guide's "ECS Fargate Cluster" box): the cluster, the Cloud Map namespace of the internal
 * services, the five catalog services, each through one FargateService, and the task that creates their
 * database roles. Reads the network, data tier and edge only through their handles.
 */
export class ServicesStack extends PhaseStack {
  readonly cluster: EcsFargateCluster;
  readonly namespace: ServiceDiscoveryPrivateDnsNamespace;
  readonly services: Readonly<Record<ServiceName, FargateService>>;
  /** CodeDeploy of the gateway, where its releases are blue/green. */
  readonly blueGreen?: EcsBlueGreen;
  /** The one-off task that creates the services' database roles (make db-roles). */
  readonly databaseRoles: DatabaseRolesTask;
  /** The one-off redis-cli task (TLS, AUTH, cluster mode) that make cache-flush runs from inside the VPC. */
  readonly cacheClient: CacheClientTask;

  constructor(scope: Construct, config: EnvironmentConfig, built: BuiltPhases) {
    super(scope, "services", { config });
    const s = config.settings;
    const n = this.names;
    const sizing = config.sizing;
    const partition = this.partition;
    const network = readHandles(this, built, "network");
    const database = readHandles(this, built, "database");
    const cache = readHandles(this, built, "cache");
    const lb = readHandles(this, built, "loadbalancer");
    // In the DR environment the JWT secret is the replica, and the restored database's master secret is
    // encrypted like the database: both with the DR key.
    const drKey = config.site === "dr" ? readRecoveryCopies(this).drKmsKeyArn : undefined;
    const registryAccount = s.ecrRegistry.split(".")[0];

    this.cluster = new EcsFargateCluster(this, "ecs", { name: n.cluster, ephemeralStorageKmsKeyArn: network.kmsKeyArn });
    this.namespace = new ServiceDiscoveryPrivateDnsNamespace(this, "namespace", {
      name: n.serviceNamespace,
      vpc: network.vpcId,
      description: `AccessWeaver ${config.env}: the internal services by name`,
    });

    const gatewayTargetGroups = (releases: "rolling" | "blue-green"): Record<string, string> => {
      if (releases === "rolling") return { primary: lb.targetGroupArnSuffix };
      if (!lb.greenTargetGroupArnSuffix)
        throw new Error("Blue/green releases need the load balancer's green target group (api_gateway_green_target_group_arn_suffix).");
      return { blue: lb.targetGroupArnSuffix, green: lb.greenTargetGroupArnSuffix };
    };
    const build = (spec: ServiceSpec): FargateService => {
      const size = sizing.services[spec.name];
      const exposed = spec.exposure === "alb";
      const releases = exposed ? sizing.gatewayReleases : "rolling";
      const registry = exposed
        ? undefined
        : new ServiceDiscoveryService(this, `${spec.name}-discovery`, {
            name: n.discoveryService(spec.name),
            dnsConfig: { namespaceId: this.namespace.id, routingPolicy: "MULTIVALUE", dnsRecords: [{ type: "A", ttl: 10 }] },
            // ECS reports task health to Cloud Map: an unhealthy task leaves DNS. failure_threshold is set
            // (AWS ignores it and always uses 1): an empty block is not read back, and as the block forces a
            // new service every later plan would replace it (hashicorp/terraform-provider-aws#44285).
            healthCheckCustomConfig: { failureThreshold: 1 },
          });
      const db = spec.secrets.includes("database")
        ? databaseAccess(n.databaseRole(spec.name), database, { partition, region: s.region, accountId: s.accountId })
        : undefined;
      const cpuScaling: Omit<TargetTracking, "policyName"> = spec.name === "aw-pdp-service" ? PDP_CPU_SCALING : { targetValue: CPU_TARGET };
      return new FargateService(this, spec.name, {
        names: n,
        service: spec.name,
        image: `${s.ecrRegistry}/${spec.name}:${s.imageTags[spec.name]}`,
        repositoryArn: `arn:${partition}:ecr:${s.region}:${registryAccount}:repository/${spec.name}`,
        cpu: size.cpu,
        memory: size.memory,
        desiredCount: size.desiredCount,
        maxCount: s.serviceMaxCounts[spec.name],
        port: spec.port,
        healthPath: spec.healthPath,
        environment: {
          SPRING_PROFILES_ACTIVE: config.env,
          SERVER_PORT: String(spec.port),
          // The JVM's temporary files go to the writable scratch volume.
          JAVA_TOOL_OPTIONS: "-Djava.io.tmpdir=/tmp",
          AW_SERVICES_DOMAIN: n.serviceNamespace,
          ...db?.environment,
        },
        secrets: secretsFor(spec.secrets, database, cache),
        clusterId: this.cluster.cluster.id,
        clusterName: this.cluster.cluster.name,
        clusterReady: [this.cluster.capacityProviders],
        subnetIds: network.privateSubnetIds,
        securityGroupId: network.securityGroupIds.services,
        kmsKeyArn: network.kmsKeyArn,
        ...(drKey && spec.secrets.includes("jwt") ? { secretKeyArns: [drKey] } : {}),
        protectLogs: sizing.preventDestroy,
        logRetentionDays: sizing.applicationLogRetentionDays,
        ...(db ? { taskRoleStatements: db.statements } : {}),
        accountId: s.accountId,
        region: s.region,
        partition,
        // Prod keeps every task serving during a deployment; the others may halve to save capacity.
        minHealthyPercent: config.env === "prod" ? 100 : 50,
        releases,
        targetGroupArn: exposed ? lb.targetGroupArn : undefined,
        registryArn: registry?.arn,
        cpuScaling,
        // Rolling: the one target group. Blue/green: both, as CodeDeploy moves the traffic from one to the other at every release.
        requestScaling: exposed
          ? { targetValue: GATEWAY_REQUESTS_PER_TARGET, loadBalancer: lb.albArnSuffix, targetGroups: gatewayTargetGroups(releases) }
          : undefined,
      });
    };
    this.services = Object.fromEntries(CATALOG.map((spec) => [spec.name, build(spec)])) as Record<ServiceName, FargateService>;

    const gateway = CATALOG.find((spec) => spec.exposure === "alb")!;
    if (sizing.gatewayReleases === "blue-green") {
      if (!lb.testListenerArn || !lb.greenTargetGroupArnSuffix || !lb.greenTargetGroupName) {
        throw new Error(
          "Blue/green releases need the load balancer's test listener and green target group (test_listener_arn, api_gateway_green_target_group_arn_suffix, api_gateway_green_target_group_name).",
        );
      }
      const slots = { blue: lb.targetGroupArnSuffix, green: lb.greenTargetGroupArnSuffix };
      const alarms = Object.entries(slots).flatMap(([slot, suffix]) =>
        targetGroupAlarms(this, `${gateway.name}-${slot}`, {
          names: { errors: n.alarm(`${gateway.name}-${slot}-5xx`), latency: n.alarm(`${gateway.name}-${slot}-p99-response-time`) },
          loadBalancer: lb.albArnSuffix,
          targetGroup: suffix,
        }),
      );
      this.blueGreen = new EcsBlueGreen(this, "blue-green", {
        applicationName: n.codedeployApp(gateway.name),
        groupName: n.codedeployGroup(gateway.name),
        roleName: n.codedeployRole,
        accountId: s.accountId,
        partition,
        clusterName: this.cluster.cluster.name,
        serviceName: this.services[gateway.name].service.name,
        // Blue is the group the service starts attached to; both names come from the loadbalancer phase.
        targetGroupNames: [lb.targetGroupName, lb.greenTargetGroupName],
        productionListenerArns: [lb.httpsListenerArn],
        testListenerArns: [lb.testListenerArn],
        alarmNames: alarms.map((a) => a.alarmName),
        taskRoleArns: [this.services[gateway.name].executionRole.role.arn, this.services[gateway.name].taskRole.arn],
      });
    }

    // make db-roles runs this task (aws ecs run-task) to create the roles the services log in as.
    this.databaseRoles = new DatabaseRolesTask(this, "db-roles", {
      family: n.dbRolesTaskFamily,
      image: `${s.ecrRegistry}/${DB_CLIENT_IMAGE.repository}:${DB_CLIENT_IMAGE.tag}`,
      repositoryArn: `arn:${partition}:ecr:${s.region}:${registryAccount}:repository/${DB_CLIENT_IMAGE.repository}`,
      roles: DATABASE_SERVICES.map((spec) => n.databaseRole(spec.name)),
      host: database.databaseEndpoint,
      port: database.databasePort,
      databaseName: database.databaseName,
      masterUsername: database.databaseMasterUsername,
      masterSecretArn: database.databaseMasterSecretArn,
      kmsKeyArn: network.kmsKeyArn,
      ...(drKey ? { secretKeyArns: [drKey] } : {}),
      logGroupName: n.dbRolesLogGroup,
      logRetentionDays: sizing.applicationLogRetentionDays,
      protectLogs: sizing.preventDestroy,
      executionRoleName: n.dbRolesExecutionRole,
      taskRoleName: n.dbRolesTaskRole,
      accountId: s.accountId,
      region: s.region,
      partition,
    });

    // make cache-flush runs this task (aws ecs run-task, the redis-cli arguments as the command override):
    // the cache has no public endpoint, and it speaks TLS with an AUTH token only.
    this.cacheClient = new CacheClientTask(this, "cache-client", {
      family: n.cacheClientTaskFamily,
      image: `${s.ecrRegistry}/${CACHE_CLIENT_IMAGE.repository}:${CACHE_CLIENT_IMAGE.tag}`,
      repositoryArn: `arn:${partition}:ecr:${s.region}:${registryAccount}:repository/${CACHE_CLIENT_IMAGE.repository}`,
      host: cache.redisConfigurationEndpoint,
      port: cache.redisPort,
      redisSecretArn: cache.redisSecretArn,
      kmsKeyArn: network.kmsKeyArn,
      logGroupName: n.cacheClientLogGroup,
      logRetentionDays: sizing.applicationLogRetentionDays,
      protectLogs: sizing.preventDestroy,
      executionRoleName: n.cacheClientExecutionRole,
      taskRoleName: n.cacheClientTaskRole,
      accountId: s.accountId,
      region: s.region,
      partition,
    });

    publishHandles(this, "services", {
      clusterName: this.cluster.cluster.name,
      serviceNames: Object.fromEntries(CATALOG.map((spec) => [spec.name, this.services[spec.name].service.name])) as Record<ServiceName, string>,
      serviceLogGroups: Object.fromEntries(CATALOG.map((spec) => [spec.name, this.services[spec.name].logGroup.logGroup.name])) as Record<ServiceName, string>,
      taskDefinitionArns: Object.fromEntries(CATALOG.map((spec) => [spec.name, this.services[spec.name].taskDefinition.arn])) as Record<ServiceName, string>,
      errorLogMetrics: Object.fromEntries(CATALOG.map((spec) => [spec.name, this.services[spec.name].errorLogs.filter.metricTransformation.name])) as Record<
        ServiceName,
        string
      >,
      healthCheckUrls: CATALOG.filter((spec) => spec.exposure === "alb").map((spec) => `${lb.apiUrl}${spec.healthPath}`),
      gatewayTaskDefinitionArn: this.blueGreen ? this.services[gateway.name].taskDefinition.arn : undefined,
      dbRolesTaskDefinitionArn: this.databaseRoles.taskDefinition.arn,
      // Where the services run: the task reaches PostgreSQL, the endpoints and the registry as they do.
      dbRolesSubnetIds: network.privateSubnetIds,
      dbRolesSecurityGroupId: network.securityGroupIds.services,
      dbRolesLogGroup: this.databaseRoles.logGroup.logGroup.name,
      cacheClientTaskDefinitionArn: this.cacheClient.taskDefinition.arn,
      // Where the services run: the services' group is the one the cache admits on its port.
      cacheClientSubnetIds: network.privateSubnetIds,
      cacheClientSecurityGroupId: network.securityGroupIds.services,
      cacheClientLogGroup: this.cacheClient.logGroup.logGroup.name,
    });
  }
}
