// Against a real moto_server (make test's emulate stage; skipped here without moto_server or Terraform):
// - the S3 backend's locking works against the emulator's DynamoDB: a plan while another run holds the
//   state gets "Error acquiring the state lock", and the operator's make plan reports it;
// - the allow-list's gaps are still moto's: each probe fails (or waits) without the entry's handling,
//   so an entry that moto no longer needs shows up here.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ALLOW_LIST, editRules, motoSettings, standInRules } from "../scripts/emulate/allow-list";
import {
  ApiCall,
  RunningEmulator,
  authorization,
  createBucketCall,
  createPrerequisites,
  jsonCall,
  motoEnvironment,
  send,
  startMoto,
} from "../scripts/emulate/emulator";
import { COPY_FILE, emulatedCopy } from "../scripts/emulate/rewrite";
import { OutputHashes, readRecord } from "../scripts/operator/plans";
import { which } from "../scripts/operator/process";
import { Context, plan } from "../scripts/operator/workflow";
import { readMirror } from "../scripts/tf-check/mirror";
import { runTerraform, terraformFor } from "../scripts/tf-check/terraform";
import { tempDir } from "./support/config";
import { ACCOUNT, BUCKET, TABLE, synthStack } from "./fixtures/emulate/stacks";

const MOTO = process.env.MOTO_SERVER || "moto_server";
const TF = process.env.TF || "terraform";
const available = which(MOTO) !== undefined && which(TF) !== undefined;
const suite = available ? describe : describe.skip;
if (!available) console.warn(`SKIPPED emulate-terraform.test.ts: no ${MOTO} or no ${TF} on PATH`);

jest.setTimeout(180_000);

/** A query-protocol call (IAM, ElastiCache, RDS), as the SDKs send it. */
const query = (service: string, region: string, params: Record<string, string>): ApiCall => ({
  service,
  method: "POST",
  path: "/",
  headers: { authorization: authorization(ACCOUNT, region, service), "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(params).toString(),
});
/** A JSON-protocol call (ACM, Budgets, CloudTrail, CodeDeploy). */
const json = (service: string, target: string, body: object, region = "eu-west-1"): ApiCall => ({
  service,
  method: "POST",
  path: "/",
  headers: { authorization: authorization(ACCOUNT, region, service), "x-amz-target": target, "content-type": "application/x-amz-json-1.1" },
  body: JSON.stringify(body),
});

suite("against moto_server", () => {
  let moto: RunningEmulator;
  let bare: RunningEmulator;
  beforeAll(async () => {
    // One with the allow-list's settings (as make emulate starts it), one without.
    [moto, bare] = await Promise.all([startMoto(MOTO, motoEnvironment(ACCOUNT, motoSettings())), startMoto(MOTO, motoEnvironment(ACCOUNT, {}))]);
  });
  afterAll(async () => {
    await Promise.all([moto?.stop(), bare?.stop()]);
  });

  test("a second plan while another run holds the state gets Error acquiring the state lock; the operator's make plan names the lock, keeps no plan, and plans once it is released", async () => {
    const out = tempDir("aw-emulate-lock-");
    const stack = synthStack(
      "network",
      {
        terraform: {
          backend: { s3: { bucket: BUCKET, key: "dev/network/terraform.tfstate", region: "eu-west-1", dynamodb_table: TABLE, encrypt: true } },
          required_providers: { aws: { source: "hashicorp/aws", version: "5.100.0" } },
        },
        provider: { aws: [{ region: "eu-west-1", allowed_account_ids: [ACCOUNT] }] },
        resource: { aws_cloudwatch_log_group: { lg: { name: "/emulate/lock-test" } } },
      },
      out,
    );
    const mirror = readMirror(process.env.TF_PLUGIN_DIR ?? "/opt/tf-plugins");
    const copy = emulatedCopy(stack, {
      emulator: { url: moto.url, accessKey: ACCOUNT, secretKey: "s" },
      mirror,
      standInRules: [],
      editRules: [],
      zoneIds: new Map(),
      copyDir: stack.dir,
    });
    fs.mkdirSync(stack.dir, { recursive: true });
    fs.writeFileSync(path.join(stack.dir, COPY_FILE), JSON.stringify(copy.config, null, 2));
    await createPrerequisites(moto.url, ACCOUNT, [{ bucket: BUCKET, table: TABLE, region: "eu-west-1" }], new Map());
    const tf = terraformFor(TF, mirror, out);
    const init = await runTerraform(tf, [`-chdir=${stack.dir}`, "init", "-input=false", "-no-color", ...(mirror ? [`-plugin-dir=${mirror.dir}`] : [])], out);
    expect(init.output).toContain('Successfully configured the backend "s3"');
    expect(init.code).toBe(0);

    // The first run: an apply waiting for its "yes" holds the lock in the emulator's DynamoDB.
    const holder = spawn(TF, [`-chdir=${stack.dir}`, "apply", "-no-color"], {
      env: { ...tf.env, TF_INPUT: "1", TF_IN_AUTOMATION: "" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let held = "";
    holder.stderr.on("data", (d: Buffer) => (held += d.toString()));
    const prompting = new Promise<void>((resolve) =>
      holder.stdout.on("data", (d: Buffer) => ((held += d.toString()), held.includes("Enter a value") && resolve())),
    );
    const holderDone = new Promise<number | null>((resolve) => holder.on("close", resolve));
    await prompting;

    // The second run.
    const second = await runTerraform(tf, [`-chdir=${stack.dir}`, "plan", "-input=false", "-no-color", "-lock-timeout=0s"], out);
    expect(second.code).toBe(1);
    expect(second.output).toContain("Error acquiring the state lock");
    expect(second.output).toContain("ConditionalCheckFailedException");
    const lockId = /Lock Info:\s+ID:\s+([0-9a-f-]{36})/.exec(second.output)?.[1];
    expect(lockId).toBeDefined();
    expect(second.output).toContain("Operation: OperationTypeApply");
    expect(second.output).toContain(`Path:      ${BUCKET}/dev/network/terraform.tfstate`);

    // The operator's make plan, in this process, against the same locked state.
    const s = { name: stack.name, phase: "network" as const, dir: stack.dir, plan: path.join(out, "plans", `${stack.name}.tfplan`) };
    const ctx: Context = { env: "dev", tf: TF, outdir: out, account: ACCOUNT, region: "eu-west-1", all: [s], outputs: new OutputHashes(async () => "{}") };
    const relayed: string[] = [];
    const spy = jest.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => (relayed.push(String(chunk)), true));
    const quiet = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
    const savedEnv = { ...process.env };
    Object.assign(process.env, { TF_CLI_CONFIG_FILE: tf.env.TF_CLI_CONFIG_FILE, TF_IN_AUTOMATION: "1" });
    try {
      const refused = await plan(ctx, [s]).then(
        () => undefined,
        (e: Error) => e.message,
      );
      // Terraform's own message reaches the operator, and the operator says what it means: another run
      // holds the state (not a missing earlier phase), with that run's lock id for force-unlock.
      expect(relayed.join("")).toContain("Error acquiring the state lock");
      expect(refused).toContain(`Planning ${stack.name} failed.`);
      expect(refused).toContain(`The state of ${stack.name} is locked by another Terraform run (lock ID ${lockId}, OperationTypeApply`);
      expect(refused).toContain(`force-unlock ${lockId}`);
      // No plan of the locked state is kept as applicable.
      expect(fs.existsSync(s.plan)).toBe(false);
      expect(readRecord(s)?.status ?? "none").not.toBe("planned");

      // Once the first run answers "no", the lock is released and make plan goes through.
      holder.stdin.end("no\n");
      expect(await holderDone).not.toBeNull();
      expect(held).toContain("Apply cancelled");
      relayed.length = 0;
      await plan(ctx, [s]);
      expect(readRecord(s)?.status).toBe("planned");
      expect(fs.existsSync(s.plan)).toBe(true);
    } finally {
      spy.mockRestore();
      quiet.mockRestore();
      process.env = savedEnv;
      if (holder.exitCode === null) holder.kill("SIGKILL");
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  describe("the allow-list's gaps are still moto's", () => {
    const ids = new Set(ALLOW_LIST.map((r) => r.id));

    test("iam-managed-policies: the CodeDeploy role's AWSCodeDeployRoleForECSLimited is known and attaches only with MOTO_IAM_LOAD_MANAGED_POLICIES", async () => {
      expect(ids.has("iam-managed-policies")).toBe(true);
      const policyArn = "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECSLimited";
      const attach = async (url: string) => {
        await send(url, query("iam", "us-east-1", { Action: "CreateRole", Version: "2010-05-08", RoleName: "probe", AssumeRolePolicyDocument: "{}" }));
        return send(url, query("iam", "us-east-1", { Action: "AttachRolePolicy", Version: "2010-05-08", RoleName: "probe", PolicyArn: policyArn }));
      };
      const without = await attach(bare.url);
      expect(without.body).toContain("NoSuchEntity");
      expect((await attach(moto.url)).status).toBe(200);
      // Loaded as itself (not any name accepted): GetPolicy answers the Limited policy by its ARN.
      const loaded = await send(moto.url, query("iam", "us-east-1", { Action: "GetPolicy", Version: "2010-05-08", PolicyArn: policyArn }));
      expect(loaded.status).toBe(200);
      expect(loaded.body).toContain("<PolicyName>AWSCodeDeployRoleForECSLimited</PolicyName>");
      expect((await send(bare.url, query("iam", "us-east-1", { Action: "GetPolicy", Version: "2010-05-08", PolicyArn: policyArn }))).body).toContain(
        "NoSuchEntity",
      );
    });

    test("codedeploy-create-time: GetApplication answers createTime as a string, not the API's timestamp number; the stand-in's plain CreateApplication makes it", async () => {
      const rule = standInRules().find((r) => r.id === "codedeploy-create-time");
      expect(rule?.type).toBe("aws_codedeploy_app");
      const request = rule!.created!({ name: "probe-app", compute_platform: "ECS" })!;
      expect((await send(moto.url, jsonCall(request, "eu-west-1", ACCOUNT))).status).toBe(200);
      const got = await send(moto.url, json("codedeploy", "CodeDeploy_20141006.GetApplication", { applicationName: "probe-app" }));
      const application = (JSON.parse(got.body) as { application: { createTime: unknown; computePlatform: string } }).application;
      expect(application.computePlatform).toBe("ECS");
      expect(typeof application.createTime).toBe("string");
    });

    test("codedeploy-alarm-configuration: a deployment group's alarms read back empty, and UpdateDeploymentGroup answers HTTP 500", async () => {
      const rule = editRules().find((r) => r.id === "codedeploy-alarm-configuration");
      expect(rule?.type).toBe("aws_codedeploy_deployment_group");
      expect(rule!.edit({ enabled: true, alarms: ["a"] })).toBeUndefined();
      const call = (target: string, body: object) => send(moto.url, json("codedeploy", `CodeDeploy_20141006.${target}`, body));
      await call("CreateApplication", { applicationName: "probe-alarms", computePlatform: "ECS" });
      const group = { applicationName: "probe-alarms", deploymentGroupName: "g" };
      const created = await call("CreateDeploymentGroup", {
        ...group,
        serviceRoleArn: `arn:aws:iam::${ACCOUNT}:role/probe`,
        alarmConfiguration: { enabled: true, alarms: [{ name: "probe-5xx" }] },
      });
      expect(created.status).toBe(200);
      const read = JSON.parse((await call("GetDeploymentGroup", group)).body) as { deploymentGroupInfo: { alarmConfiguration: Record<string, unknown> } };
      expect(read.deploymentGroupInfo.alarmConfiguration).toEqual({});
      expect(
        (await call("UpdateDeploymentGroup", { applicationName: "probe-alarms", currentDeploymentGroupName: "g", alarmConfiguration: { enabled: false } }))
          .status,
      ).toBe(500);
    });

    test("acm-validation-wait: a DNS-validated certificate stays pending without MOTO_ACM_VALIDATION_WAIT=0", async () => {
      const status = async (url: string) => {
        const requested = await send(url, json("acm", "CertificateManager.RequestCertificate", { DomainName: "probe.example.com", ValidationMethod: "DNS" }));
        const arn = (JSON.parse(requested.body) as { CertificateArn: string }).CertificateArn;
        const described = await send(url, json("acm", "CertificateManager.DescribeCertificate", { CertificateArn: arn }));
        return (JSON.parse(described.body) as { Certificate: { Status: string } }).Certificate.Status;
      };
      expect(await status(bare.url)).toBe("PENDING_VALIDATION");
      expect(await status(moto.url)).toBe("ISSUED");
    });

    test("elasticache-parameter-group: CreateCacheParameterGroup answers HTTP 500", async () => {
      expect(ids.has("elasticache-parameter-group")).toBe(true);
      const r = await send(
        moto.url,
        query("elasticache", "eu-west-1", {
          Action: "CreateCacheParameterGroup",
          Version: "2015-02-02",
          CacheParameterGroupName: "probe",
          CacheParameterGroupFamily: "redis7",
          Description: "probe",
        }),
      );
      expect(r.status).toBe(500);
    });

    test("elasticache-member-clusters: a replication group's member clusters are unknown to DescribeCacheClusters", async () => {
      expect(ids.has("elasticache-member-clusters")).toBe(true);
      const created = await send(
        moto.url,
        query("elasticache", "eu-west-1", {
          Action: "CreateReplicationGroup",
          Version: "2015-02-02",
          ReplicationGroupId: "probe",
          ReplicationGroupDescription: "probe",
          Engine: "redis",
          CacheNodeType: "cache.t4g.micro",
          NumNodeGroups: "1",
          ReplicasPerNodeGroup: "0",
          ClusterMode: "enabled",
        }),
      );
      expect(created.body).toContain("<MemberClusters>");
      const member = /<ClusterId>([^<]+)<\/ClusterId>/.exec(created.body)?.[1] ?? "probe-0001-001";
      const described = await send(
        moto.url,
        query("elasticache", "eu-west-1", { Action: "DescribeCacheClusters", Version: "2015-02-02", CacheClusterId: member }),
      );
      expect(described.body).toContain("CacheClusterNotFound");
    });

    test("appautoscaling-tags: ListTagsForResource of a scalable target answers HTTP 500", async () => {
      expect(ids.has("appautoscaling-tags")).toBe(true);
      // A DynamoDB target: moto checks that an ECS target's service exists; the tag calls are missing for every kind.
      const target = { ServiceNamespace: "dynamodb", ResourceId: "table/probe", ScalableDimension: "dynamodb:table:ReadCapacityUnits" };
      const registered = await send(
        moto.url,
        json("application-autoscaling", "AnyScaleFrontendService.RegisterScalableTarget", { ...target, MinCapacity: 1, MaxCapacity: 2 }),
      );
      expect(registered.status).toBe(200);
      const arn =
        (JSON.parse(registered.body) as { ScalableTargetARN?: string }).ScalableTargetARN ??
        `arn:aws:application-autoscaling:eu-west-1:${ACCOUNT}:scalable-target/probe`;
      const r = await send(moto.url, json("application-autoscaling", "AnyScaleFrontendService.ListTagsForResource", { ResourceARN: arn }));
      expect(r.status).toBe(500);
    });

    test("budgets-subscribers: DescribeSubscribersForNotification and ListTagsForResource answer HTTP 500", async () => {
      expect(ids.has("budgets-subscribers")).toBe(true);
      const notification = { NotificationType: "ACTUAL", ComparisonOperator: "GREATER_THAN", Threshold: 80 };
      const budget = { BudgetName: "probe", BudgetLimit: { Amount: "10", Unit: "USD" }, TimeUnit: "MONTHLY", BudgetType: "COST" };
      const created = await send(
        moto.url,
        json(
          "budgets",
          "AWSBudgetServiceGateway.CreateBudget",
          {
            AccountId: ACCOUNT,
            Budget: budget,
            NotificationsWithSubscribers: [{ Notification: notification, Subscribers: [{ SubscriptionType: "EMAIL", Address: "a@example.com" }] }],
          },
          "us-east-1",
        ),
      );
      expect(created.status).toBe(200);
      const r = await send(
        moto.url,
        json(
          "budgets",
          "AWSBudgetServiceGateway.DescribeSubscribersForNotification",
          { AccountId: ACCOUNT, BudgetName: "probe", Notification: notification },
          "us-east-1",
        ),
      );
      expect(r.status).toBe(500);
      const tags = await send(
        moto.url,
        json("budgets", "AWSBudgetServiceGateway.ListTagsForResource", { ResourceARN: `arn:aws:budgets::${ACCOUNT}:budget/probe` }, "us-east-1"),
      );
      expect(tags.status).toBe(500);
    });

    test("cloudtrail-start-logging: StartLogging by the trail's ARN answers HTTP 500, by its name it works", async () => {
      expect(ids.has("cloudtrail-start-logging")).toBe(true);
      await send(moto.url, createBucketCall("probe-trail-bucket", "eu-west-1", ACCOUNT));
      const target = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";
      const created = await send(moto.url, json("cloudtrail", `${target}.CreateTrail`, { Name: "probe-trail", S3BucketName: "probe-trail-bucket" }));
      const arn = (JSON.parse(created.body) as { TrailARN: string }).TrailARN;
      expect(arn).toMatch(/^arn:aws:cloudtrail:eu-west-1:\d{12}:trail\/probe-trail$/);
      expect((await send(moto.url, json("cloudtrail", `${target}.StartLogging`, { Name: arn }))).status).toBe(500);
      expect((await send(moto.url, json("cloudtrail", `${target}.StartLogging`, { Name: "probe-trail" }))).status).toBe(200);
    });

    test("rds-touching-windows: a backup window that ends when the maintenance window starts is refused, a minute earlier is accepted", async () => {
      expect(ids.has("rds-touching-windows")).toBe(true);
      const create = (id: string, backup: string) =>
        send(
          moto.url,
          query("rds", "eu-west-1", {
            Action: "CreateDBInstance",
            Version: "2014-10-31",
            DBInstanceIdentifier: id,
            DBInstanceClass: "db.t4g.micro",
            Engine: "postgres",
            AllocatedStorage: "20",
            MasterUsername: "u",
            MasterUserPassword: "p4ssw0rd-probe",
            PreferredBackupWindow: backup,
            PreferredMaintenanceWindow: "sun:03:00-sun:04:00",
          }),
        );
      expect((await create("probe-touching", "02:00-03:00")).body).toContain("must not overlap");
      expect((await create("probe-apart", "02:00-02:59")).status).toBe(200);
    });
  });
});
