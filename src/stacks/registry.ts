import { Construct } from "constructs";
import { EnvironmentConfig } from "../config/settings";
import { drEnvironment } from "../config/dr-environment";
import { DR_PHASES, PHASES, PhaseName } from "../naming";
import { BuiltPhases } from "./handles";
import { CacheStack } from "./cache-stack";
import { DatabaseStack } from "./database-stack";
import { LoadbalancerStack } from "./loadbalancer-stack";
import { NetworkStack } from "./network-stack";
import { ObservabilityStack } from "./observability-stack";
import { PhaseStack } from "./phase-stack";
import { RecoveryStack } from "./recovery-stack";
import { ServicesStack } from "./services-stack";

export type { BuiltPhases } from "./handles";

export interface PhaseDefinition {
  readonly phase: PhaseName;
  /** The environments that have this phase. @default every one */
  readonly when?: (config: EnvironmentConfig) => boolean;
  build(scope: Construct, config: EnvironmentConfig, built: BuiltPhases): PhaseStack;
}

/**
 * The phases that exist, in any order (they are built in the order of PHASES). Adding a phase is adding
 * its stack class and one entry here.
 */
export const REGISTERED_PHASES: readonly PhaseDefinition[] = [
  { phase: "network", build: (scope, config) => new NetworkStack(scope, config) },
  { phase: "database", build: (scope, config, built) => new DatabaseStack(scope, config, built) },
  { phase: "cache", build: (scope, config, built) => new CacheStack(scope, config, built) },
  { phase: "loadbalancer", build: (scope, config, built) => new LoadbalancerStack(scope, config, built) },
  { phase: "services", build: (scope, config, built) => new ServicesStack(scope, config, built) },
  { phase: "observability", build: (scope, config, built) => new ObservabilityStack(scope, config, built) },
  // Only where there is a DR region to copy to (prod always; staging when it drills).
  { phase: "recovery", when: (config) => config.settings.drRegion !== undefined, build: (scope, config, built) => new RecoveryStack(scope, config, built) },
];

/**
 * The DR environment of `config` (Region loss, part 2): every registered phase but recovery, built for
 * `dr_region` from the recovery phase's copies (src/config/dr-environment.ts), as stacks
 * `accessweaver-<env>-dr-<phase>` with their state in the DR backend.
 */
export function buildDrEnvironment(scope: Construct, config: EnvironmentConfig, restoreTime?: string): PhaseStack[] {
  return buildEnvironment(
    scope,
    drEnvironment(config, restoreTime),
    REGISTERED_PHASES.filter((def) => (DR_PHASES as readonly string[]).includes(def.phase)),
  );
}

/** Builds every registered phase (or those given) of one environment, in phase order. */
export function buildEnvironment(scope: Construct, config: EnvironmentConfig, phases: readonly PhaseDefinition[] = REGISTERED_PHASES): PhaseStack[] {
  const built: BuiltPhases = {};
  const ordered = phases.filter((def) => def.when?.(config) ?? true).sort((a, b) => PHASES.indexOf(a.phase) - PHASES.indexOf(b.phase));
  return ordered.map((def) => (built[def.phase] = def.build(scope, config, built)));
}
