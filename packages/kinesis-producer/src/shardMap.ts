import { toAwskitError } from '@awskit/core';
import { hashKeyToHex, listShards, ShardMap } from '@awskit/kinesis-aggregation';
import {
  type HexRange,
  type Pending,
  ProducerState,
  SHARD_RANGE_UNKNOWN,
  UNPREDICTED,
  type Unverified,
} from './producerState.js';

/** Shard map: predicting a record's shard, loading the map (ListShards), settling records that waited for it. */
export abstract class ShardMapLayer extends ProducerState {
  protected predict(hashKey: string): string {
    return this.shardMap?.shardForHex(hashKey) ?? UNPREDICTED;
  }

  protected startMapLoad(): void {
    if (this.mapLoading) return;
    this.mapLoading = true;
    if (this.mapState === 'none') this.mapState = 'loading';
    void this.loadShardMap(++this.mapLoadsStarted);
  }

  protected async loadShardMap(load: number): Promise<void> {
    try {
      const client = await this.client();
      // Without ShardFilter (not every emulator has it): closed shards are dropped below.
      const shards = await listShards(client, this.stream, {
        callTimeoutMs: this.opts.requestTimeoutMs,
        maxResults: 1000,
      });
      const open = shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined);
      this.shardMap = new ShardMap(open);
      const ranges = new Map<string, HexRange>();
      for (const s of shards) {
        const start = s.HashKeyRange?.StartingHashKey;
        const end = s.HashKeyRange?.EndingHashKey;
        if (s.ShardId === undefined || start === undefined || end === undefined) continue;
        ranges.set(s.ShardId, { startHex: hashKeyToHex(BigInt(start)), endHex: hashKeyToHex(BigInt(end)) });
      }
      this.shardRanges = ranges;
      this.mapState = 'ready';
      this.mapStale = false;
      this.mapFailures = 0;
      this.counters.shardMapRefreshes++;
      this.metrics.increment('kinesis_producer_shard_map_refreshes_total', 1, this.labels);
      this.logger.debug('kinesis producer: shard map loaded', {
        stream: this.streamLabel,
        shards: this.shardMap.size,
      });
      this.verifyUnverified(load, this.clock.now());
      if (this.opts.ordered && this.inFlight > 0) this.rebucketPending = true;
      else this.rebucket();
    } catch (e) {
      this.mapFailures++;
      this.mapRetryAt = this.clock.now() + Math.min(30_000, 1000 * 1.5 ** (this.mapFailures - 1));
      if (!this.shardMap) this.mapState = 'failed';
      const err = toAwskitError(e, { service: 'kinesis', operation: 'ListShards' });
      this.logger.warn(
        this.shardMap
          ? 'kinesis producer: cannot refresh the shard map; retrying with backoff'
          : 'kinesis producer: cannot load the shard map; records go unaggregated until it loads',
        {
          stream: this.streamLabel,
          code: err.code,
          error: err.message,
          retryInMs: this.mapRetryAt - this.clock.now(),
        },
      );
    } finally {
      this.mapLoading = false;
      this.schedulePump();
    }
  }

  /** After shard-map load number `load`: settle the records that were waiting for their shard's range. */
  protected verifyUnverified(load: number, now: number): void {
    if (this.unverified.length === 0) return;
    const waiting = this.unverified;
    this.unverified = [];
    const wrongByShard = new Map<string, Pending[]>();
    let userPut = 0;
    let userBytes = 0;
    for (const u of waiting) {
      if (u.p.settled) continue;
      const range = this.shardRanges.get(u.result.shardId);
      if (range === undefined && load <= u.loadsStarted) {
        // this listing may predate the shard: wait for the next one
        this.unverified.push(u);
        this.mapStale = true;
        continue;
      }
      if (range !== undefined && u.p.hashKey >= range.startHex && u.p.hashKey <= range.endHex) {
        userPut++;
        userBytes += u.p.size;
        this.succeed(u.p, u.result, now);
        continue;
      }
      if (range === undefined) {
        this.logger.warn(
          'kinesis producer: ListShards does not list a shard that accepted records; re-sending',
          {
            stream: this.streamLabel,
            shardId: u.result.shardId,
          },
        );
      }
      const list = wrongByShard.get(u.result.shardId) ?? [];
      list.push(u.p);
      wrongByShard.set(u.result.shardId, list);
    }
    for (const [shardId, items] of wrongByShard) this.resendWrongShard(items, shardId, now);
    this.counters.userRecordsPut += userPut;
    this.counters.userBytesPut += userBytes;
    this.metrics.increment('kinesis_producer_user_records_put_total', userPut, this.labels);
    this.metrics.increment('kinesis_producer_user_bytes_put_total', userBytes, this.labels);
  }

  /**
   * Rejects the records whose TTL passed while waiting for their shard's range (ListShards kept failing). They may
   * be on the stream, but nothing says a KCL-style consumer will deliver them, so they are not reported written.
   */
  protected expireUnverified(now: number): void {
    const live: Unverified[] = [];
    for (const u of this.unverified) {
      if (u.p.settled) continue;
      if (u.p.deadline > now) {
        live.push(u);
        continue;
      }
      u.p.lastErrorCode = SHARD_RANGE_UNKNOWN;
      u.p.lastErrorMessage = `landed on ${u.result.shardId} (sequence number ${u.result.sequenceNumber}), whose hash-key range could not be loaded to check that the record belongs there`;
      this.expire(u.p);
    }
    this.unverified = live;
  }
}
