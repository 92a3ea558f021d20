/** The Node major the AWS SDK for JavaScript v3 needs in its releases after the first week of January 2027. */
export const SDK_NEXT_MIN_NODE_MAJOR = 22;

/**
 * Drops the AWS SDK's `NodeVersionSupportWarning` (emitted by every process that builds an SDK client on Node < 22)
 * so it does not follow every CLI command; `awskit env` says it once instead. Every other warning passes through.
 * Called by the CLI bins only: libraries never touch `process`.
 */
export function silenceSdkNodeVersionWarning(): void {
  const emit = process.emitWarning;
  const patched = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    const text = typeof warning === 'string' ? warning : `${warning.name}: ${warning.message}`;
    if (/^(Warning: )?NodeVersionSupportWarning\b/.test(text)) return;
    return (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  };
  process.emitWarning = patched as typeof process.emitWarning;
}

/** One line for `awskit env` when this Node is older than the SDK's next minimum, else undefined. */
export function nodeVersionNotice(version = process.version): string | undefined {
  const major = Number(version.replace(/^v/, '').split('.')[0]);
  if (!(major < SDK_NEXT_MIN_NODE_MAJOR)) return undefined;
  return `node ${version}: AWS SDK releases after the first week of January 2027 need Node >= ${SDK_NEXT_MIN_NODE_MAJOR}; upgrade Node to keep getting SDK fixes`;
}
