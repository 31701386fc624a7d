// The HCL rendering (cdk.hcl) checked by Terraform itself: `terraform fmt -check` accepts every stack of
// every environment as written, and `terraform validate` accepts prod's stacks read from the HCL alone
// (offline, with the provider mirror). Needs Terraform (TF, default `terraform`): skipped with the reason
// shown when it is absent. The parse-back comparison with cdk.tf.json is in hcl.test.ts.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { HCL_FILE, synthesize } from "../src/synth";
import { fullSource, readMirror } from "../scripts/tf-check/mirror";
import { ROOT, tempDir } from "./support/config";

const TF = process.env.TF || "terraform";
const present = spawnSync(TF, ["version"], { stdio: "ignore" }).status === 0;
if (!present) console.warn(`HCL Terraform tests SKIPPED: Terraform binary "${TF}" not found (set TF): cdk.hcl is not checked with terraform fmt and validate.`);
const describeTf = present ? describe : describe.skip;
const mirror = readMirror(process.env.TF_PLUGIN_DIR || "/opt/tf-plugins");
const env = { ...process.env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1", NO_COLOR: "1" };

describeTf("terraform and the HCL rendering", () => {
  let outdir: string;
  let stacks: string[];

  beforeAll(async () => {
    outdir = path.join(tempDir("aw-hcl-tf-"), "cdktf.out");
    stacks = await synthesize({ outdir, envSelection: "", rootDir: ROOT, hcl: true, notice: () => undefined });
  }, 120_000);

  it("terraform fmt -check accepts every stack's cdk.hcl as written", () => {
    // fmt reads *.tf files: each cdk.hcl as <stack>.tf in one folder.
    const dir = tempDir("aw-hcl-fmt-");
    for (const name of stacks) fs.copyFileSync(path.join(outdir, "stacks", name, HCL_FILE), path.join(dir, `${name}.tf`));
    const r = spawnSync(TF, ["fmt", "-check", "-diff", "-no-color", dir], { encoding: "utf8", env });
    expect({
      files: stacks.length,
      exit: r.status,
      diff: r.stdout.slice(0, 4000),
      errors: r.stderr.includes("Error") ? r.stderr.slice(r.stderr.indexOf("Error"), 2000) : "",
    }).toEqual({ files: stacks.length, exit: 0, diff: "", errors: "" });
    expect(stacks.length).toBeGreaterThanOrEqual(18);
  });

  it("terraform validate accepts prod's stacks from their cdk.hcl alone, where the mirror holds their providers", () => {
    if (!mirror) {
      console.warn("HCL validate SKIPPED: no provider mirror (TF_PLUGIN_DIR, default /opt/tf-plugins).");
      return;
    }
    const checked: string[] = [];
    const skipped: string[] = [];
    for (const name of stacks.filter((s) => s.startsWith("accessweaver-prod-"))) {
      const json = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", name, "cdk.tf.json"), "utf8")) as {
        terraform?: { required_providers?: Record<string, { source?: string }> };
      };
      const absent = Object.entries(json.terraform?.required_providers ?? {})
        .map(([n, p]) => fullSource(p.source ?? n))
        .filter((s) => !mirror.providers.has(s));
      if (absent.length) {
        skipped.push(`${name} (needs ${absent.join(", ")}, not in ${mirror.dir})`);
        continue;
      }
      const dir = tempDir(`aw-hcl-validate-${name}-`);
      fs.copyFileSync(path.join(outdir, "stacks", name, HCL_FILE), path.join(dir, "main.tf"));
      const init = spawnSync(TF, ["init", "-backend=false", "-input=false", "-no-color", `-plugin-dir=${mirror.dir}`], { cwd: dir, encoding: "utf8", env });
      expect({ stack: name, init: init.status, output: init.status === 0 ? "" : init.stderr + init.stdout }).toEqual({ stack: name, init: 0, output: "" });
      const validate = spawnSync(TF, ["validate", "-no-color"], { cwd: dir, encoding: "utf8", env });
      expect({ stack: name, validate: validate.status, output: validate.status === 0 ? "" : validate.stderr + validate.stdout }).toEqual({
        stack: name,
        validate: 0,
        output: "",
      });
      checked.push(name);
    }
    if (skipped.length) console.warn(`HCL validate SKIPPED for: ${skipped.join("; ")}`);
    expect(checked.length).toBeGreaterThanOrEqual(4);
  }, 300_000);
});
