import type { Metric, MetricValueWithName, Registry, RegistryContentType } from 'prom-client';

type Value = MetricValueWithName<string>;

interface Count {
  labels: { method: string; route: string; status: string };
  value: number;
}

/** One method and route: its duration histogram and its count per status. */
interface Series {
  labels: { method: string; route: string };
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  buckets: number[];
  sum: number;
  byStatus: Map<number, Count>;
}

/**
 * The HTTP request counter and duration histogram, kept as plain numbers and turned into Prometheus
 * series only when scraped. prom-client's labelled children check and hash their label values on every
 * inc() and observe(): profiled at about 5 µs a request, on every route, the proxy's included. Here a
 * request costs three Map lookups under constant keys and a few additions. The exposition is what
 * prom-client's Counter and Histogram wrote: same names, labels, buckets and order.
 */
export class HttpStats {
  /** method → route → series: the label strings are constants, so no key is built per request. */
  private readonly byMethod = new Map<string, Map<string, Series>>();
  /** Series and counts in the order first seen, which is the order prom-client exposed them in. */
  private readonly series: Series[] = [];
  private readonly counts: Count[] = [];

  private readonly bounds: readonly number[];
  private readonly durationName: string;

  /** Adds both metrics to `registry`, which reads them through get() like any of its own. */
  constructor(
    registry: Registry<RegistryContentType>,
    requests: { name: string; help: string },
    duration: { name: string; help: string; buckets: number[] },
  ) {
    this.bounds = duration.buckets;
    this.durationName = duration.name;
    const register = (name: string, help: string, type: 'counter' | 'histogram', values: () => Value[]) => {
      // A registry needs only what it reads of a metric (name, help, type, get, reset), not the class;
      // get() reads the name back because a registry renames counters for OpenMetrics.
      const metric = {
        name,
        help,
        type,
        aggregator: 'sum',
        get: async () => ({ name: metric.name, help, type, aggregator: 'sum', values: values() }),
        reset: () => this.reset(),
      };
      registry.registerMetric(metric as unknown as Metric);
    };
    register(requests.name, requests.help, 'counter', () =>
      this.counts.map(({ labels, value }) => ({ labels, value })),
    );
    register(duration.name, duration.help, 'histogram', () => this.histogramValues());
  }

  record(method: string, route: string, status: number, seconds: number): void {
    let routes = this.byMethod.get(method);
    if (!routes) {
      routes = new Map();
      this.byMethod.set(method, routes);
    }
    let series = routes.get(route);
    if (!series) {
      series = {
        labels: { method, route },
        buckets: new Array(this.bounds.length + 1).fill(0),
        sum: 0,
        byStatus: new Map(),
      };
      routes.set(route, series);
      this.series.push(series);
    }
    let slot = 0;
    while (slot < this.bounds.length && seconds > this.bounds[slot]!) slot++;
    series.buckets[slot]!++;
    series.sum += seconds;

    const count = series.byStatus.get(status);
    if (count) count.value++;
    else {
      const created = { labels: { method, route, status: String(status) }, value: 1 };
      series.byStatus.set(status, created);
      this.counts.push(created);
    }
  }

  private histogramValues(): Value[] {
    const bucket = `${this.durationName}_bucket`;
    const values: Value[] = [];
    for (const { labels, buckets, sum } of this.series) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += buckets[i]!;
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: bucket });
      });
      const count = cumulative + buckets[this.bounds.length]!;
      values.push(
        { labels: { le: '+Inf', ...labels }, value: count, metricName: bucket },
        { labels, value: sum, metricName: `${this.durationName}_sum` },
        { labels, value: count, metricName: `${this.durationName}_count` },
      );
    }
    return values;
  }

  private reset(): void {
    this.byMethod.clear();
    this.series.length = 0;
    this.counts.length = 0;
  }
}
