"""services of the handover app."""
