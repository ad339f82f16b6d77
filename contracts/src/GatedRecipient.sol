// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMessageRecipient} from "./Types.sol";
import {Owned2Step} from "./Owned2Step.sol";

/// @notice A PingRecipient with a gate its owner opens and closes: while closed, every message reverts with
/// `Closed`, so the Inbox records it as failed and it can be retried once the gate is open. The devnet sends a share
/// of its traffic here to exercise the failure and retry path on purpose. It starts closed.
contract GatedRecipient is IMessageRecipient, Owned2Step {
    address public immutable inbox;

    bool public open;
    mapping(uint64 srcChainId => mapping(address sender => uint256)) public pings;
    uint256 public totalPings;
    bytes public lastBody;

    /// @dev Same signature as PingRecipient's, so one event filter reads the payloads of both.
    event Pinged(uint64 indexed srcChainId, address indexed sender, uint256 count, bytes body);
    event OpenSet(bool open);

    error NotInbox(address caller);
    error Closed(uint64 srcChainId, address sender);

    constructor(address initialOwner, address inbox_) Owned2Step(initialOwner) {
        inbox = inbox_;
    }

    /// @notice Opens (true) or closes (false) the gate. Setting the current state again is a no-op that still
    /// emits, so a script can always show the transaction that left the gate as it wanted.
    function setOpen(bool open_) external onlyOwner {
        open = open_;
        emit OpenSet(open_);
    }

    function handle(uint64 srcChainId, address sender, bytes calldata body) external {
        if (msg.sender != inbox) revert NotInbox(msg.sender);
        if (!open) revert Closed(srcChainId, sender);
        uint256 count = ++pings[srcChainId][sender];
        ++totalPings;
        lastBody = body;
        emit Pinged(srcChainId, sender, count, body);
    }
}
