"""Existing phone numbers in their stored form (+33…), as the model now requires.

A number that cannot be read as a French phone number is not lost: it moves to
the place's import note ("Téléphone non reconnu : …") for a person to check.
"""

from django.db import migrations

from mediation.validators import normalize_phone, parse_phone


def normalise_phones(apps, schema_editor):
    Structure = apps.get_model("mediation", "Structure")
    for pk, phone, note in (
        Structure.objects.exclude(phone="").values_list("pk", "phone", "import_note").iterator()
    ):
        if parse_phone(phone) is not None:
            clean = normalize_phone(phone)
            if clean != phone:
                Structure.objects.filter(pk=pk).update(phone=clean)
        else:
            line = f"Téléphone non reconnu : {phone}"
            note = "\n".join(part for part in (note, line) if part)
            Structure.objects.filter(pk=pk).update(phone="", import_note=note)


class Migration(migrations.Migration):
    dependencies = [("mediation", "0006_place_rules")]

    operations = [migrations.RunPython(normalise_phones, migrations.RunPython.noop)]
