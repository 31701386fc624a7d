#!/usr/bin/env bash
# setup-backend.sh — bootstrap the Terraform state backend of one environment (guide, Étape 1).
#
# Usage: scripts/setup-backend.sh <env> <region> [--dry-run]
#   env      dev | staging | prod
#   region   an AWS region, e.g. eu-west-1
#   --dry-run  (anywhere) print every call that would change something, change nothing
#
# What it ensures, idempotently (every setting is read first and written only if it differs;
# the bucket's six settings are all read, then the differing ones written, in this order):
#   S3 bucket  accessweaver-terraform-state-<env>-<account id>
#     versioning Enabled; default encryption SSE-KMS with the AWS-managed key and S3 Bucket Keys
#     (a bucket already on aws:kms with Bucket Keys but a customer-managed key is left as it is);
#     all four public access blocks on; a policy statement "DenyInsecureTransport" denying any
#     request without TLS (added to an existing policy, never replacing it); a lifecycle rule
#     "terraform-state-retention" (noncurrent versions expire after 365 days, the 3 newest are
#     kept; incomplete multipart uploads aborted after 7 days; other rules are kept); tags
#     Project=AccessWeaver, Environment=<env>, ManagedBy=setup-backend (other tags are kept).
#   DynamoDB table  accessweaver-terraform-locks-<env>
#     key LockID (S), on-demand, SSE-KMS, the same tags, deletion protection (set at creation,
#     or turned on later if off); point-in-time recovery on.
# Then it verifies as the guide does (aws s3 ls s3://<bucket>; describe-table is ACTIVE) and
# prints the values of the S3 backend block every stack of the environment uses.
#
# Each step prints one line: created | updated | unchanged (in a dry run: would create |
# would update | unchanged). The last line is the summary; on a complete backend it reads
# "Backend already up to date: nothing changed."
#
# AWS access: the aws CLI with the caller's own credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID,
# SSO, ...); this script sets none, and passes --region <region> on every call.
# The account id comes from `aws sts get-caller-identity`.
#
# Dry run: read-only calls still run (sts get-caller-identity for the account id, head-bucket,
# get-*, describe-*), so the plan it prints is the real one for an existing backend. Calls that
# would change something are printed as "[dry-run] aws ..." and not made; the wait and the final
# verification are printed the same way. When the bucket or table does not exist yet, its
# settings cannot be read, so every settings call for it is listed (the real run then skips those
# that AWS's defaults already satisfy, e.g. public access block on a new bucket).
#
# JSON is parsed with node (always present here), not jq.
# Exit codes: 0 done; 1 an AWS call failed or the result is not what was expected;
#             2 bad arguments (refused before any aws call).
set -euo pipefail

readonly PROG="setup-backend"
readonly USAGE="usage: $0 <env> <region> [--dry-run]    env: dev|staging|prod, region: e.g. eu-west-1"
readonly REGION_PATTERN='^[a-z]{2}(-gov)?-[a-z]+-[0-9]+$'

refuse() {
  printf '%s: %s\n%s\n' "$PROG" "$1" "$USAGE" >&2
  exit 2
}

die() {
  printf '%s: %s\n' "$PROG" "$1" >&2
  exit 1
}

# ---- arguments ----------------------------------------------------------------------------
DRY_RUN=false
positional=()
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=true ;;
    -h | --help)
      printf '%s\n' "$USAGE"
      exit 0
      ;;
    -*) refuse "unknown option '$arg': the only option is --dry-run." ;;
    *) positional+=("$arg") ;;
  esac
done

case ${#positional[@]} in
  0) refuse "missing arguments: found none, expected <env> and <region>." ;;
  1) refuse "missing argument <region>: found only '${positional[0]}', expected <env> and <region>." ;;
  2) ;;
  *) refuse "too many arguments: found ${#positional[@]} (${positional[*]}), expected <env> and <region>." ;;
esac

# Names come from src/naming.ts, as the stacks' backend blocks do (scripts/backend-names.ts).
PROJECT_ROOT=$(cd "$(dirname "$0")/.." && pwd)
command -v node >/dev/null 2>&1 || die "node is not on PATH: it is needed for the names (src/naming.ts) and to read the CLI's JSON."
[[ -f $PROJECT_ROOT/node_modules/sucrase/package.json ]] ||
  die "the project's dependencies are not installed ($PROJECT_ROOT/node_modules): run 'make install' (npm ci) first."
NAMES=$(node -r "$PROJECT_ROOT/scripts/register.js" "$PROJECT_ROOT/scripts/backend-names.ts") ||
  die "could not read the backend names from src/naming.ts (scripts/backend-names.ts failed)."
eval "$NAMES"

ENV_NAME=${positional[0]}
REGION=${positional[1]}
[[ " $ENVIRONMENTS " == *" $ENV_NAME "* && $ENV_NAME =~ ^[a-z]+$ ]] ||
  refuse "unknown environment '$ENV_NAME': expected one of ${ENVIRONMENTS// /, }."
[[ $REGION =~ $REGION_PATTERN ]] ||
  refuse "malformed region '$REGION': expected an AWS region such as eu-west-1 (pattern $REGION_PATTERN)."

# The operator's settings, when they exist, must describe the same environment: a backend created in
# the wrong account or region would leave make init failing later, far from the cause.
SETTINGS="${ACCESSWEAVER_SETTINGS_ROOT:-$PROJECT_ROOT}/environments/$ENV_NAME/terraform.tfvars"
setting() { sed -nE "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"([^\"]*)\".*/\\1/p" "$SETTINGS" 2>/dev/null | tail -n 1; }
SETTINGS_ACCOUNT="" SETTINGS_REGION=""
if [[ -f $SETTINGS ]]; then
  SETTINGS_ACCOUNT=$(setting aws_account_id)
  SETTINGS_REGION=$(setting aws_region)
  [[ -z $SETTINGS_REGION || $SETTINGS_REGION == "$REGION" ]] ||
    refuse "region '$REGION' differs from aws_region = \"$SETTINGS_REGION\" in $SETTINGS: expected the environment's own region."
fi

command -v aws >/dev/null 2>&1 || die "the aws CLI is not on PATH: install AWS CLI v2 and configure credentials (e.g. AWS_PROFILE)."

case "$REGION" in
  cn-*) PARTITION=aws-cn ;;
  us-gov-*) PARTITION=aws-us-gov ;;
  *) PARTITION=aws ;;
esac

table_var="LOCK_TABLE_$ENV_NAME" bucket_var="STATE_BUCKET_$ENV_NAME"
TABLE=${!table_var}
LIFECYCLE_RULE_ID="terraform-state-retention"
POLICY_SID="DenyInsecureTransport"

TMP_DIR=$(mktemp -d)
trap 'rm -rf "$TMP_DIR"' EXIT

# ---- helpers ------------------------------------------------------------------------------
# quote ARG: ARG as one shell word (for printing commands).
quote() {
  if [[ -n $1 && $1 =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then printf '%s' "$1"; else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}
show_cmd() {
  local out="aws" a
  for a in "$@"; do out+=" $(quote "$a")"; done
  printf '%s' "$out"
}

# aws_run ARGS...: aws ARGS --region REGION; sets AWS_OUT, AWS_ERR, AWS_RC; never fails.
AWS_OUT="" AWS_ERR="" AWS_RC=0
aws_run() {
  AWS_RC=0
  AWS_OUT=$(aws "$@" --region "$REGION" 2>"$TMP_DIR/stderr" </dev/null) || AWS_RC=$?
  AWS_ERR=$(<"$TMP_DIR/stderr")
}

aws_die() {
  local err=${AWS_ERR#"${AWS_ERR%%[![:space:]]*}"}
  die "$1: '$(show_cmd "${@:2}" --region "$REGION")' failed (exit $AWS_RC): ${err:-no message}
The steps above this one are done, nothing after it was tried; fix the cause and run the script again (it only changes what is missing)."
}

# aws_read ABSENT_CODE WHAT ARGS...: a read-only call. 0 with AWS_OUT when it answered;
# 1 when it failed with the error code ABSENT_CODE (the thing does not exist); dies otherwise.
aws_read() {
  local absent=$1 what=$2
  shift 2
  aws_run "$@"
  ((AWS_RC == 0)) && return 0
  [[ -n $absent && $AWS_ERR == *"($absent)"* ]] && return 1
  aws_die "cannot read $what" "$@"
}

# aws_change WHAT ARGS...: a call that changes something; only printed in a dry run.
aws_change() {
  local what=$1
  shift
  if $DRY_RUN; then
    printf '[dry-run] %s\n' "$(show_cmd "$@" --region "$REGION")"
    return 0
  fi
  aws_run "$@"
  ((AWS_RC == 0)) || aws_die "cannot $what" "$@"
}

CREATED=0 UPDATED=0 UNCHANGED=0
created() {
  CREATED=$((CREATED + 1))
  if $DRY_RUN; then printf 'would create %s\n' "$1"; else printf 'created   %s\n' "$1"; fi
}
updated() {
  UPDATED=$((UPDATED + 1))
  if $DRY_RUN; then printf 'would update %s\n' "$1"; else printf 'updated   %s\n' "$1"; fi
}
unchanged() {
  UNCHANGED=$((UNCHANGED + 1))
  printf 'unchanged %s\n' "$1"
}

# ---- account ------------------------------------------------------------------------------
aws_read "" "the AWS account id (check AWS_PROFILE / credentials)" sts get-caller-identity --query Account --output text
ACCOUNT=${AWS_OUT//[[:space:]]/}
[[ $ACCOUNT =~ ^[0-9]{12}$ ]] || die "unexpected account id from 'aws sts get-caller-identity': '$AWS_OUT'"
[[ -z $SETTINGS_ACCOUNT || $SETTINGS_ACCOUNT == "$ACCOUNT" ]] ||
  die "these credentials are for account $ACCOUNT, but $SETTINGS says aws_account_id = \"$SETTINGS_ACCOUNT\": check AWS_PROFILE; nothing was changed."
BUCKET=${!bucket_var//\{account\}/$ACCOUNT}
note=""
$DRY_RUN && note=" (dry run: nothing will be changed)"
printf 'Terraform backend of %s in %s, account %s%s\n' "$ENV_NAME" "$REGION" "$ACCOUNT" "$note"

# ---- bucket -------------------------------------------------------------------------------
BUCKET_NEW=false
aws_run s3api head-bucket --bucket "$BUCKET" --output json
if ((AWS_RC == 0)); then
  if [[ $AWS_OUT =~ \"BucketRegion\"[[:space:]]*:[[:space:]]*\"([a-z0-9-]+)\" && ${BASH_REMATCH[1]} != "$REGION" ]]; then
    die "bucket $BUCKET already exists in ${BASH_REMATCH[1]}, not $REGION: run again with region ${BASH_REMATCH[1]} (the backend lives where its bucket is)."
  fi
  unchanged "bucket $BUCKET (exists)"
elif [[ $AWS_ERR == *"(404)"* || $AWS_ERR == *"(NoSuchBucket)"* ]]; then
  if [[ $REGION == us-east-1 ]]; then
    aws_change "create bucket $BUCKET" s3api create-bucket --bucket "$BUCKET"
  else
    aws_change "create bucket $BUCKET" s3api create-bucket --bucket "$BUCKET" \
      --create-bucket-configuration "LocationConstraint=$REGION"
  fi
  BUCKET_NEW=true
  created "bucket $BUCKET in $REGION"
elif [[ $AWS_ERR == *"(403)"* || $AWS_ERR == *"(AccessDenied)"* ]]; then
  die "bucket $BUCKET exists but account $ACCOUNT cannot access it (HTTP 403): bucket names are global, so it is probably owned by another account, or these credentials lack s3:ListBucket on it. Check AWS_PROFILE; nothing was changed."
else
  aws_die "cannot check bucket $BUCKET" s3api head-bucket --bucket "$BUCKET" --output json
fi

# Bucket settings: read them all, decide in one node process (JSON), then write only what differs.
# read_setting VAR ABSENT_CODE ARGS...: VAR gets the CLI's answer, or stays empty when the setting
# is absent (or when a dry run did not create the bucket, so there is nothing to read).
read_setting() {
  local var=$1 absent=$2
  shift 2
  printf -v "$var" '%s' ""
  if $DRY_RUN && $BUCKET_NEW; then return 0; fi
  if aws_read "$absent" "$var of $BUCKET" "$@"; then printf -v "$var" '%s' "$AWS_OUT"; fi
}
read_setting VERSIONING "" s3api get-bucket-versioning --bucket "$BUCKET" --query Status --output text
read_setting ENCRYPTION ServerSideEncryptionConfigurationNotFoundError s3api get-bucket-encryption --bucket "$BUCKET" --output json
read_setting PUBLIC_ACCESS_BLOCK NoSuchPublicAccessBlockConfiguration s3api get-public-access-block --bucket "$BUCKET" --output json
read_setting POLICY NoSuchBucketPolicy s3api get-bucket-policy --bucket "$BUCKET" --query Policy --output text
read_setting LIFECYCLE NoSuchLifecycleConfiguration s3api get-bucket-lifecycle-configuration --bucket "$BUCKET" --output json
read_setting TAGGING NoSuchTagSet s3api get-bucket-tagging --bucket "$BUCKET" --output json

# One line per setting: name <TAB> ok|put <TAB> description <TAB> payload (compact JSON, or -).
# shellcheck disable=SC2016 # JavaScript, not shell
DECISIONS=$(
  VERSIONING=$VERSIONING ENCRYPTION=$ENCRYPTION PUBLIC_ACCESS_BLOCK=$PUBLIC_ACCESS_BLOCK POLICY=$POLICY \
    LIFECYCLE=$LIFECYCLE TAGGING=$TAGGING BUCKET=$BUCKET PARTITION=$PARTITION ENV_NAME=$ENV_NAME PROJECT_TAG=$PROJECT_TAG \
    POLICY_SID=$POLICY_SID LIFECYCLE_RULE_ID=$LIFECYCLE_RULE_ID node -e '
const e = process.env;
const read = (name) => { try { return e[name] ? JSON.parse(e[name]) : null; }
  catch (err) { throw new Error(`cannot parse the ${name} returned by the aws CLI: ${e[name]}`); } };
const out = [];
const say = (name, ok, desc, payload) => out.push([name, ok ? "ok" : "put", desc, payload ? JSON.stringify(payload) : "-"].join("\t"));

const versioning = (e.VERSIONING || "").trim() || "None";
say("versioning", versioning === "Enabled", versioning);

const rule = ((read("ENCRYPTION") || {}).ServerSideEncryptionConfiguration || {}).Rules?.[0] || {};
const sse = rule.ApplyServerSideEncryptionByDefault || {};
say("encryption", sse.SSEAlgorithm === "aws:kms" && rule.BucketKeyEnabled === true,
  `${sse.SSEAlgorithm || "none"}${sse.KMSMasterKeyID ? " key " + sse.KMSMasterKeyID : ""}, bucket key ${rule.BucketKeyEnabled ? "on" : "off"}`,
  { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms" }, BucketKeyEnabled: true }] });

const pab = (read("PUBLIC_ACCESS_BLOCK") || {}).PublicAccessBlockConfiguration || {};
const off = ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"].filter((k) => pab[k] !== true);
say("public-access-block", off.length === 0, off.length === 0 ? "all four on" : `off: ${off.join(", ")}`);

const arn = `arn:${e.PARTITION}:s3:::${e.BUCKET}`;
const statement = { Sid: e.POLICY_SID, Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [arn, `${arn}/*`],
  Condition: { Bool: { "aws:SecureTransport": "false" } } };
const policy = read("POLICY");
const statements = policy ? [].concat(policy.Statement || []) : [];
const hasSid = statements.some((s) => s.Sid === e.POLICY_SID);
say("policy", hasSid, policy ? `${statements.length} statement(s)${hasSid ? ", " + e.POLICY_SID + " among them" : ""}` : "none",
  hasSid ? null : { ...(policy || { Version: "2012-10-17" }), Statement: [...statements, statement] });

const wantRule = { ID: e.LIFECYCLE_RULE_ID, Status: "Enabled", Filter: { Prefix: "" },
  NoncurrentVersionExpiration: { NoncurrentDays: 365, NewerNoncurrentVersions: 3 },
  AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } };
const rules = (read("LIFECYCLE") || {}).Rules || [];
const mine = rules.find((r) => r.ID === wantRule.ID);
say("lifecycle", mine?.Status === "Enabled", mine ? `rule ${mine.ID} ${mine.Status}` : rules.length ? `${rules.length} other rule(s)` : "none",
  mine?.Status === "Enabled" ? null : { Rules: [...rules.filter((r) => r.ID !== wantRule.ID), wantRule] });

const want = [["Project", e.PROJECT_TAG], ["Environment", e.ENV_NAME], ["ManagedBy", "setup-backend"]].map(([Key, Value]) => ({ Key, Value }));
const have = (read("TAGGING") || {}).TagSet || [];
const missing = want.filter((w) => !have.some((h) => h.Key === w.Key && h.Value === w.Value));
say("tags", missing.length === 0, missing.length === 0 ? "Project, Environment, ManagedBy set" : `missing or different: ${missing.map((m) => m.Key).join(", ")}`,
  missing.length === 0 ? null : { TagSet: [...have.filter((h) => !want.some((w) => w.Key === h.Key)), ...want] });

console.log(out.join("\n"));
'
) || die "could not work out the bucket settings from the aws CLI's answers (see above)."

while IFS=$'\t' read -r name verdict desc payload; do
  case "$name:$verdict" in
    versioning:ok) unchanged "versioning of $BUCKET: Enabled" ;;
    versioning:put)
      aws_change "enable versioning on $BUCKET" s3api put-bucket-versioning --bucket "$BUCKET" \
        --versioning-configuration Status=Enabled
      updated "versioning of $BUCKET: Enabled (was $desc)"
      ;;
    encryption:ok) unchanged "default encryption of $BUCKET: $desc" ;;
    encryption:put)
      aws_change "set the default encryption of $BUCKET" s3api put-bucket-encryption --bucket "$BUCKET" \
        --server-side-encryption-configuration "$payload"
      updated "default encryption of $BUCKET: aws:kms with the AWS-managed key, bucket key on (was $desc)"
      ;;
    public-access-block:ok) unchanged "public access block of $BUCKET: $desc" ;;
    public-access-block:put)
      aws_change "block public access to $BUCKET" s3api put-public-access-block --bucket "$BUCKET" \
        --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
      updated "public access block of $BUCKET: all four on (was $desc)"
      ;;
    policy:ok) unchanged "policy of $BUCKET: $desc" ;;
    policy:put)
      aws_change "set the policy of $BUCKET" s3api put-bucket-policy --bucket "$BUCKET" --policy "$payload"
      updated "policy of $BUCKET: $POLICY_SID added, denying requests without TLS (was $desc)"
      ;;
    lifecycle:ok) unchanged "lifecycle of $BUCKET: $desc" ;;
    lifecycle:put)
      aws_change "set the lifecycle of $BUCKET" s3api put-bucket-lifecycle-configuration --bucket "$BUCKET" \
        --lifecycle-configuration "$payload"
      updated "lifecycle of $BUCKET: rule $LIFECYCLE_RULE_ID, noncurrent versions expire after 365 days, incomplete uploads aborted after 7 (was $desc)"
      ;;
    tags:ok) unchanged "tags of $BUCKET: $desc" ;;
    tags:put)
      aws_change "tag $BUCKET" s3api put-bucket-tagging --bucket "$BUCKET" --tagging "$payload"
      updated "tags of $BUCKET: Project=$PROJECT_TAG, Environment=$ENV_NAME, ManagedBy=setup-backend ($desc)"
      ;;
    *) die "internal error: unexpected decision '$name $verdict'" ;;
  esac
done <<<"$DECISIONS"

# ---- lock table ---------------------------------------------------------------------------
TABLE_NEW=false
if aws_read ResourceNotFoundException "lock table $TABLE" \
  dynamodb describe-table --table-name "$TABLE" --query 'Table.[TableStatus,DeletionProtectionEnabled]' --output text; then
  read -r TABLE_STATUS DELETION_PROTECTION <<<"$AWS_OUT" || true
  unchanged "lock table $TABLE (exists, $TABLE_STATUS)"
else
  aws_change "create lock table $TABLE" dynamodb create-table --table-name "$TABLE" \
    --attribute-definitions AttributeName=LockID,AttributeType=S \
    --key-schema AttributeName=LockID,KeyType=HASH \
    --billing-mode PAY_PER_REQUEST \
    --sse-specification Enabled=true,SSEType=KMS \
    --deletion-protection-enabled \
    --tags "Key=Project,Value=$PROJECT_TAG" "Key=Environment,Value=$ENV_NAME" Key=ManagedBy,Value=setup-backend
  TABLE_NEW=true
  TABLE_STATUS=CREATING DELETION_PROTECTION=True
  created "lock table $TABLE (LockID, on demand, SSE-KMS, deletion protection on)"
fi

if [[ $TABLE_STATUS != ACTIVE ]]; then
  if $DRY_RUN && $TABLE_NEW; then
    printf '[dry-run] %s\n' "$(show_cmd dynamodb wait table-exists --table-name "$TABLE" --region "$REGION")"
  else
    aws_read "" "lock table $TABLE (waiting for it)" dynamodb wait table-exists --table-name "$TABLE"
  fi
fi

# point-in-time recovery
if $DRY_RUN && $TABLE_NEW; then
  current=DISABLED
else
  aws_read "" "the backups of $TABLE" dynamodb describe-continuous-backups --table-name "$TABLE" \
    --query ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus --output text
  current=${AWS_OUT//[[:space:]]/}
fi
if [[ $current == ENABLED ]]; then
  unchanged "point-in-time recovery of $TABLE: enabled"
else
  aws_change "enable point-in-time recovery on $TABLE" dynamodb update-continuous-backups --table-name "$TABLE" \
    --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true
  updated "point-in-time recovery of $TABLE: enabled (was ${current:-unknown})"
fi

# deletion protection (a table this run created already has it)
if ! $TABLE_NEW; then
  if [[ $DELETION_PROTECTION == True ]]; then
    unchanged "deletion protection of $TABLE: on"
  else
    aws_change "turn on deletion protection of $TABLE" dynamodb update-table --table-name "$TABLE" --deletion-protection-enabled
    updated "deletion protection of $TABLE: on (was off)"
  fi
fi

# ---- verification (as in the guide) --------------------------------------------------------
if $DRY_RUN; then
  printf '[dry-run] %s\n' "$(show_cmd s3 ls "s3://$BUCKET" --region "$REGION")"
  printf '[dry-run] %s\n' "$(show_cmd dynamodb describe-table --table-name "$TABLE" --query Table.TableStatus --output text --region "$REGION")"
else
  aws_read "" "verification: bucket $BUCKET" s3 ls "s3://$BUCKET" >/dev/null
  printf 'verified  s3://%s is reachable\n' "$BUCKET"
  aws_read "" "verification: lock table $TABLE" dynamodb describe-table --table-name "$TABLE" --query Table.TableStatus --output text
  status=${AWS_OUT//[[:space:]]/}
  [[ $status == ACTIVE ]] || die "verification failed: lock table $TABLE is $status, expected ACTIVE."
  printf 'verified  lock table %s is ACTIVE\n' "$TABLE"
fi

cat <<EOF

S3 backend of every $ENV_NAME stack (each stack has its own key):
  bucket         = "$BUCKET"
  dynamodb_table = "$TABLE"
  region         = "$REGION"
  encrypt        = true

EOF

if $DRY_RUN; then
  if ((CREATED + UPDATED == 0)); then
    printf 'Dry run: backend already up to date: nothing to change.\n'
  else
    printf 'Dry run: %d to create, %d to update, %d unchanged; nothing was changed.\n' "$CREATED" "$UPDATED" "$UNCHANGED"
  fi
elif ((CREATED + UPDATED == 0)); then
  printf 'Backend already up to date: nothing changed.\n'
else
  printf 'Summary: %d created, %d updated, %d unchanged.\n' "$CREATED" "$UPDATED" "$UNCHANGED"
fi
