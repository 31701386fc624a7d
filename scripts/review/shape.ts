/**
 * The settings that matter to a reviewer (sizes, counts, zones, retention, protections), read back from
 * the synthesized resources, and the difference between two environments' shapes.
 */
import { Json, isObject } from "../tf-check/json";
import { EnvModel, Resource, ofType, resolve } from "./model";

export interface Row {
  readonly setting: string;
  readonly value: string;
}

const protectedBy = (r: Resource) => (isObject(r.config.lifecycle) && r.config.lifecycle.prevent_destroy === true ? "prevent_destroy" : "no prevent_destroy");
const show = (v: Json | undefined) => (v === undefined ? "unset" : typeof v === "string" ? v : JSON.stringify(v));

export function shape(m: EnvModel): Row[] {
  const rows: Row[] = [];
  const add = (setting: string, value: string) => rows.push({ setting, value });
  const zones = [...new Set(ofType(m, "aws_subnet").map((s) => String(s.config.availability_zone)))].sort();
  add("availability zones", `${zones.length}: ${zones.join(", ")}`);
  for (const v of ofType(m, "aws_vpc")) add("VPC CIDR", show(v.config.cidr_block));
  add("NAT gateways", String(ofType(m, "aws_nat_gateway").length));
  const interfaces = ofType(m, "aws_vpc_endpoint").filter((e) => e.config.vpc_endpoint_type === "Interface");
  add("interface endpoints", interfaces.length === 0 ? "none" : interfaces.map((e) => String(e.config.service_name).split(".").slice(3).join(".")).join(", "));
  for (const k of ofType(m, "aws_kms_key"))
    add(
      `KMS key ${k.address}`,
      `rotation ${show(k.config.enable_key_rotation)}, deletion window ${show(k.config.deletion_window_in_days)} days, ${protectedBy(k)}`,
    );
  for (const g of ofType(m, "aws_cloudwatch_log_group")) {
    const cls = isObject(g.config.tags) ? g.config.tags.LogClass : undefined;
    add(`log group ${show(g.config.name)}`, `${show(cls)} class, ${show(g.config.retention_in_days)} days, ${protectedBy(g)}`);
  }
  for (const d of ofType(m, "aws_db_instance")) {
    add(
      `RDS ${show(d.config.identifier)}`,
      `${show(d.config.instance_class)}, Multi-AZ ${show(d.config.multi_az)}, ${show(d.config.allocated_storage)}-${show(d.config.max_allocated_storage)} GB, backups ${show(d.config.backup_retention_period)} days, deletion protection ${show(d.config.deletion_protection)}, ${protectedBy(d)}`,
    );
  }
  for (const r of ofType(m, "aws_elasticache_replication_group")) {
    add(
      `ElastiCache ${show(r.config.replication_group_id)}`,
      `${show(r.config.node_type)}, ${show(r.config.num_node_groups)} shard(s) x (1 + ${show(r.config.replicas_per_node_group)}), snapshots ${show(r.config.snapshot_retention_limit)} days, ${protectedBy(r)}`,
    );
  }
  for (const s of ofType(m, "aws_ecs_service")) {
    const task = resolve(m, s.phase, s.config.task_definition)?.resource.config;
    add(`service ${show(s.config.name)}`, `${show(s.config.desired_count)} tasks x ${show(task?.cpu)} CPU / ${show(task?.memory)} MiB`);
  }
  for (const lb of ofType(m, "aws_lb")) add(`load balancer ${show(lb.config.name)}`, `deletion protection ${show(lb.config.enable_deletion_protection)}`);
  for (const b of ofType(m, "aws_budgets_budget")) add(`budget ${show(b.config.name)}`, `${show(b.config.limit_amount)} ${show(b.config.limit_unit)}`);
  return rows;
}

/** Resource counts by type. */
export function counts(m: EnvModel): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of m.resources) out.set(r.type, (out.get(r.type) ?? 0) + 1);
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

/** Rows and counts that differ between two environments, with the environment names taken out of names. */
export function diff(a: EnvModel, b: EnvModel): { settings: [string, string, string][]; counts: [string, number, number][] } {
  const neutral = (m: EnvModel, text: string) =>
    text
      .split(`-${m.env}-`)
      .join("-<env>-")
      .split(`/${m.env}/`)
      .join("/<env>/")
      .replace(new RegExp(`-${m.env}$`), "-<env>");
  const rowsOf = (m: EnvModel) => new Map(shape(m).map((r) => [neutral(m, r.setting), neutral(m, r.value)]));
  const ra = rowsOf(a);
  const rb = rowsOf(b);
  const settings: [string, string, string][] = [];
  for (const key of [...new Set([...ra.keys(), ...rb.keys()])]) {
    if (ra.get(key) !== rb.get(key)) settings.push([key, ra.get(key) ?? "(absent)", rb.get(key) ?? "(absent)"]);
  }
  const ca = counts(a);
  const cb = counts(b);
  const types = [...new Set([...ca.keys(), ...cb.keys()])].sort();
  return { settings, counts: types.filter((t) => ca.get(t) !== cb.get(t)).map((t) => [t, ca.get(t) ?? 0, cb.get(t) ?? 0]) };
}
