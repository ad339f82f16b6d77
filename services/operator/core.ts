/**
 * The operator's pure core: one restaked operator deciding, per proposed
 * checkpoint, to sign it or to refuse with a reason; and, per operator set
 * the set-watcher observed on the hub, to sign the update for every Inbox or
 * refuse (`sign-operator-set.ts`).
 *
 * Pipeline, per `CheckpointProposed` (with the operator's own reads):
 *   1. the lane must be of its network: both chains configured, the outbox
 *      the source chain's (else `wrong-network`);
 *   2. it must not have signed another root for the same lane and count
 *      (else `conflicting-signature`);
 *   2b. its source chain must not be halted on the log, as its observer
 *      recorded it (a `ChainHaltRead` of its own with no resume; else
 *      `chain-halted`, naming the chain, the block found rewritten and why):
 *      nothing of a chain rewritten below finality is signed until
 *      `chorus chain resume` lifts the halt; after that, the chain's
 *      proposals are read and checked like any other;
 *   3. the proposal's block must be at most `maxBlocksAhead` past the latest
 *      block its own RPC showed, when it recorded one (`ChainHeadRead`; else
 *      `not-finalized` at once, naming the block, the head and the margin:
 *      the observer did not wait for a block its chain has not reached);
 *   4. its own RPC must have answered what decodes: a `ChainReadFailed`
 *      (`rpc-invalid`) of its own, recorded when its observer gave up on
 *      the proposal, and no Outbox read, is a refusal (`rpc-invalid`,
 *      naming the RPC, what was asked and what it answered);
 *   5. its own read at the proposal's finalized block must show the same
 *      count, root and block hash (else `not-finalized`, `count-mismatch`,
 *      `root-mismatch`, `block-mismatch`, see `verifyProposal`);
 *   6. it signs the EIP-712 digest under the epoch its own RPC of the
 *      destination showed the Inbox trusting (an `InboxEpochRead` of its
 *      own; none means its RPC showed nothing: `rpc-invalid`), and
 *      remembers the root it signed.
 *
 * A `CheckpointResignRequested` (the collector's: the destination moved
 * epochs before committing the checkpoint) is decided as the proposal it
 * repeats, with reads made afresh: the operator signs the root again, under
 * the epoch it read, never under the one the request names.
 *
 * Invariants:
 * - Never two roots for one `(srcChainId, outbox, dstChainId, count)`: the
 *   state keeps the roots signed (`SignedRoots`: a lane's last 1,024 counts,
 *   and nothing at or below the ones it forgot is signed again), and the
 *   runtime rebuilds the state by folding the same proposals with the same
 *   recorded reads, so the rule holds across restarts and across members of
 *   the operator's group.
 * - The same checkpoint proposed again, and verified again under the same
 *   epoch, gets the same signature (RFC 6979 is deterministic) in a new
 *   `AttestationSigned`: a re-proposal after the collector gave up can
 *   still be attested. Signing one root under a new epoch is no second
 *   root: the slot's root is what `SignedRoots` guards.
 * - Other events on the proposals topic (`LaneStalled`) are a no-op: a stall
 *   asks nothing of an operator.
 * - A refusal keeps nothing in the state: the same checkpoint proposed
 *   again is read and decided afresh, so an RPC that answered garbage once
 *   (`rpc-invalid`) does not stop the operator signing once it recovers.
 * - Every decision rests on the reads recorded for the input, so a replay
 *   refuses a far-future proposal again from its recorded head, and a
 *   halted chain's proposal from its recorded halt, with no RPC and no read
 *   of the halts topic. A log recorded before head or halt reads existed
 *   has none, and decides as then.
 *
 * @module
 */
import type { Hex as ViemHex } from "viem"
import type { CheckpointDomain } from "../../contracts/index.ts"
import {
  AttestationRefused,
  AttestationSigned,
  type ChainHaltRead,
  type ChainHeadRead,
  type ChainReadFailed,
  type ChorusEvent,
  type Envelope,
  type InboxEpochRead,
  type OutboxLaneRead,
  type RegistrySetRead,
  toAddress,
} from "../../schemas/index.ts"
import type { Decision, LaneCore } from "../runtime/index.ts"
import { addressOfKey, checkpointDigest, signDigest } from "./sign-checkpoint.ts"
import { decideOperatorSet, SignedSets } from "./sign-operator-set.ts"
import { SignedRoots } from "./signed-roots.ts"
import {
  asToSign,
  blockAheadProblem,
  chainHaltedProblem,
  laneProblem,
  type OperatorChain,
  rpcInvalidProblem,
  verifyProposal,
} from "./verify-proposal.ts"

export interface OperatorState {
  /** The roots signed, by lane and count (the last `SIGNED_PER_LANE` counts of each lane); never replaced. */
  readonly signed: SignedRoots
  /** The operator-set updates signed, by epoch (`sign-operator-set.ts`); only the hub's partition has any. */
  readonly sets: SignedSets
}

export interface OperatorCoreOptions {
  /** The key it signs with. */
  readonly privateKey: ViemHex
  /**
   * The operator it decides as (whose reads it matches, whose name its outputs carry), when that is not the
   * key's own address: a replay decides as the production operator but signs with a throwaway key, so a shadow
   * run never puts a usable signature on the bus.
   */
  readonly operator?: ViemHex
  /** The network's EIP-712 domain (`getCheckpointDomain(config.network)`). */
  readonly domain: CheckpointDomain
  /** The configured chains: a lane outside them is refused as `wrong-network`. */
  readonly chains: ReadonlyArray<OperatorChain>
  /** How far past its own recorded latest block a proposal's block may be (`operators[].maxBlocksAhead`). */
  readonly maxBlocksAhead: number
}

/**
 * Makes the operator's core for one key.
 *
 * `initial` is a getter: `decide` updates the state in place, and the runtime
 * starts every shard from `core.initial`, so each shard needs its own maps.
 *
 * @example
 * ```ts
 * const core = makeOperatorCore({ privateKey, domain, chains: config.chains, maxBlocksAhead: 64 })
 * const { outputs } = foldCore(core, producer, [{ input: proposal, reads: [outboxRead] }])
 * ```
 */
export const makeOperatorCore = (options: OperatorCoreOptions): LaneCore<OperatorState> => {
  const operator =
    options.operator === undefined ? addressOfKey(options.privateKey) : toAddress(options.operator)
  const { domain, chains, maxBlocksAhead } = options
  const setContext = {
    operator,
    privateKey: options.privateKey,
    domain,
    // The network's domain names its hub: the only set updates it signs are that registry's.
    hub: { chainId: domain.chainId, registry: toAddress(domain.verifyingContract) },
  }

  const decide = (
    state: OperatorState,
    input: Envelope,
    reads: ReadonlyArray<Envelope>,
  ): Decision<OperatorState> => {
    const event = input.event
    if (event._tag === "OperatorSetObserved") {
      const registryReads = reads
        .map((r) => r.event)
        .filter((e): e is RegistrySetRead => e._tag === "RegistrySetRead")
      return { state, outputs: [decideOperatorSet(state.sets, event, registryReads, setContext)] }
    }
    const toSign = asToSign(event)
    if (toSign === undefined) return { state, outputs: [] }
    const { checkpoint } = toSign
    const refuse = (reason: AttestationRefused["reason"], detail: string): Decision<OperatorState> => ({
      state,
      outputs: [new AttestationRefused({ checkpoint, operator, reason, detail })],
    })

    const problem = laneProblem(chains, checkpoint)
    if (problem !== undefined) return refuse("wrong-network", problem)

    const conflict = state.signed.conflict(checkpoint)
    if (conflict !== undefined) return refuse("conflicting-signature", conflict)

    const events = reads.map((r) => r.event)
    const haltReads = events.filter((e): e is ChainHaltRead => e._tag === "ChainHaltRead")
    const halted = chainHaltedProblem(toSign, haltReads, operator)
    if (halted !== undefined) return refuse("chain-halted", halted)

    const heads = events.filter((e): e is ChainHeadRead => e._tag === "ChainHeadRead")
    const ahead = blockAheadProblem(toSign, heads, operator, maxBlocksAhead)
    if (ahead !== undefined) return refuse("not-finalized", ahead)

    const outboxReads = events.filter((e): e is OutboxLaneRead => e._tag === "OutboxLaneRead")
    const failures = events.filter((e): e is ChainReadFailed => e._tag === "ChainReadFailed")
    const invalid = outboxReads.length === 0 ? rpcInvalidProblem(toSign, failures, operator) : undefined
    if (invalid !== undefined) return refuse("rpc-invalid", invalid)

    const verification = verifyProposal(toSign, outboxReads, operator)
    if (verification.result !== "verified") return refuse(verification.result, verification.detail)

    const epochRead = events.find(
      (e): e is InboxEpochRead =>
        e._tag === "InboxEpochRead" &&
        e.reader === operator &&
        e.lane.dstChainId === checkpoint.dstChainId &&
        e.lane.srcChainId === checkpoint.srcChainId,
    )
    if (epochRead === undefined) {
      return refuse(
        "rpc-invalid",
        `its own RPC of destination ${checkpoint.dstChainId} showed no epoch for the Inbox in time, so it cannot name the set it signs under`,
      )
    }
    const { epoch } = epochRead
    const digest = checkpointDigest(domain, checkpoint, epoch)
    const signature = signDigest(options.privateKey, digest)
    state.signed.remember(checkpoint)
    const outputs: ChorusEvent[] = [new AttestationSigned({ checkpoint, epoch, digest, operator, signature })]
    return { state, outputs }
  }

  return {
    get initial(): OperatorState {
      return { signed: new SignedRoots(), sets: new SignedSets() }
    },
    decide,
  }
}
