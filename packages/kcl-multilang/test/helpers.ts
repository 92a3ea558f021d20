import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MetricsRegistry, noopLogger } from '@awskit/core';
import type { ConsumerRecord } from '@awskit/kinesis-consumer';
import type { ChildSession } from '../src/childProcess.js';
import type { ShardProcessorContext } from '../src/shardProcessor.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** A fresh file the fixture processors append their events to. */
export function eventFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'kcl-ml-')), 'events.jsonl');
}

export interface ProcessorEvent {
  pid: number;
  shardId: string;
  action: string;
  sequenceNumber?: string | null;
  subSequenceNumber?: number | null;
  error?: string | null;
  millisBehindLatest?: number | null;
  records?: {
    data: string;
    partitionKey: string;
    sequenceNumber: string;
    subSequenceNumber: number;
    approximateArrivalTimestamp: number;
    action: string;
  }[];
}

export function readEvents(file: string): ProcessorEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ProcessorEvent);
}

/** Waits (polling) until `check` is truthy; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A shard-processor context running `script` from the fixtures with node, counting what happens. */
export function processorContext(
  script: string,
  env: Record<string, string>,
  overrides: Partial<ShardProcessorContext> = {},
) {
  const failures: { reason: string; action: string }[] = [];
  const checkpoints: (string | null)[] = [];
  const children = new Set<ChildSession>();
  const context: ShardProcessorContext = {
    command: [process.execPath, script],
    cwd: FIXTURES,
    env: { ...process.env, ...env },
    processingTimeoutMs: 10_000,
    childExitTimeoutMs: 5_000,
    logger: noopLogger,
    metrics: new MetricsRegistry(),
    children,
    onChildStarted: () => {},
    onChildFailed: (e) => failures.push({ reason: e.reason, action: e.action }),
    onCheckpoint: (error) => checkpoints.push(error),
    ...overrides,
  };
  return { context, failures, checkpoints, children };
}

export function record(seq: string, data: string, sub = 0): ConsumerRecord {
  return {
    data: new TextEncoder().encode(data),
    partitionKey: `pk-${data}`,
    sequenceNumber: seq,
    subSequenceNumber: sub,
    aggregated: sub > 0,
    approximateArrivalTimestamp: new Date(1_700_000_000_123),
    shardId: 'shardId-000000000000',
  };
}
