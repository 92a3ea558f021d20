import { createServer, type Server, Socket } from 'node:net';

/**
 * A TCP proxy between an SDK client and the local AWS that can make the SubscribeToShard connections open at a
 * given moment go silent: the sockets stay open, but nothing is forwarded either way (a half-open connection,
 * as behind a NAT or load balancer that dropped its state). New connections are forwarded normally.
 */
export class SilencingProxy {
  private readonly server: Server;
  private readonly pairs = new Set<{
    client: Socket;
    upstream: Socket;
    subscribe: boolean;
    silent: boolean;
  }>();
  /** Connections made silent so far. */
  silenced = 0;

  private constructor(private readonly target: URL) {
    this.server = createServer((client) => this.accept(client));
  }

  static async start(targetUrl: string): Promise<SilencingProxy> {
    const p = new SilencingProxy(new URL(targetUrl));
    await new Promise<void>((resolve) => p.server.listen(0, '127.0.0.1', resolve));
    return p;
  }

  get endpoint(): string {
    const a = this.server.address();
    if (!a || typeof a === 'string') throw new Error('proxy not listening');
    return `http://127.0.0.1:${a.port}`;
  }

  private accept(client: Socket): void {
    const upstream = new Socket();
    const pair = { client, upstream, subscribe: false, silent: false };
    this.pairs.add(pair);
    upstream.connect(Number(this.target.port), this.target.hostname);
    client.on('data', (chunk: Buffer) => {
      if (chunk.includes('Kinesis_20131202.SubscribeToShard')) pair.subscribe = true;
      if (!pair.silent) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!pair.silent) client.write(chunk);
    });
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  }

  /** Stops forwarding on every SubscribeToShard connection open now. @returns how many. */
  silenceSubscriptions(): number {
    let n = 0;
    for (const p of this.pairs)
      if (p.subscribe && !p.silent) {
        p.silent = true;
        n++;
      }
    this.silenced += n;
    return n;
  }

  async stop(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
