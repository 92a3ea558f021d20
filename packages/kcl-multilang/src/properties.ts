import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { InitialPosition } from '@awskit/kinesis-consumer';
import { PropertiesError, PropertiesNotFoundError, type PropertyProblem } from './errors.js';
import { parseJavaProperties } from './javaProperties.js';
import type { KclProperties } from './types.js';

/** Keys of the KCL MultiLang daemon (2.7 and 3.x) that have no effect here, with the reason shown to the user. */
const IGNORED_KEYS: Record<string, string> = {
  processingLanguage: 'only part of the Java user agent',
  maxActiveThreads: 'no thread pool: children are served by one event loop',
  AwsCredentialsProviderDynamoDB:
    'awskit resolves one set of credentials (--profile, AWS_PROFILE, env, default chain)',
  AwsCredentialsProviderCloudWatch: 'no CloudWatch metrics: awskit metrics go to the logger/Prometheus',
  metricsLevel: 'no CloudWatch metrics',
  metricsEnabledDimensions: 'no CloudWatch metrics',
  metricsBufferTimeMillis: 'no CloudWatch metrics',
  metricsMaxQueueSize: 'no CloudWatch metrics',
  parentShardPollIntervalMillis:
    'children start when their parents reach SHARD_END (checked every take scan)',
  skipShardSyncAtWorkerInitializationIfLeasesExist: 'the shard sync at start is cheap',
  schedulerInitializationBackoffTimeMillis: 'start() fails fast with a typed error instead',
  logWarningForTaskAfterMillis: 'stalled shards are reported by stallThresholdMs',
  cleanupLeasesUponShardCompletion: 'finished leases are deleted once their shard leaves retention',
  ignoreUnexpectedChildShards: 'child leases are created from the parent’s ChildShards',
  maxLeasesToStealAtOneTime: 'balancing asks for every lease above the fair share at once',
  initialLeaseTableReadCapacity: 'the lease table is created on-demand (PAY_PER_REQUEST)',
  initialLeaseTableWriteCapacity: 'the lease table is created on-demand (PAY_PER_REQUEST)',
  maxLeaseRenewalThreads: 'renewals are asynchronous',
  listShardsBackoffTimeInMillis: 'ListShards uses the SDK retry policy',
  maxListShardsRetryAttempts: 'ListShards uses the SDK retry policy',
  enablePriorityLeaseAssignment: 'not applicable',
  leaseTableDeletionProtectionEnabled: 'not applicable to the lease table awskit creates',
  leaseTablePitrEnabled: 'not applicable to the lease table awskit creates',
  retryGetRecordsInSeconds: 'GetRecords retries with backoff',
  maxGetRecordsThreadPool: 'GetRecords runs on the event loop',
  validateSequenceNumberBeforeCheckpointing: 'unused by the KCL 2.x daemon too',
  shardPrioritization: 'not applicable',
  leaseAssignmentIntervalMillis: 'KCL 3.x leader-based assignment is not used (takeIntervalMs)',
  leaseTableScanTotalSegments: 'KCL 3.x key',
  clientVersionConfig: 'KCL 3.x key',
  migrateAllEntitiesToLeaseTable: 'KCL 3.x key',
  tableMigrationCompleteBakeTimeSeconds: 'KCL 3.x key',
  millisBehindLatestThresholdForReducedTps: 'KCL 3.x key',
  isGracefulLeaseHandoffEnabled: 'graceful hand-off is always on (gracefulHandoffTimeoutMs)',
  gracefulLeaseHandoffTimeoutMillis: 'see gracefulHandoffTimeoutMs of the consumer',
};

/** KCL keys that are mapped onto awskit (see the README table). */
const MAPPED_KEYS = new Set([
  'executableName',
  'streamName',
  'streamArn',
  'applicationName',
  'tableName',
  'workerId',
  'initialPositionInStream',
  'initialPositionInStreamExtended',
  'regionName',
  'kinesisEndpoint',
  'dynamoDBEndpoint',
  'AwsCredentialsProvider',
  'retrievalMode',
  'maxRecords',
  'idleTimeBetweenReadsInMillis',
  'failoverTimeMillis',
  'shardSyncIntervalMillis',
  'maxLeasesForWorker',
  'taskBackoffTimeMillis',
  'timeoutInSeconds',
  'shutdownGraceMillis',
  'callProcessRecordsEvenForEmptyRecordList',
]);

/** Keys that make `retrievalMode = DEFAULT` mean polling (as `RetrievalMode.DEFAULT` does in the KCL). */
const POLLING_KEYS = [
  'maxRecords',
  'idleTimeBetweenReadsInMillis',
  'retryGetRecordsInSeconds',
  'maxGetRecordsThreadPool',
];

/** Prefixes of KCL 3.x key families that have no effect here. */
const IGNORED_PREFIXES = ['workerMetrics', 'coordinatorState', 'workerUtilization', 'fanoutConfig.'];

/** `AwsCredentialsProvider` in any case (the KCL's `processKey` fixes that prefix only). */
function normalizeKey(key: string): string {
  return /^awscredentialsprovider/i.test(key) ? `AwsCredentialsProvider${key.slice(22)}` : key;
}

function isUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Maps the text of a KCL MultiLang `.properties` file onto awskit: validates every key and reports every problem
 * at once. Unknown keys are listed in `unknownKeys` (the caller warns), never fatal.
 *
 * @param text The file's content.
 * @param options `file` only names the file in errors.
 * @throws {PropertiesError} listing every invalid or missing key.
 * @example
 * const props = parseKclProperties('executableName = node app.js\nstreamName = s\napplicationName = a\n');
 */
export function parseKclProperties(text: string, options: { file?: string } = {}): KclProperties {
  const parsed = parseJavaProperties(text);
  const problems: PropertyProblem[] = parsed.errors.map((e) => ({
    key: `line ${e.line}`,
    message: e.message,
  }));
  const raw: Record<string, string> = {};
  for (const [k, v] of parsed.entries) raw[normalizeKey(k)] = v;
  const bad = (key: string, message: string) => problems.push({ key, message });
  const str = (key: string): string | undefined => {
    const v = raw[key]?.trim();
    return v ? v : undefined;
  };
  const int = (key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const v = str(key);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      bad(
        key,
        `must be an integer${max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : ` ≥ ${min}`}, got "${v}"`,
      );
      return undefined;
    }
    return Number(v);
  };
  const bool = (key: string): boolean | undefined => {
    const v = str(key);
    if (v === undefined) return undefined;
    if (!/^(true|false)$/i.test(v)) {
      bad(key, `must be true or false, got "${v}"`);
      return undefined;
    }
    return v.toLowerCase() === 'true';
  };

  const executableName = str('executableName');
  if (!executableName)
    bad('executableName', 'required: the command that runs your record processor, e.g. "node app.js"');
  const applicationName = str('applicationName');
  if (!applicationName) bad('applicationName', 'required: names the lease table (and the fan-out consumer)');
  else if (!str('tableName') && !/^[a-zA-Z0-9_.-]{3,255}$/.test(applicationName))
    bad(
      'applicationName',
      'must be a valid DynamoDB table name ([a-zA-Z0-9_.-]{3,255}) unless tableName is set',
    );
  const tableName = str('tableName');
  if (tableName && !/^[a-zA-Z0-9_.-]{3,255}$/.test(tableName))
    bad('tableName', 'must be a valid DynamoDB table name ([a-zA-Z0-9_.-]{3,255})');
  const streamName = str('streamName');
  const streamARN = str('streamArn');
  if (
    streamARN &&
    !/^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream\/[a-zA-Z0-9_.-]{1,128}$/.test(streamARN)
  )
    bad('streamArn', `not a Kinesis stream ARN: "${streamARN}"`);
  if (!streamName && !streamARN) bad('streamName', 'required (or streamArn): the stream to consume');

  let initialPosition: InitialPosition = 'LATEST';
  const ipRaw = str('initialPositionInStream');
  const ipExt = str('initialPositionInStreamExtended');
  let timestamp: Date | undefined;
  if (ipExt !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(ipExt))
      bad('initialPositionInStreamExtended', `must be a Unix time in seconds (AT_TIMESTAMP), got "${ipExt}"`);
    else timestamp = new Date(Number(ipExt) * 1000);
  }
  const ip = ipRaw?.toUpperCase();
  if (ip === 'LATEST' || ip === 'TRIM_HORIZON') {
    initialPosition = ip;
    if (timestamp)
      bad('initialPositionInStreamExtended', `conflicts with initialPositionInStream = ${ipRaw}`);
  } else if (ip === 'AT_TIMESTAMP' || (ip === undefined && timestamp)) {
    if (timestamp) initialPosition = { timestamp };
    else if (ipExt === undefined)
      bad(
        'initialPositionInStream',
        'AT_TIMESTAMP needs initialPositionInStreamExtended = <Unix time in seconds>',
      );
  } else if (ip !== undefined)
    bad('initialPositionInStream', `must be LATEST, TRIM_HORIZON or AT_TIMESTAMP, got "${ipRaw}"`);

  const kinesisEndpoint = str('kinesisEndpoint');
  if (kinesisEndpoint && !isUrl(kinesisEndpoint))
    bad('kinesisEndpoint', `not an http(s) URL: "${kinesisEndpoint}"`);
  const dynamoDBEndpoint = str('dynamoDBEndpoint');
  if (dynamoDBEndpoint && !isUrl(dynamoDBEndpoint))
    bad('dynamoDBEndpoint', `not an http(s) URL: "${dynamoDBEndpoint}"`);
  const region = str('regionName');
  if (region && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) bad('regionName', `not an AWS region: "${region}"`);

  const ignoredKeys: KclProperties['ignoredKeys'] = [];
  let profile: string | undefined;
  const creds = str('AwsCredentialsProvider');
  if (creds) {
    // Comma-separated `Name[|arg…]`; only the profile provider carries something awskit can use.
    for (const part of creds.split(',').map((p) => p.trim())) {
      const [name, ...args] = part.split('|');
      if (name === 'ProfileCredentialsProvider' && args[0]) profile = args[0];
      else if (!/^(Default(AWS)?Credentials(Provider(Chain)?)?|DefaultCredentialsProvider)$/.test(name ?? ''))
        ignoredKeys.push({
          key: 'AwsCredentialsProvider',
          reason: `"${part}" is not used: awskit resolves credentials itself (--profile, AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO, role, instance metadata)`,
        });
    }
  }

  const modeRaw = str('retrievalMode')?.toUpperCase().replace(/[-_]/g, '');
  let mode: 'polling' | 'efo' = POLLING_KEYS.some((k) => str(k) !== undefined) ? 'polling' : 'efo';
  if (modeRaw === 'POLLING') mode = 'polling';
  else if (modeRaw === 'FANOUT') mode = 'efo';
  else if (modeRaw !== undefined && modeRaw !== 'DEFAULT')
    bad('retrievalMode', `must be FANOUT, POLLING or DEFAULT, got "${raw.retrievalMode}"`);

  const consumer: KclProperties['consumer'] = {};
  const maxRecords = int('maxRecords', 1, 10_000);
  const idle = int('idleTimeBetweenReadsInMillis', 0);
  if (maxRecords !== undefined || idle !== undefined)
    consumer.polling = {
      ...(maxRecords !== undefined ? { maxRecordsPerFetch: maxRecords } : {}),
      ...(idle !== undefined ? { idleTimeBetweenReadsMs: idle } : {}),
    };
  const failover = int('failoverTimeMillis', 1);
  if (failover !== undefined) {
    // The KCL's lease expiry: awskit's own leases and those of Java workers sharing the table.
    consumer.leaseDurationMs = failover;
    consumer.foreignLeaseDurationMs = failover;
  }
  const sync = int('shardSyncIntervalMillis', 1);
  if (sync !== undefined) consumer.shardSyncIntervalMs = sync;
  const maxLeases = int('maxLeasesForWorker', 1);
  if (maxLeases !== undefined) consumer.maxLeasesForWorker = maxLeases;
  const backoff = int('taskBackoffTimeMillis', 1);
  if (backoff !== undefined) consumer.handlerBackoff = { baseMs: backoff };
  const grace = int('shutdownGraceMillis', 0);
  if (grace) consumer.shutdownTimeoutMs = grace;
  const timeout = int('timeoutInSeconds', 1);
  if (bool('callProcessRecordsEvenForEmptyRecordList'))
    ignoredKeys.push({
      key: 'callProcessRecordsEvenForEmptyRecordList',
      reason: 'empty batches are never delivered (the consumer does not hand them to processors)',
    });

  const unknownKeys: string[] = [];
  for (const key of Object.keys(raw)) {
    if (MAPPED_KEYS.has(key)) continue;
    const why =
      IGNORED_KEYS[key] ?? (IGNORED_PREFIXES.some((p) => key.startsWith(p)) ? 'KCL 3.x key' : undefined);
    if (why) ignoredKeys.push({ key, reason: why });
    else unknownKeys.push(key);
  }

  if (problems.length) throw new PropertiesError(problems, options.file);
  return {
    command: executableName!.split(/ +/),
    executableName: executableName!,
    applicationName: applicationName!,
    ...(streamARN ? { streamARN } : { streamName: streamName! }),
    ...(tableName ? { tableName } : {}),
    ...(str('workerId') ? { workerId: str('workerId')! } : {}),
    initialPosition,
    ...(region ? { region } : {}),
    ...(kinesisEndpoint ? { kinesisEndpoint } : {}),
    ...(dynamoDBEndpoint ? { dynamoDBEndpoint } : {}),
    ...(profile ? { profile } : {}),
    mode,
    consumer,
    ...(timeout !== undefined ? { processingTimeoutMs: timeout * 1000 } : {}),
    raw,
    unknownKeys,
    ignoredKeys,
  };
}

/**
 * Reads and maps a KCL MultiLang `.properties` file (see {@link parseKclProperties}).
 * @returns the properties and the file's directory (the children's working directory by default).
 * @throws {PropertiesNotFoundError} when the file cannot be read. @throws {PropertiesError}
 */
export async function loadKclProperties(file: string): Promise<{ properties: KclProperties; dir: string }> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new PropertiesNotFoundError(file, e);
  }
  return { properties: parseKclProperties(text, { file }), dir: dirname(path) };
}
