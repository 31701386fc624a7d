import { Construct } from "constructs";
import { TerraformOutput } from "cdktf";
import { APP_PORT, POSTGRES_PORT, REDIS_PORT } from "../config/profiles";
import { EnvironmentConfig } from "../config/settings";
import { partitionOf } from "../naming";
import { Endpoints } from "../constructs/endpoints";
import { Kms } from "../constructs/kms";
import { SecurityGroups } from "../constructs/security-groups";
import { Vpc } from "../constructs/vpc";
import { PhaseStack } from "./phase-stack";

/** Phase 1: the environment's key, the VPC and its tiers, the tier security groups and the endpoints. */
export class NetworkStack extends PhaseStack {
  readonly kms: Kms;
  readonly vpc: Vpc;
  readonly securityGroups: SecurityGroups;

  constructor(scope: Construct, config: EnvironmentConfig) {
    super(scope, "network", { config });
    const s = config.settings;
    const partition = partitionOf(s.region);

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

    new TerraformOutput(this, "vpc_id", { value: this.vpc.vpc.id, staticId: true, description: "VPC of the environment" });
    new TerraformOutput(this, "kms_key_arn", { value: this.kms.keyArn, staticId: true, description: "The environment's KMS key" });
    if (this.kms.aliasName) {
      new TerraformOutput(this, "kms_key_alias", { value: this.kms.aliasName, staticId: true, description: "Alias of the environment's KMS key" });
    }
  }
}
