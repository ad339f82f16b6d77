import type { Address } from "viem"
import { ChorusError } from "../../errors/index.ts"
import type { SignerSignature } from "./types.ts"

/** Two signatures from the same signer: the Inbox would reject the set. */
export class DuplicateSignerError extends ChorusError {
  override readonly name = "DuplicateSignerError"
  declare readonly details: { signer: Address }
  constructor(details: { signer: Address }) {
    super(`two signatures from ${details.signer}`, {
      details,
      hint: "Keep one signature per operator before packing.",
    })
  }
}

/**
 * Sorts signatures by signer address, ascending as numbers, which is the order `Inbox.commit` requires.
 * Throws `DuplicateSignerError` if a signer appears twice.
 *
 * @example
 * const ordered = sortSignatures([{ signer: b, signature: sb }, { signer: a, signature: sa }]) // a, then b
 */
export function sortSignatures(signatures: readonly SignerSignature[]): SignerSignature[] {
  const sorted = [...signatures].sort((x, y) => {
    const a = BigInt(x.signer)
    const b = BigInt(y.signer)
    return a < b ? -1 : a > b ? 1 : 0
  })
  for (let i = 1; i < sorted.length; i++) {
    if (BigInt(sorted[i]!.signer) === BigInt(sorted[i - 1]!.signer)) {
      throw new DuplicateSignerError({ signer: sorted[i]!.signer })
    }
  }
  return sorted
}
