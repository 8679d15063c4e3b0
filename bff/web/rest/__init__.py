"""REST shims for the seed's /api/... routes: each runs one GraphQL operation."""
