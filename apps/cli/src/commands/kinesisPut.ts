import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { isAwskitError } from '@awskit/core';
import type { PartitionKeyRule } from '@awskit/kinesis-producer';
import type { Command } from 'commander';
import { clientOptions, cliLogger, ExitCode, globalFlags, output, UsageError } from '../context';

/** The partition key of one input line under `rule` (the producer's rule), or why the line has none. */
function lineKey(
  line: string,
  rule: PartitionKeyRule,
  keyFor: (value: unknown, rule: PartitionKeyRule) => string,
): { key: string } | { error: string } {
  let parsed: unknown;
  if (rule.kind === 'field') {
    try {
      parsed = JSON.parse(line);
    } catch {
      return { error: `not JSON, so --key-field ${rule.path} cannot be read` };
    }
  }
  try {
    return { key: keyFor(parsed, rule) };
  } catch (e) {
    if (isAwskitError(e, 'KINESIS_PRODUCER_PARTITION_KEY_FIELD')) return { error: e.message };
    throw e;
  }
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

const MAX_ERRORS_SHOWN = 20;

/** `awskit kinesis put`: newline-delimited records from a file or stdin into a stream, KPL-style. */
export function registerKinesisPut(kinesis: Command): void {
  kinesis
    .command('put')
    .description(
      'Put newline-delimited records (one per line) from a file or stdin into a stream: aggregated and batched like the KPL, retried, with a summary.',
    )
    .requiredOption('-s, --stream <name>', 'stream name or ARN')
    .option('-k, --partition-key <key>', 'the same partition key for every record')
    .option('--key-field <path>', 'partition key from this field of each JSON line (e.g. user.id)')
    .option('-f, --file <path>', 'read records from this file instead of stdin')
    .option('--no-aggregation', 'send each record as its own Kinesis record (no KPL aggregation)')
    .option('--ordered', "keep each partition key's records in order, even across retries (slower)")
    .option('--record-ttl <ms>', 'give up on a record after this long (retries included)', '30000')
    .addHelpText(
      'after',
      `
Without --partition-key or --key-field each record gets a random key (spread over all shards).
Empty lines are skipped. --key-field takes a string field as it is and a number as its text (42 -> "42");
a line where the field is missing, null, a boolean, an object or an array counts as a failure.
Exit code 0 when every record was put, 3 when some failed, 1 when none was put.
Examples:
  $ awskit --local kinesis put --stream orders --file orders.ndjson --key-field customer.id
  $ seq 1 100000 | awskit kinesis put --stream numbers -k all-in-one
  $ awskit kinesis put --stream orders --file big.ndjson --json | jq .failed`,
    )
    .action(
      async (
        opts: {
          stream: string;
          partitionKey?: string;
          keyField?: string;
          file?: string;
          aggregation: boolean;
          ordered?: boolean;
          recordTtl: string;
        },
        cmd: Command,
      ) => {
        const flags = globalFlags(cmd);
        if (opts.partitionKey !== undefined && opts.keyField !== undefined)
          throw new UsageError('give --partition-key or --key-field, not both');
        if (opts.partitionKey === '') throw new UsageError('--partition-key must not be empty');
        const ttl = Number(opts.recordTtl);
        if (!Number.isInteger(ttl) || ttl < 1)
          throw new UsageError(`--record-ttl must be a positive integer (ms), got "${opts.recordTtl}"`);
        const rule: PartitionKeyRule =
          opts.partitionKey !== undefined
            ? { kind: 'fixed', key: opts.partitionKey }
            : opts.keyField !== undefined
              ? { kind: 'field', path: opts.keyField }
              : { kind: 'random' };

        if (opts.file) {
          await access(opts.file).catch((e: NodeJS.ErrnoException) => {
            throw new UsageError(
              `cannot read --file ${opts.file}: ${e.code ?? e.message}`,
              'Check the path, or pipe the records on stdin.',
            );
          });
        }
        const { KinesisProducer, partitionKeyFor } = await import('@awskit/kinesis-producer');
        const logger = cliLogger(flags);
        const stream = opts.stream.startsWith('arn:')
          ? { streamARN: opts.stream }
          : { streamName: opts.stream };
        const producer = new KinesisProducer({
          ...stream,
          clientOptions: clientOptions(flags),
          aggregation: opts.aggregation,
          ordered: !!opts.ordered,
          recordTtlMs: ttl,
          logger,
        });

        const input = opts.file ? createReadStream(opts.file) : process.stdin;
        const inputDone = new Promise<void>((_, reject) => input.once('error', reject));
        inputDone.catch(() => {});
        const started = Date.now();
        let lines = 0;
        let keyErrors = 0;
        let putErrors = 0;
        let succeeded = 0;
        // failures grouped by message: a missing stream gives one line, not one per record
        const errorGroups = new Map<string, { count: number; firstLine: number }>();
        const reportError = (lineNo: number, message: string) => {
          const g = errorGroups.get(message);
          if (g) g.count++;
          else errorGroups.set(message, { count: 1, firstLine: lineNo });
        };

        const progressOn = !!process.stderr.isTTY && !flags.quiet && !flags.json;
        const progress = progressOn
          ? setInterval(() => {
              const secs = (Date.now() - started) / 1000;
              process.stderr.write(
                `\r${succeeded} put, ${keyErrors + putErrors} failed, ${lines} read, ${Math.round(succeeded / Math.max(secs, 0.001))} rec/s `,
              );
            }, 250)
          : undefined;

        async function* records() {
          const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
          let lineNo = 0;
          for await (const line of rl) {
            lineNo++;
            if (line.length === 0) continue;
            lines++;
            const k = lineKey(line, rule, partitionKeyFor);
            if ('error' in k) {
              keyErrors++;
              reportError(lineNo, k.error);
              continue;
            }
            yield { data: Buffer.from(line, 'utf8'), partitionKey: k.key, lineNo };
          }
        }

        let interrupted = false;
        const onSignal = () => {
          interrupted = true;
          input.destroy();
        };
        process.once('SIGINT', onSignal);
        try {
          await Promise.race([
            producer.putAll(records(), {
              onResult: () => {
                succeeded++;
              },
              onError: (e, r) => {
                putErrors++;
                reportError((r as { lineNo?: number }).lineNo ?? 0, e.message);
              },
            }),
            inputDone,
          ]);
        } finally {
          process.off('SIGINT', onSignal);
          if (progress) {
            clearInterval(progress);
            process.stderr.write('\n');
          }
          await producer.close();
        }

        const stats = producer.stats;
        const failed = keyErrors + putErrors;
        const elapsedMs = Date.now() - started;
        let shown = 0;
        for (const [message, g] of errorGroups) {
          if (shown++ >= MAX_ERRORS_SHOWN) {
            logger.error(`... and ${errorGroups.size - MAX_ERRORS_SHOWN} more kinds of failure`);
            break;
          }
          logger.error(
            g.count === 1
              ? `line ${g.firstLine}: ${message}`
              : `${g.count} records (first at line ${g.firstLine}): ${message}`,
          );
        }
        const summary = {
          stream: opts.stream,
          userRecords: stats.userRecordsPut,
          kinesisRecords: stats.kinesisRecordsPut,
          bytes: stats.userBytesPut,
          retries: stats.retries,
          throttles: stats.throttles,
          failed,
          elapsedMs,
          recordsPerSecond: Math.round(stats.userRecordsPut / Math.max(elapsedMs / 1000, 0.001)),
        };
        output(
          flags,
          () =>
            [
              `put ${summary.userRecords} records (${formatBytes(summary.bytes)}) in ${summary.kinesisRecords} Kinesis records to ${opts.stream}`,
              `retries ${summary.retries}, throttled ${summary.throttles}, failed ${summary.failed}, ${(elapsedMs / 1000).toFixed(2)} s (${summary.recordsPerSecond} records/s)`,
            ].join('\n'),
          summary,
        );
        if (interrupted) process.exitCode = ExitCode.Interrupted;
        else if (failed > 0)
          process.exitCode = stats.userRecordsPut > 0 ? ExitCode.PartialFailure : ExitCode.Failure;
      },
    );
}
