import { Construct } from "constructs";
import { elbLogDeliveryPrincipal } from "../config/elb-log-delivery";
import { SERVICE_CATALOG } from "../config/services";
import { EnvironmentConfig, WAF_RATE_WINDOW_SECONDS } from "../config/settings";
import { ALB_LOG_PREFIX, Alb } from "../constructs/alb";
import { ApiDns, DnsValidatedCertificate } from "../constructs/dns";
import { LogBucket } from "../constructs/log-bucket";
import { Waf } from "../constructs/waf";
import { BuiltPhases, publishHandles, readHandles } from "./handles";
import { PhaseStack } from "./phase-stack";

/** The service the internet reaches: the catalog's only `alb` entry. */
const EXPOSED = Object.values(SERVICE_CATALOG).filter((s) => s.exposure === "alb");

/**
 * Phase 4, the edge (guide: Internet -> Route 53 -> WAF -> ALB): the API's certificate, the ALB with
 * its access-log bucket and the gateway's target groups, the WAF, and the domain's record and health
 * check. Reads the network only through its handles.
 */
export class LoadbalancerStack extends PhaseStack {
  readonly alb: Alb;
  readonly waf: Waf;

  constructor(scope: Construct, config: EnvironmentConfig, built: BuiltPhases) {
    super(scope, "loadbalancer", { config });
    const s = config.settings;
    const n = this.names;
    const partition = this.partition;
    const network = readHandles(this, built, "network");
    const [gateway] = EXPOSED;
    if (!gateway || EXPOSED.length !== 1)
      throw new Error(`The load balancer routes to exactly one service; the catalog (src/config/services.ts) exposes ${EXPOSED.length}.`);
    const logWriter = elbLogDeliveryPrincipal(s.region, partition);
    if (!logWriter) throw new Error(`No ALB log-delivery principal is known for region ${s.region} (src/config/elb-log-delivery.ts).`);
    const protect = config.sizing.preventDestroy;

    // The DR environment leaves the domain's records to the primary's stack and to make restore's switch.
    const primarySite = config.site !== "dr";
    const certificate = new DnsValidatedCertificate(this, "certificate", {
      domainName: s.domainName,
      hostedZoneId: s.hostedZoneId,
      name: n.certificate,
      createRecords: primarySite,
    });
    const accessLogs = new LogBucket(this, "access-logs", {
      name: n.albLogsBucket(s.accountId),
      accountId: s.accountId,
      partition,
      logClass: "audit",
      writers: [{ sid: "AllowElbLogDelivery", principal: logWriter, keyPrefix: ALB_LOG_PREFIX }],
      protect,
    });
    this.alb = new Alb(this, "alb", {
      names: n,
      vpcId: network.vpcId,
      subnetIds: network.publicSubnetIds,
      securityGroupId: network.securityGroupIds.alb,
      certificateArn: certificate.arn,
      service: gateway,
      releases: config.sizing.gatewayReleases,
      vpcCidr: network.vpcCidr,
      accessLogs: { bucket: accessLogs.bucket.bucket, ready: [accessLogs.policy] },
      deletionProtection: protect,
    });
    this.waf = new Waf(this, "waf", {
      name: n.webAcl,
      hostName: s.domainName,
      resourceArn: this.alb.lb.arn,
      rateLimit: s.wafRateLimit,
      rateWindowSeconds: WAF_RATE_WINDOW_SECONDS,
      rateLimitMetricName: n.wafRateLimitMetric,
      logGroupName: n.wafLogGroup,
      kmsKeyArn: network.kmsKeyArn,
      protectLogs: protect,
    });
    const dns = new ApiDns(this, "dns", {
      domainName: s.domainName,
      hostedZoneId: s.hostedZoneId,
      target: { dnsName: this.alb.lb.dnsName, zoneId: this.alb.lb.zoneId },
      healthPath: gateway.healthPath,
      healthCheckName: n.apiHealthCheck,
      manageRecord: primarySite,
    });

    const green = this.alb.greenTargetGroup;
    publishHandles(this, "loadbalancer", {
      certificateArn: certificate.arn,
      albArn: this.alb.lb.arn,
      albArnSuffix: this.alb.lb.arnSuffix,
      albDnsName: this.alb.lb.dnsName,
      albZoneId: this.alb.lb.zoneId,
      apiUrl: `https://${s.domainName}`,
      httpsListenerArn: this.alb.httpsListener.arn,
      testListenerArn: this.alb.testListener?.arn,
      targetGroupArn: this.alb.primaryTargetGroup.arn,
      targetGroupArnSuffix: this.alb.primaryTargetGroup.arnSuffix,
      targetGroupName: this.alb.primaryTargetGroup.name,
      greenTargetGroupArn: green?.arn,
      greenTargetGroupArnSuffix: green?.arnSuffix,
      greenTargetGroupName: green?.name,
      wafWebAclArn: this.waf.webAcl.arn,
      healthCheckId: dns.healthCheck.id,
    });
  }
}
