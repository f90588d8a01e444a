"""Write the grants of agreements already in force (active or suspended) when grants were
introduced, so they keep granting what they grant. Uses the live models through
``write_grants`` (there is one way to read a document into grants); if the models change so
that this no longer runs, squash the migrations."""

from django.db import migrations


def write_existing(apps, schema_editor):
    from accord.access.grants import write_grants
    from accord.agreements.document import DataSharingAgreement
    from accord.agreements.models import Agreement

    for agreement in Agreement.objects.filter(status__in=["active", "suspended"]):
        version = agreement.current
        if version is not None:
            write_grants(agreement, DataSharingAgreement.model_validate(version.document))


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0001_grants_extracts_releases"),
        ("agreements", "0002_frameworks_and_amendments"),
    ]

    operations = [migrations.RunPython(write_existing, migrations.RunPython.noop)]
