"""Which fields a query selects under the field being resolved, by name (fragments opened).

Read from the document itself and remembered per document node: strawberry's
``info.selected_fields`` converts the whole subtree (arguments, directives, a SelectedField per
node) on every call, which was about 0.6 ms of an order page's CPU (issue 11). Documents are
parsed once (the registry, strawberry's ParserCache), so the same nodes come back request after
request; they are remembered by identity, never by their structural hash: two documents with
equal fields but different fragments select different names.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from resolvers.context import Info

MAX_REMEMBERED = 1024  # field nodes; each a handful of names

# (id of each field node, child or "") -> (the nodes, kept alive so their ids stay theirs; the names)
_remembered: OrderedDict[tuple[tuple[int, ...], str], tuple[tuple[FieldNode, ...], frozenset[str]]] = OrderedDict()


def selected_names(info: Info, child: str | None = None) -> frozenset[str]:
    """Names selected under this field or, with ``child``, under its ``child`` field."""
    raw = info._raw_info  # graphql-core's resolve info: strawberry exposes the nodes only there
    nodes = tuple(raw.field_nodes)
    key = (tuple(id(node) for node in nodes), child or "")
    found = _remembered.get(key)
    if found is not None:
        _remembered.move_to_end(key)
        return found[1]
    fragments = raw.fragments
    fields = _fields((node.selection_set for node in nodes), fragments)
    if child is not None:
        fields = _fields((field.selection_set for field in fields if field.name.value == child), fragments)
    names = frozenset(field.name.value for field in fields)
    _remembered[key] = (nodes, names)
    if len(_remembered) > MAX_REMEMBERED:
        _remembered.popitem(last=False)
    return names


def _fields(
    selection_sets: Iterable[SelectionSetNode | None], fragments: dict[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    for selection_set in selection_sets:
        if selection_set is None:
            continue
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from _fields([selection.selection_set], fragments)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
                yield from _fields([fragments[selection.name.value].selection_set], fragments)
