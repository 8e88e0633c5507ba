"""forms of the handover app."""
