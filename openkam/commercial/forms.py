"""forms of the commercial app."""
