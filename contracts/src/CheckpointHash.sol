// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Checkpoint} from "./Types.sol";

/// @notice EIP-712 hashing of checkpoints. The domain is the operator network: (name, version, the registry's
/// chain id, the registry's address), so signatures are bound to one network and cannot be replayed on another.
library CheckpointHash {
    string internal constant NAME = "Chorus";
    string internal constant VERSION = "1";

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant CHECKPOINT_TYPEHASH =
        keccak256(
            "Checkpoint(uint64 srcChainId,address outbox,uint64 dstChainId,bytes32 root,uint32 count,uint64 epoch)"
        );

    bytes32 internal constant OPERATOR_SET_UPDATE_TYPEHASH =
        keccak256("OperatorSetUpdate(uint64 epoch,address[] operators,uint96[] weights,uint16 thresholdBps)");

    function domainSeparator(uint256 registryChainId, address registry) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256(bytes(NAME)), keccak256(bytes(VERSION)), registryChainId, registry)
        );
    }

    /// @dev Hashes from calldata without copying the struct to memory.
    function digest(bytes32 separator, Checkpoint calldata cp) internal pure returns (bytes32 d) {
        bytes32 typehash = CHECKPOINT_TYPEHASH;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typehash)
            calldatacopy(add(m, 0x20), cp, 0xc0)
            let structHash := keccak256(m, 0xe0)
            mstore(0x00, 0x1901)
            mstore(0x20, separator)
            mstore(0x40, structHash)
            d := keccak256(0x1e, 0x42)
            // Restore the free memory pointer clobbered above.
            mstore(0x40, m)
        }
    }

    /// @dev The digest of an operator-set update: the hub registry's whole set at `epoch`. EIP-712 hashes an array
    /// as the keccak of its elements, each padded to 32 bytes, which is what `abi.encodePacked` does for arrays.
    function operatorSetUpdateDigest(
        bytes32 separator,
        uint64 epoch,
        address[] calldata operators,
        uint96[] calldata weights,
        uint16 thresholdBps
    ) internal pure returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                OPERATOR_SET_UPDATE_TYPEHASH,
                epoch,
                keccak256(abi.encodePacked(operators)),
                keccak256(abi.encodePacked(weights)),
                thresholdBps
            )
        );
        return keccak256(abi.encodePacked(hex"1901", separator, structHash));
    }
}
