"""views of the handover app."""
