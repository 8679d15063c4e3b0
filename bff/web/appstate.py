"""How a route reaches what ``create_app`` built: the one way into ``app.state`` (typed), for every route."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network

from starlette.requests import HTTPConnection

from bff.core.config import Settings
from bff.services import Services


def services_of(connection: HTTPConnection) -> Services:
    """The app's services (``create_app`` stores them; several apps may share one)."""
    services: Services = connection.app.state.services
    return services


def settings_of(connection: HTTPConnection) -> Settings:
    settings: Settings = connection.app.state.settings
    return settings


def trusted_sources_of(connection: HTTPConnection) -> list[IPv4Network | IPv6Network]:
    """BFF_TRUSTED_HEADER_SOURCES, parsed once by ``create_app``."""
    networks: list[IPv4Network | IPv6Network] = connection.app.state.trusted_sources
    return networks
