"""forms of the market_access app."""
