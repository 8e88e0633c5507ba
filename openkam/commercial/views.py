"""views of the commercial app."""
