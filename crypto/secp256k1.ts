/**
 * secp256k1 ECDSA in WebAssembly (tiny-secp256k1, libsecp256k1 compiled),
 * for the signatures Chorus makes and checks per checkpoint and per
 * transaction: operators signing checkpoints, the collector recovering their
 * signers, the submitter signing its transactions.
 *
 * @noble/curves (pure JS) took 0.3 ms to sign and 1.3 ms to recover on this
 * machine, 17% of the relay's CPU (issue 13); this is 3× and 6.6× faster.
 * The signatures are the same bytes: RFC 6979 nonces and low `s`, as
 * libsecp256k1 always makes them; `secp256k1.test.ts` holds it to
 * @noble/curves on both.
 *
 * @module
 */

import * as ecc from "tiny-secp256k1"
import { type Hex, type Signature, serializeTransaction, type TransactionSerializable } from "viem"
import type { LocalAccount } from "viem/accounts"
import { keccak256 } from "./keccak.ts"

/** A compact `r ‖ s` signature and its recovery bit (the parity of R's y). */
export interface RecoverableSignature {
  readonly compact: Uint8Array
  readonly recovery: 0 | 1
}

/**
 * Signs a 32-byte digest: deterministic (RFC 6979), low `s`.
 *
 * @example
 * ```ts
 * const { compact, recovery } = signDigestBytes(privateKey, digest)
 * ```
 */
export const signDigestBytes = (privateKey: Uint8Array, digest: Uint8Array): RecoverableSignature => {
  const { signature, recoveryId } = ecc.signRecoverable(digest, privateKey)
  // 2 and 3 mean R's x overflowed the order (odds about 2^-128); Ethereum's v cannot say so.
  if (recoveryId > 1) throw new Error("secp256k1: a signature whose R overflows the curve order; sign again")
  return { compact: signature, recovery: recoveryId as 0 | 1 }
}

/**
 * The 65-byte uncompressed public key that signed `digest`, or null when the
 * signature recovers to no point. The caller checks `r`, `s` and `v` against
 * its own rules first (ranges, low `s`).
 *
 * @example
 * ```ts
 * recoverPublicKeyBytes(digest, compact, 1) // Uint8Array(65) [0x04, …]
 * ```
 */
export const recoverPublicKeyBytes = (
  digest: Uint8Array,
  compact: Uint8Array,
  recovery: 0 | 1,
): Uint8Array | null => {
  try {
    return ecc.recover(digest, compact, recovery, false)
  } catch {
    return null
  }
}

/**
 * Whether `compact` (`r ‖ s`, low `s` only) signs `digest` under the 65-byte uncompressed `publicKey`. A key that
 * is not a point of the curve throws.
 *
 * @example
 * ```ts
 * verifyDigestBytes(digest, publicKey, compact) // true
 * ```
 */
export const verifyDigestBytes = (digest: Uint8Array, publicKey: Uint8Array, compact: Uint8Array): boolean =>
  ecc.verify(digest, publicKey, compact, true)

const hexOf = (bytes: Uint8Array): Hex => `0x${Buffer.from(bytes).toString("hex")}`

/**
 * `account` with its transactions signed here rather than by viem's pure-JS
 * signer: the same serialization (viem's `serializeTransaction`), the same
 * signature bytes.
 *
 * @example
 * ```ts
 * const account = withFastTransactionSigning(privateKeyToAccount(key), key)
 * await account.signTransaction({ type: "eip1559", chainId, to, data, gas, nonce, maxFeePerGas, maxPriorityFeePerGas })
 * ```
 */
export const withFastTransactionSigning = (account: LocalAccount, privateKey: Hex): LocalAccount => {
  const key = Buffer.from(privateKey.slice(2), "hex")
  return {
    ...account,
    signTransaction: async (transaction, options) => {
      // Blob transactions sign a form without their sidecars; viem's signer knows how.
      if (transaction.type === "eip4844") return account.signTransaction(transaction, options)
      const serializer = options?.serializer ?? serializeTransaction
      const unsigned = await serializer(transaction as TransactionSerializable)
      const { compact, recovery } = signDigestBytes(key, keccak256(unsigned, "bytes"))
      const signature: Signature = {
        r: hexOf(compact.subarray(0, 32)),
        s: hexOf(compact.subarray(32, 64)),
        v: BigInt(27 + recovery),
        yParity: recovery,
      }
      return (await serializer(transaction as TransactionSerializable, signature)) as Awaited<
        ReturnType<LocalAccount["signTransaction"]>
      >
    },
  }
}
