"""The seven standard decision domains (DESIGN.md §1: the parallel conversations a decision runs through)."""

from django.db import migrations

STANDARD = [
    ("contractual", "Contractual", "Contracts, terms, rebates and their negotiation."),
    ("financial", "Financial", "Budget impact, total cost of care, pricing."),
    ("regulatory_compliance", "Regulatory compliance", "Regulatory, legal and compliance review."),
    ("registration_listing", "Registration and listing", "Formulary listing, product registration, protocols."),
    ("reimbursement_payment", "Reimbursement and payment", "Coverage, reimbursement and payment decisions."),
    ("science_efficacy", "Science and efficacy", "Clinical evidence, efficacy and safety evaluation."),
    ("supply_chain", "Supply chain", "Purchasing, logistics, inventory and distribution."),
]


def seed(apps, schema_editor):
    Domain = apps.get_model("relationships", "DecisionDomain")
    for i, (code, name, description) in enumerate(STANDARD, start=1):
        Domain.objects.update_or_create(
            code=code,
            defaults={"name": name, "description": description, "is_standard": True, "position": i * 10},
        )


class Migration(migrations.Migration):
    dependencies = [("relationships", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
