// scripts/register.js, which every command of the project loads: cdktf starts without its zip library and semver.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT, childEnv, tempDir } from "./support/config";

// In a process of its own: the hook is the real Node module loader's, not jest's.
const PROBE = `
const fs = require("fs");
const Module = require("module");
const atStart = () => Object.keys(require.cache).filter((f) => f.includes("/archiver/")).length;
const semverLoaded = () => Object.keys(require.cache).filter((f) => f.includes("/semver/")).length;
require("cdktf");
const afterCdktf = atStart();
const semverAfterCdktf = semverLoaded();
// cdktf's binary version check: its stand-in loads semver on first use, and the check still compares.
const { ValidateBinaryVersion } = require("cdktf/lib/validations/validate-binary-version.js");
const check = (constraint) => new ValidateBinaryVersion("node", constraint, JSON.stringify(process.execPath) + " --version").validate();
const versionChecks = [check(">=1.0.0"), check("<1.0.0").length];
const fsPath = require.resolve("cdktf/lib/private/fs.js");
// What cdktf's asset code holds: called, it loads the real library (cdktf's bundled copy).
const archiver = Module._load("archiver", require.cache[fsPath], false);
const zip = archiver("zip", {});
// cdktf's own use: a zip made by its asset code (in a node process of its own).
require(fsPath).archiveSync(process.argv[1], process.argv[2]);
console.log(JSON.stringify({ afterCdktf, afterCall: atStart(), pipes: typeof zip.pipe, magic: fs.readFileSync(process.argv[2]).subarray(0, 2).toString(), semverAfterCdktf, semverAfterCheck: semverLoaded(), versionChecks }));
`;

describe("scripts/register.js", () => {
  it("loads cdktf without archiver and semver; the stand-ins cdktf holds load them on first use, and cdktf's asset zip and version check still work", () => {
    const dir = tempDir("aw-register-");
    fs.mkdirSync(path.join(dir, "asset"));
    fs.writeFileSync(path.join(dir, "asset", "index.js"), "exports.handler = () => 1;\n");
    const r = spawnSync(process.execPath, ["-r", path.join(ROOT, "scripts/register.js"), "-e", PROBE, path.join(dir, "asset"), path.join(dir, "asset.zip")], {
      cwd: ROOT,
      env: childEnv({}),
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({
      afterCdktf: 0,
      afterCall: expect.any(Number),
      pipes: "function",
      magic: "PK",
      semverAfterCdktf: 0,
      semverAfterCheck: expect.any(Number),
      versionChecks: [[], 1],
    });
    expect(JSON.parse(r.stdout).afterCall).toBeGreaterThan(0);
    expect(JSON.parse(r.stdout).semverAfterCheck).toBeGreaterThan(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("has a jest counterpart: archiver maps to a function that loads cdktf's own copy on its first call", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const archiver = require("archiver") as (format: string, options: object) => { pipe: unknown };
    expect(require.resolve("archiver")).toBe(path.join(ROOT, "__tests__/support/lazy-archiver.js"));
    expect(typeof archiver("zip", {}).pipe).toBe("function");
  });
});
