/**
 * A producer bound to one instance states only its own facts: the watcher of
 * chain 901 writes about chain 901, the submitter of 902 about deliveries to
 * 902, an operator about its own answers. The signature binds the key to
 * the instance the envelope claims (`producer-policy.ts`); this binds the
 * event's content to that instance, through the owner the schema catalog
 * names for each type. Without it, one chain's key could settle another
 * chain's messages or move another watcher's cursor.
 *
 * @module
 */
import { type ChorusEvent, EventCatalog, type EventDefinition } from "../../schemas/catalog.ts"
import type { Envelope } from "../../schemas/index.ts"
import type { AuthenticationFailure, ProducerGrant } from "./producer-policy.ts"

/**
 * Why an authenticated event may not stand for its content's owner, or undefined when it may.
 *
 * @example
 * ```ts
 * const failure = ownerMismatch(envelope, grant)
 * if (failure !== undefined) // dead-letter it as unauthenticated
 * ```
 */
export const ownerMismatch = (
  envelope: Envelope,
  grant: ProducerGrant,
): AuthenticationFailure | undefined => {
  if (grant.instance === null) return undefined
  const definition = EventCatalog[envelope.type] as unknown as EventDefinition<ChorusEvent>
  const owner = definition.owner(envelope.event)
  if (owner === null || owner.toLowerCase() === grant.instance.toLowerCase()) return undefined
  return {
    reason: "owner-mismatch",
    detail: `${envelope.type} states a fact of ${owner}, but its producer ${grant.service}/${grant.instance} may state only its own`,
  }
}
