import { Construct } from "constructs";
import { EnvironmentConfig } from "../config/settings";
import { PHASES, PhaseName } from "../naming";
import { NetworkStack } from "./network-stack";
import { PhaseStack } from "./phase-stack";

/** The stacks of one environment built so far, by phase: later phases read earlier ones from here. */
export type BuiltPhases = Partial<Record<PhaseName, PhaseStack>>;

export interface PhaseDefinition {
  readonly phase: PhaseName;
  build(scope: Construct, config: EnvironmentConfig, built: BuiltPhases): PhaseStack;
}

/**
 * The phases that exist, in any order (they are built in the order of PHASES). Adding a phase is adding
 * its stack class and one entry here.
 */
export const REGISTERED_PHASES: readonly PhaseDefinition[] = [{ phase: "network", build: (scope, config) => new NetworkStack(scope, config) }];

/** The earlier phase a later one depends on, with its class checked. */
export function upstream<T extends PhaseStack>(built: BuiltPhases, phase: PhaseName, type: abstract new (...args: never[]) => T): T {
  const stack = built[phase];
  if (!(stack instanceof type)) throw new Error(`phase ${phase} must be built before the phases that read it`);
  return stack;
}

/** Builds every registered phase of one environment, in phase order. */
export function buildEnvironment(scope: Construct, config: EnvironmentConfig): PhaseStack[] {
  const built: BuiltPhases = {};
  const ordered = [...REGISTERED_PHASES].sort((a, b) => PHASES.indexOf(a.phase) - PHASES.indexOf(b.phase));
  return ordered.map((def) => (built[def.phase] = def.build(scope, config, built)));
}
