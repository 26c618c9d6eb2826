"""aidledger."""
