/**
 * The state backend's names, from the naming module, as shell assignments for setup-backend.sh
 * (`eval "$(node -r scripts/register.js scripts/backend-names.ts)"`): the script and the stacks then
 * cannot disagree on a bucket or table name.
 *
 *   ENVIRONMENTS='dev staging prod'
 *   PROJECT_TAG='AccessWeaver'
 *   LOCK_TABLE_prod='accessweaver-terraform-locks-prod'
 *   STATE_BUCKET_prod='accessweaver-terraform-state-prod-{account}'   ({account}: the caller's account id)
 */
import { ENVIRONMENTS, PROJECT_TAG, names } from "../src/naming";

/** The account id placeholder in STATE_BUCKET_<env>. */
export const ACCOUNT_PLACEHOLDER = "{account}";

/** Single-quoted for the shell. */
const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export function backendNames(): string {
  const lines = [`ENVIRONMENTS=${quote(ENVIRONMENTS.join(" "))}`, `PROJECT_TAG=${quote(PROJECT_TAG)}`];
  for (const env of ENVIRONMENTS) {
    const n = names(env);
    lines.push(`LOCK_TABLE_${env}=${quote(n.lockTable)}`);
    // The template is built by the same function as the stacks' backend bucket; the 12 digits only pass its check.
    lines.push(`STATE_BUCKET_${env}=${quote(n.stateBucket("000000000000").replace(/000000000000$/, ACCOUNT_PLACEHOLDER))}`);
  }
  return `${lines.join("\n")}\n`;
}

if (require.main === module) process.stdout.write(backendNames());
