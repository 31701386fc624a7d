import { Construct } from "constructs";
import { FisExperimentTemplate, FisExperimentTemplateAction, FisExperimentTemplateTarget } from "@cdktf/provider-aws/lib/fis-experiment-template";
import { DRILL_SCENARIOS, DrillScenario, Names, SERVICES, ServiceName } from "../naming";
import { Condition, ServiceRole, Statement } from "./iam";
import { EncryptedLogGroup } from "./log-group";

/** The FIS actions of the drills (AWS FIS User Guide, "Actions reference"). */
export const FIS_ACTIONS = {
  rebootDbInstances: "aws:rds:reboot-db-instances",
  interruptCacheAzPower: "aws:elasticache:replicationgroup-interrupt-az-power",
  stopTask: "aws:ecs:stop-task",
  disruptConnectivity: "aws:network:disrupt-connectivity",
} as const;

/** The source FIS gives a stop condition on a CloudWatch alarm (of the template's own region). */
export const ALARM_STOP_CONDITION = "aws:cloudwatch:alarm";

/** FIS accepts action durations from one minute to 12 hours. */
const MAX_DURATION_MINUTES = 12 * 60;

/** An ISO 8601 duration in whole minutes, as FIS takes it (`PT10M`); refused at synth outside FIS's range. */
export function fisMinutes(what: string, minutes: number): string {
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_DURATION_MINUTES) {
    throw new Error(`${what} lasts ${minutes} minutes; FIS accepts whole minutes from 1 to ${MAX_DURATION_MINUTES}.`);
  }
  return `PT${minutes}M`;
}

export interface FaultInjectionDrillsProps {
  /** The environment's names: the templates' Name tags, the role and the log group. */
  readonly names: Names;
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  /** The environment's key: encrypts the experiment log. */
  readonly kmsKeyArn: string;
  /** Days the experiment log keeps events (the environment's applicationLogRetentionDays). @default 365 */
  readonly logRetentionDays?: number;
  /** `prevent_destroy` on the experiment log. @default false */
  readonly protectLogs?: boolean;
  /**
   * ARNs of the CloudWatch alarms, in this region, whose ALARM stops any running drill: FIS reads stop
   * conditions in the template's own region only.
   */
  readonly stopAlarmArns: readonly string[];
  /** The PostgreSQL instance (Multi-AZ): the only one db-failover reboots. */
  readonly databaseArn: string;
  /**
   * The Redis replication group (Multi-AZ): its id, and tags that only it carries among this region's
   * replication groups. FIS finds replication groups by tags, not by ARN.
   */
  readonly cache: { readonly replicationGroupId: string; readonly tags: Readonly<Record<string, string>> };
  /** The ECS cluster and the name of each service in it: az-tasks stops their tasks in the zone. */
  readonly clusterName: string;
  readonly serviceNames: Readonly<Record<ServiceName, string>>;
  /** The zone the zonal drills (cache-failover, az-tasks, az-network) take down, e.g. `eu-west-1a`. */
  readonly zone: string;
  /** The VPC, and the zone's subnets of every tier (public, private, database): az-network isolates these. */
  readonly vpcId: string;
  readonly zoneSubnetIds: readonly string[];
  /** Minutes the cache's zone stays without power (replicas there are not replaced meanwhile). @default 10 */
  readonly cacheInterruptionMinutes?: number;
  /** Minutes the zone's subnets stay cut off. @default 10 */
  readonly networkDisruptionMinutes?: number;
}

/** One drill: what its template runs, and what its role must be allowed for that. */
interface Drill {
  readonly description: string;
  readonly targets: FisExperimentTemplateTarget[];
  readonly actions: FisExperimentTemplateAction[];
  /** A target that resolves to nothing fails the experiment, or is skipped (a service with no task in the zone). */
  readonly emptyTargets: "fail" | "skip";
  readonly statements: Statement[];
}

/** `variable` (a request tag, a resource tag, the EC2 action that creates a resource...) equals `value`. */
const equals = (variable: string, value: string): Condition => ({ test: "StringEquals", variable, values: [value] });
/** FIS tags the network ACL it clones `managedByFIS=true`: its role may edit and delete those only. */
const FIS_MANAGED = "managedByFIS";

/**
 * The failover drills of the guide's go-live checklist ("Tests de failover Multi-AZ") as AWS FIS experiment
 * templates, one per scenario, each named `accessweaver-<env>-drill-<scenario>` (its Name tag):
 *  - db-failover: reboot the PostgreSQL instance with a forced Multi-AZ failover;
 *  - cache-failover: cut the power of the Redis nodes in one zone (primaries there fail over to replicas);
 *  - az-tasks: stop every service's tasks in one zone (ECS starts replacements);
 *  - az-network: cut one zone's subnets (every tier) off from everything for a while.
 * Every template stops on the given alarms, logs to an encrypted log group, and runs as one role whose
 * policy names this environment's resources only. Terraform creates the templates and never starts them.
 */
export class FaultInjectionDrills extends Construct {
  readonly role: ServiceRole;
  readonly logGroup: EncryptedLogGroup;
  readonly templates: Readonly<Record<DrillScenario, FisExperimentTemplate>>;

  constructor(scope: Construct, id: string, props: FaultInjectionDrillsProps) {
    super(scope, id);
    if (props.stopAlarmArns.length === 0) throw new Error("The drills need at least one stop condition: an alarm that ends a drill that hurts too much.");
    const n = props.names;
    const arn = (service: string, resource: string) => `arn:${props.partition}:${service}:${props.region}:${props.accountId}:${resource}`;
    const drills = this.drills(props, arn);

    this.logGroup = new EncryptedLogGroup(this, "logs", {
      name: n.drillLogGroup,
      kmsKeyArn: props.kmsKeyArn,
      logClass: "application",
      retentionDays: props.logRetentionDays,
      protect: props.protectLogs ?? false,
    });
    this.role = new ServiceRole(this, "role", {
      name: n.fisRole,
      service: "fis.amazonaws.com",
      accountId: props.accountId,
      // The FIS guide's trust policy: this account's experiments only (confused deputy).
      sourceArns: [arn("fis", "experiment/*")],
      statements: [
        ...DRILL_SCENARIOS.flatMap((scenario) => drills[scenario].statements),
        // Tag resolution (the cache's target) has no resource-level permission: "*" is the only form.
        { sid: "ResolveTaggedTargets", actions: ["tag:GetResources"], resources: ["*"] },
        // FIS delivers the experiment log as a vended log: the delivery and the log group's resource
        // policy are account-level calls, without resource-level permissions.
        {
          sid: "DeliverExperimentLog",
          actions: ["logs:CreateLogDelivery", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies"],
          resources: ["*"],
        },
        { sid: "FindExperimentLogGroup", actions: ["logs:DescribeLogGroups"], resources: [arn("logs", "log-group:*")] },
      ],
    });

    const stopConditions = props.stopAlarmArns.map((value) => ({ source: ALARM_STOP_CONDITION, value }));
    this.templates = Object.fromEntries(
      DRILL_SCENARIOS.map((scenario) => {
        const drill = drills[scenario];
        const template = new FisExperimentTemplate(this, scenario, {
          description: drill.description,
          roleArn: this.role.role.arn,
          stopCondition: stopConditions,
          target: drill.targets,
          action: drill.actions,
          // The ARN with `:*`, as FIS takes a log group.
          logConfiguration: { logSchemaVersion: 2, cloudwatchLogsConfiguration: { logGroupArn: `${this.logGroup.logGroup.arn}:*` } },
          experimentOptions: { accountTargeting: "single-account", emptyTargetResolutionMode: drill.emptyTargets },
          tags: { Name: n.drillTemplate(scenario) },
          // A template is startable once it exists: its role's permissions and its log group come first.
          dependsOn: [this.role.policy, this.logGroup.logGroup],
        });
        return [scenario, template];
      }),
    ) as Record<DrillScenario, FisExperimentTemplate>;
  }

  /** Each drill's targets, actions and permissions. */
  private drills(props: FaultInjectionDrillsProps, arn: (service: string, resource: string) => string): Record<DrillScenario, Drill> {
    const zone = props.zone;
    const cacheArns = [
      arn("elasticache", `replicationgroup:${props.cache.replicationGroupId}`),
      arn("elasticache", `cluster:${props.cache.replicationGroupId}-*`),
    ];
    const subnetArns = props.zoneSubnetIds.map((subnet) => arn("ec2", `subnet/${subnet}`));
    const vpcArn = arn("ec2", `vpc/${props.vpcId}`);
    const networkAcls = arn("ec2", "network-acl/*");
    const serviceTasks = (service: ServiceName) => `${service}-tasks`;
    return {
      "db-failover": {
        description: `Reboot ${props.names.database} with a forced Multi-AZ failover: the standby becomes the primary (guide: database RTO under 30 minutes)`,
        targets: [{ name: "database", resourceType: "aws:rds:db", resourceArns: [props.databaseArn], selectionMode: "ALL" }],
        actions: [
          {
            name: "failover-database",
            actionId: FIS_ACTIONS.rebootDbInstances,
            description: "RebootDBInstance with ForceFailover",
            parameter: [{ key: "forceFailover", value: "true" }],
            target: { key: "DBInstances", value: "database" },
          },
        ],
        emptyTargets: "fail",
        statements: [
          { sid: "RebootOwnDatabase", actions: ["rds:RebootDBInstance"], resources: [props.databaseArn] },
          // Read-only, this account's instances in this region (FIS describes the target before it acts).
          { sid: "DescribeDatabases", actions: ["rds:DescribeDBInstances"], resources: [arn("rds", "db:*")] },
        ],
      },
      "cache-failover": {
        description: `Cut the power of the ${props.names.redis} nodes in ${zone}: primaries there fail over to replicas, which are not replaced until the end (guide: cache RTO under 5 minutes)`,
        targets: [
          {
            name: "cache",
            resourceType: "aws:elasticache:replicationgroup",
            // FIS resolves replication groups by tags (not by ARN); these tags are on this group alone.
            resourceTag: Object.entries(props.cache.tags).map(([key, value]) => ({ key, value })),
            parameters: { availabilityZoneIdentifier: zone },
            selectionMode: "ALL",
          },
        ],
        actions: [
          {
            name: "interrupt-cache-zone-power",
            actionId: FIS_ACTIONS.interruptCacheAzPower,
            description: `Power off the nodes in ${zone}`,
            parameter: [{ key: "duration", value: fisMinutes("The cache's power interruption", props.cacheInterruptionMinutes ?? 10) }],
            target: { key: "ReplicationGroups", value: "cache" },
          },
        ],
        emptyTargets: "fail",
        statements: [
          // The group and its nodes (<group>-<shard>-<node>): the action is authorized on whichever it names.
          { sid: "InterruptOwnCacheZone", actions: ["elasticache:InterruptClusterAzPower"], resources: cacheArns },
          { sid: "DescribeCaches", actions: ["elasticache:DescribeReplicationGroups"], resources: [arn("elasticache", "replicationgroup:*")] },
        ],
      },
      "az-tasks": {
        description: `Stop every service's tasks in ${zone} (cluster ${props.clusterName}): the services start replacements in the other zones (guide: application RTO under 15 minutes)`,
        // One target per service: FIS finds tasks by cluster and service, then keeps those in the zone.
        targets: SERVICES.map((service) => ({
          name: serviceTasks(service),
          resourceType: "aws:ecs:task",
          parameters: { cluster: props.clusterName, service: props.serviceNames[service] },
          filter: [{ path: "AvailabilityZone", values: [zone] }],
          selectionMode: "ALL",
        })),
        actions: SERVICES.map((service) => ({
          name: `stop-${serviceTasks(service)}`,
          actionId: FIS_ACTIONS.stopTask,
          description: `StopTask on ${props.serviceNames[service]}'s tasks in ${zone}`,
          target: { key: "Tasks", value: serviceTasks(service) },
        })),
        // A service may have no task in the zone (fewer tasks than zones): the others are still stopped.
        emptyTargets: "skip",
        statements: [
          { sid: "StopOwnClusterTasks", actions: ["ecs:StopTask", "ecs:DescribeTasks"], resources: [arn("ecs", `task/${props.clusterName}/*`)] },
          // ListTasks is authorized on container instances (Fargate has none): "*", held to the cluster by its condition key.
          {
            sid: "ListOwnClusterTasks",
            actions: ["ecs:ListTasks"],
            resources: ["*"],
            conditions: [{ test: "ArnEquals", variable: "ecs:cluster", values: [arn("ecs", `cluster/${props.clusterName}`)] }],
          },
        ],
      },
      "az-network": {
        description: `Cut ${zone}'s subnets of every tier off from all traffic, as a zone's network loss would (guide: application RTO under 15 minutes)`,
        targets: [{ name: "zone-subnets", resourceType: "aws:ec2:subnet", resourceArns: subnetArns, selectionMode: "ALL" }],
        actions: [
          {
            name: "disrupt-zone-network",
            actionId: FIS_ACTIONS.disruptConnectivity,
            description: `Deny all traffic in and out of ${zone}'s subnets`,
            parameter: [
              { key: "scope", value: "all" },
              { key: "duration", value: fisMinutes("The zone's network disruption", props.networkDisruptionMinutes ?? 10) },
            ],
            target: { key: "Subnets", value: "zone-subnets" },
          },
        ],
        emptyTargets: "fail",
        // FIS clones each subnet's network ACL, adds deny rules to the clone (tagged managedByFIS=true),
        // swaps it in, and at the end swaps the original back and deletes the clone.
        statements: [
          {
            sid: "CloneNetworkAcls",
            actions: ["ec2:CreateNetworkAcl"],
            resources: [networkAcls],
            conditions: [equals(`aws:RequestTag/${FIS_MANAGED}`, "true")],
          },
          { sid: "CloneNetworkAclsInOwnVpc", actions: ["ec2:CreateNetworkAcl"], resources: [vpcArn] },
          {
            sid: "TagClonedNetworkAcls",
            actions: ["ec2:CreateTags"],
            resources: [networkAcls],
            conditions: [equals("ec2:CreateAction", "CreateNetworkAcl"), equals(`aws:RequestTag/${FIS_MANAGED}`, "true")],
          },
          {
            sid: "EditClonedNetworkAcls",
            actions: ["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl"],
            resources: [networkAcls, vpcArn],
            conditions: [equals(`ec2:ResourceTag/${FIS_MANAGED}`, "true")],
          },
          // The zone's subnets only; the network ACLs are the clone going in and the original coming back.
          { sid: "SwapOwnSubnetsAcls", actions: ["ec2:ReplaceNetworkAclAssociation"], resources: [...subnetArns, networkAcls] },
          // Describe calls have no resource-level permissions: "*" is the only form.
          {
            sid: "DescribeNetwork",
            actions: ["ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeNetworkAcls", "ec2:DescribeManagedPrefixLists"],
            resources: ["*"],
          },
        ],
      },
    };
  }
}
