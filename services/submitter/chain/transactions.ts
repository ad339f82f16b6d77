/**
 * The submitter's account on the destination: signing EIP-1559
 * transactions locally (so the hash is known before anything is sent),
 * broadcasting them, fee bumps for replacements, and the local nonce
 * counter.
 *
 * The nonce counter is the submitter's own: initialised from the chain's
 * `pending` transaction count, advanced by each transaction it broadcasts,
 * and re-read from the chain after a "nonce too low" refusal or whenever a
 * flight ends without its nonce being used.
 *
 * @module
 */
import { type Address, type Hex, keccak256, type LocalAccount, type PublicClient } from "viem"
import { TxHash } from "../../../schemas/index.ts"
import { classifySendError, type SendVerdict } from "./errors.ts"

export interface Fees {
  readonly maxFeePerGas: bigint
  readonly maxPriorityFeePerGas: bigint
}

export interface TransactionRequest extends Fees {
  readonly to: Address
  readonly data: Hex
  readonly gas: bigint
  readonly nonce: number
}

export interface SignedTransaction {
  readonly request: TransactionRequest
  readonly serialized: Hex
  readonly hash: TxHash
}

/**
 * Signs a transaction request with the submitter's key.
 *
 * @example
 * ```ts
 * const signed = await signRequest(account, 902, { to: inbox, data, gas, nonce, ...fees })
 * ```
 */
export const signRequest = async (
  account: LocalAccount,
  chainId: number,
  request: TransactionRequest,
): Promise<SignedTransaction> => {
  const serialized = await account.signTransaction({
    type: "eip1559",
    chainId,
    to: request.to,
    data: request.data,
    gas: request.gas,
    nonce: request.nonce,
    maxFeePerGas: request.maxFeePerGas,
    maxPriorityFeePerGas: request.maxPriorityFeePerGas,
    value: 0n,
  })
  return { request, serialized, hash: TxHash.make(keccak256(serialized)) }
}

/**
 * Sends a signed transaction and says what the node made of it.
 *
 * @example
 * ```ts
 * const verdict = await broadcast(client, signed) // { kind: "accepted" }
 * ```
 */
export const broadcast = async (client: PublicClient, signed: SignedTransaction): Promise<SendVerdict> => {
  try {
    await client.sendRawTransaction({ serializedTransaction: signed.serialized })
    return { kind: "accepted" }
  } catch (error) {
    return classifySendError(error)
  }
}

const ceilBps = (value: bigint, bps: number): bigint => (value * BigInt(10_000 + bps) + 9_999n) / 10_000n

/**
 * Fees for a replacement: the old ones raised by `bumpBps` (at least 10%,
 * which nodes require to replace a pending transaction), and never below
 * what the network asks for now.
 *
 * @example
 * ```ts
 * bumpFees({ maxFeePerGas: 100n, maxPriorityFeePerGas: 10n }, 1_250, current) // 113n / 12n, or current if higher
 * ```
 */
export const bumpFees = (old: Fees, bumpBps: number, current: Fees): Fees => {
  const bps = Math.max(bumpBps, 1_000)
  const maxPriorityFeePerGas = larger(ceilBps(old.maxPriorityFeePerGas, bps), current.maxPriorityFeePerGas)
  const maxFeePerGas = larger(ceilBps(old.maxFeePerGas, bps), current.maxFeePerGas)
  return { maxFeePerGas: larger(maxFeePerGas, maxPriorityFeePerGas), maxPriorityFeePerGas }
}

const larger = (a: bigint, b: bigint): bigint => (a > b ? a : b)

/**
 * A gas limit with `marginBps` added to the estimate.
 *
 * @example
 * ```ts
 * withMargin(100_000n, 2_000) // 120000n
 * ```
 */
export const withMargin = (estimate: bigint, marginBps: number): bigint => ceilBps(estimate, marginBps)

/** The submitter's own nonce counter (see the module doc). */
export interface NonceCounter {
  /** The nonce the next transaction takes (reads the chain's pending count the first time). */
  peek(): Promise<number>
  /** Records that `nonce` was used by a broadcast transaction. */
  used(nonce: number): void
  /** Forgets the local value: the next `peek` reads the chain again. */
  resync(): void
}

/**
 * A nonce counter for `address`.
 *
 * @example
 * ```ts
 * const nonces = makeNonceCounter(client, account.address)
 * const nonce = await nonces.peek()
 * nonces.used(nonce)
 * ```
 */
export const makeNonceCounter = (client: PublicClient, address: Address): NonceCounter => {
  let next: number | null = null
  return {
    peek: async () => {
      next ??= await client.getTransactionCount({ address, blockTag: "pending" })
      return next
    },
    used: (nonce) => {
      next = Math.max(next ?? 0, nonce + 1)
    },
    resync: () => {
      next = null
    },
  }
}
