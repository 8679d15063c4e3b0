"""Monitoring: call logs, structured logging (more to come: probe, breaker, metrics, alerts)."""
