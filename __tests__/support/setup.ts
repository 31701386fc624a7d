import * as fs from "fs";
import * as path from "path";
// No test reaches the network (aws and dig are stand-ins, Terraform reads the local provider mirror,
// cdktf's telemetry is off), so no test process needs the machine's extra CA bundle, which node loads at
// every start (tens of ms each; the suite starts many: make, the operator, the app). This reaches the
// children started with a copy of this environment (childEnv, the stand-ins'). The project's own
// commands keep the bundle: a run behind a TLS-inspecting proxy needs it.
delete process.env.NODE_EXTRA_CA_CERTS;

// The operator reads its inputs, and cdktf and the operator their output style, from the environment:
// what `make test` exports to its sub-makes (PHASE=, SERVICE=, ... empty) or what a CI job sets (CI=true)
// must not reach the runs under test, which would then test the outer run's settings, not their own.
// Every input the Makefile passes as data (its INPUTS line), each with its `<name>_GIVEN` marker.
const makeInputs = (/^INPUTS :=(.*)$/m.exec(fs.readFileSync(path.join(__dirname, "../../Makefile"), "utf8"))?.[1] ?? "").trim().split(/\s+/).filter(Boolean);
for (const name of [
  "CI",
  "NO_COLOR",
  "FORCE_COLOR",
  "CDKTF_OUTDIR",
  "ACCESSWEAVER_MAKE_EXPORTS",
  ...makeInputs,
  ...makeInputs.map((input) => `${input}_GIVEN`),
]) {
  delete process.env[name];
}
