"""views of the relationships app."""
