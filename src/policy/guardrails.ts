import { IConstruct } from "constructs";
import { Aspects, IAspect, TerraformStack } from "cdktf";

/** One resource of a synthesized stack, as Terraform will read it (tokens resolved to references). */
export interface ResourceView {
  readonly type: string;
  readonly name: string;
  /** Terraform address, e.g. `aws_vpc.vpc`. */
  readonly address: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Terraform JSON, read key by key as Terraform reads it
  readonly config: Record<string, any>;
}

export interface StackView {
  readonly stackName: string;
  readonly resources: readonly ResourceView[];
  /** Data sources (address `data.<type>.<name>`): rules read local policy documents through them. */
  readonly dataSources?: readonly ResourceView[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Terraform JSON, read key by key as Terraform reads it
  readonly providers: Record<string, any[]>;
  /** Outputs by name (environment rules follow a later phase's reads of them). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Terraform JSON, read key by key as Terraform reads it
  readonly outputs?: Record<string, any>;
}

export interface Violation {
  readonly rule: string;
  readonly address: string;
  readonly message: string;
}

export interface Rule {
  readonly id: string;
  readonly description: string;
  /**
   * The resource types the rule passes or fails, for the audit's count of what it checked; absent, it
   * checks every resource.
   */
  readonly types?: readonly string[];
  check(stack: StackView): Violation[];
}

export type GuardrailMode = "enforce" | "report";

export class GuardrailError extends Error {
  constructor(
    readonly violations: readonly Violation[],
    stackName: string,
  ) {
    super(`Guardrails failed for ${stackName} (${violations.length}):\n${formatViolations(violations)}`);
    this.name = "GuardrailError";
  }
}

export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `  - [${v.rule}] ${v.address}: ${v.message}`).join("\n");
}

/** A view of a synthesized stack JSON (`cdk.tf.json` content or `stack.toTerraform()`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Terraform JSON, read key by key as Terraform reads it
export function viewOf(stackName: string, json: any): StackView {
  const elements = (blocks: Record<string, Record<string, unknown>> | undefined, prefix: string): ResourceView[] =>
    Object.entries(blocks ?? {}).flatMap(([type, byName]) =>
      Object.entries(byName).map(([name, config]) => ({ type, name, address: `${prefix}${type}.${name}`, config: config as Record<string, unknown> })),
    );
  return {
    stackName,
    resources: elements(json.resource, ""),
    dataSources: elements(json.data, "data."),
    providers: json.provider ?? {},
    outputs: json.output ?? {},
  };
}

export function evaluate(view: StackView, rules: readonly Rule[]): Violation[] {
  return rules.flatMap((r) => r.check(view));
}

/**
 * The synth-time guardrail Aspect. On its stack it runs every rule over the configuration the synth
 * renders: `enforce` throws (the synth fails and the output folder is left as it was), `report` prints.
 */
export class Guardrails implements IAspect {
  constructor(
    protected readonly stack: TerraformStack,
    private readonly rules: readonly Rule[],
    private readonly mode: GuardrailMode,
    private readonly report: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
  ) {}

  static attach(stack: TerraformStack, rules: readonly Rule[], mode: GuardrailMode, report?: (message: string) => void): void {
    Aspects.of(stack).add(new Guardrails(stack, rules, mode, report));
  }

  private installed = false;

  /**
   * Checks the configuration the synth writes, when it is rendered: the stack's toTerraform is wrapped
   * once (at the aspect pass), so the rules read exactly the JSON written, and the stack is resolved
   * once, not twice.
   */
  visit(node: IConstruct): void {
    if (node !== this.stack || this.installed) return;
    this.installed = true;
    const render = this.stack.toTerraform.bind(this.stack);
    this.stack.toTerraform = () => {
      const json = render();
      this.check(json);
      return json;
    };
  }

  /** What the rules find in the stack's rendered JSON. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Terraform JSON, read key by key as Terraform reads it
  protected violations(json: any): Violation[] {
    return evaluate(viewOf(this.stack.node.id, json), this.rules);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Terraform JSON, read key by key as Terraform reads it
  private check(json: any): void {
    const violations = this.violations(json);
    if (violations.length === 0) return;
    if (this.mode === "enforce") throw new GuardrailError(violations, this.stack.node.id);
    this.report(`guardrails (report only) for ${this.stack.node.id} (${violations.length}):\n${formatViolations(violations)}`);
  }
}

/**
 * A rule over every stack of one environment at once: for what one phase must do about another's
 * resources (the recovery phase copying the database phase's backups). `home` is the stack the rule is
 * attached to; `stacks` holds it and every other phase of the environment.
 */
export interface EnvironmentRule {
  readonly id: string;
  readonly description: string;
  check(stacks: readonly StackView[], home: StackView): Violation[];
}

/**
 * The guardrail Aspect of environment rules, on one stack: when that stack is rendered, the rules read
 * its JSON and the JSON of the other phases of its environment (rendered again: the same configuration
 * their own files hold). `enforce` throws (the synth fails and nothing is written), `report` prints.
 */
export class EnvironmentGuardrails extends Guardrails {
  constructor(
    stack: TerraformStack,
    private readonly others: () => readonly TerraformStack[],
    private readonly environmentRules: readonly EnvironmentRule[],
    mode: GuardrailMode,
  ) {
    super(stack, [], mode);
  }

  static attachEnvironment(stack: TerraformStack, others: () => readonly TerraformStack[], rules: readonly EnvironmentRule[], mode: GuardrailMode): void {
    Aspects.of(stack).add(new EnvironmentGuardrails(stack, others, rules, mode));
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Terraform JSON, read key by key as Terraform reads it
  protected violations(json: any): Violation[] {
    const home = viewOf(this.stack.node.id, json);
    const views = [home, ...this.others().map((o) => viewOf(o.node.id, o.toTerraform()))];
    return this.environmentRules.flatMap((r) => r.check(views, home));
  }
}
