/**
 * Which topic names Chorus code may use: the topics `topology/topics.ts`
 * declares, and their shadows — `shadow.<suffix>.<declared topic>`, where a
 * replay writes what a service would have written (`chorus replay`).
 *
 * A shadow name always starts with `shadow.`, which no production topic
 * does, so the two cannot be mistaken for each other, and a writer that only
 * accepts `shadow.` names cannot reach production.
 *
 * @module
 */
import { ChorusError } from "../../errors/index.ts"
import { ALL_TOPICS, topicByName } from "../../topology/index.ts"

/** Every shadow topic name starts with this; no declared topic does. */
export const SHADOW_PREFIX = "shadow."

/**
 * A shadow suffix: letters, digits and dashes (no dot, so the name splits
 * unambiguously). `chorus replay --into` takes lowercase ones; its default
 * (`proof-builder-20261121T160200`) carries the `T` of an ISO basic time.
 */
const SUFFIX = /^[A-Za-z0-9][A-Za-z0-9-]{0,99}$/

/** A topic name that `topology/topics.ts` does not declare. */
export class UndeclaredTopicError extends ChorusError {
  override readonly name = "UndeclaredTopicError"
  constructor(topic: string) {
    super(
      `Topic ${JSON.stringify(topic)} is not declared in topology/topics.ts, nor a shadow (shadow.<suffix>.<topic>) of one`,
      {
        details: { topic },
        metaMessages: [`declared: ${ALL_TOPICS.map((t) => t.name).join(", ")}`],
        hint: "Declare it there (with its key, partitions and retention) before using it.",
      },
    )
  }
}

/** A shadow topic name taken apart. */
export interface ShadowTopic {
  /** What `chorus replay --into` named the replay. */
  readonly suffix: string
  /** The topic after the suffix: a declared topic, or `manifest` for the replay's manifest. */
  readonly topic: string
}

/**
 * Whether `suffix` may name shadow topics (letters, digits, dashes; at most 100).
 *
 * @example
 * ```ts
 * isShadowSuffix("proof-builder-20261121T160200") // true
 * isShadowSuffix("a.b") // false
 * ```
 */
export const isShadowSuffix = (suffix: string): boolean => SUFFIX.test(suffix)

/**
 * The shadow of `topic` under `suffix`.
 *
 * @example
 * ```ts
 * shadowTopicName("fix-1", "chorus.checkpoints.proposed") // "shadow.fix-1.chorus.checkpoints.proposed"
 * ```
 */
export const shadowTopicName = (suffix: string, topic: string): string => {
  if (!isShadowSuffix(suffix)) {
    throw new RangeError(
      `shadow suffix ${JSON.stringify(suffix)} must be letters, digits and dashes (at most 100), starting with a letter or digit`,
    )
  }
  return `${SHADOW_PREFIX}${suffix}.${topic}`
}

/**
 * Takes a shadow name apart; `undefined` if it is not one.
 *
 * @example
 * ```ts
 * parseShadowTopic("shadow.fix-1.chorus.messages.proven") // { suffix: "fix-1", topic: "chorus.messages.proven" }
 * parseShadowTopic("chorus.messages.proven") // undefined
 * ```
 */
export const parseShadowTopic = (name: string): ShadowTopic | undefined => {
  if (!name.startsWith(SHADOW_PREFIX)) return undefined
  const rest = name.slice(SHADOW_PREFIX.length)
  const dot = rest.indexOf(".")
  if (dot <= 0) return undefined
  const suffix = rest.slice(0, dot)
  const topic = rest.slice(dot + 1)
  if (!isShadowSuffix(suffix) || topic === "") return undefined
  return { suffix, topic }
}

/**
 * Throws {@link UndeclaredTopicError} unless the topology declares the topic,
 * or the name is a shadow of a declared topic.
 *
 * @example
 * ```ts
 * assertDeclared("chorus.messages.observed") // ok
 * assertDeclared("shadow.fix-1.chorus.messages.observed") // ok: a replay's shadow of it
 * assertDeclared("chorus.typo") // throws
 * ```
 */
export const assertDeclared = (topic: string): void => {
  if (topicByName(topic) !== undefined) return
  const shadow = parseShadowTopic(topic)
  if (shadow !== undefined && topicByName(shadow.topic) !== undefined) return
  throw new UndeclaredTopicError(topic)
}
