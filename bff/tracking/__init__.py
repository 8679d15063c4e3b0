"""The parcel-tracking service's client (快递100): its protocol in :mod:`bff.tracking.protocol`,
the carriers it follows in :mod:`bff.tracking.carriers`, HTTP in :mod:`bff.tracking.client`."""

from bff.tracking.carriers import Carrier, carrier_of
from bff.tracking.client import TrackingClient, TrackingConfig
from bff.tracking.errors import TrackingError, TrackingRefused, TrackingUnavailable
from bff.tracking.protocol import Push, Track, TrackPoint

__all__ = [
    "Carrier", "Push", "Track", "TrackPoint", "TrackingClient", "TrackingConfig", "TrackingError",
    "TrackingRefused", "TrackingUnavailable", "carrier_of",
]
