import * as fs from "fs";
import * as path from "path";
import { EnvironmentName, PROJECT } from "./naming";

/** The HCL rendering of a stack, beside its cdk.tf.json. */
export const HCL_FILE = "cdk.hcl";

/**
 * Moves a finished synth (`scratch`: `stacks/<stack>/...` and `manifest.json`) into the output folder.
 * Files that Terraform keeps beside a stack (`.terraform/`, lock files) survive; a stack of a
 * synthesized environment that no longer exists is removed; other environments' stacks stay. Needs no
 * cdktf, so that a synth reused from the cache does not load it.
 */
export function publish(scratch: string, outdir: string, envs: readonly EnvironmentName[]): void {
  const fresh = path.join(scratch, "stacks");
  const target = path.join(outdir, "stacks");
  fs.mkdirSync(target, { recursive: true });
  const names = fs.readdirSync(fresh);
  for (const name of names) {
    const dest = path.join(target, name);
    fs.mkdirSync(dest, { recursive: true });
    // An HCL rendering from an earlier synth would no longer match the JSON.
    fs.rmSync(path.join(dest, HCL_FILE), { force: true });
    for (const file of fs.readdirSync(path.join(fresh, name))) {
      fs.rmSync(path.join(dest, file), { recursive: true, force: true });
      fs.renameSync(path.join(fresh, name, file), path.join(dest, file));
    }
  }
  // A stack of a synthesized environment that no longer exists must not linger where someone could
  // init and apply it; other environments' stacks (and their .terraform) stay as they were.
  const prefixes = envs.map((env) => `${PROJECT}-${env}-`);
  for (const stale of fs.readdirSync(target)) {
    if (prefixes.some((p) => stale.startsWith(p)) && !names.includes(stale)) fs.rmSync(path.join(target, stale), { recursive: true, force: true });
  }
  fs.renameSync(path.join(scratch, "manifest.json"), path.join(outdir, "manifest.json"));
}
