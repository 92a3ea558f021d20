import type { Command } from 'commander';
import { clientOptions, cliLogger, ExitCode, globalFlags, output, UsageError } from '../context';

interface KclRunFlags {
  properties?: string;
  java?: string;
  jarPath?: string;
  logConfiguration?: string;
  execute?: boolean;
  processingTimeout?: string;
}

/** `awskit kcl run`: the KCL MultiLang daemon without Java (drop-in for aws-kcl's `kcl-bootstrap`). */
export function registerKcl(program: Command): void {
  const kcl = program
    .command('kcl')
    .description('Run KCL MultiLang record processors (npm aws-kcl, Python amazon_kclpy) without Java');
  kcl
    .command('run')
    .description(
      'Consume a stream with a KCL .properties file: one child process per leased shard (executableName), spoken to over stdin/stdout with the KCL MultiLang protocol; leases and checkpoints in the KCL lease table.',
    )
    .argument('[file]', 'the .properties file (same as -p)')
    .option('-p, --properties <file>', 'the KCL .properties file (as for kcl-bootstrap / MultiLangDaemon)')
    .option(
      '--processing-timeout <ms>',
      'kill a processor silent this long and restart its shard (default: timeoutInSeconds, else 300000)',
    )
    .option('-j, --java <path>', 'accepted for kcl-bootstrap compatibility; ignored (no Java needed)')
    .option('-c, --jar-path <dir>', 'accepted for kcl-bootstrap compatibility; ignored')
    .option(
      '-l, --log-configuration <file>',
      'accepted for kcl-bootstrap compatibility; ignored (use -v / -q)',
    )
    .option('-e, --execute', 'accepted for kcl-bootstrap compatibility; always runs')
    .addHelpText(
      'after',
      `
Coming from aws-kcl (same .properties file, same processor, no Java):
  kcl-bootstrap --java /usr/bin/java -e -p app.properties   →   awskit kcl run -p app.properties

Endpoints and credentials: --local / --endpoint-url / --region / --profile win over the file's kinesisEndpoint,
dynamoDBEndpoint and regionName, which win over AWS_ENDPOINT_URL*, AWS_REGION and ~/.aws/config.
executableName runs from the properties file's directory. Unknown keys are warned about, never fatal.
SIGTERM/SIGINT: each processor gets shutdownRequested (and may checkpoint), then leaseLost; leases are released.
Examples:
  $ awskit --local kcl run -p examples/kcl-multilang/app.properties
  $ AWS_PROFILE=prod awskit kcl run app.properties`,
    )
    .action(async (file: string | undefined, opts: KclRunFlags, cmd: Command) => {
      const flags = globalFlags(cmd);
      const logger = cliLogger(flags);
      if (opts.properties && file && opts.properties !== file)
        logger.warn(`both --properties and a file argument given; using --properties ${opts.properties}`);
      const path = opts.properties ?? file;
      if (!path)
        throw new UsageError('a properties file is required', 'Example: awskit kcl run -p app.properties');
      let processingTimeoutMs: number | undefined;
      if (opts.processingTimeout !== undefined) {
        processingTimeoutMs = Number(opts.processingTimeout);
        if (!Number.isInteger(processingTimeoutMs) || processingTimeoutMs <= 0)
          throw new UsageError(
            `--processing-timeout must be a positive integer (ms), got "${opts.processingTimeout}"`,
          );
      }
      for (const [flag, v] of [
        ['--java', opts.java],
        ['--jar-path', opts.jarPath],
        ['--log-configuration', opts.logConfiguration],
      ] as const)
        if (v !== undefined) logger.debug(`${flag} ignored: awskit kcl needs no Java`);
      const { loadKclProperties, MultiLangDaemon } = await import('@awskit/kcl-multilang');
      const { properties, dir } = await loadKclProperties(path);
      const daemon = new MultiLangDaemon({
        properties,
        cwd: dir,
        clientOptions: clientOptions(flags),
        logger,
        ...(processingTimeoutMs !== undefined ? { processingTimeoutMs } : {}),
      });
      let signal: NodeJS.Signals | undefined;
      let signalAt = 0;
      let stopped!: () => void;
      const stop = new Promise<void>((resolve) => {
        stopped = resolve;
      });
      const onSignal = (s: NodeJS.Signals) => {
        if (signal) {
          // The same signal to the process and its group (timeout(1), some supervisors) arrives twice at once.
          if (performance.now() - signalAt < 1_000) return;
          // A second signal: do not wait for the processors any longer.
          logger.warn(`${s} again: exiting without waiting for the record processors`);
          process.exit(ExitCode.Interrupted);
        }
        signal = s;
        signalAt = performance.now();
        logger.info(`${s}: stopping (processors get shutdownRequested, then leases are released)`);
        stopped();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        await daemon.start();
        output(
          flags,
          `awskit kcl: consuming ${properties.streamARN ?? properties.streamName} as ${properties.applicationName} (worker ${daemon.workerId}); Ctrl-C to stop`,
          { event: 'started', workerId: daemon.workerId, applicationName: properties.applicationName },
        );
        await stop;
      } finally {
        await daemon.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      const s = daemon.stats();
      output(
        flags,
        `awskit kcl: stopped; ${s.childrenStarted} processor(s) started, ${s.childFailures.exit + s.childFailures.timeout + s.childFailures.protocol + s.childFailures.spawn} failed`,
        { event: 'stopped', ...s },
      );
      // A supervisor's SIGTERM is a normal stop; Ctrl-C reports an interruption like the other commands.
      if (signal === 'SIGINT') process.exitCode = ExitCode.Interrupted;
    });
}
