import { request } from 'node:http';
import { GetUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { createClient } from '@awskit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../src/faultProxy';
import { type LocalAws, startLocalAws } from '../src/localAws';
import { createRequestGuard } from '../src/requestGuard';
import { localAwsEndpoint, testClientOptions, uniqueName } from '../src/testing';

/** A raw HTTP request with exactly these headers (fetch would not let us set Host). */
function send(
  endpoint: string,
  opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  const u = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        headers: opts.headers ?? {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A form post as a web page would send it: IAM's query protocol is exactly an HTML form. */
const createUserForm = (name: string, headers: Record<string, string>) => ({
  method: 'POST',
  path: '/',
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    authorization:
      'AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x',
    ...headers,
  },
  body: `Action=CreateUser&UserName=${name}&Version=2010-05-08`,
});

let iam: IAMClient;
beforeAll(async () => {
  iam = await createClient(IAMClient, testClientOptions());
});
afterAll(() => iam?.destroy());

const userExists = (name: string) =>
  iam.send(new GetUserCommand({ UserName: name })).then(
    () => true,
    (e: Error) => (e.name === 'NoSuchEntityException' ? false : Promise.reject(e)),
  );

describe('local AWS edge: DNS rebinding and cross-site requests (issue 14 item 7)', () => {
  it('refuses a Host that is not a loopback name, and does not run the IAM action', async () => {
    const endpoint = localAwsEndpoint();
    const port = new URL(endpoint).port;
    const name = uniqueName('rebind');
    const r = await send(endpoint, createUserForm(name, { host: `attacker.example:${port}` }));
    expect(r.status).toBe(403);
    expect(r.body).toContain('HOST_NOT_ALLOWED');
    expect(await userExists(name)).toBe(false);
    const health = await send(endpoint, {
      path: '/_localstack/health',
      headers: { host: 'rebound.example' },
    });
    expect(health.status).toBe(403);
    // Loopback names still work, with or without a port.
    for (const host of [
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      'localhost.localstack.cloud',
    ])
      expect((await send(endpoint, { path: '/_localstack/health', headers: { host } })).status, host).toBe(
        200,
      );
  });

  it('refuses cross-site form posts of IAM actions and of /moto-api/reset', async () => {
    const endpoint = localAwsEndpoint();
    const name = uniqueName('csrf');
    const fromPage = await send(endpoint, createUserForm(name, { origin: 'https://evil.example' }));
    expect(fromPage.status).toBe(403);
    expect(fromPage.body).toContain('CROSS_ORIGIN_REQUEST');
    const fromSandbox = await send(endpoint, createUserForm(name, { origin: 'null' }));
    expect(fromSandbox.status).toBe(403);
    const fetchMetadata = await send(endpoint, createUserForm(name, { 'sec-fetch-site': 'cross-site' }));
    expect(fetchMetadata.status).toBe(403);
    expect(await userExists(name)).toBe(false);
    const reset = await send(endpoint, {
      method: 'POST',
      path: '/moto-api/reset',
      headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
    });
    expect(reset.status).toBe(403);
    // The same form from the machine itself (a local tool or page on localhost) goes through.
    const local = await send(endpoint, createUserForm(name, { origin: 'http://localhost:3000' }));
    expect(local.status).toBe(200);
    expect(await userExists(name)).toBe(true);
  });
});

describe('bound to another interface on purpose', () => {
  let aws: LocalAws;
  let proxy: FaultProxy;
  beforeAll(async () => {
    aws = await startLocalAws({ port: 0, host: '0.0.0.0', services: ['dynamodb'] });
    proxy = await startFaultProxy({ target: aws.endpoint, port: 0 });
  });
  afterAll(async () => {
    await proxy?.close();
    await aws?.stop();
  });

  it('accepts any Host on the edge but still refuses cross-site browser requests', async () => {
    const host = `my-laptop.lan:${aws.port}`;
    expect((await send(aws.endpoint, { path: '/_localstack/health', headers: { host } })).status).toBe(200);
    const cross = await send(aws.endpoint, {
      method: 'POST',
      path: '/moto-api/reset',
      headers: { host, origin: 'https://evil.example' },
    });
    expect(cross.status).toBe(403);
    // The page's own origin (same host and port) is not cross-origin.
    const same = await send(aws.endpoint, {
      path: '/_localstack/health',
      headers: { host, origin: `http://${host}` },
    });
    expect(same.status).toBe(200);
  });

  it('the fault proxy binds loopback by default and applies the same Host and Origin rule', async () => {
    expect(new URL(proxy.endpoint).hostname).toBe('127.0.0.1');
    const port = new URL(proxy.endpoint).port;
    const rebound = await send(proxy.endpoint, {
      path: '/_localstack/health',
      headers: { host: `attacker.example:${port}` },
    });
    expect(rebound.status).toBe(403);
    const cross = await send(proxy.endpoint, {
      path: '/_localstack/health',
      headers: { host: `127.0.0.1:${port}`, origin: 'https://evil.example' },
    });
    expect(cross.status).toBe(403);
    const ok = await send(proxy.endpoint, {
      path: '/_localstack/health',
      headers: { host: `localhost:${port}` },
    });
    expect(ok.status).toBe(200);
  });
});

describe('createRequestGuard', () => {
  const loopback = createRequestGuard({ boundHost: '127.0.0.1', allowedHosts: ['aws.internal'] });
  it('accepts loopback names and allowed hosts, refuses others while bound to loopback', () => {
    expect(loopback({ host: 'foo.localhost:4566' })).toBeUndefined();
    expect(loopback({ host: '127.1.2.3' })).toBeUndefined();
    expect(loopback({ host: 'aws.internal:4566' })).toBeUndefined();
    expect(loopback({ host: '127.0.0.1.evil.example' })?.code).toBe('HOST_NOT_ALLOWED');
    expect(loopback({ host: 'localhost.evil.example' })?.code).toBe('HOST_NOT_ALLOWED');
    expect(loopback({ host: '10.0.0.5:4566' })?.code).toBe('HOST_NOT_ALLOWED');
  });
  it('lets clients that are not browsers (no Origin, no Sec-Fetch-Site) through', () => {
    expect(loopback({ host: 'localhost', 'sec-fetch-mode': 'cors' })).toBeUndefined();
    expect(loopback({ host: 'localhost', 'sec-fetch-site': 'same-origin' })).toBeUndefined();
    expect(loopback({ host: 'localhost', origin: 'not a url' })?.code).toBe('CROSS_ORIGIN_REQUEST');
  });
});
