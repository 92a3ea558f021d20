import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { EncodedRecord } from '@awskit/kinesis-aggregation';
import { type Entry, type Pending, type ShardState, UNPREDICTED } from './producerState.js';
import { ShardMapLayer } from './shardMap.js';

/** Request building: the pump that picks due shard queues, aggregates entries and sends PutRecords. */
export abstract class RequestLayer extends ShardMapLayer {
  protected override schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => this.pump());
  }

  protected pump(): void {
    this.pumpScheduled = false;
    if (this.mapState === 'none') {
      this.startMapLoad();
      return;
    }
    if (this.mapState === 'loading') return; // the first load calls pump when it ends
    const now = this.clock.now();
    // a failed load (first or refresh) is retried after its backoff, not in a loop
    if (!this.mapLoading && (this.mapStale || this.mapState === 'failed') && now >= this.mapRetryAt) {
      this.startMapLoad();
    }
    if (this.unverified.length > 0) this.expireUnverified(now);
    if (this.rebucketPending) {
      if (this.inFlight > 0) return;
      this.rebucket();
    }
    this.promoteDelayed(now);
    // ordered: while some records wait to learn whether they landed in range, later records of their keys must not
    // overtake them (one of those could land in range first)
    const hold = this.opts.ordered && this.unverified.length > 0;
    while (!hold && this.inFlight < this.opts.maxInFlightRequests) {
      const entries = this.buildRequest(now);
      if (!entries) break;
      void this.send(entries);
    }
    this.metrics.gauge('kinesis_producer_buffered_bytes', this.buffered, this.labels);
    this.metrics.gauge('kinesis_producer_buffered_records', this.bufferedCount, this.labels);
    this.scheduleWake(now);
  }

  protected promoteDelayed(now: number): void {
    if (this.delayed.length === 0) return;
    const due = this.delayed.filter((p) => p.notBefore <= now);
    if (due.length === 0) return;
    this.delayed = this.delayed.filter((p) => p.notBefore > now);
    for (const p of due) p.queuedAt = 0;
    this.requeueFront(due);
  }

  protected isDue(s: ShardState, now: number): boolean {
    const head = s.queue.peek();
    return head !== undefined && head.queuedAt + this.opts.maxBufferedTimeMs <= now;
  }

  protected buildRequest(now: number): Entry[] | undefined {
    const o = this.opts;
    const force = this.forcing > 0 || this.closed;
    const full =
      this.queuedBytes >= o.collectionMaxBytes ||
      (!o.aggregation && this.queuedCount >= o.collectionMaxCount);
    const ids = [...this.shards.keys()];
    const start = this.roundRobin++ % Math.max(1, ids.length);
    const entries: Entry[] = [];
    let bytes = 0;
    for (let k = 0; k < ids.length; k++) {
      if (entries.length >= o.collectionMaxCount || bytes >= o.collectionMaxBytes) break;
      const s = this.shards.get(ids[(start + k) % ids.length]!)!;
      if (s.queue.length === 0) continue;
      if (o.ordered && (s.inFlight > 0 || s.blockedUntil > now)) continue;
      if (!force && !full && !this.isDue(s, now)) continue;
      while (entries.length < o.collectionMaxCount && (!s.limiter || s.limiter.canSend())) {
        const entry = this.takeEntry(s, now, o.collectionMaxBytes - bytes, entries.length === 0);
        if (!entry) break;
        entries.push(entry);
        bytes += entry.record.sizeBytes;
        s.limiter?.take(entry.record.sizeBytes);
        if (o.ordered) break;
      }
    }
    return entries.length > 0 ? entries : undefined;
  }

  /** The head of the shard queue, after rejecting expired records. */
  protected liveHead(s: ShardState, now: number): Pending | undefined {
    for (;;) {
      const p = s.queue.peek();
      if (!p || p.deadline > now) return p;
      s.queue.shift();
      this.queuedBytes -= p.size;
      this.queuedCount--;
      this.expire(p);
    }
  }

  protected dequeue(s: ShardState): Pending {
    const p = s.queue.shift()!;
    this.queuedBytes -= p.size;
    this.queuedCount--;
    return p;
  }

  protected takeEntry(
    s: ShardState,
    now: number,
    bytesLeft: number,
    requestEmpty: boolean,
  ): Entry | undefined {
    const first = this.liveHead(s, now);
    // a record bigger than collectionMaxBytes still goes, alone in its request
    if (!first || (first.size > bytesLeft && !requestEmpty)) return undefined;
    if (!this.opts.aggregation || s.id === UNPREDICTED) {
      const p = this.dequeue(s);
      const record: EncodedRecord = {
        data: p.data,
        partitionKey: p.partitionKey,
        aggregated: false,
        userRecordCount: 1,
        sizeBytes: p.size,
      };
      if (p.explicitHashKey !== undefined) record.explicitHashKey = p.explicitHashKey;
      return { shardId: s.id, items: [p], record };
    }
    const agg = this.aggregator;
    const limit = Math.min(this.opts.aggregationMaxBytes, bytesLeft);
    for (;;) {
      const p = this.liveHead(s, now);
      if (!p) break;
      if (agg.count > 0 && (agg.sizeWith(p) > limit || agg.count >= this.opts.aggregationMaxCount)) break;
      agg.tryAdd(p);
      this.dequeue(s);
      // a lone record over the aggregation limit goes alone (KPL)
      if (agg.count === 1 && p.size >= limit) break;
    }
    if (agg.count === 0) return undefined;
    const { record, items } = agg.build();
    return { shardId: s.id, items, record };
  }

  protected async send(entries: Entry[]): Promise<void> {
    const shardsInRequest = new Set<ShardState>();
    for (const e of entries) {
      const s = this.shards.get(e.shardId);
      if (s) shardsInRequest.add(s);
      for (const p of e.items) p.attempts++;
    }
    for (const s of shardsInRequest) s.inFlight++;
    this.inFlight++;
    this.counters.requests++;
    const started = this.clock.now();
    try {
      const client = await this.client();
      const out = await client.send(
        new PutRecordsCommand({
          ...this.target,
          Records: entries.map((e) => ({
            Data: e.record.data,
            PartitionKey: e.record.partitionKey,
            ...(e.record.explicitHashKey !== undefined && { ExplicitHashKey: e.record.explicitHashKey }),
          })),
        }),
        { abortSignal: AbortSignal.timeout(this.opts.requestTimeoutMs) },
      );
      this.onResponse(entries, out);
    } catch (e) {
      this.onRequestError(entries, e);
    } finally {
      this.metrics.observe('kinesis_producer_request_latency_ms', this.clock.now() - started, this.labels);
      this.inFlight--;
      for (const s of shardsInRequest) s.inFlight--;
      this.schedulePump();
    }
  }
}
