"""Customer self-service pages of the contract: catalogue, booking, removal, tier change and
the framework contract with its cancellation.

The views read through ``visible_to`` and write through ``contracts.services``, which check
the role again; customer members and the DPO only read.
"""
