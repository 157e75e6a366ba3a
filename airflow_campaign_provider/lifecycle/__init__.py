"""Exactly-once guarantees: each module a unit that takes a hook."""
