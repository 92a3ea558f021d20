import { AwskitError, type ClientOptions, createConsoleLogger, type Logger } from '@awskit/core';
import type { Command } from 'commander';

/** Exit codes of every awskit command (documented in README.md). */
export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
  PartialFailure: 3,
  Interrupted: 130,
} as const;

/** Flags every command accepts (defined once on the root program). */
export interface GlobalFlags {
  profile?: string;
  region?: string;
  endpointUrl?: string;
  local?: boolean;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/** The global flags as seen from a subcommand. */
export function globalFlags(cmd: Command): GlobalFlags {
  return cmd.optsWithGlobals() as GlobalFlags;
}

/** Client options from the global flags (flag > env > config, resolved by @awskit/core). */
export function clientOptions(flags: GlobalFlags): ClientOptions {
  return {
    ...(flags.profile ? { profile: flags.profile } : {}),
    ...(flags.region ? { region: flags.region } : {}),
    ...(flags.endpointUrl ? { endpoint: flags.endpointUrl } : {}),
    ...(flags.local ? { local: true } : {}),
  };
}

/** A logger on stderr honouring --quiet/--verbose. */
export function cliLogger(flags: GlobalFlags): Logger {
  return createConsoleLogger({ level: flags.quiet ? 'error' : flags.verbose ? 'debug' : 'info' });
}

/** Prints a result: JSON with --json, otherwise the human text (unless --quiet). */
export function output(flags: GlobalFlags, human: string | (() => string), json: unknown): void {
  if (flags.json) process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  else if (!flags.quiet) process.stdout.write(`${typeof human === 'function' ? human() : human}\n`);
}

/** A usage error: printed as such and exits with code 2. */
export class UsageError extends AwskitError<'USAGE'> {
  constructor(message: string, hint?: string) {
    super('USAGE', message, hint ? { hint } : {});
  }
}
