"""Grants record the purposes the National Data Opt-out applies to (ADR 0015), filled in for
grants already written from each agreement's current document."""

from django.db import migrations, models


def fill(apps, schema_editor):
    Grant = apps.get_model("access", "Grant")
    AgreementVersion = apps.get_model("agreements", "AgreementVersion")
    documents: dict = {}
    for grant in Grant.objects.exclude(agreement=None).iterator():
        if grant.agreement_id not in documents:
            version = (
                AgreementVersion.objects.filter(agreement_id=grant.agreement_id)
                .order_by("-number")
                .first()
            )
            documents[grant.agreement_id] = version.document if version else {}
        document = documents[grant.agreement_id] or {}
        rights = document.get("rights_handling") or {}
        if not rights.get("national_data_opt_out_applied"):
            continue
        direct = {p.get("id") for p in document.get("purposes") or [] if p.get("is_direct_care")}
        grant.opt_out_purposes = [pid for pid, _ in grant.purposes if pid not in direct]
        grant.save(update_fields=["opt_out_purposes"])


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0002_grants_of_agreements_in_force"),
        ("agreements", "0002_frameworks_and_amendments"),
    ]

    operations = [
        migrations.AddField(
            model_name="grant",
            name="opt_out_purposes",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
