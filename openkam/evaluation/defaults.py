"""The two scoring models OpenKAM ships (issue 3) and the account typology: which model family and which KPIs
apply to each account type. Plain data: the data migration and ``scoring_model_install_defaults`` both read it.
"""

from __future__ import annotations

from typing import Any

PARTNERSHIP = "partnership-potential"
TRADE = "trade-account"

FIVE = ("1 — very low", "2 — low", "3 — medium", "4 — high", "5 — very high")

DEFAULT_MODELS: list[dict[str, Any]] = [
    {
        "code": PARTNERSHIP,
        "name": "Partnership potential",
        "description": "For hospitals, health systems and payers: is this an organisation with which a long-term "
        "partnership is both possible and worth it?",
        "account_types": ["idn", "health_system", "hospital", "payer", "pbm"],
        "criteria": [
            ("innovation", "Innovation readiness and patient orientation", 20,
             "Do they adopt new therapies and care models early? Is the patient at the centre of their decisions "
             "(outcomes programmes, patient pathways)?",
             ("Laggard, cost-only focus", "Follows others late", "Selective adopter", "Early adopter",
              "Recognised innovator, patient-centred")),
            ("technology", "Technological savvy and readiness to implement beyond the comfort zone", 15,
             "Digital maturity (EHR, data, remote care) and willingness to pilot solutions that change how they work.",
             ("No appetite for change", "Reluctant", "Open if proven elsewhere", "Runs pilots",
              "Co-develops solutions")),
            ("alignment", "Alignment of their ambitions and objectives with ours", 20,
             "Do their strategic priorities (service lines, population health, budget goals) overlap our therapeutic "
             "areas and value proposition?",
             ("No overlap", "Marginal overlap", "Partial overlap", "Strong overlap", "Shared objectives")),
            ("partnership", "Comfort and openness to partnership with industry", 15,
             "Policies and culture toward industry collaboration: access for reps, joint projects, data sharing.",
             ("Closed to industry", "Transactional only", "Case by case", "Open, some joint work",
              "Active partner, joint governance")),
            ("value", "Value to the business and leadership in healthcare", 30,
             "Current and future revenue potential for our portfolio, and influence on peers (reference centre, "
             "guideline authors, network leader).",
             ("Negligible", "Small", "Moderate", "Large", "Very large, sets the standard")),
        ],
    },
    {
        "code": TRADE,
        "name": "Trade account",
        "description": "For wholesalers and pharmacy chains: commercial weight and quality of the business.",
        "account_types": ["wholesaler", "pharmacy_chain"],
        "criteria": [
            ("turnover", "Turnover", 30, "Annual turnover with our portfolio (net sales).",
             ("< 0.5 M", "0.5–2 M", "2–5 M", "5–15 M", "> 15 M")),
            ("margin", "Margin", 20, "Gross margin we keep on this business after trade terms.",
             ("< 5 %", "5–10 %", "10–15 %", "15–20 %", "> 20 %")),
            ("discount", "Discount pressure", 15, "How hard they push on discounts and rebates (5 = little pressure).",
             ("Extreme", "High", "Moderate", "Low", "Minimal")),
            ("penetration", "Portfolio penetration / basket share", 20,
             "Share of our listed products they carry, and our share of their category basket.",
             ("< 10 %", "10–25 %", "25–50 %", "50–75 %", "> 75 %")),
            ("growth", "Growth", 15, "Year-on-year growth of our business with them.",
             ("Declining", "Flat", "+0–5 %", "+5–10 %", "> +10 %")),
        ],
    },
]  # fmt: skip

# Account typology: the account type decides the model family and the KPIs that drive the account.
HOSPITAL_KPIS = [
    "Cost / benefit (budget impact, health-economic evidence)",
    "Partnership level (joint projects, governance)",
    "Evidence-based decisions (guidelines, P&T reviews)",
    "Formulary and protocol status",
]
PAYER_KPIS = [
    "Cost / benefit (budget impact, ICER)",
    "Evidence-based decisions (HTA, outcomes data)",
    "Formulary tier and restrictions",
    "Partnership level (value-based agreements)",
]
TRADE_KPIS = ["Turnover", "Margin", "Discount level", "Basket share"]

TYPOLOGY: dict[str, tuple[str | None, str, list[str]]] = {
    # account type -> (model family, typology label, KPIs)
    "idn": (PARTNERSHIP, "Provider system", HOSPITAL_KPIS),
    "health_system": (PARTNERSHIP, "Provider system", HOSPITAL_KPIS),
    "hospital": (PARTNERSHIP, "Hospital", HOSPITAL_KPIS),
    "payer": (PARTNERSHIP, "Payer", PAYER_KPIS),
    "pbm": (PARTNERSHIP, "Payer", PAYER_KPIS),
    "wholesaler": (TRADE, "Trade account", TRADE_KPIS),
    "pharmacy_chain": (TRADE, "Trade account", TRADE_KPIS),
}
NOT_EVALUATED: tuple[str | None, str, list[str]] = (None, "Not evaluated on its own", [])


def typology(account_type: str) -> tuple[str | None, str, list[str]]:
    """(model family code or None, typology label, KPIs) for an account type."""
    return TYPOLOGY.get(account_type, NOT_EVALUATED)


# Intended share of the team's effort per level (the KAM analysis compares actual effort against it).
INTENDED_EFFORT_SHARE = {"strategic": 50, "key": 30, "basic": 15, "declined": 5}
DEFAULT_STRATEGIC_CAP = 10
