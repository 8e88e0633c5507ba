"""Stakeholder assessments per account, decision domains, relationship strengths, influence links (issue 4)."""
