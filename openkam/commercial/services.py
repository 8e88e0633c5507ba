"""services of the commercial app."""
