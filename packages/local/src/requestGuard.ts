import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';

/** Options of {@link createRequestGuard}. */
export interface RequestGuardOptions {
  /**
   * The interface the server listens on. On a loopback address (the default everywhere in awskit) only loopback
   * names are accepted in `Host`; on any other interface the user chose to be reachable, so any `Host` is accepted.
   */
  boundHost: string;
  /** More host names to accept in `Host` (e.g. a name in /etc/hosts that points at 127.0.0.1). @default [] */
  allowedHosts?: readonly string[];
}

/** Why a request was refused. */
export type RequestRejection = {
  status: 403;
  code: 'HOST_NOT_ALLOWED' | 'CROSS_ORIGIN_REQUEST';
  message: string;
};

/** `undefined` when the request may go on, else why not. */
export type RequestGuard = (headers: IncomingHttpHeaders) => RequestRejection | undefined;

/** True for 127.0.0.0/8, ::1 and IPv4-mapped 127.x. */
function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase();
  if (isIP(a) === 4) return a.startsWith('127.');
  if (isIP(a) === 6) return a === '::1' || /^::ffff:127\./.test(a) || a === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * True for names that only ever mean this machine: loopback addresses, `localhost` and its subdomains (RFC 6761),
 * and LocalStack's `localhost.localstack.cloud` (a public name that resolves to 127.0.0.1; SDKs use its
 * subdomains for virtual-host addressing).
 */
export function isLoopbackHostname(hostname: string): boolean {
  const h = hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  if (isIP(h)) return isLoopbackAddress(h);
  return (
    h === 'localhost' ||
    h.endsWith('.localhost') ||
    h === 'localhost.localstack.cloud' ||
    h.endsWith('.localhost.localstack.cloud')
  );
}

/** The host name of a `Host` header value, without port or IPv6 brackets. */
function hostnameOf(hostHeader: string): string {
  const v = hostHeader.trim().toLowerCase();
  if (v.startsWith('[')) return v.slice(1, v.indexOf(']') > 0 ? v.indexOf(']') : undefined);
  const colon = v.lastIndexOf(':');
  // A bare IPv6 address (no brackets) is not a valid Host value, but keep it whole rather than cut it.
  return colon > 0 && v.indexOf(':') === colon ? v.slice(0, colon) : v;
}

/**
 * Builds the check every awskit local listener (the local AWS edge, the fault proxy, the server) runs first:
 *
 * - DNS rebinding: while bound to loopback, a `Host` that is not a loopback name or address (or one of
 *   `allowedHosts`) is refused, so a web page whose name was re-pointed at 127.0.0.1 cannot talk to it.
 * - Cross-site requests from a browser: `Sec-Fetch-Site: cross-site`, `Origin: null`, or an `Origin` that is neither
 *   a loopback origin nor the server's own origin is refused, so a page cannot POST IAM actions or a moto reset
 *   (HTML forms send `application/x-www-form-urlencoded`, exactly the IAM/STS query protocol). Clients that are not
 *   browsers (SDKs, CLIs, curl) send neither header and pass.
 */
export function createRequestGuard(options: RequestGuardOptions): RequestGuard {
  const loopbackOnly = isLoopbackHostname(options.boundHost);
  const allowed = new Set((options.allowedHosts ?? []).map((h) => hostnameOf(h)));
  return (headers) => {
    const host = headers.host;
    if (loopbackOnly && host !== undefined) {
      const name = hostnameOf(host);
      if (!isLoopbackHostname(name) && !allowed.has(name))
        return {
          status: 403,
          code: 'HOST_NOT_ALLOWED',
          message: `Host "${host}" is not a loopback name; this server only answers requests for localhost`,
        };
    }
    const site = headers['sec-fetch-site'];
    if (site === 'cross-site')
      return {
        status: 403,
        code: 'CROSS_ORIGIN_REQUEST',
        message: 'Cross-site browser requests are refused',
      };
    const origin = headers.origin;
    if (origin !== undefined) {
      let originHost: string | undefined;
      let originHostname: string | undefined;
      try {
        const u = new URL(origin);
        originHost = u.host.toLowerCase();
        originHostname = u.hostname;
      } catch {
        // `Origin: null` (sandboxed frames, data: URLs) or garbage
      }
      const sameOrigin = originHost !== undefined && originHost === host?.trim().toLowerCase();
      if (
        originHostname === undefined ||
        !(isLoopbackHostname(originHostname) || sameOrigin || allowed.has(originHostname))
      )
        return {
          status: 403,
          code: 'CROSS_ORIGIN_REQUEST',
          message: `Requests from the web origin ${origin} are refused`,
        };
    }
    return undefined;
  };
}
