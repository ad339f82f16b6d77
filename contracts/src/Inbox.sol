// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Checkpoint, IMessageRecipient, Message, MESSAGE_VERSION} from "./Types.sol";
import {CheckpointHash} from "./CheckpointHash.sol";
import {RangeProof} from "./Merkle.sol";
import {IOperatorSetErrors} from "./OperatorRegistry.sol";
import {Owned2Step} from "./Owned2Step.sol";

/// @notice The destination side of Chorus. `commit` accepts a lane checkpoint signed by a stake-weighted quorum of
/// the operator set; `deliver` executes a consecutive range of that lane's messages against the committed root with
/// one shared range proof, so quorum and proof are paid once per batch rather than once per message.
///
/// Packed message layout for `deliver` (`messages` is the concatenation, in nonce order):
///   version (1 byte) | sender (20) | recipient (20) | gasLimit (8) | bodyLength (4) | body (bodyLength)
/// The nonce, source and destination chain ids are implied by the range and the lane, so they are not sent.
contract Inbox is Owned2Step, IOperatorSetErrors {
    enum MessageStatus {
        None,
        Delivered,
        Failed
    }

    uint256 public constant MAX_OPERATORS = 512;
    /// @notice At most this many bytes of a failing recipient's revert data are copied (returndata-bomb guard).
    uint256 public constant MAX_REASON_SIZE = 256;
    /// @dev Gas kept aside for the CALL itself (cold account access, stack work) when checking that the
    /// recipient can get its full gas limit after EIP-150 withholds 1/64.
    uint256 internal constant CALL_RESERVE = 5_000;
    uint256 internal constant MESSAGE_HEADER_SIZE = 53;
    uint16 internal constant BPS = 10_000;
    /// @dev secp256k1n / 2: signatures with a higher s are the malleable twin and are refused.
    uint256 internal constant HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    uint256 internal constant SOURCE_PAUSED = 1 << 160;
    /// A revoked root's entry in `_roots`: no count can reach it (counts are uint32), and a nonzero entry makes
    /// `commit` and `commitAndDeliver` look before they verify any signature, so replaying a revoked root's
    /// signatures costs one storage read and commits nothing.
    uint256 internal constant REVOKED = type(uint256).max;

    /// @notice EIP-712 domain of the operator network, fixed at deployment.
    bytes32 public immutable domainSeparator;
    uint256 public immutable registryChainId;
    address public immutable registry;

    /// @notice How long, in seconds, after an update the Inbox still accepts a checkpoint signed under the epoch it
    /// left (0: not at all), fixed at deployment. Checkpoints attested just before a rotation and already on their
    /// way to the chain then still commit; the collector has them re-signed under the new epoch meanwhile. A longer
    /// window is also longer for a removed or ejected operator's signatures (docs/security.md, "Epochs").
    uint32 public immutable epochGraceSeconds;

    // One slot: read once per commit/deliver.
    address private _operatorData;
    uint64 private _epoch;
    bool private _paused;
    // One slot: the set the Inbox trusted before its last update, and when it left it; read only for a checkpoint
    // signed under that epoch.
    address private _previousOperatorData;
    uint64 private _previousEpoch;
    uint32 private _rotatedAt;

    /// @dev srcChainId => outbox address | SOURCE_PAUSED flag.
    mapping(uint64 srcChainId => uint256) private _sources;
    /// @dev lane => root => count. lane = srcChainId << 160 | outbox, so re-registering an outbox starts fresh.
    mapping(uint256 lane => mapping(bytes32 root => uint256 count)) private _roots;
    /// @dev lane => nonce / 256 => bitmap of attempted nonces (delivered or failed).
    mapping(uint256 lane => mapping(uint256 word => uint256 bits)) private _attempted;
    /// @dev lane => nonce / 256 => bitmap of failed nonces, cleared by a successful retry.
    mapping(uint256 lane => mapping(uint256 word => uint256 bits)) private _failed;

    bool private transient _entered;

    event CheckpointCommitted(
        uint64 indexed srcChainId, address indexed outbox, bytes32 indexed root, uint32 count, uint64 epoch
    );
    event MessageDelivered(bytes32 indexed messageId);
    event MessageFailed(bytes32 indexed messageId, bytes reason);
    event MessageRetried(bytes32 indexed messageId, address indexed caller);
    event OperatorSetUpdated(uint64 indexed epoch, address[] operators, uint96[] weights, uint16 thresholdBps);
    event SourceSet(uint64 indexed srcChainId, address outbox);
    event SourcePausedSet(uint64 indexed srcChainId, bool paused);
    event PausedSet(bool paused);
    event RootRevoked(uint64 indexed srcChainId, address indexed outbox, bytes32 indexed root);

    error WrongDestination(uint64 dstChainId, uint256 chainId);
    error UnregisteredSource(uint64 srcChainId, address outbox);
    error SourcePaused(uint64 srcChainId);
    error InboxPaused();
    error EmptyCheckpoint();
    error OperatorSetNotConfigured();
    error InvalidSignaturesLength(uint256 length);
    error InvalidSignature(uint256 index);
    error SignatureMalleable(uint256 index);
    error SignersNotAscending(uint256 index, address signer, address previous);
    error DuplicateSigner(uint256 index, address signer);
    error UnknownSigner(uint256 index, address signer);
    error InsufficientStake(uint256 signed, uint256 required);
    error UnknownRoot(bytes32 root);
    error RootNotCommitted(uint64 srcChainId, address outbox, bytes32 root);
    error RevokedRoot(bytes32 root);
    error InvalidProof(bytes32 computed, bytes32 root);
    error MalformedBatch(uint256 offset);
    error UnsupportedVersion(uint32 nonce, uint8 version);
    error InsufficientGas(uint32 nonce, uint64 gasLimit, uint256 available);
    error Reentrancy();
    error RecipientNotContract(address recipient);
    error MessageNotFailed(bytes32 messageId);
    error AlreadyDelivered(bytes32 messageId);
    error RetryFailed(bytes32 messageId, bytes reason);
    error StaleEpoch(uint64 epoch, uint64 current);
    error OperatorSetAlreadyBootstrapped(uint64 epoch);
    error OperatorSetDeployFailed();
    /// A checkpoint signed under an epoch the Inbox left, past its grace window: its signers must sign again.
    error EpochLeft(uint64 epoch, uint64 current);
    /// A checkpoint signed under an epoch the Inbox has not reached: its update must land first.
    error EpochNotReached(uint64 epoch, uint64 current);

    modifier nonReentrant() {
        if (_entered) revert Reentrancy();
        _entered = true;
        _;
        _entered = false;
    }

    /// @param registryChainId_ Chain id of the hub chain holding the OperatorRegistry.
    /// @param registry_ The OperatorRegistry's address: with the chain id, it fixes the EIP-712 domain.
    /// @param epochGraceSeconds_ See `epochGraceSeconds`.
    constructor(address initialOwner, uint256 registryChainId_, address registry_, uint32 epochGraceSeconds_)
        Owned2Step(initialOwner)
    {
        registryChainId = registryChainId_;
        registry = registry_;
        epochGraceSeconds = epochGraceSeconds_;
        domainSeparator = CheckpointHash.domainSeparator(registryChainId_, registry_);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Commit

    /// @notice Stores `checkpoint.root` for its lane once signers holding the threshold stake of the set at
    /// `checkpoint.epoch` have signed it: the set the Inbox trusts, or the one it left, within `epochGraceSeconds`.
    /// @param signatures Concatenated 65-byte (r, s, v) signatures, signers strictly ascending by address.
    /// @return committed False if the root was already committed (a cheap no-op, so resubmission is safe).
    function commit(Checkpoint calldata checkpoint, bytes calldata signatures)
        external
        nonReentrant
        returns (bool committed)
    {
        uint256 lane = _checkLane(checkpoint.srcChainId, checkpoint.outbox, checkpoint.dstChainId);
        uint32 count = checkpoint.count;
        if (count == 0) revert EmptyCheckpoint();
        bytes32 root = checkpoint.root;
        uint256 stored = _roots[lane][root];
        if (stored == REVOKED) revert RevokedRoot(root);
        if (stored != 0) return false;
        _verifyQuorum(_setOf(checkpoint.epoch), CheckpointHash.digest(domainSeparator, checkpoint), signatures);
        _roots[lane][root] = count;
        emit CheckpointCommitted(checkpoint.srcChainId, checkpoint.outbox, root, count, checkpoint.epoch);
        return true;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Deliver

    /// @notice Executes messages `[start, start + n)` of the lane against a committed root. Already attempted
    /// messages are skipped; a reverting recipient marks its message failed without reverting the batch.
    /// @param messages Packed messages (see the contract's doc), in nonce order.
    /// @param proof Range proof (see RangeProof) against `root` with the count it was committed with.
    function deliver(
        uint64 srcChainId,
        address outbox,
        uint64 dstChainId,
        bytes32 root,
        uint32 start,
        bytes calldata messages,
        bytes32[] calldata proof
    ) external nonReentrant {
        uint256 lane = _checkLane(srcChainId, outbox, dstChainId);
        uint256 count = _roots[lane][root];
        if (count == 0 || count == REVOKED) revert UnknownRoot(root);
        _deliver(lane, srcChainId, root, count, start, messages, proof);
    }

    /// @notice The urgent path: verifies the checkpoint's quorum and delivers from it in one transaction. The root
    /// is stored (as by `commit`) only when it is needed later: if the range stops short of `checkpoint.count`, or if
    /// a message failed and may be retried. Otherwise storing it would only cost 20,000 gas, since any later
    /// checkpoint of the lane covers every earlier message. An already committed root skips the quorum check.
    function commitAndDeliver(
        Checkpoint calldata checkpoint,
        bytes calldata signatures,
        uint32 start,
        bytes calldata messages,
        bytes32[] calldata proof
    ) external nonReentrant {
        uint64 srcChainId = checkpoint.srcChainId;
        uint256 lane = _checkLane(srcChainId, checkpoint.outbox, checkpoint.dstChainId);
        bytes32 root = checkpoint.root;
        uint256 count = _roots[lane][root];
        if (count == REVOKED) revert RevokedRoot(root);
        bool stored = count != 0;
        if (!stored) {
            count = checkpoint.count;
            if (count == 0) revert EmptyCheckpoint();
            _verifyQuorum(_setOf(checkpoint.epoch), CheckpointHash.digest(domainSeparator, checkpoint), signatures);
        }
        (uint256 delivered, uint256 failures) = _deliver(lane, srcChainId, root, count, start, messages, proof);
        if (!stored && (failures != 0 || start + delivered < count)) {
            _roots[lane][root] = count;
            emit CheckpointCommitted(srcChainId, checkpoint.outbox, root, uint32(count), checkpoint.epoch);
        }
    }

    /// @notice Runs a failed message again, with a single-message proof against any committed root of its lane.
    /// Anyone may call it. A message that was delivered is never run again; a retry that fails reverts.
    function retry(Message calldata message, bytes32 root, bytes32[] calldata proof) external nonReentrant {
        uint64 srcChainId = message.srcChainId;
        address outbox = address(uint160(_sources[srcChainId]));
        uint256 lane = _checkLane(srcChainId, outbox, message.dstChainId);
        uint256 count = _roots[lane][root];
        if (count == 0 || count == REVOKED) revert UnknownRoot(root);
        uint32 nonce = message.nonce;
        if (message.version != MESSAGE_VERSION) revert UnsupportedVersion(nonce, message.version);
        bytes32 messageId = keccak256(abi.encode(message));
        uint256 leaf;
        assembly ("memory-safe") {
            leaf := mload(0x40)
            mstore(0x40, add(leaf, 0x20))
            mstore(leaf, messageId)
        }
        bytes32 computed = RangeProof.computeRoot(leaf, 1, nonce, count, proof);
        if (computed != root) revert InvalidProof(computed, root);

        uint256 word = nonce >> 8;
        uint256 bit = 1 << (nonce & 255);
        uint256 failedBits = _failed[lane][word];
        if (failedBits & bit == 0) {
            if (_attempted[lane][word] & bit != 0) revert AlreadyDelivered(messageId);
            revert MessageNotFailed(messageId);
        }
        _failed[lane][word] = failedBits & ~bit;

        address recipient = message.recipient;
        if (recipient.code.length == 0) {
            revert RetryFailed(messageId, abi.encodeWithSelector(RecipientNotContract.selector, recipient));
        }
        uint64 gasLimit = message.gasLimit;
        bytes memory data =
            abi.encodeCall(IMessageRecipient.handle, (srcChainId, message.sender, message.body));
        // Checked after the calldata is in memory, so its expansion cost cannot eat into the recipient's gas.
        _requireGas(nonce, gasLimit);
        bool ok;
        bytes memory reason;
        assembly ("memory-safe") {
            ok := call(gasLimit, recipient, 0, add(data, 0x20), mload(data), 0, 0)
            if iszero(ok) {
                let size := returndatasize()
                if gt(size, MAX_REASON_SIZE) { size := MAX_REASON_SIZE }
                reason := mload(0x40)
                mstore(reason, size)
                returndatacopy(add(reason, 0x20), 0, size)
                mstore(0x40, add(reason, add(0x20, and(add(size, 31), not(31)))))
            }
        }
        if (!ok) revert RetryFailed(messageId, reason);
        emit MessageDelivered(messageId);
        emit MessageRetried(messageId, msg.sender);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Owner

    /// @notice Bootstrap: the owner gives the Inbox its first set, the hub registry's at `epoch`. Every later set
    /// comes only through `updateOperatorSet`, signed by a quorum of the set the Inbox trusts; an owner cannot
    /// move it (docs/security.md, "The operator set").
    function setOperatorSet(
        address[] calldata operators_,
        uint96[] calldata weights_,
        uint16 thresholdBps_,
        uint64 epoch_
    ) external onlyOwner {
        if (_epoch != 0) revert OperatorSetAlreadyBootstrapped(_epoch);
        if (epoch_ == 0) revert StaleEpoch(epoch_, _epoch);
        _storeOperatorSet(operators_, weights_, thresholdBps_, epoch_);
    }

    /// @notice Moves the Inbox to the hub registry's set at `epoch`, signed (EIP-712 `OperatorSetUpdate`, the
    /// network's domain) by a quorum of the set the Inbox trusts now. Anyone may send it. Epochs only go forward:
    /// one update catches up an Inbox several epochs behind, and an update at or below the current epoch reverts.
    /// @param signatures Concatenated 65-byte (r, s, v) signatures of the current set, signers strictly ascending.
    function updateOperatorSet(
        address[] calldata operators_,
        uint96[] calldata weights_,
        uint16 thresholdBps_,
        uint64 epoch_,
        bytes calldata signatures
    ) external nonReentrant {
        if (epoch_ <= _epoch) revert StaleEpoch(epoch_, _epoch);
        _verifyQuorum(
            _setOf(_epoch),
            CheckpointHash.operatorSetUpdateDigest(domainSeparator, epoch_, operators_, weights_, thresholdBps_),
            signatures
        );
        _storeOperatorSet(operators_, weights_, thresholdBps_, epoch_);
    }

    /// @dev Checks a set and writes it once as contract code (SSTORE2): `commit` then reads all of it for ~2,700
    /// gas instead of a cold SLOAD per signer.
    function _storeOperatorSet(
        address[] calldata operators_,
        uint96[] calldata weights_,
        uint16 thresholdBps_,
        uint64 epoch_
    ) private {
        uint256 n = operators_.length;
        if (n != weights_.length) revert LengthMismatch(n, weights_.length);
        if (n == 0) revert EmptyOperatorSet();
        if (n > MAX_OPERATORS) revert TooManyOperators(n, MAX_OPERATORS);
        if (thresholdBps_ == 0 || thresholdBps_ > BPS) revert InvalidThreshold(thresholdBps_);
        // Runtime code: 0x00 (STOP, so the data can never be executed) | header word | one word per operator.
        bytes memory code = new bytes(33 + 32 * n);
        uint256 total;
        address previous;
        for (uint256 i; i < n; ++i) {
            address operator = operators_[i];
            uint96 weight = weights_[i];
            if (operator == address(0)) revert ZeroOperator();
            if (operator <= previous) revert OperatorsNotAscending(i, operator, previous);
            if (weight == 0) revert ZeroWeight(operator);
            total += weight;
            uint256 entry = (uint256(uint160(operator)) << 96) | weight;
            assembly ("memory-safe") {
                mstore(add(code, add(0x41, shl(5, i))), entry)
            }
            previous = operator;
        }
        if (total > type(uint96).max) revert WeightOverflow(total);
        uint256 required = (total * thresholdBps_ + BPS - 1) / BPS;
        uint256 header = (required << 160) | (total << 64) | (uint256(thresholdBps_) << 32) | n;
        address data;
        assembly ("memory-safe") {
            mstore(add(code, 0x21), header)
            let size := mload(code)
            // Initcode: PUSH2 size, DUP1, PUSH1 10, PUSH0, CODECOPY, PUSH0, RETURN, then the runtime code.
            let init := mload(0x40)
            mstore(init, or(shl(248, 0x61), or(shl(232, size), shl(176, 0x80600a5f395ff3))))
            mcopy(add(init, 10), add(code, 0x20), size)
            data := create(0, init, add(size, 10))
        }
        if (data == address(0)) revert OperatorSetDeployFailed();
        _previousOperatorData = _operatorData;
        _previousEpoch = _epoch;
        _rotatedAt = uint32(block.timestamp);
        _operatorData = data;
        _epoch = epoch_;
        emit OperatorSetUpdated(epoch_, operators_, weights_, thresholdBps_);
    }

    /// @notice Registers the outbox allowed to speak for `srcChainId`; `address(0)` unregisters the source.
    function setSource(uint64 srcChainId, address outbox) external onlyOwner {
        _sources[srcChainId] = (_sources[srcChainId] & SOURCE_PAUSED) | uint160(outbox);
        emit SourceSet(srcChainId, outbox);
    }

    function setSourcePaused(uint64 srcChainId, bool paused_) external onlyOwner {
        uint256 s = _sources[srcChainId];
        _sources[srcChainId] = paused_ ? s | SOURCE_PAUSED : s & ~SOURCE_PAUSED;
        emit SourcePausedSet(srcChainId, paused_);
    }

    function setPaused(bool paused_) external onlyOwner {
        _paused = paused_;
        emit PausedSet(paused_);
    }

    /// @notice Withdraws a committed root of the lane `(srcChainId, outbox)` for good, e.g. one a compromised or
    /// faulty quorum signed: `deliver` and `retry` against it then fail with `UnknownRoot`, and `commit` and
    /// `commitAndDeliver` of it fail with `RevokedRoot`, whoever replays its signatures. Messages already run stay
    /// run; the lane goes on with any later checkpoint, which covers every message below its count.
    function revokeRoot(uint64 srcChainId, address outbox, bytes32 root) external onlyOwner {
        uint256 lane = _laneKey(srcChainId, outbox);
        uint256 stored = _roots[lane][root];
        if (stored == 0 || stored == REVOKED) revert RootNotCommitted(srcChainId, outbox, root);
        _roots[lane][root] = REVOKED;
        emit RootRevoked(srcChainId, outbox, root);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Views

    /// @notice The epoch of the operator set the Inbox trusts (0 before the bootstrap `setOperatorSet`).
    function epoch() external view returns (uint64) {
        return _epoch;
    }

    function paused() external view returns (bool) {
        return _paused;
    }

    function source(uint64 srcChainId) external view returns (address outbox, bool paused_) {
        uint256 s = _sources[srcChainId];
        return (address(uint160(s)), s & SOURCE_PAUSED != 0);
    }

    function operatorSet()
        external
        view
        returns (
            address[] memory operators_,
            uint96[] memory weights_,
            uint16 thresholdBps_,
            uint96 totalWeight_,
            uint96 requiredWeight_,
            uint64 epoch_
        )
    {
        (uint256 header, uint256 entries) = _loadOperators(_operatorData);
        uint256 n = header & 0xffffffff;
        operators_ = new address[](n);
        weights_ = new uint96[](n);
        for (uint256 i; i < n; ++i) {
            uint256 entry;
            assembly ("memory-safe") {
                entry := mload(add(entries, shl(5, i)))
            }
            operators_[i] = address(uint160(entry >> 96));
            weights_[i] = uint96(entry);
        }
        thresholdBps_ = uint16(header >> 32);
        totalWeight_ = uint96(header >> 64);
        requiredWeight_ = uint96(header >> 160);
        epoch_ = _epoch;
    }

    /// @notice The epoch the Inbox left at its last update (0: none), and until when a checkpoint signed under it
    /// still commits (0: no longer, or never).
    function previousEpoch() external view returns (uint64 epoch_, uint256 acceptedUntil) {
        epoch_ = _previousEpoch;
        if (epoch_ != 0 && epochGraceSeconds != 0) {
            uint256 until = uint256(_rotatedAt) + epochGraceSeconds;
            if (block.timestamp <= until) acceptedUntil = until;
        }
    }

    /// @notice The count a root was committed with for the lane, or 0 if it was not committed.
    function committedCount(uint64 srcChainId, address outbox, bytes32 root) external view returns (uint32) {
        uint256 stored = _roots[_laneKey(srcChainId, outbox)][root];
        return stored == REVOKED ? 0 : uint32(stored);
    }

    function messageStatus(uint64 srcChainId, address outbox, uint32 nonce) external view returns (MessageStatus) {
        uint256 lane = _laneKey(srcChainId, outbox);
        uint256 bit = 1 << (nonce & 255);
        if (_failed[lane][nonce >> 8] & bit != 0) return MessageStatus.Failed;
        if (_attempted[lane][nonce >> 8] & bit != 0) return MessageStatus.Delivered;
        return MessageStatus.None;
    }

    /// @notice Attempted (delivered or failed) and failed bitmaps for nonces `[256 * word, 256 * word + 256)`, so a
    /// submitter can check a whole batch in one call before sending it.
    function deliveryBitmaps(uint64 srcChainId, address outbox, uint256 word)
        external
        view
        returns (uint256 attempted, uint256 failed)
    {
        uint256 lane = _laneKey(srcChainId, outbox);
        return (_attempted[lane][word], _failed[lane][word]);
    }

    function checkpointDigest(Checkpoint calldata checkpoint) external view returns (bytes32) {
        return CheckpointHash.digest(domainSeparator, checkpoint);
    }

    /// @notice The digest operators sign to move Inboxes to the registry's set at `epoch_`.
    function operatorSetUpdateDigest(
        uint64 epoch_,
        address[] calldata operators_,
        uint96[] calldata weights_,
        uint16 thresholdBps_
    ) external view returns (bytes32) {
        return CheckpointHash.operatorSetUpdateDigest(domainSeparator, epoch_, operators_, weights_, thresholdBps_);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals

    function _laneKey(uint64 srcChainId, address outbox) private pure returns (uint256) {
        return (uint256(srcChainId) << 160) | uint160(outbox);
    }

    function _checkLane(uint64 srcChainId, address outbox, uint64 dstChainId) private view returns (uint256) {
        if (dstChainId != block.chainid) revert WrongDestination(dstChainId, block.chainid);
        if (_paused) revert InboxPaused();
        uint256 s = _sources[srcChainId];
        if (outbox == address(0) || address(uint160(s)) != outbox) revert UnregisteredSource(srcChainId, outbox);
        if (s & SOURCE_PAUSED != 0) revert SourcePaused(srcChainId);
        return _laneKey(srcChainId, outbox);
    }

    /// @dev The data contract of the set that signs under `epoch_`: the current one, or the one the Inbox left while
    /// its grace window lasts. A checkpoint's epoch is part of what was signed, so naming another epoch than its
    /// signers' gives a digest none of them signed.
    function _setOf(uint64 epoch_) private view returns (address) {
        uint64 current = _epoch;
        if (epoch_ == current) return _operatorData;
        if (epoch_ > current) revert EpochNotReached(epoch_, current);
        if (
            epoch_ != 0 && epoch_ == _previousEpoch && epochGraceSeconds != 0
                && block.timestamp <= uint256(_rotatedAt) + epochGraceSeconds
        ) return _previousOperatorData;
        revert EpochLeft(epoch_, current);
    }

    /// @dev Loads the operator set (header, then entries sorted by address) from its data contract into memory.
    function _loadOperators(address data) private view returns (uint256 header, uint256 entries) {
        if (data == address(0)) revert OperatorSetNotConfigured();
        assembly ("memory-safe") {
            entries := mload(0x40)
            extcodecopy(data, entries, 1, 0x20)
            header := mload(entries)
            let size := shl(5, and(header, 0xffffffff))
            extcodecopy(data, entries, 0x21, size)
            mstore(0x40, add(entries, size))
        }
    }

    /// @dev Signers are strictly ascending, so one merge walk over the (ascending) operator set finds every
    /// signer's weight, and duplicates are impossible.
    function _verifyQuorum(address set, bytes32 digest, bytes calldata signatures) private view {
        (uint256 header, uint256 entries) = _loadOperators(set);
        uint256 len = signatures.length;
        if (len % 65 != 0) revert InvalidSignaturesLength(len);
        uint256 err;
        uint256 errIndex;
        uint256 errSigner;
        uint256 errPrevious;
        uint256 signed;
        assembly ("memory-safe") {
            let n := and(header, 0xffffffff)
            let m := div(len, 65)
            let input := mload(0x40)
            mstore(input, digest)
            let prev := 0
            let j := 0
            for { let i := 0 } lt(i, m) { i := add(i, 1) } {
                let o := add(signatures.offset, mul(i, 65))
                let s := calldataload(add(o, 0x20))
                if gt(s, HALF_ORDER) {
                    err := 1
                    errIndex := i
                    break
                }
                mstore(add(input, 0x20), byte(0, calldataload(add(o, 0x40))))
                mstore(add(input, 0x40), calldataload(o))
                mstore(add(input, 0x60), s)
                mstore(0x00, 0)
                // The precompile returns nothing for an invalid signature, leaving the zeroed word: address(0).
                pop(staticcall(gas(), 1, input, 0x80, 0x00, 0x20))
                let signer := mload(0x00)
                if iszero(signer) {
                    err := 2
                    errIndex := i
                    break
                }
                if iszero(gt(signer, prev)) {
                    err := 3
                    if eq(signer, prev) { err := 4 }
                    errIndex := i
                    errSigner := signer
                    errPrevious := prev
                    break
                }
                for {} and(lt(j, n), lt(shr(96, mload(add(entries, shl(5, j)))), signer)) {} { j := add(j, 1) }
                let entry := mload(add(entries, shl(5, j)))
                if or(eq(j, n), iszero(eq(shr(96, entry), signer))) {
                    err := 5
                    errIndex := i
                    errSigner := signer
                    break
                }
                signed := add(signed, and(entry, 0xffffffffffffffffffffffff))
                j := add(j, 1)
                prev := signer
            }
        }
        if (err != 0) {
            if (err == 1) revert SignatureMalleable(errIndex);
            if (err == 2) revert InvalidSignature(errIndex);
            if (err == 3) revert SignersNotAscending(errIndex, address(uint160(errSigner)), address(uint160(errPrevious)));
            if (err == 4) revert DuplicateSigner(errIndex, address(uint160(errSigner)));
            revert UnknownSigner(errIndex, address(uint160(errSigner)));
        }
        uint256 required = header >> 160;
        if (signed < required) revert InsufficientStake(signed, required);
    }

    function _requireGas(uint32 nonce, uint64 gasLimit) private view {
        uint256 available = gasleft();
        if (available < CALL_RESERVE || (available - CALL_RESERVE) * 63 < uint256(gasLimit) * 64) {
            revert InsufficientGas(nonce, gasLimit, available);
        }
    }

    function _deliver(
        uint256 lane,
        uint64 srcChainId,
        bytes32 root,
        uint256 count,
        uint256 start,
        bytes calldata messages,
        bytes32[] calldata proof
    ) private returns (uint256 n, uint256 failures) {
        uint256 err;
        uint256 errA;
        uint256 errB;
        uint256 errC;
        uint256 leaves;
        uint256 work;
        // Pass 1: hash every message into its leaf, rebuilding abi.encode(Message) in one reused buffer whose
        // constant words (tuple offset, source, destination, body offset) are written once.
        assembly ("memory-safe") {
            let maxN := add(div(messages.length, MESSAGE_HEADER_SIZE), 1)
            leaves := mload(0x40)
            work := add(leaves, shl(5, maxN))
            let enc := add(work, shl(5, maxN))
            mstore(0x40, enc)
            mstore(enc, 0x20)
            mstore(add(enc, 0x60), srcChainId)
            mstore(add(enc, 0xa0), chainid())
            mstore(add(enc, 0x100), 0x100)
            let cur := messages.offset
            let end := add(cur, messages.length)
            for {} lt(cur, end) {} {
                let body := add(cur, MESSAGE_HEADER_SIZE)
                if gt(body, end) {
                    err := 1
                    errA := sub(cur, messages.offset)
                    break
                }
                let w := calldataload(cur)
                let version := byte(0, w)
                if iszero(eq(version, MESSAGE_VERSION)) {
                    err := 2
                    errA := add(start, n)
                    errB := version
                    break
                }
                let bodyLen := shr(224, calldataload(add(cur, 49)))
                let next := add(body, bodyLen)
                if gt(next, end) {
                    err := 1
                    errA := sub(cur, messages.offset)
                    break
                }
                mstore(add(enc, 0x20), version)
                mstore(add(enc, 0x40), add(start, n))
                mstore(add(enc, 0x80), shr(96, shl(8, w)))
                mstore(add(enc, 0xc0), shr(96, calldataload(add(cur, 21))))
                mstore(add(enc, 0xe0), shr(192, calldataload(add(cur, 41))))
                mstore(add(enc, 0x120), bodyLen)
                calldatacopy(add(enc, 0x140), body, bodyLen)
                mstore(add(add(enc, 0x140), bodyLen), 0)
                mstore(add(leaves, shl(5, n)), keccak256(enc, add(0x140, and(add(bodyLen, 31), not(31)))))
                n := add(n, 1)
                cur := next
            }
            mcopy(work, leaves, shl(5, n))
        }
        if (err == 1) revert MalformedBatch(errA);
        if (err == 2) revert UnsupportedVersion(uint32(errA), uint8(errB));
        bytes32 computed = RangeProof.computeRoot(work, n, start, count, proof);
        if (computed != root) revert InvalidProof(computed, root);

        // Pass 2: mark the whole batch attempted, one SSTORE per bitmap word, before any external call (keeping each
        // word's previous bits in memory); then pass 3 runs every message whose bit was not already set.
        bytes32 deliveredTopic = MessageDelivered.selector;
        bytes32 failedTopic = MessageFailed.selector;
        bytes4 handleSelector = IMessageRecipient.handle.selector;
        bytes4 notContractSelector = RecipientNotContract.selector;
        uint256 attemptedBase;
        uint256 failedBase;
        assembly ("memory-safe") {
            mstore(0x00, lane)
            mstore(0x20, _attempted.slot)
            attemptedBase := keccak256(0x00, 0x40)
            mstore(0x20, _failed.slot)
            failedBase := keccak256(0x00, 0x40)
        }
        assembly ("memory-safe") {
            // olds: word => its bits before this batch, at olds + 32 * word (memory from mload(0x40) on; the
            // subtraction wraps, which is fine since only words of the batch are addressed). n >= 1 here
            // (computeRoot refuses an empty range), so the batch touches words [start / 256, (start + n - 1) / 256].
            let olds := sub(mload(0x40), shl(5, shr(8, start)))
            let enc := 0
            {
                let last := sub(add(start, n), 1)
                let lastWord := shr(8, last)
                let lo := and(start, 255)
                for { let word := shr(8, start) } 1 { word := add(word, 1) } {
                    mstore(0x00, word)
                    mstore(0x20, attemptedBase)
                    let slot := keccak256(0x00, 0x40)
                    let old := sload(slot)
                    let hi := 256
                    if eq(word, lastWord) { hi := add(and(last, 255), 1) }
                    // shl(256, 1) is 0, so a full word's mask wraps to all ones as intended.
                    let updated := or(old, shl(lo, sub(shl(sub(hi, lo), 1), 1)))
                    if iszero(eq(updated, old)) { sstore(slot, updated) }
                    mstore(add(olds, shl(5, word)), old)
                    lo := 0
                    if eq(word, lastWord) {
                        enc := add(olds, shl(5, add(word, 1)))
                        break
                    }
                }
            }
            let cur := messages.offset
            mstore(add(enc, 0xa0), shr(224, handleSelector))
            mstore(add(enc, 0xc0), srcChainId)
            mstore(add(enc, 0x100), 0x60)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let nonce := add(start, i)
                let word := shr(8, nonce)
                let bitIndex := and(nonce, 255)
                let old := mload(add(olds, shl(5, word)))
                let m := cur
                let bodyLen := shr(224, calldataload(add(m, 49)))
                let body := add(m, MESSAGE_HEADER_SIZE)
                cur := add(body, bodyLen)
                if iszero(and(shr(bitIndex, old), 1)) {
                    let messageId := mload(add(leaves, shl(5, i)))
                    let recipient := shr(96, calldataload(add(m, 21)))
                    let failed := 0
                    let reasonSize := 0
                    switch extcodesize(recipient)
                    case 0 {
                        failed := 1
                        reasonSize := 0x24
                        mstore(add(enc, 0x40), notContractSelector)
                        mstore(add(enc, 0x44), recipient)
                    }
                    default {
                        let gasLimit := shr(192, calldataload(add(m, 41)))
                        mstore(add(enc, 0xe0), shr(96, calldataload(add(m, 1))))
                        mstore(add(enc, 0x120), bodyLen)
                        calldatacopy(add(enc, 0x140), body, bodyLen)
                        mstore(add(add(enc, 0x140), bodyLen), 0)
                        let available := gas()
                        if or(lt(available, CALL_RESERVE), lt(mul(sub(available, CALL_RESERVE), 63), mul(gasLimit, 64))) {
                            err := 3
                            errA := nonce
                            errB := gasLimit
                            errC := available
                            break
                        }
                        let argsSize := add(0x84, and(add(bodyLen, 31), not(31)))
                        if iszero(call(gasLimit, recipient, 0, add(enc, 0xbc), argsSize, 0, 0)) {
                            failed := 1
                            reasonSize := returndatasize()
                            if gt(reasonSize, MAX_REASON_SIZE) { reasonSize := MAX_REASON_SIZE }
                            returndatacopy(add(enc, 0x40), 0, reasonSize)
                        }
                    }
                    switch failed
                    case 0 { log2(0, 0, deliveredTopic, messageId) }
                    default {
                        failures := add(failures, 1)
                        mstore(0x00, word)
                        mstore(0x20, failedBase)
                        let slot := keccak256(0x00, 0x40)
                        sstore(slot, or(sload(slot), shl(bitIndex, 1)))
                        mstore(add(enc, 0x20), reasonSize)
                        mstore(add(add(enc, 0x40), reasonSize), 0)
                        mstore(enc, 0x20)
                        log2(enc, add(0x40, and(add(reasonSize, 31), not(31))), failedTopic, messageId)
                        // Restore the handle() header words the reason overwrote.
                        mstore(add(enc, 0xa0), shr(224, handleSelector))
                        mstore(add(enc, 0xc0), srcChainId)
                        mstore(add(enc, 0x100), 0x60)
                    }
                }
            }
        }
        if (err == 3) revert InsufficientGas(uint32(errA), uint64(errB), errC);
    }
}
