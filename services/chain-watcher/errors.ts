/**
 * The chain-watcher's own errors: its chain rewritten below its cursor
 * (it halted), its chain halted on the log when it starts (it refuses to
 * start), and a resume whose trusted block its chain no longer has. Errors
 * about reading a chain (an answer that failed validation, a log range no
 * RPC accepts, a wrong chain) are the chain reader's, in `chains/`.
 *
 * @module
 */
import { ChorusError } from "../../errors/index.ts"
import type { ChainHalted } from "../../schemas/index.ts"
import type { ChainHalt, ChainResume } from "../runtime/chain-halts.ts"

/** What to do about a halted chain, for every hint below. */
const resumeHint = (chainId: number, below: number) =>
  "Investigate the rewrite (which RPC served which chain, and why finality was violated), then choose a block " +
  `below ${below} that the chain's RPCs agree on and lift the halt from it: ` +
  `chorus chain resume ${chainId} --from <block> --hash <its hash> --config <config> [--reason <text>]; ` +
  "then start the watcher again (see docs/runbook.md, “When a source chain is rewritten below finality”)."

/**
 * The watcher saw its chain rewritten below its cursor and stopped. `done`
 * rejects with it, so `chorus run` exits non-zero.
 */
export class ChainHaltedError extends ChorusError {
  override readonly name = "ChainHaltedError"
  readonly chainId: number
  readonly blockNumber: number
  readonly expectedHash: string
  readonly observedHash: string
  readonly reason: string

  constructor(halt: ChainHalted) {
    super(
      `chain ${halt.chainId} halted at block ${halt.blockNumber}: expected hash ${halt.expectedHash}, observed ${halt.observedHash}. ${halt.reason}`,
      {
        details: {
          chainId: halt.chainId,
          blockNumber: halt.blockNumber,
          expectedHash: halt.expectedHash,
          observedHash: halt.observedHash,
        },
        hint: resumeHint(halt.chainId, halt.blockNumber),
      },
    )
    this.chainId = halt.chainId
    this.blockNumber = halt.blockNumber
    this.expectedHash = halt.expectedHash
    this.observedHash = halt.observedHash
    this.reason = halt.reason
  }
}

/**
 * The watcher was started while its chain is halted on the log and no
 * resume lifted the halt: it refuses to start, rather than read from a
 * cursor the chain no longer has and halt again on every restart.
 */
export class ChainStillHaltedError extends ChorusError {
  override readonly name = "ChainStillHaltedError"
  readonly chainId: number
  readonly blockNumber: number

  constructor(halt: ChainHalt) {
    super(
      `chain ${halt.chainId} is halted on the log since ${new Date(halt.since).toISOString()} (its watcher found block ${halt.blockNumber} rewritten: ${halt.reason}); the watcher does not start until the halt is lifted`,
      {
        details: { chainId: halt.chainId, blockNumber: halt.blockNumber, halt: halt.eventId },
        hint: resumeHint(halt.chainId, halt.blockNumber),
      },
    )
    this.chainId = halt.chainId
    this.blockNumber = halt.blockNumber
  }
}

/**
 * The watcher was to start again from a resume's trusted block, but its RPC
 * refutes the resume: it shows another block there (the chain no longer
 * has the block the resume trusts), or other lane counts at it than the
 * resume recorded. It halts the chain again (a new `ChainHalted` at that
 * block) and stops.
 */
export class ResumeRefutedError extends ChorusError {
  override readonly name = "ResumeRefutedError"
  readonly chainId: number
  readonly blockNumber: number

  constructor(resume: ChainResume, problem: string) {
    super(
      `chain ${resume.chainId} was resumed from block ${resume.block.number} (${resume.block.hash}) by ${resume.by}, but ${problem}, so the watcher halted it again`,
      {
        details: {
          chainId: resume.chainId,
          blockNumber: resume.block.number,
          trustedHash: resume.block.hash,
          resume: resume.eventId,
        },
        hint: resumeHint(resume.chainId, resume.block.number),
      },
    )
    this.chainId = resume.chainId
    this.blockNumber = resume.block.number
  }
}
