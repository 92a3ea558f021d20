import { AwskitError, type AwskitErrorOptions } from '@awskit/core';

/** Codes of {@link LocalAwsError}. */
export const LocalAwsErrorCode = {
  PortInUse: 'PORT_IN_USE',
  EmulatorStartFailed: 'EMULATOR_START_FAILED',
  EmulatorCrashed: 'EMULATOR_CRASHED',
  InvalidOptions: 'INVALID_OPTIONS',
  NoTestEndpoint: 'NO_TEST_ENDPOINT',
  InvalidFaultRules: 'INVALID_FAULT_RULES',
  StartAborted: 'START_ABORTED',
} as const;
export type LocalAwsErrorCode = (typeof LocalAwsErrorCode)[keyof typeof LocalAwsErrorCode];

/** Errors of the awskit local AWS. */
export class LocalAwsError extends AwskitError {
  declare readonly code: LocalAwsErrorCode;
  constructor(code: LocalAwsErrorCode, message: string, options?: AwskitErrorOptions) {
    super(code, message, options);
  }
}
