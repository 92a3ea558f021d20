import { createRepositoryInput, createTableInput, iamTags } from './requests';
import type { LocalResources } from './types';

/** Options of {@link generateReadyScript}. */
export interface ReadyScriptOptions {
  /** Where the declaration came from, named in the script's header. @default 'awskit.local.yaml' */
  source?: string;
  /** Seconds to wait for each resource to become ACTIVE before failing. @default 120 */
  activeTimeoutSeconds?: number;
}

/** Default file name prefix order of the generated hook (LocalStack runs `ready.d` scripts in lexicographic order). */
export const DEFAULT_SCRIPT_ORDER = 50;

/** `ready.d/NN-awskit.sh` for an order number. */
export function readyScriptName(order = DEFAULT_SCRIPT_ORDER): string {
  return `${String(order).padStart(2, '0')}-awskit.sh`;
}

/** Quotes a string for bash (single quotes; embedded `'` become `'\''`). */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

// The runtime part of the script. Kept free of external tools besides `aws` and `sleep`, so it runs in the
// LocalStack image, in CI and on a laptop alike. Every AWS call goes through `awsr`; "not found" is recognised from
// the error name in the CLI's stderr (the same names in CLI v1 and v2).
const PRELUDE = String.raw`set -euo pipefail

AWSKIT_CREATED=0
AWSKIT_UPDATED=0
AWSKIT_UNCHANGED=0

log() { printf '[awskit] %s\n' "$*"; }
fail() {
  printf '[awskit] ERROR: %s\n' "$*" >&2
  exit 1
}

# Pick the CLI: an explicit AWS_ENDPOINT_URL wins; else awslocal (LocalStack's wrapper) when present; else aws
# against LocalStack's default edge port.
if [[ -n "${'${'}AWS_ENDPOINT_URL:-}" ]] && command -v aws >/dev/null 2>&1; then
  AWS=(aws --endpoint-url "$AWS_ENDPOINT_URL")
  AWSKIT_TARGET="$AWS_ENDPOINT_URL"
elif command -v awslocal >/dev/null 2>&1; then
  export DISABLE_DEPRECATION_NOTICE=1
  AWS=(awslocal)
  AWSKIT_TARGET="awslocal"
elif command -v aws >/dev/null 2>&1; then
  AWSKIT_TARGET="${'${'}LOCALSTACK_ENDPOINT:-http://localhost:4566}"
  AWS=(aws --endpoint-url "$AWSKIT_TARGET")
else
  printf '%s\n' \
    "[awskit] ERROR: the aws CLI is not on PATH, so this hook cannot create anything." \
    "[awskit] Inside the LocalStack container aws/awslocal are always there; on this machine either install the" \
    "[awskit] AWS CLI (https://aws.amazon.com/cli/) or apply the same declaration without it:" \
    "[awskit]   npx awskit localstack apply --config <your awskit.local.yaml>" >&2
  exit 127
fi

# LocalStack accepts any credentials; never override real ones that are already set.
export AWS_ACCESS_KEY_ID="${'${'}AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${'${'}AWS_SECRET_ACCESS_KEY:-test}"
export AWS_PAGER=""

awsr() { "${'${'}AWS[@]}" --region "$AWSKIT_REGION" "$@"; }

# Polls "$@" (a query printing one status word) until it prints ACTIVE.
wait_active() {
  local what=$1 status=""
  shift
  local i
  for ((i = 0; i < AWSKIT_ACTIVE_TIMEOUT * 2; i++)); do
    status=$("$@" 2>&1) || true
    if [[ $status == ACTIVE ]]; then return 0; fi
    sleep 0.5
  done
  fail "$what did not become ACTIVE within ${'${'}AWSKIT_ACTIVE_TIMEOUT}s (last status: $status)"
}

ensure_stream() {
  local name=$1 mode=$2 shards=$3 retention=$4 out status open current
  AWSKIT_STREAM_ARN=""
  if out=$(awsr kinesis describe-stream-summary --stream-name "$name" --output text \
    --query 'StreamDescriptionSummary.[StreamStatus,OpenShardCount,RetentionPeriodHours,StreamARN]' 2>&1); then
    read -r status open current AWSKIT_STREAM_ARN <<<"$out"
    if [[ $mode == PROVISIONED && $open != "$shards" ]]; then
      log "kinesis stream $name: exists with $open open shards (declared $shards); left as is, reshard with 'awskit localstack apply'"
    fi
  elif [[ $out == *ResourceNotFoundException* ]]; then
    if [[ $mode == ON_DEMAND ]]; then
      awsr kinesis create-stream --stream-name "$name" --stream-mode-details StreamMode=ON_DEMAND >/dev/null
    else
      awsr kinesis create-stream --stream-name "$name" --shard-count "$shards" >/dev/null
    fi
    log "kinesis stream $name: created ($mode${'${'}shards:+, $shards shards})"
    AWSKIT_CREATED=$((AWSKIT_CREATED + 1))
    status=CREATING
    current=24
  else
    fail "kinesis describe-stream-summary $name failed: $out"
  fi
  if [[ $status != ACTIVE ]]; then
    wait_active "kinesis stream $name" awsr kinesis describe-stream-summary --stream-name "$name" \
      --query StreamDescriptionSummary.StreamStatus --output text
  fi
  if [[ $current != "$retention" ]]; then
    if ((retention > current)); then
      awsr kinesis increase-stream-retention-period --stream-name "$name" --retention-period-hours "$retention"
    else
      awsr kinesis decrease-stream-retention-period --stream-name "$name" --retention-period-hours "$retention"
    fi
    wait_active "kinesis stream $name" awsr kinesis describe-stream-summary --stream-name "$name" \
      --query StreamDescriptionSummary.StreamStatus --output text
    log "kinesis stream $name: retention $current -> $retention hours"
    [[ $status == CREATING ]] || AWSKIT_UPDATED=$((AWSKIT_UPDATED + 1))
  elif [[ $status != CREATING ]]; then
    log "kinesis stream $name: exists, unchanged"
    AWSKIT_UNCHANGED=$((AWSKIT_UNCHANGED + 1))
  fi
  AWSKIT_STREAM_STATUS=$status
}

tag_new_stream() {
  awsr kinesis add-tags-to-stream --stream-name "$1" --tags "$2"
}

ensure_consumer() {
  local stream=$1 consumer=$2 arn=$AWSKIT_STREAM_ARN out
  if [[ -z $arn ]]; then
    arn=$(awsr kinesis describe-stream-summary --stream-name "$stream" --query StreamDescriptionSummary.StreamARN --output text)
    AWSKIT_STREAM_ARN=$arn
  fi
  if out=$(awsr kinesis describe-stream-consumer --stream-arn "$arn" --consumer-name "$consumer" \
    --query ConsumerDescription.ConsumerStatus --output text 2>&1); then
    log "kinesis consumer $stream/$consumer: exists, unchanged"
    AWSKIT_UNCHANGED=$((AWSKIT_UNCHANGED + 1))
  elif [[ $out == *ResourceNotFoundException* ]]; then
    awsr kinesis register-stream-consumer --stream-arn "$arn" --consumer-name "$consumer" >/dev/null
    log "kinesis consumer $stream/$consumer: registered"
    AWSKIT_CREATED=$((AWSKIT_CREATED + 1))
  else
    fail "kinesis describe-stream-consumer $stream/$consumer failed: $out"
  fi
  wait_active "kinesis consumer $stream/$consumer" awsr kinesis describe-stream-consumer --stream-arn "$arn" \
    --consumer-name "$consumer" --query ConsumerDescription.ConsumerStatus --output text
}

ensure_table() {
  local name=$1 input=$2 out
  if out=$(awsr dynamodb describe-table --table-name "$name" --query Table.TableStatus --output text 2>&1); then
    log "dynamodb table $name: exists, unchanged"
    AWSKIT_UNCHANGED=$((AWSKIT_UNCHANGED + 1))
  elif [[ $out == *ResourceNotFoundException* ]]; then
    awsr dynamodb create-table --cli-input-json "$input" >/dev/null
    log "dynamodb table $name: created"
    AWSKIT_CREATED=$((AWSKIT_CREATED + 1))
  else
    fail "dynamodb describe-table $name failed: $out"
  fi
  wait_active "dynamodb table $name" awsr dynamodb describe-table --table-name "$name" \
    --query Table.TableStatus --output text
}

ensure_repository() {
  local name=$1 input=$2 out
  if out=$(awsr ecr describe-repositories --repository-names "$name" --output text \
    --query 'repositories[0].repositoryName' 2>&1); then
    log "ecr repository $name: exists, unchanged"
    AWSKIT_UNCHANGED=$((AWSKIT_UNCHANGED + 1))
  elif [[ $out == *RepositoryNotFoundException* ]]; then
    awsr ecr create-repository --cli-input-json "$input" >/dev/null
    log "ecr repository $name: created"
    AWSKIT_CREATED=$((AWSKIT_CREATED + 1))
  else
    fail "ecr describe-repositories $name failed: $out"
  fi
}

AWSKIT_ACCOUNT=""
account_id() {
  if [[ -z $AWSKIT_ACCOUNT ]]; then
    AWSKIT_ACCOUNT=$(awsr sts get-caller-identity --query Account --output text)
  fi
}

ensure_policy() {
  local name=$1 document=$2 description=$3 out
  account_id
  if out=$(awsr iam get-policy --policy-arn "arn:aws:iam::$AWSKIT_ACCOUNT:policy/$name" \
    --query Policy.PolicyName --output text 2>&1); then
    log "iam policy $name: exists, unchanged"
    AWSKIT_UNCHANGED=$((AWSKIT_UNCHANGED + 1))
  elif [[ $out == *NoSuchEntity* ]]; then
    awsr iam create-policy --policy-name "$name" --policy-document "$document" \
      ${'${'}description:+--description "$description"} >/dev/null
    log "iam policy $name: created"
    AWSKIT_CREATED=$((AWSKIT_CREATED + 1))
  else
    fail "iam get-policy $name failed: $out"
  fi
}

ensure_user() {
  local name=$1 input=$2 out
  if out=$(awsr iam get-user --user-name "$name" --query User.UserName --output text 2>&1); then
    log "iam user $name: exists, unchanged"
    AWSKIT_UNCHANGED=$((AWSKIT_UNCHANGED + 1))
  elif [[ $out == *NoSuchEntity* ]]; then
    awsr iam create-user --cli-input-json "$input" >/dev/null
    log "iam user $name: created"
    AWSKIT_CREATED=$((AWSKIT_CREATED + 1))
  else
    fail "iam get-user $name failed: $out"
  fi
}

# put-user-policy and attach-user-policy are idempotent: running them again leaves the user as it was.
put_user_policy() {
  awsr iam put-user-policy --user-name "$1" --policy-name "$2" --policy-document "$3"
}

attach_user_policy() {
  local arn=$2
  if [[ $arn != arn:* ]]; then
    account_id
    arn="arn:aws:iam::$AWSKIT_ACCOUNT:policy/$arn"
  fi
  awsr iam attach-user-policy --user-name "$1" --policy-arn "$arn"
}
`;

/**
 * Generates the LocalStack `ready.d` hook for a declaration: `#!/usr/bin/env bash`, LF line endings only,
 * `set -euo pipefail`, idempotent (creates only what is missing, waits for ACTIVE) and logging each resource.
 * Write it with mode 0755 ({@link writeInitFiles} does).
 *
 * @example
 * const script = generateReadyScript(await loadDeclaration('awskit.local.yaml'));
 */
export function generateReadyScript(resources: LocalResources, options: ReadyScriptOptions = {}): string {
  const q = shellQuote;
  const json = (v: unknown) => q(JSON.stringify(v));
  const lines: string[] = [
    '#!/usr/bin/env bash',
    `# Generated by awskit (@awskit/localstack-hooks) from ${options.source ?? 'awskit.local.yaml'}.`,
    '# Do not edit: change the declaration and run `awskit localstack init` again.',
    '# A LocalStack ready hook (mount its directory at /etc/localstack/init/ready.d). Safe to run any number of',
    '# times: it creates only what is missing and waits until each resource is ACTIVE.',
    '# Environment: AWS_ENDPOINT_URL (else awslocal, else http://localhost:4566), AWSKIT_REGION (overrides the',
    '# declared region), AWSKIT_ACTIVE_TIMEOUT (seconds per resource).',
    PRELUDE,
    `AWSKIT_REGION="\${AWSKIT_REGION:-${resources.region}}"`,
    `AWSKIT_ACTIVE_TIMEOUT="\${AWSKIT_ACTIVE_TIMEOUT:-${options.activeTimeoutSeconds ?? 120}}"`,
    'log "applying declared resources to $AWSKIT_TARGET (region $AWSKIT_REGION)"',
    '',
  ];
  for (const s of resources.kinesis.streams) {
    const mode = s.mode === 'on-demand' ? 'ON_DEMAND' : 'PROVISIONED';
    lines.push(`ensure_stream ${q(s.name)} ${mode} ${q(String(s.shards ?? ''))} ${s.retentionHours}`);
    if (Object.keys(s.tags).length)
      lines.push(
        `if [[ $AWSKIT_STREAM_STATUS == CREATING ]]; then tag_new_stream ${q(s.name)} ${json(s.tags)}; fi`,
      );
    for (const c of s.consumers) lines.push(`ensure_consumer ${q(s.name)} ${q(c)}`);
  }
  for (const t of resources.dynamodb.tables)
    lines.push(`ensure_table ${q(t.name)} ${json(createTableInput(t))}`);
  for (const r of resources.ecr.repositories)
    lines.push(`ensure_repository ${q(r.name)} ${json(createRepositoryInput(r))}`);
  for (const p of resources.iam.policies)
    lines.push(`ensure_policy ${q(p.name)} ${json(p.document)} ${q(p.description ?? '')}`);
  for (const u of resources.iam.users) {
    const input = { UserName: u.name, ...(Object.keys(u.tags).length ? { Tags: iamTags(u.tags) } : {}) };
    lines.push(`ensure_user ${q(u.name)} ${json(input)}`);
    for (const [name, doc] of Object.entries(u.inlinePolicies))
      lines.push(`put_user_policy ${q(u.name)} ${q(name)} ${json(doc)}`);
    for (const p of u.policies) lines.push(`attach_user_policy ${q(u.name)} ${q(p)}`);
  }
  lines.push(
    '',
    'log "done: $AWSKIT_CREATED created, $AWSKIT_UPDATED updated, $AWSKIT_UNCHANGED unchanged"',
    '',
  );
  // LF only: a CRLF shebang makes the kernel look for "bash\r" (LocalStack reports errno 2).
  return lines.join('\n').replace(/\r/g, '');
}
