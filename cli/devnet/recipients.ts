import { parseAbiItem } from "viem"
import type { DevnetWorld } from "./world.ts"

const pinged = parseAbiItem(
  "event Pinged(uint64 indexed srcChainId, address indexed sender, uint256 count, bytes body)",
)

export interface Received {
  readonly dstChainId: number
  /** Which recipient emitted it: the PingRecipient, or the GatedRecipient once opened. */
  readonly recipient: "ping" | "gated"
  readonly srcChainId: number
  readonly body: string
}

/**
 * Every payload the devnet's recipients received (its PingRecipients, and its
 * GatedRecipients, which emit the same `Pinged` event once open), read from
 * their events on each destination chain — the ground truth an end-to-end
 * test compares with what was sent.
 *
 * @example
 * ```ts
 * const received = await receivedPayloads(devnet.world)
 * ```
 */
export const receivedPayloads = async (world: DevnetWorld): Promise<Received[]> => {
  const received: Received[] = []
  for (const chain of world.chains) {
    const logs = await chain.client.getLogs({
      address: [chain.recipient, chain.gatedRecipient],
      event: pinged,
      fromBlock: 0n,
      toBlock: "latest",
    })
    for (const log of logs) {
      received.push({
        dstChainId: chain.chainId,
        recipient: log.address.toLowerCase() === chain.gatedRecipient.toLowerCase() ? "gated" : "ping",
        srcChainId: Number(log.args.srcChainId),
        body: log.args.body!,
      })
    }
  }
  return received
}

const messageDelivered = parseAbiItem("event MessageDelivered(bytes32 indexed messageId)")

/**
 * The ids of every message the devnet's Inboxes delivered (`MessageDelivered`), one entry per event, read on
 * each destination chain.
 *
 * @example
 * ```ts
 * const ids = await deliveredMessageIds(devnet.world) // ["0x3f…", …]
 * ```
 */
export const deliveredMessageIds = async (world: DevnetWorld): Promise<string[]> => {
  const ids: string[] = []
  for (const chain of world.chains) {
    const logs = await chain.client.getLogs({
      address: chain.inbox,
      event: messageDelivered,
      fromBlock: 0n,
      toBlock: "latest",
    })
    for (const log of logs) ids.push(log.args.messageId!.toLowerCase())
  }
  return ids
}
