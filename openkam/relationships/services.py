"""services of the relationships app."""
