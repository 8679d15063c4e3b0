"""The one Schema object, assembled from each area's Query and Mutation parts."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema.messages import MessageMutation, MessageQuery
from schema.monitoring import MonitoringQuery
from schema.orders import OrderQuery
from schema.users import UserMutation, UserQuery

Query = merge_types("Query", (UserQuery, OrderQuery, MonitoringQuery, MessageQuery))
Mutation = merge_types("Mutation", (UserMutation, MessageMutation))


def build_schema(
    *,
    max_depth: int = 10,
    max_aliases: int = 30,
    max_tokens: int = 2000,
    extra_extensions: list[Any] | None = None,
    schema_class: type[strawberry.Schema] = strawberry.Schema,
    field_suggestions: bool = True,
) -> strawberry.Schema:
    # Factories, not instances: strawberry builds fresh extensions for each request. The
    # limiters' rule classes are built once, so a validated document can be cached (the
    # validation cache is keyed by the rules: fresh classes per request would never hit).
    limit_rules = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    ]
    extensions: list[Any] = [
        lambda: AddValidationRules(limit_rules),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        *(extra_extensions or []),
    ]
    return schema_class(
        query=Query, mutation=Mutation, extensions=extensions, config=StrawberryConfig(auto_camel_case=True, disable_field_suggestions=not field_suggestions)
    )
