import { skipTokenStackTraces } from "../../src/token-traces";

// As the app does: no test reads a token's creation stack, and under jest each captured trace is
// source-mapped (about 2 s of make unit).
skipTokenStackTraces();

// No test reaches the network (aws and dig are stand-ins, Terraform reads the local provider mirror,
// cdktf's telemetry is off), and loading the machine's extra CA bundle costs each node process about
// 40 ms. This reaches the children started with a copy of this environment (childEnv, the stand-ins').
delete process.env.NODE_EXTRA_CA_CERTS;

// The operator reads its inputs, and cdktf and the operator their output style, from the environment:
// what `make test` exports to its sub-makes (PHASE=, SERVICE=, ... empty) or what a CI job sets (CI=true)
// must not reach the runs under test, which would then test the outer run's settings, not their own.
for (const name of ["CI", "NO_COLOR", "FORCE_COLOR", "ENV", "PHASE", "SERVICE", "TAG", "NAME", "FORMAT", "CONFIRM", "AUTO_APPROVE", "COMPARE", "INIT_FLAGS", "OUTDIR", "CDKTF_OUTDIR", "EMULATOR_URL", "PHASE_GIVEN", "SERVICE_GIVEN", "ACCESSWEAVER_MAKE_EXPORTS"]) {
  delete process.env[name];
}
