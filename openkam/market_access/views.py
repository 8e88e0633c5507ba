"""views of the market_access app."""
