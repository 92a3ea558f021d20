import { startLocalAws } from './localAws';

/**
 * Vitest global setup: starts one local AWS on free ports for the whole test run and exports its endpoint to the
 * test workers as `AWSKIT_TEST_ENDPOINT`. If `AWSKIT_TEST_ENDPOINT` is already set (e.g. `awskit local up` in
 * another terminal), that one is used and nothing is started.
 *
 * @example
 * // vitest.config.ts
 * export default defineConfig({ test: { globalSetup: ['@awskit/local/global-setup'] } });
 */
export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.AWSKIT_TEST_ENDPOINT) return undefined;
  const aws = await startLocalAws({ port: 0, latencyMs: 20 });
  process.env.AWSKIT_TEST_ENDPOINT = aws.endpoint;
  return () => aws.stop();
}
