"""Each place's kinds by id in its own column, carried by `structure_near_idx`: the
places of a box are filtered by kind from the index alone (see `of_kinds()`)."""

from django.db import migrations, models

import mediation.fields


def fill(apps, schema_editor):
    """What `mediation.models.refresh_kind_ids()` does for every place, as it was
    when this migration was written (a migration does not follow later code)."""
    of_place = (
        "FROM mediation_structure_kinds k WHERE k.structure_id = mediation_structure.id"
    )
    if schema_editor.connection.vendor == "postgresql":
        joined = f"SELECT '|' || string_agg(k.servicetype_id::text, '|' ORDER BY 1) || '|' {of_place}"
    else:
        ordered = f"SELECT k.servicetype_id AS i {of_place} ORDER BY 1"
        joined = f"SELECT '|' || group_concat(i, '|') || '|' FROM ({ordered})"
    schema_editor.execute(f"UPDATE mediation_structure SET kind_ids = COALESCE(({joined}), '')")


class Migration(migrations.Migration):

    dependencies = [
        ('mediation', '0023_structure_near_index_covers_filters'),
        ('territories', '0003_territory_project'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='structure',
            name='structure_near_idx',
        ),
        migrations.AddField(
            model_name='structure',
            name='kind_ids',
            field=mediation.fields.MultiValueField(blank=True, default=list, editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='structure',
            index=models.Index(fields=['status', 'latitude', 'longitude', 'id', 'commune', 'services', 'publics', 'fees', 'kind_ids'], name='structure_near_idx'),
        ),
    ]
