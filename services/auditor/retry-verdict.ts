import type { AuditStore, MessageRow } from "./index-store.ts"
import { statusOf } from "./message-status.ts"

/**
 * What `chorus retry <id>` would do with a message, as far as the index can tell: refuse it (the log never saw
 * it, or it was delivered; the Inbox never runs a message twice), or publish the request, which the
 * destination's submitter then answers with its own reasons (in flight, queued, no proof, no committed root).
 */
export type RetryVerdict =
  | { readonly kind: "refused"; readonly reason: string }
  | { readonly kind: "requestable"; readonly message: MessageRow }

/**
 * The verdict for `id` at `now`.
 *
 * @example
 * ```ts
 * const verdict = retryVerdict(store, id, Date.now())
 * if (verdict.kind === "refused") console.error(`refused: ${verdict.reason}`)
 * ```
 */
export const retryVerdict = (
  store: AuditStore,
  id: string,
  options: { readonly now: number; readonly stuckAfterMs: number },
): RetryVerdict => {
  const message = store.message(id)
  if (message === undefined)
    return {
      kind: "refused",
      reason: `message ${id.toLowerCase()} is not in the log (no chain-watcher observed it), so there is nothing to retry. Check the id with \`chorus messages\`.`,
    }
  if (statusOf(message, options) === "delivered") {
    const delivered = store.steps(message.id).find((s) => s.stage === "delivered")
    return {
      kind: "refused",
      reason: `message ${message.id} was already delivered on chain ${message.dstChainId}${delivered ? ` in tx ${String(delivered.detail.transactionHash)}` : ""}; the Inbox never runs a message twice.`,
    }
  }
  return { kind: "requestable", message }
}
