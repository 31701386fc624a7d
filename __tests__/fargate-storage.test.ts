// Fargate ephemeral storage encrypted with the environment's key, on whole-environment synths: the
// services phase's cluster names the network phase's key, and that key's policy lets Fargate use it for
// exactly that cluster (the statements AWS documents). The key is a required prop of the cluster construct;
// ecs-ephemeral-storage-encrypted refuses a cluster synthesized without it.
import { App, TerraformStack } from "cdktf";
import { EcsFargateCluster } from "../src/constructs/ecs-cluster";
import { ENVIRONMENTS } from "../src/naming";
import { config, policyStatements, resources, synthEnv, tempDir } from "./support/config";

const ACCOUNT = "111122223333";
const KEY = "${data.terraform_remote_state.network.outputs.kms_key_arn}";

describe.each(ENVIRONMENTS)("%s: Fargate ephemeral storage", (env) => {
  const synth = synthEnv(config(env));
  const cluster = resources(synth.json.services, "aws_ecs_cluster").ecs_cluster;
  const statements = policyStatements(synth.json.network, "kms_key-policy");

  it("the cluster encrypts its tasks' ephemeral storage with the network phase's key (an ARN, never an alias)", () => {
    expect(cluster.name).toBe(`accessweaver-${env}-cluster`);
    expect(cluster.configuration).toEqual({ managed_storage_configuration: { fargate_ephemeral_storage_kms_key_id: KEY } });
    expect(synth.json.network.output.kms_key_arn.value).toBe("${aws_kms_key.kms_key.arn}");
  });

  it("the key lets fargate.amazonaws.com generate data keys and Decrypt-only grants for that cluster of this account only", () => {
    const thisCluster = [
      { test: "StringEquals", variable: "kms:EncryptionContext:aws:ecs:clusterAccount", values: [ACCOUNT] },
      { test: "StringEquals", variable: "kms:EncryptionContext:aws:ecs:clusterName", values: [cluster.name] },
    ];
    const fargate = [{ type: "Service", identifiers: ["fargate.amazonaws.com"] }];
    expect(statements.AllowFargateEphemeralStorage).toEqual({
      sid: "AllowFargateEphemeralStorage",
      effect: "Allow",
      actions: ["kms:GenerateDataKeyWithoutPlaintext"],
      resources: ["*"],
      principals: fargate,
      condition: thisCluster,
    });
    expect(statements.AllowFargateEphemeralStorageGrants).toEqual({
      sid: "AllowFargateEphemeralStorageGrants",
      effect: "Allow",
      actions: ["kms:CreateGrant"],
      resources: ["*"],
      principals: fargate,
      condition: [...thisCluster, { test: "ForAllValues:StringEquals", variable: "kms:GrantOperations", values: ["Decrypt"] }],
    });
  });
});

describe("the cluster construct", () => {
  const stack = () => new TerraformStack(new App({ outdir: tempDir() }), "accessweaver-prod-services");

  it("takes the key it is given", () => {
    const s = stack();
    const arn = "arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    new EcsFargateCluster(s, "ecs", { name: "accessweaver-prod-cluster", ephemeralStorageKmsKeyArn: arn });

    const [cluster] = Object.values<any>(s.toTerraform().resource.aws_ecs_cluster);
    expect(cluster.configuration.managed_storage_configuration.fargate_ephemeral_storage_kms_key_id).toBe(arn);
  });

  it("with kms_key_arn, the services phase still reads the key from the network phase, which publishes that key", () => {
    const arn = "arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    const synth = synthEnv(config("prod", { kms_key_arn: arn }));
    expect(resources(synth.json.services, "aws_ecs_cluster").ecs_cluster.configuration.managed_storage_configuration.fargate_ephemeral_storage_kms_key_id).toBe(
      KEY,
    );
    expect(synth.json.network.output.kms_key_arn.value).toBe(arn);
  });
});
