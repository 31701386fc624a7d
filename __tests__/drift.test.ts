// make drift: a refresh-only plan per phase with the recording Terraform stand-in (no drift, drift, error).
import * as fs from "fs";
import * as path from "path";
import { operatorHarness } from "./support/standins-operator";

const h = operatorHarness();
const refresh = (env: string, phase: string) =>
  `terraform ${h.dir(env, phase)} plan -no-color -refresh-only -detailed-exitcode -input=false -lock=false -out=${path.join(h.out, "plans", `accessweaver-${env}-${phase}.drift.tfplan`)}`;

/** Scripts what a refresh-only plan of one phase finds outside Terraform. */
function driftIn(env: string, phase: string, drift: unknown[]): void {
  const dir = path.join(h.s.stateDir, "terraform", "drift");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `accessweaver-${env}-${phase}.json`), JSON.stringify({ resource_drift: drift }));
}

describe("make drift", () => {
  it("says every phase is in sync, with one refresh-only plan each, in phase order, and exits 0", async () => {
    const r = await h.multi(["drift", "dev"]);
    expect(r.status).toBe(0);
    expect(r.log.filter((l) => l.includes(" plan "))).toEqual(["network", "database", "cache"].map((p) => refresh("dev", p)));
    expect(r.stdout).toContain(
      "Drift of dev (refresh-only plans, nothing changed):\n  network        in sync with its state\n  database       in sync with its state\n  cache          in sync with its state",
    );
    expect(r.log.some((l) => / (apply|destroy) /.test(l))).toBe(false);
    expect(fs.readdirSync(path.join(h.out, "plans")).filter((f) => f.endsWith(".drift.tfplan"))).toEqual([]);
  });

  it("names what changed outside Terraform, per phase, and exits non-zero", async () => {
    driftIn("prod", "database", [
      { address: "aws_db_instance.rds_instance", change: { actions: ["update"] } },
      { address: "aws_security_group_rule.hand_made", change: { actions: ["delete"] } },
    ]);
    const r = await h.multi(["drift", "prod"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain(
      "  network        in sync with its state\n  database       DRIFT: 2 resource(s) differ from the state\n      changed outside Terraform: aws_db_instance.rds_instance\n      deleted outside Terraform: aws_security_group_rule.hand_made\n  cache          in sync with its state",
    );
    expect(r.stderr).toContain(
      "Drift in database. Read each change (terraform -chdir=<stack> plan -refresh-only), then either restore the configuration with make plan ENV=prod and make apply ENV=prod",
    );
  });

  it("checks one phase with PHASE, and fails on a Terraform error", async () => {
    const one = await h.multi(["drift", "staging", "cache"]);
    expect(one.log.filter((l) => l.includes(" plan "))).toEqual([refresh("staging", "cache")]);
    const broken = await h.multi(["drift", "staging", "cache"], { STANDIN_TERRAFORM_FAIL_ON: "plan -no-color -refresh-only" });
    expect(broken.status).not.toBe(0);
    expect(broken.stdout).not.toContain("in sync");
    expect(broken.stdout).toContain("cache          CHECK FAILED: terraform plan failed (exit 1).");
  });

  it("a refresh that fails is not drift: exit 1, the phase named with Terraform's error, the other phases still checked", async () => {
    const error = "Error: error configuring S3 Backend: ExpiredToken: The security token included in the request is expired";
    driftIn("prod", "cache", [{ address: "aws_elasticache_parameter_group.redis", change: { actions: ["update"] } }]);
    const r = await h.multi(["drift", "prod"], {
      STANDIN_TERRAFORM_FAIL_ON: `plan -no-color -refresh-only -detailed-exitcode -input=false -lock=false -out=${path.join(h.out, "plans", "accessweaver-prod-database.drift.tfplan")}`,
      STANDIN_TERRAFORM_FAIL_MESSAGE: error,
    });
    expect(r.status).toBe(1);
    // Every phase is still checked: the failure of one says nothing about the others.
    expect(r.log.filter((l) => l.includes(" plan "))).toEqual(["network", "database", "cache"].map((p) => refresh("prod", p)));
    expect(r.stdout).toContain(
      [
        "  network        in sync with its state",
        "  database       CHECK FAILED: terraform plan failed (exit 1).",
        `      Terraform: ${error}`,
        "  cache          DRIFT: 1 resource(s) differ from the state",
      ].join("\n"),
    );
    expect(r.stderr).toContain(
      "make drift ENV=prod: could not check database (Terraform failed; its error is above): this is not drift, nothing is known about that phase. Drift was found in cache. Fix the cause (credentials: aws sts get-caller-identity; a phase not initialised: make init ENV=prod PHASE=database), then run make drift ENV=prod again.",
    );
    // Drift alone still exits 2.
    const drifted = await h.multi(["drift", "prod"]);
    expect(drifted.status).toBe(2);
    expect(drifted.stderr).toContain("Drift in cache.");
  });

  it("an interrupt stops the drift check at once, with the signal's exit status", async () => {
    const run = h.multiAsync(["drift", "dev"], { STANDIN_TERRAFORM_SLOW_ON: "plan -no-color -refresh-only", STANDIN_TERRAFORM_SLOW_SECONDS: "2" });
    await h.waitForSlow("plan", "accessweaver-dev-network");
    process.kill(-run.child.pid!, "SIGINT");
    const r = await run.done;
    expect(r.status).toBe(130);
    expect(r.log.filter((l) => l.includes(" plan "))).toEqual([refresh("dev", "network")]);
    expect(fs.readFileSync(path.join(h.s.stateDir, "terraform/signals"), "utf8")).toBe("SIGINT plan accessweaver-dev-network\n");
    expect(r.stdout).not.toContain("CHECK FAILED");
  });
});
