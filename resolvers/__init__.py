"""Behaviour behind the schema: resolvers, permission checks, per-request dataloaders.

Resolvers return domain objects from ``bff.domain``; they never import ``schema``.
"""
