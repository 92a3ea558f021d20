import { isAwskitError } from '@awskit/core';
import { Command, CommanderError, Option } from 'commander';
import { registerCommands } from './commands/index';
import { ExitCode } from './context';
import { silenceSdkNodeVersionWarning } from './nodeVersion';

declare const __AWSKIT_VERSION__: string | undefined;
const VERSION = typeof __AWSKIT_VERSION__ === 'string' ? __AWSKIT_VERSION__ : '0.0.0-dev';

/** Builds the `awskit` program (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('awskit')
    .description('AWS Kinesis and AWS chores from a terminal, the same locally and on AWS')
    .version(VERSION, '-V, --version')
    .option('--profile <name>', 'shared config/credentials profile (default: AWS_PROFILE or default)')
    .option('--region <region>', 'AWS region (default: AWS_REGION, the profile, or us-east-1 locally)')
    .option('--endpoint-url <url>', 'endpoint for every AWS call (e.g. http://127.0.0.1:4566)')
    .option('--local', 'use the local AWS (awskit local up / LocalStack) at http://127.0.0.1:4566')
    .option('--json', 'machine-readable output')
    .option('-q, --quiet', 'only errors')
    .addOption(new Option('-v, --verbose', 'debug logging').conflicts('quiet'))
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failure, 2 usage error, 3 partial failure (some records/items failed), 130 interrupted.
Docs: https://github.com/awskit/awskit#readme`,
    );
  registerCommands(program);
  return program;
}

function printError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander already printed the message (or help/version); map its codes onto ours.
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help'
    )
      return ExitCode.Ok;
    return ExitCode.Usage;
  }
  if (isAwskitError(err)) {
    process.stderr.write(`error: ${err.message}\n`);
    if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    if (process.env.AWSKIT_DEBUG && err.cause)
      process.stderr.write(`cause: ${String((err.cause as Error).stack ?? err.cause)}\n`);
    if (err.code === 'USAGE') return ExitCode.Usage;
    // A command may say a failure was partial (e.g. some records failed) by setting `exitCode` on its error.
    const requested = (err as { exitCode?: unknown }).exitCode;
    return typeof requested === 'number' ? requested : ExitCode.Failure;
  }
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.stderr.write(
    'hint: this looks like a bug in awskit; rerun with AWSKIT_DEBUG=1 and report the output.\n',
  );
  if (process.env.AWSKIT_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return ExitCode.Failure;
}

async function main(): Promise<void> {
  // Said once by `awskit env` instead of after every command (Node < 22).
  silenceSdkNodeVersionWarning();
  // `awskit ... | head` closes stdout early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (err) {
    process.exitCode = printError(err);
  }
}

await main();
