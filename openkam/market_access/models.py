"""Formulary and protocol status per account or committee × product (issue 6; see docs/adr/0004)."""
