"""selectors of the relationships app."""
