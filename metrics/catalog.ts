/**
 * Every metric a Chorus process exports, declared once: its name, what it
 * counts, its type and its labels. `ChorusMetrics` builds the prom-client
 * metrics from this table and nothing else; docs/operations.md lists it and
 * the alert rules in `deploy/prometheus/` may only name what it declares
 * (both held to it by `metrics/catalog.test.ts`).
 *
 * Naming follows Prometheus's conventions: a `chorus_` prefix, base units
 * (seconds, wei), `_total` on counters, and labels of bounded cardinality
 * (lanes, chains, operators, topics: never a message id or a hash).
 *
 * @module
 */

export type MetricType = "counter" | "gauge" | "histogram"

export interface MetricDeclaration {
  readonly name: string
  readonly help: string
  readonly type: MetricType
  readonly labels: ReadonlyArray<string>
  /** Histogram buckets, in the metric's unit. */
  readonly buckets?: ReadonlyArray<number>
}

/** Seconds: from a record's append to its handling (ms on a devnet, minutes when a lane waits on finality). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

/** Seconds an RPC call takes. */
const RPC_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

const counter = (name: string, help: string, labels: ReadonlyArray<string>): MetricDeclaration => ({
  name,
  help,
  type: "counter",
  labels,
})

const gauge = (name: string, help: string, labels: ReadonlyArray<string>): MetricDeclaration => ({
  name,
  help,
  type: "gauge",
  labels,
})

/** The prefix of every metric Chorus exports, its own and the process's (`chorus_process_…`, `chorus_nodejs_…`). */
export const METRIC_PREFIX = "chorus_"

export const METRICS = {
  messagesObserved: counter(
    "chorus_messages_observed_total",
    "Messages a chain-watcher observed in a source Outbox, by lane (src-dst).",
    ["lane"],
  ),
  messagesProven: counter(
    "chorus_messages_proven_total",
    "Messages a proof-builder proved against a checkpoint root, by lane.",
    ["lane"],
  ),
  messagesSubmitted: counter(
    "chorus_messages_submitted_total",
    "Messages a submitter sent in a delivery transaction (each attempt counts), by lane.",
    ["lane"],
  ),
  messagesDelivered: counter(
    "chorus_messages_delivered_total",
    "Messages the destination Inbox delivered (the recipient's call succeeded), by lane.",
    ["lane"],
  ),
  messagesFailed: counter(
    "chorus_messages_failed_total",
    "Messages whose recipient reverted on delivery (retryable with `chorus retry`), by lane.",
    ["lane"],
  ),
  pendingMessages: gauge(
    "chorus_pending_messages",
    "Messages a submitter holds proven and not yet settled on its destination, by lane.",
    ["lane"],
  ),
  checkpointsProposed: counter(
    "chorus_checkpoints_proposed_total",
    "Lane checkpoints the proof-builder proposed for signing, by lane.",
    ["lane"],
  ),
  checkpointsAttested: counter(
    "chorus_checkpoints_attested_total",
    "Lane checkpoints the collector saw signed by a stake quorum, by lane.",
    ["lane"],
  ),
  checkpointsCommitted: counter(
    "chorus_checkpoints_committed_total",
    "Lane checkpoints a destination Inbox committed (commit or commitAndDeliver), by lane.",
    ["lane"],
  ),
  signatures: counter(
    "chorus_signatures_total",
    "Operator signatures the collector checked, by operator and verdict (accepted, late, duplicate, stale-epoch, …).",
    ["operator", "verdict"],
  ),
  hopLatency: {
    name: "chorus_hop_latency_seconds",
    help: "Seconds from a record's append to the bus to the end of its handling by a service (its outputs published), by consumer group, input topic and record key (a lane src-dst, or a chain id).",
    type: "histogram",
    labels: ["group", "topic", "key"],
    buckets: LATENCY_BUCKETS,
  },
  consumerLag: gauge(
    "chorus_consumer_lag_records",
    "Records on a partition past its consumer group's committed offset, read at scrape time.",
    ["group", "topic", "partition"],
  ),
  rpcRequests: counter(
    "chorus_rpc_requests_total",
    "JSON-RPC requests to chain RPCs, by chain, method and outcome (ok, error, invalid, wrong-chain).",
    ["chain", "method", "outcome"],
  ),
  rpcLatency: {
    name: "chorus_rpc_request_duration_seconds",
    help: "Seconds a JSON-RPC request took, by chain and method.",
    type: "histogram",
    labels: ["chain", "method"],
    buckets: RPC_BUCKETS,
  },
  transactions: counter(
    "chorus_submitter_transactions_total",
    "A submitter's transactions, by destination chain and outcome: accepted, ambiguous or refused at broadcast; succeeded or reverted once included.",
    ["chain", "outcome"],
  ),
  gasUsed: counter("chorus_submitter_gas_used_total", "Gas a submitter's included transactions used.", [
    "chain",
  ]),
  feesPaid: counter(
    "chorus_submitter_fees_paid_wei_total",
    "Wei a submitter's included transactions paid (gas used × effective gas price).",
    ["chain"],
  ),
  balance: gauge(
    "chorus_submitter_balance_wei",
    "A destination submitter's account balance, read at scrape time.",
    ["chain", "account"],
  ),
  deadLetters: counter(
    "chorus_dead_letters_total",
    "Records a consumer dead-lettered, by the topic they were read from and why (undecodable, unauthenticated).",
    ["topic", "reason"],
  ),
} as const satisfies Record<string, MetricDeclaration>

export type MetricKey = keyof typeof METRICS

/** The names of every Chorus metric, and of none of the process's. */
export const CHORUS_METRIC_NAMES: ReadonlyArray<string> = Object.values(METRICS).map((m) => m.name)
