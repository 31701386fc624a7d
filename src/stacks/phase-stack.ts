import { Construct, Node } from "constructs";
import { S3Backend, TerraformElement, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { EnvironmentConfig } from "../config/settings";
import { Names, PhaseName, defaultTags, names, partitionOf } from "../naming";
import { Guardrails, Rule } from "../policy/guardrails";
import { BASELINE_RULES } from "../policy/rules";

/** The names cdktf gives the output and the remote state it generates for a reference across stacks. */
const GENERATED_OUTPUT = "cross-stack-output-";
const GENERATED_STATE = "cross-stack-reference-input-";

/**
 * cdktf's own wiring between stacks in a stack's JSON: the outputs it generates when another stack uses
 * one of this stack's constructs (`cross-stack-output-*`, always sensitive, named after construct ids),
 * and the remote state it generates in the stack that uses it (`cross-stack-reference-input-*`).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Terraform JSON, read key by key as Terraform reads it
export function generatedCrossStackWiring(json: any): string[] {
  const outputs = Object.entries<{ value?: unknown }>(json.output ?? {})
    .filter(([name]) => name.startsWith(GENERATED_OUTPUT))
    .map(([name, o]) => `output "${name}" (of ${JSON.stringify(o.value)})`);
  const states = Object.keys(json.data?.terraform_remote_state ?? {})
    .filter((name) => name.startsWith(GENERATED_STATE))
    .map((name) => `data.terraform_remote_state.${name}`);
  return [...outputs, ...states];
}

/**
 * `required_version` of every stack: 1.11 or a later 1.x. 1.11 is the first to accept write-only arguments
 * (the JWT secret's `secret_string_wo`); 1.10 would fail the cache phase. The checks run 1.11.
 */
export const TERRAFORM_VERSIONS = ">= 1.11, < 2.0";

/** Where a phase's state lives: its S3 backend's bucket, key and region. */
export interface StateLocation {
  readonly bucket: string;
  readonly key: string;
  readonly region: string;
}

export interface PhaseStackProps {
  readonly config: EnvironmentConfig;
  /**
   * The region the stack's default provider and its state live in: the environment's, or its DR region
   * (the recovery phase: its state stays readable when the primary region is down).
   * @default "primary"
   */
  readonly home?: "primary" | "dr";
  /** Rules to check this stack against; the security baseline by default. */
  readonly rules?: readonly Rule[];
}

/**
 * One deployment phase of one environment: `accessweaver-<env>-<phase>`, with its own state key in the
 * environment's S3 backend, an AWS provider locked to the environment's account, the default tags, and
 * the guardrails. Subclasses only wire constructs.
 */
export abstract class PhaseStack extends TerraformStack {
  readonly config: EnvironmentConfig;
  readonly phase: PhaseName;
  readonly names: Names;
  /** The ARN partition of the environment's region (`aws`, `aws-cn`, `aws-us-gov`). */
  readonly partition: string;
  /** The region of the default provider: the environment's, or its DR region for the recovery phase. */
  readonly region: string;
  /** Where the stack's state is: later phases read its outputs there. */
  readonly stateLocation: StateLocation;
  /** Logical id -> construct path, to refuse two constructs sharing one address. */
  private allocated?: Map<string, string>;

  constructor(scope: Construct, phase: PhaseName, props: PhaseStackProps) {
    const n = names(props.config.env, props.config.site);
    super(scope, n.stack(phase));
    this.config = props.config;
    this.phase = phase;
    this.names = n;
    this.partition = partitionOf(props.config.settings.region);
    const s = props.config.settings;
    // The DR environment's settings are already in dr_region (src/config/dr-environment.ts); its state,
    // like the recovery phase's, is in the DR backend.
    const drSite = props.config.site === "dr";
    const dr = props.home === "dr";
    if (dr && !s.drRegion) throw new Error(`${n.stack(phase)} lives in the DR region, but ${props.config.source.file} sets no dr_region.`);
    this.region = dr ? s.drRegion! : s.region;
    const drBackend = dr || drSite;
    this.stateLocation = { bucket: drBackend ? n.drStateBucket(s.accountId) : n.stateBucket(s.accountId), key: n.stateKey(phase), region: this.region };

    new S3Backend(this, { ...this.stateLocation, encrypt: true, dynamodbTable: n.lockTable });
    this.awsProvider("aws", this.region);
    // An older or a 2.x Terraform stops at init instead of planning with behaviour nobody checked.
    this.addOverride("terraform.required_version", TERRAFORM_VERSIONS);
    // cdktf writes the provider's short name; reviewers and `terraform init` read the full source.
    this.addOverride("terraform.required_providers.aws.source", "hashicorp/aws");
    Guardrails.attach(this, props.rules ?? BASELINE_RULES, props.config.sizing.guardrails);
  }

  /**
   * The stack's JSON, as cdktf renders it. A construct of one phase's stack used in another's makes cdktf
   * generate outputs and a remote state of its own (at preparation); phases read each other only through
   * their named handles, so that stops the synth.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- cdktf's own signature: the stack's Terraform JSON
  toTerraform(): any {
    const json = super.toTerraform();
    const generated = generatedCrossStackWiring(json);
    if (generated.length > 0) {
      throw new Error(
        `${this.node.id} holds cdktf's generated cross-stack wiring: ${generated.join(", ")}. A construct of one phase's stack is used in another phase's stack; a value of another phase is read through that phase's handles (readHandles in src/stacks/handles.ts), never by reference.`,
      );
    }
    return json;
  }

  /**
   * An AWS provider of this stack: the environment's account only and the default tags, in `region`;
   * with an alias, a second one for resources that must live in another region.
   */
  protected awsProvider(id: string, region: string, alias?: string): AwsProvider {
    const s = this.config.settings;
    return new AwsProvider(this, id, {
      region,
      ...(alias ? { alias } : {}),
      // Terraform refuses to touch any other account: prod cannot be applied with dev credentials.
      allowedAccountIds: [s.accountId],
      defaultTags: [{ tags: defaultTags({ env: this.config.env, phase: this.phase, costCenter: s.costCenter, owner: s.owner }) }],
    });
  }

  /**
   * Readable, stable addresses: the construct path below the stack joined with `_`
   * (`vpc_private-subnet-eu-west-1a`) instead of cdktf's default hash suffix. Construct ids are therefore
   * part of the contract: renaming one replaces its resource.
   */
  protected allocateLogicalId(element: TerraformElement | Node): string {
    const node = TerraformElement.isTerraformElement(element) ? element.node : element;
    const scopes = node.scopes;
    const components = scopes.slice(scopes.indexOf(this) + 1).map((c) => c.node.id);
    const id = components.join("_").replace(/[^A-Za-z0-9_-]/g, "_");
    // cdktf would silently merge two elements with one address; make that a synth error instead.
    this.allocated ??= new Map();
    const owner = this.allocated.get(id);
    if (owner !== undefined && owner !== node.path) {
      throw new Error(
        `Two constructs of ${this.node.id} map to the Terraform address id "${id}": ${owner} and ${node.path}. Rename one of their construct ids.`,
      );
    }
    this.allocated.set(id, node.path);
    return id;
  }
}
