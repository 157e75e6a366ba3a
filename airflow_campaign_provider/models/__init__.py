"""Declarative (pydantic v2) models of the bodies Kore.ai's campaign API takes.

The client checks a body with them before any HTTP call; the sandbox validates what it receives
with the same ones, so the two never disagree on a documented rule.
"""
