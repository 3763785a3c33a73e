"""The messaging rules as plain functions: no nameko in here."""
