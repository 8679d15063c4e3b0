"""GraphQL guards against abuse: trusted documents and the ERP budget of one operation.

* :class:`TrustedDocuments` resolves a ``documentId`` to its registered text, hands the
  registered (parsed and validated once) document to strawberry, and, when trusted
  documents are required (always in production), refuses any other document unless the
  caller is an administrator or holds the developer key: ``PERSISTED_DOCUMENT_REQUIRED``.
* :class:`ErpBudget` plans the operation from the read model before it runs
  (``resolvers/cost.py``: the declared reads of each root field, and its ERP calls at most) and refuses it over ``BFF_ERP_COST_BUDGET`` before any ERP call:
  ``QUERY_TOO_EXPENSIVE``. While it runs, at most ``BFF_ERP_MAX_CALLS_PER_REQUEST`` ERP
  attempts may start (``bff.erp.calls``); afterwards the calls it made are charged to the
  user's ERP allowance (``BFF_ERP_CALLS_PER_USER``). Neither refusal touches the breaker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from bff.core.domain import Permission
from bff.core.errors import BffError, ErrorCode
from bff.erp.calls import erp_call_scope
from bff.erp.guesses import Guesses
from bff.web.documents import DocumentRegistry, requested_id
from resolvers.context import RequestContext
from resolvers.cost import plan
from resolvers.loaders import Costing


async def may_send_any_document(context: object) -> bool:
    """Administrators and holders of the developer key may run documents that are not registered."""
    if not isinstance(context, RequestContext):
        return False
    if context.developer:
        return True
    viewer = await context.viewer()
    return viewer is not None and Permission.MONITORING_READ in viewer.permissions


class TrustedDocuments(SchemaExtension):
    def __init__(self, registry: DocumentRegistry, *, required: bool) -> None:
        self.registry = registry
        self.required = required

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context
        key = requested_id(context.operation_extensions)
        if key is not None:
            entry = self.registry.by_id(key)
            if entry is None:
                raise BffError(ErrorCode.PERSISTED_DOCUMENT_NOT_FOUND)
            if context.query and context.query != entry.text:
                raise BffError(ErrorCode.BAD_USER_INPUT, "documentId 与 query 不一致", field="documentId")
            context.query = entry.text
        else:
            entry = self.registry.by_text(context.query)
        if entry is not None:
            context.graphql_document = entry.document  # parsed once
            context.pre_execution_errors = list(self.registry.errors(entry))  # validated once ([] skips validation)
        elif self.required and not await may_send_any_document(context.context):
            raise BffError(ErrorCode.PERSISTED_DOCUMENT_REQUIRED)
        yield


class ErpBudget(SchemaExtension):
    def __init__(self, *, budget: int, max_calls: int, max_list: int) -> None:
        self.budget = budget
        self.max_calls = max_calls
        self.max_list = max_list

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        request = context.context
        services = request.services if isinstance(request, RequestContext) else None
        costing = Costing(services.guesses, self.max_list, services.delivery_lines.list_usable) if services else (
            Costing(Guesses(), self.max_list))
        the_plan = plan(
            context.schema._schema, context.graphql_document, context.operation_name, context.variables, costing)
        if isinstance(request, RequestContext):
            request.plan = the_plan
        if the_plan.calls > self.budget:
            raise BffError(ErrorCode.QUERY_TOO_EXPENSIVE, cost=the_plan.calls, budget=self.budget)
        with erp_call_scope(limit=self.max_calls) as stats:
            yield
        viewer = request.loaded_viewer if isinstance(request, RequestContext) else None
        if viewer is not None and stats.calls:
            limits = request.services.limits
            await limits.charge(limits.erp_user, viewer.openid, cost=stats.calls)
