// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Checkpoint, LaneCheckpoint} from "./Types.sol";
import {ZeroHashes} from "./Merkle.sol";

/// @notice The lane state an Outbox answers for: its own chain, itself, the destination, root and count.
interface IOutboxLane {
    function latestCheckpoint(uint64 dstChainId) external view returns (LaneCheckpoint memory);
}

/// @notice Why a proof was not judged; the registry, which asks, reverts with them too.
interface ICheckpointFraudProofsErrors {
    error NotThisChain(uint64 srcChainId, uint256 chainId);
    error OutboxAnsweredForAnother(address outbox, uint64 srcChainId, address answeredOutbox, uint64 dstChainId);
    error EmptyCheckpoint();
    error NoSnapshot(address outbox, uint64 dstChainId, uint32 count);
    error SnapshotNotLater(uint32 snapshotCount, uint32 count);
    error InvalidLeafProof(bytes32 computed, bytes32 snapshotRoot);
}

/// @notice What a source chain says of its own Outboxes' lanes, so that a checkpoint an operator signed can be shown
/// false where the truth lives (as Hyperlane's `CheckpointFraudProofs`). Anyone snapshots a lane's (count, root) at
/// any time; a checkpoint is then fraudulent if
///   - its count is past the lane's count now (premature: no honest operator signs a count its chain never
///     finalized), or
///   - a snapshot holds its count with another root, or
///   - a snapshot at a later count, with the single-leaf proof of the lane's message at `count - 1`, gives
///     another root at its count: the proof's left siblings and that leaf are the whole tree of the first `count`
///     messages (every leaf right of them is empty), and the same proof against the snapshot shows they are the
///     lane's. A lane's tree only grows, so a count has one root for good.
/// The contract trusts nothing a caller says: every root it compares with is one the Outbox answered here, in this
/// chain's own history (a reorg that changes a lane takes the snapshot that read it away too).
///
/// An Outbox that is not Chorus's can answer anything for itself; that frames no honest operator, who signs only the
/// Outboxes its network configured.
contract CheckpointFraudProofs is ICheckpointFraudProofsErrors {
    /// @dev outbox => destination => count => the lane's root at that count (0: not snapshot).
    mapping(address outbox => mapping(uint64 dstChainId => mapping(uint32 count => bytes32 root))) private
        _snapshots;

    event LaneSnapshot(address indexed outbox, uint64 indexed dstChainId, uint32 count, bytes32 root);

    /// @notice What a proof showed of a checkpoint.
    enum Verdict {
        /// The chain agrees with the checkpoint.
        Consistent,
        /// Its count is past the lane's count now.
        Premature,
        /// Its root is not the lane's root at its count (`root` below).
        RootMismatch
    }

    /// @notice Records the lane's count and root now, for later proofs; returns them.
    function snapshot(address outbox, uint64 dstChainId) external returns (uint32 count, bytes32 root) {
        LaneCheckpoint memory lane = _laneOf(outbox, dstChainId);
        (count, root) = (lane.count, lane.root);
        _snapshots[outbox][dstChainId][count] = root;
        emit LaneSnapshot(outbox, dstChainId, count, root);
    }

    /// @notice The root snapshot for the lane at `count`, or 0.
    function snapshotAt(address outbox, uint64 dstChainId, uint32 count) external view returns (bytes32) {
        return _snapshots[outbox][dstChainId][count];
    }

    /// @notice Judges `checkpoint` against this chain: premature, or its root against the lane's root at its count,
    /// taken from the snapshot at `snapshotCount` (its count itself, or a later one with `leaf`, the lane's message
    /// id at `checkpoint.count - 1`, and `siblings`, that leaf's proof against the snapshot, as `RangeProof` takes
    /// it). The epoch the checkpoint names plays no part: a root is a root whatever set signed it.
    /// @return verdict What the proof showed. @return root The lane's root at the checkpoint's count (0 if premature).
    function judge(
        Checkpoint calldata checkpoint,
        uint32 snapshotCount,
        bytes32 leaf,
        bytes32[] calldata siblings
    ) external view returns (Verdict verdict, bytes32 root) {
        uint32 count = checkpoint.count;
        if (count == 0) revert EmptyCheckpoint();
        if (checkpoint.srcChainId != block.chainid) revert NotThisChain(checkpoint.srcChainId, block.chainid);
        LaneCheckpoint memory lane = _laneOf(checkpoint.outbox, checkpoint.dstChainId);
        if (count > lane.count) return (Verdict.Premature, bytes32(0));
        bytes32 snapshotRoot = _snapshots[checkpoint.outbox][checkpoint.dstChainId][snapshotCount];
        // The lane now is a snapshot too, one nobody had to write.
        if (snapshotCount == lane.count) snapshotRoot = lane.root;
        if (snapshotRoot == bytes32(0)) revert NoSnapshot(checkpoint.outbox, checkpoint.dstChainId, snapshotCount);
        if (snapshotCount == count) {
            root = snapshotRoot;
        } else {
            if (snapshotCount < count) revert SnapshotNotLater(snapshotCount, count);
            bytes32 computed;
            (computed, root) = _roots(leaf, count - 1, snapshotCount, siblings);
            if (computed != snapshotRoot) revert InvalidLeafProof(computed, snapshotRoot);
        }
        verdict = root == checkpoint.root ? Verdict.Consistent : Verdict.RootMismatch;
    }

    function _laneOf(address outbox, uint64 dstChainId) private view returns (LaneCheckpoint memory lane) {
        lane = IOutboxLane(outbox).latestCheckpoint(dstChainId);
        if (lane.outbox != outbox || lane.srcChainId != block.chainid || lane.dstChainId != dstChainId) {
            revert OutboxAnsweredForAnother(outbox, lane.srcChainId, lane.outbox, lane.dstChainId);
        }
    }

    /// @dev Walks the leaf at `index` up the depth-32 tree twice at once: `later` with `count` leaves (a right
    /// sibling comes from the proof while its subtree holds leaves, else it is empty), and `atIndex` with `index + 1`
    /// leaves (every right sibling is empty: nothing is right of the last leaf). Left siblings are the same in both.
    function _roots(bytes32 leaf, uint256 index, uint256 count, bytes32[] calldata siblings)
        private
        pure
        returns (bytes32 later, bytes32 atIndex)
    {
        uint256 z = ZeroHashes.load();
        uint256 used;
        later = leaf;
        atIndex = leaf;
        for (uint256 h; h < 32; ++h) {
            bytes32 empty;
            assembly ("memory-safe") {
                empty := mload(add(z, shl(5, h)))
            }
            if ((index >> h) & 1 == 1) {
                if (used == siblings.length) revert InvalidLeafProof(bytes32(0), bytes32(0));
                bytes32 left = siblings[used++];
                later = _hash(left, later);
                atIndex = _hash(left, atIndex);
            } else {
                bytes32 right = empty;
                if ((((index >> h) + 1) << h) < count) {
                    if (used == siblings.length) revert InvalidLeafProof(bytes32(0), bytes32(0));
                    right = siblings[used++];
                }
                later = _hash(later, right);
                atIndex = _hash(atIndex, empty);
            }
        }
        if (used != siblings.length) revert InvalidLeafProof(bytes32(0), bytes32(0));
    }

    function _hash(bytes32 left, bytes32 right) private pure returns (bytes32 node) {
        assembly ("memory-safe") {
            mstore(0x00, left)
            mstore(0x20, right)
            node := keccak256(0x00, 0x40)
        }
    }
}
