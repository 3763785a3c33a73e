"""The contacts service: contact profiles, identifiers, consent (subscriptions and their
ledger), black lists, channel addresses, notes, variable definitions, sources and
subscription categories."""
