"""The bottom layer: domain dataclasses, errors, settings, clock, security helpers, logging. Imports nothing else of the BFF."""
