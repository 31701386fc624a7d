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

describe("scripts/register.js: where requires lead", () => {
  /**
   * A project of its own: a copy of register.js, sucrase from this tree, an installed package `pkg`
   * (whose index requires "./part"; with the `custom` condition, custom.js), a `#dep` import (of the
   * installed package dep-a), and main.js, which requires `pkg`, a file of the project and `#dep`.
   */
  function project(): { root: string; nm: string } {
    const root = fs.realpathSync(tempDir("aw-resolve-"));
    const nm = path.join(root, "node_modules");
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
    };
    write("scripts/register.js", fs.readFileSync(path.join(ROOT, "scripts/register.js"), "utf8"));
    write("node_modules/.package-lock.json", JSON.stringify({ lockfileVersion: 3 }));
    fs.symlinkSync(path.join(ROOT, "node_modules/sucrase"), path.join(nm, "sucrase"));
    write("node_modules/pkg/package.json", JSON.stringify({ name: "pkg", exports: { ".": { custom: "./custom.js", default: "./index.js" } } }));
    write("node_modules/pkg/index.js", 'module.exports = require("./part");\n');
    write("node_modules/pkg/part.js", 'module.exports = "part.js";\n');
    write("node_modules/pkg/custom.js", 'module.exports = "custom.js";\n');
    write("package.json", JSON.stringify({ name: "app", imports: { "#dep": "dep-a" } }));
    write("node_modules/dep-a/index.js", 'module.exports = "dep-a";\n');
    write("node_modules/dep-b/index.js", 'module.exports = "dep-b";\n');
    write("local.js", 'module.exports = "local.js";\n');
    write("main.js", 'console.log(require("pkg"), require("./local"), require("#dep"));\n');
    return { root, nm };
  }
  const run = (root: string, ...nodeOptions: string[]) =>
    spawnSync(process.execPath, [...nodeOptions, "-r", "./scripts/register.js", "main.js"], { cwd: root, env: childEnv({ NODE_PATH: "", NODE_OPTIONS: "" }), encoding: "utf8" });
  const cached = (nm: string): Record<string, string> => {
    const dir = path.join(nm, ".cache", "accessweaver-resolve");
    return Object.assign({}, ...fs.readdirSync(dir).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"))));
  };

  it("answers an installed package's requires from the cache, and looks them up again once npm rewrites its record of the tree", () => {
    const { root, nm } = project();
    expect(run(root).stdout).toBe("part.js local.js dep-a\n");
    expect(cached(nm)).toEqual({ [`${root}\0pkg`]: path.join(nm, "pkg/index.js"), [`${path.join(nm, "pkg")}\0./part`]: path.join(nm, "pkg/part.js") });

    // pkg's export now points at main2.js.
    fs.writeFileSync(path.join(nm, "pkg/main2.js"), 'module.exports = "main2.js";\n');
    fs.writeFileSync(path.join(nm, "pkg/package.json"), JSON.stringify({ name: "pkg", exports: { ".": "./main2.js" } }));
    // Changed by hand, npm's record unchanged: the cached answer is used (hence: delete the cache then).
    expect(run(root).stdout).toBe("part.js local.js dep-a\n");
    // Installed through npm, which rewrites node_modules/.package-lock.json: looked up again.
    fs.writeFileSync(path.join(nm, ".package-lock.json"), JSON.stringify({ lockfileVersion: 3, packages: { "node_modules/pkg": { version: "2.0.0" } } }));
    expect(run(root).stdout).toBe("main2.js local.js dep-a\n");
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("looks an answer up again when its file is gone, even with npm's record unchanged", () => {
    const { root, nm } = project();
    expect(run(root).stdout).toBe("part.js local.js dep-a\n");
    fs.rmSync(path.join(nm, "pkg/part.js"));
    fs.mkdirSync(path.join(nm, "pkg/part"));
    fs.writeFileSync(path.join(nm, "pkg/part/index.js"), 'module.exports = "part/index.js";\n');
    const r = run(root);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("part/index.js local.js dep-a\n");
    expect(cached(nm)[`${path.join(nm, "pkg")}\0./part`]).toBe(path.join(nm, "pkg/part/index.js"));
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("keeps apart the answers of a node started with other options (an export condition here)", () => {
    const { root } = project();
    expect(run(root).stdout).toBe("part.js local.js dep-a\n");
    expect(run(root, "--conditions=custom").stdout).toBe("custom.js local.js dep-a\n");
    expect(run(root).stdout).toBe("part.js local.js dep-a\n");
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("always looks up a relative require or a # import from the project's own files", () => {
    const { root, nm } = project();
    expect(run(root).stdout).toBe("part.js local.js dep-a\n");
    expect(Object.keys(cached(nm)).filter((k) => !k.startsWith(nm) && k !== `${root}\0pkg`)).toEqual([]);
    fs.mkdirSync(path.join(root, "local"));
    fs.rmSync(path.join(root, "local.js"));
    fs.writeFileSync(path.join(root, "local", "index.js"), 'module.exports = "local/index.js";\n');
    fs.writeFileSync(path.join(root, "package.json"), JSON.stringify({ name: "app", imports: { "#dep": "dep-b" } }));
    expect(run(root).stdout).toBe("part.js local/index.js dep-b\n");
    fs.rmSync(root, { recursive: true, force: true });
  });
});
