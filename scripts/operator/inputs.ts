/**
 * The one place where the operator's inputs are checked, before anything runs: the command, ENV,
 * PHASE, SERVICE, FORMAT, COMPARE, RESTORE_TIME, SCENARIO and PATTERN (the Makefile passes them as data,
 * never as command text; see its INPUTS), and the one place that writes them back as the make command
 * line a message tells the operator to run again.
 */
import * as path from "path";
import { RESTORE_TIME } from "../../src/config/dr-environment";
import { DRILL_SCENARIOS, DrillScenario, ENVIRONMENTS, EnvironmentName, PHASES, PhaseName, SERVICES, ServiceName, isEnvironmentName } from "../../src/naming";
import { Refusal } from "./process";

/** The DR environment's commands (scripts/operator/restore.ts). */
const RESTORE_COMMANDS = ["restore", "restore-teardown"] as const;
/** The operations checks (docs/operations-checks.md): they read the outputs of the phases they need from their state. */
const CHECK_COMMANDS = ["drill", "alert-test", "cache-flush"] as const;
/** The Terraform workflow's own commands (scripts/operator/workflow.ts). */
const WORKFLOW_COMMANDS = ["init", "plan", "apply", "deploy", "output", "destroy", "drift"] as const;
/** Commands that run Terraform against an environment (they need ENV, the settings and the binary). */
export const TERRAFORM_COMMANDS = [...WORKFLOW_COMMANDS, "release", "db-roles", ...RESTORE_COMMANDS, ...CHECK_COMMANDS] as const;
/** Commands that act on a fixed set of phases (the services phase, the DR environment's, the checks'): PHASE is not theirs. */
const OWN_PHASES: readonly string[] = ["release", "restart", "db-roles", ...RESTORE_COMMANDS, ...CHECK_COMMANDS];
/** Commands that call AWS only (the AWS CLI), never Terraform. */
export const AWS_COMMANDS = ["restart"] as const;
/** Commands that need no Terraform: synth (ENV optional), check (inputs only), phases (for make help). */
export const LOCAL_COMMANDS = ["synth", "check", "phases"] as const;
export type TerraformCommand = (typeof TERRAFORM_COMMANDS)[number];
export type Command = TerraformCommand | (typeof AWS_COMMANDS)[number] | (typeof LOCAL_COMMANDS)[number];

export interface Inputs {
  readonly command: Command;
  /** Absent only for synth and check, meaning every environment. */
  readonly env?: EnvironmentName;
  readonly phase?: PhaseName;
  readonly outdir: string;
  readonly tf: string;
  readonly settingsRoot: string;
  /** release, restart: SERVICE (release: absent means every service). */
  readonly service?: ServiceName;
  /** release: TAG (checked against the environment's image-tag rule once ENV is known). */
  readonly tag?: string;
  /** output: FORMAT=json, for lists and maps. */
  readonly format?: "json";
  /** restore: RESTORE_TIME, the database's point in time (ISO 8601 UTC, not in the future); absent: the latest restorable time. */
  readonly restoreTime?: string;
  /** drill: SCENARIO, the failure to inject. */
  readonly scenario?: DrillScenario;
  /** cache-flush: PATTERN, a Redis glob pattern of the keys to delete (`*` alone: every key). */
  readonly pattern?: string;
}

const COMMANDS: readonly string[] = [...TERRAFORM_COMMANDS, ...AWS_COMMANDS, ...LOCAL_COMMANDS];
const shown = (value: string) => JSON.stringify(value);

/**
 * Where the Makefile says a variable was given (PHASE_GIVEN, SERVICE_GIVEN): "command line", or
 * "environment" for a value the operator's shell exported; undefined when it was left out. ("1" is
 * the command line, as older Makefiles said.)
 */
function givenIn(env: NodeJS.ProcessEnv, name: Given): "command line" | "environment" | undefined {
  const where = env[`${name}_GIVEN`];
  if (where === "environment") return "environment";
  return where === "1" || where === "command line" ? "command line" : undefined;
}

/** The variables whose emptiness, given, is refused (the Makefile says where they were given: <NAME>_GIVEN). */
type Given = "PHASE" | "SERVICE" | "RESTORE_TIME";

/**
 * The refusal of a variable given but empty, which would otherwise read as "all of them" (or "the
 * latest"): `valid` lists its values, or says in words what one is.
 */
function emptyGiven(name: Given, where: "command line" | "environment", valid: readonly string[] | string, all: string): Refusal {
  const one = typeof valid === "string" ? valid : `one ${name.toLowerCase()} (${valid.join(", ")})`;
  const how =
    where === "environment"
      ? `${name} is set but empty in the environment (export ${name}=$... with that variable unset?). Name ${one}, or unset it (unset ${name}) to ${all}.`
      : `${name} is given but empty (an unset variable in ${name}=$...?). Name ${one}, or leave ${name} out to ${all}.`;
  return new Refusal(how);
}

/** An ISO 8601 UTC time to the second (fractions allowed), as RESTORE_TIME takes it: the DR database's form. */
const ISO_UTC = RESTORE_TIME;
const RESTORE_TIME_EXAMPLE = "RESTORE_TIME=2026-12-06T21:30:00Z";

/** Why RESTORE_TIME cannot be a restore's point in time (malformed, or in the future), or undefined. */
export function restoreTimeProblem(value: string, now: Date = new Date()): string | undefined {
  const at = Date.parse(value);
  // The round trip refuses what Date would roll over (February 30th, 24:00).
  if (!ISO_UTC.test(value) || Number.isNaN(at) || new Date(at).toISOString().slice(0, 19) !== value.slice(0, 19)) {
    return `RESTORE_TIME ${shown(value)} is not an ISO 8601 UTC time: give the date and time in UTC to the second, with a T and a Z, e.g. ${RESTORE_TIME_EXAMPLE}; or leave RESTORE_TIME out to restore to the latest restorable time.`;
  }
  if (at > now.getTime()) {
    return `RESTORE_TIME ${value} is in the future (it is now ${now.toISOString().slice(0, 19)}Z): a restore reaches at most the latest restorable time of the replicated backups. Leave RESTORE_TIME out to restore to that time, or give a time before it.`;
  }
  return undefined;
}

/**
 * Checks the command line. A value that is set but blank (spaces, or a make expression that expanded
 * to nothing) is refused rather than read as "all phases" or "all environments".
 */
export function parseInputs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Inputs {
  const [command = "", environment = "", phase = ""] = argv;
  if (!COMMANDS.includes(command)) throw new Refusal(`Unknown command ${shown(command)}. Commands: ${COMMANDS.join(", ")}.`);
  for (const [name, value] of [
    ["ENV", environment],
    ["PHASE", phase],
  ] as const) {
    if (value !== "" && value.trim() === "")
      throw new Refusal(`${name} is set but blank (${shown(value)}). Give one of its values, or leave ${name} out entirely.`);
  }
  // Only where an empty PHASE means every phase (release, restart and db-roles act on services alone; restore on the DR environment).
  const phaseGiven = givenIn(env, "PHASE");
  if (phase === "" && phaseGiven && (TERRAFORM_COMMANDS as readonly string[]).includes(command) && !OWN_PHASES.includes(command)) {
    throw emptyGiven("PHASE", phaseGiven, PHASES, `${command} every phase`);
  }
  const optionalEnv = command === "synth" || command === "check" || command === "phases";
  if (!environment && !optionalEnv) throw new Refusal(`make ${command} needs ENV: one of ${ENVIRONMENTS.join(", ")}.`);
  if (environment && !isEnvironmentName(environment)) throw new Refusal(`Unknown ENV ${shown(environment)}. Valid environments: ${ENVIRONMENTS.join(" ")}.`);
  if (phase && !(PHASES as readonly string[]).includes(phase)) throw new Refusal(`Unknown PHASE ${shown(phase)}. Phases: ${PHASES.join(", ")}.`);
  // make review runs `check` first: COMPARE is refused as itself, not as an unknown ENV.
  const compare = env.COMPARE ?? "";
  if (command === "check" && compare !== "" && !isEnvironmentName(compare)) {
    throw new Refusal(
      `Unknown COMPARE ${shown(compare)}: the environment make review compares ENV with. Valid environments: ${ENVIRONMENTS.join(" ")}; leave COMPARE out to review ENV alone.`,
    );
  }
  const format = env.FORMAT ?? "";
  if (command === "output" && format !== "" && format !== "json") {
    throw new Refusal(`Unknown FORMAT ${shown(format)}. FORMAT=json prints the output as JSON (lists and maps); leave FORMAT out for the raw value.`);
  }
  const service = env.SERVICE ?? "";
  const tag = env.TAG ?? "";
  if (command === "release" || command === "restart") {
    if (phase) throw new Refusal(`make ${command} acts on the services phase only: leave PHASE out (it was ${shown(phase)}).`);
    // SERVICE=$UNSET would otherwise release every service (make restart refuses no SERVICE below).
    const serviceGiven = givenIn(env, "SERVICE");
    if (command === "release" && service === "" && serviceGiven) throw emptyGiven("SERVICE", serviceGiven, SERVICES, "release every service");
    if (service && !(SERVICES as readonly string[]).includes(service))
      throw new Refusal(`Unknown SERVICE ${shown(service)}. Services: ${SERVICES.join(", ")}.`);
    if (command === "restart" && !service) throw new Refusal(`make restart needs SERVICE: the one service to restart (${SERVICES.join(", ")}).`);
    if (command === "release" && !tag)
      throw new Refusal(`make release needs TAG: the image tag to release, e.g. TAG=1.4.2 (add SERVICE=<service> to release one service).`);
  }
  if (command === "db-roles" && phase) throw new Refusal(`make db-roles runs the services phase's db-roles task: leave PHASE out (it was ${shown(phase)}).`);
  if ((RESTORE_COMMANDS as readonly string[]).includes(command) && phase)
    throw new Refusal(`make ${command} acts on every phase of the DR environment, in order: leave PHASE out (it was ${shown(phase)}).`);
  const restoreTime = env.RESTORE_TIME ?? "";
  if (command === "restore") {
    const timeGiven = givenIn(env, "RESTORE_TIME");
    if (restoreTime === "" && timeGiven)
      throw emptyGiven("RESTORE_TIME", timeGiven, `a time (${RESTORE_TIME_EXAMPLE})`, "restore to the latest restorable time");
    const problem = restoreTime === "" ? undefined : restoreTimeProblem(restoreTime);
    if (problem) throw new Refusal(`${problem} Nothing was planned or applied.`);
  }
  const { scenario, pattern } = checkInputs(command, phase, env);
  if (command === "deploy" && !phase) throw new Refusal(`make deploy needs PHASE: the one phase to deploy with the cdktf CLI (${PHASES.join(", ")}).`);
  return {
    command: command as Command,
    ...(environment ? { env: environment as EnvironmentName } : {}),
    ...(phase ? { phase: phase as PhaseName } : {}),
    outdir: path.resolve(env.CDKTF_OUTDIR || "cdktf.out"),
    tf: env.TF || "terraform",
    settingsRoot: path.resolve(env.ACCESSWEAVER_SETTINGS_ROOT || "."),
    ...(service && (command === "release" || command === "restart") ? { service: service as ServiceName } : {}),
    ...(tag && command === "release" ? { tag } : {}),
    ...(format === "json" && command === "output" ? { format: "json" as const } : {}),
    ...(restoreTime && command === "restore" ? { restoreTime } : {}),
    ...(scenario ? { scenario } : {}),
    ...(pattern ? { pattern } : {}),
  };
}

/**
 * The inputs of the operations checks: PHASE is not theirs, make drill needs a known SCENARIO, make
 * cache-flush a PATTERN (never empty: an unset variable must not read as "every key").
 */
function checkInputs(command: string, phase: string, env: NodeJS.ProcessEnv): { scenario?: DrillScenario; pattern?: string } {
  if (!(CHECK_COMMANDS as readonly string[]).includes(command)) return {};
  if (phase) throw new Refusal(`make ${command} reads the phases it needs itself: leave PHASE out (it was ${shown(phase)}).`);
  const scenario = env.SCENARIO ?? "";
  if (command === "drill") {
    if (!(DRILL_SCENARIOS as readonly string[]).includes(scenario)) {
      throw new Refusal(
        scenario
          ? `Unknown SCENARIO ${shown(scenario)}. Scenarios: ${DRILL_SCENARIOS.join(", ")}.`
          : `make drill needs SCENARIO: the failure to drill, one of ${DRILL_SCENARIOS.join(", ")}.`,
      );
    }
    return { scenario: scenario as DrillScenario };
  }
  const pattern = env.PATTERN ?? "";
  if (command === "cache-flush") {
    if (pattern === "") {
      throw new Refusal(
        `make cache-flush needs PATTERN: the keys to delete, a Redis glob pattern, e.g. PATTERN='aw:pdp:*' (PATTERN='*' deletes every key, with CONFIRM in prod). PATTERN was left out or empty: an empty PATTERN is never read as every key.`,
      );
    }
    // Control characters: no key pattern needs one, and they would garble the commands and logs that show it.
    if ([...pattern].some((c) => c < " " || c === "\x7f"))
      throw new Refusal(`PATTERN ${shown(pattern)} holds a control character (a line break?): give the pattern alone.`);
    return { pattern };
  }
  return {};
}

/** One value as the operator would type it in a shell: bare when safe, else single-quoted. */
const typed = (value: string) => (/^[A-Za-z0-9_.,:/=@+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);

/**
 * The make command that runs `i` again, with every variable it needs (a message's "run ... again" or
 * "Next:"): `make release ENV=prod` without its TAG would plan the tag the settings hold, and `make
 * restart ENV=prod` without SERVICE is refused. AUTO_APPROVE is left for the operator to add.
 */
export function commandLine(i: Inputs, env: NodeJS.ProcessEnv = process.env): string {
  const vars: [string, string | undefined][] = [
    ["ENV", i.env],
    ["PHASE", i.phase],
    ["TAG", i.tag],
    ["SERVICE", i.service],
    ["RESTORE_TIME", i.restoreTime],
    ["SCENARIO", i.scenario],
    ["PATTERN", i.pattern],
    ["NAME", i.command === "output" ? env.NAME : undefined],
    ["FORMAT", i.format],
    ["CONFIRM", ["destroy", "restore-teardown", "drill", "cache-flush"].includes(i.command) ? env.CONFIRM : undefined],
    ["INIT_FLAGS", i.command === "init" ? env.INIT_FLAGS : undefined],
    ["TF", i.tf !== "terraform" ? i.tf : undefined],
  ];
  return [`make ${i.command}`, ...vars.filter(([, v]) => v).map(([k, v]) => `${k}=${typed(v!)}`)].join(" ");
}
