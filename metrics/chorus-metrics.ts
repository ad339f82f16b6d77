/**
 * A process's metrics: the prom-client registry built from the catalog
 * (`catalog.ts`), and the few ways the process reports to it. Gauges whose
 * truth lives elsewhere (consumer lag, balances) are read at scrape time by
 * the sources registered with `onScrape`, each bounded by a timeout so a slow
 * RPC cannot hang a scrape.
 *
 * Invariants:
 * - Only what the catalog declares is registered, under its name, type and
 *   labels; the process's own metrics carry the `chorus_` prefix too.
 * - A label whose value comes from the bus (a record key) takes at most
 *   `MAX_LABEL_VALUES` values per label; the rest are counted as `other`, so
 *   records written by anyone cannot grow the registry without bound.
 * - Nothing here holds a key or a URL with credentials: labels are chain ids,
 *   lanes, topics, groups, methods, outcomes and public addresses.
 *
 * @module
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Metric, Registry } from "prom-client"
import { DEAD_LETTER_REASONS } from "../bus/dead-letter.ts"
import type { Envelope } from "../schemas/index.ts"
import { ALL_TOPICS } from "../topology/index.ts"
import { METRIC_PREFIX, METRICS, type MetricKey } from "./catalog.ts"
import { incrementsOf } from "./event-metrics.ts"
import { freshOnce } from "./fresh-once.ts"

/** Distinct values a bus-fed label takes before the rest count as `other`. */
export const MAX_LABEL_VALUES = 256

/** The longest label value kept whole: a record key can be as long as a record. */
export const MAX_LABEL_LENGTH = 64

/** How long what the sources read stays fresh: a scrape within it serves the last read. */
export const SOURCES_FRESH_MS = 5_000

/** How long a scrape waits for a source (a balance read, the bus's offsets) before serving what it has. */
export const SCRAPE_SOURCE_TIMEOUT_MS = 2_000

type Labels = Readonly<Record<string, string>>

/** How a submitter's transaction went: at broadcast, or once included. */
export const TRANSACTION_OUTCOMES = ["accepted", "ambiguous", "refused", "succeeded", "reverted"] as const
export type TransactionOutcome = (typeof TRANSACTION_OUTCOMES)[number]

/** How an RPC request went: answered, failed, answered garbage, or served another chain. */
export const RPC_OUTCOMES = ["ok", "error", "invalid", "wrong-chain"] as const
export type RpcOutcome = (typeof RPC_OUTCOMES)[number]

export class ChorusMetrics {
  readonly registry = new Registry()
  private readonly metrics = new Map<MetricKey, Metric>()
  private readonly sources = new Set<() => Promise<void>>()
  private readonly labelValues = new Map<string, Set<string>>()
  private readonly readSources = freshOnce(SOURCES_FRESH_MS, async () => {
    await Promise.allSettled(
      [...this.sources].map((source) =>
        Promise.race([
          source(),
          new Promise<void>((resolve) => setTimeout(resolve, SCRAPE_SOURCE_TIMEOUT_MS).unref()),
        ]),
      ),
    )
  })

  constructor(options: { readonly processMetrics?: boolean } = {}) {
    for (const [key, declaration] of Object.entries(METRICS) as Array<
      [MetricKey, (typeof METRICS)[MetricKey]]
    >) {
      const common = {
        name: declaration.name,
        help: declaration.help,
        labelNames: [...declaration.labels],
        registers: [this.registry],
      }
      this.metrics.set(
        key,
        declaration.type === "counter"
          ? new Counter(common)
          : declaration.type === "gauge"
            ? new Gauge(common)
            : new Histogram({ ...common, buckets: [...(declaration as { buckets: number[] }).buckets] }),
      )
    }
    if (options.processMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX })
    // Every series an alert counts with increase() exists from the start, at 0: a first dead letter is a step.
    for (const topic of ALL_TOPICS) {
      for (const reason of DEAD_LETTER_REASONS)
        this.counter("deadLetters").inc({ topic: topic.name, reason }, 0)
    }
  }

  /** A submitter's chain: its transaction outcomes exist from the start, at 0, for `increase()` to see the first. */
  submitterChain(chainId: number): void {
    for (const outcome of TRANSACTION_OUTCOMES)
      this.counter("transactions").inc({ chain: String(chainId), outcome }, 0)
  }

  private counter(key: MetricKey): Counter {
    return this.metrics.get(key) as Counter
  }

  private gauge(key: MetricKey): Gauge {
    return this.metrics.get(key) as Gauge
  }

  private histogram(key: MetricKey): Histogram {
    return this.metrics.get(key) as Histogram
  }

  /** `value` (cut to `MAX_LABEL_LENGTH`), or `other` once the label has taken `MAX_LABEL_VALUES` others. */
  bounded(label: string, full: string): string {
    const value = full.length > MAX_LABEL_LENGTH ? `${full.slice(0, MAX_LABEL_LENGTH)}…` : full
    let values = this.labelValues.get(label)
    if (values === undefined) {
      values = new Set()
      this.labelValues.set(label, values)
    }
    if (values.has(value)) return value
    if (values.size >= MAX_LABEL_VALUES) return "other"
    values.add(value)
    return value
  }

  /** Counts what the events this process published add (`incrementsOf`). */
  published(envelopes: ReadonlyArray<Envelope>): void {
    for (const envelope of envelopes) {
      for (const { metric, labels, by } of incrementsOf(envelope)) {
        // A lane names any destination a sender chose (Outbox.send takes any), an operator any signer.
        const kept = Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, this.bounded(k, v)]))
        this.counter(metric).inc(kept, by)
      }
    }
  }

  /** A record handled by a consumer group, `seconds` after it was appended. */
  handled(group: string, topic: string, key: string | null, seconds: number): void {
    this.histogram("hopLatency").observe(
      { group, topic, key: this.bounded("key", key ?? "none") },
      Math.max(0, seconds),
    )
  }

  rpc(chainId: number, method: string, outcome: RpcOutcome, seconds: number): void {
    const labels = { chain: String(chainId), method: this.bounded("method", method) }
    this.counter("rpcRequests").inc({ ...labels, outcome })
    this.histogram("rpcLatency").observe(labels, seconds)
  }

  transaction(chainId: number, outcome: TransactionOutcome): void {
    this.counter("transactions").inc({ chain: String(chainId), outcome })
  }

  /** An included transaction's cost. */
  paid(chainId: number, gasUsed: bigint, feeWei: bigint): void {
    const chain = { chain: String(chainId) }
    this.counter("gasUsed").inc(chain, Number(gasUsed))
    this.counter("feesPaid").inc(chain, Number(feeWei))
  }

  deadLettered(topic: string, reason: string): void {
    this.counter("deadLetters").inc({ topic: this.bounded("topic", topic), reason })
  }

  /** Sets a gauge; `values` replaces every series it had, so a lane or partition that left is gone. */
  replaceGauge(
    key: "pendingMessages" | "consumerLag" | "balance",
    values: ReadonlyArray<[Labels, number]>,
  ): void {
    const gauge = this.gauge(key)
    gauge.reset()
    for (const [labels, value] of values) gauge.set(labels, value)
  }

  /** Sets one series of a gauge, leaving the others. */
  setGauge(key: "pendingMessages" | "balance", labels: Labels, value: number): void {
    this.gauge(key).set(labels, value)
  }

  /** Registers a source read before each scrape; returns its removal. */
  onScrape(source: () => Promise<void>): () => void {
    this.sources.add(source)
    return () => this.sources.delete(source)
  }

  /**
   * The exposition text, after every source was read (or timed out). Sources are read at most once per
   * `SOURCES_FRESH_MS`, and one read at a time: scrapers polling fast cost the RPCs and the bus no more.
   */
  async exposition(): Promise<{ readonly contentType: string; readonly body: string }> {
    await this.readSources()
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }
}
