/**
 * The submitter's operator-set updates: the attested update of its destination sent as
 * `Inbox.updateOperatorSet`, followed to its outcome, and recorded.
 *
 * A step, in order (the ticker takes it before any lane work, so an update goes out ahead of the checkpoints
 * the new set signs):
 *   1. an update in the air (`OperatorSetSubmitted` with no outcome, from this member or the log): its receipt.
 *      Included and confirmed → `OperatorSetApplied` with the gas it used; reverted → `OperatorSetUpdateFailed`
 *      with the reason re-run at its block. Not included while the account's nonce moved past it → what the
 *      Inbox shows, in an `OperatorSetUpdateFailed` naming the transaction. An outcome with a transaction
 *      settles nothing: the update is due again, and the estimate of the next step says whether the Inbox
 *      still wants it;
 *   2. an attested update past every epoch settled (`setUpdateDue`), once no lane transaction is in the air (the
 *      update's nonce is then the next one, and it lands before anything planned after it): estimated — a revert
 *      (`StaleEpoch`: the Inbox has it already; `InsufficientStake`: the Inbox moved to a set the signatures do
 *      not meet) is `OperatorSetUpdateFailed` with the decoded error and no transaction, which settles the
 *      update (a later attested one is sent as usual) — then signed, sent behind the group's fence, and
 *      recorded `OperatorSetSubmitted`.
 *
 * Invariants:
 * - One update in the air at a time, and none beside lane transactions: nonces stay in order without a flight
 *   of their own kind in the lane machinery.
 * - Never applied twice: the Inbox refuses an epoch at or below its own (`StaleEpoch`), so a resend after a
 *   crash costs gas at worst.
 *
 * @module
 */
import { describeError } from "../../../chains/index.ts"
import {
  type Envelope,
  OperatorSetApplied,
  type OperatorSetAttested,
  OperatorSetSubmitted,
  OperatorSetUpdateFailed,
  type OperatorSetSubmitted as Submitted,
  toU256,
} from "../../../schemas/index.ts"
import { larger, withMargin } from "../chain/index.ts"
import { type SubmitterState, setUpdateDue } from "../core/index.ts"
import { sentAnyway } from "./send.ts"
import type { TickResult } from "./tick-result.ts"
import type { Writer } from "./writer.ts"

/** An update in the air, as this member follows it. */
interface SetFlight {
  readonly submitted: Submitted
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

const setResult = (
  stage: Extract<TickResult, { kind: "set-update" }>["stage"],
  epoch: number,
  reason: string,
  transactionHash: Submitted["transactionHash"] | null = null,
): TickResult => ({ kind: "set-update", stage, epoch, reason, transactionHash })

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
  const { chain, settings } = { chain: w.deps.chain, settings: w.deps.settings }
  let flight: SetFlight | null = null

  const record = (
    event: OperatorSetApplied | OperatorSetUpdateFailed | OperatorSetSubmitted,
    cause: Envelope["id"] | null,
  ) => w.record([{ event, cause }])

  const follow = async (open: SetFlight): Promise<TickResult> => {
    const { submitted } = open
    const receipt = await chain.receipt(submitted.transactionHash)
    if (receipt === null) {
      const latest = await chain.transactionCount("latest")
      if (latest <= submitted.nonce)
        return setResult(
          "pending",
          submitted.epoch,
          `update to epoch ${submitted.epoch} not included yet`,
          submitted.transactionHash,
        )
      // Its nonce was used by another transaction: the Inbox says whether the set got there anyway.
      const { epoch } = await w.deps.reader.epoch()
      flight = null
      await record(
        new OperatorSetUpdateFailed({
          destination: submitted.destination,
          epoch: submitted.epoch,
          transactionHash: submitted.transactionHash,
          reason:
            epoch >= submitted.epoch
              ? `its nonce ${submitted.nonce} was used by another transaction; the Inbox is at epoch ${epoch} already`
              : `its nonce ${submitted.nonce} was used by another transaction and the Inbox is still at epoch ${epoch}`,
        }),
        null,
      )
      return setResult(
        "refused",
        submitted.epoch,
        `superseded at nonce ${submitted.nonce}`,
        submitted.transactionHash,
      )
    }
    const head = await chain.blockNumber()
    const confirmations = head - receipt.block.number + 1
    if (confirmations < settings.confirmations)
      return setResult(
        "confirming",
        submitted.epoch,
        `included at block ${receipt.block.number}: ${confirmations} of ${settings.confirmations} confirmation(s)`,
        submitted.transactionHash,
      )
    flight = null
    if (receipt.succeeded) {
      await record(
        new OperatorSetApplied({
          destination: submitted.destination,
          epoch: submitted.epoch,
          transactionHash: submitted.transactionHash,
          blockNumber: receipt.block.number,
          gasUsed: toU256(receipt.gasUsed),
        }),
        null,
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
    const sent = await chain.sentTransaction(submitted.transactionHash)
    const revert = sent === null ? null : await chain.simulate(sent, receipt.block.number).catch(() => null)
    const reason = revert?.reason ?? "reverted (the reason could not be re-run at its block)"
    await record(
      new OperatorSetUpdateFailed({
        destination: submitted.destination,
        epoch: submitted.epoch,
        transactionHash: submitted.transactionHash,
        reason,
      }),
      null,
    )
    // Due again at once would spend gas on every tick if it keeps reverting: the next send waits a back-off.
    w.backOff()
    return setResult("refused", submitted.epoch, reason, submitted.transactionHash)
  }

  const send = async (update: OperatorSetAttested, cause: Envelope["id"] | null): Promise<TickResult> => {
    const call = {
      kind: "updateOperatorSet" as const,
      epoch: update.epoch,
      operators: update.operators,
      thresholdBps: update.thresholdBps,
      signatures: update.signatures,
    }
    const estimated = await chain.estimate(call)
    if ("revert" in estimated) {
      await record(
        new OperatorSetUpdateFailed({
          destination: update.destination,
          epoch: update.epoch,
          transactionHash: null,
          reason: `the Inbox refuses it: ${estimated.revert.reason}`,
        }),
        cause,
      )
      return setResult("refused", update.epoch, estimated.revert.reason)
    }
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
    flight = { submitted, sentAt: Date.now() }
    await record(submitted, cause)
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
      if (flight === null && logged !== null) flight = { submitted: logged, sentAt: Date.now() }
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
      const due = setUpdateDue(state)
      if (due === null) return null
      if (w.flights.length > 0)
        return setResult(
          "waiting",
          due.epoch,
          `the update to epoch ${due.epoch} waits for ${w.flights.length} lane transaction(s) in the air to land`,
        )
      return await send(due, state.setUpdate.attestedId)
    },
  }
}
