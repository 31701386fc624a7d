import { skipTokenStackTraces } from "../../src/token-traces";

// As the app does: no test reads a token's creation stack, and under jest each captured trace is
// source-mapped (about 2 s of make unit).
skipTokenStackTraces();

// Nothing under test reaches the network (every aws, terraform and dig call goes to a stand-in), and
// loading the machine's extra CA bundle costs each node process the tests start about 40 ms.
delete process.env.NODE_EXTRA_CA_CERTS;
