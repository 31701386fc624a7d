/**
 * make emulate: apply every phase of an environment into an AWS API emulator, then plan again; the
 * second plan must be empty apart from the emulator's known gaps. Then a release of the services phase
 * is rehearsed as make release does it, and the plan after it must be empty too.
 *
 *   node -r ./scripts/register.js scripts/emulate.ts <env>
 *
 * See scripts/emulate/ (run.ts for the steps and exit codes, release.ts for the release rehearsal,
 * allow-list.ts for the known gaps).
 */
import { main } from "./emulate/run";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`emulate: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
