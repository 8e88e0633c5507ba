# Account 360 reads "the newest interactions / how many since a date, at these accounts, of these
# classifications" from this index alone (index-only scans). It replaces interaction_account_idx, whose
# key it extends; built concurrently so a large table keeps taking writes, the old one dropped after.

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("activities", "0003_initial"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="interaction",
            index=models.Index(
                fields=["account", "-occurred_at", "-id"],
                include=("classification",),
                name="interaction_account_cov_idx",
            ),
        ),
        RemoveIndexConcurrently(
            model_name="interaction",
            name="interaction_account_idx",
        ),
    ]
