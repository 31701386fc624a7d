import { Construct } from "constructs";
import { Fn, TerraformStack, Token, ref } from "cdktf";
import { Password } from "@cdktf/provider-random/lib/password";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";

export interface AppSecretProps {
  /** `accessweaver/<env>/<kind>` (naming.ts). */
  readonly name: string;
  readonly description: string;
  /** The environment's key: never the account's default `aws/secretsmanager` key. */
  readonly kmsKeyArn: string;
  /** Days a deleted secret can still be restored (7 to 30), or 0: deleted at once (a restore drill's). */
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
  /**
   * Write the value as a write-only argument (`secret_string_wo`, Terraform 1.11): it is sent to Secrets
   * Manager and never stored in the state. Terraform writes it again only when this number changes.
   * @default undefined: `secret_string`, kept in the state like every argument
   */
  readonly writeOnlyVersion?: number;
  /**
   * Keep a replica in another region, encrypted with that region's key (Secrets Manager replication: the
   * replica follows every new version, rotations included).
   * @default no replica
   */
  readonly replica?: { readonly region: string; readonly kmsKeyArn: string };
}

/** One application secret in Secrets Manager: encrypted with the key, a JSON value, a recovery window. */
export class AppSecret extends Construct {
  readonly secret: SecretsmanagerSecret;
  readonly arn: string;

  constructor(scope: Construct, id: string, props: AppSecretProps) {
    super(scope, id);
    if (props.recoveryWindowDays !== 0 && (props.recoveryWindowDays < 7 || props.recoveryWindowDays > 30)) {
      throw new Error(`${props.name}: recovery window ${props.recoveryWindowDays} days; Secrets Manager accepts 7 to 30, or 0 to delete at once (a drill's).`);
    }
    this.secret = new SecretsmanagerSecret(this, "secret", {
      name: props.name,
      description: props.description,
      kmsKeyId: props.kmsKeyArn,
      recoveryWindowInDays: props.recoveryWindowDays,
      ...(props.replica ? { replica: [{ region: props.replica.region, kmsKeyId: props.replica.kmsKeyArn }] } : {}),
      lifecycle: { preventDestroy: props.preventDestroy ?? false },
    });
    const value = Fn.jsonencode(props.value);
    new SecretsmanagerSecretVersion(
      this,
      "value",
      props.writeOnlyVersion === undefined
        ? { secretId: this.secret.id, secretString: value }
        : { secretId: this.secret.id, secretStringWo: value, secretStringWoVersion: props.writeOnlyVersion },
    );
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

/**
 * A random secret that Terraform never stores: Secrets Manager's `GetRandomPassword`, read through the
 * ephemeral resource `aws_secretsmanager_random_password` (provider 5.x, Terraform 1.10+) at each plan and
 * apply. Its value may only reach a write-only argument (`AppSecret`'s `writeOnlyVersion`), which writes it
 * once per version. Letters and digits only (no punctuation), at least one of each kind.
 * cdktf 0.21 has no binding for ephemeral resources: the block is added to the stack's JSON as written.
 */
export function ephemeralSecret(scope: Construct, id: string, props: { readonly length: number }): string {
  const stack = TerraformStack.of(scope);
  stack.addOverride(`ephemeral.${EPHEMERAL_PASSWORD}.${id}`, { password_length: props.length, exclude_punctuation: true, require_each_included_type: true });
  return Token.asString(ref(`ephemeral.${EPHEMERAL_PASSWORD}.${id}.random_password`, stack));
}

/** The ephemeral resource type of `ephemeralSecret`. */
export const EPHEMERAL_PASSWORD = "aws_secretsmanager_random_password";
