/**
 * The cdktf app: builds the phase stacks of the environment(s) in ACCESSWEAVER_ENV (all when empty)
 * and synthesizes them into CDKTF_OUTDIR (cdktf.out). `cdktf synth` runs it (cdktf.json);
 * `make synth ENV=prod` runs the same synth (src/synth.ts) inside the operator, under its lock.
 * ACCESSWEAVER_DR=1 also builds the DR environments (`accessweaver-<env>-dr-<phase>`, docs/disaster-recovery.md).
 * ACCESSWEAVER_SETTINGS_ROOT names another folder holding environments/ (the working directory by
 * default). ACCESSWEAVER_HCL=1 also writes each stack's HCL rendering beside its JSON (cdk.hcl), for
 * reviewers.
 */
import { synthesize } from "./src/synth";

const settingsRoot = process.env.ACCESSWEAVER_SETTINGS_ROOT;
synthesize({
  outdir: process.env.CDKTF_OUTDIR || "cdktf.out",
  envSelection: process.env.ACCESSWEAVER_ENV,
  hcl: process.env.ACCESSWEAVER_HCL === "1",
  // ACCESSWEAVER_DR=1: also the DR environment of each environment with a dr_region (Region loss).
  dr: process.env.ACCESSWEAVER_DR === "1",
  ...(settingsRoot ? { rootDir: settingsRoot } : {}),
}).then(
  (stacks) => process.stdout.write(`Synthesized ${stacks.length} stack(s): ${stacks.join(", ")}\n`),
  (error: unknown) => {
    process.stderr.write(`synth failed: ${error instanceof Error ? error.message : String(error)}\nNothing was written to the output folder.\n`);
    process.exitCode = 1;
  },
);
