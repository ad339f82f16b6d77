// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMessageRecipient} from "./Types.sol";

/// @notice Example recipient for tests and the devnet: counts pings per (source chain, sender) and keeps the last
/// body. Only its Inbox may call it, which is the check every real recipient needs.
contract PingRecipient is IMessageRecipient {
    address public immutable inbox;

    mapping(uint64 srcChainId => mapping(address sender => uint256)) public pings;
    uint256 public totalPings;
    bytes public lastBody;

    event Pinged(uint64 indexed srcChainId, address indexed sender, uint256 count, bytes body);

    error NotInbox(address caller);

    constructor(address inbox_) {
        inbox = inbox_;
    }

    function handle(uint64 srcChainId, address sender, bytes calldata body) external {
        if (msg.sender != inbox) revert NotInbox(msg.sender);
        uint256 count = ++pings[srcChainId][sender];
        ++totalPings;
        lastBody = body;
        emit Pinged(srcChainId, sender, count, body);
    }
}
