/**
 * A partition assigner that gives every partition to one member
 * (`SubscribeOptions.assignment: "single"`): a group of standbys behind one
 * active member, for a service that must be a single writer (a submitter
 * sends from one account) yet should survive its process.
 *
 * Sticky: each member says in its join metadata whether it holds the
 * partitions now; the assignment goes to a member that does (the first by
 * id, if a rebalance finds two: a zombie that rejoined after its
 * replacement), else to the first member by id. A member joining, or a
 * standby leaving, does not move the work.
 *
 * @module
 */
import { AssignerProtocol, type PartitionAssigner } from "kafkajs"

export const SINGLE_MEMBER_ASSIGNER = "ChorusSingleMemberAssigner"

/**
 * The assigner for one member, which says whether it holds partitions now (`holds`).
 *
 * @example
 * ```ts
 * kafka.consumer({ groupId, partitionAssigners: [singleMemberAssigner(() => subscription.assignment().length > 0)] })
 * ```
 */
export const singleMemberAssigner =
  (holds: () => boolean): PartitionAssigner =>
  ({ cluster }) => ({
    name: SINGLE_MEMBER_ASSIGNER,
    version: 0,
    async assign({ members, topics }) {
      const sorted = [...members].sort((a, b) =>
        a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
      )
      const holding = sorted.find((member) => {
        const metadata = AssignerProtocol.MemberMetadata.decode(member.memberMetadata)
        return metadata?.userData?.[0] === 1
      })
      const active = (holding ?? sorted[0])?.memberId
      const all: Record<string, number[]> = {}
      for (const topic of topics)
        all[topic] = cluster.findTopicPartitionMetadata(topic).map(({ partitionId }) => partitionId)
      return sorted.map(({ memberId }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: memberId === active ? all : {},
          userData: Buffer.alloc(0),
        }),
      }))
    },
    protocol({ topics }) {
      return {
        name: SINGLE_MEMBER_ASSIGNER,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 0,
          topics,
          userData: Buffer.from([holds() ? 1 : 0]),
        }),
      }
    },
  })
