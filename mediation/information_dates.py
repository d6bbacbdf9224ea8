"""`Structure.information_updated_at` also moves when a place's kinds or stops change.

The fields of the structure itself are dated in `Structure.save()`; its kinds
(a many-to-many) and its itinerant stops (another table) are dated here. A
fixture being loaded (`raw`) or an import that gave its source's date leaves
the date alone.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from mediation.models import Stop, Structure


@receiver(pre_save, sender=Structure, dispatch_uid="information-date-raw")
def keep_loaded_date(sender, instance, raw=False, **kwargs):
    if raw:  # loaddata: the fixture carries its own dates
        instance._information_date_given = True


@receiver(m2m_changed, sender=Structure.kinds.through, dispatch_uid="information-date-kinds")
def date_kinds_change(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if reverse:  # a kind's structures changed: each structure's information changed
        _stamp(Structure.objects.filter(pk__in=pk_set or ()))
    elif not getattr(instance, "_information_date_given", False):
        instance.information_updated_at = _stamp(Structure.objects.filter(pk=instance.pk))


@receiver([post_save, post_delete], sender=Stop, dispatch_uid="information-date-stops")
def date_stop_change(sender, instance, raw=False, **kwargs):
    if not raw:
        _stamp(Structure.objects.filter(pk=instance.structure_id))


def _stamp(queryset):
    now = timezone.now()
    queryset.update(information_updated_at=now)
    return now
