import { ALL_TOPICS, topicByName } from "../../topology/index.ts"

/** A topic name that `topology/topics.ts` does not declare. */
export class UndeclaredTopicError extends Error {
  readonly _tag = "UndeclaredTopicError"
  readonly topic: string
  constructor(topic: string) {
    super(
      `Topic ${JSON.stringify(topic)} is not declared in topology/topics.ts. ` +
        `Declared: ${ALL_TOPICS.map((t) => t.name).join(", ")}. Declare it there (with its key, partitions and retention) before using it.`,
    )
    this.name = "UndeclaredTopicError"
    this.topic = topic
  }
}

/**
 * Throws {@link UndeclaredTopicError} unless the topology declares the topic.
 *
 * @example
 * ```ts
 * assertDeclared("chorus.messages.observed") // ok
 * assertDeclared("chorus.typo") // throws
 * ```
 */
export const assertDeclared = (topic: string): void => {
  if (topicByName(topic) === undefined) throw new UndeclaredTopicError(topic)
}
