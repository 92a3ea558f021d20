/**
 * An abort signal that fires after `ms` (a `TimeoutError`), or as soon as `signal` does when given: the deadline of
 * one call that can also be cancelled. Not built on `AbortSignal.timeout()`: its timer holds its signal weakly, and on
 * Node 20 a timeout signal that only an `AbortSignal.any()` composite refers to can be collected before it fires
 * (nodejs/node#57736), so the call it guards never times out. Here the timer holds the controller (unref'd: it keeps
 * no process alive).
 */
export function timeoutSignal(ms: number, signal?: AbortSignal): AbortSignal {
  const c = new AbortController();
  setTimeout(
    () => c.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    ms,
  ).unref();
  return signal ? AbortSignal.any([signal, c.signal]) : c.signal;
}
