import { Producer } from "../../schemas/index.ts"
import type { ServiceName } from "../../topology/index.ts"
import { CHORUS_VERSION } from "./version.ts"

export { CHORUS_VERSION }

/**
 * The producer stamp of one logical service instance. `instance` names the
 * logical instance (the chain id of a watcher or submitter, an operator's
 * address), not the process: members of one consumer group are
 * interchangeable and stamp the same instance.
 *
 * @example
 * ```ts
 * producerOf("submitter", "902") // Producer { service: "submitter", instance: "902", version: "0.4.0" }
 * ```
 */
export const producerOf = (service: ServiceName, instance: string): Producer =>
  new Producer({ service, instance, version: CHORUS_VERSION })
