#!/usr/bin/env node
// One-off conformance check (not a test: it needs a JDK and a protobuf-java jar, which CI machines may lack):
// random record sets are aggregated by this package and decoded by protobuf-java with the KCL's checks, and
// encoded by protobuf-java and compared byte for byte with this package's encoder, then decoded by it.
//
//   node scripts/check-protobuf-java.mjs [path/to/protobuf-java.jar]   (after `pnpm build`)
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { deaggregate, encodeAggregatedRecord } = await import(join(here, '..', 'dist', 'index.js'));

function findJar() {
  if (process.argv[2]) return process.argv[2];
  const base = join(homedir(), '.m2', 'repository', 'com', 'google', 'protobuf', 'protobuf-java');
  if (!existsSync(base)) return undefined;
  for (const v of readdirSync(base).sort().reverse()) {
    const jar = join(base, v, `protobuf-java-${v}.jar`);
    if (existsSync(jar)) return jar;
  }
  return undefined;
}
const jar = findJar();
if (!jar) {
  console.error('no protobuf-java jar found; pass its path');
  process.exit(2);
}
const java = (...args) =>
  execFileSync('java', ['-cp', jar, join(here, 'KplProtobufJava.java'), ...args], { encoding: 'utf8' });

const keys = ['a', 'user-1', 'user-2', 'ключ', '🔑', '10', '2', '__proto__'];
const randomRecord = () => {
  const r = {
    partitionKey: Math.random() < 0.7 ? keys[randomInt(keys.length)] : `k-${randomBytes(4).toString('hex')}`,
    data: randomBytes(randomInt(0, 300)),
  };
  if (Math.random() < 0.3) r.explicitHashKey = BigInt(`0x${randomBytes(16).toString('hex')}`).toString();
  return r;
};
const line = (r) =>
  `${Buffer.from(r.partitionKey).toString('base64')}\t${r.explicitHashKey ?? ''}\t${Buffer.from(r.data).toString('base64')}`;

const dir = mkdtempSync(join(tmpdir(), 'kpl-java-'));
let sets = 0;
let records = 0;
for (let round = 0; round < 40; round++) {
  const input = Array.from({ length: randomInt(1, 60) }, randomRecord);
  const expected = input.map(line).join('\n');
  // ours → protobuf-java (KCL checks)
  const ours = encodeAggregatedRecord(input);
  writeFileSync(join(dir, 'ours.bin'), ours);
  const decodedByJava = java('decode', join(dir, 'ours.bin')).trimEnd();
  if (decodedByJava !== expected) throw new Error(`round ${round}: protobuf-java decoded something else`);
  // protobuf-java → byte-for-byte equal to ours, and decoded by ours
  writeFileSync(join(dir, 'in.tsv'), `${expected}\n`);
  java('encode', join(dir, 'in.tsv'), join(dir, 'java.bin'));
  const javaBytes = (await import('node:fs')).readFileSync(join(dir, 'java.bin'));
  if (!javaBytes.equals(ours)) throw new Error(`round ${round}: protobuf-java encoded different bytes`);
  const back = deaggregate({ data: javaBytes, partitionKey: 'a', sequenceNumber: '1' });
  if (back.error || back.records.map(line).join('\n') !== expected)
    throw new Error(`round ${round}: we decoded otherwise`);
  sets++;
  records += input.length;
}
console.log(
  `protobuf-java (${jar.split('/').pop()}): ${sets} random aggregates, ${records} records: decoded with KCL checks, encoded byte-for-byte the same, round-tripped`,
);
