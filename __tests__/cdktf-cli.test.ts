// The cdktf CLI runs the same app: `cdktf synth` (and so `cdktf deploy <stack>`) writes exactly what the
// app's own synth writes. This starts the CLI (several seconds on its own), so it runs with the
// toolchain checks of `make test`, not in `make unit`'s quick loop.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT, childEnv, readJson, runApp, tempDir } from "./support/config";

it("writes exactly what `cdktf synth` writes, for every environment", () => {
  const direct = path.join(tempDir(), "cdktf.out");
  expect(runApp(direct, "").status).toBe(0);
  const viaCli = path.join(tempDir(), "cli.out");
  const cli = spawnSync(process.execPath, [path.join(ROOT, "node_modules/cdktf-cli/bundle/bin/cdktf"), "synth", "--output", viaCli], {
    cwd: ROOT,
    env: childEnv({ ACCESSWEAVER_ENV: "", CI: "true" }),
    encoding: "utf8",
  });
  expect(cli.status).toBe(0);
  const stacks = fs.readdirSync(path.join(direct, "stacks")).sort();
  expect(stacks.length).toBeGreaterThanOrEqual(18);
  expect(fs.readdirSync(path.join(viaCli, "stacks")).sort()).toEqual(stacks);
  for (const s of stacks) {
    expect(fs.readFileSync(path.join(viaCli, "stacks", s, "cdk.tf.json"), "utf8")).toBe(fs.readFileSync(path.join(direct, "stacks", s, "cdk.tf.json"), "utf8"));
  }
  expect(readJson(path.join(viaCli, "manifest.json"))).toEqual(readJson(path.join(direct, "manifest.json")));
}, 120_000);
