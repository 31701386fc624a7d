/**
 * On-demand list prices (USD, before tax) used by the cost estimate, each with the month it was read
 * and its source. The live price pages cannot be reached from the build machines: refresh a line from
 * the AWS Price List (offer files or the Pricing API) and change its `read` date when you do.
 * Monthly = hourly x 730 (the usual constant for a month of hours).
 */

export const HOURS_PER_MONTH = 730;

export interface Price {
  readonly usd: number;
  readonly unit: "hour" | "month" | "GB-month" | "GB" | "vCPU-hour" | "GB-hour";
  /** Year-month the price was read. */
  readonly read: string;
  readonly source: string;
}

export interface PriceTable {
  readonly region: string;
  /** The platform team's price list this table copies (`shared/reference/<file>`): what a missing price names. */
  readonly reference: string;
  readonly rdsPostgres: Readonly<Record<string, Price>>;
  readonly rdsGp3: { readonly singleAz: Price; readonly multiAz: Price };
  /** RDS backup storage beyond 100% of the provisioned storage (a region with only replicated backups has no free part). */
  readonly rdsBackup: Price;
  readonly s3Standard: Price;
  readonly elasticacheRedis: Readonly<Record<string, Price>>;
  /** Valkey nodes cost this fraction of Redis OSS nodes. */
  readonly valkeyFactor: number;
  readonly fargate: { readonly x86: { vcpu: Price; gb: Price }; readonly arm: { vcpu: Price; gb: Price } };
  readonly natGateway: Price;
  readonly publicIpv4: Price;
  readonly alb: Price;
  readonly interfaceEndpoint: Price;
  readonly wafWebAcl: Price;
  readonly wafRule: Price;
  readonly kmsKey: Price;
  readonly secret: Price;
  readonly alarm: Price;
  readonly dashboard: Price;
  readonly healthCheck: Price;
  readonly healthCheckHttps: Price;
}

const OFFER = "AWS Price List offer file";
const p = (usd: number, unit: Price["unit"], read: string, source: string): Price => ({ usd, unit, read, source });

/** eu-west-1, from `shared/reference/prices-eu-west-1.md` of the platform team. */
export const EU_WEST_1: PriceTable = {
  region: "eu-west-1",
  reference: "prices-eu-west-1.md",
  rdsPostgres: {
    "db.t4g.micro": p(0.017, "hour", "2026-09", `${OFFER}; bill 2026-07`),
    "db.t4g.medium": p(0.069, "hour", "2026-09", `${OFFER} SKU XD54R8M4F2H4C2N5`),
    "db.r6g.large": p(0.252, "hour", "2021-08", "ec2instances.info rds data (other rows match 2026 bills)"),
    "db.r6g.xlarge": p(0.504, "hour", "2021-08", "ec2instances.info rds data (other rows match 2026 bills)"),
  },
  rdsGp3: {
    singleAz: p(0.127, "GB-month", "2026-09", `${OFFER} SKU S32D6FQC3879C222`),
    multiAz: p(0.254, "GB-month", "2026-09", `${OFFER} SKU EAU4ZF82RTWHAEHF`),
  },
  rdsBackup: p(0.095, "GB-month", "2026-05", "AWS Pricing API (backup storage beyond 100% of provisioned)"),
  s3Standard: p(0.023, "GB-month", "2026-09", "S3 offer file"),
  elasticacheRedis: {
    "cache.t4g.micro": p(0.017, "hour", "2022-02", "ec2instances.info cache data (half of t4g.small)"),
    "cache.t4g.small": p(0.034, "hour", "2022-02", "ec2instances.info cache data"),
    "cache.t4g.medium": p(0.068, "hour", "2022-02", "ec2instances.info cache data"),
    "cache.r6g.large": p(0.229, "hour", "2026-04", "Pricing API audit 2026-05"),
    "cache.r6g.xlarge": p(0.458, "hour", "2022-02", "ec2instances.info; a 2026-07 bill shows the usage type"),
  },
  valkeyFactor: 0.8,
  fargate: {
    x86: { vcpu: p(0.04048, "vCPU-hour", "2026-09", `${OFFER} SKU K4EXFQ5YFQCP98EN`), gb: p(0.004445, "GB-hour", "2026-09", `${OFFER} SKU UP5ETC3QSW2QZGEY`) },
    arm: { vcpu: p(0.03238, "vCPU-hour", "2026-09", `${OFFER} SKU KXC9CEUQGJQPNZPY`), gb: p(0.00356, "GB-hour", "2026-09", `${OFFER} SKU MGJ5EB5GSHR8QZDF`) },
  },
  natGateway: p(0.048, "hour", "2026-09", "EC2 offer file 20260925174521"),
  publicIpv4: p(0.005, "hour", "2026-09", `${OFFER} SKU CNZ4XSXPRJXGA4ZF`),
  alb: p(0.0252, "hour", "2026-09", `${OFFER} SKU T29JAP5UEZ7HXAM7`),
  interfaceEndpoint: p(0.011, "hour", "2026-09", `${OFFER} SKU H37WJ97MHYGDXG2A; a 2026-05 bill agrees`),
  wafWebAcl: p(5.0, "month", "2026-03", "AWS WAF pricing (same in all commercial regions)"),
  wafRule: p(1.0, "month", "2026-03", "AWS WAF pricing (same in all commercial regions)"),
  kmsKey: p(1.0, "month", "2024-07", "Infracost fixtures (uniform)"),
  secret: p(0.4, "month", "2026-09", `${OFFER} SKU 7XGGDB26HD68ED7A`),
  alarm: p(0.1, "month", "2026-09", "CloudWatch offer file (standard resolution, per metric)"),
  dashboard: p(3.0, "month", "2024-07", "Infracost fixtures (the first 3 per account are free)"),
  healthCheck: p(0.5, "month", "2024-07", "Infracost fixtures (AWS endpoint)"),
  healthCheckHttps: p(1.0, "month", "2024-07", "Infracost fixtures (HTTPS option, on top of the check)"),
};

/** The price tables by region; a region without one is refused by the estimate, never priced at zero. */
export const PRICE_TABLES: Readonly<Record<string, PriceTable>> = { "eu-west-1": EU_WEST_1 };

/**
 * Commitment and configuration levers, as fractions saved on the lines they apply to
 * (same sources: 1-year no-upfront reserved nodes, Compute Savings Plans, Valkey).
 */
export const LEVERS = {
  elasticacheReserved: 0.31,
  rdsReserved: 0.33,
  fargateSavingsPlan: 0.2,
  fargateArm: 0.2,
  valkey: 0.2,
} as const;
