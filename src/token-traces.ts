/**
 * cdktf 0.21 records a full stack trace for every token it creates (only shown when a token cannot be
 * resolved), about a tenth of a whole synth. The app and the tests turn it off. Pinned cdktf: if a
 * later version moves the module, this is skipped and the synth is only slower.
 */
export function skipTokenStackTraces(): void {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const traces = require("cdktf/lib/tokens/private/stack-trace") as { captureStackTrace?: unknown };
    if (typeof traces.captureStackTrace === "function") traces.captureStackTrace = () => [];
  } catch {
    // another cdktf layout: keep its traces
  }
}
