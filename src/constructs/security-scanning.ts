import { Construct } from "constructs";
import { GuarddutyDetector } from "@cdktf/provider-aws/lib/guardduty-detector";
import { Inspector2Enabler } from "@cdktf/provider-aws/lib/inspector2-enabler";
import { SecurityhubAccount } from "@cdktf/provider-aws/lib/securityhub-account";
import { SecurityhubStandardsSubscription } from "@cdktf/provider-aws/lib/securityhub-standards-subscription";

export interface SecurityScanningProps {
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  /**
   * Inspector scans this account's ECR images and EC2 instances (the guide's `aws inspector2 enable`).
   * @default true
   */
  readonly inspector?: boolean;
  /** A GuardDuty detector in this account and region. @default false: often managed centrally */
  readonly guardduty?: boolean;
  /** Security Hub with the AWS Foundational Security Best Practices standard. @default false: often managed centrally */
  readonly securityHub?: boolean;
}

/** What Inspector scans: container images in ECR (the services' images) and EC2 instances. */
export const INSPECTOR_RESOURCE_TYPES = ["ECR", "EC2"] as const;
/**
 * How long Terraform waits for Inspector to report the scans enabled: the provider's 5-minute default is
 * often too short (hashicorp/terraform-provider-aws#30144), and a timeout taints the enabler.
 */
export const INSPECTOR_CREATE_TIMEOUT = "15m";
/** The AWS Foundational Security Best Practices standard, version 1.0.0. */
export const FSBP_STANDARD = "standards/aws-foundational-security-best-practices/v/1.0.0";

/** The guide's "Security Scanning": Inspector, and GuardDuty and Security Hub where the account does not get them centrally. */
export class SecurityScanning extends Construct {
  readonly inspector?: Inspector2Enabler;
  readonly detector?: GuarddutyDetector;
  readonly securityHub?: SecurityhubAccount;

  constructor(scope: Construct, id: string, props: SecurityScanningProps) {
    super(scope, id);
    if (props.inspector ?? true) {
      this.inspector = new Inspector2Enabler(this, "inspector", {
        accountIds: [props.accountId],
        resourceTypes: [...INSPECTOR_RESOURCE_TYPES],
        timeouts: { create: INSPECTOR_CREATE_TIMEOUT },
      });
    }
    if (props.guardduty) {
      this.detector = new GuarddutyDetector(this, "guardduty", { enable: true, findingPublishingFrequency: "FIFTEEN_MINUTES" });
    }
    if (props.securityHub) {
      // The default standards are off: the one this project names is subscribed explicitly, so a plan shows it.
      this.securityHub = new SecurityhubAccount(this, "security-hub", { enableDefaultStandards: false, autoEnableControls: true });
      new SecurityhubStandardsSubscription(this, "fsbp", {
        standardsArn: `arn:${props.partition}:securityhub:${props.region}::${FSBP_STANDARD}`,
        dependsOn: [this.securityHub],
      });
    }
  }
}
