// The operator's inputs: an empty PHASE or SERVICE from the shell's environment, FORMAT, COMPARE, a
// LATEST tag in prod, and the make command lines that messages tell the operator to run again.
import * as fs from "fs";
import * as path from "path";
import { commandLine, parseInputs } from "../scripts/operator/inputs";
import { imageTagProblem } from "../src/config/settings";
import { operatorHarness } from "./support/standins-operator";

const h = operatorHarness();
/**
 * The shell of an operator who typed `export <name>=` (a variable that expanded to nothing): set but
 * empty in make's environment. ACCESSWEAVER_MAKE_EXPORTS is emptied: when the suite itself runs under
 * make, it is set, and would mark the environment's values as make's own exports.
 */
const shellWith = (vars: NodeJS.ProcessEnv) => ({ env: { ACCESSWEAVER_MAKE_EXPORTS: "", PHASE_GIVEN: "", SERVICE_GIVEN: "", ...vars } });
const PHASES = "network, database, cache, loadbalancer, services, observability, recovery";

describe("PHASE and SERVICE set but empty in the environment", () => {
  it.each(["plan", "apply", "init", "drift", "destroy"])("make %s ENV=dev with an exported empty PHASE is refused, not run on every phase", (target) => {
    const r = h.make([target, "ENV=dev"], shellWith({ PHASE: "" }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      `PHASE is set but empty in the environment (export PHASE=$... with that variable unset?). Name one phase (${PHASES}), or unset it (unset PHASE) to ${target} every phase.`,
    );
    expect(r.log).toEqual([]);
  });

  it("an exported PHASE with a value is used; a PHASE the environment does not hold means every phase", () => {
    const one = h.make(["init", "ENV=dev"], shellWith({ PHASE: "network" }));
    expect(one.status).toBe(0);
    expect(one.log).toEqual([`terraform ${h.dir("dev", "network")} init -no-color -input=false`]);
    const all = h.make(["init", "ENV=dev"], shellWith({}));
    // The status with what the run said, so that a failure shows why.
    expect({ status: all.status, stderr: all.status === 0 ? "" : all.stderr }).toEqual({ status: 0, stderr: "" });
    expect(all.log.length).toBeGreaterThan(1);
  });

  it("the empty PHASE this Makefile exports to its own sub-makes is not taken for the operator's", () => {
    const r = h.make(["init", "ENV=dev"], { env: { ACCESSWEAVER_MAKE_EXPORTS: "1", PHASE: "", PHASE_GIVEN: "" } });
    expect(r.stderr).not.toContain("PHASE is set but empty");
    expect(r.status).toBe(0);
  });

  it("make release with SERVICE given but empty (command line or environment) is refused, not run on every service", () => {
    const typed = h.make(["release", "ENV=prod", "TAG=1.4.2", "SERVICE="], shellWith({}));
    expect(typed.status).not.toBe(0);
    expect(typed.stderr).toContain("SERVICE is given but empty (an unset variable in SERVICE=$...?). Name one service (aw-api-gateway, ");
    expect(typed.stderr).toContain("or leave SERVICE out to release every service.");
    const exported = h.make(["release", "ENV=prod", "TAG=1.4.2"], shellWith({ SERVICE: "" }));
    expect(exported.status).not.toBe(0);
    expect(exported.stderr).toContain("SERVICE is set but empty in the environment (export SERVICE=$... with that variable unset?).");
    expect([typed.log, exported.log]).toEqual([[], []]);
  });

  it("release and db-roles do not read PHASE: an empty one is not refused there", () => {
    for (const command of ["release", "db-roles"]) {
      expect(() => parseInputs([command, "dev", ""], { PHASE_GIVEN: "environment", TAG: "1.4.2" })).not.toThrow();
    }
    expect(() => parseInputs(["plan", "dev", ""], { PHASE_GIVEN: "environment" })).toThrow("PHASE is set but empty in the environment");
    expect(() => parseInputs(["plan", "dev", ""], { PHASE_GIVEN: "command line" })).toThrow("PHASE is given but empty");
  });
});

describe("FORMAT and COMPARE", () => {
  it("make output refuses a FORMAT other than json, naming FORMAT", () => {
    const r = h.make(["output", "ENV=dev", "NAME=vpc_id", "FORMAT=yaml"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Unknown FORMAT "yaml". FORMAT=json prints the output as JSON (lists and maps); leave FORMAT out for the raw value.');
    expect(r.log).toEqual([]);
    expect(parseInputs(["output", "dev"], { FORMAT: "json" }).format).toBe("json");
    expect(parseInputs(["output", "dev"], {}).format).toBeUndefined();
  });

  it("make review refuses an unknown COMPARE as COMPARE, before anything is synthesized", () => {
    const r = h.make(["review", "ENV=dev", "COMPARE=qa"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      'Unknown COMPARE "qa": the environment make review compares ENV with. Valid environments: dev staging prod; leave COMPARE out to review ENV alone.',
    );
    expect(r.stderr).not.toContain("Unknown ENV");
    expect(fs.existsSync(path.join(h.out, "stacks"))).toBe(false);
    expect(() => parseInputs(["check", "dev"], { COMPARE: "prod" })).not.toThrow();
  });
});

describe("image tags in prod", () => {
  it.each(["latest", "LATEST", "Latest"])("refuses %s in prod, and says why for another case than latest's", (tag) => {
    const problem = imageTagProblem("prod", tag);
    expect(problem).toContain(`${JSON.stringify(tag)} is refused in prod: give an immutable release tag`);
    if (tag !== "latest") expect(problem).toContain('ECR tags are case-sensitive, so this is not the tag "latest", but it names the same moving intent');
    expect(imageTagProblem("dev", tag)).toBeUndefined();
  });

  it("make release TAG=LATEST in prod is refused before anything is called", () => {
    const r = h.make(["release", "ENV=prod", "TAG=LATEST"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('TAG refused: "LATEST" is refused in prod');
    expect(r.log).toEqual([]);
  });
});

describe("the command line a message tells the operator to run again", () => {
  const i = (argv: string[], env: NodeJS.ProcessEnv = {}) => commandLine(parseInputs(argv, env), env);

  it("carries every variable the run needs", () => {
    expect(i(["release", "prod"], { TAG: "1.4.2" })).toBe("make release ENV=prod TAG=1.4.2");
    expect(i(["release", "prod"], { TAG: "1.4.2", SERVICE: "aw-pdp-service" })).toBe("make release ENV=prod TAG=1.4.2 SERVICE=aw-pdp-service");
    expect(i(["restart", "prod"], { SERVICE: "aw-pdp-service" })).toBe("make restart ENV=prod SERVICE=aw-pdp-service");
    expect(i(["output", "prod"], { NAME: "waf_web_acl_arn", FORMAT: "json" })).toBe("make output ENV=prod NAME=waf_web_acl_arn FORMAT=json");
    expect(i(["destroy", "prod", "cache"], { CONFIRM: "accessweaver-prod-cache" })).toBe("make destroy ENV=prod PHASE=cache CONFIRM=accessweaver-prod-cache");
    expect(i(["init", "prod"], { INIT_FLAGS: "-reconfigure -upgrade", TF: "tofu" })).toBe("make init ENV=prod INIT_FLAGS='-reconfigure -upgrade' TF=tofu");
    expect(i(["apply", "prod", "network"], { AUTO_APPROVE: "1", NAME: "ignored" })).toBe("make apply ENV=prod PHASE=network");
  });

  it("quotes a value that a shell would split or expand", () => {
    expect(i(["output", "dev"], { NAME: "it's $(x)" })).toBe(`make output ENV=dev NAME='it'\\''s $(x)'`);
  });
});
