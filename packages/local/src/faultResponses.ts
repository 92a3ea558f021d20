import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

// What the fault proxy answers in place of AWS: error bodies shaped exactly like each service's protocol (so the
// SDK v3 classifies them by code), and the PutRecords result with injected per-entry failures.

const JSON_SERVICES = new Set(['kinesis', 'dynamodb', 'ecr']);
const KINESIS_DATA_OPS = new Set(['PutRecord', 'PutRecords', 'GetRecords', 'GetShardIterator']);
const DYNAMODB_ITEM_OPS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
  'ExecuteStatement',
  'BatchExecuteStatement',
]);
const XML_NAMESPACES: Record<string, string> = {
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
};

/** The error code AWS itself uses when it throttles this call. */
export function throttleCode(service: string, operation: string): string {
  if (service === 'kinesis')
    return KINESIS_DATA_OPS.has(operation)
      ? 'ProvisionedThroughputExceededException'
      : 'LimitExceededException';
  if (service === 'dynamodb')
    return DYNAMODB_ITEM_OPS.has(operation)
      ? 'ProvisionedThroughputExceededException'
      : 'ThrottlingException';
  if (service === 'iam' || service === 'sts') return 'Throttling';
  return 'ThrottlingException';
}

/** The code of a 500 or 503 answer in this service's vocabulary. */
export function serverErrorCode(service: string, status: 500 | 503): string {
  if (status === 503) return 'ServiceUnavailable';
  return service === 'dynamodb' ? 'InternalServerError' : 'InternalFailure';
}

const requestId = () => randomBytes(16).toString('hex');

/**
 * Answers with an AWS error: JSON (`__type`, `x-amzn-ErrorType`) for Kinesis, DynamoDB and ECR, query-protocol
 * XML (`<ErrorResponse><Error><Code>`) for IAM and STS.
 */
export function sendFaultError(
  res: ServerResponse,
  requestHeaders: IncomingHttpHeaders,
  service: string,
  status: number,
  code: string,
  message: string,
): void {
  const id = requestId();
  if (!JSON_SERVICES.has(service) && service in XML_NAMESPACES) {
    const type = status >= 500 ? 'Receiver' : 'Sender';
    const xml = `<ErrorResponse xmlns="${XML_NAMESPACES[service]}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${id}</RequestId></ErrorResponse>`;
    res.writeHead(status, {
      'content-type': 'text/xml',
      'content-length': Buffer.byteLength(xml),
      'x-amzn-requestid': id,
    });
    res.end(xml);
    return;
  }
  const requested = String(requestHeaders['content-type'] ?? '');
  const contentType = requested.startsWith('application/x-amz-json-1.')
    ? requested
    : service === 'dynamodb'
      ? 'application/x-amz-json-1.0'
      : 'application/x-amz-json-1.1';
  const type = service === 'dynamodb' ? `com.amazonaws.dynamodb.v20120810#${code}` : code;
  const body = JSON.stringify({ __type: type, message });
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': id,
    'x-amzn-errortype': code,
  });
  res.end(body);
}

/** A PutRecords request body, as far as the proxy needs it. */
export interface PutRecordsBody {
  Records: unknown[];
  StreamName?: string;
  StreamARN?: string;
  [key: string]: unknown;
}

/** Parses a PutRecords request; undefined when it is not one the proxy can split. */
export function parsePutRecords(body: Buffer): PutRecordsBody | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && Array.isArray((parsed as PutRecordsBody).Records))
      return parsed as PutRecordsBody;
  } catch {
    // not JSON: forward untouched
  }
  return undefined;
}

/** Picks `max(1, round(fraction × n))` distinct entry indexes with a partial Fisher–Yates shuffle. */
export function pickFailed(n: number, fraction: number, random: () => number): Set<number> {
  const k = Math.min(n, Math.max(1, Math.round(fraction * n)));
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return new Set(idx.slice(0, k));
}

/**
 * Puts the failed entries back into an upstream PutRecords result at their original positions and raises
 * `FailedRecordCount`; `upstream` is undefined when no entry was forwarded.
 */
export function splicePutRecordsResult(
  upstream: { Records?: unknown[]; FailedRecordCount?: number; [key: string]: unknown } | undefined,
  total: number,
  failed: Set<number>,
  errorCode: string,
  streamName: string,
): Record<string, unknown> {
  const passed = upstream?.Records ?? [];
  const message =
    errorCode === 'ProvisionedThroughputExceededException'
      ? `Rate exceeded for stream ${streamName} under account 000000000000 (injected by the awskit fault proxy).`
      : 'Internal service failure (injected by the awskit fault proxy).';
  const records: unknown[] = [];
  let next = 0;
  for (let i = 0; i < total; i++)
    records.push(failed.has(i) ? { ErrorCode: errorCode, ErrorMessage: message } : passed[next++]);
  return {
    ...(upstream ?? { EncryptionType: 'NONE' }),
    FailedRecordCount: (upstream?.FailedRecordCount ?? 0) + failed.size,
    Records: records,
  };
}
