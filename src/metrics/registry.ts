/**
 * A small metrics registry and its Prometheus text exposition (format 0.0.4). Pure: no Deno API.
 * Counters, gauges and histograms, with label names fixed at creation.
 * @module
 */

/** Label values by label name. */
export type Labels = Readonly<Record<string, string>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Formats a sample value the way Prometheus reads it. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function labelText(names: readonly string[], values: readonly string[], extra = ""): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? "")}"`);
  if (extra) parts.push(extra);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** A metric family: a name, its help text and label names, and one state `S` per series. */
export abstract class Metric<S> {
  /** The family name, e.g. `fail2zig_bans_total`. */
  readonly name: string;
  /** The `# HELP` text. */
  readonly help: string;
  /** Label names every series of the family has, in order. */
  readonly labelNames: readonly string[];
  /** Series by their joined label values. */
  protected series = new Map<string, { values: string[]; state: S }>();

  /** A family; throws `RangeError` for an invalid metric or label name. */
  constructor(name: string, help: string, labelNames: readonly string[]) {
    if (!METRIC_NAME.test(name)) {
      throw new RangeError(`invalid metric name ${JSON.stringify(name)}`);
    }
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith("__") || l === "le") {
        throw new RangeError(`invalid label name ${JSON.stringify(l)} for ${name}`);
      }
    }
    this.name = name;
    this.help = help;
    this.labelNames = [...labelNames];
  }

  /** The state of a new series. */
  protected abstract fresh(): S;

  /** The series key of `labels`; throws `RangeError` unless they are exactly the label names. */
  protected key(labels: Labels): { key: string; values: string[] } {
    const given = Object.keys(labels);
    if (
      given.length !== this.labelNames.length || given.some((g) => !this.labelNames.includes(g))
    ) {
      throw new RangeError(
        `${this.name} expects labels {${this.labelNames.join(",")}}, found {${given.join(",")}}`,
      );
    }
    const values = this.labelNames.map((n) => labels[n]!);
    return { key: values.join("\u0000"), values };
  }

  /** The state of the series of `labels`, created when new. */
  protected get(labels: Labels): S {
    const { key, values } = this.key(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = { values, state: this.fresh() };
      this.series.set(key, s);
    }
    return s.state;
  }

  /** Makes the series exist (at zero) so that it is exposed before its first event. */
  touch(labels: Labels = {}): void {
    this.get(labels);
  }

  /** Drops one series (e.g. a jail removed by a reload). */
  remove(labels: Labels): void {
    this.series.delete(this.key(labels).key);
  }

  /** The exposition lines of this family. */
  abstract render(): string[];
}

/** A monotonically increasing count. */
export class Counter extends Metric<{ v: number }> {
  /** A new series starts at 0. */
  protected fresh(): { v: number } {
    return { v: 0 };
  }
  /** Adds `by` (≥ 0). */
  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new RangeError(`${this.name}: counters only go up, found ${by}`);
    this.get(labels).v += by;
  }
  /** Current value (0 for an unseen series). */
  value(labels: Labels = {}): number {
    return this.series.get(this.key(labels).key)?.state.v ?? 0;
  }
  /** The exposition lines of this counter. */
  render(): string[] {
    if (this.labelNames.length === 0) this.touch();
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} counter`];
    for (const s of this.series.values()) {
      out.push(`${this.name}${labelText(this.labelNames, s.values)} ${formatValue(s.state.v)}`);
    }
    return out;
  }
}

/** A value that goes up and down. */
export class Gauge extends Metric<{ v: number }> {
  /** A new series starts at 0. */
  protected fresh(): { v: number } {
    return { v: 0 };
  }
  /** Sets the value. */
  set(labels: Labels, v: number): void {
    this.get(labels).v = v;
  }
  /** Adds `by` (may be negative). */
  inc(labels: Labels = {}, by = 1): void {
    this.get(labels).v += by;
  }
  /** Current value (0 for an unseen series). */
  value(labels: Labels = {}): number {
    return this.series.get(this.key(labels).key)?.state.v ?? 0;
  }
  /** The exposition lines of this gauge. */
  render(): string[] {
    if (this.labelNames.length === 0) this.touch();
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} gauge`];
    for (const s of this.series.values()) {
      out.push(`${this.name}${labelText(this.labelNames, s.values)} ${formatValue(s.state.v)}`);
    }
    return out;
  }
}

/** One histogram series. */
export interface HistogramState {
  /** Observations per bucket (not cumulative), one per upper bound. */
  counts: number[];
  /** Sum of all observations. */
  sum: number;
  /** Number of observations. */
  count: number;
}

/** A histogram with fixed upper bounds (an implicit `+Inf` bucket follows them). */
export class Histogram extends Metric<HistogramState> {
  /** Upper bounds of the buckets, strictly increasing. */
  readonly buckets: readonly number[];

  /** A histogram family; throws `RangeError` unless `buckets` are finite and strictly increasing. */
  constructor(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames: readonly string[],
  ) {
    super(name, help, labelNames);
    if (
      buckets.length === 0 ||
      buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))
    ) {
      throw new RangeError(
        `${name}: expected finite, strictly increasing buckets, found ${buckets.join(",")}`,
      );
    }
    this.buckets = [...buckets];
  }
  /** A new series has no observations. */
  protected fresh(): HistogramState {
    return { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 };
  }
  /** Records one observation. */
  observe(labels: Labels, v: number): void {
    const s = this.get(labels);
    const i = this.buckets.findIndex((b) => v <= b);
    if (i >= 0) s.counts[i]!++;
    s.sum += v;
    s.count++;
  }
  /** Number of observations of a series. */
  count(labels: Labels = {}): number {
    return this.series.get(this.key(labels).key)?.state.count ?? 0;
  }
  /** The exposition lines of this histogram (cumulative buckets, `_sum`, `_count`). */
  render(): string[] {
    if (this.labelNames.length === 0) this.touch();
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += s.state.counts[i]!;
        out.push(
          `${this.name}_bucket${
            labelText(this.labelNames, s.values, `le="${formatValue(b)}"`)
          } ${cumulative}`,
        );
      });
      out.push(
        `${this.name}_bucket${labelText(this.labelNames, s.values, 'le="+Inf"')} ${s.state.count}`,
      );
      out.push(
        `${this.name}_sum${labelText(this.labelNames, s.values)} ${formatValue(s.state.sum)}`,
      );
      out.push(`${this.name}_count${labelText(this.labelNames, s.values)} ${s.state.count}`);
    }
    return out;
  }
}

/** A set of metric families rendered together. */
export class MetricsRegistry {
  #metrics = new Map<string, Metric<unknown>>();
  #collectors: (() => void)[] = [];

  #add<M extends Metric<unknown>>(m: M): M {
    if (this.#metrics.has(m.name)) throw new RangeError(`metric ${m.name} is registered already`);
    this.#metrics.set(m.name, m);
    return m;
  }

  /** Registers a counter. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames));
  }

  /** Registers a gauge. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames));
  }

  /** Registers a histogram with the given bucket upper bounds. */
  histogram(
    name: string,
    help: string,
    options: { buckets: readonly number[]; labelNames?: readonly string[] },
  ): Histogram {
    return this.#add(new Histogram(name, help, options.buckets, options.labelNames ?? []));
  }

  /** Runs `fn` before each render (to sample gauges such as memory). */
  onCollect(fn: () => void): void {
    this.#collectors.push(fn);
  }

  /** The whole exposition, ending with a newline. */
  render(): string {
    for (const fn of this.#collectors) fn();
    const lines: string[] = [];
    for (const m of this.#metrics.values()) lines.push(...m.render());
    return lines.join("\n") + "\n";
  }
}
