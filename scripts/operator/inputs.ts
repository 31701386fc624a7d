/**
 * The one place where the operator's inputs are checked, before anything runs: the command, ENV and
 * PHASE (the Makefile passes them as data, never as command text; see its INPUTS).
 */
import * as path from "path";
import { ENVIRONMENTS, EnvironmentName, PHASES, PhaseName, SERVICES, ServiceName, isEnvironmentName } from "../../src/naming";
import { Refusal } from "./process";

/** Commands that run Terraform against an environment (they need ENV, the settings and the binary). */
export const TERRAFORM_COMMANDS = ["init", "plan", "apply", "deploy", "output", "destroy", "drift", "release", "db-roles"] as const;
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
}

const COMMANDS: readonly string[] = [...TERRAFORM_COMMANDS, ...AWS_COMMANDS, ...LOCAL_COMMANDS];
const shown = (value: string) => JSON.stringify(value);

/**
 * Checks the command line. A value that is set but blank (spaces, or a make expression that expanded
 * to nothing) is refused rather than read as "all phases" or "all environments".
 */
export function parseInputs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Inputs {
  const [command = "", environment = "", phase = ""] = argv;
  if (!COMMANDS.includes(command)) throw new Refusal(`Unknown command ${shown(command)}. Commands: ${COMMANDS.join(", ")}.`);
  for (const [name, value] of [["ENV", environment], ["PHASE", phase]] as const) {
    if (value !== "" && value.trim() === "") throw new Refusal(`${name} is set but blank (${shown(value)}). Give one of its values, or leave ${name} out entirely.`);
  }
  if (phase === "" && env.PHASE_GIVEN === "1" && command !== "synth" && command !== "check") {
    throw new Refusal(`PHASE is given but empty (an unset variable in PHASE=$...?). Name one phase (${PHASES.join(", ")}), or leave PHASE out to ${command} every phase.`);
  }
  const optionalEnv = command === "synth" || command === "check" || command === "phases";
  if (!environment && !optionalEnv) throw new Refusal(`make ${command} needs ENV: one of ${ENVIRONMENTS.join(", ")}.`);
  if (environment && !isEnvironmentName(environment)) throw new Refusal(`Unknown ENV ${shown(environment)}. Valid environments: ${ENVIRONMENTS.join(" ")}.`);
  if (phase && !(PHASES as readonly string[]).includes(phase)) throw new Refusal(`Unknown PHASE ${shown(phase)}. Phases: ${PHASES.join(", ")}.`);
  const service = env.SERVICE ?? "";
  const tag = env.TAG ?? "";
  if (command === "release" || command === "restart") {
    if (phase) throw new Refusal(`make ${command} acts on the services phase only: leave PHASE out (it was ${shown(phase)}).`);
    if (service && !(SERVICES as readonly string[]).includes(service)) throw new Refusal(`Unknown SERVICE ${shown(service)}. Services: ${SERVICES.join(", ")}.`);
    if (command === "restart" && !service) throw new Refusal(`make restart needs SERVICE: the one service to restart (${SERVICES.join(", ")}).`);
    if (command === "release" && !tag) throw new Refusal(`make release needs TAG: the image tag to release, e.g. TAG=1.4.2 (add SERVICE=<service> to release one service).`);
  }
  if (command === "db-roles" && phase) throw new Refusal(`make db-roles runs the services phase's db-roles task: leave PHASE out (it was ${shown(phase)}).`);
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
  };
}
