/**
 * Guardrails of the second apply: configurations that plan cleanly on an empty account but fail, or
 * replace something, on a later plan or apply.
 */
import { APP_PORT } from "../config/services";
import { replacementHash } from "../naming";
import { Rule, StackView, Violation } from "./guardrails";
import { v } from "./rule-helpers";

/**
 * Empty nested blocks that are safe: the provider sends them on create and reads them back, so a later
 * plan is quiet. Keyed by resource type, then by the block's path (`.a.b`, `[]` for a list element).
 * Every other empty block is refused: an empty block that the provider does not send or read back shows
 * as `+ block {}` in every plan after the first apply, a replacement where the block forces one
 * (hashicorp/terraform-provider-aws#44285, Cloud Map's `health_check_custom_config {}`).
 */
export const SAFE_EMPTY_BLOCKS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  aws_wafv2_web_acl: {
    ".default_action.allow":
      "WAF's action blocks are markers: the empty block is the whole setting, and the provider writes and reads it (flattenDefaultAction)",
    ".default_action.block": "as default_action.allow",
    ".rule[].action.allow": "as default_action.allow, for a rule's action",
    ".rule[].action.block": "as default_action.allow, for a rule's action",
    ".rule[].action.count": "as default_action.allow, for a rule's action",
    ".rule[].override_action.none": "a managed rule group's override marker: written and read back like the action blocks",
    ".rule[].override_action.count": "as override_action.none",
  },
};

/** The paths of a resource's empty objects (blocks, or map attributes left empty). */
export function emptyBlocks(config: Record<string, unknown>): string[] {
  const out: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (Array.isArray(value)) {
      value.forEach((item) => walk(item, `${path}[]`));
    } else if (value !== null && typeof value === "object") {
      const entries = Object.entries(value);
      if (entries.length === 0 && path !== "") out.push(path);
      for (const [key, item] of entries) {
        // Terraform's own meta-arguments are not provider blocks.
        if (path === "" && (key === "lifecycle" || key === "depends_on" || key === "provider" || key === "for_each" || key === "count")) continue;
        walk(item, `${path}.${key}`);
      }
    }
  };
  walk(config, "");
  return [...new Set(out)];
}

export const noEmptyBlocks: Rule = {
  id: "no-empty-block",
  description:
    "no empty nested block or map, unless SAFE_EMPTY_BLOCKS says why the provider reads it back (an empty block it drops plans again, or replaces, after every apply)",
  check(s) {
    return s.resources.flatMap((r) =>
      emptyBlocks(r.config)
        .filter((path) => !SAFE_EMPTY_BLOCKS[r.type]?.[path])
        .map((path) =>
          v(
            this.id,
            r,
            `${path.slice(1)} is empty: the provider may neither send nor read back an empty block, and the plan after the first apply shows it again (a replacement where it forces one). Set its arguments, leave it out, or add it to SAFE_EMPTY_BLOCKS (src/policy/lifecycle-rules.ts) with the reason it is read back.`,
          ),
        ),
    );
  },
};

/**
 * The arguments that force a new resource, for the types this project creates before destroying, in the
 * order `replaceableName` hashes them (provider 5.100's schema: ForceNew).
 */
export const REPLACEABLE_TYPES: Readonly<Record<string, { readonly nameArgument: string; readonly forceNew: readonly string[] }>> = {
  aws_db_parameter_group: { nameArgument: "name", forceNew: ["family", "description"] },
  aws_elasticache_parameter_group: { nameArgument: "name", forceNew: ["family", "description"] },
};

/** Arguments that hold a name AWS keeps unique (in the account and region, or globally). */
const UNIQUE_NAME_ARGUMENTS = ["name", "identifier", "bucket", "function_name", "role_name", "replication_group_id", "cluster_identifier"];

export const replaceableNames: Rule = {
  id: "replaceable-names",
  description:
    "a resource created before it is destroyed (create_before_destroy) has no fixed unique name: name_prefix, or a name ending in the hash of its force-new arguments (replaceableName)",
  check(s) {
    const out: Violation[] = [];
    for (const r of s.resources) {
      if (r.config.lifecycle?.create_before_destroy !== true) continue;
      const known = REPLACEABLE_TYPES[r.type];
      const named = UNIQUE_NAME_ARGUMENTS.filter((a) => typeof r.config[a] === "string");
      for (const argument of named) {
        const name = r.config[argument] as string;
        if (known && argument === known.nameArgument) {
          const expected = replacementHash(known.forceNew.map((a) => String(r.config[a] ?? "")));
          if (name.endsWith(`-${expected}`)) continue;
          out.push(
            v(
              this.id,
              r,
              `${argument} "${name}" with create_before_destroy: the replacement would be refused as "already exists". Expected a name ending in -${expected}, the hash of ${known.forceNew.join(", ")} (replaceableName in src/naming.ts), or name_prefix.`,
            ),
          );
          continue;
        }
        out.push(
          v(
            this.id,
            r,
            `${argument} "${name}" is fixed and the resource is created before it is destroyed: a replacement fails with "already exists". Use name_prefix, or replaceableName with the type's force-new arguments in REPLACEABLE_TYPES (src/policy/lifecycle-rules.ts), or drop create_before_destroy.`,
          ),
        );
      }
    }
    return out;
  },
};

/** The arguments of a target group that force a new one. */
export interface TargetGroupShape {
  readonly port: number;
  readonly protocol: string;
  readonly target_type: string;
  readonly protocol_version: string;
}

/**
 * What the target groups' fixed names stand for, by name: the first entry whose pattern matches a group's
 * name gives its shape. A target group cannot be replaced while a listener or CodeDeploy holds it
 * (destroy first fails: ResourceInUse), and a new one of the same name cannot be created beside it: a
 * change of any of these arguments under the same name is refused here, with the procedure. A new shape
 * comes with new names, and an entry for them placed before the default (docs/edge.md).
 */
export const TARGET_GROUP_SHAPES: readonly { readonly names: RegExp; readonly shape: TargetGroupShape }[] = [
  { names: /.*/, shape: { port: APP_PORT, protocol: "HTTP", target_type: "ip", protocol_version: "HTTP1" } },
];

/** The shape a target group of that name must keep (the first matching entry). */
export function targetGroupShapeFor(name: string, shapes = TARGET_GROUP_SHAPES): TargetGroupShape | undefined {
  return shapes.find((entry) => entry.names.test(name))?.shape;
}

export const targetGroupShape: Rule = {
  id: "target-group-shape",
  types: ["aws_lb_target_group"],
  description: `target groups keep, under their name, the arguments that force their replacement (TARGET_GROUP_SHAPES; by default ${Object.entries(
    TARGET_GROUP_SHAPES.at(-1)!.shape,
  )
    .map(([k, x]) => `${k} ${x}`)
    .join(", ")}): their names are fixed and a listener holds them, so a replacement cannot succeed`,
  check(s: StackView) {
    const out: Violation[] = [];
    for (const r of s.resources.filter((x) => x.type === "aws_lb_target_group")) {
      const shape = targetGroupShapeFor(String(r.config.name ?? ""));
      if (!shape) {
        out.push(v(this.id, r, `no entry of TARGET_GROUP_SHAPES (src/policy/lifecycle-rules.ts) matches its name ${JSON.stringify(r.config.name)}`));
        continue;
      }
      for (const [argument, expected] of Object.entries(shape)) {
        const found = r.config[argument];
        if (found === undefined && argument === "protocol_version") continue;
        if (found !== expected) {
          out.push(
            v(
              this.id,
              r,
              `${argument} is ${JSON.stringify(found)}; expected ${JSON.stringify(expected)}. Changing it replaces the target group, which fails while the listeners hold it and its fixed name is taken: follow "Changing a target group's port or protocol" in docs/edge.md (new groups under new names, with their own entry in TARGET_GROUP_SHAPES, first).`,
            ),
          );
        }
      }
    }
    return out;
  },
};

export const LIFECYCLE_RULES: readonly Rule[] = [noEmptyBlocks, replaceableNames, targetGroupShape];
