import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readProfileKeys, replaceProfileKeys } from '../src/credentialsFile.js';

/** Deterministic PRNG (mulberry32) so a failure is reproducible from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => next() < p;
  const token = (alphabet: string, min: number, max: number) =>
    Array.from({ length: min + int(max - min + 1) }, () => alphabet[int(alphabet.length)]).join('');
  return { int, pick, chance, token };
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+';
const NAME = 'abcdefghijklmnopqrstuvwxyz0123456789-_.';

/** A random credentials file with the target profile holding exactly one key and secret somewhere in it. */
function randomFile(seed: number) {
  const r = prng(seed);
  const lines: string[] = [];
  const ws = () => r.pick(['', ' ', '  ', '\t', ' \t ']);
  const comment = () => r.pick(['', '', ` # ${r.token(NAME, 0, 8)}`, ` ; ${r.token(NAME, 0, 8)}`, '\t# x']);
  // Leading indentation is rarer: after a `s3 =` sub-section it re-homes the line (tested, but not every time).
  const lead = () => r.pick(['', '', '', '', ' ', '\t']);
  const kv = (k: string, v: string) => `${lead()}${k}${ws()}=${ws()}${v}${ws()}${comment()}`;
  const noise = () => {
    const n = r.int(3);
    for (let i = 0; i < n; i++) {
      lines.push(
        r.pick([
          '',
          '   ',
          `# ${r.token(NAME, 0, 12)}`,
          `; ${r.token(NAME, 0, 12)}`,
          kv(r.pick(['region', 'output', 'x_y']), r.token(NAME, 1, 10)),
          kv('note', `${r.token(NAME, 1, 4)}#${r.token(NAME, 1, 4)}`), // '#' without a space is not a comment
          `s3 =\n  max_concurrent_requests = ${r.int(20)}\n  aws_access_key_id = nested`,
        ]),
      );
    }
  };
  const target = `p${r.token(NAME, 1, 6)}`;
  const others = Array.from({ length: r.int(4) }, (_, i) => `o${i}${r.token(NAME, 0, 4)}`);
  const header = (name: string) => `${ws()}[${name}]${ws()}${comment()}`;
  const otherSection = (name: string) => {
    lines.push(header(name));
    noise();
    if (r.chance(0.7)) lines.push(kv('aws_access_key_id', `AKIA${r.token(B64, 16, 16)}`));
    if (r.chance(0.7)) lines.push(kv('aws_secret_access_key', r.token(B64, 40, 40)));
    if (r.chance(0.3)) lines.push(kv('aws_session_token', r.token(B64, 20, 60)));
    noise();
  };
  noise();
  const before = r.int(others.length + 1);
  others.slice(0, before).forEach(otherSection);
  // The target: key, secret, optional tokens, in random order, optionally split over two sections.
  const parts = [
    kv('aws_access_key_id', `AKIA${r.token(B64, 16, 16)}`),
    kv('aws_secret_access_key', r.token(B64, 40, 40)),
    ...(r.chance(0.5) ? [kv('aws_session_token', r.token(B64, 20, 80))] : []),
    ...(r.chance(0.2) ? [kv('aws_security_token', r.token(B64, 20, 80))] : []),
  ].sort(() => (r.chance(0.5) ? 1 : -1));
  const split = r.chance(0.2) ? 1 + r.int(parts.length - 1) : parts.length;
  lines.push(header(target));
  for (const [i, p] of parts.entries()) {
    if (i === split) {
      otherSection(`between${r.int(9)}`);
      lines.push(header(target));
    }
    noise();
    lines.push(p);
  }
  noise();
  others.slice(before).forEach(otherSection);
  const eol = () => (r.chance(0.3) ? '\r\n' : '\n');
  const flat = lines.join('\n').split('\n');
  let text = flat.map((l, i) => l + (i < flat.length - 1 ? eol() : '')).join('');
  if (r.chance(0.6)) text += eol();
  return { text, target };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'awskit-ini-fuzz-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sdkParse(text: string, name: string) {
  const file = join(dir, name);
  await writeFile(file, text);
  return (
    await loadSharedConfigFiles({ filepath: file, configFilepath: join(dir, 'none'), ignoreCache: true })
  ).credentialsFile;
}

const NEW = {
  accessKeyId: 'AKIAZZZZZZZZZZZZZZZZ',
  secretAccessKey: 'n3w/Secret+0000000000000000000000000000000',
};
const CASES = Number(process.env.FUZZ_CASES ?? 300);

describe('credentials editor on random files (seeded)', () => {
  it(`agrees with the SDK, edits only the target's key lines and drops its tokens (${CASES} files)`, async () => {
    let skipped = 0;
    let refused = 0;
    for (let seed = 1; seed <= CASES; seed++) {
      const { text, target } = randomFile(seed);
      const label = `seed ${seed}`;
      const before = await sdkParse(text, `b${seed}`);
      if (!before[target]?.aws_access_key_id || !before[target]?.aws_secret_access_key) {
        // An indented key line right after a `s3 =` sub-section belongs to it (SDK rule): no static key, and we
        // must agree rather than edit the nested line.
        expect(() => readProfileKeys(text, target), label).toThrow(
          expect.objectContaining({ code: 'PROFILE_NOT_STATIC' }),
        );
        skipped++;
        continue;
      }
      const ours = readProfileKeys(text, target);
      expect(ours?.accessKeyId, label).toBe(before[target]?.aws_access_key_id);
      expect(ours?.secretAccessKey, label).toBe(before[target]?.aws_secret_access_key);

      let edit: ReturnType<typeof replaceProfileKeys>;
      try {
        edit = replaceProfileKeys(text, target, NEW);
      } catch (e) {
        // The editor refuses when removing a token line would re-home the indented lines after it (seed 54 found
        // this); that refusal must be the only kind of failure.
        expect(e, label).toMatchObject({ code: 'CREDENTIALS_FILE_AMBIGUOUS' });
        refused++;
        continue;
      }
      const after = await sdkParse(edit.text, `a${seed}`);
      // Every other section reads exactly as before; the target has the new key and no token.
      const { [target]: targetBefore, ...restBefore } = before;
      const { [target]: targetAfter, ...restAfter } = after;
      expect(restAfter, label).toEqual(restBefore);
      const { aws_session_token: _t, aws_security_token: _s, ...keep } = targetBefore ?? {};
      expect(targetAfter, label).toEqual({
        ...keep,
        aws_access_key_id: NEW.accessKeyId,
        aws_secret_access_key: NEW.secretAccessKey,
      });

      // Byte level: removing the dropped lines and restoring the two old values gives back the original.
      const oldLines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
      const newLines = edit.text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
      const kept = oldLines.filter((_, i) => !edit.removedLines.includes(i + 1));
      const restored = newLines
        .map((l) =>
          l.replace(NEW.accessKeyId, ours!.accessKeyId).replace(NEW.secretAccessKey, ours!.secretAccessKey),
        )
        .join('');
      const keptText = kept.join('');
      // A removed final line without newline moves "no final newline" onto the new last line.
      expect(restored === keptText || restored === keptText.replace(/\r?\n$/, ''), label).toBe(true);
      expect(replaceProfileKeys(edit.text, target, NEW).text, label).toBe(edit.text);
    }
    process.stderr.write(`fuzz: ${CASES} files, ${skipped} without a static key, ${refused} refused\n`);
    expect(skipped + refused).toBeLessThan(CASES / 4);
  });
});
