"""Load the NUCC provider taxonomy shipped in openkam/stakeholders/data (reference data, upsert)."""

import csv
from pathlib import Path

from django.db import migrations

CSV = Path(__file__).resolve().parent.parent / "data" / "nucc_taxonomy_251.csv"


def load(apps, schema_editor):
    Specialty = apps.get_model("stakeholders", "Specialty")
    with CSV.open(newline="", encoding="utf-8-sig") as fh:
        rows = [
            Specialty(
                code=r["Code"].strip(),
                grouping=r["Grouping"].strip(),
                classification=r["Classification"].strip(),
                specialization=r["Specialization"].strip(),
                display_name=(r["Display Name"] or r["Classification"]).strip(),
                section=r["Section"].strip(),
                definition=(r["Definition"] or "").strip(),
            )
            for r in csv.DictReader(fh)
        ]
    Specialty.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["grouping", "classification", "specialization", "display_name", "section", "definition"],
    )


class Migration(migrations.Migration):
    dependencies = [("stakeholders", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
