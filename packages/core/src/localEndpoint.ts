/** True when the URL points at a local emulator: loopback, `localhost`, `localstack`, or plain HTTP. */
export function isLocalEndpoint(url: string | undefined): boolean {
  if (!url) return false;
  try {
    const u = new URL(url);
    const h = u.hostname.replace(/^\[|\]$/g, '');
    return (
      u.protocol === 'http:' ||
      h === 'localhost' ||
      h.endsWith('.localhost') ||
      h === '::1' ||
      /^127\./.test(h) ||
      h === '0.0.0.0' ||
      h === 'localstack' ||
      h.endsWith('.localstack.cloud')
    );
  } catch {
    return false;
  }
}
