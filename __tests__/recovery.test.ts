/**
 * Region loss, part 1: the recovery phase's copies, read from the synthesized JSON of the whole
 * environment (so each copy's wiring to the phase it copies is under test), and the environment rules
 * that refuse an environment whose data would stay in one region.
 */
import { CATALOG } from "../src/config/services";
import { GuardrailError, StackView, viewOf } from "../src/policy/guardrails";
import { auditReplicated, backupsReplicated, drRegionApart } from "../src/policy/recovery-rules";
import { environmentKey } from "../src/policy/network-rules";
import { REGISTERED_PHASES } from "../src/stacks/registry";
import { RecoveryStack } from "../src/stacks/recovery-stack";
import { StackJson, buildEnv, config, policyStatements, resources, synthEnv } from "./support/config";

const ACCOUNT = "111122223333";
const prod = synthEnv(config("prod"));
const rec = prod.json.recovery!;
const remote = (phase: string, output: string) => `\${data.terraform_remote_state.${phase}.outputs.${output}}`;
const DR_KEY = remote("network", "dr_kms_key_arn");
const one = (json: StackJson, type: string) => {
  const all = Object.values(resources(json, type));
  expect(all).toHaveLength(1);
  return all[0]!;
};

describe("prod: the recovery phase", () => {
  it("lives in the DR region: its default provider and its state, with a second provider in the primary region", () => {
    expect(rec.terraform.backend.s3).toMatchObject({
      bucket: `accessweaver-terraform-state-prod-dr-${ACCOUNT}`,
      key: "prod/recovery/terraform.tfstate",
      region: "eu-central-1",
    });
    expect(rec.provider.aws.map((p: { alias?: string; region: string }) => [p.alias ?? "default", p.region])).toEqual([
      ["default", "eu-central-1"],
      ["primary", "eu-west-1"],
    ]);
    // It reads the earlier phases where they keep their state: the primary backend.
    for (const phase of ["network", "database", "observability"]) {
      expect(rec.data.terraform_remote_state[phase].config).toEqual({
        bucket: `accessweaver-terraform-state-prod-${ACCOUNT}`,
        key: `prod/${phase}/terraform.tfstate`,
        region: "eu-west-1",
      });
    }
  });

  it("uses the DR key made by the network phase in the DR region", () => {
    const network = prod.json.network!;
    const key = resources(network, "aws_kms_key")["dr-key_key"];
    expect(key).toMatchObject({ provider: "aws.dr", enable_key_rotation: true, lifecycle: { prevent_destroy: true } });
    expect(network.provider.aws.find((p: { alias?: string }) => p.alias === "dr").region).toBe("eu-central-1");
    expect(resources(network, "aws_kms_alias")["dr-key_alias"]).toMatchObject({ name: "alias/accessweaver-prod-dr", provider: "aws.dr" });
    expect(network.output.dr_kms_key_arn.value).toBe("${aws_kms_key.dr-key_key.arn}");
    // Its policy: services in the DR region only, for this account; no statement opens it to another account.
    const statements = policyStatements(network, "dr-key_key-policy");
    expect(Object.keys(statements).sort()).toEqual([
      "AllowGrantsForAwsResources",
      "AllowSecretsThroughSecretsManager",
      "AllowUseThroughAwsServices",
      "EnableIamUserPermissions",
    ]);
    const via = statements.AllowUseThroughAwsServices.condition.find((c: { variable: string }) => c.variable === "kms:ViaService").values;
    expect(via).toEqual(["rds.eu-central-1.amazonaws.com", "s3.eu-central-1.amazonaws.com", "ecr.eu-central-1.amazonaws.com"]);
    expect(rec.output.dr_kms_key_arn.value).toBe(DR_KEY);
  });

  it("replicates the database's automated backups: the database phase's instance, the DR key, the retention, protected", () => {
    const copy = one(rec, "aws_db_instance_automated_backups_replication");
    expect(copy).toMatchObject({
      source_db_instance_arn: remote("database", "database_arn"),
      kms_key_id: DR_KEY,
      retention_period: 30,
      lifecycle: { prevent_destroy: true },
    });
    expect(prod.json.database!.output.database_arn.value).toBe("${aws_db_instance.rds_instance.arn}");
    expect(copy.provider).toBeUndefined();
    expect(rec.output.database_replicated_backups_arn.value).toBe("${aws_db_instance_automated_backups_replication.database-backups_replication.id}");
    expect(one(synthEnv(config("prod", { dr_backup_retention_days: 7 })).json.recovery, "aws_db_instance_automated_backups_replication").retention_period).toBe(
      7,
    );
  });

  it("replicates the audit bucket to a bucket with the same Object Lock, encrypted with the DR key, within 15 minutes", () => {
    const source = resources(prod.json.observability, "aws_s3_bucket").audit_bucket_bucket;
    expect(prod.json.observability.output.audit_bucket_name.value).toBe(source.bucket);
    const replica = resources(rec, "aws_s3_bucket")["audit-replica_replica_bucket"];
    expect(replica).toMatchObject({ bucket: `accessweaver-prod-audit-logs-dr-${ACCOUNT}`, object_lock_enabled: true, lifecycle: { prevent_destroy: true } });
    expect(replica.provider).toBeUndefined();
    const sourceLock = one(prod.json.observability, "aws_s3_bucket_object_lock_configuration").rule.default_retention;
    expect(one(rec, "aws_s3_bucket_object_lock_configuration").rule.default_retention).toEqual(sourceLock);
    expect(sourceLock).toEqual({ mode: "GOVERNANCE", days: 1096 });
    const sse = one(rec, "aws_s3_bucket_server_side_encryption_configuration").rule[0];
    expect(sse).toEqual({ apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: DR_KEY }, bucket_key_enabled: true });

    const replication = one(rec, "aws_s3_bucket_replication_configuration");
    expect(replication.provider).toBe("aws.primary");
    expect(replication.bucket).toBe(remote("observability", "audit_bucket_name"));
    const [rule] = replication.rule;
    expect(rule).toMatchObject({
      id: "audit-to-dr-region",
      status: "Enabled",
      delete_marker_replication: { status: "Disabled" },
      source_selection_criteria: { sse_kms_encrypted_objects: { status: "Enabled" } },
      destination: {
        bucket: `arn:aws:s3:::${replica.bucket}`,
        encryption_configuration: { replica_kms_key_id: DR_KEY },
        replication_time: { status: "Enabled", time: { minutes: 15 } },
        metrics: { status: "Enabled", event_threshold: { minutes: 15 } },
      },
    });
  });

  it("keeps a compliance lock a compliance lock on the replica", () => {
    const json = synthEnv(config("prod", { audit_object_lock_mode: "COMPLIANCE" })).json.recovery;
    expect(one(json, "aws_s3_bucket_object_lock_configuration").rule.default_retention).toEqual({ mode: "COMPLIANCE", days: 1096 });
  });

  it("gives the audit replication role only this source, this replica and the two keys through S3", () => {
    const statements = policyStatements(rec, "audit-replica_role_permissions");
    // The source is named through the observability phase's handle, as the replication rule names it.
    const source = `arn:aws:s3:::${remote("observability", "audit_bucket_name")}`;
    const replica = `arn:aws:s3:::accessweaver-prod-audit-logs-dr-${ACCOUNT}`;
    expect(statements.ReadSourceConfiguration.resources).toEqual([source]);
    expect(statements.ReadSourceVersions.resources).toEqual([`${source}/*`]);
    expect(statements.ReadSourceVersions.actions).toEqual(expect.arrayContaining(["s3:GetObjectRetention", "s3:GetObjectLegalHold"]));
    expect(statements.WriteReplicas.resources).toEqual([`${replica}/*`]);
    expect(statements.DecryptSource.resources).toEqual([remote("network", "kms_key_arn")]);
    expect(statements.EncryptReplicas.resources).toEqual([DR_KEY]);
    for (const st of Object.values(statements)) for (const a of st.actions) expect(a).not.toMatch(/\*$/);
    const trust = policyStatements(rec, "audit-replica_role_trust").AssumedByService;
    expect(trust.principals).toEqual([{ type: "Service", identifiers: ["s3.amazonaws.com"] }]);
  });

  it("alarms on the copy itself, in the primary region, to the alerts topic", () => {
    const alarms = resources(rec, "aws_cloudwatch_metric_alarm");
    expect(Object.values(alarms).map((a) => [a.alarm_name, a.metric_name, a.provider])).toEqual([
      ["accessweaver-prod-audit-replication-failed", "OperationsFailedReplication", "aws.primary"],
      ["accessweaver-prod-audit-replication-latency", "ReplicationLatency", "aws.primary"],
    ]);
    for (const a of Object.values(alarms)) {
      expect(a.alarm_actions).toContain(remote("observability", "alerts_topic_arn"));
      expect(a.dimensions).toEqual({
        SourceBucket: remote("observability", "audit_bucket_name"),
        DestinationBucket: `accessweaver-prod-audit-logs-dr-${ACCOUNT}`,
        RuleId: "audit-to-dr-region",
      });
    }
    const rules = resources(rec, "aws_cloudwatch_event_rule");
    expect(rules["backup-replication_rule"]).toMatchObject({ name: "accessweaver-prod-backup-replication", provider: "aws.primary" });
    expect(JSON.parse(rules["backup-replication_rule"].event_pattern).detail.SourceIdentifier).toEqual(["accessweaver-prod-postgres"]);
    expect(rules["image-replication_rule"].provider).toBe("aws.primary");
    // ECR reports in the DR region: that rule forwards to the primary region's bus.
    expect(rules["image-replication-forward_rule"].provider).toBeUndefined();
    expect(resources(rec, "aws_cloudwatch_event_target")["image-replication-forward_target"].arn).toBe(`arn:aws:events:eu-west-1:${ACCOUNT}:event-bus/default`);
  });

  it("replicates the services' images into the DR region, where the replicas are encrypted with the DR key", () => {
    const replication = one(rec, "aws_ecr_replication_configuration");
    expect(replication.provider).toBe("aws.primary");
    const [rule] = replication.replication_configuration.rule;
    expect(rule.destination).toEqual([{ region: "eu-central-1", registry_id: ACCOUNT }]);
    expect(rule.repository_filter).toEqual(CATALOG.map((s) => ({ filter: s.name, filter_type: "PREFIX_MATCH" })));
    const template = one(rec, "aws_ecr_repository_creation_template");
    expect(template).toMatchObject({ prefix: "ROOT", applied_for: ["REPLICATION"], encryption_configuration: [{ encryption_type: "KMS", kms_key: DR_KEY }] });
    expect(template.provider).toBeUndefined();
    expect(template.custom_role_arn).toBe("${aws_iam_role.images_role_role.arn}");
    // ECR replicates no deletion: the replicas expire on their own, and replication waits for the template.
    const lifecycle = JSON.parse(template.lifecycle_policy);
    expect(lifecycle.rules.map((r: { selection: { countType: string; countNumber: number } }) => [r.selection.countType, r.selection.countNumber])).toEqual([
      ["sinceImagePushed", 7],
      ["imageCountMoreThan", 200],
    ]);
    expect(replication.depends_on).toEqual(["aws_ecr_repository_creation_template.images_dr-template"]);
  });

  it("replicates the JWT secret to the DR region with the DR key (the cache phase declares the replica)", () => {
    const jwt = resources(prod.json.cache, "aws_secretsmanager_secret")["jwt-secret_secret"];
    expect(jwt.replica).toEqual([{ region: "eu-central-1", kms_key_id: DR_KEY }]);
    // The Redis AUTH token is not copied: the DR cache is created fresh.
    expect(resources(prod.json.cache, "aws_secretsmanager_secret")["redis-secret_secret"].replica).toBeUndefined();
  });

  it("publishes what a restore starts from", () => {
    expect(Object.keys(rec.output).sort()).toEqual([
      "audit_replica_bucket_name",
      "database_replicated_backups_arn",
      "dr_kms_key_arn",
      "dr_region",
      "jwt_secret_name",
      "jwt_secret_replica_arn",
      "replicated_repositories",
    ]);
    expect(rec.output.dr_region.value).toBe("eu-central-1");
    // The replica keeps the primary's ARN in its own region.
    expect(rec.output.jwt_secret_replica_arn.value).toBe(
      '${replace(data.terraform_remote_state.cache.outputs.jwt_secret_arn, ":eu-west-1:", ":eu-central-1:")}',
    );
  });
});

describe("environments without a DR region, and images in another account's registry", () => {
  it("staging without dr_region has no recovery phase, no DR key and no replica; with it, the same copies", () => {
    const bare = synthEnv(config("staging"));
    expect(bare.json.recovery).toBeUndefined();
    expect(resources(bare.json.network, "aws_kms_key")["dr-key_key"]).toBeUndefined();
    expect(resources(bare.json.cache, "aws_secretsmanager_secret")["jwt-secret_secret"].replica).toBeUndefined();
    const drilled = synthEnv(config("staging", { dr_region: "eu-west-3" }));
    expect(one(drilled.json.recovery, "aws_db_instance_automated_backups_replication").retention_period).toBe(14);
    expect(drilled.json.recovery.provider.aws[0].region).toBe("eu-west-3");
    // The registry's one replication configuration is prod's: staging replicates images only when told to.
    expect(resources(drilled.json.recovery, "aws_ecr_replication_configuration")).toEqual({});
    expect(resources(drilled.json.recovery, "aws_ecr_repository_creation_template")).toEqual({});
    const owning = synthEnv(config("staging", { dr_region: "eu-west-3", dr_replicate_images: true })).json.recovery;
    expect(Object.keys(resources(owning, "aws_ecr_replication_configuration"))).toHaveLength(1);
  });

  it("dev has none", () => {
    expect(synthEnv(config("dev")).json.recovery).toBeUndefined();
  });

  it("leaves another account's registry to its owner", () => {
    const json = synthEnv(config("prod", { ecr_registry: "444455556666.dkr.ecr.eu-west-1.amazonaws.com" })).json.recovery;
    expect(resources(json, "aws_ecr_replication_configuration")).toEqual({});
    expect(json.output.replicated_repositories.value).toEqual([]);
  });
});

describe("the environment rules refuse data left in one region", () => {
  const views = (): StackView[] => Object.entries(prod.byStack).map(([name, json]) => viewOf(name, structuredClone(json)));
  const home = (vs: StackView[]) => vs.find((v) => v.stackName.endsWith("-recovery"))!;
  const res = (v: StackView, type: string) => v.resources.find((r) => r.type === type)!;
  const check = (rule: typeof backupsReplicated, mutate: (vs: StackView[]) => void) => {
    const vs = views();
    mutate(vs);
    return rule.check(vs, home(vs)).map((x) => `${x.address}: ${x.message}`);
  };

  it("pass on prod as built", () => {
    const vs = views();
    for (const rule of [backupsReplicated, auditReplicated, drRegionApart]) expect(rule.check(vs, home(vs))).toEqual([]);
  });

  it("dr-backups-replicated rejects a database without replicated backups, or with a bad copy", () => {
    expect(check(backupsReplicated, (vs) => ((home(vs).resources as unknown[]).length = 0))).toEqual([
      expect.stringMatching(
        /^accessweaver-prod-database: aws_db_instance.rds_instance: no automated backups replication of this instance in accessweaver-prod-recovery/,
      ),
    ]);
    expect(
      check(
        backupsReplicated,
        (vs) => (res(home(vs), "aws_db_instance_automated_backups_replication").config.source_db_instance_arn = "arn:aws:rds:eu-west-1:1:db:other"),
      ),
    ).toHaveLength(1);
    expect(check(backupsReplicated, (vs) => delete res(home(vs), "aws_db_instance_automated_backups_replication").config.kms_key_id)).toEqual([
      expect.stringContaining("kms_key_id is not set"),
    ]);
    expect(check(backupsReplicated, (vs) => (res(home(vs), "aws_db_instance_automated_backups_replication").config.retention_period = 0))).toEqual([
      expect.stringContaining("retention_period is 0; expected 1 to 35 days"),
    ]);
    expect(check(backupsReplicated, (vs) => delete res(home(vs), "aws_db_instance_automated_backups_replication").config.lifecycle)).toEqual([
      expect.stringContaining("no lifecycle.prevent_destroy, while the instance has it"),
    ]);
  });

  it("dr-audit-replicated rejects an audit bucket not replicated, or replicated without its lock or key", () => {
    const replication = (vs: StackView[]) => res(home(vs), "aws_s3_bucket_replication_configuration").config;
    expect(check(auditReplicated, (vs) => (replication(vs).rule[0].status = "Disabled"))).toEqual([
      expect.stringMatching(/^accessweaver-prod-observability: aws_s3_bucket.audit_bucket_bucket: no enabled replication rule/),
    ]);
    expect(
      check(
        auditReplicated,
        (vs) => (res(home(vs), "aws_s3_bucket_object_lock_configuration").config.rule.default_retention = { mode: "GOVERNANCE", days: 30 }),
      ),
    ).toEqual([expect.stringContaining('Object Lock {"mode":"GOVERNANCE","days":30}; expected the source\'s {"mode":"GOVERNANCE","days":1096}')]);
    expect(check(auditReplicated, (vs) => (res(home(vs), "aws_s3_bucket").config.object_lock_enabled = false))).toHaveLength(1);
    expect(check(auditReplicated, (vs) => delete replication(vs).rule[0].destination.encryption_configuration)).toEqual([
      expect.stringContaining("replica_kms_key_id"),
    ]);
    expect(check(auditReplicated, (vs) => (replication(vs).rule[0].source_selection_criteria.sse_kms_encrypted_objects.status = "Disabled"))).toEqual([
      expect.stringContaining("sse_kms_encrypted_objects is not Enabled"),
    ]);
    expect(check(auditReplicated, (vs) => delete res(home(vs), "aws_s3_bucket").config.lifecycle)).toEqual([
      expect.stringContaining("no lifecycle.prevent_destroy"),
    ]);
  });

  it("dr-region rejects a DR region equal to the primary, outside the EU, or a replica elsewhere", () => {
    const region = (vs: StackView[], r: string) => (home(vs).providers.aws![0].region = r);
    expect(check(drRegionApart, (vs) => region(vs, "eu-west-1"))).toEqual(
      expect.arrayContaining([expect.stringContaining("region eu-west-1 is the environment's own region")]),
    );
    expect(check(drRegionApart, (vs) => region(vs, "eu-west-2"))).toEqual(
      expect.arrayContaining([expect.stringContaining('region "eu-west-2"; expected a region of the EU/EEA')]),
    );
    const cache = (vs: StackView[]) => vs.find((v) => v.stackName.endsWith("-cache"))!;
    expect(check(drRegionApart, (vs) => (cache(vs).resources.find((r) => r.name === "jwt-secret_secret")!.config.replica[0].region = "eu-north-1"))).toEqual([
      expect.stringContaining('replica in "eu-north-1"; expected the DR region eu-central-1'),
    ]);
  });

  it("kms-environment-key rejects the primary key in the DR region and the DR key in the primary region", () => {
    const vs = views();
    const r = home(vs);
    res(r, "aws_db_instance_automated_backups_replication").config.kms_key_id = remote("network", "kms_key_arn");
    res(r, "aws_s3_bucket_replication_configuration").config.rule[0].destination.encryption_configuration.replica_kms_key_id = remote("network", "kms_key_arn");
    expect(environmentKey.check(r).map((x) => x.message)).toEqual([
      expect.stringContaining("expected the DR region's key"),
      expect.stringContaining("rule[0].destination.encryption_configuration.replica_kms_key_id"),
    ]);
    const database = vs.find((v) => v.stackName.endsWith("-database"))!;
    res(database, "aws_db_instance").config.kms_key_id = DR_KEY;
    expect(environmentKey.check(database).map((x) => x.message)).toEqual([expect.stringContaining("expected the environment's key")]);
    // The network stack's own DR key serves the DR region only.
    const network = vs.find((v) => v.stackName.endsWith("-network"))!;
    res(network, "aws_flow_log").config.log_destination = undefined;
    network.resources.find((x) => x.type === "aws_cloudwatch_log_group")!.config.kms_key_id = "${aws_kms_key.dr-key_key.arn}";
    expect(environmentKey.check(network).map((x) => x.message)).toEqual([expect.stringContaining("expected the environment's key")]);
  });

  it("stop the synth when the recovery phase leaves the database out (enforced in prod)", () => {
    const phases = REGISTERED_PHASES.map((p) =>
      p.phase !== "recovery"
        ? p
        : {
            ...p,
            build: (scope: Parameters<typeof p.build>[0], cfg: Parameters<typeof p.build>[1], built: Parameters<typeof p.build>[2]) => {
              const stack = new RecoveryStack(scope, cfg, built);
              stack.node.tryRemoveChild("database-backups");
              return stack;
            },
          },
    );
    const { app } = buildEnv(config("prod"), phases);
    expect(() => app.synth()).toThrow(GuardrailError);
    expect(() => app.synth()).toThrow(/\[dr-backups-replicated\] accessweaver-prod-database: aws_db_instance.rds_instance: no automated backups replication/);
  });
});
