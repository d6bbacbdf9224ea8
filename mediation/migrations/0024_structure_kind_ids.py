"""Each place's kinds by id in its own column, carried by `structure_near_idx`: the
places of a box are filtered by kind from the index alone (see `of_kinds()`)."""

from django.db import migrations, models

import mediation.fields


def fill(apps, schema_editor):
    from mediation.models import refresh_kind_ids

    refresh_kind_ids(using=schema_editor.connection.alias)


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
