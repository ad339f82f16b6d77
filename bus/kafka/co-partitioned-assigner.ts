/**
 * A partition assigner that keeps co-partitioned topics together: partition
 * `p` of every subscribed topic goes to the same member.
 *
 * Chorus's lane services keep per-lane state that is fed by several topics
 * (a submitter reads attested checkpoints, proofs and its own deliveries).
 * Every lane topic has the same partition count and the same key, so a lane
 * lives on the same partition number everywhere; kafkajs's default
 * round-robin assigner would scatter those partitions across members, and a
 * member would see half of a lane. The embedded bus assigns contiguous
 * ranges per topic, which is co-partitioned too.
 *
 * @module
 */
import { AssignerProtocol, type PartitionAssigner } from "kafkajs"

/**
 * Partition `p` of every topic goes to member `p mod n` (members sorted by id).
 *
 * @example
 * ```ts
 * kafka.consumer({ groupId, partitionAssigners: [CoPartitionedAssigner] })
 * ```
 */
export const CoPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: "ChorusCoPartitionedAssigner",
  version: 0,
  async assign({ members, topics }) {
    const sorted = members.map((m) => m.memberId).sort()
    const assignment: Record<string, Record<string, number[]>> = {}
    for (const memberId of sorted) assignment[memberId] = {}
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const member = assignment[sorted[partitionId % sorted.length]!]!
        member[topic] = [...(member[topic] ?? []), partitionId]
      }
    }
    return sorted.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: assignment[memberId]!,
        userData: Buffer.alloc(0),
      }),
    }))
  },
  protocol({ topics }) {
    return {
      name: "ChorusCoPartitionedAssigner",
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    }
  },
})
