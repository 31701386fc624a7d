/**
 * `make preflight ENV=<env>`: the guide's prerequisites checked in one read-only pass before a
 * deployment: credentials, state backend, DNS delegation, capacity against quotas, images, names
 * that already exist, what the observability phase creates once per account, and, with a dr_region,
 * the recovery phase's (DR region, DR backend, the registry's replication, the copies' age). Exit 0
 * only when nothing failed; 1 when a check failed; 2 on a refusal.
 *
 *   node -r ./scripts/register.js scripts/preflight.ts <env>
 *
 * Environment: CDKTF_OUTDIR (the synthesized stacks, default cdktf.out), ACCESSWEAVER_SETTINGS_ROOT,
 * AWS_PROFILE and the usual AWS CLI settings (every call passes the environment's --region; Budgets, a global API, and
 * the calls to the DR region pass their own).
 */
import * as path from "path";
import { loadEnvironment, settingsFile } from "../src/config/load";
import { refusalForRealRun } from "../src/config/placeholders";
import { isEnvironmentName, ENVIRONMENTS, EnvironmentName } from "../src/naming";
import { loadEnv } from "./review/model";
import { CliRunner, awsCalls, awsCli } from "./preflight/aws";
import { Check, capacity, collisions, credentials, dns, images, phaseStates, stateBackend } from "./preflight/checks";
import { OtherEnvironment, observability } from "./preflight/observability";
import { recovery } from "./preflight/recovery";

const MARK: Record<Check["status"], string> = { pass: "PASS", warn: "WARN", fail: "FAIL" };

export function line(c: Check): string {
  return `${MARK[c.status]}  ${c.name}: ${c.detail}${c.fix ? `\n      -> ${c.fix}` : ""}`;
}

export interface Io {
  readonly env: NodeJS.ProcessEnv;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const PROCESS_IO: Io = { env: process.env, out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** `runCli`: how the `aws` CLI is run (default: the one on the PATH of `io.env`). */
export async function main(argv: readonly string[], io: Io = PROCESS_IO, runCli?: CliRunner): Promise<number> {
  const env = argv[0] ?? "";
  if (!isEnvironmentName(env)) {
    io.err(`preflight: unknown environment "${env}" (ENV); expected one of ${ENVIRONMENTS.join(", ")}.\n`);
    return 2;
  }
  const root = io.env.ACCESSWEAVER_SETTINGS_ROOT || process.cwd();
  const config = await loadEnvironment(env, { rootDir: root, notice: () => undefined });
  const refusal = await refusalForRealRun(config, "preflight", root);
  if (refusal) {
    io.err(`${refusal}\n`);
    return 2;
  }
  const outdir = io.env.CDKTF_OUTDIR || "cdktf.out";
  const model = loadEnv(outdir, env);
  const call = runCli ? awsCalls(config.settings.region, runCli) : awsCli(config.settings.region, io.env);
  const say = (c: Check) => io.out(`${line(c)}\n`);

  io.out(`Preflight of ${env}: account ${config.settings.accountId}, ${config.settings.region}, ${config.settings.domainName} (read-only)\n`);
  const all: Check[] = [];
  const run = (checks: Check[]) => {
    checks.forEach(say);
    all.push(...checks);
  };
  const who = credentials(call, config, io.env);
  run(who.checks);
  if (who.account !== config.settings.accountId) {
    io.out("Stopped: the other checks would read the wrong account.\n");
  } else {
    run(stateBackend(call, config));
    run(dns(call, config, io.env));
    run(capacity(call, config));
    run(images(call, config));
    const stackDir = (stack: string) => path.join(outdir, "stacks", stack);
    const applied = phaseStates(call, model.stacks);
    const others = await otherEnvironments(env, root);
    run(collisions(call, config, model.resources, stackDir, applied));
    run(observability(call, config, model.resources, stackDir, applied, others));
    run(recovery(call, config, applied, others));
  }
  const count = (s: Check["status"]) => all.filter((c) => c.status === s).length;
  io.out(
    `Preflight ${env}: ${count("pass")} pass, ${count("warn")} warn, ${count("fail")} fail${count("fail") > 0 ? ": fix the FAIL lines before deploying" : ""}.\n`,
  );
  return count("fail") > 0 ? 1 : 0;
}

/**
 * The other environments' own settings (`terraform.tfvars`, never the example), for the switches of an
 * account they may share. A file that does not validate is left out: its own preflight says why.
 */
async function otherEnvironments(env: EnvironmentName, root: string): Promise<OtherEnvironment[]> {
  const out: OtherEnvironment[] = [];
  for (const other of ENVIRONMENTS.filter((e) => e !== env)) {
    if (settingsFile(other, root).isExample) continue;
    try {
      const c = await loadEnvironment(other, { rootDir: root, notice: () => undefined });
      const s = c.settings;
      out.push({
        env: other,
        file: c.source.file,
        accountId: s.accountId,
        region: s.region,
        inspectorEnabled: s.inspectorEnabled,
        drRegion: s.drRegion,
        ecrRegistry: s.ecrRegistry,
      });
    } catch {
      // unreadable settings: nothing to compare
    }
  }
  return out;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`preflight: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
