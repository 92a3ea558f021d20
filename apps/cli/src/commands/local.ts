import { readFile } from 'node:fs/promises';
import { isAwskitError } from '@awskit/core';
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
      'Start Kinesis (kinesis-local), DynamoDB (dynalite) and IAM/STS/ECR (moto, if python3 has it) behind one endpoint,\nrun init hooks, and keep running until Ctrl-C. Ready once Kinesis and DynamoDB run; moto finishes starting in\nthe background (requests to IAM/STS/ECR wait for it).',
    )
    .option('-p, --port <port>', 'edge port (0 = any free port)', '4566')
    .option(
      '--host <host>',
      'interface to bind; anything but loopback exposes the local AWS (no auth) to the network',
      '127.0.0.1',
    )
    .option(
      '--allowed-host <name>',
      'extra Host name accepted while bound to loopback (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--init-timeout <ms>',
      'longest an init script may run before it is killed (0 = no limit)',
      '120000',
    )
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
    .option(
      '--faults <file>',
      'put a fault-injecting proxy in front: a JSON file { "seed"?: n, "rules": [...] } (see below)',
    )
    .option('--faults-port <port>', 'port of the fault proxy (0 = any free port)', '0')
    .option(
      '--faults-seed <n>',
      "seed of the fault proxy's random choices (overrides the file's; replays a run)",
    )
    .addHelpText(
      'after',
      `
Examples:
  $ awskit local up --init-dir examples/localstack --region ap-northeast-2
  $ awskit local up --port 4567 --services kinesis,dynamodb
  $ awskit local up --faults faults.json --faults-port 4577
  $ AWSKIT_LOCAL=1 awskit env          # what clients will use while it runs

Clients find it with AWSKIT_LOCAL=1 (or --local, or AWS_ENDPOINT_URL=http://127.0.0.1:4566).
Health: GET /_localstack/health   Init hooks: GET /_localstack/init
Security: every emulator listens on 127.0.0.1 only; the edge refuses a Host that is not a loopback name (DNS
rebinding) unless --host binds another interface, and always refuses cross-site browser requests. Init scripts
run in their own process group with no AWS_* variables from your shell, and are killed after --init-timeout.

Fault injection (--faults): clients use the proxy endpoint printed at start; it forwards to the local AWS and,
per rule, injects a fault into matching calls. The seed is printed: pass it back with --faults-seed to replay.
  {
    "seed": 42,
    "rules": [
      { "kind": "throttle", "service": "kinesis", "operation": "PutRecords", "probability": 0.1 },
      { "kind": "partialPutRecords", "failFraction": 0.2, "probability": 0.3 },
      { "kind": "resetAfterForward", "service": "dynamodb", "operation": "UpdateItem", "probability": 0.05 },
      { "kind": "latency", "latencyMs": 200, "probability": 0.5 },
      { "kind": "streamCut", "afterMs": 3000, "probability": 1 },
      { "kind": "unavailable", "fromMs": 10000, "untilMs": 13000 }
    ]
  }
  kinds: latency http500 http503 throttle partialPutRecords resetBeforeForward resetAfterForward hang
         streamCut streamSilent unavailable
  match: service, operation (name or list), probability 0..1, afterCalls, maxTimes, fromMs/untilMs
  per kind: latencyMs (latency, hang), failFraction/errorCode (partialPutRecords), errorCode (throttle),
            afterMs (streamCut, streamSilent), forward (hang)
  Injected faults are counted by kind and printed when it stops.`,
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
          faults?: string;
          faultsPort: string;
          faultsSeed?: string;
          allowedHost?: string[];
          initTimeout: string;
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
        const initTimeoutMs = Number(opts.initTimeout);
        if (!Number.isInteger(initTimeoutMs) || initTimeoutMs < 0)
          throw new UsageError(
            `--init-timeout must be milliseconds (0 = no limit), got "${opts.initTimeout}"`,
          );
        const faultsPort = Number(opts.faultsPort);
        if (!Number.isInteger(faultsPort) || faultsPort < 0 || faultsPort > 65535)
          throw new UsageError(`--faults-port must be a port number, got "${opts.faultsPort}"`);
        const faultsSeed = opts.faultsSeed === undefined ? undefined : Number(opts.faultsSeed);
        if (
          faultsSeed !== undefined &&
          !(Number.isInteger(faultsSeed) && faultsSeed >= 0 && faultsSeed <= 0xffffffff)
        )
          throw new UsageError(
            `--faults-seed must be an integer from 0 to 4294967295, got "${opts.faultsSeed}"`,
          );
        if (!opts.faults && (opts.faultsSeed !== undefined || opts.faultsPort !== '0'))
          throw new UsageError('--faults-port and --faults-seed need --faults <file>');
        const { startLocalAws, startFaultProxy, parseFaultConfig, isLoopbackHostname } = await import(
          '@awskit/local'
        );
        // Read and check the fault file before starting anything, so a typo costs no emulator start.
        const faults = opts.faults ? await readFaultFile(opts.faults, parseFaultConfig) : undefined;
        const logger = cliLogger(flags);
        if (!isLoopbackHostname(opts.host))
          logger.warn(
            `--host ${opts.host}: the local AWS has no authentication; anyone who can reach this interface can read, write and reset it. Bind 127.0.0.1 unless you mean it.`,
          );
        const started = Date.now();
        // A signal during start-up aborts it: the running hook is killed, shutdown.d runs, nothing is left behind.
        const abort = new AbortController();
        let startupSignal: NodeJS.Signals | undefined;
        const onStartupSignal = (sig: NodeJS.Signals) => {
          startupSignal = sig;
          if (!flags.quiet)
            process.stderr.write(
              `\n${sig === 'SIGINT' ? 'interrupted' : 'terminated'} during start-up: stopping...\n`,
            );
          abort.abort();
        };
        process.once('SIGINT', onStartupSignal);
        process.once('SIGTERM', onStartupSignal);
        // The start-up handlers stay until the run-phase ones are in place: a signal is never left to the default
        // action (killing the CLI without stopping the emulators), not even between the two phases.
        const dropStartupHandlers = () => {
          process.off('SIGINT', onStartupSignal);
          process.off('SIGTERM', onStartupSignal);
        };
        let aws: Awaited<ReturnType<typeof startLocalAws>>;
        try {
          aws = await startLocalAws({
            port,
            host: opts.host,
            region: flags.region ?? 'us-east-1',
            latencyMs: Number(opts.latencyMs),
            logger,
            initTimeoutMs,
            signal: abort.signal,
            ...(opts.allowedHost?.length ? { allowedHosts: opts.allowedHost } : {}),
            ...(opts.initDir ? { initDir: opts.initDir } : {}),
            ...(opts.persistDir ? { persistDir: opts.persistDir } : {}),
            ...(services ? { services: services as (typeof SERVICES)[number][] } : {}),
          });
        } catch (err) {
          dropStartupHandlers();
          if (startupSignal && isAwskitError(err, 'START_ABORTED')) {
            process.exitCode = ExitCode.Ok;
            return;
          }
          throw err;
        }
        const seed = faultsSeed ?? faults?.seed;
        const proxy = faults
          ? await startFaultProxy({
              target: aws.endpoint,
              rules: faults.rules,
              port: faultsPort,
              host: opts.host,
              logger,
              ...(seed !== undefined ? { seed } : {}),
            }).catch(async (err: unknown) => {
              dropStartupHandlers();
              await aws.stop();
              throw err;
            })
          : undefined;
        if (startupSignal) {
          // The signal came as the last emulator (or the proxy) finished starting: stop what started.
          dropStartupHandlers();
          await proxy?.close();
          await aws.stop();
          process.exitCode = ExitCode.Ok;
          return;
        }
        const clientEndpoint = proxy?.endpoint ?? aws.endpoint;
        const svc = aws.services();
        const starting = Object.entries(svc)
          .filter(([, status]) => status === 'starting')
          .map(([name]) => name);
        const failed = aws.initScripts().filter((s) => s.state === 'ERROR');
        await new Promise<void>((resolve) => {
          let stopping = false;
          const stop = (why: string, code: number) => {
            if (stopping) return;
            stopping = true;
            if (!flags.quiet) process.stderr.write(`\n${why}: stopping the local AWS...\n`);
            if (proxy && !flags.quiet) {
              const injected = Object.entries(proxy.counts()).filter(([, n]) => n > 0);
              process.stderr.write(
                `faults injected (seed ${proxy.seed}): ${
                  injected.length ? injected.map(([k, n]) => `${k}=${n}`).join(' ') : 'none'
                }\n`,
              );
            }
            (proxy ? proxy.close() : Promise.resolve())
              .then(() => aws.stop())
              .then(() => {
                process.exitCode = code;
                resolve();
              });
          };
          process.once('SIGINT', () => stop('interrupted', ExitCode.Ok));
          process.once('SIGTERM', () => stop('terminated', ExitCode.Ok));
          dropStartupHandlers();
          // Ready is announced only once a signal is handled: whoever reads it may send Ctrl-C at once.
          output(
            flags,
            () =>
              [
                `awskit local AWS ready in ${Date.now() - started} ms at ${aws.endpoint}`,
                ...Object.entries(svc).map(([name, status]) => `  ${name.padEnd(9)} ${status}`),
                ...(starting.length
                  ? [
                      `  (${starting.join(', ')}: moto finishes starting in the background; requests to them wait for it)`,
                    ]
                  : []),
                ...aws.initScripts().map((s) => `  hook ${s.stage.toLowerCase()}/${s.name}: ${s.state}`),
                ...(proxy
                  ? [
                      '',
                      `fault proxy at ${proxy.endpoint} -> ${aws.endpoint}: ${
                        faults!.rules.length
                      } rule(s), seed ${proxy.seed}`,
                      `  replay this run with --faults-seed ${proxy.seed}`,
                    ]
                  : []),
                '',
                `Use it: export AWS_ENDPOINT_URL=${clientEndpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=${aws.region}`,
                proxy
                  ? '   (the fault proxy; AWSKIT_LOCAL=1 and --local reach the local AWS without faults). Ctrl-C stops it.'
                  : '   or: AWSKIT_LOCAL=1 (awskit commands), --local (one command). Ctrl-C stops it.',
              ].join('\n'),
            {
              endpoint: aws.endpoint,
              region: aws.region,
              services: svc,
              init: aws.init(),
              ...(proxy
                ? {
                    faults: {
                      endpoint: proxy.endpoint,
                      seed: proxy.seed,
                      rules: faults!.rules.length,
                    },
                  }
                : {}),
            },
          );
          if (failed.length)
            logger.warn(`${failed.length} init script(s) failed: ${failed.map((s) => s.name).join(', ')}`);
          // A moto that fails to start is reported by the local AWS (a warning with the reason and a hint).
          if (starting.length)
            void aws.allStarted.then((now) => {
              const up = starting.filter((s) => now[s as keyof typeof now] === 'running');
              if (up.length && !stopping)
                logger.info(`${up.join(', ')} running (${Date.now() - started} ms after start)`);
            });
          aws.crashed.then((err) => {
            logger.error(err.message);
            stop('an emulator crashed', ExitCode.Failure);
          });
        });
      },
    );
}

/** Reads and checks a `--faults` file; every problem becomes one usage error (exit 2), without a stack trace. */
async function readFaultFile<T>(file: string, parse: (value: unknown) => T): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(
      `Cannot read the fault file "${file}": ${(err as Error).message}`,
      'Pass the path of a JSON file { "seed"?: number, "rules": [...] } (see awskit local up --help).',
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`The fault file "${file}" is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return parse(value);
  } catch (err) {
    const e = err as Error & { hint?: string; code?: string };
    if (e.code !== 'INVALID_FAULT_RULES') throw err;
    throw new UsageError(
      `${e.message.replace(/^Invalid fault config/, `Invalid fault file "${file}"`)}`,
      e.hint,
    );
  }
}
