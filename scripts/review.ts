/**
 * The reviewer's tools, on the synthesized output (run `make synth` first; the Makefile does):
 *
 *   node -r ./scripts/register.js scripts/review.ts review <env> [<compare env>]   writes cdktf.out/review/<env>.md
 *   node -r ./scripts/register.js scripts/review.ts audit <env>                    the guardrails over the JSON
 *
 * Environment: CDKTF_OUTDIR (default cdktf.out), TF (for `show -json` of saved plans, default terraform),
 * ACCESSWEAVER_SETTINGS_ROOT (folder holding environments/, for the budget when no budget is synthesized).
 */
import * as fs from "fs";
import * as path from "path";
import { loadEnvironment } from "../src/config/load";
import { ENVIRONMENTS, isEnvironmentName } from "../src/naming";
import { isObject } from "./tf-check/json";
import { audit, auditMarkdown } from "./review/audit";
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

export async function main(argv: readonly string[]): Promise<number> {
  const [command, env = "", compare = ""] = argv;
  const outdir = process.env.CDKTF_OUTDIR || "cdktf.out";
  if (command !== "review" && command !== "audit") {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  for (const [key, value] of [["ENV", env], ["COMPARE", compare]] as const) {
    if ((key === "ENV" || value !== "") && !isEnvironmentName(value)) {
      process.stderr.write(`make ${command}: ${key} is ${JSON.stringify(value)}; expected one of ${ENVIRONMENTS.join(", ")}${key === "COMPARE" ? ", or nothing" : ""}.\n`);
      return 2;
    }
  }
  const model = loadEnv(outdir, env);
  if (command === "audit") {
    const a = audit(model);
    process.stdout.write(`Guardrails of ${env}:\n${auditMarkdown(a)}\n`);
    return a.mode === "enforce" && a.stacks.some((s) => s.violations.length > 0) ? 1 : 0;
  }
  const r = review({
    model,
    region: regionOf(model),
    budgetUsd: await budgetOf(model),
    plan: summarizePlans(model, outdir, process.env.TF || "terraform"),
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
