import { App, TerraformStack } from "cdktf";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { NetworkAcl } from "@cdktf/provider-aws/lib/network-acl";
import { NetworkAclAssociation } from "@cdktf/provider-aws/lib/network-acl-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { GuardrailError, Rule, evaluate, viewOf } from "../src/policy/guardrails";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import {
  databaseSubnetsInTheirAcl,
  endpointsHavePolicies,
  environmentKey,
  keyPolicyNoOpenPrincipal,
  onlyAlbPublic,
  resourcePolicyNoOpenPrincipal,
} from "../src/policy/network-rules";
import { BASELINE_RULES } from "../src/policy/rules";
import { buildEnv, config, tempDir } from "./support/config";

/** The addresses a rule rejects in a bare stack holding the resources `add` makes. */
function rejected(rule: Rule, add: (s: TerraformStack) => void): string[] {
  const stack = new TerraformStack(new App({ outdir: tempDir() }), "accessweaver-prod-test");
  add(stack);
  return evaluate(viewOf(stack.node.id, stack.toTerraform()), [rule]).map((v) => `${v.address}: ${v.message}`);
}

const document = (s: TerraformStack, id: string, condition?: { test: string; variable: string; values: string[] }[]) =>
  new DataAwsIamPolicyDocument(s, id, {
    statement: [
      { sid: "Use", actions: ["kms:Decrypt"], resources: ["*"], principals: [{ type: "AWS", identifiers: ["*"] }], ...(condition ? { condition } : {}) },
    ],
  });

describe("network guardrail rules reject bad resources", () => {
  it("are part of the baseline every stack is checked against", () => {
    for (const rule of [
      endpointsHavePolicies,
      keyPolicyNoOpenPrincipal,
      resourcePolicyNoOpenPrincipal,
      databaseSubnetsInTheirAcl,
      onlyAlbPublic,
      environmentKey,
    ])
      expect(BASELINE_RULES).toContain(rule);
  });

  it("endpoint-policy: an endpoint without a policy, or with an empty one", () => {
    expect(
      rejected(endpointsHavePolicies, (s) => {
        new VpcEndpoint(s, "open", { vpcId: "vpc-1", serviceName: "com.amazonaws.eu-west-1.s3" });
        new VpcEndpoint(s, "blank", { vpcId: "vpc-1", serviceName: "com.amazonaws.eu-west-1.kms", policy: " " });
        new VpcEndpoint(s, "scoped", {
          vpcId: "vpc-1",
          serviceName: "com.amazonaws.eu-west-1.logs",
          policy: document(s, "doc", [{ test: "StringEquals", variable: "aws:PrincipalAccount", values: ["111122223333"] }]).json,
        });
      }),
    ).toEqual([
      "aws_vpc_endpoint.open: no policy: the endpoint allows any action on any account's resources",
      "aws_vpc_endpoint.blank: no policy: the endpoint allows any action on any account's resources",
    ]);
  });

  const KEYS =
    "aws:SourceAccount, aws:SourceOwner, aws:PrincipalAccount, kms:CallerAccount, aws:SourceArn, aws:PrincipalArn, aws:SourceOrgID, aws:PrincipalOrgID, aws:SourceOrgPaths or aws:PrincipalOrgPaths";
  /** The message of an open statement, with the conditions it has. */
  const openMsg = (has = "it has none") =>
    `allows principal "*" without a condition on ${KEYS} naming an account, an ARN with its account or an organization (${has})`;

  it("kms-policy-open-principal: a wildcard principal without a condition naming the account, in a policy document or in JSON; an unreadable policy", () => {
    const open = JSON.stringify({ Statement: [{ Sid: "Open", Effect: "Allow", Principal: { AWS: ["*"] }, Action: "kms:*", Resource: "*" }] });
    const conditioned = JSON.stringify({
      Statement: [
        {
          Sid: "Via",
          Effect: "Allow",
          Principal: "*",
          Action: "kms:Decrypt",
          Resource: "*",
          Condition: { StringEquals: { "kms:CallerAccount": "111122223333" } },
        },
      ],
    });
    expect(
      rejected(keyPolicyNoOpenPrincipal, (s) => {
        new KmsKey(s, "doc_open", { policy: document(s, "open").json });
        new KmsKey(s, "doc_conditioned", {
          policy: document(s, "conditioned", [{ test: "StringEquals", variable: "kms:CallerAccount", values: ["111122223333"] }]).json,
        });
        // A condition that names no account (TLS, a negated or optional account test) still lets every account in.
        new KmsKey(s, "doc_tls_only", { policy: document(s, "tls-only", [{ test: "Bool", variable: "aws:SecureTransport", values: ["true"] }]).json });
        new KmsKey(s, "doc_not_equals", {
          policy: document(s, "not-equals", [{ test: "StringNotEquals", variable: "aws:PrincipalAccount", values: ["444455556666"] }]).json,
        });
        new KmsKey(s, "doc_if_exists", {
          policy: document(s, "if-exists", [{ test: "StringEqualsIfExists", variable: "aws:SourceAccount", values: ["111122223333"] }]).json,
        });
        new KmsKey(s, "doc_any_account", {
          policy: document(s, "any-account", [{ test: "StringLike", variable: "aws:PrincipalAccount", values: ["*"] }]).json,
        });
        // ARNs with a wildcard account name no account; an organization path needs ForAnyValue (a multivalued key).
        new KmsKey(s, "doc_any_arn", { policy: document(s, "any-arn", [{ test: "ArnLike", variable: "aws:SourceArn", values: ["arn:aws:sns:*:*:*"] }]).json });
        new KmsKey(s, "doc_any_role", {
          policy: document(s, "any-role", [{ test: "StringLike", variable: "aws:PrincipalArn", values: ["arn:aws:iam::*:role/*"] }]).json,
        });
        new KmsKey(s, "doc_account_arn", {
          policy: document(s, "account-arn", [{ test: "ArnLike", variable: "aws:SourceArn", values: ["arn:aws:sns:eu-west-1:111122223333:*"] }]).json,
        });
        new KmsKey(s, "doc_org_path", {
          policy: document(s, "org-path", [
            { test: "ForAnyValue:StringLike", variable: "aws:PrincipalOrgPaths", values: ["o-abc123/r-ab12/ou-ab12-11111111/*"] },
          ]).json,
        });
        new KmsKey(s, "json_open", { policy: open });
        new KmsKey(s, "json_star", { policy: open.replace('{"AWS":["*"]}', '"*"') });
        new KmsKey(s, "json_conditioned", { policy: conditioned });
        new KmsKey(s, "unreadable", { policy: "${jsonencode({})}" });
        new KmsKey(s, "default_policy", {});
      }),
    ).toEqual([
      `aws_kms_key.doc_open: statement Use ${openMsg()}: anyone in any account could use the key`,
      `aws_kms_key.doc_tls_only: statement Use ${openMsg('it has Bool aws:SecureTransport ["true"]')}: anyone in any account could use the key`,
      `aws_kms_key.doc_not_equals: statement Use ${openMsg('it has StringNotEquals aws:PrincipalAccount ["444455556666"]')}: anyone in any account could use the key`,
      `aws_kms_key.doc_if_exists: statement Use ${openMsg('it has StringEqualsIfExists aws:SourceAccount ["111122223333"]')}: anyone in any account could use the key`,
      `aws_kms_key.doc_any_account: statement Use ${openMsg('it has StringLike aws:PrincipalAccount ["*"]')}: anyone in any account could use the key`,
      `aws_kms_key.doc_any_arn: statement Use ${openMsg('it has ArnLike aws:SourceArn ["arn:aws:sns:*:*:*"]')}: anyone in any account could use the key`,
      `aws_kms_key.doc_any_role: statement Use ${openMsg('it has StringLike aws:PrincipalArn ["arn:aws:iam::*:role/*"]')}: anyone in any account could use the key`,
      `aws_kms_key.json_open: statement Open ${openMsg()}: anyone in any account could use the key`,
      `aws_kms_key.json_star: statement Open ${openMsg()}: anyone in any account could use the key`,
      "aws_kms_key.unreadable: the policy is neither an aws_iam_policy_document nor JSON, so it cannot be checked",
    ]);
  });

  it("resource-policy-open-principal: a topic, a bucket and a role's trust open to every account; Deny statements and scoped ones pass", () => {
    const statement = (over: object) =>
      JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "S", Effect: "Allow", Action: "sns:Publish", Resource: "*", ...over }] });
    expect(
      rejected(resourcePolicyNoOpenPrincipal, (s) => {
        const topic = new SnsTopic(s, "topic", { name: "t" });
        new SnsTopicPolicy(s, "topic_open", { arn: topic.arn, policy: statement({ Principal: { AWS: "*" } }) });
        new SnsTopicPolicy(s, "topic_star", { arn: topic.arn, policy: statement({ Principal: "*", Condition: { Bool: { "aws:SecureTransport": "true" } } }) });
        new SnsTopicPolicy(s, "topic_scoped", {
          arn: topic.arn,
          policy: statement({ Principal: "*", Condition: { StringEquals: { "aws:SourceAccount": "111122223333" } } }),
        });
        new SnsTopicPolicy(s, "topic_org", {
          arn: topic.arn,
          policy: statement({ Principal: { AWS: "*" }, Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abc123" } } }),
        });
        new SnsTopicPolicy(s, "topic_service", { arn: topic.arn, policy: statement({ Principal: { Service: "cloudwatch.amazonaws.com" } }) });
        new SnsTopicPolicy(s, "topic_deny", {
          arn: topic.arn,
          policy: statement({ Effect: "Deny", Principal: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        });
        new SnsTopicPolicy(s, "topic_unreadable", { arn: topic.arn, policy: "${jsonencode(local.p)}" });
        new SnsTopic(s, "topic_inline", { name: "i", policy: statement({ Principal: "*" }) });
        const bucket = new S3Bucket(s, "bucket", { bucket: "b" });
        new S3BucketPolicy(s, "bucket_open", { bucket: bucket.id, policy: document(s, "bucket-doc").json });
        new IamRole(s, "role_open", {
          name: "r",
          assumeRolePolicy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { AWS: ["*"] } }] }),
        });
        new IamRole(s, "role_service", {
          name: "q",
          assumeRolePolicy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "ecs-tasks.amazonaws.com" } }] }),
        });
      }),
    ).toEqual([
      `aws_sns_topic.topic_inline: statement S ${openMsg()}: any AWS account could use the resource`,
      `aws_sns_topic_policy.topic_open: statement S ${openMsg()}: any AWS account could use the resource`,
      `aws_sns_topic_policy.topic_star: statement S ${openMsg('it has Bool aws:SecureTransport ["true"]')}: any AWS account could use the resource`,
      "aws_sns_topic_policy.topic_unreadable: the policy is neither an aws_iam_policy_document nor JSON, so it cannot be checked",
      `aws_s3_bucket_policy.bucket_open: statement Use ${openMsg()}: any AWS account could use the resource`,
      `aws_iam_role.role_open: statement #0 ${openMsg()}: any AWS account could use the resource`,
    ]);
  });

  it("database-subnet-acl: a database subnet outside the database ACL, in another ACL, and a database ACL open to the world", () => {
    const subnet = (s: TerraformStack, id: string) => new Subnet(s, id, { vpcId: "vpc-1", cidrBlock: "10.0.0.0/24", tags: { Tier: "database" } });
    expect(
      rejected(databaseSubnetsInTheirAcl, (s) => {
        const inAcl = subnet(s, "db_in_acl");
        const associated = subnet(s, "db_associated");
        const loose = subnet(s, "db_loose");
        const elsewhere = subnet(s, "db_elsewhere");
        new Subnet(s, "private", { vpcId: "vpc-1", cidrBlock: "10.0.1.0/24", tags: { Tier: "private" } });
        const acl = new NetworkAcl(s, "database", {
          vpcId: "vpc-1",
          subnetIds: [inAcl.id],
          ingress: [{ ruleNo: 300, action: "allow", protocol: "tcp", cidrBlock: "0.0.0.0/0", fromPort: 5432, toPort: 5432 }],
          tags: { Tier: "database" },
        });
        new NetworkAclAssociation(s, "assoc", { networkAclId: acl.id, subnetId: associated.id });
        new NetworkAcl(s, "other", { vpcId: "vpc-1", subnetIds: [elsewhere.id] });
        void loose;
      }),
    ).toEqual([
      "aws_subnet.db_loose: database-tier subnet outside the database network ACL (it falls back to the allow-all default ACL)",
      "aws_subnet.db_elsewhere: database-tier subnet outside the database network ACL (it falls back to the allow-all default ACL)",
      "aws_network_acl.database: ingress rule 300 allows 0.0.0.0/0: the database tier admits the private tier only",
    ]);
  });

  it("public-only-alb: a second internet-facing load balancer, a loose elastic IP, an instance with a public address; the ALB, internal balancers and NAT addresses pass", () => {
    expect(
      rejected(onlyAlbPublic, (s) => {
        new Lb(s, "alb", { name: "accessweaver-prod-alb" });
        new Lb(s, "internal", { name: "accessweaver-prod-internal", internal: true });
        new Lb(s, "other", { name: "accessweaver-prod-other" });
        const nat = new Eip(s, "nat", { domain: "vpc" });
        new NatGateway(s, "gateway", { allocationId: nat.allocationId, subnetId: "subnet-1" });
        new Eip(s, "loose", { domain: "vpc" });
        new Instance(s, "bastion", { ami: "ami-1", instanceType: "t4g.nano", associatePublicIpAddress: true });
      }),
    ).toEqual([
      'aws_lb.other: internet-facing load balancer "accessweaver-prod-other": only accessweaver-prod-alb may be, set internal = true',
      "aws_eip.loose: an elastic IP that no NAT gateway of this stack uses: it would make something else reachable from the internet",
      "aws_instance.bastion: associate_public_ip_address is true",
    ]);
  });

  it("kms-environment-key: an AWS-managed alias, another stack's key, a key in a nested block; the network output, a key of the stack and a key ARN pass", () => {
    const env = "${data.terraform_remote_state.network.outputs.kms_key_arn}";
    expect(
      rejected(environmentKey, (s) => {
        const own = new KmsKey(s, "key", { enableKeyRotation: true });
        new CloudwatchLogGroup(s, "own", { name: "a", kmsKeyId: own.arn });
        new CloudwatchLogGroup(s, "network", { name: "b", kmsKeyId: env });
        new CloudwatchLogGroup(s, "given", { name: "c", kmsKeyId: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" });
        new CloudwatchLogGroup(s, "alias", { name: "d", kmsKeyId: "alias/aws/logs" });
        new DbInstance(s, "db", {
          instanceClass: "db.t4g.micro",
          kmsKeyId: env,
          performanceInsightsKmsKeyId: "${data.terraform_remote_state.other.outputs.key}",
        });
        new S3BucketServerSideEncryptionConfigurationA(s, "sse", {
          bucket: "b",
          rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "alias/aws/s3" } }],
        });
      }),
    ).toEqual([
      `aws_cloudwatch_log_group.alias: kms_key_id is "alias/aws/logs"; expected the environment's key (${env} or a key of this stack)`,
      `aws_db_instance.db: performance_insights_kms_key_id is "\${data.terraform_remote_state.other.outputs.key}"; expected the environment's key (${env} or a key of this stack)`,
      `aws_s3_bucket_server_side_encryption_configuration.sse: rule[0].apply_server_side_encryption_by_default.kms_master_key_id is "alias/aws/s3"; expected the environment's key (${env} or a key of this stack)`,
    ]);
  });

  it("fail prod's synth when the database tier loses its ACL", () => {
    // Simulate a regression in the network-acl construct: the database ACL no longer lists its subnets.
    const render = NetworkAcl.prototype.toTerraform;
    const spy = jest.spyOn(NetworkAcl.prototype, "toTerraform").mockImplementation(function (this: NetworkAcl) {
      const tf = render.call(this);
      for (const acl of Object.values<Record<string, unknown>>(tf.resource.aws_network_acl)) delete acl.subnet_ids;
      return tf;
    });
    try {
      // Its own synth (not synthEnv's shared one): the construct's output is what changed.
      expect(() => buildEnv(config("prod")).app.synth()).toThrow(GuardrailError);
      expect(() => buildEnv(config("prod")).app.synth()).toThrow(
        "[database-subnet-acl] aws_subnet.vpc_subnet_database_eu-west-1a: database-tier subnet outside the database network ACL",
      );
    } finally {
      spy.mockRestore();
    }
  });
});
