/**
 * Guardrails of the edge: the load balancer, its listeners, the WAF in front of it, and S3 buckets.
 * Each rule reads the synthesized configuration, as Terraform will see it.
 */
import { ResourceView, Rule, StackView, Violation } from "./guardrails";
import { blocks, environmentOf, ofType, v } from "./rule-helpers";

/** Whether `value` is (or references an attribute of) the resource at `address`. */
const references = (value: unknown, r: ResourceView) => typeof value === "string" && value.includes(`${r.address}.`);

const LISTENERS = ["aws_lb_listener", "aws_alb_listener"];
/** Application load balancers (an `aws_lb` without a type is one). */
const albs = (s: StackView) => ofType(s, "aws_lb", "aws_alb").filter((r) => (r.config.load_balancer_type ?? "application") === "application");

/**
 * The design asks for the TLS 1.3 policy family (`ELBSecurityPolicy-TLS13-...`): TLS 1.3 with at most
 * TLS 1.2 as a fallback, never 1.0 or 1.1, and only forward-secret ciphers.
 */
export const TLS13_POLICY = /^ELBSecurityPolicy-TLS13-/;

export const listenerTls: Rule = {
  id: "alb-listener-tls",
  types: LISTENERS,
  description: "load balancer listeners speak HTTPS with a TLS 1.3 policy (ELBSecurityPolicy-TLS13-*), or HTTP only to redirect to HTTPS",
  check(s) {
    const out: Violation[] = [];
    for (const r of ofType(s, ...LISTENERS)) {
      const protocol = r.config.protocol ?? "HTTP";
      if (protocol === "HTTPS") {
        const policy = r.config.ssl_policy;
        if (typeof policy !== "string" || !TLS13_POLICY.test(policy)) {
          out.push(
            v(
              this.id,
              r,
              `ssl_policy is ${policy === undefined ? "unset (ELBSecurityPolicy-2016-08, which allows TLS 1.0)" : JSON.stringify(policy)}; expected a TLS 1.3 policy (${TLS13_POLICY})`,
            ),
          );
        }
      } else if (protocol !== "HTTP") {
        out.push(v(this.id, r, `protocol is ${JSON.stringify(protocol)}; expected HTTPS (or HTTP redirecting to HTTPS)`));
      }
    }
    return out;
  },
};

export const httpRedirects: Rule = {
  id: "alb-http-redirects",
  types: LISTENERS,
  description: "HTTP listeners only redirect permanently (301) to HTTPS",
  check(s) {
    return ofType(s, ...LISTENERS)
      .filter((r) => (r.config.protocol ?? "HTTP") === "HTTP")
      .flatMap((r) => {
        const actions = blocks<Record<string, unknown>>(r.config.default_action);
        const redirect = blocks<Record<string, unknown>>(actions[0]?.redirect as Record<string, unknown> | undefined)[0];
        const ok = actions.length === 1 && actions[0]!.type === "redirect" && redirect?.protocol === "HTTPS" && redirect?.status_code === "HTTP_301";
        return ok
          ? []
          : [v(this.id, r, "an HTTP listener whose default action is not a permanent (HTTP_301) redirect to HTTPS: plain HTTP would reach the targets")];
      });
  },
};

export const albHardened: Rule = {
  id: "alb-hardened",
  types: ["aws_lb", "aws_alb"],
  description: "application load balancers drop invalid header fields, write access logs, and have deletion protection in prod",
  check(s) {
    const prod = environmentOf(s) === "prod";
    return albs(s).flatMap((r) => {
      const problems: string[] = [];
      if (r.config.drop_invalid_header_fields !== true) problems.push("drop_invalid_header_fields is not true: malformed headers would reach the targets");
      const logs = blocks<Record<string, unknown>>(r.config.access_logs)[0];
      if (!logs || logs.enabled !== true || !logs.bucket) problems.push("access_logs are not enabled with a bucket: requests leave no evidence");
      if (prod && r.config.enable_deletion_protection !== true) problems.push("enable_deletion_protection is not true in prod");
      return problems.map((m) => v(this.id, r, m));
    });
  },
};

export const wafOnAlb: Rule = {
  id: "waf-association-logging",
  types: ["aws_lb", "aws_alb", "aws_wafv2_web_acl"],
  description: "every internet-facing load balancer is associated with a WAF web ACL, and every web ACL logs",
  check(s) {
    const associations = ofType(s, "aws_wafv2_web_acl_association");
    const logging = ofType(s, "aws_wafv2_web_acl_logging_configuration");
    const unprotected = albs(s)
      .filter((r) => r.config.internal !== true)
      .filter((lb) => !associations.some((a) => references(a.config.resource_arn, lb)))
      .map((lb) => v(this.id, lb, "no aws_wafv2_web_acl_association protects this internet-facing load balancer"));
    const silent = ofType(s, "aws_wafv2_web_acl")
      .filter((acl) => !logging.some((l) => references(l.config.resource_arn, acl) && blocks(l.config.log_destination_configs).length > 0))
      .map((acl) => v(this.id, acl, "no aws_wafv2_web_acl_logging_configuration logs this web ACL"));
    return [...unprotected, ...silent];
  },
};

/** The AWS managed rule groups the design requires on every web ACL: OWASP (common), known bad inputs, SQL injection, IP reputation. */
export const REQUIRED_MANAGED_RULE_GROUPS = [
  "AWSManagedRulesCommonRuleSet",
  "AWSManagedRulesKnownBadInputsRuleSet",
  "AWSManagedRulesSQLiRuleSet",
  "AWSManagedRulesAmazonIpReputationList",
] as const;

export const wafManagedRules: Rule = {
  id: "waf-managed-rules",
  types: ["aws_wafv2_web_acl"],
  description: `every WAF web ACL blocks with the AWS managed rule groups ${REQUIRED_MANAGED_RULE_GROUPS.join(", ")} and has a rate-based rule that blocks`,
  check(s) {
    return ofType(s, "aws_wafv2_web_acl").flatMap((acl) => {
      const rules = blocks<Record<string, unknown>>(acl.config.rule);
      const statementOf = (r: Record<string, unknown>) => blocks<Record<string, unknown>>(r.statement as Record<string, unknown>)[0] ?? {};
      const problems: string[] = [];
      for (const group of REQUIRED_MANAGED_RULE_GROUPS) {
        const rule = rules.find((r) => {
          const managed = blocks<Record<string, unknown>>(statementOf(r).managed_rule_group_statement as Record<string, unknown>)[0];
          return managed?.vendor_name === "AWS" && managed.name === group;
        });
        // override_action { count {} } would only count what the group matches: it must be { none {} }.
        const override = blocks<Record<string, unknown>>(rule?.override_action as Record<string, unknown>)[0];
        if (!rule) problems.push(`the AWS managed rule group ${group} is missing`);
        else if (!override || !("none" in override)) problems.push(`the rule ${String(rule.name)} (${group}) only counts: its override_action must be none`);
      }
      const rate = rules.filter((r) => statementOf(r).rate_based_statement !== undefined);
      if (rate.length === 0) problems.push("no rate-based rule: a single client could flood the service");
      else if (!rate.some((r) => "block" in (blocks<Record<string, unknown>>(r.action as Record<string, unknown>)[0] ?? {})))
        problems.push("no rate-based rule blocks (action block): the rate limit only counts");
      return problems.map((m) => v(this.id, acl, m));
    });
  },
};

/** Buckets that receive a load balancer's access logs: ELB log delivery supports SSE-S3 only. */
const albLogBuckets = (s: StackView) =>
  ofType(s, "aws_s3_bucket").filter((b) => albs(s).some((lb) => blocks<Record<string, unknown>>(lb.config.access_logs).some((l) => references(l.bucket, b))));

export const bucketEncrypted: Rule = {
  id: "bucket-encrypted",
  types: ["aws_s3_bucket"],
  description:
    "S3 buckets encrypt by default with a KMS key (SSE-KMS); a bucket that receives ALB access logs uses SSE-S3, the only encryption ELB log delivery supports",
  check(s) {
    const sse = ofType(s, "aws_s3_bucket_server_side_encryption_configuration");
    const forAlbLogs = new Set(albLogBuckets(s).map((b) => b.address));
    return ofType(s, "aws_s3_bucket").flatMap((b) => {
      const config = sse.find((c) => references(c.config.bucket, b));
      const rule = blocks<Record<string, unknown>>(config?.config.rule)[0];
      const byDefault = blocks<Record<string, unknown>>(rule?.apply_server_side_encryption_by_default as Record<string, unknown>)[0];
      const algorithm = byDefault?.sse_algorithm;
      if (forAlbLogs.has(b.address)) {
        return algorithm === "AES256" || algorithm === "aws:kms"
          ? []
          : [
              v(
                this.id,
                b,
                `default encryption is ${algorithm === undefined ? "not configured" : JSON.stringify(algorithm)}; expected AES256 (SSE-S3) for ALB access logs`,
              ),
            ];
      }
      if (!config) return [v(this.id, b, "no aws_s3_bucket_server_side_encryption_configuration: expected SSE-KMS with the environment's key")];
      if (!String(algorithm ?? "").startsWith("aws:kms") || !byDefault?.kms_master_key_id)
        return [
          v(
            this.id,
            b,
            `default encryption is ${JSON.stringify(algorithm)}${byDefault?.kms_master_key_id ? "" : " without kms_master_key_id"}; expected aws:kms with the environment's key`,
          ),
        ];
      return [];
    });
  },
};

const PUBLIC_ACCESS_BLOCKS = ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"];

/** Whether a statement (policy-document or IAM JSON form) denies requests that are not over TLS. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Terraform JSON, read key by key as Terraform reads it
function deniesPlainHttp(statement: any): boolean {
  if ((statement.effect ?? statement.Effect) !== "Deny") return false;
  const documentForm = blocks<{ test?: string; variable?: string; values?: string[] }>(statement.condition).some(
    (c) => c.test === "Bool" && c.variable === "aws:SecureTransport" && (c.values ?? []).map(String).includes("false"),
  );
  return documentForm || String(statement.Condition?.Bool?.["aws:SecureTransport"]) === "false";
}

export const bucketPrivateTlsOnly: Rule = {
  id: "bucket-private-tls-only",
  types: ["aws_s3_bucket"],
  description: "S3 buckets block every kind of public access and have a policy that denies requests without TLS",
  check(s) {
    const documents = new Map((s.dataSources ?? []).filter((d) => d.type === "aws_iam_policy_document").map((d) => [d.address, d]));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Terraform JSON, read key by key as Terraform reads it
    const statementsOf = (policy: unknown): any[] => {
      if (typeof policy !== "string") return [];
      const ref = /^\$\{(data\.aws_iam_policy_document\.[A-Za-z0-9_-]+)\.json\}$/.exec(policy);
      if (ref) return blocks(documents.get(ref[1]!)?.config.statement);
      try {
        return blocks(JSON.parse(policy).Statement);
      } catch {
        return [];
      }
    };
    return ofType(s, "aws_s3_bucket").flatMap((b) => {
      const problems: string[] = [];
      const block = ofType(s, "aws_s3_bucket_public_access_block").find((p) => references(p.config.bucket, b));
      const open = block ? PUBLIC_ACCESS_BLOCKS.filter((k) => block.config[k] !== true) : PUBLIC_ACCESS_BLOCKS;
      if (open.length > 0) problems.push(`public access is not blocked (${open.join(", ")} not true${block ? "" : ": no aws_s3_bucket_public_access_block"})`);
      const policies = ofType(s, "aws_s3_bucket_policy").filter((p) => references(p.config.bucket, b));
      if (!policies.some((p) => statementsOf(p.config.policy).some(deniesPlainHttp))) {
        problems.push("no bucket policy denies requests without TLS (Deny where aws:SecureTransport is false)");
      }
      return problems.map((m) => v(this.id, b, m));
    });
  },
};

export const EDGE_RULES: readonly Rule[] = [listenerTls, httpRedirects, albHardened, wafOnAlb, wafManagedRules, bucketPrivateTlsOnly, bucketEncrypted];
