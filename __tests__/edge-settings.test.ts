// Settings of the edge: the WAF rate limit (default, range, clear errors) and the regions whose ALB
// access-log delivery principal is known.
import { SettingsError } from "../src/config/errors";
import { ELB_LOG_ACCOUNTS, ELB_LOG_SERVICE_REGIONS, elbLogDeliveryPrincipal } from "../src/config/elb-log-delivery";
import { DEFAULT_WAF_RATE_LIMIT, validateSettings } from "../src/config/settings";
import { config, rawSettings } from "./support/config";

const FILE = "environments/prod/terraform.tfvars";
const problems = (overrides: Record<string, unknown>) => {
  try {
    validateSettings("prod", rawSettings("prod", overrides), FILE);
  } catch (e) {
    if (e instanceof SettingsError) return e.message;
    throw e;
  }
  return "";
};

describe("waf_rate_limit", () => {
  it("defaults to 10 000 requests per client IP per 5 minutes", () => {
    expect(DEFAULT_WAF_RATE_LIMIT).toBe(10_000);
    expect(config("prod").settings.wafRateLimit).toBe(10_000);
    expect(config("dev", { waf_rate_limit: 500 }).settings.wafRateLimit).toBe(500);
  });

  it("accepts AWS WAF's bounds, 10 to 2 000 000 000", () => {
    expect(config("prod", { waf_rate_limit: 10 }).settings.wafRateLimit).toBe(10);
    expect(config("prod", { waf_rate_limit: 2_000_000_000 }).settings.wafRateLimit).toBe(2_000_000_000);
  });

  it.each([
    [9, "9"],
    [2_000_000_001, "2000000001"],
    [150.5, "150.5"],
    ["1000", '"1000"'],
  ])("refuses %p naming the file, the key, the value and the range", (value, shown) => {
    expect(problems({ waf_rate_limit: value })).toBe(`Invalid setting. ${FILE}: waf_rate_limit: found ${shown}; expected a whole number from 10 to 2000000000`);
  });
});

describe("the ALB log-delivery principal of a region", () => {
  it("is eu-west-1's ELB account, or the service principal in a region opened since August 2022", () => {
    expect(elbLogDeliveryPrincipal("eu-west-1", "aws")).toEqual({ type: "AWS", identifiers: ["arn:aws:iam::156460612806:root"] });
    expect(elbLogDeliveryPrincipal("us-gov-west-1", "aws-us-gov")).toEqual({ type: "AWS", identifiers: ["arn:aws-us-gov:iam::048591011584:root"] });
    expect(elbLogDeliveryPrincipal("eu-central-2", "aws")).toEqual({ type: "Service", identifiers: ["logdelivery.elasticloadbalancing.amazonaws.com"] });
    expect(elbLogDeliveryPrincipal("xx-nowhere-1", "aws")).toBeUndefined();
    // A region is in one list or the other, never both.
    expect(ELB_LOG_SERVICE_REGIONS.filter((r) => r in ELB_LOG_ACCOUNTS)).toEqual([]);
  });

  it("must be known for the settings' region: an unknown region is refused with the file, key and where to add it", () => {
    const region = "ap-east-9";
    expect(problems({ aws_region: region, ecr_registry: `111122223333.dkr.ecr.${region}.amazonaws.com` })).toBe(
      `Invalid setting. ${FILE}: aws_region: found "${region}"; expected a region whose ALB access-log delivery principal is known (src/config/elb-log-delivery.ts): add the region there from the ELB user guide first`,
    );
  });
});
