"""Ship the default bid risk checklist (price, clinical differentiation, supply, evaluators, contract terms)."""

from decimal import Decimal

from django.db import migrations


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    from openkam.commercial.defaults import DEFAULT_RISK_FACTORS

    RiskFactor = apps.get_model("commercial", "RiskFactor")
    for position, (code, name, weight, guidance) in enumerate(DEFAULT_RISK_FACTORS):
        RiskFactor.objects.get_or_create(
            code=code, defaults={"name": name, "weight": Decimal(weight), "guidance": guidance, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("commercial", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
