/**
 * Who delivers Application Load Balancer access logs into a bucket, by region (ELB user guide, "Enable
 * access logs for your Application Load Balancer", step 2; the same per-region accounts as the
 * provider's `aws_elb_service_account`). Regions available before August 2022 deliver from an ELB
 * account of that region; regions opened since then deliver as the log-delivery service principal.
 * A region in neither list is refused: a guessed principal would leave the ALB unable to log.
 */

/** Regions available before August 2022: the ELB account that writes their logs. */
export const ELB_LOG_ACCOUNTS: Readonly<Record<string, string>> = {
  "us-east-1": "127311923021",
  "us-east-2": "033677994240",
  "us-west-1": "027434742980",
  "us-west-2": "797873946194",
  "af-south-1": "098369216593",
  "ap-east-1": "754344448648",
  "ap-south-1": "718504428378",
  "ap-northeast-1": "582318560864",
  "ap-northeast-2": "600734575887",
  "ap-northeast-3": "383597477331",
  "ap-southeast-1": "114774131450",
  "ap-southeast-2": "783225319266",
  "ap-southeast-3": "589379963580",
  "ca-central-1": "985666609251",
  "eu-central-1": "054676820928",
  "eu-west-1": "156460612806",
  "eu-west-2": "652711504416",
  "eu-west-3": "009996457667",
  "eu-south-1": "635631232127",
  "eu-north-1": "897822967062",
  "me-south-1": "076674570225",
  "sa-east-1": "507241528517",
  "us-gov-west-1": "048591011584",
  "us-gov-east-1": "190560391635",
  "cn-north-1": "638102146993",
  "cn-northwest-1": "037604701340",
};

/** The service principal of regions opened in or after August 2022. */
export const ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com";

/** Regions available as of August 2022 or later: they deliver as ELB_LOG_DELIVERY_SERVICE. */
export const ELB_LOG_SERVICE_REGIONS: readonly string[] = [
  "ap-south-2",
  "ap-southeast-4",
  "ap-southeast-5",
  "ap-southeast-7",
  "ca-west-1",
  "eu-central-2",
  "eu-south-2",
  "il-central-1",
  "me-central-1",
  "mx-central-1",
];

/** The principal of an access-log bucket policy's write statement. */
export interface LogDeliveryPrincipal {
  readonly type: "AWS" | "Service";
  readonly identifiers: string[];
}

/** The principal that writes ALB access logs in `region`, or undefined when the table lacks the region. */
export function elbLogDeliveryPrincipal(region: string, partition: string): LogDeliveryPrincipal | undefined {
  const account = ELB_LOG_ACCOUNTS[region];
  if (account) return { type: "AWS", identifiers: [`arn:${partition}:iam::${account}:root`] };
  if (ELB_LOG_SERVICE_REGIONS.includes(region)) return { type: "Service", identifiers: [ELB_LOG_DELIVERY_SERVICE] };
  return undefined;
}
