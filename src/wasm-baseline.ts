import { setFlagsFromString } from "v8";

/**
 * The HCL parser and formatter (@cdktf/hcl2json, @cdktf/hcl-tools) are Go programs compiled to
 * WebAssembly, a few MB each. V8 compiles WebAssembly with its baseline compiler, then recompiles the
 * busy functions with its optimizing compiler on background threads. Our parses take a fraction of a
 * second, too short for that recompilation to pay back: it only adds CPU (measured: a settings parse,
 * 0.47 s of CPU against 0.29 s with the baseline compiler only; the review tests, 8.4 s against 5.3 s).
 * Call before importing @cdktf/hcl2json or @cdktf/hcl-tools (they start compiling when imported); it
 * holds for the whole process, and calling it again changes nothing.
 */
export function baselineWasmOnly(): void {
  setFlagsFromString("--liftoff-only");
}
