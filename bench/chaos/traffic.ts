/**
 * The chaos run's traffic: the planned messages sent on time from each
 * source chain's Outbox by the devnet's traffic sender (anvil account 4),
 * signed here with a local nonce per chain, so a send never waits for a
 * block. Each body is unique (`chorus chaos <seed> #<index>`), so the
 * recipients' events tell every message apart.
 *
 * A chain fault pauses the sends on its chain (`pause`), so no send races
 * the blocks being replaced; the sends due meanwhile go when it resumes.
 *
 * @module
 */
import {
  createPublicClient,
  encodeFunctionData,
  type Hex,
  http,
  type PublicClient,
  parseGwei,
  stringToHex,
} from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { chainDefinition } from "../../chains/evm/client.ts"
import { ANVIL_KEYS } from "../../cli/devnet/world.ts"
import { outboxAbi } from "../../contracts/index.ts"
import type { PlannedMessage } from "./schedule.ts"
import type { ChaosWorld } from "./world.ts"

export interface SentTransaction {
  readonly message: PlannedMessage
  readonly recipient: Hex
  readonly body: Hex
  readonly transactionHash: Hex
  readonly sentAt: number
}

export interface FailedSend {
  readonly message: PlannedMessage
  readonly error: string
}

export interface Traffic {
  /** Resolves when every planned message was sent (or failed to be). */
  readonly done: Promise<void>
  sent(): ReadonlyArray<SentTransaction>
  failed(): ReadonlyArray<FailedSend>
  /** Holds the sends from a chain, once the send in flight is done, until the returned function is called. */
  pause(chainId: number): Promise<() => void>
  stop(): void
}

/** The body of message `index` of a run. */
export const bodyOf = (seed: number, index: number): Hex => stringToHex(`chorus chaos ${seed} #${index}`)

/** Gas for the Outbox send itself (the message's own gas limit is only recorded). */
const SEND_GAS = 400_000n

/**
 * Starts sending the planned traffic, each message at its due time from `startedAt`.
 *
 * @example
 * ```ts
 * const traffic = startTraffic(world, plan.traffic, plan.seed, Date.now())
 * await traffic.done
 * ```
 */
export const startTraffic = (
  world: ChaosWorld,
  messages: ReadonlyArray<PlannedMessage>,
  seed: number,
  startedAt: number,
): Traffic => {
  const account = privateKeyToAccount(ANVIL_KEYS.sender)
  const sent: SentTransaction[] = []
  const failed: FailedSend[] = []
  const gates = new Map<number, Promise<void>>()
  let stopped = false
  let inFlight: Promise<void> = Promise.resolve()
  const chains = new Map(
    world.devnet.chains.map((c) => [
      c.chainId,
      {
        chain: c,
        client: createPublicClient({
          chain: chainDefinition(c.chainId, [c.rpcUrl]),
          transport: http(c.rpcUrl),
        }) as PublicClient,
        nonce: -1,
      },
    ]),
  )

  const send = async (message: PlannedMessage) => {
    const source = chains.get(message.src)!
    await gates.get(message.src)
    const recipient = world.recipientOf(message.kind, message.dst)
    const body = bodyOf(seed, message.index)
    for (let attempt = 1; ; attempt++) {
      try {
        if (source.nonce < 0) {
          source.nonce = await source.client.getTransactionCount({
            address: account.address,
            blockTag: "pending",
          })
        }
        const raw = await account.signTransaction({
          chainId: message.src,
          type: "eip1559",
          to: source.chain.outbox,
          data: encodeFunctionData({
            abi: outboxAbi,
            functionName: "send",
            args: [BigInt(message.dst), recipient, message.gasLimit, body],
          }),
          gas: SEND_GAS,
          nonce: source.nonce,
          maxFeePerGas: parseGwei("50"),
          maxPriorityFeePerGas: parseGwei("1"),
        })
        const transactionHash = await source.client.request({
          method: "eth_sendRawTransaction",
          params: [raw],
        })
        source.nonce += 1
        sent.push({ message, recipient, body, transactionHash, sentAt: Date.now() })
        return
      } catch (error) {
        // A send the node refused leaves the local nonce unknown: read it again before the next attempt.
        source.nonce = -1
        if (attempt >= 5) {
          failed.push({ message, error: (error as Error).message.split("\n")[0]! })
          return
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt))
      }
    }
  }

  const run = async () => {
    for (const message of messages) {
      if (stopped) return
      const wait = startedAt + message.dueMs - Date.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      inFlight = send(message)
      await inFlight
    }
  }

  return {
    done: run(),
    sent: () => sent,
    failed: () => failed,
    pause: async (chainId) => {
      let resume: () => void = () => {}
      const gate = new Promise<void>((resolve) => {
        resume = resolve
      })
      gates.set(chainId, gate)
      await inFlight
      return () => {
        if (gates.get(chainId) === gate) gates.delete(chainId)
        resume()
      }
    },
    stop: () => {
      stopped = true
    },
  }
}
