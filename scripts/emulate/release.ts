/**
 * The release rehearsal of `make emulate`: after the second plans, the services phase is released as
 * `make release` does it (a new image tag for every service, synthesized, planned, the saved plan
 * applied), then planned a third time: that plan must be empty apart from the allow-list too.
 *
 * What the release plan must show: every task definition that runs the new tag registered anew (a new
 * revision), and no change to a service that CodeDeploy releases (blue/green: its task definition is
 * in ignore_changes, and CodeDeploy, which moto does not emulate, deploys the new revision).
 */
import { Json, JsonObject, isObject } from "../tf-check/json";
import { SynthStack } from "../tf-check/stacks";
import { PlanRule } from "./allow-list";
import { Change, Verdict, judge } from "./findings";

/** What the rehearsed release's tag adds to the tag the settings hold: a tag no real image has. */
export const RELEASE_TAG_SUFFIX = "-emulate-release";
/** The folder of the released copy, beside the first copy of the services phase. */
export const RELEASE_DIR_SUFFIX = "-release";
/** The saved plans of the rehearsal (make release plans, then applies the saved plan). */
export const RELEASE_PLAN = "release.tfplan";
export const THIRD_PLAN = "third.tfplan";

/** What the rehearsal asks the synth for: every service of `env` at `tag`, written to `outdir`. */
export interface ReleaseSynthRequest {
  readonly env: string;
  readonly tag: string;
  readonly outdir: string;
  /** The folder holding environments/ (ACCESSWEAVER_SETTINGS_ROOT, or the working directory); only read. */
  readonly settingsRoot: string;
  /** Where the synth's notices go (e.g. "using the example settings"). */
  readonly notice: (message: string) => void;
}

export type ReleaseSynth = (request: ReleaseSynthRequest) => Promise<void>;

/**
 * The synth `make release` runs (scripts/operator.ts): the settings as they are, with the release's
 * tag over the image tag of every service (`imageTagOverride`), into a folder of the rehearsal's own.
 * Nothing is written to the settings: make release records its tag only after a successful apply.
 */
export const synthesizeRelease: ReleaseSynth = async (r) => {
  const [{ synthesize }, { SERVICES }] = await Promise.all([import("../../src/synth"), import("../../src/naming")]);
  await synthesize({ outdir: r.outdir, envSelection: r.env, rootDir: r.settingsRoot, notice: r.notice, imageTagOverride: { services: SERVICES, tag: r.tag } });
};

const resourcesOf = (config: JsonObject, type: string): [string, JsonObject][] => {
  const all = isObject(config.resource) ? config.resource : {};
  const instances = all[type];
  return isObject(instances) ? Object.entries(instances).filter((e): e is [string, JsonObject] => isObject(e[1])) : [];
};

/** The container images of a task definition (its container_definitions, a JSON text). */
export function imagesOf(taskDefinition: JsonObject): string[] {
  const text =
    typeof taskDefinition.container_definitions === "string"
      ? taskDefinition.container_definitions
      : JSON.stringify(taskDefinition.container_definitions ?? "");
  return [...text.matchAll(/\\?"image\\?"\s*:\s*\\?"([^"\\]+)/g)].map((m) => m[1]!);
}

/** The tag of an image reference (`registry/repo:tag`), or undefined for a digest or no tag. */
export const tagOf = (image: string): string | undefined => {
  const last = image.slice(image.lastIndexOf("/") + 1);
  return !image.includes("@") && last.includes(":") ? last.slice(last.indexOf(":") + 1) : undefined;
};

/** The tag most task definitions of the stack run (the settings' image_tag, unless overrides dominate). */
export function currentTagOf(stack: SynthStack): string | undefined {
  const count = new Map<string, number>();
  for (const [, body] of resourcesOf(stack.config, "aws_ecs_task_definition")) {
    for (const tag of new Set(imagesOf(body).map(tagOf))) if (tag) count.set(tag, (count.get(tag) ?? 0) + 1);
  }
  return [...count].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

/** Addresses of the task definitions whose containers run `tag`: what the release must register anew. */
export function taskDefinitionsRunning(config: JsonObject, tag: string): string[] {
  return resourcesOf(config, "aws_ecs_task_definition")
    .filter(([, body]) => imagesOf(body).some((i) => tagOf(i) === tag))
    .map(([name]) => `aws_ecs_task_definition.${name}`);
}

/** Addresses of the ECS services released by CodeDeploy (deployment controller CODE_DEPLOY). */
export function codeDeployServices(config: JsonObject): string[] {
  return resourcesOf(config, "aws_ecs_service")
    .filter(([, body]) => {
      const controllers: Json[] = Array.isArray(body.deployment_controller) ? body.deployment_controller : [body.deployment_controller ?? null];
      return controllers.some((c) => isObject(c) && c.type === "CODE_DEPLOY");
    })
    .map(([name]) => `aws_ecs_service.${name}`);
}

/** Something the release plan does that `make release` does not expect: a finding of the rehearsal. */
export interface ReleaseProblem {
  readonly address: string;
  /** What the release plan does to it. */
  readonly found: string;
  /** What a release must do instead. */
  readonly expected: string;
}

export interface ReleasePlanCheck {
  /** Task definitions the release plan registers anew (expected: every one that runs the tag). */
  readonly registered: readonly string[];
  /** Services the release plan changes, with its actions (the rolling ones deploy the new revision). */
  readonly services: readonly { readonly address: string; readonly actions: readonly string[] }[];
  /** Services released by CodeDeploy: the release plan must leave them alone. */
  readonly codeDeploy: readonly string[];
  readonly problems: readonly ReleaseProblem[];
}

/**
 * Reads the release plan against what a release must do: each task definition that runs `tag` gets a
 * new revision (an action that creates it), and a CodeDeploy-released service has no change beyond
 * the allow-listed emulator gaps (its task_definition is in ignore_changes: CodeDeploy deploys it).
 */
export function checkReleasePlan(released: JsonObject, tag: string, changes: readonly Change[], rules: readonly PlanRule[]): ReleasePlanCheck {
  const byAddress = new Map(changes.map((c) => [c.address, c]));
  const expected = taskDefinitionsRunning(released, tag);
  const codeDeploy = codeDeployServices(released);
  const problems: ReleaseProblem[] = [];
  for (const address of expected) {
    const c = byAddress.get(address);
    if (!c?.actions.includes("create")) {
      problems.push({
        address,
        found: c ? `the release plan's actions are ${c.actions.join("+")}` : "the release plan leaves it unchanged",
        expected: `a new revision running the image tag ${tag} (create, or delete+create)`,
      });
    }
  }
  for (const address of codeDeploy) {
    const c = byAddress.get(address);
    if (!c) continue;
    const verdict: Verdict = judge([c], rules);
    if (verdict.findings.length > 0) {
      problems.push({
        address,
        found: `the release plan changes it (${c.actions.join("+")}: ${c.diff.join("; ") || "see release-plan.txt"})`,
        expected:
          "no change: CodeDeploy releases this service (its task_definition is in ignore_changes); a Terraform change would bypass or undo the blue/green deployment",
      });
    }
  }
  return {
    registered: expected.filter((a) => byAddress.get(a)?.actions.includes("create")),
    services: changes.filter((c) => c.type === "aws_ecs_service" && !codeDeploy.includes(c.address)).map((c) => ({ address: c.address, actions: c.actions })),
    codeDeploy,
    problems,
  };
}
