import { createServer } from 'node:net';
import {
  AccessDeniedException,
  KinesisClient,
  KinesisServiceException,
  ListStreamsCommand,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { ExpiredTokenException, STSServiceException } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AwskitError,
  CoreErrorCode,
  clientResolution,
  createClient,
  isAwskitError,
  toAwskitError,
} from '../src/index';
import { makeHome, removeTempDirs } from './helpers';

let home: string;
beforeAll(async () => {
  home = await makeHome();
});
afterAll(removeTempDirs);

/** A port nothing listens on: bind port 0, then close. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A service error built the way the SDK's protocol code builds one for an unmodeled error code. */
function unmodeled(name: string, message: string): STSServiceException {
  return new STSServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode: 403 } });
}

describe('toAwskitError: unreachable endpoints (for real)', () => {
  it.each(['127.0.0.1', 'localhost'])(
    'turns connection refused at a local endpoint (%s) into LOCAL_ENDPOINT_UNREACHABLE',
    async (host) => {
      const port = await closedPort();
      const endpoint = `http://${host}:${port}`;
      const client = await createClient(KinesisClient, { endpoint, maxAttempts: 1, env: { HOME: home } });
      const sdkError = await client.send(new ListStreamsCommand({})).catch((e) => e);
      client.destroy();
      const resolved = clientResolution(client)!;
      const err = toAwskitError(sdkError, {
        service: 'kinesis',
        operation: 'ListStreams',
        endpoint: resolved.endpoint.url,
        local: resolved.endpoint.local,
      });
      expect(err).toBeInstanceOf(AwskitError);
      expect(err.code).toBe(CoreErrorCode.LocalEndpointUnreachable);
      expect(err.message).toBe(
        `kinesis ListStreams: cannot reach the local AWS endpoint at ${endpoint} (ECONNREFUSED)`,
      );
      expect(err.hint).toContain('awskit local up');
      expect(err.cause).toBe(sdkError);
    },
  );

  // Regression: ARCHITECTURE documents the context as { service, endpoint, resource, region } (no `local`);
  // callers passing only the endpoint got the generic "check your network" hint for the local AWS.
  it('infers a local endpoint from the endpoint URL when `local` is not given', async () => {
    const port = await closedPort();
    const endpoint = `http://127.0.0.1:${port}`;
    const client = await createClient(KinesisClient, { endpoint, maxAttempts: 1, env: { HOME: home } });
    const sdkError = await client.send(new ListStreamsCommand({})).catch((e) => e);
    client.destroy();
    const err = toAwskitError(sdkError, { service: 'kinesis', endpoint });
    expect(err.code).toBe(CoreErrorCode.LocalEndpointUnreachable);
    expect(err.hint).toContain('awskit local up');
  });

  it('gives ENDPOINT_UNREACHABLE (not the local hint) for an AWS endpoint', () => {
    const e = Object.assign(new Error('getaddrinfo ENOTFOUND kinesis.xx-nowhere-1.amazonaws.com'), {
      code: 'ENOTFOUND',
    });
    const err = toAwskitError(e, {
      service: 'kinesis',
      endpoint: 'https://kinesis.xx-nowhere-1.amazonaws.com',
    });
    expect(err.code).toBe(CoreErrorCode.EndpointUnreachable);
    expect(err.message).toContain('(ENOTFOUND)');
    expect(err.hint).not.toContain('awskit local up');
  });

  it('an explicit local: false wins over the URL', () => {
    const e = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(toAwskitError(e, { endpoint: 'http://127.0.0.1:4566', local: false }).code).toBe(
      CoreErrorCode.EndpointUnreachable,
    );
  });

  it("NodeHttpHandler's connection timeout (no code) counts as unreachable", () => {
    // Built the way @smithy/node-http-handler builds it when connectionTimeout expires.
    const e = Object.assign(
      new Error(
        '@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 5000 ms.',
      ),
      { name: 'TimeoutError' },
    );
    const err = toAwskitError(e, { endpoint: 'http://localstack:4566' });
    expect(err.code).toBe(CoreErrorCode.LocalEndpointUnreachable);
    expect(err.message).toContain('(ETIMEDOUT)');
  });

  it('ENETUNREACH counts as unreachable', () => {
    const e = Object.assign(new Error('connect ENETUNREACH'), { code: 'ENETUNREACH' });
    expect(toAwskitError(e, { endpoint: 'https://kinesis.eu-west-1.amazonaws.com' }).code).toBe(
      CoreErrorCode.EndpointUnreachable,
    );
  });

  it('finds the network code inside an AggregateError or a cause chain', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED ::1:4566'), { code: 'ECONNREFUSED' });
    const aggregate = new AggregateError([new Error('other'), refused], 'connect failed');
    expect(toAwskitError(aggregate, { local: true }).code).toBe(CoreErrorCode.LocalEndpointUnreachable);
    const wrapped = new Error('request failed', { cause: { code: 'ECONNRESET' } });
    expect(toAwskitError(wrapped, { local: true }).code).toBe(CoreErrorCode.LocalEndpointUnreachable);
  });
});

describe('toAwskitError: AWS service errors', () => {
  it('ResourceNotFoundException → RESOURCE_NOT_FOUND naming the resource and region', () => {
    const e = new ResourceNotFoundException({
      message: 'Stream orders under account 123456789012 not found.',
      $metadata: { httpStatusCode: 400 },
    });
    const err = toAwskitError(e, {
      service: 'kinesis',
      operation: 'DescribeStreamSummary',
      resource: 'stream "orders"',
      region: 'eu-west-1',
    });
    expect(err.code).toBe(CoreErrorCode.ResourceNotFound);
    expect(err.message).toBe(
      'kinesis DescribeStreamSummary: stream "orders" not found in region eu-west-1: Stream orders under account 123456789012 not found.',
    );
    expect(err.hint).toContain('region');
    expect(err.hint).not.toContain('local AWS');
    expect(err.cause).toBe(e);
    expect(err.details).toMatchObject({ awsErrorName: 'ResourceNotFoundException', region: 'eu-west-1' });
  });

  it('the not-found hint mentions creating it locally for a local endpoint', () => {
    const e = new ResourceNotFoundException({ message: 'Stream x not found', $metadata: {} });
    expect(toAwskitError(e, { local: true }).hint).toContain('local AWS');
  });

  it('ExpiredTokenException → CREDENTIALS_EXPIRED', () => {
    const e = new ExpiredTokenException({
      message: 'The security token included in the request is expired',
      $metadata: {},
    });
    const err = toAwskitError(e, { service: 'sts', operation: 'GetCallerIdentity' });
    expect(err.code).toBe(CoreErrorCode.CredentialsExpired);
    expect(err.message).toContain('expired');
    expect(err.hint).toContain('aws sso login');
  });

  it('InvalidClientTokenId → CREDENTIALS_INVALID', () => {
    const e = unmodeled('InvalidClientTokenId', 'The security token included in the request is invalid.');
    const err = toAwskitError(e, { service: 'sts' });
    expect(err.code).toBe(CoreErrorCode.CredentialsInvalid);
    expect(err.message).toContain('InvalidClientTokenId');
    expect(err.hint).toContain('access key');
  });

  it('UnrecognizedClientException (Kinesis, DynamoDB) → CREDENTIALS_INVALID', () => {
    const e = new KinesisServiceException({
      name: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
      $fault: 'client',
      $metadata: {},
    });
    expect(toAwskitError(e).code).toBe(CoreErrorCode.CredentialsInvalid);
  });

  it('AccessDeniedException → ACCESS_DENIED', () => {
    const e = new AccessDeniedException({
      message: 'User: arn:aws:iam::123456789012:user/dev is not authorized to perform: kinesis:PutRecords',
      $metadata: {},
    });
    const err = toAwskitError(e, { service: 'kinesis', operation: 'PutRecords' });
    expect(err.code).toBe(CoreErrorCode.AccessDenied);
    expect(err.message).toContain('kinesis:PutRecords');
    expect(err.hint).toContain('IAM');
  });

  it('AccessDenied (query protocol: IAM, STS) → ACCESS_DENIED', () => {
    expect(toAwskitError(unmodeled('AccessDenied', 'not authorized')).code).toBe(CoreErrorCode.AccessDenied);
  });

  it.each([
    ['InvalidSignatureException', "Credential should be scoped to a valid region, not 'us-east-1'. "],
    ['SignatureDoesNotMatch', "Credential should be scoped to a valid region, not 'eu-west-1'."],
    ['AuthFailure', 'The region us-east-1 is wrong for this request'],
  ])('%s with a region message → WRONG_REGION', (name, message) => {
    const err = toAwskitError(unmodeled(name, message), { region: 'us-east-1' });
    expect(err.code).toBe(CoreErrorCode.WrongRegion);
    expect(err.message).toContain('wrong region in region us-east-1');
    expect(err.hint).toContain('AWS_REGION');
  });

  it('a signature error without a region message → CREDENTIALS_INVALID', () => {
    const e = unmodeled(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    );
    expect(toAwskitError(e).code).toBe(CoreErrorCode.CredentialsInvalid);
  });

  it.each([
    [
      'ProvisionedThroughputExceededException (class)',
      new ProvisionedThroughputExceededException({ message: 'Rate exceeded for shard', $metadata: {} }),
    ],
    ['ThrottlingException', unmodeled('ThrottlingException', 'Rate exceeded')],
    ['Throttling (query protocol)', unmodeled('Throttling', 'Rate exceeded')],
    ['LimitExceededException', unmodeled('LimitExceededException', 'Rate exceeded for stream')],
  ])('%s → THROTTLED', (_name, e) => {
    const err = toAwskitError(e);
    expect(err.code).toBe(CoreErrorCode.Throttled);
    expect(err.message).toContain('Rate exceeded');
  });

  it('a credentials provider error → CREDENTIALS_MISSING', () => {
    const e = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    const err = toAwskitError(e);
    expect(err.code).toBe(CoreErrorCode.CredentialsMissing);
    expect(err.hint).toContain('aws configure');
  });

  it('the SDK "Region is missing" error → REGION_MISSING', () => {
    expect(toAwskitError(new Error('Region is missing')).code).toBe(CoreErrorCode.RegionMissing);
  });

  it('an AbortError → ABORTED', () => {
    const e = Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    expect(toAwskitError(e).code).toBe(CoreErrorCode.Aborted);
  });

  it('reads the error name from Code and namespaced __type too', () => {
    expect(toAwskitError({ Code: 'AccessDenied', message: 'no' }).code).toBe(CoreErrorCode.AccessDenied);
    expect(
      toAwskitError({
        __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
        message: 'no table',
      }).code,
    ).toBe(CoreErrorCode.ResourceNotFound);
  });
});

describe('toAwskitError: anything else', () => {
  it('unknown errors → UNKNOWN with the cause kept', () => {
    const e = new TypeError('something odd');
    const err = toAwskitError(e, { service: 'kinesis', operation: 'PutRecord' });
    expect(err.code).toBe(CoreErrorCode.Unknown);
    expect(err.message).toBe('kinesis PutRecord: something odd');
    expect(err.cause).toBe(e);
  });

  it('non-Error throwables → UNKNOWN', () => {
    expect(toAwskitError('boom')).toMatchObject({
      code: CoreErrorCode.Unknown,
      message: 'boom',
      cause: 'boom',
    });
    expect(toAwskitError(undefined).code).toBe(CoreErrorCode.Unknown);
    expect(toAwskitError({ message: 'plain object' }).message).toBe('plain object');
  });

  it('an unknown AWS error → UNKNOWN keeping the AWS name in details', () => {
    const err = toAwskitError(unmodeled('SomethingNewException', 'new failure'));
    expect(err.code).toBe(CoreErrorCode.Unknown);
    expect(err.details?.awsErrorName).toBe('SomethingNewException');
  });

  it('passes AwskitErrors through unchanged', () => {
    const original = new AwskitError('STREAM_NOT_FOUND', 'no stream', { hint: 'create it' });
    expect(toAwskitError(original)).toBe(original);
  });
});

describe('AwskitError and isAwskitError', () => {
  it('carries code, message, hint, cause, details and the subclass name', () => {
    class KinesisThingError extends AwskitError {}
    const cause = new Error('sdk');
    const e = new KinesisThingError('THING', 'it broke', { hint: 'do x', cause, details: { shard: 'a' } });
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: 'KinesisThingError', code: 'THING', message: 'it broke', hint: 'do x' });
    expect(e.cause).toBe(cause);
    expect(e.details).toEqual({ shard: 'a' });
    expect(isAwskitError(e)).toBe(true);
    expect(isAwskitError(e, 'THING')).toBe(true);
    expect(isAwskitError(e, 'OTHER')).toBe(false);
  });

  it('matches a plain-object copy by its marker (an error from a duplicate install)', () => {
    const original = new AwskitError(CoreErrorCode.Throttled, 'slow down');
    const copy = { ...original };
    expect(copy).not.toBeInstanceOf(AwskitError);
    expect(isAwskitError(copy)).toBe(true);
    expect(isAwskitError(copy, CoreErrorCode.Throttled)).toBe(true);
    expect(isAwskitError(copy, CoreErrorCode.Unknown)).toBe(false);
    expect(isAwskitError(JSON.parse(JSON.stringify(original)), CoreErrorCode.Throttled)).toBe(true);
    // toAwskitError keeps such an error rather than wrapping it as UNKNOWN.
    expect(toAwskitError(copy)).toBe(copy);
  });

  it('matches an Error subclass from another copy of core', () => {
    class OtherCopyAwskitError extends Error {
      readonly isAwskitError = true;
      readonly code = 'RESOURCE_NOT_FOUND';
    }
    expect(isAwskitError(new OtherCopyAwskitError('x'), CoreErrorCode.ResourceNotFound)).toBe(true);
  });

  it('does not match other values', () => {
    expect(isAwskitError(new Error('x'))).toBe(false);
    expect(isAwskitError({ code: 'THROTTLED' })).toBe(false);
    expect(isAwskitError({ isAwskitError: 'yes', code: 'X' })).toBe(false);
    expect(isAwskitError(null)).toBe(false);
    expect(isAwskitError(undefined)).toBe(false);
    expect(isAwskitError('AwskitError')).toBe(false);
  });
});
