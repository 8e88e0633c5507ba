# Account 360 counts the people holding a current position below an account (per child and in all) from
# this index alone (index-only scans). It replaces position_account_idx, whose key it keeps; built
# concurrently so a large table keeps taking writes, the old one dropped after.

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("stakeholders", "0002_load_nucc_taxonomy"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="position",
            index=models.Index(
                fields=["account", "valid_to"], include=("stakeholder",), name="position_account_cov_idx"
            ),
        ),
        RemoveIndexConcurrently(
            model_name="position",
            name="position_account_idx",
        ),
    ]
