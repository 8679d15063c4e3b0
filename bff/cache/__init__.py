"""Redis-backed shared state, with local fallbacks: the cache and the rate limits."""
