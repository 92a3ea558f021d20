import { describe, expect, it } from 'vitest';
import { serviceClientOptions } from '../src/daemon.js';
import { PropertiesError } from '../src/errors.js';
import { parseJavaProperties } from '../src/javaProperties.js';
import { parseKclProperties } from '../src/properties.js';

/** The shape of aws-kcl's samples/basic_sample/consumer/sample.properties. */
const SAMPLE = `# The script that abides by the multi-language protocol.
executableName = node sample_kcl_app.js

# The name of an Amazon Kinesis stream to process.
streamName = kclnodejssample

# Used by the KCL as the name of this application.
applicationName = kclnodejssample

AwsCredentialsProvider = DefaultCredentialsProvider

processingLanguage = nodejs/0.10

# Valid options at TRIM_HORIZON or LATEST.
initialPositionInStream = TRIM_HORIZON

# The KCL defaults to us-east-1
regionName = us-east-1
`;

describe('parseJavaProperties', () => {
  it('follows java.util.Properties.load: separators, comments, continuations, escapes, kept quotes', () => {
    const p = parseJavaProperties(
      [
        '# comment',
        '  ! also a comment',
        'a=1',
        'b : 2',
        'c 3',
        'd\t=\t  spaced value  ',
        'e = one \\',
        '    two',
        'f = \\u0041\\tB\\=',
        'workerId = "workerId"',
        'key\\ with\\ spaces = v',
        'empty',
        'a = last wins',
      ].join('\r\n'),
    );
    expect(Object.fromEntries(p.entries)).toEqual({
      a: 'last wins',
      b: '2',
      c: '3',
      d: 'spaced value  ',
      e: 'one two',
      f: 'A\tB=',
      workerId: '"workerId"',
      'key with spaces': 'v',
      empty: '',
    });
    expect(p.lines.get('e')).toBe(7);
    expect(p.errors).toEqual([]);
  });

  it('reports a malformed \\u escape with its line', () => {
    expect(parseJavaProperties('x = 1\ny = \\u12G4').errors).toEqual([
      { line: 2, message: 'malformed \\uxxxx escape "\\u12G4"' },
    ]);
  });
});

describe('parseKclProperties', () => {
  it('maps the aws-kcl sample file: command split on spaces, fan-out by default, known keys without effect listed', () => {
    const p = parseKclProperties(SAMPLE);
    expect(p.command).toEqual(['node', 'sample_kcl_app.js']);
    expect(p.streamName).toBe('kclnodejssample');
    expect(p.applicationName).toBe('kclnodejssample');
    expect(p.initialPosition).toBe('TRIM_HORIZON');
    expect(p.region).toBe('us-east-1');
    expect(p.mode).toBe('efo'); // RetrievalMode.DEFAULT with no polling key = FANOUT, as in the KCL
    expect(p.unknownKeys).toEqual([]);
    expect(p.ignoredKeys.map((k) => k.key)).toEqual(['processingLanguage']);
  });

  it('lists every problem at once, with its key', () => {
    let err: unknown;
    try {
      parseKclProperties(
        'streamArn = nope\ninitialPositionInStream = SOMEWHERE\nmaxRecords = 20000\nfailoverTimeMillis = soon\nkinesisEndpoint = localhost:4566\nretrievalMode = PUSH\n',
        { file: 'app.properties' },
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PropertiesError);
    const e = err as PropertiesError;
    expect(e.code).toBe('KCL_MULTILANG_INVALID_PROPERTIES');
    expect(e.problems.map((p) => p.key).sort()).toEqual(
      [
        'applicationName',
        'executableName',
        'failoverTimeMillis',
        'initialPositionInStream',
        'kinesisEndpoint',
        'maxRecords',
        'retrievalMode',
        'streamArn',
      ].sort(),
    );
    expect(e.message).toContain('app.properties');
    expect(e.message).toContain('maxRecords: must be an integer from 1 to 10000, got "20000"');
  });

  it('warns about unknown keys instead of failing, and accepts any case of AwsCredentialsProvider', () => {
    const p = parseKclProperties(
      `${SAMPLE}\nmyOwnSetting = 1\nAWSCredentialsProvider = ProfileCredentialsProvider|dev\n`,
    );
    expect(p.unknownKeys).toEqual(['myOwnSetting']);
    expect(p.profile).toBe('dev');
  });

  it('maps polling keys, failover time, timeouts and the stream ARN (ARN wins)', () => {
    const p = parseKclProperties(
      [
        'executableName = python3  app.py --flag',
        'streamName = ignored',
        'streamArn = arn:aws:kinesis:us-east-1:000000000000:stream/orders',
        'applicationName = orders-app',
        'maxRecords = 500',
        'idleTimeBetweenReadsInMillis = 250',
        'failoverTimeMillis = 20000',
        'timeoutInSeconds = 7',
        'workerId = w1',
        'kinesisEndpoint = http://127.0.0.1:4566',
      ].join('\n'),
    );
    expect(p.command).toEqual(['python3', 'app.py', '--flag']);
    expect(p.streamARN).toBe('arn:aws:kinesis:us-east-1:000000000000:stream/orders');
    expect(p.streamName).toBeUndefined();
    expect(p.mode).toBe('polling');
    expect(p.consumer).toEqual({
      polling: { maxRecordsPerFetch: 500, idleTimeBetweenReadsMs: 250 },
      leaseDurationMs: 20_000,
      foreignLeaseDurationMs: 20_000,
    });
    expect(p.processingTimeoutMs).toBe(7_000);
    expect(p.workerId).toBe('w1');
  });

  it('takes AT_TIMESTAMP from initialPositionInStreamExtended (Unix seconds)', () => {
    const base = 'executableName = node a.js\nstreamName = s\napplicationName = app\n';
    expect(
      parseKclProperties(
        `${base}initialPositionInStream = AT_TIMESTAMP\ninitialPositionInStreamExtended = 1700000000\n`,
      ).initialPosition,
    ).toEqual({ timestamp: new Date(1_700_000_000_000) });
    expect(
      parseKclProperties(`${base}initialPositionInStreamExtended = 1700000000\n`).initialPosition,
    ).toEqual({
      timestamp: new Date(1_700_000_000_000),
    });
    expect(() => parseKclProperties(`${base}initialPositionInStream = at_timestamp\n`)).toThrow(
      /AT_TIMESTAMP needs initialPositionInStreamExtended/,
    );
    expect(parseKclProperties(`${base}retrievalMode = fanout\nmaxRecords = 10\n`).mode).toBe('efo');
  });
});

describe('serviceClientOptions', () => {
  const props = parseKclProperties(
    'executableName = node a.js\nstreamName = s\napplicationName = app\nregionName = eu-west-1\nkinesisEndpoint = http://127.0.0.1:1111\ndynamoDBEndpoint = http://127.0.0.1:2222\n',
  );
  it('uses the file’s per-service endpoints and region when no flag says otherwise', () => {
    expect(serviceClientOptions(props, 'kinesis', {})).toMatchObject({
      endpoint: 'http://127.0.0.1:1111',
      region: 'eu-west-1',
    });
    expect(serviceClientOptions(props, 'dynamodb', {}).endpoint).toBe('http://127.0.0.1:2222');
  });
  it('lets --local / --endpoint-url / --region win over the file', () => {
    const local = serviceClientOptions(props, 'kinesis', { local: true, region: 'us-east-1' });
    expect(local.endpoint).toBeUndefined();
    expect(local.local).toBe(true);
    expect(local.region).toBe('us-east-1');
    expect(serviceClientOptions(props, 'dynamodb', { endpoint: 'http://127.0.0.1:3333' }).endpoint).toBe(
      'http://127.0.0.1:3333',
    );
  });
});
