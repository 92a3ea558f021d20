import { copyFileSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { createTestStream, localAwsEndpoint, testClientOptions, uniqueName } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from './helpers';

const EXAMPLE = fileURLToPath(new URL('../../../examples/kcl-multilang/', import.meta.url));
/** Where aws-kcl is installed in the workspace (the example's own `npm install` would put it beside it). */
const AWS_KCL_MODULES = fileURLToPath(
  new URL('../../../packages/kcl-multilang/node_modules', import.meta.url),
);

/** A PATH with `node` and nothing else: no Java anywhere (this machine has one in /usr/bin). */
function javaFreeEnv(): NodeJS.ProcessEnv {
  const bin = mkdtempSync(join(tmpdir(), 'kcl-path-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  expect(readdirSync(bin)).toEqual(['node']);
  return {
    PATH: bin,
    HOME: mkdtempSync(join(tmpdir(), 'awskit-cli-home-')),
    NODE_NO_WARNINGS: '1',
    NODE_PATH: AWS_KCL_MODULES,
    // --local goes to this endpoint (the test run's local AWS instead of :4566).
    AWSKIT_LOCAL_ENDPOINT: localAwsEndpoint(),
  };
}

/** The example app copied to a temp dir, its properties pointed at a fresh stream and application. */
function exampleFor(stream: string, app: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kcl-example-'));
  copyFileSync(join(EXAMPLE, 'sample_kcl_app.js'), join(dir, 'sample_kcl_app.js'));
  const text = readFileSync(join(EXAMPLE, 'app.properties'), 'utf8')
    .replace(/^streamName = .*$/m, `streamName = ${stream}`)
    .replace(/^applicationName = .*$/m, `applicationName = ${app}`);
  writeFileSync(join(dir, 'app.properties'), text);
  return join(dir, 'app.properties');
}

async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  context: () => string = () => '',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${context().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('awskit kcl run (bundled CLI, example app, local AWS)', () => {
  it('--help shows the migration from kcl-bootstrap in two lines', () => {
    const r = runCli(['kcl', 'run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Coming from aws-kcl (same .properties file, same processor, no Java):');
    expect(r.stdout).toMatch(
      /kcl-bootstrap --java \/usr\/bin\/java -e -p app\.properties +→ +awskit kcl run -p app\.properties/,
    );
  });

  it('a wrong properties file gives every problem at once, no stack trace, exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcl-bad-'));
    const file = join(dir, 'bad.properties');
    writeFileSync(
      file,
      'streamName = s\ninitialPositionInStream = YESTERDAY\nmaxRecords = 0\nsomethingElse = 1\n',
    );
    const r = runCli(['kcl', 'run', '-p', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('executableName: required');
    expect(r.stderr).toContain('applicationName: required');
    expect(r.stderr).toContain('initialPositionInStream: must be LATEST, TRIM_HORIZON or AT_TIMESTAMP');
    expect(r.stderr).toContain('maxRecords: must be an integer from 1 to 10000');
    expect(r.stderr).toContain('hint:');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    const missing = runCli(['kcl', 'run', join(dir, 'nope.properties')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read the properties file');
    expect(runCli(['kcl', 'run']).code).toBe(2);
  });

  it('runs the unchanged aws-kcl example with no Java on PATH; SIGTERM → shutdownRequested, checkpoint, leases released', async () => {
    const kinesis = await createClient(KinesisClient, testClientOptions());
    const dynamo = await createClient(DynamoDBClient, testClientOptions());
    const stream = await createTestStream(kinesis, { shardCount: 2 });
    const app = uniqueName('kclcli');
    const data = Array.from({ length: 20 }, (_, i) => `hello-${i}`);
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: data.map((d, i) => ({ PartitionKey: `k${i}`, Data: new TextEncoder().encode(d) })),
      }),
    );
    const props = exampleFor(stream, app);
    // `-j` and `-e` as kcl-bootstrap users pass them: accepted and ignored.
    const cli = startCli(
      ['--local', 'kcl', 'run', '-j', '/usr/bin/java', '-e', '-p', props],
      /consuming/,
      javaFreeEnv(),
    );
    await cli.ready;
    await waitFor(
      'every record printed by the processors',
      () => data.every((d) => new RegExp(` ${d} pid=`).test(cli.output().stderr)),
      30_000,
      () => cli.output().stderr,
    );
    await waitFor(
      'checkpoints of both shards',
      () => (cli.output().stderr.match(/\] checkpointed shardId-/g) ?? []).length >= 2,
    );
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    const { stderr, stdout } = cli.output();
    expect((stderr.match(/\] shutdownRequested shardId-/g) ?? []).length).toBe(2);
    expect((stderr.match(/\] leaseLost shardId-/g) ?? []).length).toBe(2);
    expect(stderr).not.toMatch(/checkpoint .* failed/);
    expect(stdout).toMatch(/stopped; 2 processor\(s\) started, 0 failed/);
    const items = (await dynamo.send(new ScanCommand({ TableName: app, ConsistentRead: true }))).Items ?? [];
    expect(items).toHaveLength(2);
    for (const i of items) {
      expect(i.leaseOwner).toBeUndefined(); // released on stop
      expect(i.checkpoint?.S).toMatch(/^\d+$/);
    }
    kinesis.destroy();
    dynamo.destroy();
  });
});
