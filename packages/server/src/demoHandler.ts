import type { BatchHandler } from '@awskit/kinesis-consumer';

/** Counts of what the demo handler has seen, by event type. */
export interface DemoStats {
  records: number;
  byType: Record<string, number>;
}

/**
 * The demo's handler: parses each event as JSON and counts it by `type`, spending about a millisecond per batch
 * like a small real handler would. Shared by every worker of the demo.
 */
export function createDemoHandler(): { handler: BatchHandler; stats: DemoStats } {
  const stats: DemoStats = { records: 0, byType: {} };
  const decoder = new TextDecoder();
  const handler: BatchHandler = async (records) => {
    for (const r of records) {
      let type = 'unknown';
      try {
        const event = JSON.parse(decoder.decode(r.data)) as { type?: unknown };
        if (typeof event.type === 'string') type = event.type;
      } catch {
        type = 'not-json';
      }
      stats.byType[type] = (stats.byType[type] ?? 0) + 1;
      stats.records++;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  };
  return { handler, stats };
}
