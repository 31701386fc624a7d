// The operator at a real terminal (a pseudo-terminal from util-linux `script`): the prod question,
// type-ahead, Ctrl-C, a closed terminal; and the same commands without a terminal (a pipe, /dev/null).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./support/config";
import { operatorHarness } from "./support/standins-operator";
import { onPty, readOr, until } from "./support/standins-pty";

const h = operatorHarness();
const FIXTURE = `node -r ${ROOT}/scripts/register.js ${ROOT}/__tests__/fixtures/multi-phase.ts`;
const env = (more: NodeJS.ProcessEnv = {}) => ({ ...h.s.env, ACCESSWEAVER_SETTINGS_ROOT: h.root, CDKTF_OUTDIR: h.out, ...more });
const applies = (log: string[]) => log.filter((l) => l.includes(" apply "));
const QUESTION = 'Type "prod" to apply (anything else cancels): ';
/** The operator (three-phase fixture) with `args`, under a pseudo-terminal. */
const operatorOnPty = (args: string, more: NodeJS.ProcessEnv = {}) => {
  h.s.clearLog();
  return onPty(`${FIXTURE} ${args}`, { env: env(more), cwd: ROOT });
};
/** The operator without a terminal: stdin from `input` (a pipe) or "null" (</dev/null). */
const operatorPiped = (args: string[], input: string | "null", more: NodeJS.ProcessEnv = {}) => {
  h.s.clearLog();
  const stdin = input === "null" ? fs.openSync("/dev/null", "r") : "pipe";
  const r = spawnSync(process.execPath, ["-r", `${ROOT}/scripts/register.js`, `${ROOT}/__tests__/fixtures/multi-phase.ts`, ...args], {
    cwd: ROOT,
    env: env(more),
    encoding: "utf8",
    stdio: [stdin, "pipe", "pipe"],
    ...(input === "null" ? {} : { input }),
  });
  return { ...r, log: h.s.log() };
};

describe("the prod question at a terminal", () => {
  beforeEach(async () => expect((await h.multi(["plan", "prod", "network"])).status).toBe(0));

  it("typing prod at the terminal applies", async () => {
    const t = operatorOnPty("apply prod network");
    await t.waitFor(QUESTION);
    t.type("prod\r");
    const r = await t.done;
    expect(r.output).toContain("About to apply to PROD, in this order: accessweaver-prod-network");
    expect(r.output).toContain("Applied accessweaver-prod-network.");
    expect(r.status).toBe(0);
    expect(applies(h.s.log())).toHaveLength(1);
  });

  it("a prod typed before the question (type-ahead, a whole line or not) is discarded, not taken as the answer", async () => {
    // Typed while the run starts, long before the question; then Enter alone once it is asked.
    for (const early of ["prod\r", "prod"]) {
      const t = operatorOnPty("apply prod network");
      t.type(early);
      await t.waitFor(QUESTION);
      t.type("\r");
      const r = await t.done;
      expect({ early, status: r.status }).toEqual({ early, status: 2 });
      expect(r.output).toContain(`(${early.length} character(s) typed before this question were discarded: only an answer typed now counts.)`);
      expect(r.output).toContain('Apply to prod cancelled (answer was ""). Set AUTO_APPROVE=1 to skip this question.');
      expect(applies(h.s.log())).toEqual([]);
    }
    // The plan is untouched: answered now, it applies.
    const t = operatorOnPty("apply prod network");
    await t.waitFor(QUESTION);
    t.type("prod\r");
    expect((await t.done).status).toBe(0);
  });

  it("Ctrl-C at the question cancels, applying nothing", async () => {
    const t = operatorOnPty("apply prod network");
    await t.waitFor(QUESTION);
    t.type("\x03");
    const r = await t.done;
    expect(r.status).toBe(130);
    expect(r.output).toContain("Apply to prod cancelled: SIGINT while waiting for the answer. Nothing was applied.");
    expect(applies(h.s.log())).toEqual([]);
    expect(h.record("prod", "network")!.status).toBe("planned");
  });
});

describe("the prod question without a terminal", () => {
  beforeEach(async () => expect((await h.multi(["plan", "prod", "network"])).status).toBe(0));

  it("a piped answer still works (echo prod | ...), and a piped other answer cancels", () => {
    const no = operatorPiped(["apply", "prod", "network"], "yes\n");
    expect(no.status).toBe(2);
    expect(no.stderr).toContain('Apply to prod cancelled (answer was "yes")');
    expect(applies(no.log)).toEqual([]);
    const yes = operatorPiped(["apply", "prod", "network"], "prod\n");
    expect(yes.stdout).toContain(QUESTION);
    expect(yes.status).toBe(0);
    expect(applies(yes.log)).toHaveLength(1);
  });

  it("</dev/null cancels with a message that says why and what to do", () => {
    const r = operatorPiped(["apply", "prod", "network"], "null");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      "Apply to prod cancelled: no answer (stdin is not a terminal and ended without a line, e.g. </dev/null or a CI job). Nothing was applied. Answer at a terminal, pipe the answer (echo prod | make apply ENV=prod PHASE=network), or set AUTO_APPROVE=1 to skip this question.",
    );
    expect(applies(r.log)).toEqual([]);
  });
});

/** A STANDIN_TERRAFORM_*_ON prefix matching only the apply of this phase's saved plan (any colour flag). */
const applyOf = (env: string, phase: string) => `apply -input=false ${h.planFile(env, phase)};apply -no-color -input=false ${h.planFile(env, phase)}`;
const state = (file: string) => readOr(path.join(h.s.stateDir, "terraform", file));
const unattended = () => path.join(h.out, "logs", "dev.unattended.json");
const logOf = (text: string) => {
  const m = /all of its output is in (\S+)\.|Its whole output: (\S+)|Its output goes on in (\S+)\./.exec(text);
  return m ? readOr(path.resolve(ROOT, (m[1] ?? m[2] ?? m[3])!)) : "";
};

describe("a closed terminal (SIGHUP) during an apply", () => {
  it("Terraform is not signalled and finishes its phase; no later phase starts; the log has it all; the next run says what happened", async () => {
    expect((await h.multi(["plan", "dev"])).status).toBe(0);
    // An interactive shell at the terminal, as an operator has: closing the terminal hangs up the shell,
    // which sends SIGHUP to its running job.
    const t = onPty("bash --norc --noprofile -i", {
      cwd: ROOT,
      env: env({
        PS1: "$ ",
        STANDIN_TERRAFORM_SLOW_ON: applyOf("dev", "database"),
        STANDIN_TERRAFORM_SLOW_SECONDS: "3",
        STANDIN_TERRAFORM_TICKS: "4",
        STANDIN_TERRAFORM_STATE_LOCK: "1",
      }),
    });
    h.s.clearLog();
    t.type(`${FIXTURE} apply dev\r`);
    await h.waitForSlow("apply", "accessweaver-dev-database").catch((e) => {
      t.close();
      throw new Error(`${(e as Error).message}\nThe terminal showed:\n${t.output()}`);
    });
    t.close();
    await t.done;
    // While it goes on, another run is refused with where to follow it.
    await until(() => fs.existsSync(unattended()), "the run to record its lost terminal");
    const meanwhile = await h.multi(["plan", "dev"]);
    expect(meanwhile.status).toBe(2);
    expect(meanwhile.stderr).toMatch(
      /It lost its terminal at \d\d:\d\d UTC \(the terminal was closed \(SIGHUP[^\n]*\) and goes on without it: follow it with tail -f \S+\/logs\/dev-\d{8}T\d{6}Z-apply\.log/,
    );
    // The run goes on without its terminal; it records how it ended.
    await until(() => readOr(unattended()).includes('"status"'), "the run to record its end");
    const record = JSON.parse(readOr(unattended()));
    expect(state("signals")).toBe("");
    expect(state("procinfo")).toBe("apply accessweaver-dev-database group=own stdin=other\n");
    // Both phases applied (their plans used up); the one after the hangup was not started.
    expect(["network", "database", "cache"].map((p) => fs.existsSync(`${h.planFile("dev", p)}.applied.txt`))).toEqual([true, true, false]);
    expect(applies(h.s.log())).toEqual([]);
    expect(record.status).toBe(129);
    expect(record.how).toMatch(/^the terminal was closed \(SIGHUP/);
    expect(record.outcome).toContain(
      [
        "Apply of dev stopped before accessweaver-dev-cache: the terminal was lost (SIGHUP). accessweaver-dev-network, accessweaver-dev-database were applied to the end: a hangup does not stop Terraform midway. No later phase is started with nobody watching; the plans not applied are kept.",
        "  applied:        accessweaver-dev-network, accessweaver-dev-database",
        "  not applied:    accessweaver-dev-cache",
        "  plans retired:  none",
        "Next: make apply ENV=dev PHASE=cache (each plan is checked again first).",
      ].join("\n"),
    );
    // The log kept what Terraform printed after the terminal was gone; no state lock is left.
    const log = readOr(record.log);
    expect(log).toContain("accessweaver-dev-database: Still creating... [4/4]\nApply complete! (stand-in, accessweaver-dev-database)");
    expect(log).toContain("Next: make apply ENV=dev PHASE=cache");
    expect(fs.existsSync(path.join(h.s.stateDir, "terraform/locks/accessweaver-dev-database"))).toBe(false);
    expect(h.record("dev", "cache")!.status).toBe("planned");
    // The next run says it once, then goes on.
    const next = await h.multi(["apply", "dev", "cache"]);
    expect(next.stderr).toMatch(
      /Note: the last make apply ENV=dev \(pid \d+, started \d\d:\d\d UTC\) lost its terminal at \d\d:\d\d UTC: the terminal was closed \(SIGHUP/,
    );
    expect(next.stderr).toContain("It went on and ended with exit 129:\nApply of dev stopped before accessweaver-dev-cache");
    expect(next.stderr).toContain(`Its whole output: ${record.log}`);
    expect(next.status).toBe(0);
    expect((await h.multi(["plan", "dev", "cache"])).stderr).not.toContain("lost its terminal");
  });
});

describe("Ctrl-C at the terminal during an apply", () => {
  it("twice: Terraform exits at once; the report says the lock is probably held, how to check, and the force-unlock; the next plan names the lock's ID", async () => {
    expect((await h.multi(["plan", "dev"])).status).toBe(0);
    const t = operatorOnPty("apply dev", {
      STANDIN_TERRAFORM_SLOW_ON: applyOf("dev", "database"),
      STANDIN_TERRAFORM_SLOW_SECONDS: "5",
      STANDIN_TERRAFORM_STOP_SECONDS: "5",
      STANDIN_TERRAFORM_STATE_LOCK: "1",
    });
    await h.waitForSlow("apply", "accessweaver-dev-database");
    t.type("\x03");
    await t.waitFor("Interrupt received. Stopping operations safely");
    t.type("\x03");
    const r = await t.done;
    expect(r.status).toBe(130);
    // One SIGINT per Ctrl-C, from the operator only (Terraform is not on the terminal).
    expect(state("signals")).toBe("SIGINT apply accessweaver-dev-database\n".repeat(2));
    expect(state("procinfo")).toBe("apply accessweaver-dev-database group=own stdin=other\n");
    const dir = `${h.out}/stacks/accessweaver-dev-database`;
    expect(r.output).toContain(
      [
        `Apply of dev stopped: terraform apply was interrupted (SIGINT) and has stopped (exit 1).`,
        `Terraform received a second interrupt and exited at once ("Two interrupts received. Exiting immediately"), so the state lock of accessweaver-dev-database is probably still held: the next plan or apply of it fails with "Error acquiring the state lock" until it is released.`,
        `Check first that no Terraform of accessweaver-dev-database still runs (here: ps -ef | grep terraform; or on another machine), then whether the lock is held: make plan ENV=dev PHASE=database fails with the lock's ID and who holds it.`,
        `Then release it: terraform -chdir=${dir} force-unlock <ID> (the ID shown by that check)`,
        "  applied:        accessweaver-dev-network",
        "  interrupted:    accessweaver-dev-database (part of it may be applied: Terraform keeps what it did in the state)",
      ].join("\n"),
    );
    expect(r.output).not.toMatch(/released its state lock|which releases its state lock/);
    // The check: the plan fails on the lock and names it, with the exact command.
    const id = state("locks/accessweaver-dev-database").trim();
    const plan = await h.multi(["plan", "dev", "database"], { STANDIN_TERRAFORM_STATE_LOCK: "1" });
    expect(plan.status).toBe(2);
    expect(plan.stderr).toContain(
      [
        `The state of accessweaver-dev-database is locked by another Terraform run (lock ID ${id}, OperationTypeApply by operator@standin, since 2025-01-01 12:00:00.000000000 +0000 UTC): this is not a missing earlier phase.`,
        "If that run is still going (someone else's plan or apply, a run that lost its terminal), wait for it and run this again.",
        `If it is over (a Terraform that was killed or stopped by a second Ctrl-C), release the lock: terraform -chdir=${dir} force-unlock ${id}`,
      ].join("\n"),
    );
    // That command, pasted, releases it; the plan then works.
    const command = /release the lock: (terraform -chdir=\S+ force-unlock \S+)/.exec(plan.stderr)![1]!;
    expect(spawnSync("bash", ["-c", command], { env: env(), encoding: "utf8" }).status).toBe(0);
    expect((await h.multi(["plan", "dev", "database"], { STANDIN_TERRAFORM_STATE_LOCK: "1" })).status).toBe(0);
  });
});

describe("a closed stdout pipe (make apply | head)", () => {
  it("never stops the apply or reaches Terraform: the run finishes, the records and the log say what happened", async () => {
    expect((await h.multi(["plan", "dev"])).status).toBe(0);
    h.s.clearLog();
    const r = spawnSync("bash", ["-c", `${FIXTURE} apply dev | head -n 1; echo "operator exit: \${PIPESTATUS[0]}" >&2`], {
      cwd: ROOT,
      env: env({
        STANDIN_TERRAFORM_SLOW_ON: applyOf("dev", "network"),
        STANDIN_TERRAFORM_SLOW_SECONDS: "1",
        STANDIN_TERRAFORM_TICKS: "5",
        STANDIN_TERRAFORM_STATE_LOCK: "1",
      }),
      encoding: "utf8",
    });
    expect(r.stdout).toBe("accessweaver-dev-network: Still creating... [1/5]\n");
    expect(r.stderr).toContain("operator exit: 0");
    expect(r.stderr).toMatch(/The output was cut: its reader closed the pipe \(EPIPE on stdout\)\. The run goes on; all of its output is in \S+\.log\./);
    expect(state("signals")).toBe("");
    expect(applies(h.s.log())).toHaveLength(3);
    for (const p of ["network", "database", "cache"]) {
      expect(h.record("dev", p)).toBeUndefined();
      expect(fs.existsSync(`${h.planFile("dev", p)}.applied.txt`)).toBe(true);
    }
    const log = logOf(r.stderr);
    expect(log).toContain("accessweaver-dev-network: Still creating... [5/5]");
    expect(log).toContain("Applied accessweaver-dev-network, accessweaver-dev-database, accessweaver-dev-cache.");
    expect(readdir(path.join(h.s.stateDir, "terraform/locks"))).toEqual([]);
    // The report reached the terminal on stderr: nothing to say on the next run.
    expect(fs.existsSync(unattended())).toBe(false);
  });
});

const readdir = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);
const seen = () => readOr(path.join(h.s.stateDir, "cdktf/seen"));

describe("make deploy (cdktf deploy)", () => {
  it("without a terminal and without AUTO_APPROVE: refused before cdktf starts, saying what to run instead", () => {
    for (const input of ["", "null"] as const) {
      const r = operatorPiped(["deploy", "prod", "network"], input);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(
        "make deploy ENV=prod PHASE=network needs a terminal: cdktf deploy shows its plan and asks for approval on an interactive screen, and stdin is not a terminal. Nothing was run. Without a terminal, run make plan ENV=prod PHASE=network, review it, then echo prod | make apply ENV=prod PHASE=network; or, to apply without a review: AUTO_APPROVE=1 make deploy ENV=prod PHASE=network",
      );
      expect(r.log).toEqual([]);
    }
  });

  it("at a terminal, cdktf gets the terminal to ask; with AUTO_APPROVE it gets --auto-approve, no stdin and a process group of its own", async () => {
    const t = operatorOnPty("deploy dev network");
    expect((await t.done).status).toBe(0);
    expect(h.s.log()).toEqual(["cdktf deploy accessweaver-dev-network"]);
    const auto = operatorOnPty("deploy dev network", { AUTO_APPROVE: "1" });
    expect((await auto.done).status).toBe(0);
    expect(h.s.log()).toEqual(["cdktf deploy accessweaver-dev-network --auto-approve"]);
    expect(seen()).toBe(
      ["stdin=tty group=shared CI=unset FORCE_COLOR=unset NO_COLOR=unset", "stdin=other group=own CI=unset FORCE_COLOR=unset NO_COLOR=unset", ""].join("\n"),
    );
  });

  it("into a pipe (make deploy | cat): no spinner frames or colours from cdktf (CI=1, FORCE_COLOR=0, NO_COLOR)", () => {
    const r = spawnSync("bash", ["-c", `${FIXTURE} deploy dev network | cat`], { cwd: ROOT, env: env({ AUTO_APPROVE: "1" }), encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("cdktf stand-in: deploy accessweaver-dev-network --auto-approve");
    expect(seen()).toBe("stdin=other group=own CI=1 FORCE_COLOR=0 NO_COLOR=1\n");
  });
});

describe("through make, as operators type it", () => {
  it("make apply ENV=prod at a terminal: type-ahead is discarded, the answer typed after the question applies", async () => {
    expect(h.make(["plan", "ENV=prod", "PHASE=network"]).status).toBe(0);
    h.s.clearLog();
    const t = onPty(`make -s -C ${ROOT} apply ENV=prod PHASE=network OUTDIR=${h.out}`, { cwd: ROOT, env: { ...h.s.env, ACCESSWEAVER_SETTINGS_ROOT: h.root } });
    t.type("prod\r");
    await t.waitFor(QUESTION);
    t.type("prod\r");
    const r = await t.done;
    expect(r.output).toContain("(5 character(s) typed before this question were discarded: only an answer typed now counts.)");
    expect(r.output).toContain("Applied accessweaver-prod-network.");
    expect(r.status).toBe(0);
    expect(applies(h.s.log())).toHaveLength(1);
    // The run's log, written whether or not the terminal stays.
    const logs = readdir(path.join(h.out, "logs")).filter((f) => /^prod-\d{8}T\d{6}Z-apply\.log$/.test(f));
    expect(logs).toHaveLength(1);
    expect(readOr(path.join(h.out, "logs", logs[0]!))).toContain(`${QUESTION}`);
  });
});
