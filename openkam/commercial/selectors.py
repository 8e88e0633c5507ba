"""selectors of the commercial app."""
