import { AwskitError, type AwskitErrorOptions, isAwskitError } from '@awskit/core';

/** Stable codes of every error this package throws. Branch on these, not on messages. */
export const KclMultiLangErrorCode = {
  InvalidProperties: 'KCL_MULTILANG_INVALID_PROPERTIES',
  PropertiesNotFound: 'KCL_MULTILANG_PROPERTIES_NOT_FOUND',
  ExecutableNotFound: 'KCL_MULTILANG_EXECUTABLE_NOT_FOUND',
  ChildFailed: 'KCL_MULTILANG_CHILD_FAILED',
  NotRunning: 'KCL_MULTILANG_NOT_RUNNING',
} as const;

/** Union of {@link KclMultiLangErrorCode} values. */
export type KclMultiLangErrorCode = (typeof KclMultiLangErrorCode)[keyof typeof KclMultiLangErrorCode];

/** Base error of `@awskit/kcl-multilang`; every error the package throws extends it. */
export class KclMultiLangError extends AwskitError<KclMultiLangErrorCode> {}

/** One problem found in a `.properties` file: the key (or `''` for the file) and what is wrong. */
export interface PropertyProblem {
  key: string;
  message: string;
}

/** The `.properties` file is invalid; `problems` lists every bad key at once. */
export class PropertiesError extends KclMultiLangError {
  readonly problems: PropertyProblem[];
  readonly file?: string;
  constructor(problems: PropertyProblem[], file?: string) {
    super(
      KclMultiLangErrorCode.InvalidProperties,
      `invalid KCL properties${file ? ` in ${file}` : ''}:\n${problems.map((p) => `  - ${p.key ? `${p.key}: ` : ''}${p.message}`).join('\n')}`,
      {
        hint: 'Fix the listed keys; the @awskit/kcl-multilang README lists every supported key and its meaning.',
      },
    );
    this.problems = problems;
    if (file !== undefined) this.file = file;
  }
}

/** The properties file does not exist or cannot be read. */
export class PropertiesNotFoundError extends KclMultiLangError {
  constructor(file: string, cause?: unknown) {
    super(KclMultiLangErrorCode.PropertiesNotFound, `cannot read the properties file ${file}`, {
      hint: 'Pass the path of your KCL .properties file: awskit kcl run -p app.properties',
      cause,
    });
  }
}

/** The first word of `executableName` is neither a file nor a command on PATH. */
export class ExecutableNotFoundError extends KclMultiLangError {
  constructor(command: string, cwd: string) {
    super(
      KclMultiLangErrorCode.ExecutableNotFound,
      `executableName: "${command}" is not a file (relative to ${cwd}) nor a command on PATH`,
      {
        hint: 'executableName is split on spaces and run without a shell from the properties file’s directory, e.g. `executableName = node sample_kcl_app.js`.',
      },
    );
  }
}

/** Why a child process was given up on. */
export type ChildFailureReason = 'exit' | 'timeout' | 'protocol' | 'spawn';

/**
 * A record processor child process failed: it exited, did not answer within `processingTimeoutMs`, or broke the
 * protocol (a `status` for another action). The shard is restarted from its checkpoint with a new child.
 */
export class ChildProcessFailedError extends KclMultiLangError {
  readonly shardId: string;
  readonly reason: ChildFailureReason;
  readonly action: string;
  constructor(
    shardId: string,
    action: string,
    reason: ChildFailureReason,
    message: string,
    options: AwskitErrorOptions = {},
  ) {
    super(
      KclMultiLangErrorCode.ChildFailed,
      `record processor for ${shardId} failed during ${action}: ${message}`,
      {
        hint: 'Check the processor’s stderr lines above; the shard restarts from its last checkpoint with a new process.',
        ...options,
      },
    );
    this.shardId = shardId;
    this.reason = reason;
    this.action = action;
  }
}

/** The daemon was used in the wrong state (e.g. `start()` twice). */
export class DaemonStateError extends KclMultiLangError {
  constructor(message: string) {
    super(KclMultiLangErrorCode.NotRunning, message);
  }
}

/** True when `e` is an error of this package (optionally with `code`), also across duplicate installs. */
export function isKclMultiLangError(e: unknown, code?: KclMultiLangErrorCode): e is KclMultiLangError {
  return (
    isAwskitError(e, code) &&
    (code !== undefined || String((e as { code: string }).code).startsWith('KCL_MULTILANG_'))
  );
}
