"""A parcel-tracking simulator (快递100's query, subscription and signed pushes)."""

from bff.sim.tracking.app import create_app
from bff.sim.tracking.state import TrackingSim, TrackingSimConfig

__all__ = ["TrackingSim", "TrackingSimConfig", "create_app"]
