import type { PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { backoffDelay, toAwskitError } from '@awskit/core';
import { userRecordHashKeyHex } from '@awskit/kinesis-aggregation';
import { KinesisProducerError } from './errors.js';
import {
  type Entry,
  isThrottleName,
  type Pending,
  THROUGHPUT_EXCEEDED,
  UNPREDICTED,
  WRONG_SHARD,
} from './producerState.js';
import { RequestLayer } from './requests.js';
import type { PutResult } from './types.js';

/** Responses: per-record results, wrong-shard resends, request errors, retries with backoff and expiry. */
export abstract class ResponseLayer extends RequestLayer {
  protected override onResponse(entries: Entry[], out: PutRecordsCommandOutput): void {
    const results = out.Records ?? [];
    const now = this.clock.now();
    if (results.length !== entries.length) {
      for (const e of entries)
        this.retryOrFail(
          e.items,
          'RecordCountMismatch',
          `${results.length} results for ${entries.length} records`,
          true,
          now,
        );
      return;
    }
    let kinesisPut = 0;
    let kinesisBytes = 0;
    let userPut = 0;
    let userBytes = 0;
    let throttled = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const r = results[i]!;
      if (r.SequenceNumber && r.ShardId) {
        kinesisPut++;
        kinesisBytes += e.record.sizeBytes;
        const delivered = this.settleAccepted(e, r.ShardId, r.SequenceNumber, now);
        userPut += delivered.count;
        userBytes += delivered.bytes;
      } else {
        const code = r.ErrorCode ?? 'Unknown';
        if (code === THROUGHPUT_EXCEEDED) {
          throttled++;
          this.shards.get(e.shardId)?.limiter?.throttled();
        }
        // KMS errors other than throttling will not heal by retrying
        const retryable = !code.startsWith('KMS') || code === 'KMSThrottlingException';
        this.retryOrFail(e.items, code, r.ErrorMessage, retryable, now);
      }
    }
    this.counters.kinesisRecordsPut += kinesisPut;
    this.counters.kinesisBytesPut += kinesisBytes;
    this.counters.userRecordsPut += userPut;
    this.counters.userBytesPut += userBytes;
    this.counters.throttles += throttled;
    const m = this.metrics;
    m.increment('kinesis_producer_user_records_put_total', userPut, this.labels);
    m.increment('kinesis_producer_kinesis_records_put_total', kinesisPut, this.labels);
    m.increment('kinesis_producer_user_bytes_put_total', userBytes, this.labels);
    m.increment('kinesis_producer_kinesis_bytes_put_total', kinesisBytes, this.labels);
    if (throttled > 0) m.increment('kinesis_producer_throttles_total', throttled, this.labels);
  }

  /**
   * Settles the user records of a Kinesis record that Kinesis accepted on `shardId`: those whose hash key is in the
   * shard's hash-key range succeed; the others (an aggregate predicted for a shard that was split meanwhile carries
   * records of the sibling) are re-sent; when the shard's range is not known yet they wait for the next shard map.
   * @returns count and bytes of the user records that succeeded now.
   */
  protected settleAccepted(
    e: Entry,
    shardId: string,
    sequenceNumber: string,
    now: number,
  ): { count: number; bytes: number } {
    const range = this.shardRanges.get(shardId);
    // The hash key Kinesis routed this Kinesis record by (a record sent on its own: its own key; an aggregate: its
    // first user record's key). A user record with exactly that key is on the shard that owns it, by definition.
    let routeHex: string | undefined;
    const wrongShard: Pending[] = [];
    let unknownRange = false;
    let contradicted = false;
    let count = 0;
    let bytes = 0;
    for (let j = 0; j < e.items.length; j++) {
      const p = e.items[j]!;
      const result: PutResult = { shardId, sequenceNumber, attempts: p.attempts };
      if (e.record.aggregated) result.subSequenceNumber = j;
      let inRange: boolean | undefined;
      if (range !== undefined && p.hashKey >= range.startHex && p.hashKey <= range.endHex) inRange = true;
      else {
        routeHex ??= userRecordHashKeyHex(e.record);
        if (p.hashKey === routeHex) {
          inRange = true;
          // re-sending could only land it here again; our listing disagrees with Kinesis' routing: reload it
          if (range !== undefined) contradicted = true;
        } else if (range !== undefined) inRange = false;
      }
      if (inRange === true) {
        count++;
        bytes += p.size;
        this.succeed(p, result, now);
      } else if (inRange === false) {
        // On the shard, but outside its range: KCL-style consumers drop it (dropRecordsOutsideHashRange), so for
        // them it was never written. Re-send it (the KPL's "Wrong Shard" retry).
        wrongShard.push(p);
      } else {
        // a shard missing from our last ListShards (a child created since): decide once its range is known
        unknownRange = true;
        this.unverified.push({ p, result, loadsStarted: this.mapLoadsStarted });
      }
    }
    if (!this.mapStale) {
      let reason: string | undefined;
      if (unknownRange) reason = 'landed on a shard missing from the shard map';
      else if (contradicted) reason = "the shard map's hash-key range disagrees with where Kinesis routed";
      else if (e.shardId !== UNPREDICTED && shardId !== e.shardId) {
        // the map may already know the reshard (reloaded while this request was in flight)
        routeHex ??= userRecordHashKeyHex(e.record);
        if (this.predict(routeHex) !== shardId) reason = 'landed on an unexpected shard';
      }
      if (reason !== undefined) {
        this.mapStale = true;
        this.logger[contradicted ? 'warn' : 'debug'](
          `kinesis producer: ${reason}; refreshing the shard map`,
          {
            stream: this.streamLabel,
            predicted: e.shardId,
            actual: shardId,
          },
        );
      }
    }
    if (wrongShard.length > 0) this.resendWrongShard(wrongShard, shardId, now);
    return { count, bytes };
  }

  /**
   * Re-sends user records that Kinesis accepted on `shardId` although that shard's hash-key range does not hold
   * their hash key: re-predicted with the current map and re-aggregated, counted as attempts, within their TTL.
   */
  protected override resendWrongShard(items: Pending[], shardId: string, now: number): void {
    const live = items.filter((p) => !p.settled);
    this.counters.wrongShardResent += live.length;
    this.metrics.increment('kinesis_producer_wrong_shard_resent_total', live.length, this.labels);
    this.logger.debug('kinesis producer: re-sending user records that landed outside their shard', {
      stream: this.streamLabel,
      shardId,
      userRecords: live.length,
    });
    // With a map that knows where they belong, at once; while it is being reloaded, with the retry backoff (so a
    // map that keeps failing to load does not turn into a PutRecords loop).
    this.retryOrFail(
      live,
      WRONG_SHARD,
      `landed on ${shardId}, whose hash-key range does not hold the record's hash key (the stream was resharded)`,
      true,
      now,
      !this.mapStale,
    );
  }

  protected override onRequestError(entries: Entry[], e: unknown): void {
    const now = this.clock.now();
    const raw = e as {
      name?: string;
      message?: string;
      $fault?: string;
      $metadata?: { httpStatusCode?: number };
    };
    const err = toAwskitError(e, {
      service: 'kinesis',
      operation: 'PutRecords',
      resource: `stream "${this.streamLabel}"`,
    });
    const name = raw?.name && raw.name !== 'Error' ? raw.name : err.code;
    const status = raw?.$metadata?.httpStatusCode;
    const throttled = isThrottleName(name) || err.code === 'THROTTLED';
    const retryable =
      throttled ||
      err.code === 'ENDPOINT_UNREACHABLE' ||
      err.code === 'LOCAL_ENDPOINT_UNREACHABLE' ||
      raw?.$fault === 'server' ||
      (status !== undefined && status >= 500) ||
      name === 'TimeoutError' ||
      name === 'AbortError' ||
      name === 'RequestTimeout';
    if (throttled) {
      this.counters.throttles += entries.length;
      this.metrics.increment('kinesis_producer_throttles_total', entries.length, this.labels);
      for (const en of entries) this.shards.get(en.shardId)?.limiter?.throttled();
    }
    this.logger.warn('kinesis producer: PutRecords failed', {
      stream: this.streamLabel,
      error: name,
      retrying: retryable,
      kinesisRecords: entries.length,
    });
    if (!retryable) {
      for (const en of entries) {
        for (const p of en.items) {
          this.fail(
            p,
            new KinesisProducerError('PUT_FAILED', err.message, {
              cause: err,
              ...(err.hint !== undefined && { hint: err.hint }),
            }),
          );
        }
      }
      return;
    }
    for (const en of entries) this.retryOrFail(en.items, name, raw?.message ?? err.message, true, now);
  }

  protected retryOrFail(
    items: Pending[],
    code: string,
    message: string | undefined,
    retryable: boolean,
    now: number,
    immediate = false,
  ): void {
    const retry: Pending[] = [];
    // one delay for the whole failed Kinesis record, so its user records are retried (re-aggregated) together
    const attempts = items.reduce((m, p) => Math.max(m, p.attempts), 1);
    const notBefore = immediate
      ? now
      : now +
        backoffDelay(attempts - 1, {
          baseMs: this.opts.retryBaseDelayMs,
          capMs: this.opts.retryMaxDelayMs,
          random: this.random,
        });
    for (const p of items) {
      p.lastErrorCode = code;
      if (message !== undefined) p.lastErrorMessage = message;
      if (!retryable) {
        this.fail(
          p,
          new KinesisProducerError(
            'PUT_FAILED',
            `Kinesis rejected the record: ${code}${message ? `: ${message}` : ''}`,
            {
              hint: 'This error is not retryable; check the stream, its encryption key and your permissions.',
              details: { errorCode: code },
            },
          ),
        );
        continue;
      }
      if (code === THROUGHPUT_EXCEEDED && this.opts.failIfThrottled) {
        this.fail(
          p,
          new KinesisProducerError(
            'KINESIS_PRODUCER_THROTTLED',
            `Throttled and failIfThrottled is set: ${message ?? code}`,
            {
              hint: 'Unset failIfThrottled to retry throttled records until their TTL, or add shards.',
              details: { errorCode: code },
            },
          ),
        );
        continue;
      }
      p.notBefore = notBefore;
      if (p.notBefore >= p.deadline) {
        this.expire(p);
        continue;
      }
      retry.push(p);
    }
    if (retry.length === 0) return;
    this.counters.retries += retry.length;
    this.metrics.increment('kinesis_producer_retries_total', retry.length, this.labels);
    if (this.opts.ordered) {
      // back to the front of the queue: later records of the same keys must not overtake them
      for (const p of retry) p.queuedAt = 0;
      this.requeueFront(retry);
      for (const p of retry) {
        const s = this.shard(this.predict(p.hashKey));
        s.blockedUntil = Math.max(s.blockedUntil, p.notBefore);
      }
    } else {
      for (const p of retry) this.delayed.push(p);
    }
  }

  protected override scheduleWake(now: number): void {
    let at = Number.POSITIVE_INFINITY;
    for (const s of this.shards.values()) {
      const head = s.queue.peek();
      if (!head) continue;
      at = Math.min(at, head.deadline);
      if (this.opts.ordered && s.blockedUntil > now) at = Math.min(at, s.blockedUntil);
      else if (s.limiter && !s.limiter.canSend()) at = Math.min(at, now + s.limiter.msUntilOpen());
      else if (!this.isDue(s, now)) at = Math.min(at, head.queuedAt + this.opts.maxBufferedTimeMs);
    }
    for (const p of this.delayed) at = Math.min(at, p.notBefore);
    for (const u of this.unverified) at = Math.min(at, u.p.deadline);
    if (
      !this.mapLoading &&
      (this.mapState === 'failed' || this.mapStale) &&
      (this.queuedCount > 0 || this.delayed.length > 0 || this.unverified.length > 0)
    )
      at = Math.min(at, this.mapRetryAt);
    if (at === Number.POSITIVE_INFINITY) return;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.pump();
      },
      Math.max(0, at - now),
    );
  }
}
