// The operator under faults: stale plans, concurrent runs, interrupts, hostile make variables and
// unsafe destroys, each refused or made safe with a message that says what to do.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Dependencies } from "../scripts/operator";
import { fakeSynth } from "./fixtures/multi-phase";
import { tempDir } from "./support/config";
import { Run, operatorHarness } from "./support/standins-operator";

const h = operatorHarness();
const { make, multi, dir, planFile } = h;
const tf = (env: string, phase: string, ...args: string[]) => `terraform ${dir(env, phase)} ${args.join(" ")}`;
const apply = (env: string, phase: string) => tf(env, phase, "apply", "-no-color", "-input=false", planFile(env, phase));
const applies = (log: string[]) => log.filter((l) => l.includes(" apply "));
/** A STANDIN_TERRAFORM_*_ON prefix matching only the apply of this phase's plan. */
const applyOf = (env: string, phase: string) => `apply -no-color -input=false ${planFile(env, phase)}`;
const signalsFile = () => path.join(h.s.stateDir, "terraform/signals");
const signals = () => (fs.existsSync(signalsFile()) ? fs.readFileSync(signalsFile(), "utf8") : "");
/** Terraform's stand-in had stopped (and recorded the signal) before the run under test exited. */
const stoppedBefore = (exitedAt: number) => expect(fs.statSync(signalsFile()).mtimeMs).toBeLessThanOrEqual(exitedAt);
const HHMM = "\\d\\d:\\d\\d UTC";
/** The run ended with exit `status` and these lines, together, on stderr. */
const endedWith = (r: Run, status: number, ...lines: string[]) => {
  expect(r.status).toBe(status);
  expect(r.stderr).toContain(lines.join("\n"));
};

describe("plans are bound to what they were planned against", () => {
  it("a failed apply reports what was and was not applied, and retires the later plans of its run", async () => {
    await multi(["plan", "dev"]);
    const r = await multi(["apply", "dev"], { STANDIN_TERRAFORM_FAIL_ON: applyOf("dev", "database") });
    endedWith(
      r,
      2,
      "Apply of dev stopped: terraform apply failed (exit 1).",
      "  applied:        accessweaver-dev-network",
      "  failed:         accessweaver-dev-database (part of it may be applied: Terraform keeps what it did in the state)",
      "  not applied:    accessweaver-dev-cache",
      "  plans retired:  accessweaver-dev-cache",
      "Next: read Terraform's error above and fix its cause, then make plan ENV=dev (it plans again from what is really applied), review it, then make apply ENV=dev.",
    );
    expect(fs.existsSync(planFile("dev", "cache"))).toBe(false);
    // Neither the later phase nor the failed one can be applied from the old plans.
    const cache = await multi(["apply", "dev", "cache"]);
    expect(cache.status).toBe(2);
    expect(cache.stderr).toMatch(
      new RegExp(
        `The plan of accessweaver-dev-cache \\(made ${HHMM}\\) was retired at ${HHMM}: the apply of accessweaver-dev-database, an earlier phase planned in the same run, failed at ${HHMM}\\. Run make plan ENV=dev PHASE=cache, review it, then apply\\.`,
      ),
    );
    const database = await multi(["apply", "dev", "database"]);
    expect(database.stderr).toMatch(
      new RegExp(
        `The apply of accessweaver-dev-database failed at ${HHMM}: part of it may be applied, so its plan no longer matches the state\\. Run make plan ENV=dev PHASE=database`,
      ),
    );
    expect(applies([...cache.log, ...database.log])).toEqual([]);
  });

  it("a failed make plan leaves no older plan of a later phase to apply", async () => {
    await multi(["plan", "dev"]);
    const failed = await multi(["plan", "dev"], { STANDIN_TERRAFORM_FAIL_ON: `plan -no-color -input=false -out=${planFile("dev", "database")}` });
    expect(failed.status).toBe(2);
    expect(failed.stderr).toContain("Planning accessweaver-dev-database failed.");
    expect(failed.stderr).toContain("Not planned: accessweaver-dev-cache (their older plans are retired).");
    const r = await multi(["apply", "dev", "cache"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /The plan of accessweaver-dev-cache .* was retired at .*: make plan \(run \S+\) stopped at database, before re-planning it\. Run make plan ENV=dev PHASE=cache/,
    );
    expect(applies(r.log)).toEqual([]);
    // The new plan of the phase before the failure is still good.
    expect(applies((await multi(["apply", "dev", "network"])).log)).toEqual([apply("dev", "network")]);
  });

  it("applying phase by phase: a phase whose outputs change retires the later plans made against the old ones", async () => {
    await multi(["plan", "dev"]);
    h.setOutputs("dev", "network", '{"vpc_id":{"value":"vpc-2"}}', "after-apply");
    const network = await multi(["apply", "dev", "network"]);
    expect(network.status).toBe(0);
    expect(network.stdout).toContain(
      "The outputs changed, so these later plans were made against old values and are retired: accessweaver-dev-database, accessweaver-dev-cache. Next: make plan ENV=dev, review, then apply.",
    );
    const database = await multi(["apply", "dev", "database"]);
    expect(database.status).toBe(2);
    expect(database.stderr).toMatch(
      /was retired at .*: it was made against the outputs of accessweaver-dev-network as they were before make apply changed them at .*\. Run make plan ENV=dev PHASE=database, review it, then apply\./,
    );
    expect(applies(database.log)).toEqual([]);
  });

  it("a whole-environment apply stops after a phase whose outputs changed", async () => {
    await multi(["plan", "dev"]);
    h.setOutputs("dev", "network", '{"vpc_id":{"value":"vpc-2"}}', "after-apply");
    const r = await multi(["apply", "dev"]);
    expect(r.status).toBe(2);
    expect(applies(r.log)).toEqual([apply("dev", "network")]);
    expect(r.stderr).toContain(
      [
        "Applied accessweaver-dev-network. The outputs of accessweaver-dev-network changed, so the saved plans of accessweaver-dev-database, accessweaver-dev-cache were made against old values: they were not applied and are retired.",
        "  applied:        accessweaver-dev-network",
        "  not applied:    accessweaver-dev-database, accessweaver-dev-cache",
        "  plans retired:  accessweaver-dev-database, accessweaver-dev-cache",
        "Next: make plan ENV=dev (it plans again from what is really applied), review it, then make apply ENV=dev.",
      ].join("\n"),
    );
    expect(fs.existsSync(`${planFile("dev", "cache")}.txt`)).toBe(false);
  });

  it("refuses a plan whose upstream outputs changed since, however they changed", async () => {
    await multi(["plan", "dev", "network"]);
    await multi(["apply", "dev", "network"]);
    await multi(["plan", "dev", "database"]);
    h.setOutputs("dev", "network", '{"vpc_id":{"value":"vpc-changed-elsewhere"}}');
    const r = await multi(["apply", "dev", "database"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /The plan of accessweaver-dev-database was made against other outputs of accessweaver-dev-network: they changed after \S+ \(network was applied or changed since\)\. Re-plan it: make plan ENV=dev PHASE=database, review it, then make apply ENV=dev PHASE=database\./,
    );
    expect(applies(r.log)).toEqual([]);
  });

  it("refuses a phase while an earlier phase's plan from the same make plan is not applied", async () => {
    await multi(["plan", "dev"]);
    const r = await multi(["apply", "dev", "cache"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /The plan of accessweaver-dev-cache was made by the same make plan \(run \S+\) as the plan of accessweaver-dev-network, which is not applied yet: phases apply in order, so apply network first: make apply ENV=dev PHASE=network\./,
    );
    expect(r.log).toEqual([]);
  });
});

describe("one operation at a time per environment", () => {
  it("refuses a second run while one holds the environment, naming it", async () => {
    // It holds the lock for its whole run (three slow plans, 3 s or more): the in-process runs below
    // take well under a second each, even on a busy machine.
    const first = h.multiAsync(["plan", "dev"], { STANDIN_TERRAFORM_SLOW_ON: "plan", STANDIN_TERRAFORM_SLOW_SECONDS: "1" });
    await h.waitForSlow("plan", "accessweaver-dev-network");
    const second = await multi(["apply", "dev"]);
    expect(second.status).toBe(2);
    expect(second.stderr).toMatch(
      new RegExp(
        `Another make plan of dev is running \\(pid ${first.child.pid}\\) since ${HHMM}: one operation at a time per environment\\. Wait for it to finish, then run make apply ENV=dev again\\.`,
      ),
    );
    for (const command of ["plan", "synth"])
      expect((await multi([command, "dev"])).stderr).toContain(`Another make plan of dev is running (pid ${first.child.pid})`);
    // The command to run again carries every variable it was given (NAME here), not only ENV.
    expect((await multi(["output", "dev"], { NAME: "vpc_id", FORMAT: "json" })).stderr).toContain(
      "Wait for it to finish, then run make output ENV=dev NAME=vpc_id FORMAT=json again.",
    );
    // Another environment is not held.
    expect((await multi(["synth", "prod"])).status).toBe(0);
    const done = await first.done;
    expect(done.status).toBe(0);
    // Its plans are its own: one run, made against the configuration it synthesized.
    expect(new Set(["network", "database", "cache"].map((p) => h.record("dev", p)!.runId)).size).toBe(1);
    expect((await multi(["apply", "dev"], { AUTO_APPROVE: "1" })).status).toBe(0);
    expect(applies(second.log)).toEqual([]);
    expect(fs.existsSync(path.join(h.out, "locks/dev.lock"))).toBe(false);
  });

  it("a plan fails when the configuration changes under it", async () => {
    const run = h.multiAsync(["plan", "dev", "network"], { STANDIN_TERRAFORM_SLOW_ON: "plan", STANDIN_TERRAFORM_SLOW_SECONDS: "1" });
    await h.waitForSlow("plan", "accessweaver-dev-network");
    fs.appendFileSync(path.join(h.out, "stacks/accessweaver-dev-network/cdk.tf.json"), " ");
    const r = await run.done;
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      "The synthesized configuration of accessweaver-dev-network changed while Terraform was planning it: something outside this make plan wrote",
    );
    expect(r.stderr).toContain("The plan was discarded. Run make plan ENV=dev PHASE=network again.");
    expect(fs.existsSync(planFile("dev", "network"))).toBe(false);
  });

  it("after a run was killed, its lock is taken over and its half-applied plan refused", async () => {
    await multi(["plan", "dev", "network"]);
    const run = h.multiAsync(["apply", "dev", "network"], { STANDIN_TERRAFORM_SLOW_ON: "apply", STANDIN_TERRAFORM_SLOW_SECONDS: "1" });
    await h.waitForSlow("apply", "accessweaver-dev-network");
    run.child.kill("SIGKILL");
    await run.done;
    const r = await multi(["apply", "dev", "network"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(
      new RegExp(`Note: the lock left by make apply of dev \\(pid ${run.child.pid}, since ${HHMM}\\) was taken over: that process no longer runs\\.`),
    );
    expect(r.stderr).toMatch(
      new RegExp(
        `The plan of accessweaver-dev-network was being applied \\(pid ${run.child.pid}, since ${HHMM}\\) and that apply never finished: part of it may be applied\\..* Run make plan ENV=dev PHASE=network, review it, then apply\\.`,
      ),
    );
    expect(r.log).toEqual([]);
  });
});

describe("interrupts", () => {
  it("Ctrl-C during an apply: Terraform gets one SIGINT and is waited for; the report says what was applied; a re-run refuses", async () => {
    await multi(["plan", "dev"]);
    const run = h.multiAsync(["apply", "dev"], { STANDIN_TERRAFORM_SLOW_ON: applyOf("dev", "database"), STANDIN_TERRAFORM_SLOW_SECONDS: "1" });
    await h.waitForSlow("apply", "accessweaver-dev-database");
    process.kill(-run.child.pid!, "SIGINT"); // the whole process group, as a terminal does
    const r = await run.done;
    expect(r.status).toBe(130);
    expect(signals()).toBe("SIGINT apply accessweaver-dev-database\n");
    stoppedBefore(r.exitedAt);
    // Terraform had stopped before the report was written.
    expect(r.stderr.indexOf("Interrupt received. Stopping operations safely")).toBeLessThan(r.stderr.indexOf("Apply of dev stopped"));
    expect(r.stderr).toContain(
      [
        "Apply of dev stopped: terraform apply was interrupted (SIGINT) and has stopped (exit 1). Terraform stopped after finishing what was in progress, which releases its state lock.",
        "  applied:        accessweaver-dev-network",
        "  interrupted:    accessweaver-dev-database (part of it may be applied: Terraform keeps what it did in the state)",
        "  not applied:    accessweaver-dev-cache",
        "  plans retired:  accessweaver-dev-cache",
        "Next: make plan ENV=dev (it plans again from what is really applied), review it, then make apply ENV=dev.",
      ].join("\n"),
    );
    expect(applies(r.log)).toEqual([apply("dev", "network"), apply("dev", "database")]);
    const again = await multi(["apply", "dev", "database"]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(new RegExp(`The apply of accessweaver-dev-database was interrupted at ${HHMM}: part of it may be applied`));
    expect(applies(again.log)).toEqual([]);
  });

  it("SIGTERM to make (a cancelled CI job) reaches Terraform through the operator, which waits and releases the lock", async () => {
    const run = h.makeAsync(["plan", "ENV=dev"], { STANDIN_TERRAFORM_SLOW_ON: "plan", STANDIN_TERRAFORM_SLOW_SECONDS: "1" });
    await h.waitForSlow("plan", "accessweaver-dev-network");
    process.kill(run.child.pid!, "SIGTERM"); // make alone
    const r = await run.done;
    expect(r.status === 143 || r.signal === "SIGTERM" || r.status === 2).toBe(true);
    expect(signals()).toBe("SIGTERM plan accessweaver-dev-network\n");
    stoppedBefore(r.exitedAt);
    expect(r.stderr).toContain("terraform plan was interrupted (SIGTERM) and has stopped (exit 1). Planning accessweaver-dev-network failed.");
    expect(fs.existsSync(planFile("dev", "network"))).toBe(false);
    expect(fs.existsSync(path.join(h.out, "locks/dev.lock"))).toBe(false);
  });
});

describe("make passes variables as data", () => {
  const targets = [
    "synth",
    "validate",
    "rehearse",
    "init",
    "plan",
    "apply",
    "deploy",
    "output",
    "destroy",
    "drift",
    "hcl",
    "audit",
    "review",
    "preflight",
    "release",
    "restart",
  ];
  const variables = ["ENV", "PHASE", "NAME", "CONFIRM", "FORMAT", "INIT_FLAGS", "AUTO_APPROVE", "TF", "COMPARE", "TAG", "SERVICE"];
  const payloads = (marker: string) => [
    `$$(touch ${marker})`,
    `$(shell touch ${marker})`,
    `\`touch ${marker}\``,
    `'; touch ${marker}; '`,
    `"; touch ${marker}; "`,
    `x; touch ${marker}`,
    `a b && touch ${marker}`,
    `prod\ntouch ${marker}`,
  ];

  it("runs every target with hostile values in every variable: nothing runs, the values are refused as what they are", () => {
    const markers = tempDir("aw-markers-");
    for (const [t, target] of targets.entries()) {
      // Each variable gets a different payload style on each target, so every style meets every variable.
      const assignments = variables.map((v, i) => `${v}=${payloads(path.join(markers, `${target}-${v}`))[(i + t) % 8]}`);
      const r = make([target, ...assignments]);
      expect({ target, status: r.status, log: r.log }).toEqual({ target, status: 2, log: [] });
      expect(r.stderr).toMatch(/Unknown ENV "/);
    }
    expect(fs.readdirSync(markers)).toEqual([]);
  });

  it("refuses hostile PHASE, CONFIRM, NAME and COMPARE values behind a valid ENV", async () => {
    const marker = path.join(tempDir("aw-markers-"), "ran");
    const phase = make(["plan", "ENV=dev", `PHASE=network\ntouch ${marker}`]);
    expect(phase.stderr).toContain(`Unknown PHASE "network\\ntouch ${marker}".`);
    const confirm = await multi(["destroy", "prod", "network"], { CONFIRM: `accessweaver-prod-network; touch ${marker}` });
    expect(confirm.stderr).toContain(
      "Destroying prod is refused unless CONFIRM names exactly what is destroyed. To destroy this phase: make destroy ENV=prod PHASE=network CONFIRM=accessweaver-prod-network",
    );
    const name = await multi(["output", "dev"], { NAME: `$(touch ${marker})` });
    expect(name.stderr).toContain(`No output "$(touch ${marker})" in dev.`);
    const compare = make(["review", "ENV=dev", `COMPARE=$(touch ${marker})`]);
    expect(compare.status).not.toBe(0);
    expect(compare.stderr).toContain(`Unknown COMPARE "$(touch ${marker})"`);
    expect([phase.log, confirm.log, name.log, compare.log]).toEqual([[], [], [], []]);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it("refuses a PHASE that is given but empty, rather than doing every phase", () => {
    for (const value of ["", " "]) {
      const r = make(["apply", "ENV=dev", `PHASE=${value}`]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(
        "PHASE is given but empty (an unset variable in PHASE=$...?). Name one phase (network, database, cache, loadbalancer, services, observability, recovery), or leave PHASE out to apply every phase.",
      );
      expect(r.log).toEqual([]);
    }
  });
});

describe("destroy", () => {
  it("refuses a prod phase while a later phase still has resources, listing them", async () => {
    fs.mkdirSync(path.join(h.s.stateDir, "terraform/state"), { recursive: true });
    fs.writeFileSync(path.join(h.s.stateDir, "terraform/state/accessweaver-prod-database"), "aws_db_instance.database\naws_secretsmanager_secret.database\n");
    fs.writeFileSync(path.join(h.s.stateDir, "terraform/state/accessweaver-prod-cache"), "aws_elasticache_replication_group.redis\n");
    const r = await multi(["destroy", "prod", "network"], { CONFIRM: "accessweaver-prod-network", AUTO_APPROVE: "1" });
    endedWith(
      r,
      2,
      "Destroying accessweaver-prod-network is refused: later phases of prod still have resources in their state, and they depend on it:",
      "  accessweaver-prod-database: 2 resource(s): aws_db_instance.database, aws_secretsmanager_secret.database",
      "  accessweaver-prod-cache: 1 resource(s): aws_elasticache_replication_group.redis",
      "Destroy them first, last phase first (make destroy ENV=prod PHASE=cache CONFIRM=accessweaver-prod-cache, then make destroy ENV=prod PHASE=database CONFIRM=accessweaver-prod-database), or the whole environment: make destroy ENV=prod CONFIRM=accessweaver-prod-cache,accessweaver-prod-database,accessweaver-prod-network",
    );
    expect(r.log.filter((l) => l.includes(" destroy"))).toEqual([]);
    // With the later phases empty, it goes ahead.
    fs.rmSync(path.join(h.s.stateDir, "terraform/state"), { recursive: true });
    const ok = await multi(["destroy", "prod", "network"], { CONFIRM: "accessweaver-prod-network", AUTO_APPROVE: "1" });
    expect(ok.status).toBe(0);
    expect(ok.log.filter((l) => l.includes(" destroy"))).toEqual([tf("prod", "network", "destroy", "-no-color", "-input=false", "-auto-approve")]);
  });

  it("removes the destroyed phase's saved plans", async () => {
    await multi(["plan", "dev"]);
    expect((await multi(["destroy", "dev", "cache"], { AUTO_APPROVE: "1" })).status).toBe(0);
    expect([fs.existsSync(planFile("dev", "cache")), fs.existsSync(`${planFile("dev", "cache")}.txt`), h.record("dev", "cache")]).toEqual([
      false,
      false,
      undefined,
    ]);
    expect(fs.existsSync(planFile("dev", "database"))).toBe(true);
  });
});

describe("stale environment locks", () => {
  const lockFile = () => path.join(h.out, "locks/dev.lock");
  const writeLock = (content: string) => {
    fs.mkdirSync(path.dirname(lockFile()), { recursive: true });
    fs.writeFileSync(lockFile(), content);
  };
  const holder = (more: Record<string, unknown>) =>
    JSON.stringify({ host: os.hostname(), operation: "make apply of dev", since: new Date().toISOString(), ...more });

  it("a lock naming a live pid that is now another process (pid 1 after a container restart) is taken over", async () => {
    // pid 1 runs, but it is not the process that wrote the lock: its start time differs.
    writeLock(holder({ pid: 1, started: "another-boot:1" }));
    const r = await multi(["plan", "dev", "network"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `Note: the lock left by make apply of dev \\(pid 1, since ${HHMM}\\) was taken over: pid 1 is now another process \\(it started after that run\\)\\.`,
      ),
    );
    // A lock written before start times were recorded: a process that started after it is not its holder.
    writeLock(holder({ pid: 1, since: "2001-01-01T00:00:00.000Z" }));
    expect((await multi(["plan", "dev", "network"])).status).toBe(0);
    expect(fs.existsSync(lockFile())).toBe(false);
  });

  it("a lock file that cannot be read is replaced", async () => {
    writeLock("{garbage");
    const r = await multi(["plan", "dev", "network"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Note: the environment's lock file could not be read (not a lock this tool wrote): it was replaced.");
  });

  it("a lock of a live run is refused with how to see that process; one from another machine with the exact command to remove it", async () => {
    // A live process that is the one that wrote the lock (same start time).
    const { processStart } = await import("../scripts/operator/lock");
    const other = spawn("sleep", ["30"]);
    try {
      writeLock(holder({ pid: other.pid, started: processStart(other.pid!) }));
      const here = await multi(["plan", "dev", "network"]);
      endedWith(here, 2, `Another make apply of dev is running (pid ${other.pid}) since`);
      expect(here.stderr).toContain(
        `(Lock: ${lockFile()}. It is that process's own: it goes when the process ends. See it with ps -o pid,lstart,args -p ${other.pid}.)`,
      );
      expect(here.log).toEqual([]);
    } finally {
      other.kill();
    }
    writeLock(holder({ pid: 4242, host: "build-7" }));
    const away = await multi(["plan", "dev", "network"]);
    expect(away.status).toBe(2);
    expect(away.stderr).toContain(`Another make apply of dev is running (pid 4242 on build-7) since`);
    expect(away.stderr).toContain(`(Lock: ${lockFile()}, held from build-7, which this machine cannot check. Once no operation runs there: rm ${lockFile()})`);
    expect(away.log).toEqual([]);
  });
});

describe("Terraform's own errors, explained", () => {
  it("a plan that finds the state locked names the lock and the force-unlock command", async () => {
    await multi(["plan", "dev", "network"]);
    await multi(["apply", "dev", "network"]);
    // A lock left by a Terraform that was killed: the stand-in holds it, with its ID.
    fs.mkdirSync(path.join(h.s.stateDir, "terraform/locks"), { recursive: true });
    fs.writeFileSync(path.join(h.s.stateDir, "terraform/locks/accessweaver-dev-database"), "3c4d-lock-id\n");
    const r = await multi(["plan", "dev"], { STANDIN_TERRAFORM_STATE_LOCK: "1" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Error acquiring the state lock");
    expect(r.stderr).toContain(
      `The state of accessweaver-dev-database is locked by another Terraform run (lock ID 3c4d-lock-id, OperationTypeApply by operator@standin, since 2025-01-01 12:00:00.000000000 +0000 UTC): this is not a missing earlier phase.`,
    );
    expect(r.stderr).toContain(`release the lock: terraform -chdir=${h.out}/stacks/accessweaver-dev-database force-unlock 3c4d-lock-id\n`);
    // The cause is known: no guess that an earlier phase was never applied.
    expect(r.stderr).not.toContain("has never been applied");
  });

  it("an apply whose Terraform could not release its lock: the report gives force-unlock with the ID from Terraform's Lock Info", async () => {
    await multi(["plan", "dev", "network"]);
    const terraformSays = [
      "Error: Error releasing the state lock",
      "",
      "Error message: failed to retrieve lock info: RequestError: send request failed",
      "Lock Info:",
      "  ID:        f00d-1234",
      "  Path:      accessweaver-terraform-state-dev-444455556666/dev/network/terraform.tfstate",
      "  Operation: OperationTypeApply",
    ].join("\n");
    const r = await multi(["apply", "dev", "network"], { STANDIN_TERRAFORM_FAIL_ON: "apply", STANDIN_TERRAFORM_FAIL_MESSAGE: terraformSays });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      "Terraform could not release its state lock (Error releasing the state lock), so the state lock of accessweaver-dev-network is probably still held",
    );
    expect(r.stderr).toContain(`Then release it: terraform -chdir=${h.out}/stacks/accessweaver-dev-network force-unlock f00d-1234\n`);
    expect(r.stderr).not.toMatch(/releases its state lock|released its state lock/);
  });

  it("a plan refused by prevent_destroy (a tainted database after a first create that failed) explains it and gives the checks and the untaint command", async () => {
    // The database stack as synthesized: backend, provider region, the instance and its identifier.
    const withDatabase: Dependencies = {
      synthesize: async (o) => {
        const stacks = await fakeSynth(o);
        const file = path.join(o.outdir, "stacks/accessweaver-prod-database/cdk.tf.json");
        const config = JSON.parse(fs.readFileSync(file, "utf8"));
        Object.assign(config, {
          terraform: {
            backend: {
              s3: {
                bucket: "accessweaver-terraform-state-prod-444455556666",
                key: "prod/database/terraform.tfstate",
                region: "eu-west-1",
                dynamodb_table: "accessweaver-terraform-locks-prod",
              },
            },
          },
          provider: { aws: [{ region: "eu-west-1" }] },
          resource: { aws_db_instance: { database: { identifier: "accessweaver-prod-postgres", lifecycle: { prevent_destroy: true } } } },
        });
        fs.writeFileSync(file, JSON.stringify(config));
        return stacks;
      },
    };
    const terraformSays = [
      "╷",
      "│ Error: Instance cannot be destroyed",
      "│ ",
      "│   on cdk.tf.json line 41, in resource.aws_db_instance.database:",
      "│   41:       }",
      "│ ",
      "│ Resource aws_db_instance.database has lifecycle.prevent_destroy set, but",
      "│ the plan calls for this resource to be destroyed. To avoid this error and",
      "│ continue with the plan, either disable lifecycle.prevent_destroy or reduce",
      "│ the scope of the plan using the -target flag.",
      "╵",
    ].join("\n");
    const r = await multi(["plan", "prod", "database"], { STANDIN_TERRAFORM_FAIL_ON: "plan", STANDIN_TERRAFORM_FAIL_MESSAGE: terraformSays }, withDatabase);
    expect(r.status).toBe(2);
    const chdir = `terraform -chdir=${h.out}/stacks/accessweaver-prod-database`;
    expect(r.stderr).toContain(
      [
        "Terraform refuses to plan accessweaver-prod-database: the plan would replace aws_db_instance.database, which holds data and has prevent_destroy.",
        `The usual cause: a first apply that created it failed or was interrupted midway, so Terraform marked it "tainted" (possibly incomplete) and now plans to replace it. Check, for each:`,
        `  aws_db_instance.database: ${chdir} state show aws_db_instance.database | head -1  (ends in "(tainted)" when this is the cause)`,
        `    in AWS: aws rds describe-db-instances --db-instance-identifier accessweaver-prod-postgres --region eu-west-1 --query 'DBInstances[0].DBInstanceStatus' ("available": it was created whole)`,
        `    if it is tainted and complete in AWS, keep it: ${chdir} untaint aws_db_instance.database`,
        `Then make plan ENV=prod PHASE=database again. If it is not tainted, a changed setting forces the replacement: find "forces replacement" in ${chdir} plan -no-color and restore that setting.`,
      ].join("\n"),
    );
    // The command as printed runs (the stand-in records the untaint).
    const untaint = /keep it: (terraform .* untaint \S+)/.exec(r.stderr)![1]!;
    expect(spawnSync("bash", ["-c", untaint], { env: h.s.env, encoding: "utf8" }).status).toBe(0);
    expect(fs.readFileSync(path.join(h.s.stateDir, "terraform/untainted"), "utf8")).toBe("accessweaver-prod-database aws_db_instance.database\n");
  });
});

describe("a whole-environment apply run again after it stopped part-way", () => {
  it("names the phase that failed and the next command, not 'no saved plan' for the phase that applied", async () => {
    await multi(["plan", "dev"]);
    expect((await multi(["apply", "dev"], { STANDIN_TERRAFORM_FAIL_ON: applyOf("dev", "database") })).status).toBe(2);
    const r = await multi(["apply", "dev"]);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toContain("No saved plan for accessweaver-dev-network");
    expect(r.stderr).toMatch(
      new RegExp(
        `accessweaver-dev-network was already applied \\(network at ${HHMM}; its plan is used up\\), so make apply ENV=dev cannot apply every phase from saved plans\\.\\nThe apply of accessweaver-dev-database failed at ${HHMM} \\(terraform apply failed \\(exit 1\\)\\.\\): part of it may be applied\\. Fix the cause of its error, then make plan ENV=dev \\(it plans every phase again from what is really applied: the applied phases show no change\\), review it, then make apply ENV=dev\\.`,
      ),
    );
    expect(r.log).toEqual([]);
  });

  it("after a stop before a phase whose plan is still good, names the phases to apply one at a time", async () => {
    await multi(["plan", "dev"]);
    await multi(["apply", "dev", "network"]);
    const r = await multi(["apply", "dev"]);
    expect(r.stderr).toContain(
      "The plan of accessweaver-dev-database is still to be applied (an earlier apply stopped before it). Apply the remaining phases one at a time, each checked again first: make apply ENV=dev PHASE=database, then make apply ENV=dev PHASE=cache.",
    );
    expect((await multi(["apply", "dev", "database"])).status).toBe(0);
  });
});
