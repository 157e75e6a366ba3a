"""Declarative (pydantic v2) models of every Kore body the provider sends and the sandbox receives."""
