import type { Labels, Metrics } from '@awskit/core';

/**
 * Every metric the consumer reports through its `metrics` option (core's {@link Metrics} interface), with its
 * type and labels. Names follow Prometheus conventions; `MetricsRegistry.toPrometheus()` renders them.
 */
export const CONSUMER_METRICS = {
  /** gauge {shard}: how far behind the tip of the shard the last read was. */
  millisBehindLatest: 'kinesis_consumer_millis_behind_latest',
  /** counter {shard}: user records handed to the processor and completed. */
  recordsProcessed: 'kinesis_consumer_records_processed_total',
  /** counter {shard}: bytes of Kinesis records (before deaggregation) whose batch was processed. */
  bytesProcessed: 'kinesis_consumer_bytes_processed_total',
  /** summary {shard}: processor time per batch, in ms. */
  batchDurationMs: 'kinesis_consumer_batch_duration_ms',
  /** summary {shard}: time from the record's arrival in Kinesis to its hand-off to the processor, in ms. */
  deliveryLatencyMs: 'kinesis_consumer_delivery_latency_ms',
  /** counter {shard}: processor failures (each retry counts). */
  handlerErrors: 'kinesis_consumer_handler_errors_total',
  /** counter {shard}: checkpoints written. */
  checkpoints: 'kinesis_consumer_checkpoints_total',
  /** gauge {shard}: time since the shard's checkpoint last moved (or since the lease was taken), in ms. */
  checkpointAgeMs: 'kinesis_consumer_checkpoint_age_ms',
  /** gauge {shard}: 1 while the shard is stalled (lease renewed, records waiting, checkpoint not moving). */
  shardStalled: 'kinesis_consumer_shard_stalled',
  /** counter {shard}: times a shard became stalled. */
  stalls: 'kinesis_consumer_stalls_total',
  /** gauge {worker}: leases held. */
  leasesHeld: 'kinesis_consumer_leases_held',
  /** counter {worker}: expired or unassigned leases taken. */
  leasesTaken: 'kinesis_consumer_leases_taken_total',
  /** counter {worker}: leases stolen from an over-loaded worker to balance. */
  leasesStolen: 'kinesis_consumer_leases_stolen_total',
  /** counter {worker, reason}: held leases lost (taken by another worker, or expired after failed renewals). */
  leasesLost: 'kinesis_consumer_leases_lost_total',
  /** counter {worker}: leases released (graceful stop, read failure). */
  leasesReleased: 'kinesis_consumer_leases_released_total',
  /** counter {worker}: lease renewals that failed with an error (not a lost lease). */
  renewFailures: 'kinesis_consumer_renew_failures_total',
  /** gauge {worker}: worker-liveness heartbeat interval after it was stretched or shortened (`stretchHeartbeat`). */
  heartbeatInterval: 'kinesis_consumer_heartbeat_interval_ms',
  /** counter {worker, operation}: lease-table calls (UpdateItem, PutItem, GetItem, Scan, Query, DeleteItem). */
  leaseTableCalls: 'kinesis_consumer_lease_table_calls_total',
  /** counter {worker, operation}: capacity units those calls consumed (RCU for reads, WCU for writes). */
  leaseTableCapacityUnits: 'kinesis_consumer_lease_table_capacity_units_total',
  /** counter {shard}: SubscribeToShard calls (enhanced fan-out). */
  efoSubscriptions: 'kinesis_consumer_efo_subscriptions_total',
  /** counter {shard, reason = expiry | idle | ended}: planned or forced resubscriptions. */
  efoResubscribes: 'kinesis_consumer_efo_resubscribes_total',
  /** counter {shard}: subscriptions that went silent past the idle deadline (half-open connections). */
  efoIdleTimeouts: 'kinesis_consumer_efo_idle_timeouts_total',
  /** counter {shard, error}: failed SubscribeToShard calls (retried with backoff). */
  efoSubscribeErrors: 'kinesis_consumer_efo_subscribe_errors_total',
} as const;

/** Sends every call to each of `targets` (e.g. the user's metrics and the consumer's own stats). */
export function teeMetrics(...targets: Metrics[]): Metrics {
  return {
    increment(name: string, value?: number, labels?: Labels) {
      for (const t of targets) t.increment(name, value, labels);
    },
    gauge(name: string, value: number, labels?: Labels) {
      for (const t of targets) t.gauge(name, value, labels);
    },
    observe(name: string, value: number, labels?: Labels) {
      for (const t of targets) t.observe(name, value, labels);
    },
  };
}
