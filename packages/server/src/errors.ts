import { AwskitError } from '@awskit/core';

/** Stable codes of every error the awskit server reports (HTTP bodies carry them too). */
export const ServerErrorCode = {
  /** Options or flags are invalid; `details.problems` lists every one. */
  invalidOptions: 'SERVER_INVALID_OPTIONS',
  /** The `--handler` module could not be loaded or exports no handler function. */
  invalidHandler: 'INVALID_HANDLER',
  /** The listening port is taken. */
  portInUse: 'SERVER_PORT_IN_USE',
} as const;
export type ServerErrorCode = (typeof ServerErrorCode)[keyof typeof ServerErrorCode];

/** Base error of `@awskit/server`. */
export class ServerError extends AwskitError<ServerErrorCode> {}

/** One bad option or field, with its path. */
export interface Problem {
  path: string;
  message: string;
}

/** Invalid server options: every problem at once. */
export class ServerOptionsError extends ServerError {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    super(
      'SERVER_INVALID_OPTIONS',
      `Invalid server options: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      {
        hint: 'Fix the options listed (flags, AWSKIT_SERVER_* variables or the options object); see `awskit serve --help`.',
        details: { problems },
      },
    );
    this.problems = problems;
  }
}
