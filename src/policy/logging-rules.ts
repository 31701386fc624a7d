/**
 * Guardrails of the evidence: flow logs and access logs exist, land where they are kept long enough,
 * and log buckets keep their objects as long as their class requires. Log groups' own encryption and
 * retention are the baseline's `log-group-encrypted-retained`; the audit trail is the observability
 * phase's concern.
 */
import { AUDIT_LOG_RETENTION_DAYS, LOG_CLASSES, LogClass, MIN_RETENTION_DAYS } from "../config/profiles";
import { LOG_CLASS_TAG } from "../constructs/log-group";
import { ResourceView, Rule, StackView, Violation } from "./guardrails";
import { blocks, ofType, v } from "./rule-helpers";

/** Whether `value` is (or references an attribute of) the resource at `address`. */
const references = (value: unknown, r: ResourceView) => typeof value === "string" && value.includes(`${r.address}.`);
const logClassOf = (r: ResourceView): LogClass | undefined => {
  const declared: unknown = r.config.tags?.[LOG_CLASS_TAG];
  return (LOG_CLASSES as readonly unknown[]).includes(declared) ? (declared as LogClass) : undefined;
};

/**
 * Where a log goes, as the rules need it: the log group or bucket of this stack it names, and whether
 * that destination is declared audit evidence (then its own rule keeps it three years).
 */
function auditDestination(s: StackView, destination: unknown): { found?: ResourceView; audit: boolean } {
  const found = ofType(s, "aws_cloudwatch_log_group", "aws_s3_bucket").find((d) => references(destination, d));
  return { found, audit: found !== undefined && logClassOf(found) === "audit" };
}

export const flowLogsKept: Rule = {
  id: "flow-logs-retained",
  types: ["aws_vpc", "aws_flow_log"],
  description: `every VPC has a flow log of ALL traffic delivered to a log group or bucket of the stack declared audit evidence (${LOG_CLASS_TAG} = audit, kept ${AUDIT_LOG_RETENTION_DAYS} days)`,
  check(s) {
    const flowLogs = ofType(s, "aws_flow_log");
    const out: Violation[] = [];
    for (const vpc of ofType(s, "aws_vpc")) {
      const mine = flowLogs.filter((f) => references(f.config.vpc_id, vpc));
      if (mine.length === 0) out.push(v(this.id, vpc, "no aws_flow_log records this VPC's traffic"));
    }
    for (const f of flowLogs) {
      if ((f.config.traffic_type ?? "ALL") !== "ALL")
        out.push(v(this.id, f, `traffic_type is ${JSON.stringify(f.config.traffic_type)}; expected ALL (rejected and accepted traffic)`));
      const d = auditDestination(s, f.config.log_destination ?? f.config.log_group_name);
      if (!d.found)
        out.push(
          v(
            this.id,
            f,
            `log_destination ${JSON.stringify(f.config.log_destination)} is not a log group or bucket of this stack, so its retention cannot be checked`,
          ),
        );
      else if (!d.audit)
        out.push(
          v(
            this.id,
            f,
            `delivers to ${d.found.address}, which is not declared audit evidence (${LOG_CLASS_TAG} = audit): flow logs are kept ${AUDIT_LOG_RETENTION_DAYS} days`,
          ),
        );
    }
    return out;
  },
};

export const accessLogsKept: Rule = {
  id: "access-logs-retained",
  types: ["aws_lb", "aws_alb", "aws_wafv2_web_acl_logging_configuration"],
  description: `the ALB's access logs and the WAF's request logs go to a bucket or log group of the stack declared audit evidence (kept ${AUDIT_LOG_RETENTION_DAYS} days)`,
  check(s) {
    const out: Violation[] = [];
    for (const lb of ofType(s, "aws_lb", "aws_alb")) {
      const logs = blocks<Record<string, unknown>>(lb.config.access_logs)[0];
      // Whether they are on at all is alb-hardened's concern.
      if (!logs || logs.enabled !== true) continue;
      const d = auditDestination(s, logs.bucket);
      if (!d.found)
        out.push(v(this.id, lb, `access_logs.bucket ${JSON.stringify(logs.bucket)} is not a bucket of this stack, so its retention cannot be checked`));
      else if (!d.audit) out.push(v(this.id, lb, `access logs go to ${d.found.address}, which is not declared audit evidence (${LOG_CLASS_TAG} = audit)`));
    }
    for (const l of ofType(s, "aws_wafv2_web_acl_logging_configuration")) {
      for (const destination of blocks<string>(l.config.log_destination_configs)) {
        const d = auditDestination(s, destination);
        if (!d.found)
          out.push(v(this.id, l, `logs to ${JSON.stringify(destination)}, not a log group or bucket of this stack, so its retention cannot be checked`));
        else if (!d.audit) out.push(v(this.id, l, `logs to ${d.found.address}, which is not declared audit evidence (${LOG_CLASS_TAG} = audit)`));
      }
    }
    return out;
  },
};

/** The days after which a lifecycle rule expires current objects (undefined: it never does). */
function expiryDays(rule: Record<string, unknown>): number | undefined {
  if (rule.status !== "Enabled") return undefined;
  const expiration = blocks<Record<string, unknown>>(rule.expiration as Record<string, unknown>)[0];
  return typeof expiration?.days === "number" ? expiration.days : expiration?.date !== undefined ? 0 : undefined;
}

export const logBucketKept: Rule = {
  id: "log-bucket-retention",
  types: ["aws_s3_bucket"],
  description: `buckets declare their log class (${LOG_CLASS_TAG}) when they hold logs, and no lifecycle rule expires objects sooner than it requires (application ${MIN_RETENTION_DAYS.application} days, audit ${MIN_RETENTION_DAYS.audit})`,
  check(s) {
    const lifecycles = ofType(s, "aws_s3_bucket_lifecycle_configuration");
    const out: Violation[] = [];
    for (const b of ofType(s, "aws_s3_bucket")) {
      const declared: unknown = b.config.tags?.[LOG_CLASS_TAG];
      if (declared === undefined) continue; // not a log bucket
      const logClass = logClassOf(b);
      if (!logClass) {
        out.push(v(this.id, b, `tag ${LOG_CLASS_TAG} is ${JSON.stringify(declared)}; expected ${LOG_CLASSES.join(" or ")}`));
        continue;
      }
      const min = MIN_RETENTION_DAYS[logClass];
      for (const lc of lifecycles.filter((l) => references(l.config.bucket, b))) {
        for (const rule of blocks<Record<string, unknown>>(lc.config.rule)) {
          const days = expiryDays(rule);
          if (days !== undefined && days < min)
            out.push(
              v(
                this.id,
                b,
                `lifecycle rule ${JSON.stringify(rule.id)} (${lc.address}) expires objects after ${days} days; ${logClass} logs need at least ${min}`,
              ),
            );
        }
      }
    }
    return out;
  },
};

export const LOGGING_RULES: readonly Rule[] = [flowLogsKept, accessLogsKept, logBucketKept];
