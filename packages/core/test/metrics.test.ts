import { describe, expect, it } from 'vitest';
import { MetricsRegistry, noopMetrics } from '../src/index';

describe('MetricsRegistry', () => {
  it('adds up counters per label set, whatever the label order', () => {
    const m = new MetricsRegistry();
    m.increment('records');
    m.increment('records', 4);
    m.increment('puts', 1, { stream: 'orders', shard: 'a' });
    m.increment('puts', 2, { shard: 'a', stream: 'orders' });
    m.increment('puts', 1, { stream: 'orders', shard: 'b' });
    expect(m.value('records')).toBe(5);
    expect(m.value('puts', { stream: 'orders', shard: 'a' })).toBe(3);
    expect(m.value('puts', { shard: 'b', stream: 'orders' })).toBe(1);
    expect(m.value('never')).toBe(0);
  });

  // Regression: `increment(name)` and `increment(name, 1, {})` made two series that printed as the same
  // Prometheus line twice.
  it('treats empty labels as no labels', () => {
    const m = new MetricsRegistry();
    m.increment('x');
    m.increment('x', 1, {});
    expect(m.value('x')).toBe(2);
    expect(m.value('x', {})).toBe(2);
    expect(m.snapshot()).toHaveLength(1);
  });

  // Regression: the series key joined labels with `,` and `=`, so these two label sets shared one series.
  it('keeps label sets apart even when values contain , and =', () => {
    const m = new MetricsRegistry();
    m.increment('x', 1, { a: '1,b=2' });
    m.increment('x', 10, { a: '1', b: '2' });
    expect(m.value('x', { a: '1,b=2' })).toBe(1);
    expect(m.value('x', { a: '1', b: '2' })).toBe(10);
  });

  it('gauges keep the last value', () => {
    const m = new MetricsRegistry();
    m.gauge('lag_ms', 10, { shard: 'a' });
    m.gauge('lag_ms', 3, { shard: 'a' });
    expect(m.value('lag_ms', { shard: 'a' })).toBe(3);
  });

  it('summaries keep count, sum, min, max and quantiles', () => {
    const m = new MetricsRegistry();
    for (const v of [5, 1, 4, 2, 3]) m.observe('latency_ms', v);
    expect(m.value('latency_ms')).toBe(5);
    expect(m.snapshot()).toEqual([
      {
        name: 'latency_ms',
        type: 'summary',
        labels: {},
        value: { count: 5, sum: 15, min: 1, max: 5, p50: 3, p99: 5 },
      },
    ]);
  });

  it('computes quantiles over a bounded window of recent observations', () => {
    const m = new MetricsRegistry();
    for (let i = 0; i < 2_100; i++) m.observe('x', i < 1_000 ? 1_000_000 : 1);
    const s = m.snapshot()[0]!.value as { count: number; max: number; p99: number };
    expect(s.count).toBe(2_100);
    expect(s.max).toBe(1_000_000); // max is over everything
    expect(s.p99).toBe(1); // quantiles only over the latest 1024
  });

  it('snapshot lists every series with its type and labels', () => {
    const m = new MetricsRegistry();
    m.increment('c', 2, { k: 'v' });
    m.gauge('g', 7);
    expect(m.snapshot()).toEqual([
      { name: 'c', type: 'counter', labels: { k: 'v' }, value: 2 },
      { name: 'g', type: 'gauge', labels: {}, value: 7 },
    ]);
  });

  it('renders Prometheus text exactly', () => {
    const m = new MetricsRegistry('awskit_');
    m.increment('records_total', 2, { stream: 'orders' });
    m.increment('records_total', 1, { stream: 'orders' });
    m.increment('records_total', 1, { stream: 'a"b\\c\nd' });
    m.gauge('lag.ms', 5);
    m.observe('put_ms', 10, { op: 'put' });
    m.observe('put_ms', 30, { op: 'put' });
    m.observe('put_ms', 20, { op: 'put' });
    expect(m.toPrometheus()).toBe(
      [
        '# TYPE awskit_lag_ms gauge',
        'awskit_lag_ms 5',
        '# TYPE awskit_put_ms summary',
        'awskit_put_ms{op="put",quantile="0.5"} 20',
        'awskit_put_ms{op="put",quantile="0.99"} 30',
        'awskit_put_ms_sum{op="put"} 60',
        'awskit_put_ms_count{op="put"} 3',
        '# TYPE awskit_records_total counter',
        'awskit_records_total{stream="orders"} 3',
        'awskit_records_total{stream="a\\"b\\\\c\\nd"} 1',
        '',
      ].join('\n'),
    );
  });

  it('sanitizes metric and label names and prints labels in a stable order', () => {
    const m = new MetricsRegistry();
    m.increment('kinesis-put.records', 1, { 'shard-id': 'a', app: 'x' });
    expect(m.toPrometheus()).toBe(
      '# TYPE kinesis_put_records counter\nkinesis_put_records{app="x",shard_id="a"} 1\n',
    );
  });

  it('writes infinite values the way Prometheus spells them', () => {
    const m = new MetricsRegistry();
    m.gauge('up', Number.POSITIVE_INFINITY);
    m.gauge('down', Number.NEGATIVE_INFINITY);
    m.gauge('nan', Number.NaN);
    expect(m.toPrometheus()).toBe(
      '# TYPE down gauge\ndown -Inf\n# TYPE nan gauge\nnan NaN\n# TYPE up gauge\nup +Inf\n',
    );
  });

  it('an empty registry renders as empty text', () => {
    expect(new MetricsRegistry().toPrometheus()).toBe('');
  });
});

describe('noopMetrics', () => {
  it('accepts every call and keeps nothing', () => {
    expect(() => {
      noopMetrics.increment('a');
      noopMetrics.gauge('b', 1, { x: 'y' });
      noopMetrics.observe('c', 2);
    }).not.toThrow();
    expect(Object.isFrozen(noopMetrics)).toBe(true);
  });
});
