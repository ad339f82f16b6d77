/**
 * What one `tick()` did: a closed set of named outcomes, each with a reason
 * a person can read.
 *
 * @module
 */
import type {
  DeliveryAction,
  EventId,
  MessageId,
  RetryRefusalReason,
  TxHash,
} from "../../../schemas/index.ts"

export type TickResult =
  /** Nothing to send and nothing in flight. */
  | { readonly kind: "idle"; readonly reason: string }
  /** Work is pending but not due: a batch window is open, or no usable checkpoint covers it yet. */
  | {
      readonly kind: "waiting"
      readonly reason: string
      readonly laneId: string
      readonly closesInMs: number | null
    }
  /** Another member of the submitter's group holds its partitions: this one stands by and sends nothing. */
  | { readonly kind: "standby"; readonly reason: string }
  /**
   * The group moved on without this member just before a broadcast (it was expelled, or its partitions went to
   * another member): nothing was sent, and the flight is left to the member that holds them now.
   */
  | { readonly kind: "fenced"; readonly reason: string }
  /** The state is behind the log (at start, or after the submitter's own records): nothing is planned. */
  | { readonly kind: "catching-up"; readonly reason: string }
  /** A recent RPC failure or refusal: no new transaction before the back-off ends. */
  | { readonly kind: "backing-off"; readonly reason: string; readonly retryInMs: number }
  /** The Inbox already had the work: recorded `DeliverySkipped` instead of sending. */
  | {
      readonly kind: "skipped"
      readonly reason: string
      readonly action: DeliveryAction
      readonly laneId: string
      readonly messageIds: ReadonlyArray<MessageId>
    }
  /** Gas estimation reverted (a retry's `RetryFailed` too): recorded `DeliveryFailed` with the decoded error, nothing sent. */
  | {
      readonly kind: "refused"
      readonly reason: string
      readonly action: DeliveryAction
      readonly laneId: string
    }
  /** Estimation reverted with a "not now" Inbox error (paused, no operator set): nothing recorded, the work stays queued. */
  | { readonly kind: "inbox-blocked"; readonly reason: string; readonly action: DeliveryAction }
  /** The node refused the new transaction (not recorded; the work stays queued). */
  | { readonly kind: "send-refused"; readonly reason: string; readonly action: DeliveryAction }
  /** A transaction was sent and `DeliverySubmitted` recorded. */
  | {
      readonly kind: "submitted"
      readonly reason: string
      readonly action: DeliveryAction
      readonly laneId: string
      readonly transactionHash: TxHash
      readonly nonce: number
      readonly messageIds: ReadonlyArray<MessageId>
    }
  /** The flight's transaction is not included yet. */
  | {
      readonly kind: "pending"
      readonly reason: string
      readonly transactionHash: TxHash
      readonly nonce: number
    }
  /** The flight was stuck: a fee-bumped replacement was sent and recorded. */
  | {
      readonly kind: "replaced"
      readonly reason: string
      readonly transactionHash: TxHash
      readonly replaces: TxHash
      readonly nonce: number
    }
  /**
   * The lowest flight waited behind a nonce no transaction holds (one the node forgot, whose work went back to
   * the queue): a transfer of nothing to the account itself was sent at that nonce, so the flights above land.
   */
  | {
      readonly kind: "gap-filled"
      readonly reason: string
      readonly transactionHash: TxHash
      readonly nonce: number
    }
  /** The node refused the replacement; the flight keeps waiting and bumps again later. */
  | { readonly kind: "replacement-refused"; readonly reason: string; readonly nonce: number }
  /** Included, waiting for `confirmations`. */
  | {
      readonly kind: "confirming"
      readonly reason: string
      readonly transactionHash: TxHash
      readonly confirmations: number
      readonly required: number
    }
  /** Included and confirmed: `DeliveryConfirmed` (and `RootCommitted`) recorded. */
  | {
      readonly kind: "confirmed"
      readonly reason: string
      readonly action: DeliveryAction
      readonly laneId: string
      readonly transactionHash: TxHash
      readonly block: number
      readonly delivered: number
      readonly failed: number
      readonly skipped: number
    }
  /** Included but reverted: `DeliveryFailed` recorded with the re-simulated reason. */
  | {
      readonly kind: "reverted"
      readonly reason: string
      readonly action: DeliveryAction
      readonly transactionHash: TxHash
    }
  /** None of the flight's transactions landed and its nonce was used by another: the chain's state was recorded. */
  | { readonly kind: "superseded"; readonly reason: string; readonly nonce: number }
  /** The node knows none of a recovered flight's transactions and the nonce is free: the work is queued again. */
  | { readonly kind: "dropped"; readonly reason: string; readonly nonce: number }
  /** A retry request the submitter will not act on: `RetryRefused` recorded, `reason` says why. */
  | {
      readonly kind: "retry-refused"
      readonly reason: string
      readonly refusal: RetryRefusalReason
      readonly messageId: MessageId
      readonly request: EventId
    }
  /** An RPC call failed (not a revert); retried after a back-off. */
  | { readonly kind: "rpc-error"; readonly reason: string }
  /** Publishing to the bus failed; the records are kept and published first on the next tick. */
  | { readonly kind: "bus-error"; readonly reason: string }
  /** The RPC serves another chain, or there is no Inbox at the configured address: nothing is ever sent. */
  | { readonly kind: "misconfigured"; readonly reason: string }
  /** The submitter was stopped. */
  | { readonly kind: "stopped"; readonly reason: string }
  /** A step of the destination's operator-set update (`set-update.ts`). */
  | {
      readonly kind: "set-update"
      readonly stage:
        | "waiting"
        | "submitted"
        | "pending"
        | "confirming"
        | "applied"
        | "refused"
        | "send-refused"
      readonly epoch: number
      readonly reason: string
      readonly transactionHash: TxHash | null
    }

export type TickKind = TickResult["kind"]
