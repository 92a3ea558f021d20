import type { Command } from 'commander';
import { cliLogger, ExitCode, globalFlags, output, UsageError } from '../context';

const SERVICES = ['kinesis', 'dynamodb', 'iam', 'sts', 'ecr'] as const;

/** `awskit local up`: the no-Docker local AWS. */
export function registerLocal(program: Command): void {
  const local = program
    .command('local')
    .description('Run a LocalStack-compatible local AWS without Docker or Java');
  local
    .command('up')
    .description(
      'Start Kinesis (kinesis-local), DynamoDB (dynalite) and IAM/STS/ECR (moto, if python3 has it) behind one endpoint,\nrun init hooks, and keep running until Ctrl-C.',
    )
    .option('-p, --port <port>', 'edge port (0 = any free port)', '4566')
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option(
      '--init-dir <dir>',
      'LocalStack-style init directory with boot.d/start.d/ready.d/shutdown.d scripts',
    )
    .option('--persist-dir <dir>', 'keep Kinesis and DynamoDB data here across restarts')
    .option('--services <list>', `comma-separated subset of ${SERVICES.join(',')}`)
    .option(
      '--latency-ms <ms>',
      'delay of create/split/merge operations, like LocalStack KINESIS_LATENCY',
      '100',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ awskit local up --init-dir examples/localstack --region ap-northeast-2
  $ awskit local up --port 4567 --services kinesis,dynamodb
  $ AWSKIT_LOCAL=1 awskit env          # what clients will use while it runs

Clients find it with AWSKIT_LOCAL=1 (or --local, or AWS_ENDPOINT_URL=http://127.0.0.1:4566).
Health: GET /_localstack/health   Init hooks: GET /_localstack/init`,
    )
    .action(
      async (
        opts: {
          port: string;
          host: string;
          initDir?: string;
          persistDir?: string;
          services?: string;
          latencyMs: string;
        },
        cmd: Command,
      ) => {
        const flags = globalFlags(cmd);
        const port = Number(opts.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new UsageError(`--port must be a port number, got "${opts.port}"`);
        const services = opts.services
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        for (const s of services ?? [])
          if (!(SERVICES as readonly string[]).includes(s))
            throw new UsageError(
              `Unknown service "${s}" in --services`,
              `Choose from ${SERVICES.join(', ')}.`,
            );
        const { startLocalAws } = await import('@awskit/local');
        const logger = cliLogger(flags);
        const started = Date.now();
        const aws = await startLocalAws({
          port,
          host: opts.host,
          region: flags.region ?? 'us-east-1',
          latencyMs: Number(opts.latencyMs),
          logger,
          ...(opts.initDir ? { initDir: opts.initDir } : {}),
          ...(opts.persistDir ? { persistDir: opts.persistDir } : {}),
          ...(services ? { services: services as (typeof SERVICES)[number][] } : {}),
        });
        const svc = aws.services();
        const failed = aws.initScripts().filter((s) => s.state === 'ERROR');
        output(
          flags,
          () =>
            [
              `awskit local AWS ready in ${Date.now() - started} ms at ${aws.endpoint}`,
              ...Object.entries(svc).map(([name, status]) => `  ${name.padEnd(9)} ${status}`),
              ...aws.initScripts().map((s) => `  hook ${s.stage.toLowerCase()}/${s.name}: ${s.state}`),
              '',
              `Use it: export AWS_ENDPOINT_URL=${aws.endpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=${aws.region}`,
              '   or: AWSKIT_LOCAL=1 (awskit commands), --local (one command). Ctrl-C stops it.',
            ].join('\n'),
          { endpoint: aws.endpoint, region: aws.region, services: svc, init: aws.init() },
        );
        if (failed.length)
          logger.warn(`${failed.length} init script(s) failed: ${failed.map((s) => s.name).join(', ')}`);
        await new Promise<void>((resolve) => {
          let stopping = false;
          const stop = (why: string, code: number) => {
            if (stopping) return;
            stopping = true;
            if (!flags.quiet) process.stderr.write(`\n${why}: stopping the local AWS...\n`);
            aws.stop().then(() => {
              process.exitCode = code;
              resolve();
            });
          };
          process.once('SIGINT', () => stop('interrupted', ExitCode.Ok));
          process.once('SIGTERM', () => stop('terminated', ExitCode.Ok));
          aws.crashed.then((err) => {
            logger.error(err.message);
            stop('an emulator crashed', ExitCode.Failure);
          });
        });
      },
    );
}
