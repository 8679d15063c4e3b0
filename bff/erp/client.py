"""ErpClient: every read and write the BFF makes to the Snowbeasts ERP.

One session per service account (lazy login, one shared re-login per expiry), retries of
transient failures within a per-read deadline, merging of identical in-flight reads, and
validation of every record. Wire meanings live in :mod:`bff.erp.protocol`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from bff.core import jsoncodec
from bff.erp import protocol
from bff.erp.anomalies import Anomalies
from bff.erp.breaker import BreakerState, CircuitBreaker
from bff.erp.calls import admit_erp_call
from bff.erp.errors import (
    ErpCircuitOpen,
    ErpDataInvalid,
    ErpFileMissing,
    ErpFileTooLarge,
    ErpLoginRefused,
    ErpUnavailable,
)
from bff.erp.models import ErpPage, read_record, read_rows
from bff.erp.queries import DatasourceRead, ListRead, R
from bff.erp.queries import probe as probe_read
from bff.erp.transport import (
    ConnectionSlots,
    Deadline,
    Listener,
    PoolBusy,
    PoolStats,
    Transport,
    answers_directly,
    erp_at_fault,
    make_erp_http,
)

logger = logging.getLogger("bff.erp")

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

BACKOFF_BASE_S = 0.05
# The attempt's own timeouts (pool wait, HTTP) end at the deadline; this outer guard only
# catches a stalled event loop, so it waits a little longer and lets them classify the failure.
OUTER_GRACE_S = 0.05


@dataclass
class ErpClientConfig:
    login_url: str
    base_url: str
    app_id: str
    app_name: str
    account: str
    password: str = field(repr=False)  # plain, kept in memory only
    timeout_s: float = 2.0
    deadline_s: float = 2.5
    retries: int = 3
    pool_size: int = 100  # BFF_ERP_POOL_SIZE's default
    pool_wait_s: float = 1.0  # longest wait for a pooled connection (then: the BFF is busy, not the ERP)
    downloads: int = 8  # attachments streamed at once, each holding one of the pool's connections


def _backoff(failures: int) -> float:
    # Jittered exponential: 50 ms, 100 ms, 200 ms ... each scaled by 0.5..1.5.
    return BACKOFF_BASE_S * 2.0 ** (failures - 1) * random.uniform(0.5, 1.5)


def make_http(config: ErpClientConfig) -> httpx.AsyncClient:
    """The HTTP client an ErpClient makes for itself (bff/erp/transport.py)."""
    return make_erp_http(config.pool_size, config.timeout_s)


class ErpClient:
    def __init__(
        self, config: ErpClientConfig, http: httpx.AsyncClient | None = None, breaker: CircuitBreaker | None = None
    ) -> None:
        self._config = config
        # Every attempt asks the breaker first; the default one is permissive enough for tests.
        self.breaker = breaker or CircuitBreaker()
        self._owns_http = http is None
        self._http = http if http is not None else make_http(config)
        self._login_url = config.login_url.rstrip("/")
        self._base_url = config.base_url.rstrip("/")
        self._transport = Transport(
            self._http, config.timeout_s, pool_size=config.pool_size, pool_wait_s=config.pool_wait_s
        )
        self._sessions = SessionKeeper(
            self._transport, login_url=self._login_url, base_url=self._base_url,
            app_id=config.app_id, account=config.account, password=config.password,
        )
        self._flights = Coalescer()
        # Downloads hold their ERP connection as long as the purchaser's client takes to read the
        # file: only so many at once, so slow downloads never take the whole pool from the reads.
        self._downloads = ConnectionSlots(max(1, min(config.downloads, config.pool_size)))
        self.anomalies = Anomalies()  # odd values met in this client's answers, by (form, field)

    # --- observation -------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """``listener(call)`` runs after every upstream HTTP call; it must be quick and sync."""
        self._transport.add_listener(listener)

    @property
    def login_count(self) -> int:
        return self._sessions.logins

    # --- reads -------------------------------------------------------------------------

    async def fetch(self, read: ListRead[R]) -> ErpPage[R]:
        """One of the call shapes of :mod:`bff.erp.queries`."""
        return await self.list(
            read.form_id, model=read.model, condition=read.condition, filters=read.filters,
            columns=list(read.columns), page=read.page, page_size=read.page_size, orderby=read.orderby,
            column_form=read.column_form,
        )

    async def fetch_datasource(self, read: DatasourceRead[R]) -> ErpPage[R]:
        source = read.source
        return await self.datasource(
            source.form_id, source.datasource_id, source.col_id, model=read.model, page_size=read.page_size
        )

    async def list(
        self,
        form_id: int,
        *,
        model: type[M],
        condition: dict[str, Any] | None = None,
        filters: dict[str, Any] | None = None,
        columns: list[str] | None = None,
        page: int = 0,
        page_size: int = 50,
        orderby: str | None = None,
        column_form: bool = False,
    ) -> ErpPage[M]:
        body: dict[str, Any] = {
            "appName": self._config.app_name, "formId": form_id, "condition": condition or {},
            "columns": columns or [], "page": page, "pageSize": page_size, "filters": filters or {},
            "orderby": orderby or "",
        }
        if column_form:
            body["isColumnForm"] = True
        return await self._page("getBusinessPageList", body, form_id, model)

    async def datasource(
        self,
        form_id: int,
        datasource_id: int,
        col_id: int,
        *,
        model: type[M],
        filters: dict[str, Any] | None = None,
        page: int = 0,
        page_size: int = 500,
    ) -> ErpPage[M]:
        body: dict[str, Any] = {
            "appName": self._config.app_name, "formId": form_id, "datasourceId": datasource_id, "colId": col_id,
            "columns": [], "condition": {}, "filters": filters or {}, "page": page, "pageSize": page_size,
            "orderby": "", "isNonfilter": False,
        }
        return await self._page("getDatasource", body, form_id, model)

    async def get(
        self, form_id: int, id: str, *, model: type[M], condition: dict[str, Any] | None = None
    ) -> M | None:
        body = {"appName": self._config.app_name, "formId": form_id, "condition": condition or {}, "id": id}

        def parse(response: httpx.Response) -> M | None:
            try:
                record = protocol.single_record(protocol.business_data(response))
            except protocol.RecordMissing:
                return None
            return None if record is None else read_record(form_id, model, record, self.anomalies)

        return await self._merged(("getBusiness", jsoncodec.canonical(body), model), lambda: self._read("getBusiness", body, form_id, parse))

    async def _page(
        self, name: str, body: dict[str, Any], form_id: int, model: type[M], *, merge: bool = True, guard: bool = True
    ) -> ErpPage[M]:
        def parse(response: httpx.Response) -> ErpPage[M]:
            count, rows = protocol.list_page(protocol.business_data(response))
            return ErpPage(count, read_rows(form_id, model, rows, self.anomalies))

        def fetch() -> Awaitable[ErpPage[M]]:
            return self._read(name, body, form_id, parse, guard=guard)

        page = await (self._merged((name, jsoncodec.canonical(body), model), fetch) if merge else fetch())
        return ErpPage(page.count, list(page.rows))  # followers each get their own list

    async def _merged(self, key: tuple[str, str, type], fetch: Callable[[], Awaitable[T]]) -> T:
        # The model is part of the key: one flight validates once for all its followers.
        return await self._flights.run(key, fetch)

    # --- write -------------------------------------------------------------------------

    async def update(
        self, form_id: int, id: str, data: dict[str, Any], *, condition: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """updateBusiness action 2. Never retried nor merged (a write); repeated only after
        an expired session, which the ERP refused before doing anything."""
        body = {
            "appName": self._config.app_name, "formId": form_id, "condition": condition or {},
            "action": 2, "id": id, "data": data,
        }

        def parse(response: httpx.Response) -> dict[str, Any]:
            answer = protocol.business_data(response)
            return answer if isinstance(answer, dict) else {}

        return await self._read("updateBusiness", body, form_id, parse, retry=False)

    # --- files -------------------------------------------------------------------------

    async def open_file(self, path: str, *, max_bytes: int, head_bytes: int = 8192) -> ErpFile:
        """An attachment opened with the service session: its declared type and length and its
        first ``head_bytes`` (or all of it, if shorter) read; the rest to stream with
        :meth:`ErpFile.rest`, and the file to close with :meth:`ErpFile.aclose` in every case.

        ErpFileTooLarge when the ERP declares more than ``max_bytes`` (nothing of the body read)
        or the head already passes it. Failures until the head is in are retried as any read's;
        after that nothing is (bytes may already be on their way to the caller's client).

        Never merged with an identical download in flight, unlike reads: a stream cannot be
        shared, and holding it whole to share it is what streaming avoids."""
        url = self._file_url(path)
        try:
            await self._downloads.acquire(self._config.pool_wait_s)
        except PoolBusy:
            raise ErpUnavailable("every download place is taken") from None

        async def interpret(response: httpx.Response) -> _FileHead:
            protocol.file_status(response)
            declared = protocol.file_type(response)
            chunks = response.aiter_bytes()
            if protocol.is_envelope(response):
                body = await _read_at_most(chunks, protocol.ENVELOPE_MAX_BYTES, ErpDataInvalid("JSON answer too long"))
                protocol.file_envelope(response, body)
                return _FileHead(declared, len(body), body, chunks)
            length = protocol.file_length(response)
            if length is not None and length > max_bytes:
                raise ErpFileTooLarge(f"declared {length} bytes, limit {max_bytes}")
            head = await _read_at_most(chunks, head_bytes, None)
            if len(head) > max_bytes:
                raise ErpFileTooLarge(f"more than {max_bytes} bytes")
            return _FileHead(declared, length, head, chunks)

        async def attempt(deadline: Deadline, n: int) -> tuple[_FileHead, Callable[[], Awaitable[None]]]:
            return await self._with_session(deadline, n, "file", lambda headers: self._transport.open(
                url, interpret, endpoint="file", attempt=n, deadline=deadline, headers=headers,
            ))

        try:
            head, close = await self._retrying(attempt, retry=True)
        except BaseException as error:
            self._downloads.release()
            if isinstance(error, protocol.RecordMissing):
                raise ErpFileMissing(error.reason) from None
            raise

        async def closed() -> None:
            try:
                await close()
            finally:
                self._downloads.release()

        return ErpFile(head, max_bytes, closed)

    async def fetch_file(self, path: str, *, max_bytes: int = 100 * 1024 * 1024) -> tuple[bytes, str]:
        """An attachment's bytes (at most ``max_bytes``) and declared type, read whole: for
        ``bff erp check`` and tests; the download route streams (:meth:`open_file`)."""
        file = await self.open_file(path, max_bytes=max_bytes)
        try:
            rest = [chunk async for chunk in file.rest()]
        finally:
            await file.aclose()
        return file.head + b"".join(rest), file.content_type

    def _file_url(self, path: str) -> str:
        parts = path.strip("/").split("/")
        if not path or any(part in ("", ".", "..") for part in parts):
            raise ErpFileMissing(f"malformed path {path!r}")
        return self._base_url + protocol.FILE_PATH.format(
            app_name=quote(self._config.app_name, safe=""), path="/".join(quote(p, safe="") for p in parts)
        )

    # --- user credentials --------------------------------------------------------------

    async def verify_account(self, account: str, password: str) -> None:
        """Login step 1 with a user's credentials: accepted when the ERP sets a session cookie.
        No cookie is sent or kept, so the service session is untouched."""
        body = protocol.login_body(account, password)

        async def attempt(deadline: Deadline, n: int) -> None:
            await self._transport.call(
                "POST", self._login_url + protocol.LOGIN_PATH, protocol.login_cookies,
                endpoint="verify-login", form_id=None, attempt=n, deadline=deadline, json=body,
            )

        try:
            await self._retrying(attempt, retry=True)
        except protocol.LoginRefused as error:
            raise ErpLoginRefused(str(error)) from None

    # --- monitoring --------------------------------------------------------------------

    async def probe(self) -> float:
        """Latency in ms of a one-row sales-order read (never merged: it must really go out)."""
        read = probe_read()
        body: dict[str, Any] = {
            "appName": self._config.app_name, "formId": read.form_id, "condition": {}, "columns": list(read.columns),
            "page": 0, "pageSize": read.page_size, "filters": {}, "orderby": "",
        }
        started = time.monotonic()
        await self._page("getBusinessPageList", body, read.form_id, read.model, merge=False, guard=False)
        return (time.monotonic() - started) * 1000

    # --- the connection pool ------------------------------------------------------------

    def pool_stats(self) -> PoolStats:
        return self._transport.slots.stats()

    def pool_answered_within(self, seconds: float) -> bool:
        """Whether this instance's pool had an HTTP answer from the ERP in the last ``seconds``
        (then it is not wedged, and health need not ask)."""
        return time.monotonic() - self._transport.last_answer < seconds

    async def pool_wedged(self, timeout_s: float) -> bool:
        """True when this instance cannot reach the ERP through its own pool while a fresh
        connection can: the instance, not the ERP, is broken. (Any HTTP answer to the base
        URL counts as reaching it: this checks the pool and the path, not the ERP's health.)"""
        url = self._base_url + "/"
        if await self._transport.reaches(url, timeout_s):
            return False
        return await answers_directly(url, timeout_s)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # --- machinery ---------------------------------------------------------------------

    async def _read(
        self, name: str, body: dict[str, Any], form_id: int,
        parse: Callable[[httpx.Response], T], *, retry: bool = True, guard: bool = True,
    ) -> T:
        url = self._base_url + protocol.BUSINESS_PATH.format(name=name)

        async def attempt(deadline: Deadline, n: int) -> T:
            return await self._with_session(deadline, n, name, lambda headers: self._transport.call(
                "POST", url, parse, endpoint=name, form_id=form_id, attempt=n, deadline=deadline, headers=headers, json=body,
            ))

        return await self._retrying(attempt, retry=retry, guard=guard)

    async def _with_session(
        self, deadline: Deadline, attempt: int, endpoint: str, send: Callable[[dict[str, str]], Awaitable[T]],
    ) -> T:
        """One call with the session (``send`` gets the headers that carry it); after an expiry,
        one shared re-login and one repeat."""
        stale: int | None = None
        for _ in range(2):
            session: ErpSession = await self._sessions.get(deadline, attempt, stale=stale)
            try:
                return await send({"Cookie": session.cookie_header()})
            except protocol.SessionExpired:
                logger.info("erp session expired generation=%d endpoint=%s", session.generation, endpoint)
                stale = session.generation
        raise ErpUnavailable("session expired again right after a fresh login")

    async def _retrying(
        self, attempt: Callable[[Deadline, int], Awaitable[T]], *, retry: bool, guard: bool = True
    ) -> T:
        """Transient failures retried with backoff, never past the deadline. With ``guard``
        (everything but the probe, which must really go out) each attempt asks the breaker.

        A request refused by its own budget (its cap of ERP calls, or its time budget running
        out) never counts against the breaker: that is the request's doing, not the ERP's."""
        deadline = Deadline(self._config.deadline_s)
        failures = 0
        while True:
            remaining = deadline.remaining()
            if remaining <= 0:
                raise ErpUnavailable("deadline reached")
            admit_erp_call()  # ErpBudgetExceeded: before the breaker is even asked
            if guard and not self.breaker.allow():
                raise ErpCircuitOpen()
            try:
                async with asyncio.timeout(remaining + OUTER_GRACE_S):
                    result = await attempt(deadline, failures + 1)
            except (protocol.Transient, TimeoutError) as error:
                if guard and erp_at_fault(error):  # the breaker judges the ERP, not the BFF's queues
                    self.breaker.record(False)
                elif guard:  # the request's own doing (its budget, a queue): give back a half-open slot
                    self.breaker.release()
                failures += 1
                reason = str(error) or "timeout"
                if not retry or failures > self._config.retries:
                    raise ErpUnavailable(f"gave up after {failures} attempts: {reason}") from None
                pause = _backoff(failures)
                if pause >= deadline.remaining():
                    raise ErpUnavailable(f"deadline reached after {failures} attempts: {reason}") from None
                logger.info("erp transient failure attempt=%d reason=%s", failures, reason)
                await asyncio.sleep(pause)
            except BaseException as error:
                # Refusals, invalid data, missing records: the ERP answered. Cancellation: unknown.
                if guard:
                    if isinstance(error, Exception):
                        self.breaker.record(not isinstance(error, ErpUnavailable))
                    else:
                        self.breaker.release()
                raise
            else:
                if guard:
                    self.breaker.record(True)
                return result

    @property
    def reads_waiting(self) -> int:
        """Callers awaiting an ERP read in flight (merged followers included)."""
        return self._flights.waiting

    @property
    def circuit_open(self) -> bool:
        return self.breaker.state is BreakerState.OPEN


# --- A file being downloaded: its head read, the rest streamed within a limit. ---


@dataclass
class _FileHead:
    content_type: str
    length: int | None
    head: bytes
    chunks: AsyncIterator[bytes]


async def _read_at_most(chunks: AsyncIterator[bytes], count: int, too_long: Exception | None) -> bytes:
    """Chunks until ``count`` bytes are in (more, from the last chunk, when ``too_long`` is None;
    else ``too_long`` is raised past ``count``) or the body ends."""
    read = bytearray()
    async for chunk in chunks:
        read += chunk
        if len(read) >= count:
            if too_long is not None and len(read) > count:
                raise too_long
            if too_long is None:
                break
    return bytes(read)


class ErpFile:
    """An attachment opened on the ERP: what it declares, its first bytes, the rest to stream."""

    def __init__(self, head: _FileHead, max_bytes: int, close: Callable[[], Awaitable[None]]) -> None:
        self.content_type = head.content_type  # as the ERP declares it
        self.length = head.length  # Content-Length of the file itself, when the ERP gave one
        self.head = head.head
        self.max_bytes = max_bytes
        self.bytes_read = len(head.head)
        self._chunks = head.chunks
        self._close = close
        self._closed = False

    async def rest(self) -> AsyncIterator[bytes]:
        """The bytes after the head, as they come. ErpFileTooLarge as soon as the file passes
        ``max_bytes`` (nothing more is read); ErpUnavailable when the transfer breaks off."""
        try:
            async for chunk in self._chunks:
                self.bytes_read += len(chunk)
                if self.bytes_read > self.max_bytes:
                    raise ErpFileTooLarge(f"more than {self.max_bytes} bytes")
                yield chunk
        except httpx.HTTPError as error:
            raise ErpUnavailable(f"file transfer broken off: {type(error).__name__}") from None

    async def aclose(self) -> None:
        """Closes the ERP's answer (a connection with unread bytes is closed, not pooled) and
        gives back its places; once, however often called."""
        if not self._closed:
            self._closed = True
            await self._close()


# --- The service account's ERP session: logged in lazily, renewed once per expiry. ---
#
# Concurrent callers that met the same expired session wait for one login: the lock
# serialises logins and the generation number tells a waiter that someone else has
# already replaced the session it saw expire.

logger = logging.getLogger("bff.erp")


@dataclass(frozen=True)
class ErpSession:
    generation: int
    sid: str = field(repr=False)
    app_session: str = field(repr=False)

    def cookie_header(self) -> str:
        return f"{protocol.SESSION_COOKIE}={self.app_session}; {protocol.SID_COOKIE}={self.sid}"


class SessionKeeper:
    def __init__(
        self, transport: Transport, *, login_url: str, base_url: str, app_id: str, account: str, password: str
    ) -> None:
        self._transport = transport
        self._login_url = login_url
        self._base_url = base_url
        self._app_id = app_id
        self._account = account
        self._password = password
        self._session: ErpSession | None = None
        self._generation = 0
        self._lock = asyncio.Lock()
        self.logins = 0  # completed logins, for monitoring and tests

    async def get(self, deadline: Deadline, attempt: int, *, stale: int | None = None) -> ErpSession:
        """The current session; a new one if there is none or the current one is ``stale``."""
        session = self._session
        if session is not None and session.generation != stale:
            return session
        async with self._lock:
            session = self._session
            if session is not None and session.generation != stale:
                return session  # someone else logged in while we waited
            self._session = await self._login(deadline, attempt)
            return self._session

    async def _login(self, deadline: Deadline, attempt: int) -> ErpSession:
        try:
            platform = await self._transport.call(
                "POST", self._login_url + protocol.LOGIN_PATH, protocol.login_cookies,
                endpoint="login", form_id=None, attempt=attempt, deadline=deadline,
                json=protocol.login_body(self._account, self._password),
            )
        except protocol.LoginRefused as error:
            logger.error("erp service account login refused reason=%s", error)
            raise ErpUnavailable("service account login refused") from None
        sid = platform.get(protocol.SID_COOKIE)
        if not sid:
            raise ErpDataInvalid("login set no sid cookie")
        app_session = await self._open_app(sid, deadline, attempt)
        self._generation += 1
        self.logins += 1
        logger.info("erp login ok generation=%d", self._generation)
        return ErpSession(self._generation, sid, app_session)

    async def _open_app(self, sid: str, deadline: Deadline, attempt: int) -> str:
        """Step 2: follow the open-app redirect chain by hand so every hop carries the sid
        (httpx drops an explicit Cookie header on redirects) and every Set-Cookie is seen."""
        url = httpx.URL(self._base_url + protocol.OPEN_APP_PATH.format(app_id=self._app_id))
        cookies = {protocol.SID_COOKIE: sid}
        app_session: str | None = None
        for _ in range(protocol.MAX_REDIRECTS + 1):
            header = "; ".join(f"{name}={value}" for name, value in cookies.items())
            response = await self._transport.call(
                "GET", str(url), protocol.open_app_hop, endpoint="open-app", form_id=None,
                attempt=attempt, deadline=deadline, headers={"Cookie": header},
            )
            new = protocol.set_cookies(response)
            app_session = new.get(protocol.SESSION_COOKIE, app_session)
            cookies.update(new)
            location = response.headers.get("location")
            if not response.is_redirect or not location:
                break
            url = response.url.join(location)
        else:
            raise ErpDataInvalid("open-app redirected too many times")
        if not app_session:
            raise ErpDataInvalid("open-app set no application session")
        return app_session


# --- Request merging: identical reads in flight at the same time share one upstream call. ---


class Coalescer:
    def __init__(self) -> None:
        self._flights: dict[Hashable, asyncio.Task[Any]] = {}
        self.waiting = 0  # callers awaiting a flight, first ones included (monitoring, tests)

    async def run(self, key: Hashable, factory: Callable[[], Awaitable[T]]) -> T:
        task = self._flights.get(key)
        if task is None:
            # A task of its own, so a cancelled first caller does not cancel the followers.
            task = asyncio.ensure_future(factory())
            self._flights[key] = task
            task.add_done_callback(lambda done: self._land(key, done))
        self.waiting += 1
        try:
            return await asyncio.shield(task)
        finally:
            self.waiting -= 1

    def _land(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved here: every waiter may have gone away

    @property
    def in_flight(self) -> int:
        return len(self._flights)
