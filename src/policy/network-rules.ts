import { names } from "../naming";
import { ResourceView, Rule, StackView, Violation } from "./guardrails";
import { SCOPING_KEYS, opensToAnyone, statementsOf } from "./policy-statements";
import { environmentOf, ofType, v } from "./rule-helpers";

/**
 * Guardrails for the network phase's hardening: endpoint policies, the key policy and its use, the
 * database tier's ACL, and what may face the internet (load balancers, addresses, resource policies).
 */

const WORLD = new Set(["0.0.0.0/0", "::/0"]);

export const endpointsHavePolicies: Rule = {
  id: "endpoint-policy",
  types: ["aws_vpc_endpoint"],
  description: "every VPC endpoint has a policy (without one, AWS lets anything through it to any account's resources)",
  check(s) {
    return ofType(s, "aws_vpc_endpoint")
      .filter((r) => typeof r.config.policy !== "string" || r.config.policy.trim() === "")
      .map((r) => v(this.id, r, "no policy: the endpoint allows any action on any account's resources"));
  },
};

/** Conditions that bring principal "*" back to this account, for the messages. */
const SCOPED_BY = `${SCOPING_KEYS.slice(0, -1).join(", ")} or ${SCOPING_KEYS[SCOPING_KEYS.length - 1]} naming an account, an ARN with its account or an organization`;
/** The conditions a statement has, for the message (none, or why they do not scope it). */
const conditionsOf = (st: { conditions: readonly { test: string; variable: string; values: readonly string[] }[] }) =>
  st.conditions.length === 0 ? "it has none" : `it has ${st.conditions.map((c) => `${c.test} ${c.variable} ${JSON.stringify(c.values)}`).join(", ")}`;

/**
 * Every Allow statement of the policies at `attributes` (type -> attribute) that lets principal "*" in
 * without a condition naming an account, ARN or organization; a policy that cannot be read is refused.
 */
function openPolicies(rule: string, s: StackView, attributes: Readonly<Record<string, string>>, consequence: string): Violation[] {
  const out: Violation[] = [];
  for (const r of ofType(s, ...Object.keys(attributes))) {
    const policy: unknown = r.config[attributes[r.type]!];
    if (policy === undefined) continue; // an optional policy left out: AWS's default, the owner only
    const statements = statementsOf(s, policy);
    if (statements === undefined) {
      out.push(v(rule, r, "the policy is neither an aws_iam_policy_document nor JSON, so it cannot be checked"));
      continue;
    }
    for (const st of statements.filter(opensToAnyone))
      out.push(v(rule, r, `statement ${st.sid} allows principal "*" without a condition on ${SCOPED_BY} (${conditionsOf(st)}): ${consequence}`));
  }
  return out;
}

const KEY_POLICIES = { aws_kms_key: "policy", aws_kms_key_policy: "policy" } as const;

export const keyPolicyNoOpenPrincipal: Rule = {
  id: "kms-policy-open-principal",
  types: Object.keys(KEY_POLICIES),
  description: "no KMS key policy statement allows a wildcard principal without a condition naming the account, an ARN or the organization",
  check(s) {
    return openPolicies(this.id, s, KEY_POLICIES, "anyone in any account could use the key");
  },
};

/**
 * Resource policies, by type and attribute, other than key policies: what could make a topic, a bucket, a
 * role (its trust policy), a secret, a repository, a queue or a log group reachable from other accounts.
 * VPC endpoint policies are not among them: they only filter what passes through this VPC's endpoint.
 */
export const RESOURCE_POLICIES: Readonly<Record<string, string>> = {
  aws_sns_topic_policy: "policy",
  aws_sns_topic: "policy",
  aws_s3_bucket_policy: "policy",
  aws_s3_bucket: "policy",
  aws_iam_role: "assume_role_policy",
  aws_secretsmanager_secret_policy: "policy",
  aws_secretsmanager_secret: "policy",
  aws_ecr_repository_policy: "policy",
  aws_sqs_queue_policy: "policy",
  aws_cloudwatch_log_resource_policy: "policy_document",
};

export const resourcePolicyNoOpenPrincipal: Rule = {
  id: "resource-policy-open-principal",
  types: Object.keys(RESOURCE_POLICIES),
  description:
    'no resource policy (topic, bucket, role trust, secret, repository, queue, log resource policy) allows principal "*" without a condition naming the account, an ARN or the organization: nothing is public but the ALB',
  check(s) {
    return openPolicies(this.id, s, RESOURCE_POLICIES, "any AWS account could use the resource");
  },
};

const isDatabaseTier = (r: ResourceView) => r.config.tags?.Tier === "database";

export const databaseSubnetsInTheirAcl: Rule = {
  id: "database-subnet-acl",
  types: ["aws_subnet", "aws_network_acl"],
  description: "every database-tier subnet is associated with the database network ACL, which admits nothing from the world",
  check(s) {
    const out: Violation[] = [];
    const acls = ofType(s, "aws_network_acl").filter(isDatabaseTier);
    const aclRefs = new Set(acls.map((a) => `\${${a.address}.id}`));
    const covered = new Set<string>([
      ...acls.flatMap((a) => a.config.subnet_ids ?? []),
      ...ofType(s, "aws_network_acl_association")
        .filter((a) => aclRefs.has(a.config.network_acl_id))
        .map((a) => a.config.subnet_id),
    ]);
    for (const subnet of ofType(s, "aws_subnet").filter(isDatabaseTier)) {
      if (!covered.has(`\${${subnet.address}.id}`))
        out.push(v(this.id, subnet, "database-tier subnet outside the database network ACL (it falls back to the allow-all default ACL)"));
    }
    for (const acl of acls) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Terraform JSON, read key by key as Terraform reads it
      for (const e of (acl.config.ingress ?? []).filter((x: any) => x.action === "allow" && (WORLD.has(x.cidr_block) || WORLD.has(x.ipv6_cidr_block)))) {
        out.push(v(this.id, acl, `ingress rule ${e.rule_no} allows ${e.cidr_block ?? e.ipv6_cidr_block}: the database tier admits the private tier only`));
      }
    }
    return out;
  },
};

export const onlyAlbPublic: Rule = {
  id: "public-only-alb",
  types: ["aws_lb", "aws_alb", "aws_elb", "aws_eip", "aws_instance", "aws_launch_template"],
  description:
    "nothing faces the internet but the environment's ALB (accessweaver-<env>-alb): no other internet-facing load balancer, no elastic IP except a NAT gateway's, no instance with a public address",
  check(s) {
    const env = environmentOf(s);
    const alb = env ? names(env).alb : undefined;
    const out: Violation[] = [];
    for (const lb of ofType(s, "aws_lb", "aws_alb", "aws_elb")) {
      if (lb.config.internal !== true && (alb === undefined || lb.config.name !== alb))
        out.push(
          v(this.id, lb, `internet-facing load balancer ${JSON.stringify(lb.config.name)}: only ${alb ?? "the environment's ALB"} may be, set internal = true`),
        );
    }
    // A NAT gateway's address only sends traffic out; any other elastic IP is a way in.
    const natAllocations = new Set(ofType(s, "aws_nat_gateway").map((n) => String(n.config.allocation_id)));
    for (const eip of ofType(s, "aws_eip")) {
      if (![...natAllocations].some((a) => a.includes(`${eip.address}.`)))
        out.push(v(this.id, eip, "an elastic IP that no NAT gateway of this stack uses: it would make something else reachable from the internet"));
    }
    for (const r of ofType(s, "aws_instance", "aws_launch_template")) {
      const interfaces = [r.config, ...(r.config.network_interfaces ?? [])] as Record<string, unknown>[];
      if (interfaces.some((i) => i.associate_public_ip_address === true || i.associate_public_ip_address === "true"))
        out.push(v(this.id, r, "associate_public_ip_address is true"));
    }
    return out;
  },
};

/** Attributes that name the KMS key a resource encrypts with, at any depth of its configuration. */
const KEY_ATTRIBUTE = /(^|_)kms_(master_)?key(_id|_arn)?$/;
/** The environment's key as the later phases read it: the network phase's named output. */
const NETWORK_KEY_OUTPUT = "${data.terraform_remote_state.network.outputs.kms_key_arn}";
/** The DR region's key (network phase): for what lives in the DR region only. */
const DR_KEY_OUTPUT = "${data.terraform_remote_state.network.outputs.dr_kms_key_arn}";
/** The DR key as the DR environment reads it: the recovery phase's output (Region loss, part 2). */
const RECOVERY_KEY_OUTPUT = "${data.terraform_remote_state.recovery.outputs.dr_kms_key_arn}";
/** An existing customer key given in the settings (`kms_key_arn`): a key ARN, never an alias. */
const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]+$/;

/**
 * Whether what `path` of `r` encrypts is in the DR region: a resource of the DR provider (`aws.dr`, or the
 * default provider of a stack whose primary-region provider is the alias `aws.primary`), or a replica's
 * key (`replica { kms_key_id }`, `replica_kms_key_id`) of a resource in the primary region.
 */
function inDrRegion(s: StackView, r: ResourceView, path: string): boolean {
  const drHome = (s.providers.aws ?? []).some((p) => p.alias === "primary");
  const provider = r.config.provider as string | undefined;
  return provider === "aws.dr" || (drHome && provider !== "aws.primary") || path.split(/[.[]/).some((part) => part.startsWith("replica"));
}

export const environmentKey: Rule = {
  id: "kms-environment-key",
  description:
    "every KMS key a resource names is the environment's key: an aws_kms_key of the stack, the network phase's kms_key_arn output, or the key ARN given in the settings (never an AWS-managed alias); in the DR region, and for replicas there, the DR key (dr_kms_key_arn)",
  check(s) {
    // The stack's own keys, by the region their provider puts them in: a key serves its own region only.
    const ownKeys = (dr: boolean) =>
      new Set(
        ofType(s, "aws_kms_key")
          .filter((k) => inDrRegion(s, k, "") === dr)
          .flatMap((k) => ["arn", "id", "key_id"].map((a) => `\${${k.address}.${a}}`)),
      );
    const own = { true: ownKeys(true), false: ownKeys(false) };
    // The DR key as the recovery phase publishes it: for a database restored from the replicated backups only.
    const ok = (value: string, dr: boolean, type: string) =>
      own[`${dr}`].has(value) ||
      (value === RECOVERY_KEY_OUTPUT && type === "aws_db_instance") ||
      (dr ? value === DR_KEY_OUTPUT : value === NETWORK_KEY_OUTPUT || KEY_ARN.test(value));
    const out: Violation[] = [];
    const walk = (r: ResourceView, node: unknown, path: string) => {
      if (Array.isArray(node)) node.forEach((x, i) => walk(r, x, `${path}[${i}]`));
      else if (node !== null && typeof node === "object") {
        for (const [k, x] of Object.entries(node)) {
          if (k === "//" || k === "lifecycle" || k === "depends_on") continue;
          const here = path ? `${path}.${k}` : k;
          if (KEY_ATTRIBUTE.test(k) && typeof x === "string") {
            const dr = inDrRegion(s, r, here);
            if (!ok(x, dr, r.type)) {
              const expected = dr
                ? `the DR region's key (${DR_KEY_OUTPUT}): this is encrypted in the DR region`
                : `the environment's key (${NETWORK_KEY_OUTPUT} or a key of this stack)`;
              out.push(v(this.id, r, `${here} is ${JSON.stringify(x)}; expected ${expected}`));
            }
          } else walk(r, x, here);
        }
      }
    };
    for (const r of s.resources) walk(r, r.config, "");
    return out;
  },
};

export const NETWORK_RULES: readonly Rule[] = [
  endpointsHavePolicies,
  keyPolicyNoOpenPrincipal,
  resourcePolicyNoOpenPrincipal,
  databaseSubnetsInTheirAcl,
  onlyAlbPublic,
  environmentKey,
];
