/**
 * The one error both bus adapters give a consumer-group member the group has
 * moved on without (`Subscription.fence`), so a service tells it apart from
 * any other failure whichever bus it runs on.
 *
 * @module
 */
import { ChorusError } from "../errors/index.ts"

/** This member no longer holds an assignment in its group: another member may hold its partitions. */
export class MemberFencedError extends ChorusError {
  override readonly name = "MemberFencedError"
  declare readonly details: { readonly groupId: string; readonly memberId: string; readonly reason: string }
  constructor(groupId: string, memberId: string, reason: string) {
    super(`member ${memberId} of group ${groupId} is fenced: ${reason}`, {
      details: { groupId, memberId, reason },
      hint:
        "Stop acting for the group: another member holds (or will hold) its partitions. A member that is " +
        "still running rejoins on its own and acts again once it is assigned.",
    })
  }
}
