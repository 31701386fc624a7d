/** What every file of rules reads a stack with: one definition each. */
import { ENVIRONMENTS, EnvironmentName, names } from "../naming";
import { ResourceView, StackView, Violation } from "./guardrails";

/** A violation of `rule` by the resource (or provider, or statement) at `r.address`. */
export const v = (rule: string, r: ResourceView | { readonly address: string }, message: string): Violation => ({ rule, address: r.address, message });

/** The stack's resources of any of these types. */
export const ofType = (s: StackView, ...types: string[]): ResourceView[] => s.resources.filter((r) => types.includes(r.type));

/** `x` as a list: Terraform JSON writes a single nested block either as an object or a list of one. */
export const blocks = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** `${aws_x.y.attr}` -> `aws_x.y`, for a value that is a single reference. */
export const referenced = (value: unknown): string | undefined =>
  typeof value === "string" ? /^\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+)\.[a-z_]+\}$/.exec(value)?.[1] : undefined;

/** A boolean as Terraform JSON may hold it: `true` or `"true"`. */
export const isTrue = (value: unknown): boolean => value === true || value === "true";

/** The environment of a stack from the naming contract (`accessweaver-<env>-...`), undefined outside it. */
export const environmentOf = (s: StackView): EnvironmentName | undefined => ENVIRONMENTS.find((e) => s.stackName.startsWith(`${names(e).prefix}-`));

/**
 * The environment whose protections a stack must have: its own, except for the DR environment of an
 * environment other than prod (`accessweaver-staging-dr-*`), a restore drill torn down afterwards
 * (`make restore-teardown`), which is held to dev's. prod's DR environment is prod's data after a region
 * loss and keeps prod's.
 */
export const protectionOf = (s: StackView): EnvironmentName | undefined => (isDrill(s) ? "dev" : environmentOf(s));

/** A stack of the DR environment of an environment other than prod: a restore drill, torn down afterwards. */
export const isDrill = (s: StackView): boolean => {
  const env = environmentOf(s);
  return env !== undefined && env !== "prod" && s.stackName.startsWith(`${names(env).prefix}-dr-`);
};
