"""What the ERP client raises: client-level failures that say what went wrong with the ERP,
never what a purchaser should read. ``reason`` is for logs and the call record only.

The purchaser-facing code and Chinese message of each is decided in one table above the
clients (``bff/web/errors.py``); the services catch these classes, not error codes.
"""

from __future__ import annotations


class ErpError(Exception):
    """Base of every failure the ERP client lets out."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class ErpFailure(ErpError):
    """The ERP gave no usable answer: callers that can do without it (kept data, a name kept at
    binding time) catch this, and only this."""


class ErpUnavailable(ErpFailure):
    """No answer in time: connection failures, timeouts, retries used up, the service login refused."""


class ErpCircuitOpen(ErpUnavailable):
    """Refused at once: the circuit breaker is open, so no request waits for a timeout."""

    def __init__(self) -> None:
        super().__init__("circuit open")


class ErpDataInvalid(ErpFailure):
    """The ERP answered something the client cannot read (not JSON, wrong shapes, no cookie)."""


class ErpRefused(ErpFailure):
    """The ERP answered, and refused the call (success false, an HTTP 4xx)."""


class RecordMissing(ErpRefused):
    """The ERP says the record does not exist (getBusiness answers None for it)."""


class ErpFileMissing(ErpError):
    """An attachment path that is malformed, or that the ERP does not have."""


class ErpFileTooLarge(ErpError):
    """An attachment larger than the caller's limit: refused before reading when the ERP declares
    its length, else stopped as soon as the limit is passed."""


class ErpLoginRefused(ErpError):
    """The ERP refused a user's account/password (``verify_account``, during binding)."""


class ErpBudgetExceeded(ErpError):
    """This request used up its own share of ERP calls: refused before the call, never the ERP's fault."""

    def __init__(self) -> None:
        super().__init__("per-request ERP call limit reached")


# --- signals inside the client: caught by it, never let out --------------------------------


class SessionExpired(Exception):
    """The ERP no longer accepts the session: log in again once and repeat the call."""


class Transient(Exception):
    """A failure worth retrying (5xx, timeouts, connection errors). ``erp_fault``: does it say the
    ERP is unhealthy (the breaker counts it), or only that the BFF itself queued too long?"""

    def __init__(self, reason: str, *, timeout: bool = False, erp_fault: bool = True) -> None:
        super().__init__(reason)
        self.timeout = timeout
        self.erp_fault = erp_fault


class LoginRefused(Exception):
    """The ERP refused an account/password pair (the client turns it into ErpLoginRefused or ErpUnavailable)."""


INTERNAL_SIGNALS: tuple[type[Exception], ...] = (SessionExpired, Transient, LoginRefused)
