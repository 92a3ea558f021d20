#!/usr/bin/env node
// Release checks for every publishable workspace package (not "private"): publint (--strict: warnings fail too)
// and @arethetypeswrong/cli on the packed package. attw runs with its node16 profile (esm-only for ESM-only
// packages): every package needs Node >= 20.19, and TypeScript's legacy `node10` resolution cannot see `exports`
// subpaths (`@awskit/local/testing`), so TypeScript users need `moduleResolution` node16/nodenext/bundler.
// A package without types (the CLI: bins only) gets publint alone. Run after `pnpm build`; two packages at a time.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => join(root, 'node_modules/.bin', name);
const dirs = ['packages', 'apps'].flatMap((group) =>
  readdirSync(join(root, group), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, group, d.name, 'package.json')))
    .map((d) => join(group, d.name)),
);

function run(dir, args) {
  return new Promise((resolve) => {
    const child = spawn(args[0], args.slice(1), { cwd: join(root, dir) });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) => resolve({ ok: code === 0, out }));
  });
}

async function check(dir) {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  if (pkg.private) return [];
  const results = [];
  const r1 = await run(dir, [bin('publint'), 'run', '--strict', '--pack', 'npm']);
  results.push({ what: 'publint', name: pkg.name, ...r1 });
  const exportsText = JSON.stringify(pkg.exports ?? {});
  if (pkg.types || pkg.typings || exportsText.includes('"types"')) {
    const esmOnly = pkg.type === 'module' && !exportsText.includes('"require"');
    const profile = esmOnly ? 'esm-only' : 'node16';
    const r2 = await run(dir, [
      bin('attw'),
      '--pack',
      '.',
      '--no-emoji',
      '--no-color',
      '--format',
      'ascii',
      '--profile',
      profile,
    ]);
    results.push({ what: `attw (${profile})`, name: pkg.name, ...r2 });
  }
  return results;
}

const queue = [...dirs];
const all = [];
await Promise.all(
  [0, 1].map(async () => {
    for (let dir = queue.shift(); dir; dir = queue.shift()) all.push(...(await check(dir)));
  }),
);
let failed = 0;
for (const r of all.sort((a, b) => a.name.localeCompare(b.name))) {
  process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${r.what} ${r.name}\n`);
  if (!r.ok) {
    failed++;
    process.stdout.write(`${r.out}\n`);
  }
}
process.stdout.write(
  failed ? `release-check: ${failed} failed\n` : `release-check: ${all.length} checks pass\n`,
);
process.exitCode = failed ? 1 : 0;
