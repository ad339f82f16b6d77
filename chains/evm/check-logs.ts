/**
 * Checks the logs an RPC returned for a range before anything is built from
 * them. The RPC is never trusted: every log must be a live (not removed)
 * `MessageSent` of the configured Outbox, inside the requested range, with a
 * block hash, and its decoded message must hash to its `messageId` topic and
 * agree with its other topics and with the chain it was read from.
 *
 * Every problem is collected, each naming the log it is about, so one log
 * line says everything that was wrong with an answer.
 *
 * @module
 */
import { decodeEventLog, toEventSelector } from "viem"
import { type ChorusMessage, getMessageId, outboxAbi } from "../../contracts/index.ts"
import type { Address, Message } from "../../schemas/index.ts"
import { fromChorusMessage } from "../../services/runtime/contract-message.ts"

/** `topic0` of `MessageSent(uint64,uint32,bytes32,Message)`. */
export const MESSAGE_SENT_TOPIC = toEventSelector(
  outboxAbi.find((item) => item.type === "event" && item.name === "MessageSent")!,
)

/** A log that passed every check that needs no header. */
export interface CheckedLog {
  readonly blockNumber: number
  readonly blockHash: `0x${string}`
  readonly transactionHash: `0x${string}`
  readonly logIndex: number
  readonly message: Message
}

export interface LogCheck {
  /** The logs that passed, in chain order (block, then log index). */
  readonly logs: ReadonlyArray<CheckedLog>
  /** What was wrong, one entry per problem; empty when the answer is sound. */
  readonly problems: ReadonlyArray<string>
}

interface RawLog {
  readonly address?: unknown
  readonly blockHash?: unknown
  readonly blockNumber?: unknown
  readonly data?: unknown
  readonly logIndex?: unknown
  readonly removed?: unknown
  readonly topics?: unknown
  readonly transactionHash?: unknown
}

const isHash = (value: unknown): value is `0x${string}` =>
  typeof value === "string" && /^0x[0-9a-fA-F]{64}$/.test(value)

const quantity = (value: unknown): number | undefined => {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]+$/.test(value)) return undefined
  const n = Number.parseInt(value, 16)
  return Number.isSafeInteger(n) ? n : undefined
}

/**
 * Checks raw `eth_getLogs` results (JSON-RPC form) against the range and
 * chain they were requested for.
 *
 * @example
 * ```ts
 * const { logs, problems } = checkLogs(raw, { chainId: 901, outbox, fromBlock: 10, toBlock: 20 })
 * if (problems.length > 0) throw new InvalidRpcResponseError(901, "eth_getLogs 10..20", problems)
 * ```
 */
export const checkLogs = (
  raw: ReadonlyArray<unknown>,
  expected: {
    readonly chainId: number
    readonly outbox: Address
    readonly fromBlock: number
    readonly toBlock: number
  },
): LogCheck => {
  const problems: string[] = []
  const logs: CheckedLog[] = []
  raw.forEach((item, index) => {
    const log = (typeof item === "object" && item !== null ? item : {}) as RawLog
    const blockNumber = quantity(log.blockNumber)
    const logIndex = quantity(log.logIndex)
    const where = `log ${index} (block ${blockNumber ?? String(log.blockNumber)}, tx ${String(log.transactionHash)}, index ${logIndex ?? String(log.logIndex)})`
    const before = problems.length
    const problem = (what: string) => problems.push(`${where}: ${what}`)

    if (log.removed === true) problem("is marked removed (its block left the canonical chain)")
    if (typeof log.address !== "string" || log.address.toLowerCase() !== expected.outbox) {
      problem(`was emitted by ${String(log.address)}, not the Outbox ${expected.outbox}`)
    }
    if (blockNumber === undefined) problem(`has no valid block number (${String(log.blockNumber)})`)
    else if (blockNumber < expected.fromBlock || blockNumber > expected.toBlock) {
      problem(`is outside the requested range ${expected.fromBlock}..${expected.toBlock}`)
    }
    if (!isHash(log.blockHash)) problem(`has no valid block hash (${String(log.blockHash)})`)
    if (!isHash(log.transactionHash)) problem(`has no valid transaction hash`)
    if (logIndex === undefined) problem(`has no valid log index (${String(log.logIndex)})`)
    const topics = Array.isArray(log.topics) ? (log.topics as unknown[]) : []
    if (typeof topics[0] !== "string" || topics[0].toLowerCase() !== MESSAGE_SENT_TOPIC) {
      problem(`is not a MessageSent log (topic0 ${String(topics[0])})`)
    }
    if (problems.length > before) return

    let args: { dstChainId: bigint; nonce: number; messageId: `0x${string}`; message: ChorusMessage }
    try {
      args = decodeEventLog({
        abi: outboxAbi,
        eventName: "MessageSent",
        topics: topics as [`0x${string}`, ...`0x${string}`[]],
        data: log.data as `0x${string}`,
        strict: true,
      }).args as typeof args
    } catch (error) {
      problem(`does not decode as MessageSent: ${(error as Error).message.split("\n")[0]}`)
      return
    }
    const { message } = args
    const id = getMessageId(message)
    if (id !== args.messageId.toLowerCase()) {
      problem(`its message hashes to ${id}, but its messageId topic is ${args.messageId}`)
    }
    if (message.srcChainId !== BigInt(expected.chainId)) {
      problem(
        `its message is from chain ${message.srcChainId}, but it was read from chain ${expected.chainId}`,
      )
    }
    if (message.nonce !== args.nonce) {
      problem(`its message has nonce ${message.nonce}, but its nonce topic is ${args.nonce}`)
    }
    if (message.dstChainId !== args.dstChainId) {
      problem(
        `its message is for chain ${message.dstChainId}, but its dstChainId topic is ${args.dstChainId}`,
      )
    }
    let decoded: Message
    try {
      decoded = fromChorusMessage(message)
    } catch (error) {
      problem(`its message does not fit a Chorus event: ${(error as Error).message.split("\n")[0]}`)
      return
    }
    if (problems.length > before) return
    logs.push({
      blockNumber: blockNumber!,
      blockHash: (log.blockHash as string).toLowerCase() as `0x${string}`,
      transactionHash: (log.transactionHash as string).toLowerCase() as `0x${string}`,
      logIndex: logIndex!,
      message: decoded,
    })
  })
  logs.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex)
  for (let i = 1; i < logs.length; i++) {
    const previous = logs[i - 1]!
    const log = logs[i]!
    if (previous.blockNumber === log.blockNumber && previous.logIndex === log.logIndex) {
      problems.push(`block ${log.blockNumber} holds two logs with index ${log.logIndex}`)
    } else if (previous.blockNumber === log.blockNumber && previous.blockHash !== log.blockHash) {
      problems.push(
        `logs of block ${log.blockNumber} name two block hashes (${previous.blockHash}, ${log.blockHash})`,
      )
    }
  }
  return { logs, problems }
}
