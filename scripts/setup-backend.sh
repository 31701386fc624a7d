#!/usr/bin/env bash
# setup-backend.sh — bootstrap the Terraform state backend of one environment (guide, Étape 1) and,
# for an environment with a DR region, its DR backend and the replication of its state there.
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
#
# The DR region: dr_region in environments/<env>/terraform.tfvars; without it, prod's default
# (eu-central-1, src/config/dr-regions.ts) and none for staging and dev. It must be another region
# than <region>, of the EU/EEA (EU_DR_REGIONS); dev refuses one (it has no recovery phase). With a
# DR region, it also ensures:
#   the DR backend, in the DR region: bucket accessweaver-terraform-state-<env>-dr-<account id> and
#     lock table accessweaver-terraform-locks-<env> (the primary's name: tables are regional), with
#     every setting above. The recovery phase keeps its state there (<env>/recovery/terraform.tfstate);
#     the other phases' state files arrive there as replicas.
#   IAM role accessweaver-terraform-state-replication-<env> (created with the same tags): only S3 may
#     assume it (no aws:SourceArn condition: S3's documented replication trust has none, and one S3 did
#     not send would stop the replication; who may hand S3 the role is iam:PassRole's); its inline policy
#     "terraform-state-replication" reads the primary bucket's versions, writes replicas into the DR
#     bucket and uses the aws/s3 key of each region through S3 only.
#   S3 replication of the primary bucket to the DR bucket, one rule "terraform-state-to-dr-region":
#     every object (SSE-KMS ones included), delete markers not replicated, replicas encrypted with
#     the DR region's aws/s3 key, storage class STANDARD; both buckets are versioned first. A
#     replication configuration with other rules is never replaced: the script stops before
#     changing anything and names the rules it found.
# Then it verifies as the guide does (aws s3 ls s3://<bucket>; describe-table is ACTIVE), for each
# backend, and prints the values of the S3 backend blocks the environment's stacks use.
#
# Each step prints one line: created | updated | unchanged (in a dry run: would create |
# would update | unchanged). The last line is the summary; on a complete backend it reads
# "Backend already up to date: nothing changed."
#
# AWS access: the aws CLI with the caller's own credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID,
# SSO, ...); this script sets none, and passes --region on every call: <region>, the DR region for
# the DR backend, and <region> for IAM (a global service, which accepts any region).
# The account id comes from `aws sts get-caller-identity`.
#
# Dry run: read-only calls still run (sts get-caller-identity for the account id, head-bucket,
# get-*, describe-*), so the plan it prints is the real one for an existing backend. Calls that
# would change something are printed as "[dry-run] aws ..." and not made; the wait and the final
# verification are printed the same way. When a bucket or table does not exist yet, its
# settings cannot be read, so every settings call for it is listed (the real run then skips those
# that AWS's defaults already satisfy, e.g. public access block on a new bucket).
#
# JSON is parsed with node (always present here), not jq.
# Exit codes: 0 done; 1 an AWS call failed, the result is not what was expected, or a replication
#             configuration of someone else's is in the way; 2 bad arguments or settings (refused
#             before any aws call).
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
SETTINGS_ACCOUNT="" SETTINGS_REGION="" SETTINGS_DR_REGION=""
if [[ -f $SETTINGS ]]; then
  SETTINGS_ACCOUNT=$(setting aws_account_id)
  SETTINGS_REGION=$(setting aws_region)
  SETTINGS_DR_REGION=$(setting dr_region)
  [[ -z $SETTINGS_REGION || $SETTINGS_REGION == "$REGION" ]] ||
    refuse "region '$REGION' differs from aws_region = \"$SETTINGS_REGION\" in $SETTINGS: expected the environment's own region."
fi

case "$REGION" in
  cn-*) PARTITION=aws-cn ;;
  us-gov-*) PARTITION=aws-us-gov ;;
  *) PARTITION=aws ;;
esac

# The DR region, checked as the synth checks dr_region (src/config/settings.ts), so that the backend
# of the recovery phase is where its stack will look for it.
dr_default_var="DR_DEFAULT_REGION_$ENV_NAME"
DR_REGION=${SETTINGS_DR_REGION:-${!dr_default_var:-}}
if [[ -n $SETTINGS_DR_REGION ]]; then
  DR_FROM="dr_region = \"$SETTINGS_DR_REGION\" in $SETTINGS"
elif [[ -f $SETTINGS ]]; then
  DR_FROM="$ENV_NAME's default DR region $DR_REGION ($SETTINGS sets no dr_region)"
else
  DR_FROM="$ENV_NAME's default DR region $DR_REGION (no $SETTINGS)"
fi
if [[ $ENV_NAME == dev && -n $DR_REGION ]]; then
  refuse "$DR_FROM: expected no dr_region in dev: dev has no recovery phase (it is rebuilt from the code, not restored)."
elif [[ -n $DR_REGION && $DR_REGION == "$REGION" ]]; then
  refuse "$DR_FROM: expected a DR region other than the environment's region $REGION (copies in the primary region are lost with it); set dr_region in $SETTINGS."
elif [[ -n $DR_REGION && " $DR_REGIONS " != *" $DR_REGION "* ]]; then
  refuse "$DR_FROM: found '$DR_REGION', expected a region of the EU/EEA (RGPD): ${DR_REGIONS// /, }."
elif [[ -n $DR_REGION && $PARTITION != aws ]]; then
  refuse "$DR_FROM: $REGION is in partition $PARTITION and the DR region in aws, and S3 does not replicate across partitions: expected an environment region of partition aws, or no dr_region."
fi
HAS_DR=false
[[ -z $DR_REGION ]] || HAS_DR=true

command -v aws >/dev/null 2>&1 || die "the aws CLI is not on PATH: install AWS CLI v2 and configure credentials (e.g. AWS_PROFILE)."

table_var="LOCK_TABLE_$ENV_NAME" bucket_var="STATE_BUCKET_$ENV_NAME" dr_bucket_var="DR_STATE_BUCKET_$ENV_NAME"
role_var="STATE_REPLICATION_ROLE_$ENV_NAME" recovery_key_var="RECOVERY_STATE_KEY_$ENV_NAME"
TABLE=${!table_var}
ROLE=${!role_var}
RECOVERY_KEY=${!recovery_key_var}
LIFECYCLE_RULE_ID="terraform-state-retention"
POLICY_SID="DenyInsecureTransport"
REPLICATION_RULE_ID="terraform-state-to-dr-region"
ROLE_POLICY_NAME="terraform-state-replication"
TAG_ARGS=("Key=Project,Value=$PROJECT_TAG" "Key=Environment,Value=$ENV_NAME" Key=ManagedBy,Value=setup-backend)

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

# The region every aws call below is sent to: the primary's, or the DR region's while its backend is
# made (the functions that take a region set it).
CALL_REGION=$REGION

# aws_run ARGS...: aws ARGS --region CALL_REGION; sets AWS_OUT, AWS_ERR, AWS_RC; never fails.
AWS_OUT="" AWS_ERR="" AWS_RC=0
aws_run() {
  AWS_RC=0
  AWS_OUT=$(aws "$@" --region "$CALL_REGION" 2>"$TMP_DIR/stderr" </dev/null) || AWS_RC=$?
  AWS_ERR=$(<"$TMP_DIR/stderr")
}

aws_die() {
  local err=${AWS_ERR#"${AWS_ERR%%[![:space:]]*}"}
  die "$1: '$(show_cmd "${@:2}" --region "$CALL_REGION")' failed (exit $AWS_RC): ${err:-no message}
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

# read_setting VAR ABSENT_CODE WHAT ARGS...: VAR gets the CLI's answer, or stays empty when the
# setting is absent.
read_setting() {
  local var=$1 absent=$2 what=$3
  shift 3
  printf -v "$var" '%s' ""
  if aws_read "$absent" "$what" "$@"; then printf -v "$var" '%s' "$AWS_OUT"; fi
}

# dry_print ARGS...: "[dry-run] aws ARGS --region CALL_REGION".
dry_print() {
  printf '[dry-run] %s\n' "$(show_cmd "$@" --region "$CALL_REGION")"
}

# aws_change WHAT ARGS...: a call that changes something; only printed in a dry run.
aws_change() {
  local what=$1
  shift
  if $DRY_RUN; then
    dry_print "$@"
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

# in_dr REGION: " in REGION" for the DR region, nothing for the primary's (the lock tables share a name).
in_dr() {
  [[ $1 == "$REGION" ]] || printf ' in %s' "$1"
}

# ---- bucket -------------------------------------------------------------------------------
# ensure_bucket_exists BUCKET REGION: head-bucket, and create-bucket when it is missing.
# Sets BUCKET_NEW (true when this run creates it).
BUCKET_NEW=false
ensure_bucket_exists() {
  local bucket=$1 region=$2 found hint
  CALL_REGION=$region BUCKET_NEW=false
  aws_run s3api head-bucket --bucket "$bucket" --output json
  if ((AWS_RC == 0)); then
    if [[ $AWS_OUT =~ \"BucketRegion\"[[:space:]]*:[[:space:]]*\"([a-z0-9-]+)\" && ${BASH_REMATCH[1]} != "$region" ]]; then
      found=${BASH_REMATCH[1]}
      hint="run again with region $found"
      [[ $region == "$REGION" ]] || hint="set dr_region = \"$found\" in $SETTINGS"
      die "bucket $bucket already exists in $found, not $region: $hint (the backend lives where its bucket is)."
    fi
    unchanged "bucket $bucket (exists)"
  elif [[ $AWS_ERR == *"(404)"* || $AWS_ERR == *"(NoSuchBucket)"* ]]; then
    if [[ $region == us-east-1 ]]; then
      aws_change "create bucket $bucket" s3api create-bucket --bucket "$bucket"
    else
      aws_change "create bucket $bucket" s3api create-bucket --bucket "$bucket" \
        --create-bucket-configuration "LocationConstraint=$region"
    fi
    BUCKET_NEW=true
    created "bucket $bucket in $region"
  elif [[ $AWS_ERR == *"(403)"* || $AWS_ERR == *"(AccessDenied)"* ]]; then
    die "bucket $bucket exists but account $ACCOUNT cannot access it (HTTP 403): bucket names are global, so it is probably owned by another account, or these credentials lack s3:ListBucket on it. Check AWS_PROFILE; nothing was changed."
  else
    aws_die "cannot check bucket $bucket" s3api head-bucket --bucket "$bucket" --output json
  fi
}

# ensure_bucket_settings BUCKET REGION NEW: reads the six settings (none when a dry run did not
# create the bucket, so there is nothing to read), decides in one node process (JSON), then writes
# only what differs.
ensure_bucket_settings() {
  local bucket=$1 new=$3 VERSIONING="" ENCRYPTION="" PUBLIC_ACCESS_BLOCK="" POLICY="" LIFECYCLE="" TAGGING="" decisions name verdict desc payload
  CALL_REGION=$2
  if ! { $DRY_RUN && $new; }; then
    read_setting VERSIONING "" "the versioning of $bucket" s3api get-bucket-versioning --bucket "$bucket" --query Status --output text
    read_setting ENCRYPTION ServerSideEncryptionConfigurationNotFoundError "the encryption of $bucket" s3api get-bucket-encryption --bucket "$bucket" --output json
    read_setting PUBLIC_ACCESS_BLOCK NoSuchPublicAccessBlockConfiguration "the public access block of $bucket" s3api get-public-access-block --bucket "$bucket" --output json
    read_setting POLICY NoSuchBucketPolicy "the policy of $bucket" s3api get-bucket-policy --bucket "$bucket" --query Policy --output text
    read_setting LIFECYCLE NoSuchLifecycleConfiguration "the lifecycle of $bucket" s3api get-bucket-lifecycle-configuration --bucket "$bucket" --output json
    read_setting TAGGING NoSuchTagSet "the tags of $bucket" s3api get-bucket-tagging --bucket "$bucket" --output json
  fi

  # One line per setting: name <TAB> ok|put <TAB> description <TAB> payload (compact JSON, or -).
  # shellcheck disable=SC2016 # JavaScript, not shell
  decisions=$(
    VERSIONING=$VERSIONING ENCRYPTION=$ENCRYPTION PUBLIC_ACCESS_BLOCK=$PUBLIC_ACCESS_BLOCK POLICY=$POLICY \
      LIFECYCLE=$LIFECYCLE TAGGING=$TAGGING BUCKET=$bucket PARTITION=$PARTITION ENV_NAME=$ENV_NAME PROJECT_TAG=$PROJECT_TAG \
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
  ) || die "could not work out the settings of bucket $bucket from the aws CLI's answers (see above)."

  while IFS=$'\t' read -r name verdict desc payload; do
    case "$name:$verdict" in
      versioning:ok) unchanged "versioning of $bucket: Enabled" ;;
      versioning:put)
        aws_change "enable versioning on $bucket" s3api put-bucket-versioning --bucket "$bucket" \
          --versioning-configuration Status=Enabled
        updated "versioning of $bucket: Enabled (was $desc)"
        ;;
      encryption:ok) unchanged "default encryption of $bucket: $desc" ;;
      encryption:put)
        aws_change "set the default encryption of $bucket" s3api put-bucket-encryption --bucket "$bucket" \
          --server-side-encryption-configuration "$payload"
        updated "default encryption of $bucket: aws:kms with the AWS-managed key, bucket key on (was $desc)"
        ;;
      public-access-block:ok) unchanged "public access block of $bucket: $desc" ;;
      public-access-block:put)
        aws_change "block public access to $bucket" s3api put-public-access-block --bucket "$bucket" \
          --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
        updated "public access block of $bucket: all four on (was $desc)"
        ;;
      policy:ok) unchanged "policy of $bucket: $desc" ;;
      policy:put)
        aws_change "set the policy of $bucket" s3api put-bucket-policy --bucket "$bucket" --policy "$payload"
        updated "policy of $bucket: $POLICY_SID added, denying requests without TLS (was $desc)"
        ;;
      lifecycle:ok) unchanged "lifecycle of $bucket: $desc" ;;
      lifecycle:put)
        aws_change "set the lifecycle of $bucket" s3api put-bucket-lifecycle-configuration --bucket "$bucket" \
          --lifecycle-configuration "$payload"
        updated "lifecycle of $bucket: rule $LIFECYCLE_RULE_ID, noncurrent versions expire after 365 days, incomplete uploads aborted after 7 (was $desc)"
        ;;
      tags:ok) unchanged "tags of $bucket: $desc" ;;
      tags:put)
        aws_change "tag $bucket" s3api put-bucket-tagging --bucket "$bucket" --tagging "$payload"
        updated "tags of $bucket: Project=$PROJECT_TAG, Environment=$ENV_NAME, ManagedBy=setup-backend ($desc)"
        ;;
      *) die "internal error: unexpected decision '$name $verdict'" ;;
    esac
  done <<<"$decisions"
}

# ---- lock table ---------------------------------------------------------------------------
# ensure_table TABLE REGION: the lock table, its point-in-time recovery and deletion protection.
ensure_table() {
  local table=$1 where new=false status protection current
  CALL_REGION=$2
  where="$table$(in_dr "$2")"
  if aws_read ResourceNotFoundException "lock table $where" \
    dynamodb describe-table --table-name "$table" --query 'Table.[TableStatus,DeletionProtectionEnabled]' --output text; then
    read -r status protection <<<"$AWS_OUT" || true
    unchanged "lock table $where (exists, $status)"
  else
    aws_change "create lock table $where" dynamodb create-table --table-name "$table" \
      --attribute-definitions AttributeName=LockID,AttributeType=S \
      --key-schema AttributeName=LockID,KeyType=HASH \
      --billing-mode PAY_PER_REQUEST \
      --sse-specification Enabled=true,SSEType=KMS \
      --deletion-protection-enabled \
      --tags "${TAG_ARGS[@]}"
    new=true status=CREATING protection=True
    created "lock table $where (LockID, on demand, SSE-KMS, deletion protection on)"
  fi

  if [[ $status != ACTIVE ]]; then
    if $DRY_RUN && $new; then
      dry_print dynamodb wait table-exists --table-name "$table"
    else
      aws_read "" "lock table $where (waiting for it)" dynamodb wait table-exists --table-name "$table"
    fi
  fi

  # point-in-time recovery
  if $DRY_RUN && $new; then
    current=DISABLED
  else
    aws_read "" "the backups of $where" dynamodb describe-continuous-backups --table-name "$table" \
      --query ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus --output text
    current=${AWS_OUT//[[:space:]]/}
  fi
  if [[ $current == ENABLED ]]; then
    unchanged "point-in-time recovery of $where: enabled"
  else
    aws_change "enable point-in-time recovery on $where" dynamodb update-continuous-backups --table-name "$table" \
      --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true
    updated "point-in-time recovery of $where: enabled (was ${current:-unknown})"
  fi

  # deletion protection (a table this run created already has it)
  if ! $new; then
    if [[ $protection == True ]]; then
      unchanged "deletion protection of $where: on"
    else
      aws_change "turn on deletion protection of $where" dynamodb update-table --table-name "$table" --deletion-protection-enabled
      updated "deletion protection of $where: on (was off)"
    fi
  fi
}

# ---- state replication (DR region only) ---------------------------------------------------
# read_replication PRIMARY_NEW: reads the replication role, its inline policy and the primary bucket's
# replication configuration, and decides what to write (REPLICATION_DECISIONS, lines as the bucket's).
# Called before anything is written: a replication configuration with rules of someone else's
# stops the script here, with nothing changed.
REPLICATION_DECISIONS=""
read_replication() {
  local ROLE_INFO="" ROLE_POLICY="" REPLICATION="" name verdict desc
  CALL_REGION=$REGION # IAM is global; the primary bucket is in REGION
  # A bucket this run creates has no replication yet (and a dry run cannot read one it did not create).
  $1 || read_setting REPLICATION ReplicationConfigurationNotFoundError "the replication of $BUCKET" \
    s3api get-bucket-replication --bucket "$BUCKET" --output json
  read_setting ROLE_INFO NoSuchEntity "role $ROLE" iam get-role --role-name "$ROLE" --output json
  [[ -z $ROLE_INFO ]] || read_setting ROLE_POLICY NoSuchEntity "the policy $ROLE_POLICY_NAME of role $ROLE" \
    iam get-role-policy --role-name "$ROLE" --policy-name "$ROLE_POLICY_NAME" --output json

  # shellcheck disable=SC2016 # JavaScript, not shell
  REPLICATION_DECISIONS=$(
    ROLE_INFO=$ROLE_INFO ROLE_POLICY=$ROLE_POLICY REPLICATION=$REPLICATION PARTITION=$PARTITION ACCOUNT=$ACCOUNT \
      REGION=$REGION DR_REGION=$DR_REGION BUCKET=$BUCKET DR_BUCKET=$DR_BUCKET ROLE=$ROLE RULE_ID=$REPLICATION_RULE_ID node -e '
const e = process.env;
const read = (name) => { try { return e[name] ? JSON.parse(e[name]) : null; }
  catch (err) { throw new Error(`cannot parse the ${name} returned by the aws CLI: ${e[name]}`); } };
/** JSON with sorted keys: two documents are the same whatever the order AWS gives their keys in. */
const canon = (v) => JSON.stringify(v, (k, x) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x));
const out = [];
const say = (name, verdict, desc, payload) => out.push([name, verdict, desc, payload ? JSON.stringify(payload) : "-"].join("\t"));

const source = `arn:${e.PARTITION}:s3:::${e.BUCKET}`;
const replica = `arn:${e.PARTITION}:s3:::${e.DR_BUCKET}`;
const roleArn = `arn:${e.PARTITION}:iam::${e.ACCOUNT}:role/${e.ROLE}`;

// Only S3 may assume the role: S3 documents the trust of a replication role without aws:SourceArn or
// aws:SourceAccount, and a condition it does not send would stop the replication without an error here.
const trust = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "s3.amazonaws.com" }, Action: "sts:AssumeRole" }] };
const role = (read("ROLE_INFO") || {}).Role;
say("role", !role ? "create" : canon(role.AssumeRolePolicyDocument) === canon(trust) ? "ok" : "put",
  role ? "trust policy of another shape" : "none", trust);

// Objects are encrypted with S3 Bucket Keys: the encryption context is the bucket ARN, or an object ARN without them.
const context = (bucket) => ({ "kms:EncryptionContext:aws:s3:arn": [bucket, `${bucket}/*`] });
const via = (region) => `s3.${region}.amazonaws.com`;
const policy = { Version: "2012-10-17", Statement: [
  { Sid: "ReadSourceConfiguration", Effect: "Allow", Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"], Resource: source },
  { Sid: "ReadSourceVersions", Effect: "Allow", Action: ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
    Resource: `${source}/*` },
  { Sid: "WriteReplicas", Effect: "Allow", Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], Resource: `${replica}/*` },
  // Both buckets use the AWS-managed key aws/s3 of their region, whose ARN (a key id, not the alias) is not
  // known before S3 first uses it: "*", held to S3 in that region and to these buckets by the conditions.
  { Sid: "DecryptSource", Effect: "Allow", Action: "kms:Decrypt", Resource: "*",
    Condition: { StringEquals: { "kms:ViaService": via(e.REGION) }, StringLike: context(source) } },
  { Sid: "EncryptReplicas", Effect: "Allow", Action: ["kms:Encrypt", "kms:GenerateDataKey"], Resource: "*",
    Condition: { StringEquals: { "kms:ViaService": via(e.DR_REGION) }, StringLike: context(replica) } },
] };
const have = (read("ROLE_POLICY") || {}).PolicyDocument;
say("role-policy", have && canon(have) === canon(policy) ? "ok" : "put", have ? "another policy" : "none", policy);

const rule = { ID: e.RULE_ID, Status: "Enabled", Priority: 1, Filter: { Prefix: "" },
  DeleteMarkerReplication: { Status: "Disabled" },
  SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: "Enabled" } },
  Destination: { Bucket: replica, EncryptionConfiguration: { ReplicaKmsKeyID: `arn:${e.PARTITION}:kms:${e.DR_REGION}:${e.ACCOUNT}:alias/aws/s3` },
    StorageClass: "STANDARD" } };
// What the rule does, as S3 may give it back (an empty prefix and the default storage class may be left out).
const shape = (r) => canon([r.Status, r.Priority, r.Filter?.Prefix ?? "", r.DeleteMarkerReplication?.Status, r.SourceSelectionCriteria?.SseKmsEncryptedObjects?.Status,
  r.Destination?.Bucket, r.Destination?.EncryptionConfiguration?.ReplicaKmsKeyID, r.Destination?.StorageClass ?? "STANDARD"]);
const config = (read("REPLICATION") || {}).ReplicationConfiguration;
const rules = config?.Rules || [];
const mine = rules.find((r) => r.ID === e.RULE_ID);
const others = rules.length - (mine ? 1 : 0);
const describe = (r) => `${r.ID || "(no ID)"} (${r.Status}, to ${r.Destination?.Bucket || "?"})`;
if (mine && config.Role === roleArn && shape(mine) === shape(rule)) {
  say("replication", "ok", others ? `beside ${others} other rule(s)` : "the only rule");
} else if (others) {
  // Putting the rule would replace the whole configuration, and the other rules with it.
  say("replication", "refuse", `${rules.length} rule(s): ${rules.map(describe).join(", ")}; role ${config.Role || "?"}`);
} else {
  say("replication", "put", mine ? `${describe(mine)}, role ${config.Role}` : "none", { Role: roleArn, Rules: [rule] });
}
console.log(out.join("\n"));
'
  ) || die "could not work out the state replication from the aws CLI's answers (see above)."

  while IFS=$'\t' read -r name verdict desc _; do
    [[ $name:$verdict != replication:refuse ]] ||
      die "bucket $BUCKET already has a replication configuration with other rules than $REPLICATION_RULE_ID: $desc. Putting the state replication would replace it, so nothing was changed: remove that configuration if it is no longer wanted, or add the rule $REPLICATION_RULE_ID to it by hand (docs/operations.md), then run the script again."
  done <<<"$REPLICATION_DECISIONS"
}

# ensure_replication: the role, its policy and the replication, as read_replication decided.
ensure_replication() {
  local name verdict desc payload role_arn
  CALL_REGION=$REGION
  role_arn="arn:$PARTITION:iam::$ACCOUNT:role/$ROLE"
  while IFS=$'\t' read -r name verdict desc payload; do
    case "$name:$verdict" in
      role:ok) unchanged "role $ROLE: S3 may assume it for $BUCKET" ;;
      role:create)
        aws_change "create role $ROLE" iam create-role --role-name "$ROLE" --assume-role-policy-document "$payload" \
          --description "S3 replicates the Terraform state of $ENV_NAME to its DR region with this role (setup-backend.sh)" \
          --tags "${TAG_ARGS[@]}"
        created "role $ROLE (S3 may assume it for $BUCKET only)"
        ;;
      role:put)
        aws_change "set the trust policy of role $ROLE" iam update-assume-role-policy --role-name "$ROLE" --policy-document "$payload"
        updated "trust policy of role $ROLE: S3 may assume it for $BUCKET only (was $desc)"
        ;;
      role-policy:ok) unchanged "policy $ROLE_POLICY_NAME of role $ROLE: replicate $BUCKET to $DR_BUCKET" ;;
      role-policy:put)
        aws_change "set the policy of role $ROLE" iam put-role-policy --role-name "$ROLE" --policy-name "$ROLE_POLICY_NAME" \
          --policy-document "$payload"
        updated "policy $ROLE_POLICY_NAME of role $ROLE: replicate $BUCKET to $DR_BUCKET (was $desc)"
        ;;
      replication:ok) unchanged "replication of $BUCKET: rule $REPLICATION_RULE_ID to $DR_BUCKET in $DR_REGION, $desc" ;;
      replication:put)
        aws_change "set the replication of $BUCKET" s3api put-bucket-replication --bucket "$BUCKET" --replication-configuration "$payload"
        updated "replication of $BUCKET: rule $REPLICATION_RULE_ID to $DR_BUCKET in $DR_REGION, role $role_arn (was $desc)"
        ;;
      *) die "internal error: unexpected decision '$name $verdict'" ;;
    esac
  done <<<"$REPLICATION_DECISIONS"
}

# ---- verification (as in the guide) --------------------------------------------------------
# verify_backend BUCKET TABLE REGION
verify_backend() {
  local bucket=$1 table=$2 status
  CALL_REGION=$3
  if $DRY_RUN; then
    dry_print s3 ls "s3://$bucket"
    dry_print dynamodb describe-table --table-name "$table" --query Table.TableStatus --output text
  else
    aws_read "" "verification: bucket $bucket" s3 ls "s3://$bucket" >/dev/null
    printf 'verified  s3://%s is reachable\n' "$bucket"
    aws_read "" "verification: lock table $table$(in_dr "$3")" dynamodb describe-table --table-name "$table" --query Table.TableStatus --output text
    status=${AWS_OUT//[[:space:]]/}
    [[ $status == ACTIVE ]] || die "verification failed: lock table $table$(in_dr "$3") is $status, expected ACTIVE."
    printf 'verified  lock table %s is ACTIVE\n' "$table$(in_dr "$3")"
  fi
}

# ---- account ------------------------------------------------------------------------------
aws_read "" "the AWS account id (check AWS_PROFILE / credentials)" sts get-caller-identity --query Account --output text
ACCOUNT=${AWS_OUT//[[:space:]]/}
[[ $ACCOUNT =~ ^[0-9]{12}$ ]] || die "unexpected account id from 'aws sts get-caller-identity': '$AWS_OUT'"
[[ -z $SETTINGS_ACCOUNT || $SETTINGS_ACCOUNT == "$ACCOUNT" ]] ||
  die "these credentials are for account $ACCOUNT, but $SETTINGS says aws_account_id = \"$SETTINGS_ACCOUNT\": check AWS_PROFILE; nothing was changed."
BUCKET=${!bucket_var//\{account\}/$ACCOUNT}
DR_BUCKET=${!dr_bucket_var//\{account\}/$ACCOUNT}
note="" dr_note=""
$DRY_RUN && note=" (dry run: nothing will be changed)"
$HAS_DR && dr_note=", DR region $DR_REGION"
printf 'Terraform backend of %s in %s%s, account %s%s\n' "$ENV_NAME" "$REGION" "$dr_note" "$ACCOUNT" "$note"

# ---- the backend(s) -----------------------------------------------------------------------
ensure_bucket_exists "$BUCKET" "$REGION"
PRIMARY_NEW=$BUCKET_NEW
# Everything the replication needs is read before anything is written (see read_replication).
! $HAS_DR || read_replication "$PRIMARY_NEW"
ensure_bucket_settings "$BUCKET" "$REGION" "$PRIMARY_NEW"
ensure_table "$TABLE" "$REGION"
if $HAS_DR; then
  ensure_bucket_exists "$DR_BUCKET" "$DR_REGION"
  ensure_bucket_settings "$DR_BUCKET" "$DR_REGION" "$BUCKET_NEW"
  ensure_table "$TABLE" "$DR_REGION"
  # both buckets are versioned by now, as S3 requires before it accepts the replication
  ensure_replication
fi

verify_backend "$BUCKET" "$TABLE" "$REGION"
! $HAS_DR || verify_backend "$DR_BUCKET" "$TABLE" "$DR_REGION"

others=""
$HAS_DR && others=" but the recovery phase"
cat <<EOF

S3 backend of every $ENV_NAME stack$others (each stack has its own key):
  bucket         = "$BUCKET"
  dynamodb_table = "$TABLE"
  region         = "$REGION"
  encrypt        = true

EOF
if $HAS_DR; then
  cat <<EOF
S3 backend of the recovery phase (in the DR region; the other phases' state files are replicated to its bucket):
  bucket         = "$DR_BUCKET"
  key            = "$RECOVERY_KEY"
  dynamodb_table = "$TABLE"
  region         = "$DR_REGION"
  encrypt        = true

EOF
fi

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
