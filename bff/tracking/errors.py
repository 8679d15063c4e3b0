"""What the tracking client raises (no purchaser text: a track that cannot be had degrades to
the stored one, or to UNKNOWN; nothing of it becomes an error a purchaser sees)."""

from __future__ import annotations


class TrackingError(Exception):
    """The tracking service could not answer this question."""


class TrackingUnavailable(TrackingError):
    """Transport failure, timeout, or an answer that is not the protocol's: worth trying later."""


class TrackingRefused(TrackingError):
    """The service answered and refused (``returnCode``): asking again the same way will not help."""

    def __init__(self, return_code: str, message: str) -> None:
        super().__init__(f"{return_code}: {message}")
        self.return_code = return_code
        self.message = message
