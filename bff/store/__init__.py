"""Persistence: the few tables the BFF keeps (sessions, bindings, logs, outbox)."""
