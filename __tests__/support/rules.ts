import { App, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { EnvironmentName, PhaseName, defaultTags } from "../../src/naming";
import { Rule, evaluate, viewOf } from "../../src/policy/guardrails";
import { tempDir } from "./config";

/** A bare stack of an environment with a tagged provider; `add` puts the resources under test in it. */
export function bareStack(env: EnvironmentName, phase: PhaseName, add: (s: TerraformStack) => void): TerraformStack {
  const s = new TerraformStack(new App({ outdir: tempDir() }), `accessweaver-${env}-test`);
  new AwsProvider(s, "aws", { region: "eu-west-1", defaultTags: [{ tags: defaultTags({ env, phase, costCenter: "CC-42", owner: "platform" }) }] });
  add(s);
  return s;
}

/** `<address>: <message>` of each violation of one rule on a stack. */
export const ruleMessages = (rule: Rule, s: TerraformStack): string[] =>
  evaluate(viewOf(s.node.id, s.toTerraform()), [rule]).map((v) => `${v.address}: ${v.message}`);
