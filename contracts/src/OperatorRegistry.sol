// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Checkpoint} from "./Types.sol";
import {CheckpointFraudProofs, ICheckpointFraudProofsErrors} from "./CheckpointFraudProofs.sol";
import {CheckpointHash} from "./CheckpointHash.sol";
import {Owned2Step} from "./Owned2Step.sol";

/// @notice Errors and events shared by the registry and the Inbox's copy of the set.
interface IOperatorSetErrors {
    error LengthMismatch(uint256 operators, uint256 weights);
    error EmptyOperatorSet();
    error TooManyOperators(uint256 count, uint256 max);
    error OperatorsNotAscending(uint256 index, address operator, address previous);
    error ZeroOperator();
    error ZeroWeight(address operator);
    error WeightOverflow(uint256 total);
    error InvalidThreshold(uint16 thresholdBps);
}

/// @notice The operator network's identity on the hub chain: operators (strictly ascending), stake weights, a
/// threshold in basis points, and an epoch that is bumped by every change, so an Inbox can tell it is behind.
contract OperatorRegistry is Owned2Step, IOperatorSetErrors, ICheckpointFraudProofsErrors {
    uint256 public constant MAX_OPERATORS = 512;
    uint16 public constant BPS = 10_000;
    /// @dev secp256k1n / 2: a signature with a higher s is the malleable twin of another, refused as the Inbox does.
    uint256 internal constant HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    /// @notice The hub chain's own `CheckpointFraudProofs`: what proves a checkpoint of a hub-chain lane false.
    CheckpointFraudProofs public immutable fraudProofs;

    address[] private _operators;
    mapping(address operator => uint96 weight) private _weights;
    uint96 private _totalWeight;
    uint16 private _thresholdBps;
    uint64 private _epoch;
    /// @dev Operators proven to have signed two roots for one lane and count: never in the set again.
    mapping(address operator => bool) private _ejected;

    /// @notice Emitted by every change, with the whole set after it: the one event a watcher of the hub follows to
    /// carry the set to every Inbox (each change's own event below says what changed).
    event OperatorSetChanged(uint64 indexed epoch, address[] operators, uint96[] weights, uint16 thresholdBps);
    event OperatorAdded(uint64 indexed epoch, address indexed operator, uint96 weight);
    event OperatorRemoved(uint64 indexed epoch, address indexed operator);
    event WeightUpdated(uint64 indexed epoch, address indexed operator, uint96 oldWeight, uint96 newWeight);
    event ThresholdUpdated(uint64 indexed epoch, uint16 oldThresholdBps, uint16 newThresholdBps);

    /// @notice An operator's two signatures over different roots for one lane and count were proven here; it is out
    /// of the set for good, and `prover` sent the proof.
    event OperatorEjected(
        uint64 indexed epoch, address indexed operator, Checkpoint first, Checkpoint second, address prover
    );

    error OperatorExists(address operator);
    error OperatorNotFound(address operator);
    error OperatorIsEjected(address operator);
    error NotSameLaneAndCount();
    error SameRoot(bytes32 root);
    error InvalidEquivocationSignature(uint256 which);
    error DifferentSigners(address first, address second);
    error SourceNotProvableHere(uint64 srcChainId, uint256 chainId);
    error CheckpointConsistent(bytes32 root);

    /// @notice An operator's signature over a checkpoint of a hub-chain lane that this chain proves false (a root
    /// the lane never had at that count, or a count it never reached: `root` is the lane's root there, 0 if
    /// premature); it is out of the set for good, and `prover` sent the proof.
    event OperatorEjectedForInvalidAttestation(
        uint64 indexed epoch, address indexed operator, Checkpoint checkpoint, bytes32 root, address prover
    );

    /// @param fraudProofs_ This chain's `CheckpointFraudProofs` (the zero address: invalid attestations are not
    /// provable here).
    constructor(
        address initialOwner,
        address[] memory operators_,
        uint96[] memory weights_,
        uint16 thresholdBps_,
        CheckpointFraudProofs fraudProofs_
    ) Owned2Step(initialOwner) {
        fraudProofs = fraudProofs_;
        _replace(operators_, weights_, thresholdBps_);
    }

    /// @notice Replaces the whole set at once (the usual path: one epoch per rotation).
    function setOperatorSet(address[] calldata operators_, uint96[] calldata weights_, uint16 thresholdBps_)
        external
        onlyOwner
    {
        _replace(operators_, weights_, thresholdBps_);
    }

    function addOperator(address operator, uint96 weight) external onlyOwner {
        if (operator == address(0)) revert ZeroOperator();
        if (_ejected[operator]) revert OperatorIsEjected(operator);
        if (weight == 0) revert ZeroWeight(operator);
        if (_weights[operator] != 0) revert OperatorExists(operator);
        uint256 n = _operators.length;
        if (n + 1 > MAX_OPERATORS) revert TooManyOperators(n + 1, MAX_OPERATORS);
        uint256 total = uint256(_totalWeight) + weight;
        if (total > type(uint96).max) revert WeightOverflow(total);
        // Insertion keeps the array sorted, which the Inbox's merge walk over signers relies on.
        _operators.push(operator);
        uint256 i = n;
        while (i > 0 && _operators[i - 1] > operator) {
            _operators[i] = _operators[i - 1];
            --i;
        }
        _operators[i] = operator;
        _weights[operator] = weight;
        _totalWeight = uint96(total);
        emit OperatorAdded(_bump(), operator, weight);
    }

    function removeOperator(address operator) external onlyOwner {
        _remove(operator);
        emit OperatorRemoved(_bump(), operator);
    }

    /// @notice Anyone may prove that an operator signed two different roots for one lane and count (equivocation):
    /// both signatures are checked under the network's EIP-712 domain, and the operator is ejected for good: removed
    /// from the set if it is in it (a new epoch), and never allowed back either way. A proof of an operator already
    /// ejected reverts.
    /// @param first A checkpoint and the 65-byte (r, s, v) signature over it; `second` the same for the other root.
    function proveEquivocation(
        Checkpoint calldata first,
        bytes calldata firstSignature,
        Checkpoint calldata second,
        bytes calldata secondSignature
    ) external returns (address operator) {
        if (
            first.srcChainId != second.srcChainId || first.outbox != second.outbox
                || first.dstChainId != second.dstChainId || first.count != second.count
        ) revert NotSameLaneAndCount();
        if (first.root == second.root) revert SameRoot(first.root);
        bytes32 separator = domainSeparator();
        operator = _signer(CheckpointHash.digest(separator, first), firstSignature, 0);
        address other = _signer(CheckpointHash.digest(separator, second), secondSignature, 1);
        if (operator != other) revert DifferentSigners(operator, other);
        emit OperatorEjected(_eject(operator), operator, first, second, msg.sender);
    }

    /// @notice Ejects the operator that signed `checkpoint`, a checkpoint of a lane from this (the hub) chain that
    /// this chain proves false (`CheckpointFraudProofs.judge`: a count the lane never reached, or a root it never
    /// had at that count, against a snapshot of the lane). Anyone may send it; the ejection then reaches every Inbox
    /// as an ordinary update. Lanes from other chains are proven on their own chain's `CheckpointFraudProofs`.
    /// @return operator The signer, now ejected.
    function proveInvalidAttestation(
        Checkpoint calldata checkpoint,
        bytes calldata signature,
        uint32 snapshotCount,
        bytes32 leaf,
        bytes32[] calldata siblings
    ) external returns (address operator) {
        if (address(fraudProofs) == address(0) || checkpoint.srcChainId != block.chainid) {
            revert SourceNotProvableHere(checkpoint.srcChainId, block.chainid);
        }
        (CheckpointFraudProofs.Verdict verdict, bytes32 root) =
            fraudProofs.judge(checkpoint, snapshotCount, leaf, siblings);
        if (verdict == CheckpointFraudProofs.Verdict.Consistent) revert CheckpointConsistent(root);
        operator = _signer(CheckpointHash.digest(domainSeparator(), checkpoint), signature, 0);
        emit OperatorEjectedForInvalidAttestation(_eject(operator), operator, checkpoint, root, msg.sender);
    }

    /// @dev Marks `operator` ejected for good and takes it out of the set; returns the epoch after. One already out
    /// of the set (removed by the owner, perhaps to dodge a proof) is marked all the same: it can never come back.
    /// Only a member's removal changes the set, and so the epoch.
    function _eject(address operator) private returns (uint64) {
        if (_ejected[operator]) revert OperatorIsEjected(operator);
        _ejected[operator] = true;
        if (_weights[operator] == 0) return _epoch;
        _remove(operator);
        return _bump();
    }

    function _remove(address operator) private {
        uint96 weight = _weights[operator];
        if (weight == 0) revert OperatorNotFound(operator);
        uint256 n = _operators.length;
        if (n == 1) revert EmptyOperatorSet();
        uint256 i;
        while (_operators[i] != operator) ++i;
        for (; i + 1 < n; ++i) {
            _operators[i] = _operators[i + 1];
        }
        _operators.pop();
        delete _weights[operator];
        _totalWeight -= weight;
    }

    /// @dev The signer of `digest`, refusing what the Inbox refuses: a length other than 65, a high s, a v other
    /// than 27 or 28, and a signature that recovers nobody.
    function _signer(bytes32 digest, bytes calldata signature, uint256 which) private pure returns (address signer) {
        if (signature.length != 65) revert InvalidEquivocationSignature(which);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (uint256(s) > HALF_ORDER || (v != 27 && v != 28)) revert InvalidEquivocationSignature(which);
        signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert InvalidEquivocationSignature(which);
    }

    function setWeight(address operator, uint96 weight) external onlyOwner {
        uint96 old = _weights[operator];
        if (old == 0) revert OperatorNotFound(operator);
        if (weight == 0) revert ZeroWeight(operator);
        uint256 total = uint256(_totalWeight) - old + weight;
        if (total > type(uint96).max) revert WeightOverflow(total);
        _weights[operator] = weight;
        _totalWeight = uint96(total);
        emit WeightUpdated(_bump(), operator, old, weight);
    }

    function setThreshold(uint16 thresholdBps_) external onlyOwner {
        if (thresholdBps_ == 0 || thresholdBps_ > BPS) revert InvalidThreshold(thresholdBps_);
        uint16 old = _thresholdBps;
        _thresholdBps = thresholdBps_;
        emit ThresholdUpdated(_bump(), old, thresholdBps_);
    }

    /// @notice The current set, ascending by address, with weights in the same order.
    function operators() public view returns (address[] memory operators_, uint96[] memory weights_) {
        operators_ = _operators;
        weights_ = new uint96[](operators_.length);
        for (uint256 i; i < operators_.length; ++i) {
            weights_[i] = _weights[operators_[i]];
        }
    }

    function operatorCount() external view returns (uint256) {
        return _operators.length;
    }

    function weightOf(address operator) external view returns (uint96) {
        return _weights[operator];
    }

    function totalWeight() external view returns (uint96) {
        return _totalWeight;
    }

    function thresholdBps() external view returns (uint16) {
        return _thresholdBps;
    }

    /// @notice Stake a checkpoint needs: ceil(totalWeight * thresholdBps / 10000).
    function requiredWeight() external view returns (uint96) {
        return uint96((uint256(_totalWeight) * _thresholdBps + BPS - 1) / BPS);
    }

    /// @notice Whether `operator` was ejected for equivocation: it can never be in the set again.
    function isEjected(address operator) external view returns (bool) {
        return _ejected[operator];
    }

    function epoch() external view returns (uint64) {
        return _epoch;
    }

    /// @notice The EIP-712 domain every Inbox of this network verifies checkpoints against.
    function domainSeparator() public view returns (bytes32) {
        return CheckpointHash.domainSeparator(block.chainid, address(this));
    }

    /// @notice EIP-5267 description of the domain, so wallets and tools can rebuild it.
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", CheckpointHash.NAME, CheckpointHash.VERSION, block.chainid, address(this), 0, extensions);
    }

    /// @notice The digest operators sign for `checkpoint`.
    function checkpointDigest(Checkpoint calldata checkpoint) external view returns (bytes32) {
        return CheckpointHash.digest(domainSeparator(), checkpoint);
    }

    /// @notice The digest operators sign to carry the set at `epoch_` to every Inbox (`Inbox.updateOperatorSet`).
    function operatorSetUpdateDigest(
        uint64 epoch_,
        address[] calldata operators_,
        uint96[] calldata weights_,
        uint16 thresholdBps_
    ) external view returns (bytes32) {
        return CheckpointHash.operatorSetUpdateDigest(domainSeparator(), epoch_, operators_, weights_, thresholdBps_);
    }

    function _replace(address[] memory operators_, uint96[] memory weights_, uint16 thresholdBps_) private {
        uint256 n = operators_.length;
        if (n != weights_.length) revert LengthMismatch(n, weights_.length);
        if (n == 0) revert EmptyOperatorSet();
        if (n > MAX_OPERATORS) revert TooManyOperators(n, MAX_OPERATORS);
        if (thresholdBps_ == 0 || thresholdBps_ > BPS) revert InvalidThreshold(thresholdBps_);
        uint256 old = _operators.length;
        for (uint256 i; i < old; ++i) {
            delete _weights[_operators[i]];
        }
        delete _operators;
        uint256 total;
        address previous;
        for (uint256 i; i < n; ++i) {
            address operator = operators_[i];
            if (operator == address(0)) revert ZeroOperator();
            if (operator <= previous) revert OperatorsNotAscending(i, operator, previous);
            if (weights_[i] == 0) revert ZeroWeight(operator);
            if (_ejected[operator]) revert OperatorIsEjected(operator);
            total += weights_[i];
            _operators.push(operator);
            _weights[operator] = weights_[i];
            previous = operator;
        }
        if (total > type(uint96).max) revert WeightOverflow(total);
        _totalWeight = uint96(total);
        _thresholdBps = thresholdBps_;
        _bump();
    }

    /// @dev Every change ends here: the next epoch, announced with the whole set as it now is.
    function _bump() private returns (uint64 next) {
        next = _epoch + 1;
        _epoch = next;
        (address[] memory operators_, uint96[] memory weights_) = operators();
        emit OperatorSetChanged(next, operators_, weights_, _thresholdBps);
    }
}
