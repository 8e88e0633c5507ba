"""The plan templates shipped with OpenKAM (also installed by migration 0004): the full KAM process for health
systems, IDNs and hospitals, and a shorter access-led one for payers and national bodies."""

from __future__ import annotations

from typing import Any

STAGES: list[tuple[str, str, list[str]]] = [
    (
        "Portfolio vs. profit",
        "Where the account stands in our portfolio and what it is worth.",
        [
            "Confirm the account's tier and KAM level",
            "Review revenue, margin and cost to serve",
            "Agree the ambition for the period",
        ],
    ),
    (
        "Understand the customer",
        "The customer's strategy, pressures and how they decide.",
        [
            "Capture the customer's strategic priorities",
            "Map the decision-making unit and its committees",
            "Review formulary and protocol position",
        ],
    ),
    (
        "Relationship X-ray",
        "Who we know, how well, and where the gaps are.",
        [
            "Assess stance and influence of key stakeholders",
            "Identify relationship gaps per decision domain",
            "Name an internal owner per key stakeholder",
        ],
    ),
    (
        "Plan blueprint",
        "SWOT, critical success factors, objectives and the value proposition.",
        [
            "Complete the SWOT with evidence",
            "Agree critical success factors",
            "Set measurable objectives (leading and lagging)",
            "Write the compliant value proposition",
        ],
    ),
    (
        "Action",
        "Tactics and dated actions with named owners.",
        [
            "Define tactics per objective",
            "Plan actions with owners and due dates",
            "Mark what is shared with the customer",
        ],
    ),
    (
        "Resource planning and audit",
        "People, budget and the compliance check.",
        [
            "Confirm the cross-functional team and time",
            "Check the plan against compliance rules",
            "Submit the plan for approval",
        ],
    ),
    (
        "Communicate",
        "Share the plan inside the company and with the customer.",
        [
            "Brief the internal account team",
            "Agree the joint plan with the customer",
            "Schedule the quarterly account review",
        ],
    ),
]

TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "Strategic account plan",
        "description": "The full KAM process for health systems, IDNs and hospitals.",
        "account_types": ["idn", "health_system", "hospital"],
        "is_default": True,
        "sections": [
            "customer_priorities",
            "positioning",
            "strategy",
            "swot",
            "csfs",
            "goals",
            "objectives",
            "stages",
        ],
        "required_fields": [
            "objective.metric",
            "objective.target",
            "plan.customer_priorities",
            "plan.value_proposition",
            "plan.strategy",
            "swot.threats",
            "plan.csfs",
            "account.decision_maker",
        ],
        "stale_after_days": 30,
        "stages": STAGES,
    },
    {
        "name": "Payer and national account plan",
        "description": "Payers, PBMs, GPOs and national bodies: access-led, fewer stages.",
        "account_types": ["payer", "pbm", "gpo", "government_body", "hta_body"],
        "is_default": False,
        "sections": ["customer_priorities", "positioning", "strategy", "swot", "objectives", "stages"],
        "required_fields": ["objective.target", "plan.value_proposition", "swot.threats"],
        "stale_after_days": 45,
        "stages": [STAGES[1], STAGES[3], STAGES[4], STAGES[6]],
    },
]


def install_default_templates(*, using: str = "default") -> int:
    """Create the shipped templates that are missing (by name); returns how many were created. Used after a
    demo re-seed, which empties the plans tables."""
    from openkam.plans.models import PlanTemplate, TemplateStage, TemplateStep

    created = 0
    for spec in TEMPLATES:
        if PlanTemplate.objects.using(using).filter(name=spec["name"]).exists():
            continue
        fields = {k: v for k, v in spec.items() if k != "stages"}
        if fields["is_default"] and PlanTemplate.objects.using(using).filter(is_default=True).exists():
            fields["is_default"] = False
        template = PlanTemplate.objects.using(using).create(**fields)
        for i, (name, description, steps) in enumerate(spec["stages"], start=1):
            stage = TemplateStage.objects.using(using).create(
                template=template, name=name, description=description, position=i
            )
            TemplateStep.objects.using(using).bulk_create(
                [TemplateStep(stage=stage, title=title, position=j) for j, title in enumerate(steps, start=1)]
            )
        created += 1
    return created
