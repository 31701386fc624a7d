// The reviewer's report: cost lines on a hand-computed configuration, the security-group matrix and the
// diagram on small fixtures, then the whole report, the HCL rendering and the environment diff on the
// synthesized prod and staging.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { SynthStack } from "../scripts/tf-check/stacks";
import { JsonObject } from "../scripts/tf-check/json";
import { EnvModel, loadEnv, modelOf } from "../scripts/review/model";
import { summarizePlans } from "../scripts/review/plan-summary";
import { UnknownRegion, estimate, levers } from "../scripts/review/cost";
import { diagram, flows, matrixMarkdown } from "../scripts/review/network-view";
import { main } from "../scripts/review";
import { HCL_FILE, synthesize } from "../src/synth";
import { parseHcl } from "../src/config/load";
import { makeStandins } from "./support/standins";
import { ROOT, tempDir } from "./support/config";

const stack = (phase: string, config: JsonObject): SynthStack => ({
  name: `accessweaver-test-${phase}`,
  env: "test",
  phase,
  dir: `/synth/stacks/accessweaver-test-${phase}`,
  config: { terraform: { backend: { s3: { bucket: "b", key: `test/${phase}/terraform.tfstate` } } }, ...config },
  dependencies: [],
});

/** A small environment whose monthly cost is computed by hand in the test below. */
function priced(): EnvModel {
  const network = stack("network", {
    resource: {
      aws_subnet: { a: { availability_zone: "eu-west-1a" }, b: { availability_zone: "eu-west-1b" } },
      aws_nat_gateway: { nat: {} },
      aws_vpc_endpoint: {
        kms: { vpc_endpoint_type: "Interface", service_name: "com.amazonaws.eu-west-1.kms", subnet_ids: ["${aws_subnet.a.id}", "${aws_subnet.b.id}"] },
        s3: { vpc_endpoint_type: "Gateway", service_name: "com.amazonaws.eu-west-1.s3" },
      },
      aws_vpc: { vpc: { cidr_block: "10.0.0.0/16" } },
      aws_mq_broker: { broker: {} },
    },
    output: { private_subnet_ids: { value: ["${aws_subnet.a.id}", "${aws_subnet.b.id}"] } },
  });
  const data = stack("data", {
    data: { terraform_remote_state: { network: { backend: "s3", config: { bucket: "b", key: "test/network/terraform.tfstate" } } } },
    resource: {
      aws_db_instance: { db: { instance_class: "db.r6g.xlarge", multi_az: true, allocated_storage: 100 } },
      aws_elasticache_replication_group: {
        redis: { node_type: "cache.r6g.xlarge", num_node_groups: 3, replicas_per_node_group: 2, engine: "redis" },
        small: { node_type: "cache.t4g.nano", num_cache_clusters: 1 },
      },
      aws_ecs_task_definition: { api: { cpu: "1024", memory: "2048" }, arm: { cpu: "512", memory: "1024", runtime_platform: [{ cpu_architecture: "ARM64" }] } },
      aws_ecs_service: {
        api: { desired_count: 3, task_definition: "${aws_ecs_task_definition.api.arn}" },
        arm: { desired_count: 2, task_definition: "${aws_ecs_task_definition.arm.arn}" },
      },
      aws_vpc_endpoint: {
        logs: {
          vpc_endpoint_type: "Interface",
          service_name: "com.amazonaws.eu-west-1.logs",
          subnet_ids: "${data.terraform_remote_state.network.outputs.private_subnet_ids}",
        },
      },
      aws_cloudwatch_log_group: { app: { name: "/x" } },
    },
  });
  return modelOf("test", [network, data]);
}

describe("cost estimate", () => {
  const e = estimate(priced(), "eu-west-1");
  const monthly = (address: string) => e.lines.filter((l) => l.address === address).map((l) => l.monthlyUsd);

  it("prices each line as price x hours, doubling Multi-AZ instances and storage", () => {
    expect(monthly("aws_db_instance.db")).toEqual([735.84, 25.4]); // 2 x 0.504 x 730; 100 GB x 0.254
    expect(monthly("aws_elasticache_replication_group.redis")).toEqual([3009.06]); // 3 x (1 + 2) nodes x 0.458 x 730
    expect(monthly("aws_nat_gateway.nat")).toEqual([35.04]);
  });

  it("prices Fargate per task from its task definition: vCPU and GB hours, x86 or ARM", () => {
    expect(monthly("aws_ecs_service.api")).toEqual([108.12]); // 3 x (1 x 0.04048 + 2 x 0.004445) x 730
    expect(monthly("aws_ecs_service.arm")).toEqual([28.84]); // 2 x (0.5 x 0.03238 + 1 x 0.00356) x 730
  });

  it("prices interface endpoints per zone, also through a remote-state list; gateway endpoints are free", () => {
    expect(monthly("aws_vpc_endpoint.kms")).toEqual([16.06]); // 2 zones x 0.011 x 730
    expect(monthly("aws_vpc_endpoint.logs")).toEqual([16.06]);
    expect(monthly("aws_vpc_endpoint.s3")).toEqual([]);
  });

  it("lists what it cannot price, never as zero, and usage charges apart from the total", () => {
    expect(e.unpriced.map((u) => `${u.address}: ${u.reason}`)).toEqual([
      "aws_mq_broker.broker: type aws_mq_broker has no entry in the estimate",
      "aws_elasticache_replication_group.small: no eu-west-1 price for cache.t4g.nano",
    ]);
    expect(e.usage.map((u) => u.address)).toEqual(["aws_cloudwatch_log_group.app"]);
    expect(e.totalUsd).toBe(3974.42);
    expect(e.byPhase.get("network")).toBe(51.1);
  });

  it("refuses a region without a price table", () => {
    expect(() => estimate(priced(), "ap-east-2")).toThrow(UnknownRegion);
  });

  it("names the levers with their savings, largest first", () => {
    const ls = levers(priced(), e);
    expect(ls[0]).toEqual({ what: "1-year reserved cache nodes (about 31% off)", savesUsd: 932.81 });
    expect(ls.map((l) => l.what)).toContain("Valkey instead of Redis OSS (20% off every node)");
    expect(ls.find((l) => l.what.startsWith("NAT gateways"))!.savesUsd).toBe(35.04);
    expect(ls.some((l) => l.what.startsWith("a smaller staging"))).toBe(false);
    // The same resources as staging: a smaller staging is offered, halving the Multi-AZ database lines.
    const staging = { ...priced(), env: "staging" };
    const smaller = levers(staging, estimate(staging, "eu-west-1")).filter((l) => l.what.startsWith("a smaller staging"));
    expect(smaller).toEqual([
      { what: "a smaller staging: one cache shard instead of 3", savesUsd: 2006.04 },
      { what: "a smaller staging: Single-AZ database (the standby and its storage are half the database lines)", savesUsd: 380.62 },
    ]);
  });
});

describe("security-group matrix and diagram", () => {
  const sg = (name: string) => ({ name });
  const fixture = () =>
    modelOf("test", [
      stack("network", {
        resource: {
          aws_security_group: { alb: sg("accessweaver-test-alb"), services: sg("accessweaver-test-services"), database: sg("accessweaver-test-database") },
          aws_vpc_security_group_ingress_rule: {
            world: { security_group_id: "${aws_security_group.alb.id}", cidr_ipv4: "0.0.0.0/0", ip_protocol: "tcp", from_port: 443, to_port: 443 },
            app: {
              security_group_id: "${aws_security_group.services.id}",
              referenced_security_group_id: "${aws_security_group.alb.id}",
              ip_protocol: "tcp",
              from_port: 8080,
              to_port: 8080,
            },
          },
        },
        output: { security_group_ids: { value: { database: "${aws_security_group.database.id}", services: "${aws_security_group.services.id}" } } },
      }),
      stack("data", {
        data: { terraform_remote_state: { network: { backend: "s3", config: { bucket: "b", key: "test/network/terraform.tfstate" } } } },
        resource: {
          aws_vpc_security_group_ingress_rule: {
            pg: {
              security_group_id: "${data.terraform_remote_state.network.outputs.security_group_ids.database}",
              referenced_security_group_id: "${data.terraform_remote_state.network.outputs.security_group_ids.services}",
              ip_protocol: "tcp",
              from_port: 5432,
              to_port: 5432,
            },
          },
        },
      }),
    ]);

  it("names both ends of every rule, following a later phase's rules through the network's outputs", () => {
    expect(flows(fixture()).map((f) => `${f.from} -> ${f.to} ${f.ports}`)).toEqual([
      "internet (IPv4) -> accessweaver-test-alb tcp/443",
      "accessweaver-test-alb -> accessweaver-test-services tcp/8080",
      "accessweaver-test-services -> accessweaver-test-database tcp/5432",
    ]);
    const table = matrixMarkdown(fixture());
    expect(table).toContain("| from \\ to | `accessweaver-test-alb` | `accessweaver-test-database` | `accessweaver-test-services` |");
    expect(table).toContain("| **internet (IPv4)** | tcp/443 |  |  |");
    expect(table).toContain("| `accessweaver-test-services` |  | tcp/5432 |  |");
  });

  it("draws the nodes and edges from the resources and rules", () => {
    const text = diagram(fixture());
    expect(text.split("\n")[0]).toBe("flowchart LR");
    expect(text).toContain("internet -->|443/80| alb");
    expect(text).toContain("alb -->|8080| services");
    expect(text).toContain("services -->|5432| rds");
    expect(text).not.toContain("redis");
    // No rule from the services to the database: no edge.
    const m = fixture();
    const without = modelOf("test", [m.stacks[0]!]);
    expect(diagram(without)).not.toContain("-->|5432| rds");
  });
});

describe("the review of the synthesized environments", () => {
  let outdir: string;
  let report: string;
  let stdout: string;

  beforeAll(async () => {
    outdir = path.join(tempDir("aw-review-"), "cdktf.out");
    await synthesize({ outdir, envSelection: "prod,staging", rootDir: ROOT, hcl: true, notice: () => undefined });
    const write = process.stdout.write.bind(process.stdout);
    let captured = "";
    process.stdout.write = ((chunk: string) => ((captured += chunk), true)) as typeof process.stdout.write;
    process.env.CDKTF_OUTDIR = outdir;
    try {
      expect(await main(["review", "staging", "prod"])).toBe(0);
    } finally {
      process.stdout.write = write;
      delete process.env.CDKTF_OUTDIR;
    }
    stdout = captured;
    report = fs.readFileSync(path.join(outdir, "review", "staging.md"), "utf8");
  }, 60_000);

  it("writes cdktf.out/review/<env>.md with every section, and prints a short summary", () => {
    for (const heading of [
      "# Review of staging",
      "## Summary",
      "## Phases and resources",
      "## Settings that matter",
      "## Guardrails",
      "## Security groups: who reaches whom",
      "## Region loss",
      "## Estimated monthly cost",
      "## Architecture",
      "## Plan",
      "## Compared with prod",
    ]) {
      expect(report).toContain(`${heading}\n`);
    }
    expect(stdout).toMatch(/^Review of staging: .*review\/staging\.md\n.*phase\(s\).*\nEstimated .* USD\/month at eu-west-1 list prices, budget 1,000\.00 USD/);
    expect(report).toContain("| `aws_vpc.vpc_vpc` | `module.network.aws_vpc.vpc_vpc` |");
    expect(report).toContain("```mermaid\nflowchart LR");
  });

  it("compares staging with prod: the settings and counts that differ, environment names aside", () => {
    const compared = report.slice(report.indexOf("## Compared with prod"));
    expect(compared).toContain("| VPC CIDR | 10.20.0.0/16 | 10.30.0.0/16 |");
    expect(compared).not.toContain("| log group /aws/vpc/accessweaver-<env>/flow-logs");
  });

  it("writes each stack's HCL beside its JSON, holding the same resources", async () => {
    for (const name of ["accessweaver-prod-network", "accessweaver-staging-network"]) {
      const dir = path.join(outdir, "stacks", name);
      const json = JSON.parse(fs.readFileSync(path.join(dir, "cdk.tf.json"), "utf8"));
      // The project's HCL parser (cached by content, on V8's baseline WebAssembly compiler).
      const hcl = (await parseHcl(HCL_FILE, fs.readFileSync(path.join(dir, HCL_FILE), "utf8"))) as { resource: Record<string, Record<string, unknown>> };
      const addresses = (r: Record<string, Record<string, unknown>>) =>
        Object.entries(r)
          .flatMap(([t, byName]) => Object.keys(byName).map((n) => `${t}.${n}`))
          .sort();
      expect(addresses(hcl.resource)).toEqual(addresses(json.resource));
      expect(addresses(json.resource).length).toBeGreaterThan(50);
    }
  });

  it("without saved plans, summarizes the rehearsal per phase and says it is not a plan of real infrastructure", () => {
    const dir = path.join(outdir, "rehearsal", "prod");
    fs.mkdirSync(dir, { recursive: true });
    const change = (address: string) => ({
      address: `module.network.${address}`,
      module_address: "module.network",
      type: address.split(".")[0],
      change: { actions: ["create"] },
    });
    fs.writeFileSync(path.join(dir, "plan.json"), JSON.stringify({ resource_changes: [change("aws_vpc.vpc_vpc"), change("aws_subnet.a")] }));
    try {
      const summary = summarizePlans(loadEnv(outdir, "prod"), outdir, "terraform-not-called")!;
      expect(summary.source).toMatch(
        /^the offline rehearsal of a first apply \(.*rehearsal\/prod\/plan\.json, make rehearse\): not a plan of real infrastructure$/,
      );
      expect(summary.phases[0]).toEqual({ phase: "network", add: 2, change: 0, destroy: 0, replace: 0, stateful: [] });
      expect(summary.phases.slice(1).every((p) => p.add === 0)).toBe(true);
    } finally {
      fs.rmSync(path.join(outdir, "rehearsal"), { recursive: true, force: true });
    }
  });

  it("summarizes saved plans with terraform show -json, stateful deletions first", () => {
    const s = makeStandins(["terraform"]);
    try {
      fs.mkdirSync(path.join(outdir, "plans"), { recursive: true });
      fs.writeFileSync(path.join(outdir, "plans", "accessweaver-prod-network.tfplan"), "plan");
      fs.mkdirSync(path.join(s.stateDir, "terraform", "plans"), { recursive: true });
      fs.writeFileSync(
        path.join(s.stateDir, "terraform", "plans", "accessweaver-prod-network.json"),
        JSON.stringify({ resource_changes: [{ address: "aws_kms_key.kms_key", type: "aws_kms_key", change: { actions: ["delete", "create"] } }] }),
      );
      const r = spawnSync(process.execPath, ["-r", path.join(ROOT, "scripts/register.js"), path.join(ROOT, "scripts/review.ts"), "review", "prod"], {
        cwd: ROOT,
        env: { ...s.env, CDKTF_OUTDIR: outdir },
        encoding: "utf8",
      });
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain("Plan: network +1 ~0 -1; DESTROYS DATA, read the plan section.");
      const plan = fs.readFileSync(path.join(outdir, "review", "prod.md"), "utf8");
      expect(plan).toContain("**Resources that hold data would be destroyed or replaced:**\n- **network: aws_kms_key.kms_key (replaced)**");
      expect(plan).toContain("| network | 1 | 0 | 1 | 1 |");
      expect(s.log()).toEqual([
        `terraform -chdir=${path.join(outdir, "stacks", "accessweaver-prod-network")} show -json ${path.join(outdir, "plans", "accessweaver-prod-network.tfplan")}`,
      ]);
    } finally {
      s.cleanup();
      fs.rmSync(path.join(outdir, "plans"), { recursive: true, force: true });
    }
  });
});

describe("make audit", () => {
  /** Runs `review.ts audit <env>` in-process (its own synth, of the settings in the repository), capturing what it prints. */
  async function runAudit(env: string): Promise<{ code: number; stdout: string; stderr: string; file: string }> {
    const outdir = path.join(tempDir("aw-audit-"), "cdktf.out");
    let stdout = "";
    let stderr = "";
    const out = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
    const err = jest.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    process.env.CDKTF_OUTDIR = outdir;
    process.env.ACCESSWEAVER_SETTINGS_ROOT = ROOT;
    try {
      const code = await main(["audit", env]);
      return { code, stdout, stderr, file: fs.readFileSync(path.join(outdir, "audit", `${env}.md`), "utf8") };
    } finally {
      out.mockRestore();
      err.mockRestore();
      delete process.env.CDKTF_OUTDIR;
      delete process.env.ACCESSWEAVER_SETTINGS_ROOT;
    }
  }
  /** The synthesized database instance made public: one violation, of one rule, on one resource. */
  function withPublicDatabase<T>(run: () => Promise<T>): Promise<T> {
    const render = DbInstance.prototype.toTerraform;
    const spy = jest.spyOn(DbInstance.prototype, "toTerraform").mockImplementation(function (this: DbInstance) {
      const tf = render.call(this);
      for (const db of Object.values<Record<string, unknown>>(tf.resource.aws_db_instance)) db.publicly_accessible = true;
      return tf;
    });
    return run().finally(() => spy.mockRestore());
  }

  it("prints every rule with the resources it checked and its result, and writes cdktf.out/audit/<env>.md with every resource per rule", async () => {
    const r = await runAudit("dev");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^Guardrails of dev \(.*audit\/dev\.md\):\n\d+ rules over 6 stack\(s\) \(network, database, cache, loadbalancer, services, observability\); mode in dev: \*\*report\*\*/,
    );
    expect(r.stdout).toContain("**Result: pass** (every rule, every resource).");
    expect(r.stdout).toMatch(/\| `rds-private` \| RDS instances are not publicly accessible \| 1 \| pass \|/);
    expect(r.stdout).toMatch(/\| `required-tags` \| .* \| \d+ \(all\) \| pass \|/);
    expect(r.file).toMatch(/^# Guardrails of dev\n\nGenerated \S+Z from the synthesized stacks/);
    expect(r.file).toContain("<summary><code>no-world-ingress</code>:");
    expect(r.file).toContain("| network | `aws_vpc_security_group_ingress_rule.security-groups_alb_in_443_ipv4` | pass |");
  }, 30_000);

  it("lists every violation of an enforcing environment with its rule and address, writes the report and exits 1", async () => {
    const r = await withPublicDatabase(() => runAudit("prod"));
    expect(r.code).toBe(1);
    for (const text of [r.stdout, r.file]) {
      expect(text).toContain("**Result: FAIL**: 1 violation(s) of 1 rule(s): `rds-private`.");
      expect(text).toMatch(/\| `rds-private` \| RDS instances are not publicly accessible \| 1 \| \*\*FAIL\*\* \(1\) \|/);
      expect(text).toContain(
        "### `rds-private`: 1 violation(s)\n\n| phase | address | found |\n|---|---|---|\n| database | `aws_db_instance.rds_instance` | publicly_accessible must be false |",
      );
    }
    expect(r.file).toContain("| database | `aws_db_instance.rds_instance` | **FAIL** |");
  }, 30_000);

  it("does not fail on dev: the same violation is reported and the audit exits 0", async () => {
    const r = await withPublicDatabase(() => runAudit("dev"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("| database | `aws_db_instance.rds_instance` | publicly_accessible must be false |");
  }, 30_000);
});
