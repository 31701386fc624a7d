/**
 * Where disaster-recovery copies may live (the recovery phase, `dr_region`). Personal data of tenants'
 * users is in the database, the audit trail and the secrets' scope: the copies stay in the EU/EEA (RGPD),
 * so only regions of EU member states are accepted. The United Kingdom (eu-west-2) and Switzerland
 * (eu-central-2) benefit from adequacy decisions but are outside the EU/EEA: refused, with that reason,
 * like the European Sovereign Cloud, which is another partition that an account of the commercial one
 * cannot replicate to. Sources: AWS "Regions and Availability Zones" (region codes and locations).
 */
export const EU_DR_REGIONS: Readonly<Record<string, string>> = {
  "eu-west-1": "Ireland",
  "eu-west-3": "France (Paris)",
  "eu-central-1": "Germany (Frankfurt)",
  "eu-north-1": "Sweden (Stockholm)",
  "eu-south-1": "Italy (Milan)",
  "eu-south-2": "Spain",
};

/** European regions that are not in the EU/EEA, and why each is refused. */
export const NON_EEA_EUROPEAN_REGIONS: Readonly<Record<string, string>> = {
  "eu-west-2": "London is in the United Kingdom, outside the EU/EEA",
  "eu-central-2": "Zurich is in Switzerland, outside the EU/EEA",
};

/** prod's copies go here unless `dr_region` says otherwise. */
export const DEFAULT_DR_REGION = "eu-central-1";

/**
 * Days the replicated automated backups are kept (`dr_backup_retention_days`): RDS accepts 1 to 35 for a
 * replication, as for the source's own backup retention.
 */
export const DR_BACKUP_RETENTION_RANGE = { min: 1, max: 35 } as const;
