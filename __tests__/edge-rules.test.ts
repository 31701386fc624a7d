// The edge guardrails, each shown rejecting a bad resource and passing a good one.
import { App, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Lb, LbConfig } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { Wafv2WebAcl } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { Wafv2WebAclLoggingConfiguration } from "@cdktf/provider-aws/lib/wafv2-web-acl-logging-configuration";
import { LogBucket } from "../src/constructs/log-bucket";
import { albHardened, bucketPrivateTlsOnly, httpRedirects, listenerTls, wafOnAlb } from "../src/policy/edge-rules";
import { GuardrailError, Guardrails, Rule, evaluate, viewOf } from "../src/policy/guardrails";
import { BASELINE_RULES } from "../src/policy/rules";
import { defaultTags } from "../src/naming";
import { tempDir } from "./support/config";

const TAGS = defaultTags({ env: "prod", phase: "loadbalancer", costCenter: "CC-42", owner: "platform" });

function stackWith(add: (s: TerraformStack) => void, name = "accessweaver-prod-loadbalancer"): TerraformStack {
  const s = new TerraformStack(new App({ outdir: tempDir() }), name);
  new AwsProvider(s, "aws", { region: "eu-west-1", defaultTags: [{ tags: TAGS }] });
  add(s);
  return s;
}
const check = (rule: Rule, s: TerraformStack) => evaluate(viewOf(s.node.id, s.toTerraform()), [rule]).map((x) => `${x.address}: ${x.message}`);

const GOOD_ALB: LbConfig = { name: "a", dropInvalidHeaderFields: true, enableDeletionProtection: true, accessLogs: { bucket: "logs", enabled: true } };
const https = (s: TerraformStack, id: string, sslPolicy?: string) =>
  new LbListener(s, id, { loadBalancerArn: "arn:lb", port: 443, protocol: "HTTPS", certificateArn: "arn:c", ...(sslPolicy ? { sslPolicy } : {}), defaultAction: [{ type: "fixed-response", fixedResponse: { contentType: "text/plain", statusCode: "404" } }] });

describe("edge guardrails reject bad resources", () => {
  it("alb-listener-tls: HTTPS without a policy, with one that allows TLS 1.0, and a TCP listener", () => {
    const s = stackWith((st) => {
      https(st, "unset");
      https(st, "legacy", "ELBSecurityPolicy-2016-08");
      https(st, "tls13", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06");
      https(st, "tls12", "ELBSecurityPolicy-TLS-1-2-Ext-2018-06");
      new LbListener(st, "tcp", { loadBalancerArn: "arn:lb", port: 22, protocol: "TCP", defaultAction: [{ type: "forward", targetGroupArn: "arn:tg" }] });
    });
    expect(check(listenerTls, s)).toEqual([
      "aws_lb_listener.unset: ssl_policy is unset (ELBSecurityPolicy-2016-08, which allows TLS 1.0); expected a TLS 1.2+ policy (/^ELBSecurityPolicy-(TLS13-|TLS-1-2-|FS-1-2-)/)",
      'aws_lb_listener.legacy: ssl_policy is "ELBSecurityPolicy-2016-08"; expected a TLS 1.2+ policy (/^ELBSecurityPolicy-(TLS13-|TLS-1-2-|FS-1-2-)/)',
      'aws_lb_listener.tcp: protocol is "TCP"; expected HTTPS (or HTTP redirecting to HTTPS)',
    ]);
  });

  it("alb-http-redirects: an HTTP listener that forwards, or redirects temporarily", () => {
    const redirect = (statusCode: string) => [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode } }];
    const s = stackWith((st) => {
      new LbListener(st, "forwards", { loadBalancerArn: "arn:lb", port: 80, protocol: "HTTP", defaultAction: [{ type: "forward", targetGroupArn: "arn:tg" }] });
      new LbListener(st, "temporary", { loadBalancerArn: "arn:lb", port: 80, protocol: "HTTP", defaultAction: redirect("HTTP_302") });
      new LbListener(st, "permanent", { loadBalancerArn: "arn:lb", port: 80, protocol: "HTTP", defaultAction: redirect("HTTP_301") });
    });
    expect(check(httpRedirects, s).map((m) => m.split(":")[0])).toEqual(["aws_lb_listener.forwards", "aws_lb_listener.temporary"]);
  });

  it("alb-hardened: invalid headers passed, no access logs, and no deletion protection in prod (dev may go without it)", () => {
    const albs = (st: TerraformStack) => {
      new Lb(st, "headers", { ...GOOD_ALB, dropInvalidHeaderFields: false });
      new Lb(st, "nologs", { ...GOOD_ALB, accessLogs: { bucket: "logs", enabled: false } });
      new Lb(st, "unprotected", { ...GOOD_ALB, enableDeletionProtection: false });
      new Lb(st, "good", GOOD_ALB);
      new Lb(st, "network", { name: "n", loadBalancerType: "network" });
    };
    expect(check(albHardened, stackWith(albs))).toEqual([
      "aws_lb.headers: drop_invalid_header_fields is not true: malformed headers would reach the targets",
      "aws_lb.nologs: access_logs are not enabled with a bucket: requests leave no evidence",
      "aws_lb.unprotected: enable_deletion_protection is not true in prod",
    ]);
    expect(check(albHardened, stackWith(albs, "accessweaver-dev-loadbalancer")).map((m) => m.split(":")[0])).toEqual(["aws_lb.headers", "aws_lb.nologs"]);
  });

  it("waf-association-logging: an internet-facing ALB without a web ACL, and a web ACL that does not log", () => {
    const s = stackWith((st) => {
      const visibility = { cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: "m" };
      const logged = new Wafv2WebAcl(st, "logged", { name: "l", scope: "REGIONAL", defaultAction: { allow: {} }, visibilityConfig: visibility });
      new Wafv2WebAcl(st, "silent", { name: "s", scope: "REGIONAL", defaultAction: { allow: {} }, visibilityConfig: visibility });
      new Wafv2WebAclLoggingConfiguration(st, "logging", { resourceArn: logged.arn, logDestinationConfigs: ["arn:aws:logs:eu-west-1:1:log-group:aws-waf-logs-x"] });
      const guarded = new Lb(st, "guarded", GOOD_ALB);
      new Lb(st, "bare", GOOD_ALB);
      new Lb(st, "internal", { ...GOOD_ALB, internal: true });
      new Wafv2WebAclAssociation(st, "association", { resourceArn: guarded.arn, webAclArn: logged.arn });
    });
    expect(check(wafOnAlb, s)).toEqual([
      "aws_lb.bare: no aws_wafv2_web_acl_association protects this internet-facing load balancer",
      "aws_wafv2_web_acl.silent: no aws_wafv2_web_acl_logging_configuration logs this web ACL",
    ]);
  });

  it("bucket-private-tls-only: a bucket with a partial public access block, one without, one whose policy allows plain HTTP", () => {
    const denyHttp = JSON.stringify({ Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }] });
    const allowAll = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*" }] });
    const all = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };
    const s = stackWith((st) => {
      const partial = new S3Bucket(st, "partial", { bucket: "partial" });
      new S3BucketPublicAccessBlock(st, "partial_block", { bucket: partial.id, ...all, restrictPublicBuckets: false });
      new S3BucketPolicy(st, "partial_policy", { bucket: partial.id, policy: denyHttp });
      new S3Bucket(st, "unblocked", { bucket: "unblocked" });
      const plain = new S3Bucket(st, "plain", { bucket: "plain" });
      new S3BucketPublicAccessBlock(st, "plain_block", { bucket: plain.id, ...all });
      new S3BucketPolicy(st, "plain_policy", { bucket: plain.id, policy: allowAll });
      // The log bucket construct passes: its policy is a local policy document.
      new LogBucket(st, "logs", { name: "logs-111122223333", accountId: "111122223333", partition: "aws", logClass: "audit", writers: [] });
    });
    expect(check(bucketPrivateTlsOnly, s)).toEqual([
      "aws_s3_bucket.partial: public access is not blocked (restrict_public_buckets not true)",
      "aws_s3_bucket.unblocked: public access is not blocked (block_public_acls, block_public_policy, ignore_public_acls, restrict_public_buckets not true: no aws_s3_bucket_public_access_block)",
      "aws_s3_bucket.unblocked: no bucket policy denies requests without TLS (Deny where aws:SecureTransport is false)",
      "aws_s3_bucket.plain: no bucket policy denies requests without TLS (Deny where aws:SecureTransport is false)",
    ]);
  });

  it("are part of the baseline: a prod ALB listener on TLS 1.0 fails the synth", () => {
    const s = stackWith((st) => https(st, "legacy", "ELBSecurityPolicy-2016-08"));
    Guardrails.attach(s, BASELINE_RULES, "enforce");
    expect(() => (s.node.scope as App).synth()).toThrow(GuardrailError);
    expect(() => (s.node.scope as App).synth()).toThrow(/\[alb-listener-tls\] aws_lb_listener\.legacy: ssl_policy is "ELBSecurityPolicy-2016-08"/);
  });
});
