"""Ship a sensible default plan template (sections, stages with steps, required fields), and start plan rot
for existing plans from their last change."""

from django.db import migrations
from django.db.models import F

DEFAULT_STAGES = [
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

ALL_SECTIONS = [
    "customer_priorities",
    "positioning",
    "strategy",
    "swot",
    "csfs",
    "goals",
    "objectives",
    "stages",
]


def forwards(apps, schema_editor):
    PlanTemplate = apps.get_model("plans", "PlanTemplate")
    TemplateStage = apps.get_model("plans", "TemplateStage")
    TemplateStep = apps.get_model("plans", "TemplateStep")
    AccountPlan = apps.get_model("plans", "AccountPlan")
    AccountPlan.objects.update(last_meaningful_update_at=F("updated_at"))
    if PlanTemplate.objects.filter(name="Strategic account plan").exists():
        return
    template = PlanTemplate.objects.create(
        name="Strategic account plan",
        description="The full KAM process for health systems, IDNs and hospitals.",
        account_types=[
            "idn",
            "health_system",
            "hospital",
        ],
        is_default=True,
        sections=ALL_SECTIONS,
        required_fields=[
            "objective.metric",
            "objective.target",
            "plan.customer_priorities",
            "plan.value_proposition",
            "plan.strategy",
            "swot.threats",
            "plan.csfs",
            "account.decision_maker",
        ],
        stale_after_days=30,
    )
    for i, (name, description, steps) in enumerate(DEFAULT_STAGES, start=1):
        stage = TemplateStage.objects.create(template=template, name=name, description=description, position=i)
        for j, title in enumerate(steps, start=1):
            TemplateStep.objects.create(stage=stage, title=title, position=j)
    payer = PlanTemplate.objects.create(
        name="Payer and national account plan",
        description="Payers, PBMs, GPOs and national bodies: access-led, fewer stages.",
        account_types=[
            "payer",
            "pbm",
            "gpo",
            "government_body",
            "hta_body",
        ],
        is_default=False,
        sections=[
            "customer_priorities",
            "positioning",
            "strategy",
            "swot",
            "objectives",
            "stages",
        ],
        required_fields=[
            "objective.target",
            "objective.due_date",
            "plan.value_proposition",
            "swot.threats",
        ],
        stale_after_days=45,
    )
    for i, (name, description, steps) in enumerate(
        [DEFAULT_STAGES[1], DEFAULT_STAGES[3], DEFAULT_STAGES[4], DEFAULT_STAGES[6]], start=1
    ):
        stage = TemplateStage.objects.create(template=payer, name=name, description=description, position=i)
        for j, title in enumerate(steps, start=1):
            TemplateStep.objects.create(stage=stage, title=title, position=j)


def backwards(apps, schema_editor):
    PlanTemplate = apps.get_model("plans", "PlanTemplate")
    PlanTemplate.objects.filter(
        name__in=[
            "Strategic account plan",
            "Payer and national account plan",
        ]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("plans", "0003_plan_sections")]

    operations = [migrations.RunPython(forwards, backwards)]
