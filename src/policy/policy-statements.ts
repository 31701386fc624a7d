/**
 * IAM policy statements as the guardrails read them, from either form the synthesized JSON holds: a
 * reference to a local `aws_iam_policy_document` data source, or literal policy JSON.
 */
import { StackView } from "./guardrails";

/** One condition: its operator (`StringEquals`, `ArnLike`, ...), the context key and the values. */
export interface PolicyCondition {
  readonly test: string;
  readonly variable: string;
  readonly values: string[];
}

/** One statement, both forms reduced to the same shape. */
export interface PolicyStatement {
  readonly sid: string;
  readonly allow: boolean;
  /** Principal `"*"` or `{"AWS": "*"}` (or an Allow with NotPrincipal): anyone, in any account. */
  readonly anyone: boolean;
  readonly actions: string[];
  readonly notActions: string[];
  readonly resources: string[];
  readonly notResources: string[];
  readonly conditions: PolicyCondition[];
}

/** `x` as a list: Terraform JSON and IAM JSON write a single value either alone or as a list of one. */
const list = <T>(x: T | T[] | undefined | null): T[] => (x === undefined || x === null ? [] : Array.isArray(x) ? x : [x]);
const strings = (x: unknown): string[] => list(x as string | string[]).map(String);

const DOCUMENT_REF = /^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}$/;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Terraform JSON, read key by key as Terraform reads it
type Raw = Record<string, any>;

function fromDocument(st: Raw, i: number): PolicyStatement {
  const principals = list<Raw>(st.principals);
  return {
    sid: st.sid ?? `#${i}`,
    allow: (st.effect ?? "Allow") === "Allow",
    anyone: principals.some((p) => p.type === "*" || strings(p.identifiers).includes("*")) || list(st.not_principals).length > 0,
    actions: strings(st.actions),
    notActions: strings(st.not_actions),
    resources: strings(st.resources),
    notResources: strings(st.not_resources),
    conditions: list<Raw>(st.condition).map((c) => ({ test: String(c.test), variable: String(c.variable), values: strings(c.values) })),
  };
}

function fromJson(st: Raw, i: number): PolicyStatement {
  const principal = st.Principal;
  const aws = principal !== null && typeof principal === "object" ? strings(principal.AWS) : [];
  return {
    sid: st.Sid ?? `#${i}`,
    allow: st.Effect === "Allow",
    anyone: principal === "*" || aws.includes("*") || st.NotPrincipal !== undefined,
    actions: strings(st.Action),
    notActions: strings(st.NotAction),
    resources: strings(st.Resource),
    notResources: strings(st.NotResource),
    conditions: Object.entries((st.Condition ?? {}) as Record<string, Record<string, unknown>>).flatMap(([test, byKey]) =>
      Object.entries(byKey ?? {}).map(([variable, values]) => ({ test, variable, values: strings(values) })),
    ),
  };
}

/**
 * The statements of a policy attribute, or undefined when it is neither (an expression such as
 * `jsonencode(...)`, a document of another stack): a rule then says it cannot check it.
 */
export function statementsOf(s: StackView, policy: unknown): PolicyStatement[] | undefined {
  if (typeof policy !== "string") return undefined;
  const ref = DOCUMENT_REF.exec(policy);
  if (ref) {
    const doc = (s.dataSources ?? []).find((d) => d.type === "aws_iam_policy_document" && d.name === ref[1]);
    return doc ? list<Raw>(doc.config.statement).map(fromDocument) : undefined;
  }
  try {
    return list<Raw>(JSON.parse(policy)?.Statement).map(fromJson);
  } catch {
    return undefined;
  }
}

/**
 * Condition keys that bring "anyone" back to one account, organization or resource: the caller's (or
 * the calling service's source) account, ARN or organization, with what a value must name. Any other
 * condition (TLS, a tag, a VPC) still lets every AWS account through.
 */
const ACCOUNT_KEYS = ["aws:SourceAccount", "aws:SourceOwner", "aws:PrincipalAccount", "kms:CallerAccount"];
const ARN_KEYS = ["aws:SourceArn", "aws:PrincipalArn"];
const ORG_KEYS = ["aws:SourceOrgID", "aws:PrincipalOrgID"];
/** Multivalued keys: only a `ForAnyValue:` operator matches them. */
const ORG_PATH_KEYS = ["aws:SourceOrgPaths", "aws:PrincipalOrgPaths"];
/** Every key that can scope principal "*", for the messages. */
export const SCOPING_KEYS: readonly string[] = [...ACCOUNT_KEYS, ...ARN_KEYS, ...ORG_KEYS, ...ORG_PATH_KEYS];

/**
 * Operators that hold only when the key is present and matches: not `StringNotEquals`, not `...IfExists`
 * (true when the key is absent), not `ForAllValues` (true for an empty set).
 */
const MATCHING_OPERATORS = new Set(["StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike"]);
const MULTIVALUE_OPERATORS = new Set(["ForAnyValue:StringEquals", "ForAnyValue:StringLike"]);

/** A Terraform reference stands for a value the configuration names (an account id, an ARN). */
const isReference = (x: string) => x.startsWith("${");
const ACCOUNT = /^\d{12}$/;
/** An ARN that names its account (12 digits), or an S3 ARN (no account field) that names its bucket. */
const namesAccount = (arn: string): boolean => {
  const [prefix, , service, , account, ...resource] = arn.split(":");
  if (prefix !== "arn") return false;
  if (account !== undefined && (ACCOUNT.test(account) || isReference(account))) return true;
  return service === "s3" && account === "" && resource.join(":").replace(/[*?/]/g, "") !== "";
};
const keyIn = (keys: readonly string[], variable: string) => keys.some((k) => k.toLowerCase() === variable.toLowerCase());

/**
 * Whether a condition limits who may act to named accounts, ARNs or organizations: an account key with a
 * 12-digit account, an ARN key whose ARNs name their account, an organization id or path without a
 * wildcard in the organization, each through an operator that needs the key to be present.
 */
export function scopesPrincipal(c: PolicyCondition): boolean {
  if (c.values.length === 0) return false;
  const all = (ok: (x: string) => boolean) => c.values.every((x) => isReference(x) || ok(x));
  if (keyIn(ORG_PATH_KEYS, c.variable)) return MULTIVALUE_OPERATORS.has(c.test) && all((x) => /^o-[a-z0-9]+\//.test(x));
  if (!MATCHING_OPERATORS.has(c.test)) return false;
  if (keyIn(ACCOUNT_KEYS, c.variable)) return all((x) => ACCOUNT.test(x));
  if (keyIn(ARN_KEYS, c.variable)) return all(namesAccount);
  if (keyIn(ORG_KEYS, c.variable)) return all((x) => /^o-[a-z0-9]+$/.test(x));
  return false;
}

/** An Allow statement that lets anyone in: principal "*" with no condition naming an account, ARN or organization. */
export const opensToAnyone = (st: PolicyStatement): boolean => st.allow && st.anyone && !st.conditions.some(scopesPrincipal);
