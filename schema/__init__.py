"""The GraphQL shape: strawberry types, inputs, enums and the one Schema object."""

from schema.root import build_schema

__all__ = ["build_schema"]
