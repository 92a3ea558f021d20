/** Label set of one metric series. */
export type Labels = Record<string, string | number>;

/** The metrics hooks every awskit library accepts (default: {@link noopMetrics}). */
export interface Metrics {
  /** Adds to a monotonically increasing counter. */
  increment(name: string, value?: number, labels?: Labels): void;
  /** Sets a value that goes up and down. */
  gauge(name: string, value: number, labels?: Labels): void;
  /** Records one observation (latency, size) into a summary. */
  observe(name: string, value: number, labels?: Labels): void;
}

const noop = () => {};
/** Metrics that go nowhere. */
export const noopMetrics: Metrics = Object.freeze({ increment: noop, gauge: noop, observe: noop });

/** Summary of observations of one series. */
export interface SummaryValue {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Quantiles over the most recent observations (a bounded window). */
  p50: number;
  p99: number;
}

export interface MetricSeries {
  name: string;
  type: 'counter' | 'gauge' | 'summary';
  labels: Labels;
  value: number | SummaryValue;
}

const WINDOW = 1024;

function key(name: string, labels: Labels | undefined): string {
  if (!labels) return name;
  const ks = Object.keys(labels);
  if (ks.length === 0) return name; // no labels and `{}` are one series
  if (ks.length > 1) ks.sort();
  // Escaping the separators keeps values containing `,` or `=` apart (cheaper than JSON on this hot path).
  let k = name;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the separators being escaped.
  for (const l of ks) k += `\u0000${l}=${String(labels[l]).replace(/[\u0000\u0001]/g, '\u0001$&')}`;
  return k;
}

function formatValue(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function sanitizeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_:]/g, '_');
}

/**
 * An in-memory metrics registry: pass it as `metrics` to any awskit library, read it with `snapshot()`, or serve
 * `toPrometheus()` from a `/metrics` endpoint (Prometheus text format 0.0.4).
 */
export class MetricsRegistry implements Metrics {
  private readonly series = new Map<
    string,
    {
      name: string;
      type: MetricSeries['type'];
      labels: Labels;
      value: number;
      // `window` is a ring buffer of the last WINDOW observations (`next` is the slot to write).
      obs?: { count: number; sum: number; min: number; max: number; window: Float64Array; next: number };
    }
  >();

  constructor(private readonly prefix = '') {}

  private get(name: string, type: MetricSeries['type'], labels?: Labels) {
    const k = key(name, labels);
    let s = this.series.get(k);
    if (!s) {
      s = { name, type, labels: { ...labels }, value: 0 };
      this.series.set(k, s);
    }
    return s;
  }

  increment(name: string, value = 1, labels?: Labels): void {
    this.get(name, 'counter', labels).value += value;
  }

  gauge(name: string, value: number, labels?: Labels): void {
    this.get(name, 'gauge', labels).value = value;
  }

  observe(name: string, value: number, labels?: Labels): void {
    const s = this.get(name, 'summary', labels);
    s.obs ??= {
      count: 0,
      sum: 0,
      min: Number.POSITIVE_INFINITY,
      max: Number.NEGATIVE_INFINITY,
      window: new Float64Array(WINDOW),
      next: 0,
    };
    s.obs.count++;
    s.obs.sum += value;
    s.obs.min = Math.min(s.obs.min, value);
    s.obs.max = Math.max(s.obs.max, value);
    s.obs.window[s.obs.next] = value;
    s.obs.next = (s.obs.next + 1) % WINDOW;
  }

  /** Current value of a counter or gauge (0 if never set); for summaries, the count. */
  value(name: string, labels?: Labels): number {
    const s = this.series.get(key(name, labels));
    return s ? (s.obs ? s.obs.count : s.value) : 0;
  }

  /** Every series with its current value. */
  snapshot(): MetricSeries[] {
    return [...this.series.values()].map((s) => {
      if (!s.obs) return { name: s.name, type: s.type, labels: s.labels, value: s.value };
      const sorted = Array.from(s.obs.window.subarray(0, Math.min(s.obs.count, WINDOW))).sort(
        (a, b) => a - b,
      );
      return {
        name: s.name,
        type: s.type,
        labels: s.labels,
        value: {
          count: s.obs.count,
          sum: s.obs.sum,
          min: s.obs.min,
          max: s.obs.max,
          p50: quantile(sorted, 0.5),
          p99: quantile(sorted, 0.99),
        },
      };
    });
  }

  /** Renders every series in the Prometheus text exposition format. */
  toPrometheus(): string {
    const byName = new Map<string, MetricSeries[]>();
    for (const s of this.snapshot()) {
      const n = sanitizeName(this.prefix + s.name);
      byName.set(n, [...(byName.get(n) ?? []), s]);
    }
    const lines: string[] = [];
    const fmt = (labels: Labels, extra?: Labels) => {
      const pairs = [...Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))];
      if (extra) pairs.push(...Object.entries(extra));
      return pairs.length
        ? `{${pairs.map(([k, v]) => `${sanitizeName(k)}="${escapeLabel(String(v))}"`).join(',')}}`
        : '';
    };
    for (const [name, list] of [...byName.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`# TYPE ${name} ${list[0]!.type === 'summary' ? 'summary' : list[0]!.type}`);
      for (const s of list) {
        if (typeof s.value === 'number') lines.push(`${name}${fmt(s.labels)} ${formatValue(s.value)}`);
        else {
          lines.push(`${name}${fmt(s.labels, { quantile: '0.5' })} ${formatValue(s.value.p50)}`);
          lines.push(`${name}${fmt(s.labels, { quantile: '0.99' })} ${formatValue(s.value.p99)}`);
          lines.push(`${name}_sum${fmt(s.labels)} ${formatValue(s.value.sum)}`);
          lines.push(`${name}_count${fmt(s.labels)} ${s.value.count}`);
        }
      }
    }
    return lines.length ? `${lines.join('\n')}\n` : '';
  }
}
