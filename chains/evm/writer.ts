/**
 * One account writing to one Inbox over the chain's client: the submitter's
 * side of its destination. Transactions are EIP-1559, signed locally (so the
 * hash is known before anything is sent) and broadcast raw; gas, fees,
 * nonces, receipts and re-simulations are read over the same client as
 * every other read of the chain.
 *
 * Invariants:
 * - A revert is never an RPC failure: estimation and re-simulation return
 *   the decoded `Revert`, and only other failures throw.
 * - A broadcast never throws for what the node said: its answer is a
 *   `SendVerdict` (accepted, refused, or ambiguous when it may have been
 *   sent); only an RPC that serves another chain throws.
 *
 * @module
 */
import {
  decodeFunctionData,
  keccak256,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  type Address as ViemAddress,
  type Hex as ViemHex,
} from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { inboxAbi } from "../../contracts/index.ts"
import { withFastTransactionSigning } from "../../crypto/secp256k1.ts"
import { processMetrics } from "../../metrics/process-metrics.ts"
import { type Address, TxHash } from "../../schemas/index.ts"
import type {
  ChainWriter,
  InboxReceipt,
  SendVerdict,
  SentTransaction,
  SignedTransaction,
  SigningKey,
} from "../chain-access.ts"
import { asChainError, type EvmClient, rpcCall } from "./client.ts"
import { WrongChainError } from "./errors.ts"
import { abiCallOf, calldataOf } from "./inbox-calls.ts"
import { inboxReceiptOf } from "./inbox-receipt.ts"
import { web3signerAccount } from "./remote-signer.ts"
import { classifySendError, describeRevert } from "./revert.ts"

/**
 * The writer of `privateKey`'s account to the Inbox at `inbox`.
 *
 * @example
 * ```ts
 * const writer = makeEvmWriter(client, { inbox, key: privateKey })
 * const estimate = await writer.estimate({ kind: "commit", checkpoint, epoch: 1, signatures })
 * ```
 */
/** Receipt hashes a writer remembers having counted (far more than a submitter has in the air). */
const COUNTED_RECEIPTS = 4_096

const INBOX_FUNCTIONS = new Set(["commit", "deliver", "commitAndDeliver", "retry"] as const)

/** The Inbox function `data` calls, or null for another (or undecodable) call. */
const inboxFunctionOf = (data: ViemHex): SentTransaction["inboxFunction"] => {
  try {
    const { functionName } = decodeFunctionData({ abi: inboxAbi, data })
    return INBOX_FUNCTIONS.has(functionName as never)
      ? (functionName as SentTransaction["inboxFunction"])
      : null
  } catch {
    return null
  }
}

export const makeEvmWriter = (
  client: EvmClient,
  options: { readonly inbox: Address; readonly key: SigningKey },
): ChainWriter => {
  const { key } = options
  const account =
    typeof key === "string"
      ? withFastTransactionSigning(privateKeyToAccount(key), key)
      : web3signerAccount(key)
  const inbox = options.inbox as ViemAddress
  const { chainId, viem } = client
  processMetrics()?.submitterChain(chainId)
  /** Receipts already counted in the metrics: a submitter reads one receipt again until it is deep enough. */
  const counted = new Set<string>()
  const countIncluded = (receipt: InboxReceipt, effectiveGasPrice: bigint | undefined) => {
    const metrics = processMetrics()
    if (metrics === undefined || counted.has(receipt.transactionHash)) return
    if (counted.size >= COUNTED_RECEIPTS) counted.delete(counted.values().next().value as string)
    counted.add(receipt.transactionHash)
    metrics.transaction(chainId, receipt.succeeded ? "succeeded" : "reverted")
    metrics.paid(chainId, receipt.gasUsed, receipt.gasUsed * (effectiveGasPrice ?? 0n))
  }

  return {
    chainId,
    inbox: options.inbox,
    sender: account.address,

    misconfiguration: async () => {
      try {
        const code = await viem.getCode({ address: inbox })
        if (code === undefined || code === "0x") {
          return `no contract at the Inbox address ${inbox} on chain ${chainId}; check chains[].inbox`
        }
        return null
      } catch (error) {
        const failure = asChainError(client, "eth_getCode(Inbox)", error)
        if (failure instanceof WrongChainError) {
          return `the RPC at ${failure.url} serves chain ${failure.actual}, not ${chainId}; check chains[].rpcUrls`
        }
        throw failure
      }
    },

    estimate: async (call) => {
      try {
        const gas = await viem.estimateContractGas({
          address: inbox,
          abi: inboxAbi,
          ...(abiCallOf(call) as { functionName: "commit"; args: never }),
          account: account.address,
        })
        return { gas }
      } catch (error) {
        const failure = asChainError(client, "eth_estimateGas", error)
        const revert = failure instanceof WrongChainError ? null : describeRevert(error)
        if (revert === null) throw failure
        return { revert }
      }
    },

    fees: () =>
      rpcCall(client, "eth_feeHistory (fees)", async () => {
        const fees = await viem.estimateFeesPerGas()
        return { maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas }
      }),

    transactionCount: (blockTag) =>
      rpcCall(client, `eth_getTransactionCount(${blockTag})`, () =>
        viem.getTransactionCount({ address: account.address, blockTag }),
      ),

    request: (call, fields) => ({
      to: inbox,
      data: calldataOf(call),
      gas: fields.gas,
      nonce: fields.nonce,
      maxFeePerGas: fields.maxFeePerGas,
      maxPriorityFeePerGas: fields.maxPriorityFeePerGas,
    }),

    sign: async (request): Promise<SignedTransaction> => {
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
    },

    broadcast: async (signed) => {
      const verdict = await (async (): Promise<SendVerdict> => {
        try {
          await viem.sendRawTransaction({ serializedTransaction: signed.serialized })
          return { kind: "accepted" }
        } catch (error) {
          const failure = asChainError(client, "eth_sendRawTransaction", error)
          if (failure instanceof WrongChainError) throw failure
          return classifySendError(error)
        }
      })()
      processMetrics()?.transaction(chainId, verdict.kind)
      return verdict
    },

    receipt: (hash) =>
      rpcCall(client, "eth_getTransactionReceipt", async () => {
        try {
          const receipt = await viem.getTransactionReceipt({ hash: hash as ViemHex })
          const read = inboxReceiptOf(receipt, inbox, chainId)
          countIncluded(read, receipt.effectiveGasPrice)
          return read
        } catch (error) {
          if (error instanceof TransactionReceiptNotFoundError) return null
          throw error
        }
      }),

    balance: () =>
      rpcCall(client, "eth_getBalance(sender)", () => viem.getBalance({ address: account.address })),

    sentTransaction: (hash) =>
      rpcCall(client, "eth_getTransactionByHash", async (): Promise<SentTransaction | null> => {
        try {
          const tx = await viem.getTransaction({ hash: hash as ViemHex })
          if (tx.to === null || tx.to === undefined) return null
          return {
            from: tx.from,
            inboxFunction: tx.to.toLowerCase() === inbox.toLowerCase() ? inboxFunctionOf(tx.input) : null,
            to: tx.to,
            data: tx.input,
            gas: tx.gas,
            nonce: tx.nonce,
            maxFeePerGas: tx.maxFeePerGas ?? tx.gasPrice ?? 0n,
            maxPriorityFeePerGas: tx.maxPriorityFeePerGas ?? tx.gasPrice ?? 0n,
          }
        } catch (error) {
          if (error instanceof TransactionNotFoundError) return null
          throw error
        }
      }),

    blockNumber: () => rpcCall(client, "eth_blockNumber", async () => Number(await viem.getBlockNumber())),

    simulate: async (request, blockNumber) => {
      try {
        await viem.call({
          account: account.address,
          to: request.to,
          data: request.data,
          gas: request.gas,
          blockNumber: BigInt(blockNumber),
        })
        return null
      } catch (error) {
        const failure = asChainError(client, `eth_call at block ${blockNumber}`, error)
        const revert = failure instanceof WrongChainError ? null : describeRevert(error)
        if (revert === null) throw failure
        return revert
      }
    },
  }
}
