import { AUDIT_LOG_RETENTION_DAYS, LOG_CLASSES, LogClass, leastRetentionDays } from "../config/profiles";
import { LOG_CLASS_TAG } from "../constructs/log-group";
import { REQUIRED_TAGS, names, stackEnvironment } from "../naming";
import { dataProtected } from "./data-protection";
import { COMPUTE_RULES } from "./compute-rules";
import { EDGE_RULES } from "./edge-rules";
import { DATA_RULES } from "./data-rules";
import { Rule, StackView, Violation } from "./guardrails";
import { LIFECYCLE_RULES } from "./lifecycle-rules";
import { LOGGING_RULES } from "./logging-rules";
import { NETWORK_RULES } from "./network-rules";
import { OBSERVABILITY_RULES } from "./observability-rules";
import { environmentOf, ofType, v } from "./rule-helpers";

const WORLD = new Set(["0.0.0.0/0", "::/0"]);
/** Ports the ALB alone may open to the world: HTTPS, and HTTP only to redirect it. */
const ALB_WORLD_PORTS = new Set([80, 443]);

export const requiredTags: Rule = {
  id: "required-tags",
  description: `every resource carries the tags ${REQUIRED_TAGS.join(", ")} (through the provider's default_tags)`,
  check(s) {
    const out: Violation[] = [];
    const aws = s.providers.aws ?? [];
    if (aws.length === 0 && s.resources.length > 0) out.push(v(this.id, { address: "provider.aws" }, "no AWS provider with default_tags"));
    for (const [i, p] of aws.entries()) {
      const tags: Record<string, string> = p.default_tags?.[0]?.tags ?? {};
      const missing = REQUIRED_TAGS.filter((t) => typeof tags[t] !== "string" || tags[t].trim() === "");
      if (missing.length > 0) out.push(v(this.id, { address: `provider.aws[${i}]` }, `default_tags lack ${missing.join(", ")}`));
    }
    for (const r of s.resources) {
      const tags: Record<string, unknown> = r.config.tags ?? {};
      const blanked = REQUIRED_TAGS.filter((t) => t in tags && (typeof tags[t] !== "string" || (tags[t] as string).trim() === ""));
      if (blanked.length > 0) out.push(v(this.id, r, `tags blank out ${blanked.join(", ")}`));
    }
    return out;
  },
};

export const logGroupEncryptedAndRetained: Rule = {
  id: "log-group-encrypted-retained",
  types: ["aws_cloudwatch_log_group"],
  description: `log groups are KMS-encrypted, declare their class (tag ${LOG_CLASS_TAG}) and keep application logs their environment's applicationLogRetentionDays, audit evidence ${AUDIT_LOG_RETENTION_DAYS} days`,
  check(s) {
    const out: Violation[] = [];
    // Application logs are held to the retention of the stack's environment (its profile).
    const env = stackEnvironment(s.stackName);
    for (const r of ofType(s, "aws_cloudwatch_log_group")) {
      if (!r.config.kms_key_id) out.push(v(this.id, r, "kms_key_id is not set: the log group is not encrypted with the environment's key"));
      // The class is what the creator declared (the LogClass tag), never guessed from the name.
      const declared: unknown = r.config.tags?.[LOG_CLASS_TAG];
      if (!(LOG_CLASSES as readonly unknown[]).includes(declared)) {
        out.push(
          v(
            this.id,
            r,
            `tag ${LOG_CLASS_TAG} is ${declared === undefined ? "missing" : JSON.stringify(declared)}; expected ${LOG_CLASSES.join(" or ")} (create it with EncryptedLogGroup)`,
          ),
        );
        continue;
      }
      const logClass = declared as LogClass;
      const min = leastRetentionDays(logClass, env);
      const days = r.config.retention_in_days;
      // 0 means "never expire", which keeps logs at least as long as required.
      if (typeof days !== "number" || (days !== 0 && days < min)) {
        const whose = env && logClass === "application" ? ` in ${env} (applicationLogRetentionDays of its profile, src/config/profiles.ts)` : "";
        out.push(v(this.id, r, `retention_in_days is ${days ?? "unset"}; ${logClass} logs need at least ${min}${whose}`));
      }
    }
    return out;
  },
};

export const kmsKeyRotated: Rule = {
  id: "kms-key-rotation",
  types: ["aws_kms_key"],
  description: "customer-managed KMS keys rotate yearly",
  check(s) {
    return ofType(s, "aws_kms_key")
      .filter((r) => r.config.enable_key_rotation !== true)
      .map((r) => v(this.id, r, "enable_key_rotation is not true"));
  },
};

export const noPublicIpSubnets: Rule = {
  id: "no-public-ip-subnet",
  types: ["aws_subnet"],
  description: "no subnet assigns public IP addresses on launch (only the ALB and NAT gateways are public)",
  check(s) {
    return ofType(s, "aws_subnet")
      .filter((r) => r.config.map_public_ip_on_launch === true || r.config.assign_ipv6_address_on_creation === true)
      .map((r) => v(this.id, r, "map_public_ip_on_launch / assign_ipv6_address_on_creation must be false"));
  },
};

interface Ingress {
  readonly address: string;
  readonly groupRef: string;
  readonly cidrs: string[];
  readonly protocol: string;
  readonly from: number;
  readonly to: number;
}

/** All ingress rules of a stack, whatever resource shape declares them. */
function ingressRules(s: StackView): Ingress[] {
  const out: Ingress[] = [];
  for (const r of ofType(s, "aws_vpc_security_group_ingress_rule")) {
    out.push({
      address: r.address,
      groupRef: String(r.config.security_group_id),
      cidrs: [r.config.cidr_ipv4, r.config.cidr_ipv6].filter(Boolean),
      protocol: String(r.config.ip_protocol),
      from: Number(r.config.from_port ?? -1),
      to: Number(r.config.to_port ?? -1),
    });
  }
  for (const r of ofType(s, "aws_security_group_rule").filter((x) => x.config.type === "ingress")) {
    out.push({
      address: r.address,
      groupRef: String(r.config.security_group_id),
      cidrs: [...(r.config.cidr_blocks ?? []), ...(r.config.ipv6_cidr_blocks ?? [])],
      protocol: String(r.config.protocol),
      from: Number(r.config.from_port),
      to: Number(r.config.to_port),
    });
  }
  for (const r of ofType(s, "aws_security_group", "aws_default_security_group")) {
    for (const i of r.config.ingress ?? []) {
      out.push({
        address: r.address,
        groupRef: `\${${r.address}.id}`,
        cidrs: [...(i.cidr_blocks ?? []), ...(i.ipv6_cidr_blocks ?? [])],
        protocol: String(i.protocol),
        from: Number(i.from_port),
        to: Number(i.to_port),
      });
    }
  }
  return out;
}

export const noWorldOpenSecurityGroups: Rule = {
  id: "no-world-ingress",
  types: ["aws_vpc_security_group_ingress_rule", "aws_security_group_rule", "aws_security_group", "aws_default_security_group"],
  description: "no security group admits 0.0.0.0/0 or ::/0, except the ALB's (accessweaver-<env>-alb) on TCP 80 and 443",
  check(s) {
    // The ALB's group is the one the naming contract gives the stack's environment.
    const env = environmentOf(s);
    const albName = env ? names(env).securityGroup("alb") : undefined;
    const albRefs = new Set(
      ofType(s, "aws_security_group")
        .filter((r) => albName !== undefined && r.config.name === albName)
        .map((r) => `\${${r.address}.id}`),
    );
    return ingressRules(s)
      .filter((i) => i.cidrs.some((c) => WORLD.has(c)))
      .filter((i) => !(albRefs.has(i.groupRef) && i.protocol === "tcp" && i.from === i.to && ALB_WORLD_PORTS.has(i.from)))
      .map((i) =>
        v(this.id, i, `ingress ${i.protocol} ${i.from}-${i.to} from ${i.cidrs.join(", ")}: only the ALB's security group may admit the world, on TCP 80/443`),
      );
  },
};

/** The baseline every stack is checked against. */
export const BASELINE_RULES: readonly Rule[] = [
  requiredTags,
  logGroupEncryptedAndRetained,
  kmsKeyRotated,
  noPublicIpSubnets,
  noWorldOpenSecurityGroups,
  dataProtected,
  ...NETWORK_RULES,
  ...DATA_RULES,
  ...EDGE_RULES,
  ...COMPUTE_RULES,
  ...LOGGING_RULES,
  ...OBSERVABILITY_RULES,
  ...LIFECYCLE_RULES,
];
