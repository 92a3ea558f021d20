import { AwskitError } from '@awskit/core';
import type { PlannedChange, ResourceKind } from './apply/plan';

/** Stable codes of every error `@awskit/localstack-hooks` throws on purpose. */
export const LocalstackHooksErrorCode = {
  /** The declaration file does not exist or cannot be read. */
  DeclarationNotFound: 'DECLARATION_NOT_FOUND',
  /** The declaration file is not valid YAML/JSON, or a JS module failed to load. */
  DeclarationParse: 'DECLARATION_PARSE',
  /** The declaration parsed but breaks the schema; `issues` lists every problem with its field path. */
  InvalidDeclaration: 'INVALID_DECLARATION',
  /** `apply` was pointed at a non-local endpoint without `allowNonLocal: true` (`--yes` in the CLI). */
  NonLocalEndpoint: 'NON_LOCAL_ENDPOINT',
  /** A resource could not be created or updated. */
  ApplyFailed: 'APPLY_FAILED',
  /** The declared state cannot be reached by an update (e.g. a different key schema); recreate the resource. */
  Conflict: 'CONFLICT',
  /** A resource did not become ACTIVE in time. */
  ResourceTimeout: 'RESOURCE_TIMEOUT',
  /** `waitForReady` ran out of time; the message says what was still missing. */
  WaitTimeout: 'WAIT_TIMEOUT',
  /** An init script finished in state ERROR, or a needed service is disabled. */
  NotReady: 'NOT_READY',
  /** A generated file already exists with other content and `overwrite` was not set. */
  FileExists: 'FILE_EXISTS',
} as const;
/** One of {@link LocalstackHooksErrorCode}. */
export type LocalstackHooksErrorCode =
  (typeof LocalstackHooksErrorCode)[keyof typeof LocalstackHooksErrorCode];

/** Base class of every error thrown by `@awskit/localstack-hooks`. */
export class LocalstackHooksError extends AwskitError<LocalstackHooksErrorCode> {}

/** One problem found in a declaration. */
export interface DeclarationIssue {
  /** Field path such as `kinesis.streams[0].shards` (empty string for the document root). */
  path: string;
  /** What is wrong, in plain words. */
  message: string;
  /** 1-based line in the source file, when known (YAML/JSON files). */
  line?: number;
  /** 1-based column in the source file, when known. */
  column?: number;
}

/** Thrown when a declaration breaks the schema. Carries every problem at once, each with its field path. */
export class DeclarationValidationError extends LocalstackHooksError {
  /** Every problem found, in document order. */
  readonly issues: readonly DeclarationIssue[];
  /** The file the declaration came from, when it came from a file. */
  readonly file?: string;
  constructor(issues: readonly DeclarationIssue[], file?: string) {
    const where = file ?? 'declaration';
    const lines = issues.map((i) => `  ${formatIssue(i, file)}`);
    super(
      LocalstackHooksErrorCode.InvalidDeclaration,
      `${where} has ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n${lines.join('\n')}`,
      {
        hint: 'Fix the fields listed above; the package README documents every field (examples/awskit.local.yaml is a starting point).',
        details: { issues },
      },
    );
    this.issues = issues;
    if (file !== undefined) this.file = file;
  }
}

/** Formats an issue as `file:line:col path: message` (parts omitted when unknown). */
export function formatIssue(issue: DeclarationIssue, file?: string): string {
  const loc =
    issue.line !== undefined ? `${file ? `${file}:` : 'line '}${issue.line}:${issue.column ?? 1} ` : '';
  return `${loc}${issue.path || '(root)'}: ${issue.message}`;
}

/** Thrown by `apply` when some resources failed; `result` holds what was done before and besides the failures. */
export class ApplyError extends LocalstackHooksError {
  /** Resources whose change failed, with the error. */
  readonly failures: { kind: ResourceKind; name: string; error: Error }[];
  /** Resources not attempted because something they depend on failed. */
  readonly skipped: { kind: ResourceKind; name: string }[];
  /** Changes that were made despite the failures. */
  readonly applied: PlannedChange[];
  constructor(
    failures: { kind: ResourceKind; name: string; error: Error }[],
    skipped: { kind: ResourceKind; name: string }[] = [],
    applied: PlannedChange[] = [],
  ) {
    const lines = failures.map((f) => `  ${f.kind} ${f.name}: ${f.error.message}`);
    for (const s of skipped)
      lines.push(`  ${s.kind} ${s.name}: not attempted (depends on a failed resource)`);
    const first = failures[0]?.error as { hint?: string } | undefined;
    super(
      LocalstackHooksErrorCode.ApplyFailed,
      `${failures.length} resource${failures.length === 1 ? '' : 's'} failed:\n${lines.join('\n')}`,
      {
        hint: first?.hint ?? 'See the messages above; `awskit localstack plan` shows the current state.',
        cause: failures[0]?.error,
      },
    );
    this.failures = failures;
    this.skipped = skipped;
    this.applied = applied;
  }
}
