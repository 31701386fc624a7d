import { skipTokenStackTraces } from "../../src/token-traces";

// As the app does: no test reads a token's creation stack, and under jest each captured trace is
// source-mapped (about 2 s of make unit).
skipTokenStackTraces();

// No test reaches the network (aws and dig are stand-ins, Terraform reads the local provider mirror,
// cdktf's telemetry is off), and loading the machine's extra CA bundle costs each node process about
// 40 ms. This reaches the children started with a copy of this environment (childEnv, the stand-ins').
delete process.env.NODE_EXTRA_CA_CERTS;
