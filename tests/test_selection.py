"""resolvers.selection: the names a document selects under a field, fragments opened, remembered
per document node (never across documents that only look alike)."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache

from resolvers import selection
from resolvers.context import Info
from resolvers.selection import selected_names

seen: list[tuple[frozenset[str], frozenset[str]]] = []


@strawberry.type
class Item:
    a: int = 1
    b: int = 2
    c: int = 3


@strawberry.type
class Page:
    total: int = 1
    items: list[Item] = strawberry.field(default_factory=lambda: [Item()])


@strawberry.type
class Query:
    @strawberry.field
    def page(self, info: Info) -> Page:
        seen.append((selected_names(info), selected_names(info, "items")))
        return Page()


schema = strawberry.Schema(Query, extensions=[lambda: ParserCache(maxsize=16)])  # as the BFF: a text parsed once


def names_of(document: str) -> tuple[set[str], set[str]]:
    seen.clear()
    result = schema.execute_sync(document)
    assert result.errors is None, result.errors
    (own, items), = seen
    return set(own), set(items)


def test_fields_inline_and_named_fragments_are_opened() -> None:
    own, items = names_of("""
        { page { total ...P items { a ... on Item { b } } } }
        fragment P on Page { items { ...I } }
        fragment I on Item { c }
    """)
    assert own == {"total", "items"}
    assert items == {"a", "b", "c"}


def test_nothing_under_a_child_not_selected() -> None:
    assert names_of("{ page { total } }") == ({"total"}, set())


def test_look_alike_documents_with_other_fragments_answer_their_own_names() -> None:
    """Equal field nodes (same text, same hash) of two documents: remembered by identity, not by equality."""
    first = names_of("{ page { items { ...F } } } fragment F on Item { a }")
    second = names_of("{ page { items { ...F } } } fragment F on Item { b c }")
    assert first == ({"items"}, {"a"})
    assert second == ({"items"}, {"b", "c"})


def test_a_parsed_document_is_read_once_and_remembered_within_bounds() -> None:
    document = "{ page { total items { a } } }"
    assert names_of(document) == ({"total", "items"}, {"a"})
    remembered = len(selection._remembered)
    assert names_of(document) == ({"total", "items"}, {"a"})
    assert len(selection._remembered) == remembered  # the same nodes again: nothing new remembered
    for n in range(selection.MAX_REMEMBERED + 10):
        assert names_of("{ page { total } }" + " " * n) == ({"total"}, set())
    assert len(selection._remembered) <= selection.MAX_REMEMBERED
