// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {LaneCheckpoint, Message, MESSAGE_VERSION} from "./Types.sol";
import {IncrementalTree} from "./Merkle.sol";

/// @notice The source side of Chorus: one incremental Merkle tree per destination chain (a lane). The event carries
/// the whole message, so watchers never need another read to rebuild the tree.
contract Outbox {
    using IncrementalTree for IncrementalTree.Tree;

    uint256 public constant MAX_BODY_SIZE = 32_768;
    /// @dev Above EIP-7825's 2^24 per-transaction cap a message could never be executed.
    uint64 public constant MAX_GAS_LIMIT = 15_000_000;

    mapping(uint64 dstChainId => IncrementalTree.Tree) private _lanes;

    event MessageSent(
        uint64 indexed dstChainId, uint32 indexed nonce, bytes32 indexed messageId, Message message
    );

    error BodyTooLarge(uint256 size, uint256 max);
    error InvalidDestination(uint64 dstChainId);
    error InvalidRecipient(address recipient);
    error InvalidGasLimit(uint64 gasLimit, uint64 max);

    /// @notice Appends a message to the lane `block.chainid -> dstChainId` and returns its id (the leaf).
    function send(uint64 dstChainId, address recipient, uint64 gasLimit, bytes calldata body)
        external
        returns (bytes32 messageId)
    {
        if (body.length > MAX_BODY_SIZE) revert BodyTooLarge(body.length, MAX_BODY_SIZE);
        if (dstChainId == 0) revert InvalidDestination(dstChainId);
        if (recipient == address(0)) revert InvalidRecipient(recipient);
        if (gasLimit == 0 || gasLimit > MAX_GAS_LIMIT) revert InvalidGasLimit(gasLimit, MAX_GAS_LIMIT);
        IncrementalTree.Tree storage lane = _lanes[dstChainId];
        Message memory message = Message({
            version: MESSAGE_VERSION,
            nonce: uint32(lane.count),
            srcChainId: uint64(block.chainid),
            sender: msg.sender,
            dstChainId: dstChainId,
            recipient: recipient,
            gasLimit: gasLimit,
            body: body
        });
        messageId = keccak256(abi.encode(message));
        // insert reverts with TreeFull before a nonce could wrap.
        lane.insert(messageId);
        emit MessageSent(dstChainId, message.nonce, messageId, message);
    }

    /// @notice The lane's current root (depth 32, zero hashes for empty leaves).
    function root(uint64 dstChainId) external view returns (bytes32) {
        return _lanes[dstChainId].root();
    }

    /// @notice Messages sent on the lane so far; the next message's nonce.
    function count(uint64 dstChainId) external view returns (uint32) {
        return uint32(_lanes[dstChainId].count);
    }

    /// @notice The lane's root and count at this block: what operators sign, under their epoch.
    function latestCheckpoint(uint64 dstChainId) external view returns (LaneCheckpoint memory) {
        IncrementalTree.Tree storage lane = _lanes[dstChainId];
        return LaneCheckpoint({
            srcChainId: uint64(block.chainid),
            outbox: address(this),
            dstChainId: dstChainId,
            root: lane.root(),
            count: uint32(lane.count)
        });
    }
}
