import { Construct } from "constructs";
import { Fn } from "cdktf";
import { Password } from "@cdktf/provider-random/lib/password";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";

export interface AppSecretProps {
  /** `accessweaver/<env>/<kind>` (naming.ts). */
  readonly name: string;
  readonly description: string;
  /** The environment's key: never the account's default `aws/secretsmanager` key. */
  readonly kmsKeyArn: string;
  /** Days a deleted secret can still be restored (7 to 30). */
  readonly recoveryWindowDays: number;
  /**
   * Terraform refuses to destroy the secret (prod, staging): a destroy would schedule its deletion.
   * @default false
   */
  readonly preventDestroy?: boolean;
  /**
   * The JSON document the services read. Secret parts are references (a `random_password` result, an
   * ARN), never literals: Terraform writes them to the secret at apply time.
   */
  readonly value: Readonly<Record<string, string | number | boolean>>;
}

/** One application secret in Secrets Manager: encrypted with the key, a JSON value, a recovery window. */
export class AppSecret extends Construct {
  readonly secret: SecretsmanagerSecret;
  readonly arn: string;

  constructor(scope: Construct, id: string, props: AppSecretProps) {
    super(scope, id);
    if (props.recoveryWindowDays < 7 || props.recoveryWindowDays > 30) {
      throw new Error(`${props.name}: recovery window ${props.recoveryWindowDays} days; Secrets Manager accepts 7 to 30 (0 would delete at once).`);
    }
    this.secret = new SecretsmanagerSecret(this, "secret", {
      name: props.name,
      description: props.description,
      kmsKeyId: props.kmsKeyArn,
      recoveryWindowInDays: props.recoveryWindowDays,
      lifecycle: { preventDestroy: props.preventDestroy ?? false },
    });
    new SecretsmanagerSecretVersion(this, "value", { secretId: this.secret.id, secretString: Fn.jsonencode(props.value) });
    this.arn = this.secret.arn;
  }
}

export interface GeneratedSecretProps {
  readonly length: number;
  /**
   * Non-alphanumeric characters it may contain; none keeps it safe in URLs, shells and every client.
   * @default "" (letters and digits only)
   */
  readonly specialCharacters?: string;
}

/**
 * A random secret made by Terraform (`random_password`): it exists only in the state (encrypted in the
 * state bucket) and in the secret it is written to, never in the configuration. At least one upper-case
 * letter, one lower-case letter and one digit.
 */
export function generatedSecret(scope: Construct, id: string, props: GeneratedSecretProps): Password {
  const special = props.specialCharacters ?? "";
  return new Password(scope, id, {
    length: props.length,
    special: special.length > 0,
    ...(special.length > 0 ? { overrideSpecial: special } : {}),
    minUpper: 1,
    minLower: 1,
    minNumeric: 1,
  });
}
