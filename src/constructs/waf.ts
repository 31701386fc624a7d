import { Construct } from "constructs";
import { Wafv2WebAcl, Wafv2WebAclRule } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { Wafv2WebAclLoggingConfiguration } from "@cdktf/provider-aws/lib/wafv2-web-acl-logging-configuration";
import { EncryptedLogGroup } from "./log-group";

/**
 * The requests the WAF logs: blocked, counted (a rule in count mode), and counted by a rule overridden to
 * count inside a managed group (EXCLUDED_AS_COUNT).
 */
export const WAF_LOGGED_ACTIONS = ["BLOCK", "COUNT", "EXCLUDED_AS_COUNT"] as const;

/**
 * The AWS managed rule groups, in evaluation order: known-bad source addresses first, then the OWASP
 * top 10 (core rule set), known bad inputs (Log4j, Java deserialization, ...) and SQL injection.
 */
export const MANAGED_RULE_GROUPS = [
  { name: "AWSManagedRulesAmazonIpReputationList", priority: 10 },
  { name: "AWSManagedRulesCommonRuleSet", priority: 30 },
  { name: "AWSManagedRulesKnownBadInputsRuleSet", priority: 40 },
  { name: "AWSManagedRulesSQLiRuleSet", priority: 50 },
] as const;
/** The rate rule runs after the reputation list, before the costlier inspection of the rule groups. */
const RATE_RULE = { name: "RateLimitPerIp", priority: 20 } as const;
/** First and cheapest: requests for any host but the API's never reach the other rules or the ALB's listeners. */
export const HOST_RULE = { name: "OnlyTheApiHost", priority: 5 } as const;

export interface WafProps {
  /** The web ACL's name (and its own metric's). */
  readonly name: string;
  /**
   * The API's host name: requests for any other host (the ALB's own DNS name, bare IPs, scanners) are
   * answered 404. The listeners forward everything (CodeDeploy owns their default actions), so this is
   * the place that refuses other hosts.
   */
  readonly hostName: string;
  /** What the web ACL protects: the ALB's ARN. */
  readonly resourceArn: string;
  /** Most requests one client IP may send per window before it is blocked. */
  readonly rateLimit: number;
  /** The window the limit counts over: 60, 120, 300 or 600 seconds. */
  readonly rateWindowSeconds: number;
  /** The rate rule's CloudWatch metric (the guide samples `RateLimitMetric`). */
  readonly rateLimitMetricName: string;
  /** `aws-waf-logs-...`: WAF logs only to groups with that prefix. */
  readonly logGroupName: string;
  readonly kmsKeyArn: string;
  /**
   * Headers whose values never reach the logs: credentials and sessions.
   * @default ["authorization", "cookie"]
   */
  readonly redactedHeaders?: readonly string[];
  /**
   * Keep the log group (audit evidence) when the stack is destroyed (prod, staging).
   * @default false
   */
  readonly protectLogs?: boolean;
}

/** Sampled requests and CloudWatch metrics on, for a rule or the web ACL. */
const visible = (metricName: string) => ({ cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });

/**
 * The regional WAF web ACL in front of the ALB: the AWS managed rule groups, a rate limit per client IP,
 * every rule sampled and measured, and every request logged (credentials redacted) to an encrypted log
 * group kept as audit evidence.
 */
export class Waf extends Construct {
  readonly webAcl: Wafv2WebAcl;
  readonly logGroup: EncryptedLogGroup;

  constructor(scope: Construct, id: string, props: WafProps) {
    super(scope, id);
    // `statement` is untyped in the provider bindings: it is written as Terraform reads it (snake_case).
    const managed: Wafv2WebAclRule[] = MANAGED_RULE_GROUPS.map((g) => ({
      name: g.name,
      priority: g.priority,
      overrideAction: { none: {} },
      statement: { managed_rule_group_statement: { name: g.name, vendor_name: "AWS" } },
      visibilityConfig: visible(g.name),
    }));
    const rate: Wafv2WebAclRule = {
      name: RATE_RULE.name,
      priority: RATE_RULE.priority,
      action: { block: {} },
      statement: { rate_based_statement: { limit: props.rateLimit, aggregate_key_type: "IP", evaluation_window_sec: props.rateWindowSeconds } },
      visibilityConfig: visible(props.rateLimitMetricName),
    };
    // `Host`, or HTTP/2's `:authority`, which WAF inspects as `host`. Clients name the port when it is not
    // 443 (the test listener's 8443), hence the second form.
    const host = (positional_constraint: string, search_string: string) => ({
      byte_match_statement: {
        field_to_match: { single_header: { name: "host" } },
        positional_constraint,
        search_string,
        text_transformation: [{ priority: 0, type: "LOWERCASE" }],
      },
    });
    const hostName = props.hostName.toLowerCase();
    const onlyTheApiHost: Wafv2WebAclRule = {
      name: HOST_RULE.name,
      priority: HOST_RULE.priority,
      action: { block: { customResponse: { responseCode: 404 } } },
      statement: { not_statement: { statement: { or_statement: { statement: [host("EXACTLY", hostName), host("STARTS_WITH", `${hostName}:`)] } } } },
      visibilityConfig: visible(HOST_RULE.name),
    };
    this.webAcl = new Wafv2WebAcl(this, "web-acl", {
      name: props.name,
      description: "AccessWeaver API: the API's host only, AWS managed rules and a rate limit per client IP",
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      rule: [onlyTheApiHost, ...managed, rate].sort((a, b) => a.priority - b.priority),
      visibilityConfig: visible(props.name),
      tags: { Name: props.name },
    });
    new Wafv2WebAclAssociation(this, "association", { resourceArn: props.resourceArn, webAclArn: this.webAcl.arn });

    this.logGroup = new EncryptedLogGroup(this, "logs", {
      name: props.logGroupName,
      kmsKeyArn: props.kmsKeyArn,
      logClass: "audit",
      protect: props.protectLogs ?? false,
    });
    new Wafv2WebAclLoggingConfiguration(this, "logging", {
      resourceArn: this.webAcl.arn,
      logDestinationConfigs: [this.logGroup.logGroup.arn],
      redactedFields: (props.redactedHeaders ?? ["authorization", "cookie"]).map((name) => ({ singleHeader: { name } })),
      // Only what the WAF acted on, or would have: every allowed request is already in the ALB's access
      // logs, and at the guide's 10M requests a day logging them all would be the largest log bill.
      loggingFilter: {
        defaultBehavior: "DROP",
        filter: [{ behavior: "KEEP", requirement: "MEETS_ANY", condition: WAF_LOGGED_ACTIONS.map((action) => ({ actionCondition: { action } })) }],
      },
    });
  }
}
