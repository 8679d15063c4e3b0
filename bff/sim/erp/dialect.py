"""Protocol dialects: the answers to the reference's *unknown*s, switchable at run time.

Each field is one unknown; its ``Literal`` lists the values the simulator can speak, the
first being the default, which follows the evidence (or, where there is none, the
conservative reading). See docs/simulators-erp.md for the table and the reasons.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal, get_args, get_type_hints


@dataclass(frozen=True)
class Dialect:
    # Attachment values of 100039: "query" is the evidenced ``"<path>#size=<bytes>&name=<name>"``
    # (name URL-encoded, both key orders across records); "list" the bare ``"<path>#<name>"``.
    attachments: Literal["query", "list", "string", "objects", "empty"] = "query"
    attachments_in_list: Literal["no", "yes"] = "no"  # evidence has them in getBusiness detail only
    login_reply: Literal["json-success", "json-other", "empty", "html"] = "json-success"
    expiry: Literal["401", "redirect", "success-false", "html"] = "401"
    logistics_in_list: Literal["no", "yes"] = "no"
    line_links: Literal["absent", "present"] = "absent"
    numbers: Literal["native", "strings"] = "native"
    dates: Literal["ms", "s", "iso"] = "ms"
    statuses: Literal["known", "unknown"] = "known"
    extra_fields: Literal["no", "yes"] = "no"
    # A list of customers in the customer filter of 100001 (customerId) and 100039
    # (customerOrSupplierId), the change watcher's batched reads: "any of" like the evidenced id
    # and status lists, ignored (every customer's rows), or nothing.
    customer_list: Literal["any-of", "ignored", "nothing"] = "any-of"
    # The guesses a BFF may try as accelerations (never evidenced; the defaults answer as if the
    # key were absent). "ignored": every row the other filters allow; "refused": success false.
    # ``condition {"salesOrderProductIds": [<order line ids>]}`` on 100039:
    product_ids: Literal["ignored", "honoured", "refused"] = "ignored"
    # ``filters {"code": [<order codes>]}`` on 100001:
    code_filter: Literal["ignored", "honoured"] = "ignored"
    # ``filters {"salesOrderId": [<order ids>]}`` on 100185:
    line_order_filter: Literal["ignored", "honoured"] = "ignored"
    # The order row's shippedRate (docs/erp-protocol.md row 26, the ``order_rates`` guess):
    # "derived" from the lines as the seed does; "frozen": 0 whatever the lines say (never moved).
    order_rates: Literal["derived", "frozen"] = "derived"

    def merged(self, changes: Mapping[str, Any]) -> Dialect:
        """A copy with ``changes`` applied; ValueError names the allowed keys or values."""
        for key, value in changes.items():
            if key not in ALLOWED:
                raise ValueError(f"unknown dialect key {key!r}; keys: {', '.join(ALLOWED)}")
            if value not in ALLOWED[key]:
                raise ValueError(f"dialect {key} cannot be {value!r}; values: {', '.join(ALLOWED[key])}")
        return replace(self, **changes)

    @classmethod
    def from_pairs(cls, pairs: Iterable[str]) -> Dialect:
        """From ``key=value`` texts (the command line's repeated ``--dialect``)."""
        changes: dict[str, str] = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep:
                raise ValueError(f"dialect {pair!r} is not key=value")
            changes[key.strip()] = value.strip()
        return cls().merged(changes)

    def describe(self) -> dict[str, Any]:
        """What ``GET /__sim/dialect`` answers."""
        return {"dialect": asdict(self), "allowed": {key: list(values) for key, values in ALLOWED.items()}}


def _allowed() -> dict[str, tuple[str, ...]]:
    hints = get_type_hints(Dialect)
    return {f.name: get_args(hints[f.name]) for f in fields(Dialect)}


ALLOWED: dict[str, tuple[str, ...]] = _allowed()
