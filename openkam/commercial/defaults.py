"""The default bid risk checklist (issue 6): five factors, equal weights. Administrators change it afterwards."""

from __future__ import annotations

DEFAULT_RISK_FACTORS: tuple[tuple[str, str, int, str], ...] = (
    ("price_position", "Price position", 20,
     "1: we are clearly the most expensive offer · 3: in line with competitors · 5: best price / value position."),
    ("clinical_differentiation", "Clinical differentiation", 20,
     "1: no advantage the evaluators recognise · 5: clear, evidence-backed advantage on the award criteria."),
    ("supply_security", "Supply security", 20,
     "1: recent shortages or single-source risk · 5: proven, multi-site supply with buffer stock."),
    ("evaluator_relationship", "Relationship with evaluators", 20,
     "1: no access to the evaluation panel · 5: trusted relationships with most evaluators (within compliance)."),
    ("contract_terms", "Contract terms", 20,
     "1: terms we cannot accept (penalties, volumes, payment) · 5: terms fully acceptable."),
)  # fmt: skip
