import { ChorusError } from "../../../errors/index.ts"
import { MAX_LEAVES } from "./constants.ts"

/** A range that is empty, reversed, or reaches past the tree or checkpoint it is proven against. */
export class RangeOutOfBoundsError extends ChorusError {
  override readonly name = "RangeOutOfBoundsError"
  declare readonly details: { start: number; end: number; count: number }
  constructor(details: { start: number; end: number; count: number }) {
    super(`range [${details.start}, ${details.end}) is not inside a tree of ${details.count} leaves`, {
      details,
      hint: "Ask for 0 <= start < end <= count, with count no larger than the leaves appended.",
    })
  }
}

/** A proof whose sibling count does not match what its range and count call for. */
export class ProofLengthError extends ChorusError {
  override readonly name = "ProofLengthError"
  declare readonly details: { expected: number; actual: number }
  constructor(details: { expected: number; actual: number }) {
    super(`range proof has ${details.actual} siblings, ${details.expected} expected`, {
      details,
      hint: "Rebuild it with getRangeProof for the same start, end and count.",
    })
  }
}

/** The tree holds 2^32 - 1 leaves, like the deposit contract. */
export class TreeFullError extends ChorusError {
  override readonly name = "TreeFullError"
  constructor() {
    super("the lane's Merkle tree is full (2^32 - 1 leaves)", {
      details: { capacity: MAX_LEAVES },
      hint: "The lane cannot take more messages.",
    })
  }
}
