"""Ship the two default scoring models of issue 3 (Partnership potential, Trade account)."""

from decimal import Decimal

from django.db import migrations


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    from openkam.evaluation.defaults import DEFAULT_MODELS

    ScoringModel = apps.get_model("evaluation", "ScoringModel")
    Criterion = apps.get_model("evaluation", "Criterion")
    for spec in DEFAULT_MODELS:
        if ScoringModel.objects.filter(code=spec["code"]).exists():
            continue
        model = ScoringModel.objects.create(
            code=spec["code"], version=1, name=spec["name"], description=spec["description"],
            account_types=spec["account_types"], scale_min=1, scale_max=5, strategic_min=Decimal("75"),
            key_min=Decimal("55"), basic_min=Decimal("30"), status="active",
        )  # fmt: skip
        for position, (key, name, weight, guidance, levels) in enumerate(spec["criteria"]):
            Criterion.objects.create(
                model=model, key=key, position=position, name=name, guidance=guidance, weight=Decimal(weight),
                levels=list(levels),
            )  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
