"""Give existing structures an honest `information_updated_at`.

Until now imports wrote the source's own date into `verified_at` (and
`date_maj` was the later of that and the last edit, a fixture's loading
included). Each structure now gets: the later of the source's date (from its
last import) and the last edit made by a person; failing both, its
`updated_at` (the demo fixture's own date, or the last save). A `verified_at`
that only holds the source's date is cleared: nobody verified it here.

NaN or infinite coordinates, stored before the model refused them, become no
position (a stop, which needs one, takes its commune's point).
"""

import math

from django.db import migrations

IMPORT_REASON = "Import"


def date_information(apps, schema_editor):
    Structure = apps.get_model("mediation", "Structure")
    History = apps.get_model("mediation", "HistoricalStructure")
    for structure in Structure.objects.only("pk", "updated_at", "verified_at").iterator():
        records = list(
            History.objects.filter(id=structure.pk)
            .order_by("history_date", "history_id")
            .values("history_date", "history_change_reason", "history_user_id", "verified_at")
        )
        imported = [
            r for r in records if (r["history_change_reason"] or "").startswith(IMPORT_REASON)
        ]
        edits = [
            r["history_date"]
            for r in records
            if r["history_user_id"]
            and not (r["history_change_reason"] or "").startswith(IMPORT_REASON)
        ]
        dates, verified_at = edits[-1:], structure.verified_at
        if imported and imported[-1]["verified_at"]:
            source_date = imported[-1]["verified_at"]
            dates.append(source_date)
            if verified_at == source_date:
                verified_at = None
        Structure.objects.filter(pk=structure.pk).update(
            information_updated_at=max(dates) if dates else structure.updated_at,
            verified_at=verified_at,
        )


def forget_non_finite_positions(apps, schema_editor):
    """NaN or infinite coordinates (stored before they were refused) become no position."""
    for name in ("Structure", "Stop"):
        model = apps.get_model("mediation", name)
        for pk, latitude, longitude in model.objects.values_list("pk", "latitude", "longitude"):
            if any(v is not None and not math.isfinite(v) for v in (latitude, longitude)):
                if name == "Stop":  # a stop needs a position: its commune's point
                    stop = model.objects.select_related("commune").get(pk=pk)
                    stop.latitude, stop.longitude = stop.commune.latitude, stop.commune.longitude
                    stop.save(update_fields=["latitude", "longitude"])
                else:
                    model.objects.filter(pk=pk).update(latitude=None, longitude=None)


class Migration(migrations.Migration):
    dependencies = [("mediation", "0016_information_date_import_conflicts_finite")]

    operations = [
        migrations.RunPython(date_information, migrations.RunPython.noop),
        migrations.RunPython(forget_non_finite_positions, migrations.RunPython.noop),
    ]
