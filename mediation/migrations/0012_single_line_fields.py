"""One-line fields already stored with a line break or another control character.

A carriage return in a name broke every e-mail about the place (mail headers)
and stopped the reminders. The model now refuses them; the values stored
before are kept, with each run of such characters turned into one space.
"""

import re

from django.db import migrations, models

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
MULTILINE = {"summary"}


def one_line(apps, schema_editor):
    for model_name in ("Structure", "Stop"):
        model = apps.get_model("mediation", model_name)
        names = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField) and f.name not in MULTILINE
        ]
        for row in model.objects.values("pk", *names).iterator():
            fixed = {
                name: CONTROL.sub(" ", value).strip()
                for name, value in row.items()
                if name != "pk" and value and CONTROL.search(value)
            }
            if fixed:
                model.objects.filter(pk=row["pk"]).update(**fixed)


class Migration(migrations.Migration):
    dependencies = [("mediation", "0011_update_campaigns")]

    operations = [migrations.RunPython(one_line, migrations.RunPython.noop)]
