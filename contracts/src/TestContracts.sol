// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IncrementalTree, RangeProof, ZeroHashes} from "./Merkle.sol";

// Contracts used only by tests and the gas benchmark. They are compiled with the rest so that tests exercise the
// very libraries the Outbox and Inbox use.

/// @notice Exposes the Merkle libraries for cross-checking against the TypeScript implementation.
contract MerkleHarness {
    using IncrementalTree for IncrementalTree.Tree;

    IncrementalTree.Tree private _tree;

    /// @notice Inserts `leaves` into a fresh storage tree and returns its root. Call it with eth_call.
    function rootOf(bytes32[] calldata leaves) external returns (bytes32) {
        delete _tree;
        for (uint256 i; i < leaves.length; ++i) {
            _tree.insert(leaves[i]);
        }
        return _tree.root();
    }

    function computeRangeRoot(uint256 start, uint256 count, bytes32[] calldata leaves, bytes32[] calldata proof)
        external
        pure
        returns (bytes32)
    {
        uint256 nodes;
        uint256 n = leaves.length;
        assembly ("memory-safe") {
            nodes := mload(0x40)
            mstore(0x40, add(nodes, shl(5, n)))
            calldatacopy(nodes, leaves.offset, shl(5, n))
        }
        return RangeProof.computeRoot(nodes, n, start, count, proof);
    }

    function zeroHashes() external pure returns (bytes32[32] memory z) {
        uint256 p = ZeroHashes.load();
        assembly ("memory-safe") {
            mcopy(z, p, 0x400)
        }
    }
}

/// @notice Does nothing, as cheaply as possible: the gas benchmark's recipient.
contract NoopRecipient {
    fallback() external {}
}

/// @notice Burns all the gas it is given (then runs out), as a hostile recipient would: the message fails, and a
/// batch pays its whole gas limit.
contract GasBurnerRecipient {
    function handle(uint64, address, bytes calldata) external pure {
        while (true) {}
    }
}

/// @notice Always reverts with a custom error carrying the body.
contract RevertingRecipient {
    error Nope(bytes body);

    function handle(uint64, address, bytes calldata body) external pure {
        revert Nope(body);
    }
}

/// @notice Reverts with `size` bytes of revert data, to check the Inbox copies at most a bounded amount.
contract ReturnBombRecipient {
    uint256 public immutable size;

    constructor(uint256 size_) {
        size = size_;
    }

    function handle(uint64, address, bytes calldata) external view {
        uint256 s = size;
        assembly ("memory-safe") {
            revert(0, s)
        }
    }
}

/// @notice On handle, calls back into its target with preset calldata and bubbles the outcome, to check the
/// Inbox's reentrancy guard.
contract ReentrantRecipient {
    address public target;
    bytes public payload;

    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
    }

    function handle(uint64, address, bytes calldata) external {
        (bool ok, bytes memory ret) = target.call(payload);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}

/// @notice Records the gas it was given, and can be switched to fail, to test gas forwarding and retries.
contract ProbeRecipient {
    uint256 public lastGas;
    uint256 public calls;
    bool public failing;

    error Failing();

    function setFailing(bool failing_) external {
        failing = failing_;
    }

    function handle(uint64, address, bytes calldata) external {
        lastGas = gasleft();
        if (failing) revert Failing();
        ++calls;
    }
}

interface IDeliveryBitmaps {
    function deliveryBitmaps(uint64 srcChainId, address outbox, uint256 word)
        external
        view
        returns (uint256 attempted, uint256 failed);
}

/// @notice On handle, records the Inbox's attempted bitmap of a preset word, to check that a batch's bits are all
/// set before its first external call.
contract BitmapProbeRecipient {
    address public inbox;
    uint64 public srcChainId;
    address public outbox;
    uint256 public word;
    uint256 public seen;

    function arm(address inbox_, uint64 srcChainId_, address outbox_, uint256 word_) external {
        inbox = inbox_;
        srcChainId = srcChainId_;
        outbox = outbox_;
        word = word_;
    }

    function handle(uint64, address, bytes calldata) external {
        (seen,) = IDeliveryBitmaps(inbox).deliveryBitmaps(srcChainId, outbox, word);
    }
}
