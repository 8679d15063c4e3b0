"""The top layer: the Starlette app, GraphQL view and guards, REST shims, health, dashboard, serving."""
