import { createServer, Socket } from 'node:net';

/** Asks the OS for a free TCP port on `host`. */
export function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** True once something accepts TCP connections on host:port. */
export function canConnect(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, host, () => done(true));
  });
}

/** Polls until host:port accepts connections, `isDead()` says the process died, or the timeout passes. */
export async function waitForPort(
  port: number,
  {
    host = '127.0.0.1',
    timeoutMs = 30_000,
    intervalMs = 50,
    isDead = () => false,
  }: { host?: string; timeoutMs?: number; intervalMs?: number; isDead?: () => boolean } = {},
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (isDead()) return false;
    if (await canConnect(port, host)) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}
