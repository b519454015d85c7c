// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.20;

interface IERC20TransferFrom {
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

/// @title Batch payments in an ERC-20 token
/// @notice Pays many providers in one transaction. The payer first approves this contract for
///         at least the batch's total; each payment is then a transferFrom from the payer to
///         one payee. Any failed payment reverts the whole batch, so a batch is paid entirely
///         or not at all.
contract KilnBatchPay {
    /// @notice The largest number of payees in one batch.
    uint256 public constant MAX_PAYEES = 500;

    /// @notice Emitted once per paid batch. `ref` is the payer's own reference (for Kiln,
    ///         a hash identifying the payments in its ledger).
    event BatchPaid(address indexed payer, bytes32 indexed ref, uint256 total, uint256 count);

    function payBatch(
        address token,
        address[] calldata payees,
        uint256[] calldata amounts,
        bytes32 ref
    ) external {
        uint256 count = payees.length;
        require(count == amounts.length, "KilnBatchPay: payees and amounts differ in length");
        require(count != 0, "KilnBatchPay: empty batch");
        require(count <= MAX_PAYEES, "KilnBatchPay: too many payees");
        require(token.code.length != 0, "KilnBatchPay: token is not a contract");

        uint256 total = 0;
        for (uint256 i = 0; i < count; ) {
            uint256 amount = amounts[i];
            total += amount;
            _transferFrom(token, msg.sender, payees[i], amount);
            unchecked {
                ++i;
            }
        }

        emit BatchPaid(msg.sender, ref, total, count);
    }

    /// @dev Accepts tokens that return true and tokens that return nothing; anything else
    ///      (a revert, or a return value of false) reverts the batch.
    function _transferFrom(address token, address from, address to, uint256 amount) private {
        (bool ok, bytes memory ret) =
            token.call(abi.encodeCall(IERC20TransferFrom.transferFrom, (from, to, amount)));
        if (!ok) {
            if (ret.length != 0) {
                // Bubble up the token's own revert reason.
                assembly ("memory-safe") {
                    revert(add(ret, 32), mload(ret))
                }
            }
            revert("KilnBatchPay: transfer failed");
        }
        require(ret.length == 0 || abi.decode(ret, (bool)), "KilnBatchPay: transfer failed");
    }
}
