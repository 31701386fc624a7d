/**
 * The runbooks (docs/runbooks/) and ADRs (docs/adr/) cite make targets, resource names and Terraform
 * outputs for an operator to type. This test fails when one of them does not exist, so the docs cannot
 * drift from the code:
 * - every `make <target>` in their code (inline or fenced) is a target of the Makefile;
 * - every prod resource name they cite (`accessweaver-prod-...`, `accessweaver/prod/...`, `/ecs/accessweaver-prod/...`,
 *   `/aws/.../accessweaver-prod...`, `alias/accessweaver-prod...`, `AccessWeaver-Production...`) is in the
 *   synthesized prod configuration (any stack's JSON), is derived from it (the cache's member clusters,
 *   from the replication group's shard and replica counts), or is on an allow-list below with its reason
 *   (made by a runbook's own command, present only with a setting the test configuration leaves out);
 *   a name followed by `-<placeholder>` is a prefix, and some name must start with it;
 * - every output they present as one (`make output ... NAME=<x>`, "output `x`", `terraform output x`) is
 *   an output of a prod stack;
 * - every relative link leads to a file that exists;
 * - the guide's commands they correct (a daily PostgreSQL log file, EC2's quota code for Fargate, the
 *   node id of a cache without shards, `create-cache-cluster`, `date --iso-8601`) appear in prose only,
 *   never in a fenced block an operator would copy.
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT, config, synthEnv } from "./support/config";

const DOC_DIRS = ["docs/runbooks", "docs/adr"];

/** What the guide's "Documentation Technique" lists, under the names this project gives them. */
const EXPECTED_DOCS = [
  "docs/runbooks/service-restart.md",
  "docs/runbooks/db-failover.md",
  "docs/runbooks/cache-invalidation.md",
  "docs/runbooks/manual-scaling.md",
  "docs/runbooks/backup-restore.md",
  "docs/adr/001-multi-az-vs-single-az.md",
  "docs/adr/002-fargate-vs-ec2.md",
  "docs/adr/003-rds-postgresql-vs-aurora.md",
  "docs/adr/004-redis-cluster-mode.md",
  "docs/adr/005-codedeploy-blue-green-gateway.md",
  "docs/adr/006-rds-managed-master-password-and-iam-auth.md",
  "docs/adr/007-audit-object-lock-mode.md",
  "docs/adr/008-region-loss-backup-and-restore.md",
];

/** Names the runbooks' own commands create: they exist only once an operator has run them. */
const MADE_BY_THE_RUNBOOKS: ReadonlyMap<string, string> = new Map([
  ["accessweaver-prod-postgres-restore", "the instance a point-in-time or snapshot restore creates beside the live one (backup-restore.md)"],
  ["accessweaver-prod-postgres-before-restore", "the name the live instance takes when the restored one replaces it (backup-restore.md)"],
  ["accessweaver-prod-postgres-before-restore-final", "the final snapshot of that instance when it is removed (backup-restore.md)"],
  ["accessweaver-prod-postgres-manual-", "the prefix of the manual snapshot taken before a risky change, the UTC time follows (backup-restore.md)"],
  ["accessweaver-prod-redis-restore", "the replication group a cache snapshot restore creates (backup-restore.md)"],
]);

/** Names that exist with settings the test's prod configuration does not set (the example settings do). */
const ONLY_WITH_SETTINGS: ReadonlyMap<string, string> = new Map([
  ["accessweaver-prod-alerts-critical", "the paging topic, made when alert_paging_endpoints is set (prod's example sets it; the tests page elsewhere)"],
]);

/** The guide's names that the docs quote to correct them: allowed in prose, never in a fenced command. */
const QUOTED_FROM_THE_GUIDE: ReadonlyMap<string, string> = new Map([
  ["accessweaver-prod-redis-001", "the guide's node id of a cache without shards; cluster mode's is -0001-001"],
  ["accessweaver-prod-postgres-snapshot-2024-01-15", "the guide's example snapshot id, not a name this project makes"],
]);

/** The guide's command text that is wrong here: never in a fenced block. */
const WRONG_IN_COMMANDS: readonly { pattern: RegExp; why: string }[] = [
  { pattern: /L-1216C47A/, why: "EC2's On-Demand instances quota, which Fargate does not use (fargate / L-3032A538)" },
  { pattern: /postgresql\.log\.\$\(date \+%Y-%m-%d\)/, why: "RDS rotates postgresql.log hourly: the file names the UTC hour (%Y-%m-%d-%H)" },
  { pattern: /accessweaver-prod-redis-001\b/, why: "a node id without shards; cluster mode's is accessweaver-prod-redis-0001-001" },
  { pattern: /create-cache-cluster/, why: "restores only a cache without cluster mode: create-replication-group" },
  { pattern: /--iso-8601(?!=)/, why: "date --iso-8601 prints a date without a time: an empty metric window" },
];

/**
 * A prod resource name as the docs write it. Group 1 is the name; group 2 is "-" when a placeholder
 * follows (`accessweaver-prod-audit-logs-<account id>`, `--alarm-name-prefix accessweaver-prod-`): a prefix.
 */
const NAME =
  /(?<![A-Za-z0-9_.-])(\/ecs\/accessweaver-prod\/[a-z0-9-]*[a-z0-9]|\/aws\/[a-z0-9_/-]*?accessweaver-prod(?:-[a-z0-9-]*[a-z0-9])?(?:\/[a-z0-9-]*[a-z0-9])*|alias\/accessweaver-prod(?:-[a-z0-9-]*[a-z0-9])?|accessweaver\/prod\/[a-z0-9-]*[a-z0-9]|AccessWeaver-Production(?:-[A-Za-z]+)*|accessweaver-prod(?:-[a-z0-9-]*[a-z0-9]|\.local)?)(-?)/g;
/** `make <target>` (and `make -s <target>`) in code. */
const MAKE = /(?:^|[\s;&|("$])make\s+(?:-s\s+)?([a-z][a-z0-9-]*)/g;
/** Where the docs present an output: make output's NAME, "output `x`" (or a list after "outputs"), terraform output. */
const OUTPUT_PATTERNS = [
  /make\s+(?:-s\s+)?output\b[^\n`]*?\bNAME=([a-z][a-z0-9_]*)/g,
  /\boutputs?\s+((?:`[a-z][a-z0-9_]*`(?:,\s*|\s+and\s+|\s+or\s+)?)+)/g,
  /terraform\s+output\s+(?:-(?:json|raw)\s+)*([a-z][a-z0-9_]*)/g,
];

interface References {
  readonly makeTargets: ReadonlySet<string>;
  /** Every prod name in the synthesized configuration, and the names derived from it. */
  readonly names: ReadonlySet<string>;
  readonly outputs: ReadonlySet<string>;
}

interface CheckResult {
  readonly problems: string[];
  readonly cited: { readonly make: number; readonly names: number; readonly outputs: number };
}

const lineOf = (text: string, index: number) => text.slice(0, index).split("\n").length;

/** The text with every fenced block blanked (lines kept, so positions still give line numbers), and the fenced lines. */
function splitFences(text: string): { prose: string; fenced: { line: number; text: string }[] } {
  let inFence = false;
  const fenced: { line: number; text: string }[] = [];
  const prose = text
    .split("\n")
    .map((line, i) => {
      if (/^\s*```/.test(line)) {
        inFence = !inFence;
        return "";
      }
      if (!inFence) return line;
      fenced.push({ line: i + 1, text: line });
      return "";
    })
    .join("\n");
  return { prose, fenced };
}

/** Checks one doc's citations against the Makefile and the synthesized configuration. */
function checkReferences(file: string, text: string, refs: References): CheckResult {
  const problems: string[] = [];
  const at = (line: number) => `${file}:${line}`;
  const { prose, fenced } = splitFences(text);

  // Code: inline spans of the prose, and the fenced lines.
  const code: { line: number; text: string }[] = [...fenced];
  for (const m of prose.matchAll(/`([^`]+)`/g)) code.push({ line: lineOf(prose, m.index!), text: m[1]! });

  let make = 0;
  for (const c of code) {
    for (const m of c.text.matchAll(MAKE)) {
      make++;
      if (!refs.makeTargets.has(m[1]!)) problems.push(`${at(c.line)}: make target "${m[1]}" is not in the Makefile`);
    }
  }

  let names = 0;
  for (const m of text.matchAll(NAME)) {
    const name = m[1]! + m[2]!;
    if (name === "accessweaver-prod") continue; // the environment's prefix itself, not a resource
    names++;
    const line = lineOf(text, m.index!);
    const exists = name.endsWith("-") ? [...refs.names].some((n) => n.startsWith(name)) : refs.names.has(name);
    if (exists || MADE_BY_THE_RUNBOOKS.has(name) || ONLY_WITH_SETTINGS.has(name) || QUOTED_FROM_THE_GUIDE.has(name)) continue;
    problems.push(
      `${at(line)}: ${name.endsWith("-") ? `no name of the prod configuration starts with "${name}"` : `"${name}" is not in the prod configuration`}`,
    );
  }

  let outputs = 0;
  for (const pattern of OUTPUT_PATTERNS) {
    for (const m of text.matchAll(pattern)) {
      for (const name of m[1]!.includes("`") ? [...m[1]!.matchAll(/`([a-z0-9_]+)`/g)].map((x) => x[1]!) : [m[1]!]) {
        outputs++;
        if (!refs.outputs.has(name)) problems.push(`${at(lineOf(text, m.index!))}: output "${name}" is not an output of any prod stack`);
      }
    }
  }

  // Links to other docs: the file must exist (anchors are not checked).
  for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!.split("#")[0]!;
    if (!target || /^[a-z]+:/.test(target)) continue;
    if (!fs.existsSync(path.join(ROOT, path.dirname(file), target))) problems.push(`${at(lineOf(prose, m.index!))}: link to "${m[1]}", which does not exist`);
  }

  for (const f of fenced) {
    for (const { pattern, why } of WRONG_IN_COMMANDS) {
      if (pattern.test(f.text)) problems.push(`${at(f.line)}: the guide's ${pattern.source} in a command: ${why}`);
    }
  }
  return { problems, cited: { make, names, outputs } };
}

/** Every string (and key) of a synthesized stack, walked: names inside JSON documents and templates included. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      strings(v, out);
    }
  return out;
}

/** The cluster-mode node ids of each replication group: <group>-<shard, 4 digits>-<node, 3 digits>. */
function memberClusters(stacks: readonly any[]): string[] {
  const ids: string[] = [];
  for (const json of stacks) {
    for (const g of Object.values<any>(json.resource?.aws_elasticache_replication_group ?? {})) {
      if (typeof g.replication_group_id !== "string" || typeof g.num_node_groups !== "number") continue;
      const nodes = 1 + (typeof g.replicas_per_node_group === "number" ? g.replicas_per_node_group : 0);
      for (let shard = 1; shard <= g.num_node_groups; shard++)
        for (let node = 1; node <= nodes; node++) ids.push(`${g.replication_group_id}-${String(shard).padStart(4, "0")}-${String(node).padStart(3, "0")}`);
    }
  }
  return ids;
}

let cachedRefs: References | undefined;
function references(): References {
  if (cachedRefs) return cachedRefs;
  const byStack = synthEnv(config("prod")).byStack;
  const stacks = Object.values(byStack);
  const names = new Set<string>(Object.keys(byStack)); // the stacks themselves: accessweaver-prod-<phase>
  for (const s of strings(stacks)) for (const m of s.matchAll(NAME)) names.add(m[1]!);
  for (const id of memberClusters(stacks)) names.add(id);
  const outputs = new Set(stacks.flatMap((json) => Object.keys(json.output ?? {})));
  const makeTargets = new Set([...fs.readFileSync(path.join(ROOT, "Makefile"), "utf8").matchAll(/^([a-z][a-z0-9-]*):/gm)].map((m) => m[1]!));
  return (cachedRefs = { makeTargets, names, outputs });
}

const docFiles = (): string[] =>
  DOC_DIRS.flatMap((dir) =>
    fs.existsSync(path.join(ROOT, dir))
      ? fs
          .readdirSync(path.join(ROOT, dir))
          .filter((f) => f.endsWith(".md"))
          .sort()
          .map((f) => `${dir}/${f}`)
      : [],
  );
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

describe("runbooks and ADRs cite only what exists", () => {
  it("holds the guide's five runbooks and the eight ADRs", () => {
    expect(EXPECTED_DOCS.filter((f) => !docFiles().includes(f))).toEqual([]);
  });

  it.each(docFiles())("%s: its make targets, names and outputs exist", (file) => {
    expect(checkReferences(file, read(file), references()).problems).toEqual([]);
  });

  it("finds the citations (a checker that matches nothing would pass everything)", () => {
    const total = { make: 0, names: 0, outputs: 0 };
    for (const file of docFiles()) {
      const { cited } = checkReferences(file, read(file), references());
      total.make += cited.make;
      total.names += cited.names;
      total.outputs += cited.outputs;
    }
    expect(total.make).toBeGreaterThan(20);
    expect(total.names).toBeGreaterThan(150);
    expect(total.outputs).toBeGreaterThan(10);
  });

  it("reports a cited name, make target, output, node id or link that was renamed", () => {
    const file = "docs/runbooks/service-restart.md";
    const text = read(file);
    expect(checkReferences(file, text, references()).problems).toEqual([]);
    const renamed = text
      .replace("--cluster accessweaver-prod-cluster", "--cluster accessweaver-prod-klaster")
      .replace("make restart ENV=prod", "make restrat ENV=prod")
      .replace("NAME=health_check_urls", "NAME=health_check_url")
      .concat("\n`aws elasticache describe-cache-clusters --cache-cluster-id accessweaver-prod-redis-0004-001`\n")
      .replace("[db-failover.md](db-failover.md)", "[db-failover.md](db-failovers.md)");
    const problems = checkReferences(file, renamed, references()).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/"accessweaver-prod-klaster" is not in the prod configuration/),
        expect.stringMatching(/make target "restrat" is not in the Makefile/),
        expect.stringMatching(/output "health_check_url" is not an output/),
        expect.stringMatching(/"accessweaver-prod-redis-0004-001" is not in the prod configuration/),
        expect.stringMatching(/link to "db-failovers.md", which does not exist/),
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it("reports the guide's wrong commands in a fenced block, and allows them in prose", () => {
    const prose = "The guide's `--cache-cluster-id accessweaver-prod-redis-001` names a node without shards.\n";
    expect(checkReferences("x.md", prose, references()).problems).toEqual([]);
    const fencedBlock = [
      "```bash",
      "aws elasticache describe-cache-clusters --cache-cluster-id accessweaver-prod-redis-001",
      "aws servicequotas get-service-quota --service-code ec2 --quota-code L-1216C47A",
      "```",
    ].join("\n");
    const problems = checkReferences("x.md", fencedBlock, references()).problems;
    expect(problems).toEqual([expect.stringMatching(/^x\.md:2: .*redis-001/), expect.stringMatching(/^x\.md:3: .*L-1216C47A/)]);
  });

  it("keeps its allow-lists honest: each entry is cited, and none exists in the configuration", () => {
    const all = docFiles().map(read).join("\n");
    for (const name of [...MADE_BY_THE_RUNBOOKS.keys(), ...ONLY_WITH_SETTINGS.keys(), ...QUOTED_FROM_THE_GUIDE.keys()]) {
      expect([name, all.includes(name)]).toEqual([name, true]);
      expect([name, references().names.has(name)]).toEqual([name, false]);
    }
  });
});
