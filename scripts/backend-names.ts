/**
 * The state backend's names, from the naming module, as shell assignments for setup-backend.sh
 * (`eval "$(node -r scripts/register.js scripts/backend-names.ts)"`): the script and the stacks then
 * cannot disagree on a bucket or table name.
 *
 *   ENVIRONMENTS='dev staging prod'
 *   PROJECT_TAG='AccessWeaver'
 *   DR_REGIONS='eu-west-1 eu-west-3 eu-central-1 eu-north-1 eu-south-1 eu-south-2'   (the accepted dr_region values)
 *   LOCK_TABLE_prod='accessweaver-terraform-locks-prod'       (the DR backend's table too: tables are regional)
 *   STATE_BUCKET_prod='accessweaver-terraform-state-prod-{account}'   ({account}: the caller's account id)
 *   DR_STATE_BUCKET_prod='accessweaver-terraform-state-prod-dr-{account}'
 *   STATE_REPLICATION_ROLE_prod='accessweaver-terraform-state-replication-prod'
 *   RECOVERY_STATE_KEY_prod='prod/recovery/terraform.tfstate'
 *   DR_DEFAULT_REGION_prod='eu-central-1'   (only for an environment with a default dr_region)
 */
import { DEFAULT_DR_REGION, EU_DR_REGIONS } from "../src/config/dr-regions";
import { ENVIRONMENTS, EnvironmentName, PROJECT_TAG, names } from "../src/naming";

/** The account id placeholder in STATE_BUCKET_<env> and DR_STATE_BUCKET_<env>. */
export const ACCOUNT_PLACEHOLDER = "{account}";

/** The DR region of an environment whose settings set no `dr_region`: prod's (src/config/settings.ts); the others have none. */
export const DR_DEFAULT_REGIONS: Readonly<Partial<Record<EnvironmentName, string>>> = { prod: DEFAULT_DR_REGION };

/** Single-quoted for the shell. */
const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** A bucket name template: built by the same function as the stacks' backend bucket; the 12 digits only pass its check. */
const withPlaceholder = (bucket: (accountId: string) => string) => bucket("000000000000").replace(/000000000000$/, ACCOUNT_PLACEHOLDER);

export function backendNames(): string {
  const lines = [
    `ENVIRONMENTS=${quote(ENVIRONMENTS.join(" "))}`,
    `PROJECT_TAG=${quote(PROJECT_TAG)}`,
    `DR_REGIONS=${quote(Object.keys(EU_DR_REGIONS).join(" "))}`,
  ];
  for (const env of ENVIRONMENTS) {
    const n = names(env);
    lines.push(`LOCK_TABLE_${env}=${quote(n.lockTable)}`);
    lines.push(`STATE_BUCKET_${env}=${quote(withPlaceholder(n.stateBucket))}`);
    lines.push(`DR_STATE_BUCKET_${env}=${quote(withPlaceholder(n.drStateBucket))}`);
    lines.push(`STATE_REPLICATION_ROLE_${env}=${quote(n.stateReplicationRole)}`);
    lines.push(`RECOVERY_STATE_KEY_${env}=${quote(n.stateKey("recovery"))}`);
    const drDefault = DR_DEFAULT_REGIONS[env];
    if (drDefault) lines.push(`DR_DEFAULT_REGION_${env}=${quote(drDefault)}`);
  }
  return `${lines.join("\n")}\n`;
}

if (require.main === module) process.stdout.write(backendNames());
