"""惠采 BFF: the GraphQL backend-for-frontend between the mini program and the Snowbeasts ERP."""
