import { randomBytes } from 'node:crypto';
import { CreateStreamCommand, type KinesisClient, waitUntilStreamExists } from '@aws-sdk/client-kinesis';
import { type ClientOptions, LOCAL_CREDENTIALS } from '@awskit/core';
import { LocalAwsError, LocalAwsErrorCode } from './errors';

/** Region every test client uses. */
export const TEST_REGION = 'us-east-1';

/**
 * The endpoint of the local AWS started by `@awskit/local/global-setup` (or given in `AWSKIT_TEST_ENDPOINT`).
 * @throws LocalAwsError `NO_TEST_ENDPOINT` when neither is there.
 */
export function localAwsEndpoint(): string {
  const url = process.env.AWSKIT_TEST_ENDPOINT;
  if (!url)
    throw new LocalAwsError(LocalAwsErrorCode.NoTestEndpoint, 'No local AWS for this test run', {
      hint: "Add `globalSetup: ['@awskit/local/global-setup']` to vitest.config.ts, or set AWSKIT_TEST_ENDPOINT.",
    });
  return url;
}

/**
 * Client options for the shared test local AWS: its endpoint, the test region, dummy credentials, and an empty
 * environment so a developer's AWS_* variables and profiles never leak into tests.
 */
export function testClientOptions(overrides: ClientOptions = {}): ClientOptions {
  return {
    endpoint: localAwsEndpoint(),
    region: TEST_REGION,
    credentials: LOCAL_CREDENTIALS,
    env: {},
    ...overrides,
  };
}

/** A fresh resource name (`prefix-<time>-<random>`), valid for streams, tables, users and repositories. */
export function uniqueName(prefix = 't'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Creates a fresh stream and waits until it is ACTIVE; returns its name. */
export async function createTestStream(
  kinesis: KinesisClient,
  { shardCount = 1, name = uniqueName('stream') }: { shardCount?: number; name?: string } = {},
): Promise<string> {
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }));
  await waitUntilStreamExists(
    { client: kinesis, maxWaitTime: 30, minDelay: 0.1, maxDelay: 0.5 },
    { StreamName: name },
  );
  return name;
}

/** Clears every IAM/STS/ECR resource in the local AWS's moto (`POST /moto-api/reset`). */
export async function resetMoto(endpoint = localAwsEndpoint()): Promise<void> {
  const r = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!r.ok) throw new Error(`moto reset failed: HTTP ${r.status} ${await r.text()}`);
}
