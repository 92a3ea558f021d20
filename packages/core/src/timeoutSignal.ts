/**
 * An abort signal that fires after `ms` whatever the garbage collector does. Use it instead of
 * `AbortSignal.timeout()` inside `AbortSignal.any()`: the built-in's timer holds its signal weakly, and on Node 20 a
 * timeout signal that only a composite refers to can be collected before it fires (nodejs/node#57736), so the call it
 * guards never times out. Here the timer holds the controller (unref'd: it keeps no process alive).
 */
export function timeoutSignal(ms: number): AbortSignal {
  const c = new AbortController();
  setTimeout(
    () => c.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    ms,
  ).unref();
  return c.signal;
}
