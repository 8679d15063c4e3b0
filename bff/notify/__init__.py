"""Subscription-message notifications: templates, grants, the outbox and the order change watcher."""
