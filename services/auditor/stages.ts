/**
 * The stages a message passes through, in pipeline order. A message's stage
 * only moves forward: the index keeps the highest rank it has reached.
 */
export const STAGES = [
  "observed",
  "proven",
  "proposed",
  "signed",
  "attested",
  "committed",
  "submitted",
  "failed",
  "delivered",
] as const

export type Stage = (typeof STAGES)[number]

/** Rank of a stage: higher is further along. */
export const rankOf = (stage: Stage): number => STAGES.indexOf(stage) + 1

/** The stage of a rank (0 → undefined: nothing known). */
export const stageOfRank = (rank: number): Stage | undefined => STAGES[rank - 1]
