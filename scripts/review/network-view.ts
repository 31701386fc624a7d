/**
 * Who reaches whom: the security-group matrix of an environment, read from the synthesized rules of
 * every phase (a later phase's rules name the network's groups through its remote-state outputs), and
 * the Mermaid architecture diagram drawn from the same resources.
 */
import { Json } from "../tf-check/json";
import { EnvModel, Resource, ofType, resolve } from "./model";

export interface Flow {
  /** Group name, `internet (IPv4)`, a CIDR or a prefix list. */
  readonly from: string;
  readonly to: string;
  readonly ports: string;
  readonly direction: "ingress" | "egress";
  readonly address: string;
}

const WORLD: Record<string, string> = { "0.0.0.0/0": "internet (IPv4)", "::/0": "internet (IPv6)" };

/** A readable name for the value of a rule's group, CIDR or prefix-list field. */
function peer(m: EnvModel, r: Resource, value: Json | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string" && WORLD[value]) return WORLD[value];
  const target = resolve(m, r.phase, value);
  if (target?.resource.type === "aws_security_group") return String(target.resource.config.name ?? target.resource.address);
  if (target?.resource.type === "aws_default_security_group") return "default group (no rules)";
  if (target?.resource.type === "aws_vpc_endpoint") return `${String(target.resource.config.service_name).split(".").pop()} (prefix list)`;
  if (target?.resource.type === "aws_vpc") return "the VPC";
  return String(value);
}

const ports = (c: Resource["config"]) => {
  if (c.ip_protocol === "-1") return "all";
  return c.from_port === c.to_port ? `${c.ip_protocol}/${c.from_port}` : `${c.ip_protocol}/${c.from_port}-${c.to_port}`;
};

/** Every ingress and egress rule of the environment, named by group. */
export function flows(m: EnvModel): Flow[] {
  const out: Flow[] = [];
  for (const r of ofType(m, "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")) {
    const self = peer(m, r, r.config.security_group_id) ?? "?";
    const other =
      peer(m, r, r.config.referenced_security_group_id) ??
      peer(m, r, r.config.cidr_ipv4) ??
      peer(m, r, r.config.cidr_ipv6) ??
      peer(m, r, r.config.prefix_list_id) ??
      "?";
    const ingress = r.type === "aws_vpc_security_group_ingress_rule";
    out.push({
      from: ingress ? other : self,
      to: ingress ? self : other,
      ports: ports(r.config),
      direction: ingress ? "ingress" : "egress",
      address: `${r.phase}: ${r.address}`,
    });
  }
  return out;
}

/** The matrix as Markdown: who may open a connection to whom (ingress), then where each group may connect (egress). */
export function matrixMarkdown(m: EnvModel): string {
  const all = flows(m);
  const ingress = all.filter((f) => f.direction === "ingress");
  const targets = [...new Set(ingress.map((f) => f.to))].sort();
  const sources = [...new Set(ingress.map((f) => f.from))].sort((a, b) => (a.startsWith("internet") ? -1 : b.startsWith("internet") ? 1 : a.localeCompare(b)));
  const cell = (from: string, to: string) =>
    ingress
      .filter((f) => f.from === from && f.to === to)
      .map((f) => f.ports)
      .join(", ") || "";
  const lines = [
    "Ingress (rows may open connections to columns):",
    "",
    `| from \\ to | ${targets.map((t) => `\`${t}\``).join(" | ")} |`,
    `|---|${targets.map(() => "---").join("|")}|`,
  ];
  for (const s of sources) lines.push(`| ${s.startsWith("internet") ? `**${s}**` : `\`${s}\``} | ${targets.map((t) => cell(s, t)).join(" | ")} |`);
  lines.push("", "Egress (each group may connect to):", "");
  for (const f of all.filter((x) => x.direction === "egress").sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to))) {
    lines.push(`- \`${f.from}\` -> ${f.to.startsWith("internet") ? `**${f.to}**` : `\`${f.to}\``} on ${f.ports}`);
  }
  return lines.join("\n");
}

/** The tier a group name belongs to (`accessweaver-prod-database` -> `database`). */
const tierOf = (group: string) => /-(alb|services|database|cache|endpoints)$/.exec(group)?.[1];

/**
 * A Mermaid flowchart of the environment, in the guide's drawing order: Internet -> Route 53 -> WAF ->
 * ALB -> services -> RDS / Redis / Secrets Manager / CloudWatch, with NAT and endpoints. A node exists
 * only when its resources do; tier-to-tier edges come from the security-group rules.
 */
export function diagram(m: EnvModel): string {
  const has = (...types: string[]) => ofType(m, ...types).length > 0;
  const nodes = new Map<string, string>();
  const edges = new Set<string>();
  const node = (id: string, label: string) => nodes.set(id, `  ${id}["${label}"]`);
  const edge = (a: string, b: string, label?: string) => edges.add(`  ${a} -->${label ? `|${label}|` : ""} ${b}`);

  node("internet", "Internet");
  const services = ofType(m, "aws_ecs_service").map((s) => String(s.config.name));
  const tierNode: Record<string, string | undefined> = {
    alb: has("aws_lb") ? "alb" : has("aws_security_group") ? "alb" : undefined,
    services: "services",
    database: "rds",
    cache: "redis",
    endpoints: has("aws_vpc_endpoint") ? "endpoints" : undefined,
  };
  const albs = ofType(m, "aws_lb");
  node("alb", albs.length > 0 ? `ALB ${albs.map((a) => a.config.name).join(", ")}` : "ALB tier (security group only)");
  node("services", services.length > 0 ? `ECS Fargate: ${services.join(", ")}` : "services tier (security group only)");
  const db = ofType(m, "aws_db_instance");
  node("rds", db.length > 0 ? `RDS PostgreSQL ${db.map((d) => d.config.identifier).join(", ")}` : "database tier (security group only)");
  const redis = ofType(m, "aws_elasticache_replication_group");
  node("redis", redis.length > 0 ? `ElastiCache ${redis.map((r) => r.config.replication_group_id).join(", ")}` : "cache tier (security group only)");

  let front = "internet";
  if (has("aws_route53_record")) {
    node("dns", "Route 53");
    edge("internet", "dns");
    front = "dns";
  }
  if (has("aws_wafv2_web_acl_association")) {
    node("waf", "WAF web ACL");
    edge(front, "waf");
    front = "waf";
  }
  for (const f of flows(m)) {
    const from = f.from.startsWith("internet") ? "internet" : tierNode[tierOf(f.from) ?? ""];
    const to = f.to.startsWith("internet") ? undefined : tierNode[tierOf(f.to) ?? ""];
    if (f.direction === "ingress" && from === "internet" && to === "alb") edge(front, "alb", "443/80");
    else if (f.direction === "ingress" && from && to && from !== to) edge(from, to, f.ports.replace("tcp/", ""));
    else if (f.direction === "egress" && f.to.startsWith("internet") && tierOf(f.from) === "services") edges.add("  services -->|HTTPS via NAT| nat");
    else if (f.direction === "egress" && f.to.endsWith("(prefix list)") && tierOf(f.from) === "services") {
      node("s3", "S3 (gateway endpoint)");
      edge("services", "s3", f.ports.replace("tcp/", ""));
    }
  }
  const nats = ofType(m, "aws_nat_gateway").length;
  if (nats > 0) {
    node("nat", `NAT gateways x ${nats}`);
    edge("nat", "internet");
  }
  const interfaces = ofType(m, "aws_vpc_endpoint").filter((e) => e.config.vpc_endpoint_type === "Interface");
  if (interfaces.length > 0)
    node("endpoints", `Interface endpoints: ${interfaces.map((e) => String(e.config.service_name).split(".").slice(3).join(".")).join(", ")}`);
  if (has("aws_secretsmanager_secret")) {
    node("secrets", `Secrets Manager x ${ofType(m, "aws_secretsmanager_secret").length}`);
    edge("services", "secrets", interfaces.length > 0 ? "via endpoint" : "via NAT");
  }
  if (has("aws_cloudwatch_log_group")) {
    node("logs", `CloudWatch Logs x ${ofType(m, "aws_cloudwatch_log_group").length}`);
    if (services.length > 0) edge("services", "logs");
    if (has("aws_flow_log")) {
      node("flow", "VPC flow logs");
      edge("flow", "logs");
    }
  }
  if (has("aws_kms_key")) node("kms", "KMS key (encrypts logs, data, secrets)");
  const used = [...edges].join("\n");
  const shown = [...nodes.entries()]
    .filter(([id]) => id === "internet" || id === "kms" || used.includes(` ${id}`) || used.includes(`${id} -->`))
    .map(([, text]) => text);
  return ["flowchart LR", ...shown, ...[...edges].sort()].join("\n");
}
