"""selectors of the handover app."""
