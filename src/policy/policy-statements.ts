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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
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
 * the calling service's source) account, ARN or organization. Any other condition (TLS, a tag, a VPC)
 * still lets every AWS account through.
 */
const SCOPING_KEYS = new Set(
  [
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOwner",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "kms:CallerAccount",
  ].map((k) => k.toLowerCase()),
);

/**
 * Operators that hold only when the key is present and matches: not `StringNotEquals`, not `...IfExists`
 * (true when the key is absent), not the set operators (`ForAllValues` is true for an empty set).
 */
const MATCHING_OPERATORS = new Set(["StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike"]);

/** Whether a condition limits who may act to named accounts, ARNs or organizations (a value that is only a wildcard names none). */
export function scopesPrincipal(c: PolicyCondition): boolean {
  return MATCHING_OPERATORS.has(c.test) && SCOPING_KEYS.has(c.variable.toLowerCase()) && c.values.length > 0 && c.values.every((x) => x.replace(/[*?]/g, "") !== "");
}

/** An Allow statement that lets anyone in: principal "*" with no condition naming an account, ARN or organization. */
export const opensToAnyone = (st: PolicyStatement): boolean => st.allow && st.anyone && !st.conditions.some(scopesPrincipal);
