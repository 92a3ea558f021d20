import { AwskitError } from '@awskit/core';

/** Codes of {@link LocalAwsError}. */
export const LocalAwsErrorCode = {
  PortInUse: 'LOCAL_PORT_IN_USE',
  EmulatorStartFailed: 'EMULATOR_START_FAILED',
  EmulatorCrashed: 'EMULATOR_CRASHED',
  InvalidOptions: 'LOCAL_INVALID_OPTIONS',
  NoTestEndpoint: 'NO_TEST_ENDPOINT',
  InvalidFaultRules: 'INVALID_FAULT_RULES',
  StartAborted: 'START_ABORTED',
} as const;
export type LocalAwsErrorCode = (typeof LocalAwsErrorCode)[keyof typeof LocalAwsErrorCode];

/** Errors of the awskit local AWS. */
export class LocalAwsError extends AwskitError<LocalAwsErrorCode> {}
