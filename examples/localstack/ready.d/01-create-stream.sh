#!/usr/bin/env bash
# Example LocalStack ready hook: the Kinesis stream our app writes to, created once (re-runs are no-ops).
# Runs unchanged in a LocalStack container (/etc/localstack/init/ready.d) and under `awskit local up`.
set -euo pipefail
STREAM="${STREAM:-my-event-dev}"
SHARDS="${SHARDS:-1}"

# Node is there wherever awskit runs and starts in ~50 ms (the aws CLI takes ~1 s a call); a LocalStack container
# has the aws CLI instead, so that path is the fallback.
if command -v node >/dev/null 2>&1; then
  node - "$STREAM" "$SHARDS" <<'JS'
const [stream, shards] = process.argv.slice(2);
const region = process.env.AWS_DEFAULT_REGION;
const call = async (op, body) => {
  const r = await fetch(process.env.AWS_ENDPOINT_URL, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `Kinesis_20131202.${op}`,
      'x-amz-date': new Date().toISOString().replace(/[-:]|\.\d{3}/g, ''),
      // The local emulators read the region from the credential scope and do not check signatures.
      authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${region}/kinesis/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json().catch(() => ({})) };
};
const exists = await call('DescribeStreamSummary', { StreamName: stream });
if (exists.status === 200) { console.log(`stream ${stream} already exists`); process.exit(0); }
const created = await call('CreateStream', { StreamName: stream, ShardCount: Number(shards) });
if (created.status !== 200) { console.error(`CreateStream failed: ${JSON.stringify(created.body)}`); process.exit(1); }
for (let i = 0; i < 100; i++) {
  const d = await call('DescribeStreamSummary', { StreamName: stream });
  if (d.body.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') { console.log(`created stream ${stream} (${shards} shard) in ${region}`); process.exit(0); }
  await new Promise((r) => setTimeout(r, 100));
}
console.error(`stream ${stream} did not become ACTIVE`); process.exit(1);
JS
else
  if awslocal kinesis describe-stream-summary --stream-name "$STREAM" >/dev/null 2>&1; then
    echo "stream $STREAM already exists"
  else
    awslocal kinesis create-stream --stream-name "$STREAM" --shard-count "$SHARDS"
    awslocal kinesis wait stream-exists --stream-name "$STREAM"
    echo "created stream $STREAM ($SHARDS shard) in $AWS_DEFAULT_REGION"
  fi
fi
