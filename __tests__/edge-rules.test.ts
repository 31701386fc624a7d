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
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { Wafv2WebAclRule } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import {
  REQUIRED_MANAGED_RULE_GROUPS,
  albHardened,
  bucketEncrypted,
  bucketPrivateTlsOnly,
  httpRedirects,
  listenerTls,
  wafManagedRules,
  wafOnAlb,
} from "../src/policy/edge-rules";
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
  new LbListener(s, id, {
    loadBalancerArn: "arn:lb",
    port: 443,
    protocol: "HTTPS",
    certificateArn: "arn:c",
    ...(sslPolicy ? { sslPolicy } : {}),
    defaultAction: [{ type: "fixed-response", fixedResponse: { contentType: "text/plain", statusCode: "404" } }],
  });

describe("edge guardrails reject bad resources", () => {
  it("alb-listener-tls: HTTPS without a policy, with one that allows TLS 1.0, a TLS 1.2 policy, and a TCP listener", () => {
    const s = stackWith((st) => {
      https(st, "unset");
      https(st, "legacy", "ELBSecurityPolicy-2016-08");
      https(st, "tls13", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06");
      https(st, "tls12", "ELBSecurityPolicy-TLS-1-2-Ext-2018-06");
      new LbListener(st, "tcp", { loadBalancerArn: "arn:lb", port: 22, protocol: "TCP", defaultAction: [{ type: "forward", targetGroupArn: "arn:tg" }] });
    });
    expect(check(listenerTls, s)).toEqual([
      "aws_lb_listener.unset: ssl_policy is unset (ELBSecurityPolicy-2016-08, which allows TLS 1.0); expected a TLS 1.3 policy (/^ELBSecurityPolicy-TLS13-/)",
      'aws_lb_listener.legacy: ssl_policy is "ELBSecurityPolicy-2016-08"; expected a TLS 1.3 policy (/^ELBSecurityPolicy-TLS13-/)',
      'aws_lb_listener.tls12: ssl_policy is "ELBSecurityPolicy-TLS-1-2-Ext-2018-06"; expected a TLS 1.3 policy (/^ELBSecurityPolicy-TLS13-/)',
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
      new Wafv2WebAclLoggingConfiguration(st, "logging", {
        resourceArn: logged.arn,
        logDestinationConfigs: ["arn:aws:logs:eu-west-1:1:log-group:aws-waf-logs-x"],
      });
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
    const denyHttp = JSON.stringify({
      Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }],
    });
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

  it("waf-managed-rules: a group missing, a group that only counts, no rate rule, a rate rule that only counts", () => {
    const visibilityConfig = { cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: "m" };
    const managed = (name: string, priority: number, count = false): Wafv2WebAclRule => ({
      name,
      priority,
      visibilityConfig,
      overrideAction: count ? { count: {} } : { none: {} },
      // `statement` is untyped in the bindings: written as Terraform reads it, as the WAF construct does.
      statement: { managed_rule_group_statement: { vendor_name: "AWS", name } },
    });
    const rate = (priority: number, block: boolean): Wafv2WebAclRule => ({
      name: "rate",
      priority,
      visibilityConfig,
      action: block ? { block: {} } : { count: {} },
      statement: { rate_based_statement: { limit: 2000, aggregate_key_type: "IP" } },
    });
    const acl = (st: TerraformStack, id: string, rule: Wafv2WebAclRule[]) =>
      new Wafv2WebAcl(st, id, { name: id, scope: "REGIONAL", defaultAction: { allow: {} }, visibilityConfig, rule });
    const all = REQUIRED_MANAGED_RULE_GROUPS.map((g, i) => managed(g, i + 1));
    const s = stackWith((st) => {
      acl(st, "good", [...all, rate(10, true)]);
      acl(st, "nosqli", [...all.filter((r) => r.name !== "AWSManagedRulesSQLiRuleSet"), rate(10, true)]);
      acl(st, "counting", [...all.slice(1), managed("AWSManagedRulesCommonRuleSet", 9, true), rate(10, true)]);
      acl(st, "norate", all);
      acl(st, "countrate", [...all, rate(10, false)]);
    });
    expect(check(wafManagedRules, s)).toEqual([
      "aws_wafv2_web_acl.nosqli: the AWS managed rule group AWSManagedRulesSQLiRuleSet is missing",
      "aws_wafv2_web_acl.counting: the rule AWSManagedRulesCommonRuleSet (AWSManagedRulesCommonRuleSet) only counts: its override_action must be none",
      "aws_wafv2_web_acl.norate: no rate-based rule: a single client could flood the service",
      "aws_wafv2_web_acl.countrate: no rate-based rule blocks (action block): the rate limit only counts",
    ]);
  });

  it("bucket-encrypted: no default encryption, SSE-S3 on a data bucket, KMS without a key; SSE-S3 where ALB access logs land", () => {
    const sse = (st: TerraformStack, b: S3Bucket, sseAlgorithm: string, kmsMasterKeyId?: string) =>
      new S3BucketServerSideEncryptionConfigurationA(st, `${b.friendlyUniqueId}_sse`, {
        bucket: b.id,
        rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm, ...(kmsMasterKeyId ? { kmsMasterKeyId } : {}) } }],
      });
    const s = stackWith((st) => {
      new S3Bucket(st, "bare", { bucket: "bare" });
      sse(st, new S3Bucket(st, "s3managed", { bucket: "s3managed" }), "AES256");
      sse(st, new S3Bucket(st, "keyless", { bucket: "keyless" }), "aws:kms");
      sse(st, new S3Bucket(st, "good", { bucket: "good" }), "aws:kms", "${data.terraform_remote_state.network.outputs.kms_key_arn}");
      const albLogs = new S3Bucket(st, "alblogs", { bucket: "alblogs" });
      sse(st, albLogs, "AES256");
      new Lb(st, "alb", { ...GOOD_ALB, accessLogs: { bucket: albLogs.bucket, enabled: true } });
      const unencryptedAlbLogs = new S3Bucket(st, "alblogs2", { bucket: "alblogs2" });
      new Lb(st, "alb2", { ...GOOD_ALB, accessLogs: { bucket: unencryptedAlbLogs.bucket, enabled: true } });
    });
    expect(check(bucketEncrypted, s)).toEqual([
      "aws_s3_bucket.bare: no aws_s3_bucket_server_side_encryption_configuration: expected SSE-KMS with the environment's key",
      'aws_s3_bucket.s3managed: default encryption is "AES256" without kms_master_key_id; expected aws:kms with the environment\'s key',
      'aws_s3_bucket.keyless: default encryption is "aws:kms" without kms_master_key_id; expected aws:kms with the environment\'s key',
      "aws_s3_bucket.alblogs2: default encryption is not configured; expected AES256 (SSE-S3) for ALB access logs",
    ]);
  });

  it("are part of the baseline: a prod ALB listener on TLS 1.0 fails the synth", () => {
    const s = stackWith((st) => https(st, "legacy", "ELBSecurityPolicy-2016-08"));
    Guardrails.attach(s, BASELINE_RULES, "enforce");
    expect(() => (s.node.scope as App).synth()).toThrow(GuardrailError);
    expect(() => (s.node.scope as App).synth()).toThrow(/\[alb-listener-tls\] aws_lb_listener\.legacy: ssl_policy is "ELBSecurityPolicy-2016-08"/);
  });
});
