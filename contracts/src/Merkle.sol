// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MAX_LEAVES} from "./Types.sol";

/// @notice The lane's tree is full (2^32 - 1 leaves).
error TreeFull();
/// @notice A range `[start, end)` that is empty or reaches past the checkpoint's `count`.
error RangeOutOfBounds(uint256 start, uint256 end, uint256 count);
/// @notice The proof does not have exactly the number of siblings the range and count call for.
error InvalidProofLength(uint256 expected, uint256 actual);

/// @notice Zero-subtree hashes: `Z[0] = 0`, `Z[h + 1] = keccak256(Z[h] ++ Z[h])`.
library ZeroHashes {
    /// @dev Writes the 32 zero hashes to freshly allocated memory and returns its address. Constants instead of
    /// hashing on the fly: 32 mstores (~400 gas) against 32 keccaks (~1,500 gas).
    function load() internal pure returns (uint256 z) {
        assembly ("memory-safe") {
            z := mload(0x40)
            mstore(0x40, add(z, 0x400))
            mstore(z, 0)
            mstore(add(z, 0x020), 0xad3228b676f7d3cd4284a5443f17f1962b36e491b30a40b2405849e597ba5fb5)
            mstore(add(z, 0x040), 0xb4c11951957c6f8f642c4af61cd6b24640fec6dc7fc607ee8206a99e92410d30)
            mstore(add(z, 0x060), 0x21ddb9a356815c3fac1026b6dec5df3124afbadb485c9ba5a3e3398a04b7ba85)
            mstore(add(z, 0x080), 0xe58769b32a1beaf1ea27375a44095a0d1fb664ce2dd358e7fcbfb78c26a19344)
            mstore(add(z, 0x0a0), 0x0eb01ebfc9ed27500cd4dfc979272d1f0913cc9f66540d7e8005811109e1cf2d)
            mstore(add(z, 0x0c0), 0x887c22bd8750d34016ac3c66b5ff102dacdd73f6b014e710b51e8022af9a1968)
            mstore(add(z, 0x0e0), 0xffd70157e48063fc33c97a050f7f640233bf646cc98d9524c6b92bcf3ab56f83)
            mstore(add(z, 0x100), 0x9867cc5f7f196b93bae1e27e6320742445d290f2263827498b54fec539f756af)
            mstore(add(z, 0x120), 0xcefad4e508c098b9a7e1d8feb19955fb02ba9675585078710969d3440f5054e0)
            mstore(add(z, 0x140), 0xf9dc3e7fe016e050eff260334f18a5d4fe391d82092319f5964f2e2eb7c1c3a5)
            mstore(add(z, 0x160), 0xf8b13a49e282f609c317a833fb8d976d11517c571d1221a265d25af778ecf892)
            mstore(add(z, 0x180), 0x3490c6ceeb450aecdc82e28293031d10c7d73bf85e57bf041a97360aa2c5d99c)
            mstore(add(z, 0x1a0), 0xc1df82d9c4b87413eae2ef048f94b4d3554cea73d92b0f7af96e0271c691e2bb)
            mstore(add(z, 0x1c0), 0x5c67add7c6caf302256adedf7ab114da0acfe870d449a3a489f781d659e8becc)
            mstore(add(z, 0x1e0), 0xda7bce9f4e8618b6bd2f4132ce798cdc7a60e7e1460a7299e3c6342a579626d2)
            mstore(add(z, 0x200), 0x2733e50f526ec2fa19a22b31e8ed50f23cd1fdf94c9154ed3a7609a2f1ff981f)
            mstore(add(z, 0x220), 0xe1d3b5c807b281e4683cc6d6315cf95b9ade8641defcb32372f1c126e398ef7a)
            mstore(add(z, 0x240), 0x5a2dce0a8a7f68bb74560f8f71837c2c2ebbcbf7fffb42ae1896f13f7c7479a0)
            mstore(add(z, 0x260), 0xb46a28b6f55540f89444f63de0378e3d121be09e06cc9ded1c20e65876d36aa0)
            mstore(add(z, 0x280), 0xc65e9645644786b620e2dd2ad648ddfcbf4a7e5b1a3a4ecfe7f64667a3f0b7e2)
            mstore(add(z, 0x2a0), 0xf4418588ed35a2458cffeb39b93d26f18d2ab13bdce6aee58e7b99359ec2dfd9)
            mstore(add(z, 0x2c0), 0x5a9c16dc00d6ef18b7933a6f8dc65ccb55667138776f7dea101070dc8796e377)
            mstore(add(z, 0x2e0), 0x4df84f40ae0c8229d0d6069e5c8f39a7c299677a09d367fc7b05e3bc380ee652)
            mstore(add(z, 0x300), 0xcdc72595f74c7b1043d0e1ffbab734648c838dfb0527d971b602bc216c9619ef)
            mstore(add(z, 0x320), 0x0abf5ac974a1ed57f4050aa510dd9c74f508277b39d7973bb2dfccc5eeb0618d)
            mstore(add(z, 0x340), 0xb8cd74046ff337f0a7bf2c8e03e10f642c1886798d71806ab1e888d9e5ee87d0)
            mstore(add(z, 0x360), 0x838c5655cb21c6cb83313b5a631175dff4963772cce9108188b34ac87c81c41e)
            mstore(add(z, 0x380), 0x662ee4dd2dd7b2bc707961b1e646c4047669dcb6584f0d8d770daf5d7e7deb2e)
            mstore(add(z, 0x3a0), 0x388ab20e2573d171a88108e79d820e98f26c0b84aa8b2f4aa4968dbb818ea322)
            mstore(add(z, 0x3c0), 0x93237c50ba75ee485f4c22adf2f741400bdf8d6a9cc7df7ecae576221665d735)
            mstore(add(z, 0x3e0), 0x8448818bb4ae4562849e949e17ac16e0be16688e156b5cf15e098c627c0056a9)
        }
    }
}

/// @notice Incremental Merkle tree of depth 32 with keccak256, the Ethereum deposit contract's construction:
/// O(depth) storage, O(1) amortised writes per insert. The root has no length mixed in; checkpoints carry the count.
library IncrementalTree {
    struct Tree {
        bytes32[32] branch;
        uint256 count;
    }

    /// @dev Returns the leaf's index, which is the message nonce.
    function insert(Tree storage tree, bytes32 leaf) internal returns (uint256 index) {
        index = tree.count;
        if (index >= MAX_LEAVES) revert TreeFull();
        uint256 size = index + 1;
        tree.count = size;
        bytes32 node = leaf;
        // The loop always returns: size < 2^32, so some bit below 32 is set.
        for (uint256 h; h < 32; ++h) {
            if (size & 1 == 1) {
                tree.branch[h] = node;
                return index;
            }
            bytes32 left = tree.branch[h];
            assembly ("memory-safe") {
                mstore(0x00, left)
                mstore(0x20, node)
                node := keccak256(0x00, 0x40)
            }
            size >>= 1;
        }
    }

    function root(Tree storage tree) internal view returns (bytes32 node) {
        uint256 size = tree.count;
        uint256 z = ZeroHashes.load();
        for (uint256 h; h < 32; ++h) {
            bytes32 left;
            bytes32 right;
            if (size & 1 == 1) {
                left = tree.branch[h];
                right = node;
            } else {
                left = node;
                assembly ("memory-safe") {
                    right := mload(add(z, shl(5, h)))
                }
            }
            assembly ("memory-safe") {
                mstore(0x00, left)
                mstore(0x20, right)
                node := keccak256(0x00, 0x40)
            }
            size >>= 1;
        }
    }
}

/// @notice Range proofs: a run of consecutive leaves `[start, start + n)` proven against the root of a tree that
/// holds `count` leaves, with only the siblings along the run's two edges.
/// @dev Proof format, level by level from the leaves up (h = 0..31), with `lo`/`hi` the run's first/last node index
/// at level h: if `lo` is odd, the left sibling `lo - 1`; then, if `hi` is even and subtree `hi + 1` holds at least
/// one leaf (`(hi + 1) << h < count`), the right sibling `hi + 1`. Empty right subtrees are the known zero hashes and
/// are never sent, so a range that ends at `count` has no right siblings at all, and the left siblings are exactly
/// the tree's branch at `start`. A single-message proof is a range of one.
library RangeProof {
    /// @notice Hashes the run up to the root, consuming `proof`. `nodes` points to `n` words of memory holding the
    /// leaves; they are overwritten (the caller keeps a copy if it needs them).
    function computeRoot(uint256 nodes, uint256 n, uint256 start, uint256 count, bytes32[] calldata proof)
        internal
        pure
        returns (bytes32 root)
    {
        uint256 end = start + n;
        if (n == 0 || end > count || count > MAX_LEAVES) revert RangeOutOfBounds(start, end, count);
        uint256 z = ZeroHashes.load();
        uint256 used;
        assembly ("memory-safe") {
            let p := proof.offset
            let pEnd := add(p, shl(5, proof.length))
            let lo := start
            let hi := sub(end, 1)
            for { let h := 0 } lt(h, 32) { h := add(h, 1) } {
                // i: read position (node `idx`), k: write position; k <= i, so the level is rebuilt in place.
                let i := 0
                let k := 0
                let idx := lo
                if and(lo, 1) {
                    mstore(0x00, calldataload(p))
                    p := add(p, 0x20)
                    mstore(0x20, mload(nodes))
                    mstore(nodes, keccak256(0x00, 0x40))
                    i := 1
                    k := 1
                    idx := add(lo, 1)
                }
                for {} lt(idx, hi) {} {
                    let a := add(nodes, shl(5, i))
                    mstore(0x00, mload(a))
                    mstore(0x20, mload(add(a, 0x20)))
                    mstore(add(nodes, shl(5, k)), keccak256(0x00, 0x40))
                    i := add(i, 2)
                    k := add(k, 1)
                    idx := add(idx, 2)
                }
                if eq(idx, hi) {
                    mstore(0x00, mload(add(nodes, shl(5, i))))
                    let sibling := mload(add(z, shl(5, h)))
                    if lt(shl(h, add(hi, 1)), count) {
                        sibling := calldataload(p)
                        p := add(p, 0x20)
                    }
                    mstore(0x20, sibling)
                    mstore(add(nodes, shl(5, k)), keccak256(0x00, 0x40))
                }
                lo := shr(1, lo)
                hi := shr(1, hi)
            }
            root := mload(nodes)
            used := shr(5, sub(p, proof.offset))
        }
        if (used != proof.length) revert InvalidProofLength(used, proof.length);
    }
}
