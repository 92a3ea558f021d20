import type { InitialPosition } from '@awskit/kinesis-consumer';
import type { Command } from 'commander';
import { clientOptions, cliLogger, ExitCode, globalFlags, UsageError } from '../context';

/** Parses --from: latest | trim-horizon | an ISO 8601 time (the consumer's `parseInitialPosition`). */
async function parseFrom(value: string): Promise<InitialPosition> {
  const { isKinesisConsumerError, parseInitialPosition } = await import('@awskit/kinesis-consumer');
  try {
    return parseInitialPosition(value, '--from');
  } catch (e) {
    if (!isKinesisConsumerError(e)) throw e;
    throw new UsageError(
      `--from must be latest, trim-horizon or an ISO time, got "${value}"`,
      'Example: --from 2026-01-31T12:00:00Z',
    );
  }
}

interface PrintableRecord {
  shardId: string;
  sequenceNumber: string;
  subSequenceNumber: number;
  partitionKey: string;
  explicitHashKey?: string;
  aggregated: boolean;
  approximateArrivalTimestamp?: Date;
  data: Uint8Array;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decode(data: Uint8Array): { text?: string; base64?: string } {
  try {
    const text = utf8.decode(data);
    // Control characters (other than tab/newline) would garble a terminal: show those as base64.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
    if (!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text)) return { text };
  } catch {
    // not UTF-8
  }
  return { base64: Buffer.from(data).toString('base64') };
}

/**
 * One output line per record: NDJSON with --json, else `shard seq[/sub] key data`. With `streamName` (several
 * streams tailed at once) the line starts with the stream, and the JSON object has `streamName`.
 */
export function formatRecord(r: PrintableRecord, json: boolean, streamName?: string): string {
  const d = decode(r.data);
  if (json)
    return JSON.stringify({
      ...(streamName !== undefined ? { streamName } : {}),
      shardId: r.shardId,
      sequenceNumber: r.sequenceNumber,
      subSequenceNumber: r.subSequenceNumber,
      partitionKey: r.partitionKey,
      ...(r.explicitHashKey ? { explicitHashKey: r.explicitHashKey } : {}),
      aggregated: r.aggregated,
      ...(r.approximateArrivalTimestamp
        ? { approximateArrivalTimestamp: r.approximateArrivalTimestamp.toISOString() }
        : {}),
      ...(d.text !== undefined ? { data: d.text } : { dataBase64: d.base64 }),
    });
  const seq = r.aggregated ? `${r.sequenceNumber}/${r.subSequenceNumber}` : r.sequenceNumber;
  const body = d.text !== undefined ? d.text.replace(/\n/g, '\\n') : `base64:${d.base64}`;
  return `${streamName !== undefined ? `${streamName} ` : ''}${r.shardId} ${seq} ${r.partitionKey} ${body}`;
}

/** `awskit kinesis tail`: prints a stream's records as they arrive (deaggregated). */
export function registerKinesisTail(kinesis: Command): void {
  kinesis
    .command('tail')
    .description(
      'Print records of a stream as they arrive, KPL aggregates unpacked. With --app, read as that application:\nshare shards with its other workers through its lease table and checkpoint progress there.',
    )
    .option(
      '-s, --stream <name>',
      'stream name or ARN (repeat for several streams)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option('--app <name>', 'application name: lease table to checkpoint in (created if missing)')
    .option('--from <where>', 'latest | trim-horizon | <ISO time> (shards without a checkpoint)', 'latest')
    .option('-n, --max-records <n>', 'exit after printing n records')
    .addHelpText(
      'after',
      `
Without --app nothing is written anywhere: every shard is read from --from, children after their parents end.
With --app the read is at-least-once: a record is checkpointed after it is printed.
Output: "<shard> <sequence>[/<sub>] <partition key> <data>" (data as UTF-8 text, or base64:… when binary);
with --json one JSON object per line (data or dataBase64). With several --stream, each line starts with the
stream (JSON: streamName); --app then reads them as one multi-stream application (KCL multi-stream lease keys).
Examples:
  $ awskit --local kinesis tail --stream orders --from trim-horizon
  $ awskit kinesis tail --stream orders --from 2026-01-31T12:00:00Z --json | jq .data
  $ awskit kinesis tail --stream orders --app orders-debug -n 100
  $ awskit kinesis tail --stream orders --stream payments --json`,
    )
    .action(
      async (opts: { stream?: string[]; app?: string; from: string; maxRecords?: string }, cmd: Command) => {
        const flags = globalFlags(cmd);
        const streamArgs = [...new Set(opts.stream ?? [])];
        if (!streamArgs.length)
          throw new UsageError('--stream is required', 'Example: awskit kinesis tail --stream orders');
        const several = streamArgs.length > 1;
        const from = await parseFrom(opts.from);
        const max = opts.maxRecords === undefined ? Number.POSITIVE_INFINITY : Number(opts.maxRecords);
        if (!(max > 0) || (Number.isFinite(max) && !Number.isInteger(max)))
          throw new UsageError(`--max-records must be a positive integer, got "${opts.maxRecords}"`);
        const { KinesisClient } = await import('@aws-sdk/client-kinesis');
        const { createClient } = await import('@awskit/core');
        const { KinesisConsumer, tailStream } = await import('@awskit/kinesis-consumer');
        // Lease chatter (acquired/released) only with --verbose: stderr stays quiet next to the records.
        const cli = cliLogger(flags);
        const logger = flags.verbose ? cli : { ...cli, info: () => {} };
        const opt = clientOptions(flags);
        const refOf = (s: string) => (s.startsWith('arn:') ? { streamARN: s } : { streamName: s });
        /** A stream's name for output lines (an ARN's name part). */
        const nameOf = (s: string) => (s.startsWith('arn:') ? s.slice(s.lastIndexOf('/') + 1) : s);
        const kinesisClient = await createClient(KinesisClient, { ...opt, service: 'kinesis' });
        const stop = new AbortController();
        let printed = 0;
        /** Prints up to --max-records; returns the last record printed. */
        const print = <R extends PrintableRecord>(records: R[], streamName?: string): R | undefined => {
          let out = '';
          let last: R | undefined;
          for (const r of records) {
            if (printed >= max) break;
            out += `${formatRecord(r, !!flags.json, several ? streamName : undefined)}\n`;
            printed++;
            last = r;
          }
          if (out) process.stdout.write(out);
          if (printed >= max) stop.abort();
          return last;
        };
        let interrupted = false;
        const onSignal = () => {
          interrupted = true;
          stop.abort();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        const onBadRecord = (b: { shardId: string; sequenceNumber: string; error: Error }) =>
          logger.warn(
            `malformed KPL aggregate at ${b.shardId} ${b.sequenceNumber}: ${b.error.message} (printed raw)`,
          );
        try {
          if (!opts.app) {
            // One tail per stream; the first failure stops them all.
            await Promise.all(
              streamArgs.map((s) =>
                tailStream({
                  kinesisClient,
                  ...refOf(s),
                  from,
                  onRecords: (records) => {
                    print(records, nameOf(s));
                  },
                  onBadRecord,
                  signal: stop.signal,
                  logger,
                }).catch((e: unknown) => {
                  stop.abort();
                  throw e;
                }),
              ),
            );
          } else {
            const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
            const consumer = new KinesisConsumer({
              ...(several ? { streams: streamArgs } : refOf(streamArgs[0]!)),
              applicationName: opts.app,
              initialPosition: from,
              kinesisClient,
              dynamoClient: await createClient(DynamoDBClient, { ...opt, service: 'dynamodb' }),
              logger,
              onBadRecord,
              // Checkpoint exactly the last record printed: with --max-records the rest of a batch stays unread.
              processor: {
                processRecords: async ({ records, checkpointer, streamName }) => {
                  const last = print(records, streamName);
                  if (last) await checkpointer.checkpoint(last);
                },
              },
            });
            consumer.on('error', (e, shardId) => logger.warn(`${shardId ?? 'consumer'}: ${String(e)}`));
            await consumer.start();
            if (!stop.signal.aborted)
              await new Promise<void>((resolve) =>
                stop.signal.addEventListener('abort', () => resolve(), { once: true }),
              );
            await consumer.stop();
          }
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        if (interrupted) process.exitCode = ExitCode.Interrupted;
      },
    );
}
