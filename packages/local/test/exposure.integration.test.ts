import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startLocalAws } from '../src/index';

/** This process and every descendant, from /proc/<pid>/stat (field 4 is the parent pid). */
function processTree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name (field 2) may hold spaces and parentheses: split after its closing parenthesis.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(name), ppid);
    } catch {
      // the process exited while we looked
    }
  }
  const tree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parent)
      if (!tree.has(pid) && tree.has(ppid)) {
        tree.add(pid);
        grew = true;
      }
  }
  return [...tree];
}

/** Socket inodes held open by `pids`. */
function socketInodes(pids: number[]): Set<string> {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {}
    }
  }
  return inodes;
}

/** Decodes a /proc/net/tcp{,6} address ("0100007F:1F90", 4-byte words in host byte order, little-endian here). */
function decodeAddress(hex: string): { address: string; port: number } {
  const [addr, port] = hex.split(':') as [string, string];
  const words = addr.match(/.{8}/g)!.map((w) => Buffer.from(w, 'hex').reverse());
  const bytes = Buffer.concat(words);
  let address: string;
  if (bytes.length === 4) address = [...bytes].join('.');
  else {
    const groups = bytes
      .toString('hex')
      .match(/.{4}/g)!
      .map((g) => g.replace(/^0+(?=.)/, ''));
    address = groups.join(':');
    if (address.startsWith('0:0:0:0:0:ffff:')) address = `::ffff:${[...bytes.subarray(12)].join('.')}`;
    else if (address === '0:0:0:0:0:0:0:1') address = '::1';
    else if (address === '0:0:0:0:0:0:0:0') address = '::';
  }
  return { address, port: Number.parseInt(port, 16) };
}

/** Every TCP listener (state 0A) owned by one of `pids`. */
function listenersOf(pids: number[]): Array<{ address: string; port: number }> {
  const inodes = socketInodes(pids);
  const out: Array<{ address: string; port: number }> = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue;
      out.push(decodeAddress(f[1]!));
    }
  }
  return out;
}

const isLoopback = (a: string) => /^127\./.test(a) || a === '::1' || /^::ffff:127\./.test(a);

describe('local AWS network exposure (issue 14 item 6)', () => {
  it('listens only on loopback: the edge, kinesis-local (plain and TLS ports) and moto', async () => {
    const before = listenersOf(processTree(process.pid)).map((l) => l.port);
    const aws = await startLocalAws({ port: 0 });
    try {
      await aws.allStarted; // moto finishes starting after READY
      const listeners = listenersOf(processTree(process.pid)).filter((l) => !before.includes(l.port));
      // The edge, kinesis-local's plain and TLS ports, and moto when python3 has it.
      const motoUp = aws.services().iam === 'running';
      expect(listeners.length).toBeGreaterThanOrEqual(motoUp ? 4 : 3);
      expect(listeners.map((l) => l.port)).toContain(aws.port);
      const exposed = listeners.filter((l) => !isLoopback(l.address));
      expect(exposed, `listeners reachable from the network: ${JSON.stringify(exposed)}`).toEqual([]);
    } finally {
      await aws.stop();
    }
  });

  it('bound to another interface on purpose, exposes the edge only: the emulators stay on loopback', async () => {
    const before = listenersOf(processTree(process.pid)).map((l) => l.port);
    const aws = await startLocalAws({ port: 0, host: '0.0.0.0', services: ['kinesis', 'dynamodb'] });
    try {
      const listeners = listenersOf(processTree(process.pid)).filter((l) => !before.includes(l.port));
      expect(listeners.length).toBeGreaterThanOrEqual(3);
      const exposed = listeners.filter((l) => !isLoopback(l.address));
      expect(exposed).toEqual([{ address: '0.0.0.0', port: aws.port }]);
    } finally {
      await aws.stop();
    }
  });
});
