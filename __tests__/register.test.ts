// scripts/register.js, which every command of the project loads: its transpile cache answers only for
// exactly the same sucrase, transform options, file and content.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT, childEnv, tempDir } from "./support/config";

/**
 * A project of its own (in a process of its own: the hook is the real Node module loader's, not
 * jest's): a copy of register.js, a sucrase package whose version the test sets (it hands the work to
 * this tree's sucrase), and main.ts.
 */
function project(): { root: string; cache: string; run: () => string; entries: () => string[]; setSucrase: (version: string) => void } {
  const root = fs.realpathSync(tempDir("aw-register-"));
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  write("scripts/register.js", fs.readFileSync(path.join(ROOT, "scripts/register.js"), "utf8"));
  write("node_modules/sucrase/index.js", `module.exports = require(${JSON.stringify(path.join(ROOT, "node_modules/sucrase"))});\n`);
  const setSucrase = (version: string) => write("node_modules/sucrase/package.json", JSON.stringify({ name: "sucrase", version }));
  setSucrase("1.0.0");
  write("main.ts", 'const n: number = 1;\nconsole.log("one", n);\n');
  const cache = path.join(root, "node_modules/.cache/accessweaver-ts");
  const run = () => {
    const r = spawnSync(process.execPath, ["-r", "./scripts/register.js", "main.ts"], { cwd: root, env: childEnv({}), encoding: "utf8" });
    expect(r.stderr).toBe("");
    return r.stdout;
  };
  const entries = () => (fs.existsSync(cache) ? fs.readdirSync(cache).sort() : []);
  return { root, cache, run, entries, setSucrase };
}

describe("scripts/register.js: the transpile cache", () => {
  it("transpiles a file once and answers from the cache while the file is unchanged", () => {
    const p = project();
    expect(p.run()).toBe("one 1\n");
    const [entry] = p.entries();
    expect(p.entries()).toEqual([expect.stringMatching(/^[0-9a-f]{64}\.js$/)]);
    // A planted entry proves the next run reads the cache rather than transpiling again.
    fs.writeFileSync(path.join(p.cache, entry!), 'console.log("from the cache");\n');
    expect(p.run()).toBe("from the cache\n");
    fs.rmSync(p.root, { recursive: true, force: true });
  });

  it.each([
    ["the file's content", (p: ReturnType<typeof project>) => fs.appendFileSync(path.join(p.root, "main.ts"), "// a comment\n")],
    ["the installed sucrase's version", (p: ReturnType<typeof project>) => p.setSucrase("1.0.1")],
    [
      "register.js's transform options",
      (p: ReturnType<typeof project>) => {
        const file = path.join(p.root, "scripts/register.js");
        const text = fs.readFileSync(file, "utf8");
        expect(text).toContain('transforms: ["imports", "typescript"]');
        fs.writeFileSync(file, text.replace('transforms: ["imports", "typescript"]', 'transforms: ["typescript", "imports"]'));
      },
    ],
  ])("transpiles again after a change of %s", (_, change) => {
    const p = project();
    expect(p.run()).toBe("one 1\n");
    const [entry] = p.entries();
    fs.writeFileSync(path.join(p.cache, entry!), 'console.log("from the cache");\n');
    change(p);
    expect(p.run()).toBe("one 1\n");
    expect(p.entries()).toHaveLength(2);
    fs.rmSync(p.root, { recursive: true, force: true });
  });
});
