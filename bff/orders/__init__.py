"""Orders, materials, progress and shipments: scoped ERP reads and their mapping to the domain."""
