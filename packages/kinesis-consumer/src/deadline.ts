import { timeoutSignal } from '@awskit/core';

/**
 * Longest a single AWS call of the consumer may take (Kinesis control and read calls, lease-table calls). The
 * consumer sets it on every call itself, so clients passed in without timeouts cannot hang a shard or a lease
 * forever; long-lived SubscribeToShard streams have their own idle deadline instead.
 */
export const CALL_DEADLINE_MS = 10_000;

/** `{ abortSignal }` for one SDK call: aborted after `ms`, or with `signal` if given. */
export function callDeadline(signal?: AbortSignal, ms = CALL_DEADLINE_MS): { abortSignal: never } {
  // The SDK's AbortSignal type predates the DOM one; they are the same object at run time.
  return { abortSignal: timeoutSignal(ms, signal) as never };
}
