"""selectors of the market_access app."""
