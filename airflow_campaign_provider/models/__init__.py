"""Declarative (pydantic v2) models of every body this provider sends and the sandbox receives."""
