import { Construct } from "constructs";
import { ITerraformDependable } from "cdktf";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener, LbListenerConfig } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { ServiceSpec } from "../config/services";
import { DeploymentSlot, Names } from "../naming";

/**
 * TLS 1.3 first, TLS 1.2 only with forward-secret AEAD ciphers (ECDHE with AES-GCM or ChaCha20), no
 * TLS 1.0/1.1, no CBC or RSA key exchange. TLS 1.3 only (`ELBSecurityPolicy-TLS13-1-3-2021-06`) would
 * shut out the tenants' clients that still speak only TLS 1.2 (older JVMs, proxies, SDKs); this policy
 * keeps them while every connection is forward secret.
 */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06";
/** The ALB writes its access logs under this key prefix of its bucket. */
export const ALB_LOG_PREFIX = "alb";
/** The port of the blue/green test listener (HTTPS, reachable from the VPC only). */
export const TEST_LISTENER_PORT = 8443;

export interface AlbProps {
  readonly names: Names;
  readonly vpcId: string;
  /** Public subnets, one per zone: the ALB has a node in every zone. */
  readonly subnetIds: string[];
  /** The network phase's ALB security group (the world on 80/443, the services on the app port). */
  readonly securityGroupId: string;
  /** A validated certificate's ARN: referencing it makes the listeners wait for the validation. */
  readonly certificateArn: string;
  /** The service behind the ALB (the API gateway): its port and health path. */
  readonly service: ServiceSpec;
  /** `blue-green`: two target groups, the production listener on blue, a test listener on green. */
  readonly releases: "blue-green" | "rolling";
  /** Where the test listener may be reached from: the VPC's CIDR. */
  readonly vpcCidr: string;
  /** The access-log bucket, and what must exist before the ALB may write to it (its policy). */
  readonly accessLogs: { readonly bucket: string; readonly ready: ITerraformDependable[] };
  /** Refuse deletion through the API (prod, staging). */
  readonly deletionProtection: boolean;
  /** @default TLS_POLICY */
  readonly sslPolicy?: string;
  /**
   * Seconds an idle connection stays open. The API answers in milliseconds; 60 s covers slow
   * administrative calls. The gateway's HTTP keep-alive must be longer, or the ALB reuses
   * connections the gateway has closed (502).
   * @default 60
   */
  readonly idleTimeoutSeconds?: number;
  /**
   * Seconds a deregistered task keeps its in-flight requests: longer than the slowest request,
   * short enough that a release does not wait the AWS default of 300 s per task.
   * @default 30
   */
  readonly deregistrationDelaySeconds?: number;
}

/**
 * The internet-facing Application Load Balancer (the guide's `module.alb`): HTTPS on 443 with a TLS 1.3
 * policy, HTTP on 80 redirected permanently to HTTPS, invalid header fields dropped, the strictest
 * desync mitigation, access logs, and the gateway's target groups. The listeners route by their
 * default action only: CodeDeploy's ECS blue/green (services phase) reroutes a listener by rewriting its
 * default action, the shape the AWS documentation describes, so with blue/green releases the
 * production listener forwards to blue and a test listener (VPC only) to green, and Terraform ignores
 * later changes of those actions. A host-header rule forwarding to blue would be left behind by a
 * deployment that only rewrites the default action; hosts other than the API's are refused by the WAF.
 */
export class Alb extends Construct {
  readonly lb: Lb;
  readonly httpsListener: LbListener;
  readonly testListener?: LbListener;
  /** The group the service starts attached to: blue with blue/green releases, the only one otherwise. */
  readonly primaryTargetGroup: LbTargetGroup;
  readonly greenTargetGroup?: LbTargetGroup;

  constructor(scope: Construct, id: string, props: AlbProps) {
    super(scope, id);
    const n = props.names;
    const sslPolicy = props.sslPolicy ?? TLS_POLICY;
    const blueGreen = props.releases === "blue-green";

    this.lb = new Lb(this, "alb", {
      name: n.alb,
      internal: false,
      loadBalancerType: "application",
      ipAddressType: "ipv4",
      subnets: props.subnetIds,
      securityGroups: [props.securityGroupId],
      dropInvalidHeaderFields: true,
      desyncMitigationMode: "strictest",
      idleTimeout: props.idleTimeoutSeconds ?? 60,
      enableDeletionProtection: props.deletionProtection,
      // If the WAF cannot be reached, refuse requests rather than pass them uninspected.
      enableWafFailOpen: false,
      accessLogs: { bucket: props.accessLogs.bucket, prefix: ALB_LOG_PREFIX, enabled: true },
      tags: { Name: n.alb },
      // ELB checks that it may write to the bucket when logging is turned on.
      dependsOn: props.accessLogs.ready,
    });

    const targetGroup = (slot?: DeploymentSlot) =>
      new LbTargetGroup(this, slot ? `target-group_${slot}` : "target-group", {
        name: n.targetGroup(props.service.name, slot),
        vpcId: props.vpcId,
        targetType: "ip", // Fargate tasks register by IP
        protocol: "HTTP", // TLS ends at the ALB; the hop to the task stays in the VPC
        port: props.service.port,
        deregistrationDelay: String(props.deregistrationDelaySeconds ?? 30),
        healthCheck: {
          enabled: true,
          protocol: "HTTP",
          port: "traffic-port",
          path: props.service.healthPath,
          matcher: "200",
          interval: 15,
          timeout: 5,
          healthyThreshold: 2,
          unhealthyThreshold: 3,
        },
        tags: { Name: n.targetGroup(props.service.name, slot), Service: props.service.name, ...(slot ? { Slot: slot } : {}) },
      });
    this.primaryTargetGroup = targetGroup(blueGreen ? "blue" : undefined);
    this.greenTargetGroup = blueGreen ? targetGroup("green") : undefined;
    // CodeDeploy moves these actions between blue and green; Terraform must not move them back.
    const switchedByCodeDeploy = (attribute: string) => (blueGreen ? { lifecycle: { ignoreChanges: [attribute] } } : {});

    new LbListener(this, "listener_http", {
      loadBalancerArn: this.lb.arn,
      port: 80,
      protocol: "HTTP",
      defaultAction: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
      tags: { Name: n.albListener("http") },
    });
    const https = (listener: "https" | "test", port: number, defaultAction: LbListenerConfig["defaultAction"], extra: object = {}) =>
      new LbListener(this, `listener_${listener}`, {
        loadBalancerArn: this.lb.arn,
        port,
        protocol: "HTTPS",
        sslPolicy,
        certificateArn: props.certificateArn,
        defaultAction,
        tags: { Name: n.albListener(listener) },
        ...extra,
      });
    this.httpsListener = https("https", 443, [{ type: "forward", targetGroupArn: this.primaryTargetGroup.arn }], switchedByCodeDeploy("default_action"));
    if (!this.greenTargetGroup) return;

    this.testListener = https(
      "test",
      TEST_LISTENER_PORT,
      [{ type: "forward", targetGroupArn: this.greenTargetGroup.arn }],
      switchedByCodeDeploy("default_action"),
    );
    new VpcSecurityGroupIngressRule(this, "security-group_in_test-listener_from_vpc", {
      securityGroupId: props.securityGroupId,
      ipProtocol: "tcp",
      fromPort: TEST_LISTENER_PORT,
      toPort: TEST_LISTENER_PORT,
      cidrIpv4: props.vpcCidr,
      description: "Blue/green test listener, from inside the VPC only",
    });
  }
}
