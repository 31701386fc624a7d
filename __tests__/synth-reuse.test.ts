// The synth before a Terraform run reuses an earlier synth of the same code and settings, published as a
// new one would be; anything that changes the output synthesizes anew; make synth always synthesizes.
import * as fs from "fs";
import * as path from "path";
import { SynthOptions, synthesize } from "../src/synth";
import { SYNTH_CACHE, codeDigest, reusingSynth, synthKey } from "../scripts/operator/synth-reuse";
import { operatorHarness, settingsRoot } from "./support/standins-operator";
import { ROOT, tempDir } from "./support/config";

const CODE = "code-digest-of-this-test";

/** The real synth, counted. */
function counting() {
  const calls: SynthOptions[] = [];
  return { calls, synth: (o: SynthOptions) => (calls.push(o), synthesize({ ...o, notice: () => undefined })) };
}

/** Every file under `dir`, by relative path, with its content. */
function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

describe("reusingSynth", () => {
  const root = settingsRoot(["dev"]);
  const cache = tempDir("aw-synth-cache-");
  const c = counting();
  const first = path.join(tempDir(), "cdktf.out");
  const second = path.join(tempDir(), "cdktf.out");
  let stacks: string[];

  beforeAll(async () => {
    stacks = await reusingSynth({ outdir: first, envSelection: "dev", rootDir: root }, c.synth, cache, CODE);
  }, 60_000);

  it("synthesizes the first time, and publishes exactly that output when the same inputs come again", async () => {
    expect(c.calls).toHaveLength(1);
    expect(stacks).toContain("accessweaver-dev-network");
    // Terraform's files beside a stack stay, and a stack of the environment that no longer exists goes.
    fs.mkdirSync(path.join(second, "stacks", "accessweaver-dev-network", ".terraform"), { recursive: true });
    fs.mkdirSync(path.join(second, "stacks", "accessweaver-dev-edge"), { recursive: true });
    expect((await reusingSynth({ outdir: second, envSelection: "dev", rootDir: root }, c.synth, cache, CODE)).sort()).toEqual([...stacks].sort());
    expect(c.calls).toHaveLength(1);
    expect(fs.existsSync(path.join(second, "stacks", "accessweaver-dev-network", ".terraform"))).toBe(true);
    expect(fs.existsSync(path.join(second, "stacks", "accessweaver-dev-edge"))).toBe(false);
    const published = files(second);
    delete published[path.join("stacks", "accessweaver-dev-network", ".terraform")];
    expect(published).toEqual(files(first));
    expect(fs.readdirSync(path.dirname(second)).filter((n) => n.includes("partial"))).toEqual([]);
  });

  it("reads the same settings from another folder as the same inputs (the file's path is not in the output)", async () => {
    await reusingSynth({ outdir: path.join(tempDir(), "cdktf.out"), envSelection: "dev", rootDir: settingsRoot(["dev"]) }, c.synth, cache, CODE);
    expect(c.calls).toHaveLength(1);
  });

  it("synthesizes again when a setting or the code changes; the release's tag and the environment are in the key", async () => {
    const out = () => path.join(tempDir(), "cdktf.out");
    const changed = settingsRoot(["dev"], (t) => t.replace(/^image_tag\s*=.*$/m, 'image_tag = "9.9.9"'));
    await reusingSynth({ outdir: out(), envSelection: "dev", rootDir: changed }, c.synth, cache, CODE);
    expect(c.calls).toHaveLength(2);
    await reusingSynth({ outdir: out(), envSelection: "dev", rootDir: root }, c.synth, cache, "another-code-digest");
    expect(c.calls).toHaveLength(3);
    const release = { outdir: out(), envSelection: "dev", rootDir: root, imageTagOverride: { services: ["aw-pdp-service" as const], tag: "2.0.1" } };
    expect(await synthKey(release, CODE)).not.toBe(await synthKey({ ...release, imageTagOverride: undefined }, CODE));
    expect(await synthKey({ ...release, envSelection: "staging", rootDir: settingsRoot(["staging"]) }, CODE)).not.toBe(await synthKey(release, CODE));
  });

  it("synthesizes again when the kept entry is incomplete", async () => {
    const entry = path.join(cache, await synthKey({ outdir: "x", envSelection: "dev", rootDir: root }, CODE));
    fs.rmSync(path.join(entry, "stacks", "accessweaver-dev-services", "cdk.tf.json"));
    const before = c.calls.length;
    await reusingSynth({ outdir: path.join(tempDir(), "cdktf.out"), envSelection: "dev", rootDir: root }, c.synth, cache, CODE);
    expect(c.calls).toHaveLength(before + 1);
    expect(fs.existsSync(path.join(entry, "stacks", "accessweaver-dev-services", "cdk.tf.json"))).toBe(true);
  });

  it("refuses bad settings as the synth does, before anything is reused or written", async () => {
    const bad = settingsRoot(["dev"], (t) => t.replace('vpc_cidr = "10.10.0.0/16"', 'vpc_cidr = "10.10.0.0/26"'));
    const out = path.join(tempDir(), "cdktf.out");
    await expect(reusingSynth({ outdir: out, envSelection: "dev", rootDir: bad }, c.synth, cache, CODE)).rejects.toThrow(/vpc_cidr: found "10\.10\.0\.0\/26"/);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe("codeDigest", () => {
  it("changes with any file under src/ and with the lock file", () => {
    const root = tempDir("aw-code-");
    fs.mkdirSync(path.join(root, "src", "constructs"), { recursive: true });
    fs.writeFileSync(path.join(root, "src", "constructs", "vpc.ts"), "export const a = 1;\n");
    fs.writeFileSync(path.join(root, "package-lock.json"), "{}");
    const before = codeDigest(root);
    expect(codeDigest(root)).toBe(before);
    fs.writeFileSync(path.join(root, "src", "constructs", "vpc.ts"), "export const a = 2;\n");
    const edited = codeDigest(root);
    expect(edited).not.toBe(before);
    fs.writeFileSync(path.join(root, "package-lock.json"), '{"lockfileVersion":3}');
    expect(codeDigest(root)).not.toBe(edited);
  });

  it("covers this project's src/", () => {
    expect(codeDigest()).toBe(codeDigest(ROOT));
    expect(codeDigest()).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("the operator", () => {
  const h = operatorHarness();

  it("reuses a synth for a Terraform run, never for make synth", async () => {
    const used: string[] = [];
    const deps = {
      synthesize: async (o: SynthOptions) => (used.push("synthesize"), (await import("./fixtures/multi-phase")).fakeSynth(o)),
      synthesizeForRun: async (o: SynthOptions) => (used.push("synthesizeForRun"), (await import("./fixtures/multi-phase")).fakeSynth(o)),
    };
    expect((await h.multi(["synth", "dev"], {}, deps)).status).toBe(0);
    expect((await h.multi(["plan", "dev"], {}, deps)).status).toBe(0);
    expect(used).toEqual(["synthesize", "synthesizeForRun"]);
  });

  it("make init (the real app) keeps its synth for the next Terraform run, under the key of its code and settings", async () => {
    const key = await synthKey({ outdir: h.out, envSelection: "dev", rootDir: h.root }, codeDigest());
    const entry = path.join(SYNTH_CACHE, key);
    fs.rmSync(entry, { recursive: true, force: true });
    expect(h.make(["init", "ENV=dev"]).status).toBe(0);
    expect(fs.readdirSync(path.join(entry, "stacks")).sort()).toEqual(fs.readdirSync(path.join(h.out, "stacks")).filter((n) => n.startsWith("accessweaver-dev-")).sort());
  });
});
