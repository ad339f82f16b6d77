// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice A cross-chain message. Its id is `keccak256(abi.encode(message))`, which is also its Merkle leaf.
/// @dev `nonce` is the leaf index in the lane's tree, so it never exceeds 2^32 - 2 (the tree holds 2^32 - 1 leaves).
struct Message {
    uint8 version;
    uint32 nonce;
    uint64 srcChainId;
    address sender;
    uint64 dstChainId;
    address recipient;
    uint64 gasLimit;
    bytes body;
}

/// @notice A lane checkpoint signed by the operators with EIP-712. It names its lane (source chain, outbox,
/// destination chain) so that a signature cannot be replayed on another lane or destination, and the epoch of the
/// operator set it was signed under, so that a signature outlives its signer's membership by no more than the
/// destination's grace window.
struct Checkpoint {
    uint64 srcChainId;
    address outbox;
    uint64 dstChainId;
    bytes32 root;
    uint32 count;
    uint64 epoch;
}

/// @notice A lane's state as its Outbox holds it: a checkpoint before operators sign it under an epoch.
struct LaneCheckpoint {
    uint64 srcChainId;
    address outbox;
    uint64 dstChainId;
    bytes32 root;
    uint32 count;
}

/// @dev Wire version of `Message`; bumped only if the leaf encoding changes.
uint8 constant MESSAGE_VERSION = 1;

/// @dev Tree depth, fixed by the protocol (same as the Ethereum deposit contract).
uint256 constant TREE_DEPTH = 32;

/// @dev The deposit-contract construction keeps one leaf slot free: at most 2^32 - 1 leaves.
uint256 constant MAX_LEAVES = 4294967295;

/// @notice Interface a message recipient implements. The Inbox calls it with the message's own gas limit.
interface IMessageRecipient {
    function handle(uint64 srcChainId, address sender, bytes calldata body) external;
}
