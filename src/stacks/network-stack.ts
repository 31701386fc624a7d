import { Construct } from "constructs";
import { POSTGRES_PORT, REDIS_PORT } from "../config/profiles";
import { APP_PORT } from "../config/services";
import { EnvironmentConfig } from "../config/settings";
import { SECURITY_GROUPS } from "../naming";
import { Endpoints } from "../constructs/endpoints";
import { DrKey } from "../constructs/dr-key";
import { Kms } from "../constructs/kms";
import { SecurityGroups } from "../constructs/security-groups";
import { Vpc } from "../constructs/vpc";
import { publishHandles } from "./handles";
import { PhaseStack } from "./phase-stack";

/** Phase 1: the environment's key, the VPC and its tiers, the tier security groups and the endpoints. */
export class NetworkStack extends PhaseStack {
  readonly kms: Kms;
  readonly vpc: Vpc;
  readonly securityGroups: SecurityGroups;
  /** The DR region's key, where the environment has a DR region. */
  readonly drKey?: DrKey;

  constructor(scope: Construct, config: EnvironmentConfig) {
    super(scope, "network", { config });
    const s = config.settings;
    const partition = this.partition;

    this.kms = new Kms(this, "kms", {
      names: this.names,
      description: `AccessWeaver ${config.env} encryption key`,
      accountId: s.accountId,
      region: s.region,
      partition,
      deletionWindowDays: config.sizing.kmsDeletionWindowDays,
      preventDestroy: config.sizing.preventDestroy,
      ...(s.kmsKeyArn ? { existingKeyArn: s.kmsKeyArn } : {}),
    });
    this.vpc = new Vpc(this, "vpc", {
      names: this.names,
      cidr: s.vpcCidr,
      availabilityZones: s.availabilityZones,
      natGateways: config.sizing.natGateways,
      natInUse: s.servicesInternetEgress,
      kmsKeyArn: this.kms.keyArn,
      accountId: s.accountId,
      region: s.region,
      partition,
      databasePorts: [POSTGRES_PORT, REDIS_PORT],
      protectFlowLogs: config.sizing.preventDestroy,
    });
    this.securityGroups = new SecurityGroups(this, "security-groups", {
      names: this.names,
      vpcId: this.vpc.vpc.id,
      appPort: APP_PORT,
      databasePort: POSTGRES_PORT,
      cachePort: REDIS_PORT,
      servicesInternetEgress: s.servicesInternetEgress,
    });
    new Endpoints(this, "endpoints", {
      names: this.names,
      region: s.region,
      partition,
      accountId: s.accountId,
      registryAccountId: s.ecrRegistry.split(".")[0]!,
      vpcId: this.vpc.vpc.id,
      routeTableIds: [...this.vpc.privateRouteTableIds, this.vpc.databaseRouteTableId],
      subnetIds: this.vpc.subnetIds.private,
      securityGroupId: this.securityGroups.groups.endpoints.id,
      clientSecurityGroupId: this.securityGroups.groups.services.id,
      interfaceEndpoints: config.sizing.interfaceEndpoints,
    });

    // The DR region's key is made here, with the environment's key, and not by the recovery phase: the
    // JWT secret's replica (cache phase) must name it, and Secrets Manager replicas are declared on the
    // secret itself (docs/disaster-recovery.md, "Why the DR key is in the network phase").
    if (s.drRegion) {
      this.drKey = new DrKey(this, "dr-key", {
        names: this.names,
        accountId: s.accountId,
        region: s.drRegion,
        partition,
        deletionWindowDays: config.sizing.kmsDeletionWindowDays,
        preventDestroy: config.sizing.preventDestroy,
        provider: this.awsProvider("aws-dr", s.drRegion, "dr"),
      });
    }

    publishHandles(this, "network", {
      vpcId: this.vpc.vpc.id,
      vpcCidr: this.vpc.vpc.cidrBlock,
      publicSubnetIds: this.vpc.subnetIds.public,
      privateSubnetIds: this.vpc.subnetIds.private,
      databaseSubnetIds: this.vpc.subnetIds.database,
      securityGroupIds: Object.fromEntries(SECURITY_GROUPS.map((g) => [g, this.securityGroups.groups[g].id])) as Record<
        (typeof SECURITY_GROUPS)[number],
        string
      >,
      kmsKeyArn: this.kms.keyArn,
      kmsKeyAlias: this.kms.aliasName,
      drKmsKeyArn: this.drKey?.keyArn,
    });
  }
}
