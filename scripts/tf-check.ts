/**
 * The Terraform check harness: `validate` and `rehearse` (an offline plan rehearsal of a first apply)
 * of each environment's synthesized phase stacks, wired together in one check root per environment.
 *
 *   node -r ./scripts/register.js scripts/tf-check.ts validate [env...]
 *   node -r ./scripts/register.js scripts/tf-check.ts rehearse [env...]
 *
 * See scripts/tf-check/ (generate.ts for the shape of the check root, run.ts for exit codes).
 */
import { main } from "./tf-check/run";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`tf-check: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
