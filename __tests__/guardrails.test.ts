import { App, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SecurityGroupRule } from "@cdktf/provider-aws/lib/security-group-rule";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { GuardrailError, Guardrails, Rule, evaluate, viewOf } from "../src/policy/guardrails";
import { BASELINE_RULES, kmsKeyRotated, logGroupEncryptedAndRetained, noPublicIpSubnets, noWorldOpenSecurityGroups, requiredTags } from "../src/policy/rules";
import { defaultTags } from "../src/naming";
import { EncryptedLogGroup } from "../src/constructs/log-group";
import { synthesize } from "../src/synth";
import { config, synthEnv, tempDir, ROOT } from "./support/config";
import * as fs from "fs";
import * as path from "path";

const TAGS = defaultTags({ env: "prod", phase: "network", costCenter: "CC-42", owner: "platform" });

/** A bare stack with a tagged provider; `add` puts the resources under test in it. */
function stackWith(add: (s: TerraformStack) => void, tags: Record<string, string> = TAGS): TerraformStack {
  const s = new TerraformStack(new App({ outdir: tempDir() }), "accessweaver-prod-test");
  new AwsProvider(s, "aws", { region: "eu-west-1", defaultTags: [{ tags }] });
  add(s);
  return s;
}
const check = (rule: Rule, s: TerraformStack) => evaluate(viewOf(s.node.id, s.toTerraform()), [rule]);

describe("guardrail rules reject bad resources", () => {
  it("required-tags: a provider without the cost-center tag, a resource blanking a tag", () => {
    const { CostCenter: _dropped, ...partial } = TAGS;
    expect(
      check(
        requiredTags,
        stackWith(() => undefined, partial as Record<string, string>),
      ),
    ).toEqual([{ rule: "required-tags", address: "provider.aws[0]", message: "default_tags lack CostCenter" }]);
    const blanked = stackWith((s) => new Subnet(s, "subnet", { vpcId: "vpc-1", cidrBlock: "10.0.0.0/24", tags: { Owner: "" } }));
    expect(check(requiredTags, blanked)).toEqual([{ rule: "required-tags", address: "aws_subnet.subnet", message: "tags blank out Owner" }]);
    expect(
      check(
        requiredTags,
        stackWith(() => undefined),
      ),
    ).toEqual([]);
  });

  it("log-group-encrypted-retained: unencrypted, undeclared, short-lived, and audit evidence kept under three years", () => {
    const s = stackWith((st) => {
      const app = (name: string) => ({ name, kmsKeyId: "arn:k", tags: { LogClass: "application" } });
      new CloudwatchLogGroup(st, "plain", { name: "/ecs/x", retentionInDays: 365, tags: { LogClass: "application" } });
      new CloudwatchLogGroup(st, "undeclared", { name: "/ecs/z", kmsKeyId: "arn:k", retentionInDays: 365 });
      new CloudwatchLogGroup(st, "unknown-class", { name: "/ecs/w", kmsKeyId: "arn:k", retentionInDays: 365, tags: { LogClass: "debug" } });
      new CloudwatchLogGroup(st, "short", { ...app("/ecs/y"), retentionInDays: 30 });
      new CloudwatchLogGroup(st, "flow", { name: "/aws/vpc/x/flow-logs", kmsKeyId: "arn:k", retentionInDays: 365, tags: { LogClass: "audit" } });
      new CloudwatchLogGroup(st, "good", { name: "/aws/vpc/y/flow-logs", kmsKeyId: "arn:k", retentionInDays: 1096, tags: { LogClass: "audit" } });
      // The name says "audit", the declaration says application: the declaration decides.
      new CloudwatchLogGroup(st, "audit-service", { ...app("/ecs/accessweaver-prod/aw-audit-service"), retentionInDays: 365 });
    });
    expect(check(logGroupEncryptedAndRetained, s).map((v) => `${v.address}: ${v.message}`)).toEqual([
      "aws_cloudwatch_log_group.plain: kms_key_id is not set: the log group is not encrypted with the environment's key",
      "aws_cloudwatch_log_group.undeclared: tag LogClass is missing; expected application or audit (create it with EncryptedLogGroup)",
      'aws_cloudwatch_log_group.unknown-class: tag LogClass is "debug"; expected application or audit (create it with EncryptedLogGroup)',
      "aws_cloudwatch_log_group.short: retention_in_days is 30; application logs need at least 365",
      "aws_cloudwatch_log_group.flow: retention_in_days is 365; audit logs need at least 1096",
    ]);
  });

  it("log classes are declared where the group is made: the audit service's log is an application log; audit evidence kept 365 days fails the prod synth", () => {
    const made = (logClass: "application" | "audit", retentionDays?: number) =>
      stackWith(
        (st) =>
          new EncryptedLogGroup(st, "logs", {
            name: "/ecs/accessweaver-prod/aw-audit-service",
            kmsKeyArn: "arn:k",
            logClass,
            ...(retentionDays ? { retentionDays } : {}),
          }),
      );
    const only = (s: TerraformStack) => Object.values<Record<string, unknown>>(s.toTerraform().resource.aws_cloudwatch_log_group)[0];
    expect(only(made("application"))).toEqual(expect.objectContaining({ retention_in_days: 365, tags: { LogClass: "application" } }));
    expect(check(logGroupEncryptedAndRetained, made("application"))).toEqual([]);
    expect(only(made("audit"))!.retention_in_days).toBe(1096);
    const shortAudit = made("audit", 365);
    Guardrails.attach(shortAudit, BASELINE_RULES, "enforce");
    expect(() => (shortAudit.node.scope as App).synth()).toThrow(
      /\[log-group-encrypted-retained\] aws_cloudwatch_log_group\.logs_log-group\w*: retention_in_days is 365; audit logs need at least 1096/,
    );
  });

  it("kms-key-rotation: a key without rotation", () => {
    const s = stackWith((st) => {
      new KmsKey(st, "unrotated", { description: "x" });
      new KmsKey(st, "rotated", { description: "y", enableKeyRotation: true });
    });
    expect(check(kmsKeyRotated, s)).toEqual([{ rule: "kms-key-rotation", address: "aws_kms_key.unrotated", message: "enable_key_rotation is not true" }]);
  });

  it("no-public-ip-subnet: a subnet that maps public IPs on launch", () => {
    const s = stackWith((st) => {
      new Subnet(st, "public", { vpcId: "vpc-1", cidrBlock: "10.0.0.0/24", mapPublicIpOnLaunch: true });
      new Subnet(st, "private", { vpcId: "vpc-1", cidrBlock: "10.0.1.0/24", mapPublicIpOnLaunch: false });
    });
    expect(check(noPublicIpSubnets, s).map((v) => v.address)).toEqual(["aws_subnet.public"]);
  });

  it("no-world-ingress: world-open groups other than the ALB's 80/443, in every rule shape", () => {
    const s = stackWith((st) => {
      const alb = new SecurityGroup(st, "alb", { name: "accessweaver-prod-alb", vpcId: "vpc-1" });
      const db = new SecurityGroup(st, "db", { name: "accessweaver-prod-database", vpcId: "vpc-1" });
      new VpcSecurityGroupIngressRule(st, "alb_https", { securityGroupId: alb.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" });
      new VpcSecurityGroupIngressRule(st, "alb_ssh", { securityGroupId: alb.id, ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" });
      new VpcSecurityGroupIngressRule(st, "db_world", { securityGroupId: db.id, ipProtocol: "tcp", fromPort: 5432, toPort: 5432, cidrIpv6: "::/0" });
      new VpcSecurityGroupIngressRule(st, "db_vpc", { securityGroupId: db.id, ipProtocol: "tcp", fromPort: 5432, toPort: 5432, cidrIpv4: "10.0.0.0/16" });
      new SecurityGroupRule(st, "legacy", { type: "ingress", securityGroupId: db.id, protocol: "tcp", fromPort: 0, toPort: 65535, cidrBlocks: ["0.0.0.0/0"] });
      const lookalike = new SecurityGroup(st, "lookalike", { name: "accessweaver-dev-alb", vpcId: "vpc-1" });
      new VpcSecurityGroupIngressRule(st, "lookalike_https", {
        securityGroupId: lookalike.id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
      });
      new SecurityGroup(st, "inline", {
        name: "accessweaver-prod-other",
        vpcId: "vpc-1",
        ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }],
      });
    });
    expect(check(noWorldOpenSecurityGroups, s).map((v) => v.address)).toEqual([
      "aws_vpc_security_group_ingress_rule.alb_ssh",
      "aws_vpc_security_group_ingress_rule.db_world",
      "aws_vpc_security_group_ingress_rule.lookalike_https",
      "aws_security_group_rule.legacy",
      "aws_security_group.inline",
    ]);
  });
});

describe("guardrail aspect", () => {
  const badStack = (mode: "enforce" | "report", report?: (m: string) => void) => {
    // Only its rotation is wrong (and, in prod, its lack of prevent_destroy).
    const s = stackWith((st) => new KmsKey(st, "unrotated", { description: "x", deletionWindowInDays: 30 }));
    Guardrails.attach(s, BASELINE_RULES, mode, report);
    return s;
  };

  it("fails the synth in enforce mode, naming the resource and the rule", () => {
    const s = badStack("enforce");
    expect(() => (s.node.scope as App).synth()).toThrow(GuardrailError);
    expect(() => (s.node.scope as App).synth()).toThrow("[kms-key-rotation] aws_kms_key.unrotated: enable_key_rotation is not true");
  });

  it("reports without failing in report mode", () => {
    const messages: string[] = [];
    const s = badStack("report", (m) => messages.push(m));
    expect(() => (s.node.scope as App).synth()).not.toThrow();
    expect(messages.join("\n")).toMatch(/guardrails \(report only\) for accessweaver-prod-test \(2\):\n {2}- \[kms-key-rotation\] aws_kms_key.unrotated/);
  });

  it("enforces in prod and staging, and reports in dev", () => {
    expect(config("prod").sizing.guardrails).toBe("enforce");
    expect(config("staging").sizing.guardrails).toBe("enforce");
    expect(config("dev").sizing.guardrails).toBe("report");
  });

  it("passes every real stack of every environment", () => {
    for (const env of ["dev", "staging", "prod"] as const) {
      for (const stack of synthEnv(config(env)).stacks) {
        expect(evaluate(viewOf(stack.node.id, stack.toTerraform()), BASELINE_RULES)).toEqual([]);
      }
    }
  });

  it("leaves the output folder untouched when prod fails a guardrail", async () => {
    const root = tempDir();
    fs.mkdirSync(path.join(root, "environments/prod"), { recursive: true });
    fs.copyFileSync(path.join(ROOT, "environments/prod/terraform.tfvars.example"), path.join(root, "environments/prod/terraform.tfvars"));
    const outdir = path.join(root, "out");
    // Simulate a regression in the kms construct: the key it renders is no longer rotated.
    const render = KmsKey.prototype.toTerraform;
    const spy = jest.spyOn(KmsKey.prototype, "toTerraform").mockImplementation(function (this: KmsKey) {
      const tf = render.call(this);
      for (const key of Object.values<Record<string, unknown>>(tf.resource.aws_kms_key)) key.enable_key_rotation = false;
      return tf;
    });
    try {
      await expect(synthesize({ outdir, envSelection: "prod", rootDir: root })).rejects.toThrow(/\[kms-key-rotation\] aws_kms_key.kms_key/);
    } finally {
      spy.mockRestore();
    }
    expect(fs.existsSync(outdir)).toBe(false);
    expect(fs.readdirSync(root).filter((f) => f.startsWith("out"))).toEqual([]);
  });
});
