"""An operation's plan, from the read model (``resolvers/loaders.py``): which declared reads each
root field needs, and the ERP calls the operation may cost at most (checked before any call).

Rules of the estimate (an upper bound):

* A read is batched across a page by its dataloader: it costs ``calls(costing, keys)`` once per
  root field, ``keys`` being the items it is reached through (the product of the lists above it:
  a ``pageSize`` argument, else ``BFF_MAX_PAGE_SIZE`` for lists of unknown length).
* Reads count with the reads they are made from, each once per root field, however many fields
  or aliases below need them.
* Root fields are not batched across aliases (each alias of ``orders`` is its own search): every
  alias costs in full, with everything below it.
* ``orders(keyword: ...)`` adds the keyword search, ``orders(shipping: ...)`` the 未发货 / 已逾期
  filter, which makes the page's deliveries reads itself (``covers``); ``order(code: ...)`` reads
  by number.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

from resolvers.loaders import DECLARED, FIELD_READS, Costing, with_needs


@dataclass(frozen=True)
class Plan:
    """``calls``: the estimate; ``reads``: per root field (by response key), the reads it needs."""

    calls: int = 0
    reads: dict[str, frozenset[str]] = field(default_factory=dict)

    def of(self, root_key: str) -> frozenset[str]:
        return self.reads.get(root_key, frozenset())


def plan(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, variables: dict[str, Any] | None,
    costing: Costing,
) -> Plan:
    """The plan of the operation (an empty plan for a document with no such operation)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
    root = schema.get_root_type(chosen[0].operation) if chosen else None
    if root is None:
        return Plan()
    walk = _Walk(fragments, variables or {}, costing.max_list)
    calls = 0
    reads: dict[str, frozenset[str]] = {}
    for root_field in walk.fields(chosen[0].selection_set):
        keys: dict[str, int] = {}
        walk.field(root_field, root, None, 1, keys)
        response_key = root_field.alias.value if root_field.alias else root_field.name.value
        reads[response_key] = reads.get(response_key, frozenset()) | frozenset(keys)
        covered = {c for name in keys for c in DECLARED[name].covers}
        calls += sum(DECLARED[name].calls(costing, count) for name, count in keys.items() if name not in covered)
    return Plan(calls, reads)


def _named(type_: Any) -> tuple[Any, bool]:
    """The named type under NonNull/List wrappers, and whether a list was among them."""
    is_list = False
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


@dataclass
class _Walk:
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]
    max_list: int

    def fields(self, selection_set: SelectionSetNode, seen: frozenset[str] = frozenset()) -> Iterator[FieldNode]:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from self.fields(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    yield from self.fields(fragment.selection_set, seen | {selection.name.value})

    def field(self, node: FieldNode, parent: GraphQLObjectType, reached_by: str | None, items: int,
              keys: dict[str, int]) -> None:
        """Adds the reads of ``node`` (reached ``items`` times over) and of its selection to ``keys``."""
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return  # __typename and friends: validation refuses unknown fields anyway
        name = f"{parent.name}.{node.name.value}"
        for read in with_needs(self.reads(node, name, reached_by)):
            keys[read] = max(keys.get(read, 0), items)
        child, is_list = _named(definition.type)
        if node.selection_set is not None and isinstance(child, GraphQLObjectType):
            below = items * (self.list_size(node) if is_list else 1)
            for selected in self.fields(node.selection_set):
                self.field(selected, child, name, below, keys)

    def reads(self, node: FieldNode, name: str, reached_by: str | None) -> tuple[str, ...]:
        declared = FIELD_READS.get(name)
        if declared is None:
            return ()
        if name == "Query.order" and self.argument(node, "code") is not None:
            return ("order_by_code",)
        keyword = self.argument(node, "keyword") if name == "Query.orders" else None
        extra: tuple[str, ...] = ("keyword_search",) if isinstance(keyword, str) and keyword.strip() else ()
        if name == "Query.orders" and self.argument(node, "shipping") is not None:
            extra += ("order_filter",)
        return declared.under(reached_by) + extra

    def argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                value = argument.value
                if isinstance(value, VariableNode):
                    return self.variables.get(value.name.value)
                if isinstance(value, NullValueNode):
                    return None
                return getattr(value, "value", True)
        return None

    def list_size(self, node: FieldNode) -> int:
        size = self.argument(node, "pageSize")
        try:
            return max(1, min(int(size), self.max_list)) if size is not None else self.max_list
        except (TypeError, ValueError):
            return self.max_list
