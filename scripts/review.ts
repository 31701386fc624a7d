/**
 * The reviewer's tools, on the synthesized output (run `make synth` first; the Makefile does):
 *
 *   node -r ./scripts/register.js scripts/review.ts review <env> [<compare env>]   writes cdktf.out/review/<env>.md
 *   node -r ./scripts/register.js scripts/review.ts audit <env>                    writes cdktf.out/audit/<env>.md
 *
 * The audit synthesizes the environment itself, with its guardrails reporting instead of failing, into
 * a scratch folder it deletes: it lists every violation even where a violation fails the synth, and
 * exits 1 there (staging, prod).
 *
 * Environment: CDKTF_OUTDIR (default cdktf.out), TF (for `show -json` of saved plans, default terraform),
 * ACCESSWEAVER_SETTINGS_ROOT (folder holding environments/, for the budget when no budget is synthesized).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadEnvironment } from "../src/config/load";
import { ENVIRONMENTS, isEnvironmentName } from "../src/naming";
import { isObject } from "./tf-check/json";
import { audit, auditFile, auditMarkdown } from "./review/audit";
import { splitDr } from "./review/dr";
import { EnvModel, loadEnv, ofType } from "./review/model";
import { summarizePlans } from "./review/plan-summary";
import { review } from "./review/report";

const USAGE = "usage: review.ts review <env> [<compare env>] | audit <env>";

/** The region of the environment's stacks, from their AWS provider. */
function regionOf(m: EnvModel): string {
  for (const s of m.stacks) {
    const aws = isObject(s.config.provider) ? s.config.provider.aws : undefined;
    const first = Array.isArray(aws) ? aws[0] : undefined;
    if (isObject(first) && typeof first.region === "string") return first.region;
  }
  throw new Error(`no AWS provider region in the stacks of ${m.env}`);
}

/** The monthly budget: the synthesized aws_budgets_budget, or else the environment's settings. */
async function budgetOf(m: EnvModel): Promise<number> {
  const budget = ofType(m, "aws_budgets_budget")[0];
  if (budget && typeof budget.config.limit_amount === "string") return Number(budget.config.limit_amount);
  if (!isEnvironmentName(m.env)) throw new Error(`no budget for environment ${m.env}`);
  const root = process.env.ACCESSWEAVER_SETTINGS_ROOT || process.cwd();
  return (await loadEnvironment(m.env, { rootDir: root, notice: () => undefined })).settings.monthlyBudgetUsd;
}

/** `make audit ENV=x`: prints the report, writes `<outdir>/audit/<env>.md`; 1 when an enforcing environment fails. */
async function auditCommand(env: string, outdir: string): Promise<number> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "aw-audit-"));
  try {
    // Loaded here only: the review itself needs no synth.
    const { synthesize } = await import("../src/synth");
    await synthesize({ outdir: scratch, envSelection: env, rootDir: process.env.ACCESSWEAVER_SETTINGS_ROOT || process.cwd(), reportOnly: true });
    const a = audit(loadEnv(scratch, env));
    const file = path.join(outdir, "audit", `${env}.md`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${auditFile(a, new Date().toISOString().replace(/\.\d+Z$/, "Z"))}\n`);
    process.stdout.write(`Guardrails of ${env} (${path.relative(process.cwd(), file) || file}):\n${auditMarkdown(a)}\n`);
    return a.mode === "enforce" && a.rules.some((r) => r.findings.length > 0) ? 1 : 0;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, env = "", compare = ""] = argv;
  const outdir = process.env.CDKTF_OUTDIR || "cdktf.out";
  if (command !== "review" && command !== "audit") {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  for (const [key, value] of [
    ["ENV", env],
    ["COMPARE", compare],
  ] as const) {
    if ((key === "ENV" || value !== "") && !isEnvironmentName(value)) {
      process.stderr.write(
        `make ${command}: ${key} is ${JSON.stringify(value)}; expected one of ${ENVIRONMENTS.join(", ")}${key === "COMPARE" ? ", or nothing" : ""}.\n`,
      );
      return 2;
    }
  }
  if (command === "audit") return auditCommand(env, outdir);
  // With its DR stacks when they were synthesized (make review sets ACCESSWEAVER_DR=1): review() keeps them apart.
  const model = loadEnv(outdir, env);
  const { primary, dr } = splitDr(model);
  const tf = process.env.TF || "terraform";
  const r = review({
    model,
    region: regionOf(primary),
    budgetUsd: await budgetOf(primary),
    plan: summarizePlans(primary, outdir, tf),
    ...(dr ? { drPlan: summarizePlans(dr, outdir, tf) } : {}),
    ...(compare ? { compare: loadEnv(outdir, compare) } : {}),
    generatedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  });
  const file = path.join(outdir, "review", `${env}.md`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${r.markdown}\n`);
  process.stdout.write(`Review of ${env}: ${path.relative(process.cwd(), file)}\n${r.summary}\n`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`review: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
