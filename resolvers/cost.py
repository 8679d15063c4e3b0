"""What each GraphQL field may cost in ERP reads, and the static estimate of a document.

The table sits beside the resolvers it describes: when a resolver starts reading the ERP
differently, its line here changes with it. Fields not listed cost nothing (database,
cache or pure computation).

Rules of the estimate (an upper bound, checked before any ERP call):

* Fields that share a dataloader (``loaders``) cost once per selection set, however many
  aliases or sibling fields use it: the loader batches them into one read.
* A field below a list is batched across the list's items by its dataloader, so it costs
  once per list, not per item; a field marked ``batched=False`` is multiplied by the
  list's size (its ``pageSize`` argument, else ``BFF_MAX_PAGE_SIZE``).
* Root fields are not batched across aliases (each alias of ``orders`` is its own search):
  every alias costs in full, with everything below it.
* ``orders(keyword: ...)`` adds the reads of a keyword search when the keyword is given.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
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

# The ERP reads behind each per-request dataloader (resolvers/loaders.py), for one batch.
LOADER_READS: dict[str, int] = {
    "order_lines": 2,  # the lines, and the ownership read of their orders
    "order_shipments": 4,  # the lines and ownership (shared with order_lines), deliveries, carrier names
    "material_shipments": 4,  # the material, its order, the deliveries carrying it, carrier names
    "shipment_lines": 1,
    "customer": 1,  # the company's details (cached base data)
}


@dataclass(frozen=True)
class FieldCost:
    reads: int = 0  # the field's own reads
    loaders: tuple[str, ...] = ()  # fields sharing a loader share its reads
    batched: bool = True
    keyword_reads: int = 0  # extra reads when a non-empty ``keyword`` argument is given


ORDER_LINES = FieldCost(loaders=("order_lines",))

COSTS: dict[str, FieldCost] = {
    "Query.orders": FieldCost(1, keyword_reads=3),  # matching orders ∥ latest ids, then matching lines
    "Query.order": FieldCost(1),
    "Query.material": FieldCost(2),
    "Order.materials": ORDER_LINES,
    "Order.progress": ORDER_LINES,
    "Order.deliveryStatus": ORDER_LINES,
    "Order.shippedRate": ORDER_LINES,
    "Order.shipments": FieldCost(loaders=("order_shipments",)),
    "Order.timeline": FieldCost(loaders=("order_lines", "order_shipments")),
    "Material.shipments": FieldCost(loaders=("material_shipments",)),
    "Shipment.lines": FieldCost(loaders=("shipment_lines",)),
    "Binding.company": FieldCost(loaders=("customer",)),
    "BindPayload.companyInfo": FieldCost(loaders=("customer",)),
    "Mutation.bindCompany": FieldCost(2),  # the customer lookup or the ERP login
}

ROOTS = ("Query", "Mutation")


def estimate(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    *,
    max_list: int,
) -> int:
    """ERP reads the operation may cause at most (0 for a document with no such operation)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
    if not chosen:
        return 0
    operation = chosen[0]
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    walk = _Walk(schema, fragments, variables or {}, max_list)
    return walk.selection(operation.selection_set, root, root_level=True)


def _named(type_: Any) -> tuple[Any, bool]:
    """The named type under NonNull/List wrappers, and whether a list was among them."""
    is_list = False
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


@dataclass
class _Walk:
    schema: GraphQLSchema
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

    def argument(self, field: FieldNode, name: str) -> Any:
        for argument in field.arguments or ():
            if argument.name.value == name:
                value = argument.value
                if isinstance(value, VariableNode):
                    return self.variables.get(value.name.value)
                if isinstance(value, NullValueNode):
                    return None
                return getattr(value, "value", True)
        return None

    def selection(
        self, selection_set: SelectionSetNode, parent: GraphQLObjectType, *, root_level: bool = False, items: int = 1
    ) -> int:
        """Cost of a selection set reached ``items`` times over (the product of the lists above it)."""
        total = 0
        loaders: set[str] = set()
        for field in self.fields(selection_set):
            definition = parent.fields.get(field.name.value)
            if definition is None:
                continue  # __typename and friends: validation refuses unknown fields anyway
            total += self.field_cost(field, parent.name, loaders, root_level, items)
            child, is_list = _named(definition.type)
            if field.selection_set is not None and isinstance(child, GraphQLObjectType):
                total += self.selection(field.selection_set, child, items=items * (self.list_size(field) if is_list else 1))
        return total

    def field_cost(self, field: FieldNode, parent: str, loaders: set[str], root_level: bool, items: int) -> int:
        cost = COSTS.get(f"{parent}.{field.name.value}")
        if cost is None:
            return 0
        fresh = [name for name in cost.loaders if root_level or name not in loaders]
        loaders.update(cost.loaders)
        keyword = self.argument(field, "keyword")
        reads = cost.reads + sum(LOADER_READS[name] for name in fresh)
        reads += cost.keyword_reads if isinstance(keyword, str) and keyword.strip() else 0
        return reads if cost.batched else reads * items

    def list_size(self, field: FieldNode) -> int:
        size = self.argument(field, "pageSize")
        try:
            return max(1, min(int(size), self.max_list)) if size is not None else self.max_list
        except (TypeError, ValueError):
            return self.max_list
