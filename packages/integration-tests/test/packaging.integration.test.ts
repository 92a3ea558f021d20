import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What a user gets from npm: every publishable workspace packed with `pnpm pack` (workspace:^ becomes a version),
// the CLI tarball plus its @awskit/* tarballs installed with plain npm into an empty folder outside the repository,
// then the installed `awskit` run as a user runs it (issue 15: `awskit demo` used to answer "not installed here").
const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** pnpm as turbo started us (npm_execpath), else the pinned one through npx. */
function pnpm(): [string, string[]] {
  const p = process.env.npm_execpath;
  if (p && /pnpm/.test(p)) return p.endsWith('.js') || p.endsWith('.cjs') ? [process.execPath, [p]] : [p, []];
  return ['npx', ['-y', '--package=pnpm@9.15.9', '--', 'pnpm']];
}

/** Our environment without what an outer `npx -p node@24` leaves in it (it would make npx/npm run that package). */
const childEnv = () =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'npm_config_package'));

function publishableDirs(): string[] {
  return ['packages', 'apps'].flatMap((group) =>
    readdirSync(join(ROOT, group))
      .map((d) => join(ROOT, group, d))
      .filter((d) => existsSync(join(d, 'package.json')))
      .filter(
        (d) => !(JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as { private?: boolean }).private,
      ),
  );
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** Every descendant of pid (children, grandchildren...). */
function descendants(pid: number): number[] {
  const r = spawnSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const kids = new Map<number, number[]>();
  for (const line of r.stdout.split('\n')) {
    const [c, p] = line.trim().split(/\s+/).map(Number);
    if (c && p) kids.set(p, [...(kids.get(p) ?? []), c]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of kids.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const waitFor = async (cond: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end && !cond()) await new Promise((r) => setTimeout(r, 100));
  return cond();
};

let installDir = '';
let awskit = '';
const cleanEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
};

/** Starts the installed awskit; resolves `ready` with stdout once `pattern` shows up. */
function start(args: string[]): {
  child: ChildProcess;
  ready: Promise<string>;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [awskit, ...args], {
    cwd: installDir,
    env: cleanEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    const t = setInterval(() => {
      if (/dashboard: http|"endpoint"/.test(out)) {
        clearInterval(t);
        resolve(out);
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(t);
      reject(new Error(`awskit ${args.join(' ')} exited ${code}\n${out}\n${err}`));
    });
  });
  ready.catch(() => {});
  return { child, ready, exited };
}

describe('the packed awskit, installed with npm outside the repository', () => {
  let work = '';

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'awskit-pack-'));
    const tarballs = join(work, 'tarballs');
    installDir = join(work, 'app');
    mkdirSync(tarballs);
    mkdirSync(installDir);
    const [cmd, pre] = pnpm();
    const dirs = publishableDirs();
    expect(dirs.map((d) => d.slice(ROOT.length))).toContain('apps/cli');
    // Two at a time: each pack is a short pnpm process.
    const queue = [...dirs];
    await Promise.all(
      [0, 1].map(async () => {
        for (let d = queue.shift(); d; d = queue.shift())
          await exec(cmd, [...pre, 'pack', '--pack-destination', tarballs], { cwd: d, env: childEnv() });
      }),
    );
    writeFileSync(join(installDir, 'package.json'), '{ "name": "packaging-check", "private": true }\n');
    const files = readdirSync(tarballs).map((f) => join(tarballs, f));
    await exec(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', '--no-save', ...files],
      {
        cwd: installDir,
        env: { ...process.env, npm_config_workspaces: 'false' },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    awskit = join(installDir, 'node_modules/awskit/dist/awskit.js');
    expect(existsSync(join(installDir, 'node_modules/.bin/awskit'))).toBe(true);
    // Nothing resolves back into the repository: the server is the installed package.
    expect(existsSync(join(installDir, 'node_modules/@awskit/server/dashboard/index.html'))).toBe(true);
  }, 180_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('awskit --version prints the CLI version', async () => {
    const { stdout } = await exec(process.execPath, [awskit, '--version'], {
      cwd: installDir,
      env: cleanEnv,
    });
    const { version } = JSON.parse(readFileSync(join(ROOT, 'apps/cli/package.json'), 'utf8')) as {
      version: string;
    };
    expect(stdout.trim()).toBe(version);
  });

  it('awskit local up answers health, and Ctrl-C stops it with every emulator', async () => {
    const port = await freePort();
    const run = start(['local', 'up', '--port', String(port), '--json', '--services', 'kinesis,dynamodb']);
    const out = JSON.parse(await run.ready) as { endpoint: string };
    const health = (await (await fetch(`${out.endpoint}/_localstack/health`)).json()) as {
      services: Record<string, string>;
    };
    expect(health.services).toMatchObject({ kinesis: 'running', dynamodb: 'running' });
    const tree = descendants(run.child.pid!);
    expect(tree.length).toBeGreaterThan(0);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(await waitFor(() => tree.every((p) => !alive(p)), 10_000)).toBe(true);
  });

  it('awskit demo serves /healthz, accepts an ingest, and Ctrl-C stops everything', async () => {
    const [port, awsPort] = [await freePort(), await freePort()];
    const run = start(['demo', '--port', String(port), '--aws-port', String(awsPort), '--no-load']);
    const url = /dashboard: (http:\/\/[^/\s]+)/.exec(await run.ready)![1]!;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/`)).headers.get('content-type')).toMatch(/text\/html/);
    const put = await fetch(`${url}/v1/streams/my-event-dev/records?wait=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[{"userId":"u1","type":"click"}]',
    });
    expect(put.status, await put.clone().text()).toBe(200);
    const tree = descendants(run.child.pid!);
    expect(tree.length).toBeGreaterThan(0);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(await waitFor(() => tree.every((p) => !alive(p)), 10_000)).toBe(true);
  });
});
