"""services of the market_access app."""
