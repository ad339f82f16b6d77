/**
 * The deployment's configuration file, as one `Schema`: which chains exist
 * and where their contracts are, and a section per service. One file can
 * describe a whole cluster (the devnet writes one); an operator's own file
 * holds only the chains and its `operators` entry.
 *
 * Every field with a default says so here; `chorus run --help` and
 * docs/architecture.md point at this file.
 *
 * @module
 */
import { Effect, Schema } from "effect"
import { Address, ChainId, type Hex } from "../../schemas/index.ts"
import { BusAuthenticationConfig } from "./bus-authentication.ts"
import { KafkaSecurityConfig } from "./kafka-security.ts"
import { PrivateKey } from "./private-key.ts"

export { PrivateKey }

const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

const between = (minimum: number, maximum: number) => Schema.Int.check(Schema.isBetween({ minimum, maximum }))

const Url = Schema.String.check(
  Schema.isPattern(/^(https?|wss?):\/\/[^\s]+$/, { message: "expected an http(s) or ws(s) URL" }),
)

const RpcUrls = Schema.Array(Url).check(Schema.isMinLength(1, { message: "expected at least one RPC URL" }))

/**
 * How a chain's finality is read: the `finalized` block tag, the `safe` block tag (on an L2,
 * blocks derived from data already on L1, without waiting for L1 finality), or a confirmation
 * depth below `latest`.
 */
export const Finality = Schema.Union([
  Schema.Struct({ tag: Schema.Literals(["finalized", "safe"]) }),
  Schema.Struct({ confirmations: between(0, 10_000) }),
])
export type Finality = typeof Finality.Type

export class ChainConfig extends Schema.Class<ChainConfig>("ChainConfig")({
  chainId: ChainId,
  name: withDefault(Schema.String, ""),
  rpcUrls: RpcUrls,
  outbox: Address,
  inbox: Address,
  finality: withDefault(Finality, { tag: "finalized" }),
}) {}

export class NetworkConfig extends Schema.Class<NetworkConfig>("NetworkConfig")({
  /** The chain the operator registry lives on (the EIP-712 domain's chain id). */
  registryChainId: ChainId,
  registry: Address,
}) {}

export class BusConfig extends Schema.Class<BusConfig>("BusConfig")({
  /** Kafka bootstrap brokers (`host:port`); when absent, `dataDir` selects the embedded log. */
  brokers: Schema.optionalKey(Schema.Array(Schema.String)),
  dataDir: Schema.optionalKey(Schema.String),
  /** Kafka TLS and SASL (SCRAM-SHA-512); see services/config/kafka-security.ts. */
  kafka: Schema.optionalKey(KafkaSecurityConfig),
  /** Who may write to the bus; without it records are neither signed nor checked (`docs/security.md`). */
  authentication: Schema.optionalKey(BusAuthenticationConfig),
}) {}

export class ChainWatcherConfig extends Schema.Class<ChainWatcherConfig>("ChainWatcherConfig")({
  /** Which chains get a watcher in this process; all configured chains when absent. */
  chains: Schema.optionalKey(Schema.Array(ChainId)),
  pollIntervalMs: withDefault(between(10, 600_000), 1_000),
  /** The first `eth_getLogs` range; it halves on range errors and grows on success. */
  initialRange: withDefault(between(1, 100_000), 500),
  maxRange: withDefault(between(1, 100_000), 2_000),
  /** The block to start from when there is no cursor (the Outbox's deployment block). */
  startBlock: withDefault(between(0, Number.MAX_SAFE_INTEGER), 0),
  /** Retries per RPC call before the fallback transport gives up on a URL. */
  retryCount: withDefault(between(0, 20), 3),
}) {}

export class ProofBuilderConfig extends Schema.Class<ProofBuilderConfig>("ProofBuilderConfig")({
  /** Messages per range proof. */
  chunkSize: withDefault(between(1, 1_024), 32),
  /** Source RPCs for the Outbox root check, by chain id; the chain's `rpcUrls` when absent. */
  rpcUrls: Schema.optionalKey(Schema.Record(Schema.String, RpcUrls)),
}) {}

export class OperatorConfig extends Schema.Class<OperatorConfig>("OperatorConfig")({
  privateKey: PrivateKey,
  /**
   * The key this operator signs its bus records with under \`bus.authentication\` (an Ed25519 seed, in any form
   * privateKey takes but a remote signer's). Absent: derived from privateKey, which then must be here, not in a
   * remote signer.
   */
  busKey: Schema.optionalKey(PrivateKey),
  /** The operator's own RPCs, by source chain id; the chain's `rpcUrls` when absent. */
  rpcUrls: Schema.optionalKey(Schema.Record(Schema.String, RpcUrls)),
  /** How long to wait for its own RPC to finalize a proposal's block before refusing. */
  finalityWaitMs: withDefault(between(0, 3_600_000), 60_000),
  /**
   * A proposal whose block is more than this many blocks past its own RPC's latest block is refused at once
   * instead of waited for (a wait holds every lane of the partition). Measured from `latest`, not from the
   * finalized head, which on some chains moves in jumps; the margin only covers an RPC that lags the proposer's.
   */
  maxBlocksAhead: withDefault(between(0, 1_000_000), 64),
}) {}

export class AttestationCollectorConfig extends Schema.Class<AttestationCollectorConfig>(
  "AttestationCollectorConfig",
)({
  /** A proposal short of the threshold this long after it was proposed expires. */
  proposalTtlMs: withDefault(between(1_000, 86_400_000), 300_000),
  /**
   * A check of a destination Inbox's epoch that found the set the collector holds stands this long for later
   * inputs, instead of two RPC round trips per signature; a rotation is seen at most this late (0: every input).
   */
  epochCheckEveryMs: withDefault(between(0, 600_000), 2_000),
}) {}

/** The most messages one delivery transaction carries (`submitters[].batchSize`). */
export const MAX_BATCH_SIZE = 1_024

/** The most transactions a submitter keeps in the air at once (`submitters[].maxInFlight`). */
export const MAX_IN_FLIGHT = 64

export class SubmitterConfig extends Schema.Class<SubmitterConfig>("SubmitterConfig")({
  chainId: ChainId,
  privateKey: PrivateKey,
  /**
   * The key this submitter signs its bus records with under \`bus.authentication\` (an Ed25519 seed, in any form
   * privateKey takes but a remote signer's). Absent: derived from privateKey, which then must be here, not in a
   * remote signer.
   */
  busKey: Schema.optionalKey(PrivateKey),
  /** Close a delivery batch at this many messages… */
  batchSize: withDefault(between(1, MAX_BATCH_SIZE), 64),
  /** …or when its oldest message has waited this long. */
  windowMs: withDefault(between(0, 600_000), 500),
  /**
   * A batch's messages ask at most this much gas in all (the sum of their gas limits), so a batch fits well
   * inside the destination's block gas limit; a message asking more than this goes alone.
   */
  maxBatchGas: withDefault(between(21_000, 1_000_000_000), 10_000_000),
  confirmations: withDefault(between(0, 1_000), 1),
  /**
   * Transactions in the air at once, at consecutive nonces: the next batch goes out while earlier ones wait
   * for their block, so throughput is not one batch per block round trip. 1: one at a time.
   */
  maxInFlight: withDefault(between(1, MAX_IN_FLIGHT), 4),
  /** Added to the gas estimate, in basis points. */
  gasMarginBps: withDefault(between(0, 100_000), 2_000),
  /** A transaction not included after this long is replaced with bumped fees. */
  stuckAfterMs: withDefault(between(1_000, 3_600_000), 20_000),
  /** Fee bump per replacement, in basis points (at least 10% so nodes accept it). */
  feeBumpBps: withDefault(between(1_000, 100_000), 1_250),
  pollIntervalMs: withDefault(between(10, 600_000), 250),
  /**
   * On a graceful stop, how long the submitter keeps following a transaction in the air so its outcome is on
   * the log (what it cannot settle by then, the next start finishes). Below the 30 s a stopping process has.
   */
  stopDrainMs: withDefault(between(0, 25_000), 15_000),
}) {}

/**
 * How services treat RPC faults, for every chain and every service that reads one (the chain-watcher and
 * the operators today).
 */
export class RpcFaultsConfig extends Schema.Class<RpcFaultsConfig>("RpcFaultsConfig")({
  /**
   * An RPC that gives no usable answer for this long (default 60 000 ms: a minute of blocks on any rollup) is
   * recorded on the log as stalled, once per outage: `WatcherStalled` for a chain-watcher, `ChainReadFailed`
   * (`rpc-unreachable`) for an operator, each naming the redacted URL; `chorus trace` and `chorus messages`
   * show it, and the recovery is recorded when it answers again. The service keeps trying meanwhile.
   */
  unreachableAfterMs: withDefault(between(0, 86_400_000), 60_000),
  /**
   * The first failure of a streak is logged at once (with the redacted URL); after it, one summary line at
   * most this often (default 60 000 ms), however often the service tries again.
   */
  logEveryMs: withDefault(between(1_000, 86_400_000), 60_000),
}) {}

export class SetWatcherConfig extends Schema.Class<SetWatcherConfig>("SetWatcherConfig")({
  /** How often the hub registry's set is read at the hub's finalized head. */
  pollIntervalMs: withDefault(between(10, 600_000), 2_000),
  /**
   * While an Inbox's epoch lags the set last recorded, that set is recorded again this long after the last
   * record: operators sign it again and the collector counts it against the set each Inbox trusts then, so an
   * update that failed, was refused or went to an Inbox that moved meanwhile is carried again.
   */
  reannounceAfterMs: withDefault(between(100, 3_600_000), 30_000),
}) {}

/** Where a service process serves `/metrics`, `/healthz` and `/readyz` (`chorus run --metrics` overrides it). */
export class MetricsConfig extends Schema.Class<MetricsConfig>("MetricsConfig")({
  /** `host:port`, e.g. `0.0.0.0:9464` in a container, `127.0.0.1:9464` on a shared host. */
  listen: Schema.String.check(
    Schema.isPattern(/^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):\d{1,5}$/, {
      message: "expected host:port, e.g. 127.0.0.1:9464",
    }),
  ),
}) {}

export class ChorusConfig extends Schema.Class<ChorusConfig>("ChorusConfig")({
  network: NetworkConfig,
  chains: Schema.Array(ChainConfig).check(Schema.isMinLength(1, { message: "expected at least one chain" })),
  bus: Schema.optionalKey(BusConfig),
  chainWatcher: withDefault(ChainWatcherConfig, {}),
  proofBuilder: withDefault(ProofBuilderConfig, {}),
  operators: withDefault(Schema.Array(OperatorConfig), []),
  attestationCollector: withDefault(AttestationCollectorConfig, {}),
  setWatcher: withDefault(SetWatcherConfig, {}),
  submitters: withDefault(Schema.Array(SubmitterConfig), []),
  /** How RPC faults are logged and when one is recorded as a stall. */
  rpc: withDefault(RpcFaultsConfig, {}),
  /** Serve metrics and health from each service process; none when absent (unless `--metrics` is given). */
  metrics: Schema.optionalKey(MetricsConfig),
}) {}

/** Hex re-exported for callers that build configs in code. */
export type { Hex }
