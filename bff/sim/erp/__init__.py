"""A Snowbeasts ERP simulator: the three-step cookie login, the business calls, seeded data, faults."""

from bff.sim.erp.app import create_app
from bff.sim.erp.data import DemoCustomer
from bff.sim.erp.dialect import Dialect
from bff.sim.erp.state import ErpSim, ErpSimConfig

__all__ = ["DemoCustomer", "Dialect", "ErpSim", "ErpSimConfig", "create_app"]
