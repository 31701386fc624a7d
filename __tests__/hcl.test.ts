// The HCL rendering (make hcl, make review): written from each stack's cdk.tf.json, it must be valid HCL
// that says the same thing. Small configurations pin each rule; then every stack of every environment
// is parsed back (hcl2json) and compared with its JSON. `terraform fmt -check` and `terraform validate`
// of the same files are in hcl-terraform.test.ts (they need Terraform).
import * as fs from "fs";
import * as path from "path";
import { parseHcl } from "../src/config/load";
import { HCL_FILE, synthesize } from "../src/synth";
import { BlockSchema, UNTYPED_BLOCKS, renderHcl, templateParts } from "../src/synth-output";
import { differences } from "./support/hcl";
import { ROOT, tempDir } from "./support/config";

const NO_BLOCKS: BlockSchema = new Map();
const resource = (type: string, body: Record<string, unknown>) => ({ resource: { [type]: { r: body } } });

describe("templateParts", () => {
  it("splits literal text from ${...} and %{...}, following quotes and braces inside them", () => {
    expect(templateParts('a-${jsonencode({k = "}"})}-$${not}-%{ if x }y%{ endif }')).toEqual([
      { kind: "literal", text: "a-" },
      { kind: "interpolation", text: 'jsonencode({k = "}"})' },
      { kind: "literal", text: "-$${not}-" },
      { kind: "directive", text: " if x " },
      { kind: "literal", text: "y" },
      { kind: "directive", text: " endif " },
    ]);
  });

  it("refuses an unterminated sequence, naming the string", () => {
    expect(() => templateParts("x-${aws_vpc.a.id")).toThrow(/unterminated template sequence in "x-\$\{aws_vpc\.a\.id"/);
  });
});

describe("renderHcl on small configurations", () => {
  it("writes a JSON document holding a reference as jsonencode of an HCL object, and reads back the same document", async () => {
    const doc =
      '[{"name":"app","secrets":[{"name":"DB","valueFrom":"${aws_secretsmanager_secret.db.arn}"}],"image":"repo/app:${var.tag}","aws:key":"say \\"hi\\""}]';
    const json = resource("aws_ecs_task_definition", { container_definitions: doc });
    const hcl = renderHcl("s", json, NO_BLOCKS);
    expect(hcl).toContain("container_definitions = jsonencode([");
    expect(hcl).toContain("valueFrom = aws_secretsmanager_secret.db.arn");
    expect(hcl).toContain('"aws:key" = "say \\"hi\\""');
    expect(await differences(json, await parseHcl("t.hcl", hcl), "s")).toEqual([]);
  });

  it("unwraps a sole interpolation, escapes quotes and backslashes, keeps $${ literal, and writes numbers-as-text as text", async () => {
    const json = resource("aws_x", {
      a: "${aws_vpc.v.id}",
      b: 'C:\\dir "q"',
      c: "$${version} ${aws_vpc.v.id}",
      d: "123",
      e: 5,
      f: null,
      g: "line 1\nline 2\n",
    });
    const hcl = renderHcl("s", json, NO_BLOCKS);
    expect(hcl).toContain("a = aws_vpc.v.id\n");
    expect(hcl).toContain('b = "C:\\\\dir \\"q\\""');
    expect(hcl).toContain('c = "$${version} ${aws_vpc.v.id}"');
    expect(hcl).toContain('d = "123"');
    expect(hcl).toContain("g = <<EOT\nline 1\nline 2\nEOT");
    expect(await differences(json, await parseHcl("t.hcl", hcl), "s")).toEqual([]);
  });

  it("writes blocks where the schema has them, attributes elsewhere, and references bare", async () => {
    const blocks: BlockSchema = new Map([["resource.aws_lb_listener", new Set(["default_action", "default_action/redirect"])]]);
    const json = resource("aws_lb_listener", {
      tags: { Name: "x" },
      default_action: [{ type: "redirect", redirect: { port: "443" } }],
      depends_on: ["aws_lb.a"],
      provider: "aws.us-east-1",
      lifecycle: { ignore_changes: ["tags"], create_before_destroy: true },
    });
    const hcl = renderHcl("s", json, blocks);
    expect(hcl).toMatch(/ {2}tags = \{\n {4}Name = "x"\n {2}\}/);
    expect(hcl).toMatch(/ {2}default_action \{\n {4}type = "redirect"\n {4}redirect \{\n {6}port = "443"\n {4}\}\n {2}\}/);
    expect(hcl).toContain("provider = aws.us-east-1");
    expect(hcl).toMatch(/depends_on = \[\n\s+aws_lb\.a,/);
    expect(hcl).toMatch(/lifecycle \{\n\s+ignore_changes = \[\n\s+tags,/);
    // Without the schema the same object would be an attribute: the schema decides, not the shape.
    expect(renderHcl("s", json, NO_BLOCKS)).toContain("default_action = [");
    expect(await differences(json, await parseHcl("t.hcl", hcl), "s")).toEqual([]);
  });

  it("writes every object below an untyped attribute as a block (the WAF rule statements)", () => {
    const blocks: BlockSchema = new Map([["resource.aws_wafv2_web_acl", new Set(["rule", `rule/statement/${UNTYPED_BLOCKS}`])]]);
    const json = resource("aws_wafv2_web_acl", { rule: [{ name: "r", statement: { or_statement: { statement: [{ a: { n: 1 } }, { b: { n: 2 } }] } } }] });
    const hcl = renderHcl("s", json, blocks);
    expect(hcl).toMatch(/statement \{\n\s+or_statement \{\n\s+statement \{\n\s+a \{\n\s+n = 1/);
    expect(hcl).not.toMatch(/statement =/);
  });

  it("refuses what it cannot write, naming the stack and the place", () => {
    expect(() => renderHcl("accessweaver-test-x", { check: {} }, NO_BLOCKS)).toThrow(/accessweaver-test-x: check: no HCL rendering for the top-level "check"/);
    const blocks: BlockSchema = new Map([["resource.aws_x", new Set(["b"])]]);
    expect(() => renderHcl("s", resource("aws_x", { b: "${var.x}" }), blocks)).toThrow(
      /s: resource\.aws_x\.r\.b: a nested block holds "\$\{var\.x\}"; expected an object/,
    );
  });

  it("differences() notices a changed value, a lost attribute and a changed document", async () => {
    const json = resource("aws_x", { a: "x", b: 1, d: '{"k":"${aws_vpc.v.id}"}' });
    const changed = await parseHcl("t.hcl", renderHcl("s", resource("aws_x", { a: "y", d: '{"k":"${aws_vpc.w.id}"}' }), NO_BLOCKS));
    const found = await differences(json, changed, "s");
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^s\.resource\.aws_x\.r\.a: JSON "x", HCL "y"/),
        "s.resource.aws_x.r.b: only in the JSON",
        expect.stringMatching(/^s\.resource\.aws_x\.r\.d \(jsonencode\)\.k: JSON/),
      ]),
    );
    expect(found).toHaveLength(3);
  });
});

describe("the HCL rendering of every stack of every environment", () => {
  let outdir: string;
  let stacks: string[];

  beforeAll(async () => {
    outdir = path.join(tempDir("aw-hcl-"), "cdktf.out");
    stacks = await synthesize({ outdir, envSelection: "", rootDir: ROOT, hcl: true, notice: () => undefined });
  }, 120_000);

  it("parses back to the same configuration as the stack's cdk.tf.json", async () => {
    expect(stacks.length).toBeGreaterThanOrEqual(18);
    for (const name of stacks) {
      const dir = path.join(outdir, "stacks", name);
      const json = JSON.parse(fs.readFileSync(path.join(dir, "cdk.tf.json"), "utf8"));
      const text = fs.readFileSync(path.join(dir, HCL_FILE), "utf8");
      const hcl = await parseHcl(`${name}/${HCL_FILE}`, text);
      expect({ stack: name, differences: await differences(json, hcl, name) }).toEqual({ stack: name, differences: [] });
    }
  }, 120_000);

  it("writes the JSON documents that hold references (container definitions, dashboard, event patterns) as jsonencode", () => {
    const services = fs.readFileSync(path.join(outdir, "stacks", "accessweaver-prod-services", HCL_FILE), "utf8");
    const observability = fs.readFileSync(path.join(outdir, "stacks", "accessweaver-prod-observability", HCL_FILE), "utf8");
    expect(services).toMatch(/container_definitions = jsonencode\(\[/);
    expect(observability).toMatch(/dashboard_body = jsonencode\(\{/);
    expect(observability).toMatch(/event_pattern = jsonencode\(\{/);
    for (const [name, text] of [
      ["services", services],
      ["observability", observability],
    ] as const) {
      // No quoted JSON left: a `"{\"` or `"[{\"` would be a document written as a string.
      expect({ stack: name, quotedJson: text.match(/"[[{]+\\"/g) ?? [] }).toEqual({ stack: name, quotedJson: [] });
    }
  });
});
