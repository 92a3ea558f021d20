import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { IAMClient } from '@aws-sdk/client-iam';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { STSClient } from '@aws-sdk/client-sts';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import type { HttpRequest } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AWSKIT_VERSION,
  CoreErrorCode,
  clientResolution,
  createClient,
  isAwskitError,
  type Logger,
} from '../src/index';
import { makeHome, removeTempDirs } from './helpers';

let bare: string;
let configOnly: string;
let withEndpoint: string;

beforeAll(async () => {
  bare = await makeHome();
  configOnly = await makeHome({ config: '[default]\nregion = sa-east-1\n' });
  withEndpoint = await makeHome({
    config:
      '[default]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:4599\n\n[profile prod]\nregion = us-west-2\n',
    credentials: '[prod]\naws_access_key_id = AKIAPROD000000000001\naws_secret_access_key = prod-secret\n',
  });
});
afterAll(removeTempDirs);

/** A request handler that records the request instead of sending it. */
function capturingHandler() {
  const requests: HttpRequest[] = [];
  return {
    requests,
    handler: {
      handle: async (request: HttpRequest) => {
        requests.push(request);
        throw Object.assign(new Error('captured'), { name: 'CapturedRequest' });
      },
    },
  };
}

describe('createClient', () => {
  it('gives a local endpoint the HTTP/1.1 NodeHttpHandler, the endpoint, us-east-1 and test/test', async () => {
    const client = await createClient(KinesisClient, { local: true, env: { HOME: bare } });
    expect(client.config.requestHandler).toBeInstanceOf(NodeHttpHandler);
    expect(await client.config.endpoint?.()).toMatchObject({
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 4566,
    });
    expect(await client.config.region()).toBe('us-east-1');
    // Regression: the shared frozen LOCAL_CREDENTIALS made the SDK throw "Cannot set properties of undefined
    // (setting 'CREDENTIALS_CODE')" on the first call of every local client.
    expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'test', secretAccessKey: 'test' });
    expect(await client.config.maxAttempts()).toBe(5);
    client.destroy();
  });

  it('keeps the SDK default (HTTP/2 for Kinesis) against AWS', async () => {
    const client = await createClient(KinesisClient, {
      region: 'eu-central-1',
      env: { HOME: bare, AWS_ACCESS_KEY_ID: 'AKIAENV0000000000001', AWS_SECRET_ACCESS_KEY: 'secret' },
    });
    expect(client.config.requestHandler).toBeInstanceOf(NodeHttp2Handler);
    expect(client.config.requestHandler).not.toBeInstanceOf(NodeHttpHandler);
    expect(client.config.endpoint).toBeUndefined();
    expect(await client.config.region()).toBe('eu-central-1');
    expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'AKIAENV0000000000001' });
    expect(await client.config.maxAttempts()).toBe(3);
    client.destroy();
  });

  it('a plain-HTTP endpoint from the environment counts as local', async () => {
    const client = await createClient(DynamoDBClient, {
      env: { HOME: bare, AWS_ENDPOINT_URL_DYNAMODB: 'http://dynamo.internal:8000', AWS_REGION: 'eu-west-1' },
    });
    expect(client.config.requestHandler).toBeInstanceOf(NodeHttpHandler);
    expect(await client.config.endpoint?.()).toMatchObject({ hostname: 'dynamo.internal', port: 8000 });
    expect(await client.config.region()).toBe('eu-west-1');
    expect(clientResolution(client)?.endpoint.source).toBe('env:AWS_ENDPOINT_URL_<SERVICE>');
    client.destroy();
  });

  it('an https AWS endpoint option keeps the SDK handler and needs real credentials', async () => {
    const client = await createClient(KinesisClient, {
      endpoint: 'https://kinesis.us-east-1.amazonaws.com',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAOPT0000000000001', secretAccessKey: 's' },
      env: { HOME: bare },
    });
    expect(client.config.requestHandler).not.toBeInstanceOf(NodeHttpHandler);
    expect(await client.config.endpoint?.()).toMatchObject({
      protocol: 'https:',
      hostname: 'kinesis.us-east-1.amazonaws.com',
    });
    expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'AKIAOPT0000000000001' });
    client.destroy();
  });

  it('applies profile region and credentials', async () => {
    const client = await createClient(KinesisClient, { profile: 'prod', env: { HOME: withEndpoint } });
    expect(await client.config.region()).toBe('us-west-2');
    expect(await client.config.credentials()).toMatchObject({
      accessKeyId: 'AKIAPROD000000000001',
      secretAccessKey: 'prod-secret',
    });
    expect(clientResolution(client)).toMatchObject({
      profile: 'prod',
      endpoint: { source: 'aws' },
      region: { value: 'us-west-2', source: 'profile' },
      credentials: { source: 'profile:prod' },
    });
    client.destroy();
  });

  // Regression: the SDK re-reads AWS_ENDPOINT_URL* and the *process's* profile endpoint_url when no endpoint is
  // passed, so a client resolved to AWS for `--profile prod` could still be sent to the default profile's
  // endpoint_url (or an env var the `env` option did not have). awskit's resolution must be the only one.
  it('stops the SDK from picking a configured endpoint on its own when awskit resolved AWS', async () => {
    const { requests, handler } = capturingHandler();
    const client = await createClient(KinesisClient, {
      profile: 'prod',
      env: { HOME: withEndpoint },
      maxAttempts: 1,
      clientConfig: { requestHandler: handler },
    });
    expect(client.config.ignoreConfiguredEndpointUrls).toBe(true);
    await expect(client.send(new ListStreamsCommand({}))).rejects.toThrow('captured');
    expect(requests[0]?.hostname).toBe('kinesis.us-west-2.amazonaws.com');
    client.destroy();
  });

  it('sends an awskit/<version> user agent', async () => {
    const { requests, handler } = capturingHandler();
    const client = await createClient(KinesisClient, {
      local: true,
      env: { HOME: bare },
      maxAttempts: 1,
      clientConfig: { requestHandler: handler },
    });
    await expect(client.send(new ListStreamsCommand({}))).rejects.toThrow('captured');
    const req = requests[0]!;
    expect(req.hostname).toBe('127.0.0.1');
    expect(req.port).toBe(4566);
    const ua = `${req.headers['user-agent']} ${req.headers['x-amz-user-agent']}`;
    expect(ua).toContain(`awskit/${AWSKIT_VERSION}`);
    expect(req.headers.authorization).toContain('Credential=test/');
    client.destroy();
  });

  it('lets clientConfig override what awskit sets', async () => {
    const client = await createClient(KinesisClient, {
      local: true,
      env: { HOME: bare },
      clientConfig: { region: 'eu-north-1', maxAttempts: 7, endpoint: 'http://127.0.0.1:9999' },
    });
    expect(await client.config.region()).toBe('eu-north-1');
    expect(await client.config.maxAttempts()).toBe(7);
    expect(await client.config.endpoint?.()).toMatchObject({ port: 9999 });
    client.destroy();
  });

  it('uses the maxAttempts option', async () => {
    const client = await createClient(KinesisClient, { local: true, maxAttempts: 2, env: { HOME: bare } });
    expect(await client.config.maxAttempts()).toBe(2);
    client.destroy();
  });

  it('gives local clients test/test even when the default profile only holds a region', async () => {
    const client = await createClient(KinesisClient, { local: true, env: { HOME: configOnly } });
    expect(await client.config.region()).toBe('sa-east-1');
    expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'test', secretAccessKey: 'test' });
    client.destroy();
  });

  it.each([
    ['DynamoDBClient', DynamoDBClient, 'dynamodb'],
    ['IAMClient', IAMClient, 'iam'],
    ['STSClient', STSClient, 'sts'],
    ['ECRClient', ECRClient, 'ecr'],
    ['KinesisClient', KinesisClient, 'kinesis'],
  ] as const)('infers the service of %s', async (_name, Client, service) => {
    const client = await createClient(Client as new (c: object) => { destroy(): void }, {
      local: true,
      env: { HOME: bare },
    });
    expect(clientResolution(client)?.service).toBe(service);
    client.destroy();
  });

  // Regression: the bundled CLI failed with "cannot tell which service" because esbuild renamed KinesisClient.
  it('infers the service of a client class a bundler renamed (KinesisClient2)', async () => {
    const Renamed = { KinesisClient2: class extends KinesisClient {} }.KinesisClient2;
    expect(Renamed.name).toBe('KinesisClient2');
    const client = await createClient(Renamed, { local: true, env: { HOME: bare } });
    expect(clientResolution(client)?.service).toBe('kinesis');
    client.destroy();
  });

  it('signs IAM in us-east-1 against AWS whatever the profile region', async () => {
    const client = await createClient(IAMClient, {
      region: 'ap-northeast-2',
      credentials: { accessKeyId: 'AKIA1', secretAccessKey: 's' },
      env: { HOME: bare },
    });
    expect(await client.config.region()).toBe('us-east-1');
    client.destroy();
  });

  it('builds an IAM client against AWS with no region configured', async () => {
    const client = await createClient(IAMClient, {
      credentials: { accessKeyId: 'AKIA1', secretAccessKey: 's' },
      env: { HOME: bare },
    });
    expect(await client.config.region()).toBe('us-east-1');
    client.destroy();
  });

  it('keeps the resolved region for IAM against a local endpoint', async () => {
    const client = await createClient(IAMClient, { local: true, region: 'eu-west-1', env: { HOME: bare } });
    expect(await client.config.region()).toBe('eu-west-1');
    client.destroy();
  });

  it('rejects a client class it cannot map to a service with INVALID_CONFIG', async () => {
    class SomethingClient {
      constructor(readonly config: unknown) {}
    }
    const err = await createClient(SomethingClient, { local: true, env: { HOME: bare } }).catch((e) => e);
    expect(isAwskitError(err, CoreErrorCode.InvalidConfig)).toBe(true);
    expect(err.message).toContain('SomethingClient');
    expect(err.hint).toContain("service: 'kinesis'");
  });

  it('accepts an unknown client class when the service is given', async () => {
    class WrappedKinesis extends KinesisClient {}
    const client = await createClient(WrappedKinesis, {
      service: 'kinesis',
      local: true,
      env: { HOME: bare },
    });
    expect(client).toBeInstanceOf(KinesisClient);
    expect(clientResolution(client)?.service).toBe('kinesis');
    client.destroy();
  });

  it('passes resolution errors through (REGION_MISSING for AWS without a region)', async () => {
    await expect(createClient(KinesisClient, { env: { HOME: bare } })).rejects.toMatchObject({
      code: CoreErrorCode.RegionMissing,
    });
  });

  it('logs how the client was resolved, without secrets', async () => {
    const lines: Array<[string, Record<string, unknown> | undefined]> = [];
    const logger: Logger = {
      debug: (m, f) => lines.push([m, f]),
      info: () => {},
      warn: () => {},
      error: () => {},
    };
    const client = await createClient(KinesisClient, {
      region: 'us-east-1',
      logger,
      env: { HOME: bare, AWS_ACCESS_KEY_ID: 'AKIAENV0000000000001', AWS_SECRET_ACCESS_KEY: 'top-secret' },
    });
    expect(lines).toEqual([
      [
        'created AWS client',
        {
          service: 'kinesis',
          endpoint: 'aws',
          endpointSource: 'aws',
          region: 'us-east-1',
          credentialSource: 'env',
        },
      ],
    ]);
    expect(JSON.stringify(lines)).not.toContain('top-secret');
    client.destroy();
  });
});

describe('createClient timeouts', () => {
  it('requestTimeoutMs: a call to an endpoint that accepts and never answers fails instead of hanging', async () => {
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const client = await createClient(DynamoDBClient, {
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        env: { HOME: bare },
        maxAttempts: 1,
        requestTimeoutMs: 300,
      });
      const { ListTablesCommand } = await import('@aws-sdk/client-dynamodb');
      const err = await client.send(new ListTablesCommand({})).catch((e: unknown) => e);
      expect((err as Error).name).toBe('TimeoutError');
      expect(sockets.length).toBe(1);
      client.destroy();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('against AWS the timeouts go to the SDK default handler (its options shorthand)', async () => {
    const client = await createClient(KinesisClient, {
      region: 'us-east-1',
      env: { HOME: bare, AWS_ACCESS_KEY_ID: 'AKIAENV0000000000001', AWS_SECRET_ACCESS_KEY: 'x' },
      requestTimeoutMs: 30_000,
      connectionTimeoutMs: 2_000,
    });
    const handler = client.config.requestHandler as unknown as { metadata?: { handlerProtocol?: string } };
    expect(handler).toBeInstanceOf(NodeHttp2Handler);
    client.destroy();
  });
});
