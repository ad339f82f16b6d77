/**
 * The submitter's operator-set updates: the attested update of its destination sent as
 * `Inbox.updateOperatorSet`, followed to its outcome, and recorded.
 *
 * A step, in order (the ticker takes it before any lane work, so an update goes out ahead of the checkpoints
 * the new set signs):
 *   1. an update in the air (`OperatorSetSubmitted` with no outcome, from this member or the log): its receipt.
 *      Included and confirmed → `OperatorSetApplied` with the gas it used; reverted → `OperatorSetUpdateFailed`
 *      with the reason re-run at its block. Not included while the account's nonce moved past it →
 *      `OperatorSetUpdateFailed` naming the epoch the Inbox shows. Not included after `stuckAfterMs` → replaced
 *      at the same nonce with fees bumped by `feeBumpBps` (a new `OperatorSetSubmitted`); one the node no
 *      longer knows, its nonce unused → `OperatorSetUpdateFailed` (dropped), and it is due again;
 *   2. otherwise the Inbox's epoch (read only while an attested update is past the last epoch it showed), and
 *      the update due (`setUpdateDue`: the highest attested epoch past it, not refused), once no lane
 *      transaction is in the air (its nonce is then the next one, and it lands before anything planned after
 *      it): checked (the Inbox's bounds, 65-byte signatures from ascending signers; a malformed one is refused,
 *      never sent), estimated — a revert (`StaleEpoch`, `InsufficientStake`, `UnknownSigner`: the Inbox moved
 *      to a set the signatures do not meet) is `OperatorSetUpdateFailed` with the decoded error and no
 *      transaction, and that attestation is not sent again — then signed, sent behind the group's fence, and
 *      recorded `OperatorSetSubmitted`.
 *
 * Invariants:
 * - Settled by the chain: an update is due while the Inbox is behind it, whatever earlier attempts recorded;
 *   an attestation from another Inbox epoch (the collector attests again when the set-watcher re-announces a
 *   lagging set) is a new candidate.
 * - One update in the air at a time, and none beside lane transactions: nonces stay in order.
 * - Never applied twice: the Inbox refuses an epoch at or below its own (`StaleEpoch`), so a resend after a
 *   crash costs gas at worst.
 *
 * @module
 */
import { describeError } from "../../../chains/index.ts"
import {
  type EventId,
  OperatorSetApplied,
  type OperatorSetAttested,
  OperatorSetSubmitted,
  OperatorSetUpdateFailed,
  toU256,
} from "../../../schemas/index.ts"
import { bumpFees, larger, withMargin } from "../chain/index.ts"
import { type SubmitterState, setUpdateDue } from "../core/index.ts"
import { sentAnyway } from "./send.ts"
import type { TickResult } from "./tick-result.ts"
import type { Writer } from "./writer.ts"

/** The Inbox's bounds on a set (`Inbox.MAX_OPERATORS`, uint96 weights, basis points). */
const MAX_OPERATORS = 512
const MAX_WEIGHT = (1n << 96n) - 1n

/** An update in the air, as this member follows it. */
interface SetFlight {
  readonly attestation: EventId | null
  readonly submitted: OperatorSetSubmitted
  readonly sentAt: number
}

export interface SetUpdater {
  /**
   * One step for the destination's operator-set update, or null when none is due or in the air. While one is,
   * no lane work is planned: the step's result is the tick's.
   */
  step(state: SubmitterState): Promise<TickResult | null>
  /** Forgets the update in the air (another member follows it now). */
  letGo(): void
}

type SetStage = Extract<TickResult, { kind: "set-update" }>["stage"]

const setResult = (
  stage: SetStage,
  epoch: number,
  reason: string,
  transactionHash: OperatorSetSubmitted["transactionHash"] | null = null,
): TickResult => ({ kind: "set-update", stage, epoch, reason, transactionHash })

/**
 * Why an attested update cannot be sent as it is (what the Inbox would refuse, or what would not encode), or
 * undefined.
 *
 * @example
 * ```ts
 * malformedUpdate(update) // "signature 2 is 64 bytes; r ‖ s ‖ v is 65"
 * ```
 */
export const malformedUpdate = (update: OperatorSetAttested): string | undefined => {
  const { operators, signatures, thresholdBps } = update
  if (operators.length === 0 || operators.length > MAX_OPERATORS)
    return `${operators.length} operators; the Inbox takes 1 to ${MAX_OPERATORS}`
  if (thresholdBps < 1 || thresholdBps > 10_000) return `threshold ${thresholdBps} bps is not within 1–10,000`
  for (const [i, o] of operators.entries()) {
    if (i > 0 && o.address <= operators[i - 1]!.address)
      return `operator ${i} (${o.address}) is not ascending`
    const weight = BigInt(o.weight)
    if (weight === 0n || weight > MAX_WEIGHT)
      return `operator ${o.address} has weight ${weight}, not a uint96 above 0`
  }
  if (signatures.length === 0 || signatures.length > operators.length + MAX_OPERATORS)
    return `${signatures.length} signatures`
  for (const [i, s] of signatures.entries()) {
    if (s.signature.length !== 132)
      return `signature ${i} is ${(s.signature.length - 2) / 2} bytes; r ‖ s ‖ v is 65`
    if (i > 0 && s.signer <= signatures[i - 1]!.signer) return `signer ${i} (${s.signer}) is not ascending`
  }
  return undefined
}

/**
 * Makes the operator-set updater of one submitter.
 *
 * @example
 * ```ts
 * const updater = makeSetUpdater(w)
 * const result = await updater.step(state) // { kind: "set-update", stage: "submitted", … } or null
 * ```
 */
export const makeSetUpdater = (w: Writer): SetUpdater => {
  const { chain, settings } = w.deps
  let flight: SetFlight | null = null
  /** The epoch the Inbox showed last: an update at or below it needs no read to be known not due. */
  let inboxEpoch = 0

  const record = (
    event: OperatorSetApplied | OperatorSetUpdateFailed | OperatorSetSubmitted,
    cause: EventId | null,
  ) => w.record([{ event, cause }])

  const failed = async (open: SetFlight, reason: string): Promise<TickResult> => {
    const { submitted } = open
    flight = null
    await record(
      new OperatorSetUpdateFailed({
        destination: submitted.destination,
        epoch: submitted.epoch,
        transactionHash: submitted.transactionHash,
        reason,
      }),
      open.attestation,
    )
    return setResult("refused", submitted.epoch, reason, submitted.transactionHash)
  }

  /** Not included after `stuckAfterMs`: the same nonce again with higher fees, or, forgotten by the node, due again. */
  const unstick = async (open: SetFlight): Promise<TickResult> => {
    const { submitted } = open
    const sent = await chain.sentTransaction(submitted.transactionHash)
    if (sent === null) {
      w.nonces.resync()
      return failed(open, `the node dropped it (nonce ${submitted.nonce} unused); the update is due again`)
    }
    const request = { ...sent, ...bumpFees(sent, settings.feeBumpBps, await chain.fees()) }
    const { signed, verdict } = await w.sendFenced(request)
    if (verdict.kind === "refused" && !(await sentAnyway(w, signed.hash)))
      return setResult("send-refused", submitted.epoch, `the node refused the replacement: ${verdict.reason}`)
    const replacement = new OperatorSetSubmitted({
      ...submitted,
      transactionHash: signed.hash,
      maxFeePerGas: toU256(request.maxFeePerGas),
    })
    flight = { attestation: open.attestation, submitted: replacement, sentAt: Date.now() }
    await record(replacement, open.attestation)
    return setResult(
      "submitted",
      submitted.epoch,
      `replaced at nonce ${submitted.nonce} with higher fees`,
      signed.hash,
    )
  }

  const follow = async (open: SetFlight): Promise<TickResult> => {
    const { submitted } = open
    const receipt = await chain.receipt(submitted.transactionHash)
    if (receipt === null) {
      if ((await chain.transactionCount("latest")) > submitted.nonce) {
        const { epoch } = await w.deps.reader.epoch()
        inboxEpoch = epoch
        return failed(
          open,
          `its nonce ${submitted.nonce} was used by another transaction; the Inbox is at epoch ${epoch}`,
        )
      }
      if (Date.now() - open.sentAt >= settings.stuckAfterMs) return unstick(open)
      return setResult(
        "pending",
        submitted.epoch,
        `update to epoch ${submitted.epoch} not included yet`,
        submitted.transactionHash,
      )
    }
    const confirmations = (await chain.blockNumber()) - receipt.block.number + 1
    if (confirmations < settings.confirmations)
      return setResult(
        "confirming",
        submitted.epoch,
        `included at block ${receipt.block.number}: ${confirmations} of ${settings.confirmations} confirmation(s)`,
        submitted.transactionHash,
      )
    if (!receipt.succeeded) {
      const sent = await chain.sentTransaction(submitted.transactionHash)
      const revert = sent === null ? null : await chain.simulate(sent, receipt.block.number).catch(() => null)
      // Due again at once would spend gas on every tick if it keeps reverting: the next send waits a back-off.
      w.backOff()
      return failed(open, revert?.reason ?? "reverted (the reason could not be re-run at its block)")
    }
    flight = null
    inboxEpoch = Math.max(inboxEpoch, submitted.epoch)
    await record(
      new OperatorSetApplied({
        destination: submitted.destination,
        epoch: submitted.epoch,
        transactionHash: submitted.transactionHash,
        blockNumber: receipt.block.number,
        gasUsed: toU256(receipt.gasUsed),
      }),
      open.attestation,
    )
    w.deps.logger.info("operator-set update applied", {
      epoch: submitted.epoch,
      block: receipt.block.number,
      gasUsed: receipt.gasUsed.toString(),
    })
    return setResult(
      "applied",
      submitted.epoch,
      `the Inbox trusts epoch ${submitted.epoch} now`,
      submitted.transactionHash,
    )
  }

  const refuse = async (id: EventId, update: OperatorSetAttested, reason: string): Promise<TickResult> => {
    await record(
      new OperatorSetUpdateFailed({
        destination: update.destination,
        epoch: update.epoch,
        transactionHash: null,
        reason,
      }),
      id,
    )
    return setResult("refused", update.epoch, reason)
  }

  const send = async (id: EventId, update: OperatorSetAttested): Promise<TickResult> => {
    const malformed = malformedUpdate(update)
    if (malformed !== undefined) return refuse(id, update, `malformed update, not sent: ${malformed}`)
    const call = {
      kind: "updateOperatorSet" as const,
      epoch: update.epoch,
      operators: update.operators,
      thresholdBps: update.thresholdBps,
      signatures: update.signatures,
    }
    const estimated = await chain.estimate(call)
    if ("revert" in estimated) return refuse(id, update, `the Inbox refuses it: ${estimated.revert.reason}`)
    const fees = await chain.fees()
    const nonce = await w.nextNonce()
    const request = chain.request(call, {
      gas: larger(withMargin(estimated.gas, settings.gasMarginBps), estimated.gas),
      nonce,
      ...fees,
    })
    const { signed, verdict } = await w.sendFenced(request)
    if (verdict.kind === "refused" && !(await sentAnyway(w, signed.hash))) {
      if (verdict.nonceTooLow) w.nonces.resync()
      w.backOff()
      return setResult("send-refused", update.epoch, `the node refused the update: ${verdict.reason}`)
    }
    w.nonces.used(nonce)
    w.failures = 0
    const submitted = new OperatorSetSubmitted({
      destination: update.destination,
      epoch: update.epoch,
      transactionHash: signed.hash,
      nonce,
      gasLimit: toU256(request.gas),
      maxFeePerGas: toU256(request.maxFeePerGas),
    })
    flight = { attestation: id, submitted, sentAt: Date.now() }
    await record(submitted, id)
    w.deps.logger.info("operator-set update sent", {
      fromEpoch: update.fromEpoch,
      epoch: update.epoch,
      nonce,
      transactionHash: signed.hash,
    })
    return setResult(
      "submitted",
      update.epoch,
      `update to epoch ${update.epoch} sent with nonce ${nonce}`,
      signed.hash,
    )
  }

  return {
    letGo: () => {
      flight = null
    },
    step: async (state) => {
      // The log's update in the air, when this member did not send it (a restart, or a takeover).
      const logged = state.setUpdate.submitted
      if (flight === null && logged !== null)
        flight = { attestation: logged.attestation, submitted: logged.event, sentAt: Date.now() }
      if (flight !== null) {
        try {
          return await follow(flight)
        } catch (error) {
          return setResult(
            "pending",
            flight.submitted.epoch,
            `following the update failed: ${describeError(error)}`,
          )
        }
      }
      if (setUpdateDue(state, inboxEpoch) === null) return null
      inboxEpoch = (await w.deps.reader.epoch()).epoch
      const due = setUpdateDue(state, inboxEpoch)
      if (due === null) return null
      if (w.flights.length > 0)
        return setResult(
          "waiting",
          due.update.epoch,
          `the update to epoch ${due.update.epoch} waits for ${w.flights.length} lane transaction(s) in the air to land`,
        )
      return await send(due.id, due.update)
    },
  }
}
