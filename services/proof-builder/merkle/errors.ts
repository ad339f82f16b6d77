/** A range that is empty, reversed, or reaches past the tree or checkpoint it is proven against. */
export class RangeOutOfBoundsError extends Error {
  override name = "RangeOutOfBoundsError"
  readonly details: { start: number; end: number; count: number }
  constructor(details: { start: number; end: number; count: number }) {
    super(
      `range [${details.start}, ${details.end}) is not inside a tree of ${details.count} leaves. ` +
        "Ask for 0 <= start < end <= count, with count no larger than the leaves appended.",
    )
    this.details = details
  }
}

/** A proof whose sibling count does not match what its range and count call for. */
export class ProofLengthError extends Error {
  override name = "ProofLengthError"
  readonly details: { expected: number; actual: number }
  constructor(details: { expected: number; actual: number }) {
    super(
      `range proof has ${details.actual} siblings, ${details.expected} expected. ` +
        "Rebuild it with getRangeProof for the same start, end and count.",
    )
    this.details = details
  }
}

/** The tree holds 2^32 - 1 leaves, like the deposit contract. */
export class TreeFullError extends Error {
  override name = "TreeFullError"
  constructor() {
    super("the lane's Merkle tree is full (2^32 - 1 leaves); the lane cannot take more messages.")
  }
}
