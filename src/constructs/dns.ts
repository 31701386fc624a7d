import { Construct } from "constructs";
import { TerraformIterator, Token } from "cdktf";
import { AcmCertificate } from "@cdktf/provider-aws/lib/acm-certificate";
import { AcmCertificateValidation } from "@cdktf/provider-aws/lib/acm-certificate-validation";
import { Route53HealthCheck } from "@cdktf/provider-aws/lib/route53-health-check";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";

export interface DnsValidatedCertificateProps {
  readonly domainName: string;
  /** The public hosted zone that serves the domain: the validation records go there. */
  readonly hostedZoneId: string;
  /** The certificate's Name tag. */
  readonly name: string;
  /**
   * Write the validation records. The DR environment's certificate (same domain, same account) is
   * validated by the records the primary's wrote: ACM asks for the same ones, and a second owner would
   * delete them on a drill's teardown while the primary's certificate still needs them to renew.
   * @default true
   */
  readonly createRecords?: boolean;
}

/**
 * An ACM certificate for the API's domain, validated by DNS records in the hosted zone. `arn` is the
 * validation's: whatever uses it (the listeners) waits until ACM has issued the certificate.
 */
export class DnsValidatedCertificate extends Construct {
  readonly certificate: AcmCertificate;
  readonly validation: AcmCertificateValidation;
  /** The issued certificate's ARN (available once validation has completed). */
  readonly arn: string;

  constructor(scope: Construct, id: string, props: DnsValidatedCertificateProps) {
    super(scope, id);
    this.certificate = new AcmCertificate(this, "certificate", {
      domainName: props.domainName,
      validationMethod: "DNS",
      tags: { Name: props.name },
      // A replacement must be issued and attached before the one in use is deleted.
      lifecycle: { createBeforeDestroy: true },
    });
    // One record per validation option, keyed by domain name: the keys are known at plan time even
    // though the record values are not (a plain index into the set would not plan).
    if (props.createRecords === false) {
      this.validation = new AcmCertificateValidation(this, "validation", { certificateArn: this.certificate.arn });
      this.arn = this.validation.certificateArn;
      return;
    }
    const options = TerraformIterator.fromComplexList(this.certificate.domainValidationOptions, "domain_name");
    const records = new Route53Record(this, "validation-record", {
      forEach: options,
      zoneId: props.hostedZoneId,
      name: options.getString("resource_record_name"),
      type: options.getString("resource_record_type"),
      records: [options.getString("resource_record_value")],
      ttl: 60,
      // A record left by an earlier certificate for the same name is taken over, not a failed apply.
      allowOverwrite: true,
    });
    this.validation = new AcmCertificateValidation(this, "validation", {
      certificateArn: this.certificate.arn,
      validationRecordFqdns: Token.asList(TerraformIterator.fromResources(records).pluckProperty("fqdn")),
    });
    this.arn = this.validation.certificateArn;
  }
}

export interface ApiDnsProps {
  readonly domainName: string;
  readonly hostedZoneId: string;
  /** The load balancer the domain points to. */
  readonly target: { readonly dnsName: string; readonly zoneId: string };
  /** Path of the public health endpoint. */
  readonly healthPath: string;
  /** The health check's Name tag. */
  readonly healthCheckName: string;
  /**
   * Point the domain at this load balancer. The DR environment does not: `make restore` switches the
   * record once the DR environment answers, and failing back puts it back (docs/disaster-recovery.md).
   * @default true
   */
  readonly manageRecord?: boolean;
  /**
   * Seconds between checks from each Route 53 checker (10 or 30).
   * @default 30
   */
  readonly healthCheckIntervalSeconds?: number;
  /**
   * Consecutive failures before the check is unhealthy.
   * @default 3
   */
  readonly failureThreshold?: number;
}

/**
 * The API's public name: an alias A record for the domain to the ALB (IPv4: the network is not
 * dual-stack; an AAAA alias joins it when it is), and a Route 53 health check of
 * `https://<domain><health path>` from Route 53's checkers around the world, the measure of the
 * guide's 99.95 % availability target (its metrics are published in us-east-1).
 */
export class ApiDns extends Construct {
  /** Undefined where the record is switched by hand (`manageRecord: false`). */
  readonly record?: Route53Record;
  readonly healthCheck: Route53HealthCheck;

  constructor(scope: Construct, id: string, props: ApiDnsProps) {
    super(scope, id);
    if (props.manageRecord ?? true) {
      this.record = new Route53Record(this, "alias_a", {
        zoneId: props.hostedZoneId,
        name: props.domainName,
        type: "A",
        alias: { name: props.target.dnsName, zoneId: props.target.zoneId, evaluateTargetHealth: true },
      });
    }
    this.healthCheck = new Route53HealthCheck(this, "health-check", {
      type: "HTTPS",
      fqdn: props.domainName,
      port: 443,
      resourcePath: props.healthPath,
      // Send the domain as SNI, so the ALB presents the API's certificate and the check verifies it.
      enableSni: true,
      requestInterval: props.healthCheckIntervalSeconds ?? 30,
      failureThreshold: props.failureThreshold ?? 3,
      measureLatency: true,
      tags: { Name: props.healthCheckName },
    });
  }
}
