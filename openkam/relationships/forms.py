"""forms of the relationships app."""
