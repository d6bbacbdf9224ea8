"""The structures domain: places of digital mediation, their kinds and stops.

A `Structure` can hold every field of the national data standard 1.0.2 (which
column is which attribute: `mediation.standard`), plus what the regional
directory needs: kinds, publication status, provenance, verification date.
"""

import functools
import json
import math
import re
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import connections, models, transaction
from django.db.models import (
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Concat, Sqrt, StrIndex
from django.db.models.lookups import GreaterThan, In, Range
from django.db.models.signals import m2m_changed, post_delete, pre_delete
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.text import slugify
from simple_history.models import HistoricalRecords

from mediation import choices, kind_check
from mediation.fields import (
    SEPARATOR,
    EmailListField,
    MultiValueField,
    PhoneField,
    WebAddressField,
    WebAddressListField,
)
from mediation.opening_hours import validate_opening_hours
from mediation.space import emails
from mediation.validators import (
    validate_latitude,
    validate_longitude,
    validate_single_line,
    validate_text,
)
from territories.models import BassinDeVie, Commune, normalize_search

validate_postal_code = RegexValidator(
    r"^\d{5}$", "Le code postal doit comporter exactement 5 chiffres (exemple : 36000)."
)
validate_code_insee = RegexValidator(
    r"^([013-9]\d|2[AB1-9])\d{3}$",
    "Le code INSEE doit comporter 5 caractères (exemple : 36044 pour Châteauroux).",
)
validate_pivot = RegexValidator(
    r"^[a-zA-Z0-9]{9,14}$",
    "Le SIRET (14 chiffres), le SIREN (9 chiffres) ou le numéro RNA doit comporter "
    "de 9 à 14 lettres ou chiffres.",
)


class EmailUserManager(UserManager):
    def _create_user(self, username, email, password, **extra_fields):
        email = self.normalize_email(email or username)
        if not email:
            raise ValueError("Une adresse e-mail est obligatoire.")
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(None, email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(None, email, password, **extra_fields)


class User(AbstractUser):
    """An account: people log in with their e-mail address."""

    username = None
    email = models.EmailField("adresse e-mail", unique=True)
    # Set when the person deleted their account (mediation/privacy.py): the row
    # stays, empty, so that the history still says "compte supprimé".
    deleted_at = models.DateTimeField("supprimé le", null=True, blank=True, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = EmailUserManager()

    class Meta:
        verbose_name = "compte"

    def __str__(self):
        if self.deleted_at:
            return "compte supprimé"
        return self.get_full_name() or self.email

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._stored_email = user.__dict__.get("email")  # None when deferred
        return user

    def save(self, *args, **kwargs):
        """Save; then tell the owner by e-mail when their password or e-mail changed.

        A new password is one given to `set_password()` (Django's reset and
        change forms, the admin, `changepassword`), not the re-hashing Django
        does on login. A deleted account (inactive) is told nothing. The mails
        leave after commit, the e-mail change's to both addresses."""
        existing = not self._state.adding
        new_password = existing and self._password is not None
        old_email = getattr(self, "_stored_email", None) if existing else None
        new_email = bool(old_email) and old_email.lower() != (self.email or "").lower()
        super().save(*args, **kwargs)
        self._stored_email = self.email
        if not self.is_active:
            return
        context = {
            "user": self,
            "when": timezone.localtime(),
            "reset_url": emails.default_base_url() + reverse("space:password_reset"),
        }
        if new_password:
            emails.send("password_changed", to=[self.email], context=context)
        if new_email:
            emails.send(
                "email_changed",
                to=[old_email, self.email],
                context={**context, "old_email": old_email},
            )


def object_path(name, key):
    """`reverse(name, args=[key])`, remembered: a results page links 20 places and their
    kinds, and reversing costs more than rendering a card's name. A path depends only
    on the URLconf and the script prefix, which are part of the memo's key."""
    return _reverse(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), name, key)


@functools.lru_cache(maxsize=8192)
def _reverse(urlconf, prefix, name, key):
    return reverse(name, args=[key], urlconf=urlconf)


class ServiceType(models.Model):
    """One of the 7 kinds of structure of the region (EPN, FabLab, …)."""

    slug = models.SlugField(unique=True)
    name = models.CharField("nom", max_length=100, unique=True)
    short_name = models.CharField("nom court", max_length=40)
    description = models.TextField(
        "ce que l’on y trouve", help_text="Explication courte en français simple."
    )
    order = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "type de structure"
        verbose_name_plural = "types de structure"
        ordering = ["order", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return object_path("mediation:service_type", self.slug)


EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = math.radians(EARTH_RADIUS_KM)  # along a meridian


def planar_coefficients(lat):
    """`(c, s)` such that cos((φ + lat) / 2) ≈ c − s·(φ − lat), latitudes in degrees.

    The equirectangular distance between (lat, lon) and (φ, λ), in degrees of
    a meridian, is √(dy² + dx²) with dy = φ − lat and dx = (λ − lon)·cos of the
    mean latitude. That cosine, expanded to the first order around `lat`, makes
    the whole distance plain arithmetic in SQL (no per-row trigonometry, which
    SQLite runs as Python callbacks). The neglected second-order term is about
    0.01 % of dx for points 200 km apart in latitude. As cos is concave there,
    the line lies above it: `bounding_box()` still holds the whole disc.
    """
    phi = math.radians(lat)
    return math.cos(phi), math.sin(phi) * math.pi / 360


def planar_distance(lat, lon, other_lat, other_lon):
    """The distance in km that `StructureQuerySet.near()` computes in SQL."""
    cos0, slope = planar_coefficients(lat)
    dy = other_lat - lat
    dx = (other_lon - lon) * (cos0 - slope * dy)
    return KM_PER_DEGREE * math.sqrt(dx * dx + dy * dy)


def bounding_box(lat, lon, radius_km):
    """(south, north, west, east) of a box holding the disc of `radius_km` around a point."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    dlon = dlat / max(math.cos(math.radians(lat + math.copysign(dlat, lat))), 0.01)
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def inscribed_box(lat, lon, radius_km):
    """(south, north, west, east) of a box inside the disc of `radius_km` around a
    point (for the planar distance of `planar_distance()`): what it holds is within
    the radius. Half a side is radius/√2 along the meridian; across, it is narrowed
    by the cosine of the latitude nearest the equator, where degrees are longest."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM) / math.sqrt(2)
    dlon = dlat / max(math.cos(math.radians(max(abs(lat) - dlat, 0))), 0.01)
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


NO_KIND_MESSAGE = "Choisissez au moins un type de lieu."


def text_validators(max_length):
    return [validate_text, MaxLengthValidator(max_length)]


class ValidatedModel(models.Model):
    """A model whose rules hold on every path: forms, API, admin, imports, scripts.

    `full_clean()` normalises each value (phones to +33…, bare host names to
    https://) and checks every field, one-line text fields included (no CR,
    LF or other control character). `save()` normalises and runs the same
    field checks (the ones that need no query), so a script or an import that
    skips `full_clean()` cannot store what a form would refuse.
    """

    # CharFields that may hold line breaks (shown as a paragraph, never in a header).
    multiline_fields = ()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        # What is filled in must be valid; whether a field may stay empty is
        # for full_clean() (forms, API, imports) to say.
        empty = {
            f.name
            for f in self._meta.concrete_fields
            if f.is_relation
            or (update_fields is not None and f.name not in update_fields)
            or getattr(self, f.attname) in f.empty_values
        }
        self.clean_fields(exclude=empty)
        super().save(*args, **kwargs)

    def normalize(self):
        for model_field in self._meta.concrete_fields:
            if hasattr(model_field, "normalize"):
                value = getattr(self, model_field.attname)
                if value not in (None, "", []):
                    setattr(self, model_field.attname, model_field.normalize(value))

    def clean_fields(self, exclude=None):
        exclude = set(exclude or ())
        self.normalize()
        errors = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for model_field in self._meta.concrete_fields:
            if model_field.name in exclude or model_field.name in errors:
                continue
            # Every CharField is a one-line value (names end up in mail headers and CSV).
            if isinstance(model_field, models.CharField):
                validate = (
                    validate_text
                    if model_field.name in self.multiline_fields
                    else validate_single_line
                )
                try:
                    validate(getattr(self, model_field.attname) or "")
                except ValidationError as error:
                    errors[model_field.name] = error.messages
        if errors:
            raise ValidationError(errors)


def deduced_sources(deduced, field_name, present):
    """{value: source} of the `deduced` JSON (see `Structure.deduced`) for the values of
    `field_name` still `present` (a value a person removed is no longer deduced)."""
    present = set(present)
    return {
        entry["value"]: entry["source"]
        for entry in (deduced or {}).get(field_name, [])
        if entry["value"] in present
    }


def information_date(information_updated_at, verified_at, *, zone=None):
    """`Structure.date_maj` from its two dates (for rows read without the model).
    `zone`: the current time zone, when the caller has already looked it up."""
    dates = [d for d in (information_updated_at, verified_at) if d]
    return timezone.localdate(max(dates), zone) if dates else None  # the date in France


def new_uid():
    return uuid.uuid4().hex


class SquaredDegrees(Func):
    """The squared planar distance (in degrees of a meridian) from a point to the row's
    `latitude`/`longitude` (see `planar_coefficients()`).

    One node rather than a tree of a dozen arithmetic expressions: the ORM copies
    and compiles an expression each time a query refers to it (filter, order,
    annotation), and that tree made most of a nearest-first query's Python time.
    """

    output_field = models.FloatField()

    def __init__(self, lat, lon, prefix=""):
        super().__init__(F(f"{prefix}latitude"), F(f"{prefix}longitude"))
        self.lat, self.lon = float(lat), float(lon)

    def as_sql(self, compiler, connection, **extra_context):
        (lat_sql, lat_params), (lon_sql, lon_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        return self.arithmetic(self.lat, self.lon, lat_sql, lon_sql, lat_params, lon_params)

    @staticmethod
    def arithmetic(lat, lon, lat_sql, lon_sql, lat_params=(), lon_params=()):
        """(sql, params) of the squared distance from (lat, lon) to the columns given."""
        cos0, slope = planar_coefficients(lat)
        dy, dy_params = f"({lat_sql} - %s)", [*lat_params, lat]
        dx = f"(({lon_sql} - %s) * (%s - %s * {dy}))"
        dx_params = [*lon_params, lon, cos0, slope, *dy_params]
        return f"({dx} * {dx} + {dy} * {dy})", [*dx_params, *dx_params, *dy_params, *dy_params]


class NearestSquaredDegrees(Func):
    """`SquaredDegrees` from a point to the nearest location of each structure: its own
    position or one of its itinerant stops (those in `box`, when given).

    Stops are looked at only for the structures that have one (in the box): for
    the others, the distance is the arithmetic of their own row. Written as one
    node, like `SquaredDegrees`, for the same reason.
    """

    output_field = models.FloatField()

    def __init__(self, lat, lon, box=None):
        super().__init__(F("pk"), F("latitude"), F("longitude"))
        self.lat, self.lon, self.box = float(lat), float(lon), box

    def as_sql(self, compiler, connection, **extra_context):
        (pk, pk_params), (lat, lat_params), (lon, lon_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        own, own_params = SquaredDegrees.arithmetic(
            self.lat, self.lon, lat, lon, lat_params, lon_params
        )
        quote, meta = connection.ops.quote_name, Stop._meta
        table = f"{quote(meta.db_table)} {quote('nearest_stop')}"

        def column(name):
            return f"{quote('nearest_stop')}.{quote(meta.get_field(name).column)}"

        where, where_params = "", []
        if self.box is not None:
            south, north, west, east = self.box
            where = f" AND {column('latitude')} BETWEEN %s AND %s"
            where += f" AND {column('longitude')} BETWEEN %s AND %s"
            where_params = [south, north, west, east]
        squared, squared_params = SquaredDegrees.arithmetic(
            self.lat, self.lon, column("latitude"), column("longitude")
        )
        nearest = f"(SELECT MIN({squared}) FROM {table} WHERE {column('structure')} = {pk}{where})"
        nearest_params = [*squared_params, *pk_params, *where_params]
        least = "MIN" if connection.vendor == "sqlite" else "LEAST"
        sql = (
            f"CASE WHEN {pk} IN (SELECT {column('structure')} FROM {table} WHERE 1 = 1{where}) "
            f"THEN {least}(COALESCE({own}, {nearest}), {nearest}) ELSE {own} END"
        )
        params = [
            *pk_params,
            *where_params,
            *own_params,
            *nearest_params,
            *nearest_params,
            *own_params,
        ]
        return sql, params


def _distance_km():
    return ExpressionWrapper(
        Value(KM_PER_DEGREE) * Sqrt(F("squared_degrees")), output_field=models.FloatField()
    )


class _Selective(Func):
    """A condition the query planner should start from: it holds for few rows.

    SQLite's planner cannot tell how few rows a range of latitudes holds; given a
    kind or a bassin as well, it would read every place of that kind (thousands)
    rather than the few in the box. `likelihood()` tells it; other databases
    estimate it themselves and get the condition as it is.
    """

    output_field = models.BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"likelihood({sql}, 0.001)", params


class _AmongIds(In):
    """`lhs IN (subquery)`, which PostgreSQL answers from an index even inside an OR.

    PostgreSQL runs `id IN (SELECT …)` as a hashed subplan that no index answers:
    OR'ed with the box, it reads every place (100,000: 90 ms). Written
    `id = ANY(ARRAY(SELECT …))`, it is an index condition, and the OR two index
    scans (4 ms). Other databases get the IN as it is.
    """

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)


def _has_kind(slugs):
    """The condition "`kind_ids` holds the id of one of the kinds `slugs`": the
    position of "|7|" in the place's own column, that string made by the database
    from the kinds' table once per statement (no query before it, the same statement
    text whatever the kinds' ids).

    Not a LIKE: Django escapes an expression's pattern with three REPLACE()s that
    SQLite evaluated again for every place of the box (near&type at 100,000 places,
    10 km around Tours: 9.7 ms instead of 2.5)."""
    separator = Value(SEPARATOR, output_field=models.TextField())
    condition = Q(pk__in=[])
    for slug in slugs:
        needle = Subquery(
            ServiceType.objects.filter(slug=slug)
            .order_by()
            .annotate(needle=Concat(separator, Cast("pk", models.TextField()), separator))
            .values("needle")[:1]
        )
        condition |= Q(GreaterThan(StrIndex("kind_ids", needle), 0))
    return condition


def kind_ids_of(pks):
    """{structure pk: the ids of its kinds, in order, as `kind_ids` holds them}, from
    the kinds' table, in one query."""
    found = {}
    through = Structure.kinds.through.objects.filter(structure_id__in=list(pks))
    for structure_id, kind_id in through.order_by("structure_id", "servicetype_id").values_list(
        "structure_id", "servicetype_id"
    ):
        found.setdefault(structure_id, []).append(str(kind_id))
    return found


KIND_IDS_CHUNK = 5000


def refresh_kind_ids(pks=None, *, using="default"):
    """Write each place's `kind_ids` from the kinds' table: the places `pks`, or all.

    The one writer of that column: the kinds' signals (a form, the API, the admin,
    a merge, a history restore), the importer's bulk writes, the migration that
    made it, and the benchmarks' filler all call it."""
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(Structure._meta.db_table)
    through = quote(Structure.kinds.through._meta.db_table)
    postgresql = connection.vendor == "postgresql"
    of_place = f"FROM {through} k WHERE k.structure_id = {table}.id"
    if postgresql:
        joined = (
            f"SELECT '|' || string_agg(k.servicetype_id::text, '|' ORDER BY 1) || '|' {of_place}"
        )
        among = "id = ANY(%s)"
    else:
        ordered = f"SELECT k.servicetype_id AS i {of_place} ORDER BY 1"
        joined = f"SELECT '|' || group_concat(i, '|') || '|' FROM ({ordered})"
        among = "id IN (SELECT value FROM json_each(%s))"
    sql = f"UPDATE {table} SET kind_ids = COALESCE(({joined}), '')"
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if pks is None:
            cursor.execute(sql)
            return
        pks = sorted({int(pk) for pk in pks})
        for start in range(0, len(pks), KIND_IDS_CHUNK):
            part = pks[start : start + KIND_IDS_CHUNK]
            value = part if postgresql else json.dumps(part)
            if postgresql:
                # Locked first, in a statement of its own: the UPDATE after it then
                # reads the kinds a concurrent writer of these places committed (an
                # UPDATE that waited for a row reads the table as it was before).
                locking = f"SELECT id FROM {table} WHERE {among} ORDER BY id FOR UPDATE"
                cursor.execute(locking, [value])
            cursor.execute(f"{sql} WHERE {among}", [value])


def with_stop_in_box(box):
    """The condition "one of the structure's itinerant stops lies in `box`"."""
    return _AmongIds(F("pk"), Stop.objects.filter(in_box(*box)).values("structure_id").query)


def itinerant():
    """The condition "the structure has itinerant stops"."""
    return Q(pk__in=Stop.objects.values("structure_id"))


def in_box(south, north, west, east, prefix=""):
    """The condition "the row's `latitude`/`longitude` lie in the box", as the
    index `(status, latitude, longitude, id)` answers it first."""
    return Q(
        _Selective(Range(F(f"{prefix}latitude"), (south, north))),
        **{f"{prefix}longitude__range": (west, east)},
    )


def nearest_first(queryset, lat, lon, radius_km=None):
    """`queryset` (of a model with `latitude`/`longitude`) nearest first, with `distance_km`.

    See `StructureQuerySet.near()`; stops use the same computation.
    """
    lat, lon = float(lat), float(lon)
    queryset = queryset.filter(latitude__isnull=False, longitude__isnull=False)
    if radius_km is not None:
        queryset = queryset.filter(in_box(*bounding_box(lat, lon, float(radius_km))))
    queryset = queryset.alias(squared_degrees=SquaredDegrees(lat, lon)).annotate(
        distance_km=_distance_km()
    )
    if radius_km is not None:
        queryset = queryset.filter(squared_degrees__lte=(float(radius_km) / KM_PER_DEGREE) ** 2)
    return queryset.order_by("squared_degrees", "pk")


def near_parameters(lat, lon, radius_km):
    """The values `StructureQuerySet.located_near()` derives from its point and radius,
    by name: its statement's parameters are these and the queryset's own."""
    lat, lon, radius_km = float(lat), float(lon), float(radius_km)
    cos0, slope = planar_coefficients(lat)
    south, north, west, east = bounding_box(lat, lon, radius_km)
    return {
        "near_lat": lat,
        "near_lon": lon,
        "near_cos0": cos0,
        "near_slope": slope,
        "near_south": south,
        "near_north": north,
        "near_west": west,
        "near_east": east,
        "near_squared_radius": (radius_km / KM_PER_DEGREE) ** 2,
    }


def counted_page(using, sql, params, *, offset, limit, around=None):
    """(rows, total): rows `offset` to `offset + limit` of `sql`, whose last column is
    `COUNT(*) OVER ()` (left out of the rows), and how many rows it has in all; a
    second statement, the count, only for a page past the end. `around(sql, params)`,
    when given, puts the page in a larger statement, whose rows end with the total too."""
    paged, paged_params = f"{sql} LIMIT %s OFFSET %s", [*params, limit, offset]
    if around is not None:
        paged, paged_params = around(paged, paged_params)
    with connections[using].cursor() as cursor:
        cursor.execute(paged, paged_params)
        fetched = cursor.fetchall()
        if fetched:
            total = fetched[0][-1]
        elif offset:  # past the end: the total, for the message
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) counted", params)
            total = cursor.fetchone()[0]
        else:
            total = 0
    return [row[:-1] for row in fetched], total


def km_of_squared_degrees(squared):
    """The distance in km of a squared distance in (planar) degrees (`SquaredDegrees`)."""
    return KM_PER_DEGREE * math.sqrt(squared)


def located_page(located):
    """The statement of `located_near()`'s places (`located`), nearest first, as (place,
    rank, total): `rank` the squared distance in degrees, `total` how many places."""
    return f"SELECT place, nearest, COUNT(*) OVER () FROM ({located}) disc ORDER BY nearest, place"


# Discs tried in turn by `StructureQuerySet.nearest()`: a commune's few nearest
# places are within 5 km of it, a rare kind's within the region (≈ 300 km across).
NEAREST_RADII_KM = (5, 15, 40, 100, 250)


class StructureQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=choices.Status.PUBLISHED)

    def with_personal_contact(self):
        """Places whose e-mail or phone looks like someone's own ("contact personnel ?"),
        unless a coordinator confirmed it is the place's public contact."""
        from mediation.personal_data import CONSUMER_EMAIL_REGEX, MOBILE_PREFIXES

        mobile = Q()
        for prefix in MOBILE_PREFIXES:
            mobile |= Q(phone__startswith=prefix)
        return self.filter(mobile | Q(emails__iregex=CONSUMER_EMAIL_REGEX)).exclude(
            public_contact_confirmed=True
        )

    def demo(self):
        return self.filter(is_demo=True)

    def in_bassin(self, bassin):
        """Structures of the communes of `bassin` (a BassinDeVie, or its slug).

        Written `commune_id IN (the bassin's communes)`, not as a join: the places of
        a box are then filtered on a column `structure_near_idx` carries, where the
        join made PostgreSQL read every place of each of the bassin's communes."""
        if isinstance(bassin, str):
            bassin = Subquery(BassinDeVie.objects.filter(slug=bassin).values("pk"))
        return self.filter(commune__in=Commune.objects.filter(bassin=bassin).values("pk"))

    def kind_to_check(self):
        """Places whose name implies a kind they do not have ("type à vérifier").

        See `mediation/kind_check.py` for the table and why nothing is changed.
        """
        doubtful = Q(pk__in=[])
        for slug, pattern in kind_check.SQL_PATTERNS.items():
            has_kind = Structure.kinds.through.objects.filter(servicetype__slug=slug)
            doubtful |= Q(name__regex=pattern) & ~Q(pk__in=has_kind.values("structure_id"))
        return self.filter(doubtful)

    def with_last_person_edit(self):
        """Annotate `last_person_edit`: the date of the last change saved by a person.

        Imports and scripts save without a user: they do not count.
        """
        history = self.model.history.model.objects.filter(
            id=models.OuterRef("pk"), history_user__isnull=False
        )
        return self.annotate(
            last_person_edit=models.Subquery(
                history.order_by("-history_date").values("history_date")[:1]
            )
        )

    def needing_verification(self, *, before):
        """Neither verified nor changed by a person since `before` (nor created since)."""
        return (
            self.with_last_person_edit()
            .filter(Q(verified_at__lt=before) | Q(verified_at__isnull=True, created_at__lt=before))
            .filter(Q(last_person_edit__isnull=True) | Q(last_person_edit__lt=before))
        )

    def in_department(self, department):
        return self.filter(commune__department=department)

    # --- Search filters: the site's search and the API's FilterSet both call these.

    def matching(self, text):
        """Structures whose name, address, commune or short presentation contain every
        word of `text`, whatever the accents, case and hyphens ("mediatheque" finds
        "Médiathèque", "É" finds "é"). Both sides are compared in `normalize_search()`'s
        form, stored in `search_text`, so SQLite and PostgreSQL give the same answer."""
        query = Q()
        for word in normalize_search(text).replace("|", " ").split():
            query &= Q(search_text__contains=word) | Q(commune__search_text__contains=word)
        return self.filter(query)

    def of_kinds(self, kinds):
        """Structures of any of `kinds` (ServiceType objects or slugs)."""
        slugs = [getattr(kind, "slug", kind) for kind in kinds]
        if not slugs:
            return self
        # On the place's own `kind_ids`, which `structure_near_idx` carries: the
        # places of a box are filtered from the index alone. The kinds' table, probed
        # place by place, cost 2.5 µs a place (3.3 ms for the 1,300 places within
        # 10 km of Tours); a join or IN hashed every place of the kind.
        return self.filter(_has_kind(slugs))

    def _having(self, field_name, values, *, every):
        if not values:
            return self
        if every:
            queryset = self
            for value in values:
                queryset = queryset.filter(**{f"{field_name}__has": value})
            return queryset
        query = Q()
        for value in values:
            query |= Q(**{f"{field_name}__has": value})
        return self.filter(query)

    def offering(self, services, *, every=False):
        """Structures offering any (or, with `every`, all) of `services` (standard values)."""
        return self._having("services", services, every=every)

    def for_publics(self, publics):
        """Structures addressing any of `publics` (standard values).

        A place that lists no particular public is open to all ("Tout public"
        on its page): it matches every public asked for.
        """
        if not publics:
            return self
        query = Q(publics="")
        for value in publics:
            query |= Q(publics__has=value)
        return self.filter(query)

    def with_support(self, supports, *, every=False):
        """Structures trained for any (or, with `every`, all) of `supports`."""
        return self._having("specific_support", supports, every=every)

    def with_fees(self, fees):
        """Structures whose fees include any of `fees` (standard values)."""
        return self._having("fees", fees, every=False)

    def free(self, value=True):
        """Free structures (`value` False: the others)."""
        is_free = Q(fees__has=choices.Frais.GRATUIT)
        return self.filter(is_free if value else ~is_free)

    def wheelchair_accessible(self, value=True):
        """Declared accessible in a wheelchair (`value` False: declared not accessible)."""
        return self.filter(wheelchair_accessible=value)

    def near(self, lat, lon, radius_km=None):
        """Structures nearest first, annotated with `distance_km`: each at the nearest of
        its locations — its own address or one of its itinerant stops.

        The distance is the equirectangular one at the pair's mean latitude (see
        `planar_distance()`): at the scale of a region it differs from the
        great-circle distance by less than 0.05 %, and it costs no trigonometry
        in SQL. Rows are filtered and ordered by the squared distance; with
        `radius_km`, a bounding box on the indexed columns prefilters them.
        """
        lat, lon = float(lat), float(lon)
        queryset, box = self, None
        if radius_km is not None:
            box = bounding_box(lat, lon, float(radius_km))
            queryset = queryset.filter(in_box(*box) | with_stop_in_box(box))
        queryset = queryset.alias(squared_degrees=NearestSquaredDegrees(lat, lon, box)).annotate(
            distance_km=_distance_km()
        )
        if radius_km is None:
            queryset = queryset.filter(squared_degrees__isnull=False)
        else:
            queryset = queryset.filter(squared_degrees__lte=(float(radius_km) / KM_PER_DEGREE) ** 2)
        return queryset.order_by("squared_degrees", "pk")

    def located_near(self, lat, lon, radius_km):
        """(sql, params) of each structure of the disc (`place`) with its smallest
        squared distance (`nearest`): the API's list near a point orders and pages it
        (`located_page()`).

        The same places and distances as `near()`, written for speed: each location
        in the box (the structure's own position, then its stops, as two branches of
        a UNION ALL) with its squared distance, the nearest kept per structure. The
        distance is written once, where `near()` repeats its CASE in the filter, the
        order and the output; and on PostgreSQL a position-only `near` reads the
        index alone (an OR with the stops made it read the rows). The filters of
        this queryset apply to both branches.

        Its parameters are the queryset's own and `near_parameters(lat, lon,
        radius_km)`'s values: the API keeps the statement per shape of filters
        (`mediation/api/compiled.py`) and puts the request's values in.
        """
        lat, lon, radius_km = float(lat), float(lon), float(radius_km)
        box = bounding_box(lat, lon, radius_km)
        own = self.filter(in_box(*box)).annotate(place=F("pk"), squared=SquaredDegrees(lat, lon))
        # The structures with a stop in the box, found from the stops (few) rather
        # than the stops of each structure, each at its nearest stop there.
        nearest_stop = (
            Stop.objects.filter(in_box(*box), structure=OuterRef("pk"))
            .annotate(squared=SquaredDegrees(lat, lon))
            .order_by("squared")
            .values("squared")[:1]
        )
        stops = self.filter(with_stop_in_box(box)).annotate(
            place=F("pk"), squared=Subquery(nearest_stop)
        )
        branches, params = [], []
        for queryset in (own, stops):
            query = queryset.order_by().values_list("place", "squared").query
            sql, branch_params = query.get_compiler(using=self.db).as_sql()
            branches.append(sql)
            params.extend(branch_params)
        located = (
            f"SELECT place, MIN(squared) AS nearest FROM ({' UNION ALL '.join(branches)}) located "
            "GROUP BY place HAVING MIN(squared) <= %s"
        )
        params.append((radius_km / KM_PER_DEGREE) ** 2)
        return located, params

    def located(self):
        """Structures the map and the nearest-first search can place: with their own
        position or at least one itinerant stop."""
        return self.filter(Q(latitude__isnull=False, longitude__isnull=False) | itinerant())

    def nearest(self, lat, lon, count):
        """`near(lat, lon)` narrowed to the smallest of growing discs (`NEAREST_RADII_KM`)
        that holds at least `count` structures: the database then reads a bounding
        box from its index (see `near()`) rather than ordering every row. Its first
        `count` rows are those of `near(lat, lon)`; when even the largest disc holds
        fewer, every structure is ordered.

        Each probe asks whether a box inside the disc (`inscribed_box()`) holds a
        `count`-th structure: plain ranges on the indexed columns, no distance, no
        sort, and it stops at that row.
        """
        for radius in NEAREST_RADII_KM:
            if self.nearest_probe(lat, lon, radius, count).exists():
                return self.near(lat, lon, radius)
        return self.near(lat, lon)

    def nearest_probe(self, lat, lon, radius_km, count):
        """The `count`-th structure (if any) of a box inside the disc of `radius_km`:
        the probe of `nearest()`, one row at most."""
        south, north, west, east = inscribed_box(lat, lon, radius_km)
        return self.in_bbox(west, south, east, north).order_by()[count - 1 : count]

    def in_bbox(self, west, south, east, north):
        """Structures with a location in the rectangle (GeoJSON order): their own
        position or one of their itinerant stops."""
        box = (south, north, west, east)
        return self.filter(in_box(*box) | with_stop_in_box(box))


class Structure(ValidatedModel):
    """A place of digital mediation (the standard's "lieu")."""

    Status = choices.Status
    multiline_fields = ("summary",)

    # Identity
    uid = models.CharField(
        "identifiant",
        max_length=64,
        unique=True,
        default=new_uid,
        help_text="Identifiant unique du lieu dans les exports (champ « id » du standard).",
    )
    slug = models.SlugField(max_length=120, unique=True, blank=True)
    name = models.CharField("nom", max_length=200)
    pivot = models.CharField(
        "SIRET ou RNA",
        max_length=14,
        blank=True,
        validators=[validate_pivot],
        help_text="14 chiffres du SIRET, ou le numéro RNA d’une association sans SIRET.",
    )
    parent_structure = models.CharField("structure parente", max_length=200, blank=True)
    typologie = MultiValueField(
        "typologie",
        help_text="Codes de typologie de data.inclusion (ASSO, COMMUNE, TIERS_LIEUX…).",
    )
    kinds = models.ManyToManyField(
        ServiceType, verbose_name="types de structure", related_name="structures", blank=True
    )

    # Address
    address = models.CharField("adresse", max_length=255)
    address_complement = models.CharField("complément d’adresse", max_length=255, blank=True)
    postal_code = models.CharField("code postal", max_length=5, validators=[validate_postal_code])
    city = models.CharField("commune (nom)", max_length=100)
    code_insee = models.CharField(
        "code INSEE", max_length=5, blank=True, validators=[validate_code_insee]
    )
    commune = models.ForeignKey(
        "territories.Commune",
        verbose_name="commune",
        on_delete=models.PROTECT,
        related_name="structures",
        null=True,
        blank=True,
        help_text="Déduite du code INSEE, sinon du code postal et du nom de la commune.",
    )
    latitude = models.FloatField(null=True, blank=True, validators=validate_latitude)
    longitude = models.FloatField(null=True, blank=True, validators=validate_longitude)

    # Contact
    phone = PhoneField(
        "téléphone",
        max_length=20,
        blank=True,
        help_text="Enregistré au format international (+33…), affiché « 02 54 12 34 57 ».",
    )
    emails = EmailListField("courriels")
    websites = WebAddressListField("sites web")
    appointment_url = WebAddressField("prise de rendez-vous en ligne", blank=True)

    # Presentation
    summary = models.CharField("présentation courte", max_length=280, blank=True)
    description = models.TextField(
        "présentation détaillée", blank=True, validators=text_validators(10_000)
    )

    # Hours
    opening_hours = models.CharField(
        "horaires",
        max_length=500,
        blank=True,
        validators=[validate_opening_hours],
        help_text="Format OpenStreetMap, par exemple « Mo-Fr 09:00-12:00,14:00-17:00 ».",
    )
    opening_hours_note = models.TextField(
        "précisions sur les horaires",
        blank=True,
        validators=text_validators(2000),
        help_text="Texte libre : vacances, horaires non convertibles…",
    )

    # Offer (closed lists: the standard's values, see `mediation.choices`)
    services = MultiValueField("services", choices=choices.Service.choices)
    publics = MultiValueField("publics spécifiquement adressés", choices=choices.Public.choices)
    specific_support = MultiValueField(
        "prise en charge spécifique", choices=choices.PriseEnCharge.choices
    )
    fees = MultiValueField("frais à charge", choices=choices.Frais.choices)
    national_programmes = MultiValueField(
        "dispositifs et programmes nationaux", choices=choices.Dispositif.choices
    )
    labels = MultiValueField("formations et labels", choices=choices.FormationLabel.choices)
    other_labels = MultiValueField("autres formations et labels")
    access_modes = MultiValueField("modalités d’accès", choices=choices.ModaliteAcces.choices)
    support_modes = MultiValueField(
        "modalités d’accompagnement", choices=choices.ModaliteAccompagnement.choices
    )
    itinerance = MultiValueField("itinérance", choices=choices.Itinerance.choices)

    # Accessibility and equipment
    wheelchair_accessible = models.BooleanField(
        "accessible en fauteuil roulant", null=True, blank=True
    )
    accessibility_note = models.TextField(
        "précisions sur l’accessibilité", blank=True, validators=text_validators(2000)
    )
    acceslibre_url = WebAddressField("fiche Accès libre", blank=True)
    equipment = MultiValueField("équipements à disposition", choices=choices.Equipement.choices)
    equipment_note = models.TextField(
        "précisions sur les équipements", blank=True, validators=text_validators(2000)
    )

    # Publication and provenance
    status = models.CharField(
        "statut", max_length=10, choices=choices.Status.choices, default=choices.Status.DRAFT
    )
    source = models.CharField(
        "source", max_length=100, blank=True, help_text="Qui a collecté la donnée."
    )
    source_id = models.CharField(
        "identifiant dans la source",
        max_length=100,
        blank=True,
        help_text="Permet à un nouvel import de mettre à jour au lieu de dupliquer.",
    )
    is_demo = models.BooleanField("donnée de démonstration", default=False)
    import_note = models.TextField(
        "informations non classées",
        blank=True,
        help_text="Contenu importé qui ne correspond à aucun champ ; conservé ici.",
    )
    created_at = models.DateTimeField("créé le", default=timezone.now, editable=False)
    updated_at = models.DateTimeField("mis à jour le", auto_now=True)
    verified_at = models.DateTimeField("vérifié le", null=True, blank=True)
    deduced = models.JSONField(
        "valeurs déduites",
        default=dict,
        blank=True,
        editable=False,
        help_text="Valeurs que la source ne dit pas mais que l’import a déduites "
        "(champ → liste de {value, source}), jusqu’à ce qu’une personne les confirme.",
    )
    public_contact_confirmed = models.BooleanField(
        "contact public confirmé",
        default=False,
        help_text="Un coordinateur a vérifié que l’adresse e-mail et le téléphone (grand public, "
        "mobile) sont bien ceux du lieu et non d’une personne. Revient à « non » quand ils changent.",
    )
    information_updated_at = models.DateTimeField(
        "informations mises à jour le",
        null=True,
        blank=True,
        editable=False,  # set by people's changes and by imports, never typed
        help_text="Dernier changement des informations du lieu : par une personne, ou la date "
        "donnée par la source pour un lieu importé (jamais la date du chargement).",
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="proposé par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="proposed_structures",
        help_text="Personne qui a proposé ce lieu ; il attend la décision d’un coordinateur.",
    )
    moderation_message = models.TextField(
        "message de modération",
        blank=True,
        help_text="Dernier message envoyé à l’auteur de la proposition (refus, demande de précisions).",
    )

    # Name, address, commune name and short presentation in `normalize_search()`'s
    # form, for `StructureQuerySet.matching()`; kept by save(), never edited.
    search_text = models.TextField(editable=False, blank=True, default="")
    SEARCHED_FIELDS = ("name", "address", "city", "summary")

    # The ids of `kinds` ("|1|7|"), for `StructureQuerySet.of_kinds()`: kept by
    # `refresh_kind_ids()` after every change of the kinds, never edited, never
    # shown nor exported. `structure_near_idx` carries it, so that the places of a
    # box are filtered by kind from the index alone (the kinds' table, probed place
    # by place, was the slowest filter at 100,000 places).
    kind_ids = MultiValueField(editable=False)

    history = HistoricalRecords(m2m_fields=[kinds], excluded_fields=["kind_ids"])
    objects = StructureQuerySet.as_manager()

    class Meta:
        verbose_name = "structure"
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_id"],
                condition=~Q(source_id=""),
                name="unique_source_id_per_source",
                violation_error_message="Une structure porte déjà cet identifiant dans cette source.",
            ),
        ]
        indexes = [
            # Nearest-first search: the id in the key lets PostgreSQL answer the
            # bounding box from the index alone (SQLite indexes carry the rowid).
            # The columns after it never order anything (the id is unique): they let
            # both databases filter the places of a box by commune (and so bassin),
            # services, publics and fees without reading the rows. Key columns rather
            # than INCLUDE, which SQLite ignores. PostgreSQL reads from the index alone
            # pages the visibility map marks all-visible: autovacuum keeps it so.
            models.Index(
                fields=[
                    "status",
                    "latitude",
                    "longitude",
                    "id",
                    "commune",
                    "services",
                    "publics",
                    "fees",
                    "kind_ids",
                ],
                name="structure_near_idx",
            ),
            models.Index(fields=["updated_at"]),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.prepare_save(kwargs)
        super().save(*args, **kwargs)
        self._loaded_information = self._information()

    def get_absolute_url(self):
        return object_path("mediation:structure", self.slug)

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        # A saved place never writes its `kind_ids`: `refresh_kind_ids()` alone does,
        # from the kinds' table. A copy read before a change of its kinds (a form
        # open while an import runs, a fixture loaded again) cannot write it back.
        values = [value for value in values if value[0].attname != "kind_ids"]
        return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update)

    def prepare_save(self, kwargs=None):
        """What every write does before the row is written: the derived values (contact
        confirmation, information date, commune, slug, search text). `save()` calls it;
        so does a bulk writer (the importer), which validates with `full_clean()` first."""
        kwargs = {} if kwargs is None else kwargs
        self._forget_contact_confirmation()
        self._stamp_information_date(kwargs)
        if self.commune_id is None and (self.code_insee or self.postal_code):
            self.resolve_commune()
        if not self.slug:
            self.slug = self.unique_slug()
        self.search_text = self.build_search_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and set(update_fields) & set(self.SEARCHED_FIELDS):
            kwargs["update_fields"] = {*update_fields, "search_text"}

    def build_search_text(self):
        """The searched fields, normalized, separated by "|" (never inside a word)."""
        return "|".join(normalize_search(getattr(self, name)) for name in self.SEARCHED_FIELDS)

    # What is not "the place's information" for `information_updated_at`:
    # bookkeeping, publication, moderation, provenance, derived values.
    NOT_INFORMATION = {
        "id",
        "uid",
        "slug",
        "commune",
        "status",
        "source",
        "source_id",
        "is_demo",
        "import_note",
        "created_at",
        "updated_at",
        "verified_at",
        "information_updated_at",
        "public_contact_confirmed",
        "proposed_by",
        "moderation_message",
        "search_text",
        "kind_ids",
        "deduced",
    }

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_information = instance._information()
        return instance

    def _information(self):
        """The loaded values of the information fields (deferred ones left out)."""
        return {
            f.attname: self.__dict__[f.attname]
            for f in self._meta.concrete_fields
            if f.name not in self.NOT_INFORMATION and f.attname in self.__dict__
        }

    def changed_information(self):
        """Names of the information fields changed since this instance was loaded."""
        loaded = getattr(self, "_loaded_information", None)
        if loaded is None:
            return set(self._information())
        current = self._information()
        return {name for name, value in loaded.items() if current.get(name) != value}

    def personal_contact_reasons(self):
        """Why this place's contact looks like someone's own (empty when confirmed public)."""
        from mediation.personal_data import personal_contact_reasons

        if self.public_contact_confirmed:
            return []
        return personal_contact_reasons(phone=self.phone, emails=self.emails)

    def _forget_contact_confirmation(self):
        """A confirmation holds for the contact that was checked, not for a new one."""
        loaded = getattr(self, "_loaded_information", None)
        if loaded is None or not self.public_contact_confirmed:
            return
        if {"phone", "emails"} & self.changed_information():
            self.public_contact_confirmed = False

    def set_information_date(self, when):
        """Date the information with its source's own date (an import), not with now."""
        self.information_updated_at = when
        self._information_date_given = True

    def _stamp_information_date(self, kwargs):
        """A change of information made here is dated now, unless its source dated it."""
        if self._state.adding and self.information_updated_at:
            self._information_date_given = True  # created with its own date
        if getattr(self, "_information_date_given", False):
            return
        changed = self.changed_information()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            changed &= {self._meta.get_field(name).attname for name in update_fields}
        if not changed:
            return
        self.information_updated_at = timezone.now()
        if update_fields is not None:
            kwargs["update_fields"] = [*update_fields, "information_updated_at"]

    @property
    def bassin(self):
        return self.commune.bassin if self.commune_id else None

    # A bare acronym ("OTDIF", "MELI"): one word in capitals says nothing to a visitor.
    BARE_ACRONYM = re.compile(r"[A-ZÀÂÄÇÉÈÊËÎÏÔÖÙÛÜ0-9&@'’.-]{2,12}")

    @property
    def kinds_in_order(self):
        """The place's kinds, in their order: as read with a page of results
        (`search.run()` sets `kind_list`), else from the database or its prefetch."""
        kinds = getattr(self, "kind_list", None)
        if kinds is None:
            kinds = sorted(self.kinds.all(), key=lambda kind: (kind.order, kind.name))
        return kinds

    @property
    def display_name(self):
        """The name, completed when it is a bare acronym: "OTDIF — Espace Public Numérique,
        Issoudun" (from its first kind and its commune). The stored name is unchanged."""
        if not self.BARE_ACRONYM.fullmatch(self.name) or not any(c.isalpha() for c in self.name):
            return self.name
        kinds = self.kinds_in_order
        town = self.commune.name if self.commune_id else self.city
        details = ", ".join(part for part in (kinds[0].name if kinds else "", town) if part)
        return f"{self.name} — {details}" if details else self.name

    @property
    def is_published(self):
        return self.status == choices.Status.PUBLISHED

    # --- Deduced values: what a source implied but did not say (see `deduced`).

    DEDUCIBLE_FIELDS = ("services", "publics", "support_modes", "national_programmes")

    def deduced_sources(self, field_name):
        """{value: where it was deduced from} for the values of `field_name` still deduced."""
        return deduced_sources(self.deduced, field_name, getattr(self, field_name))

    def stated_values(self, field_name):
        """The values of `field_name` that a source said or a person confirmed (for exports)."""
        deduced = self.deduced_sources(field_name)
        return [value for value in getattr(self, field_name) if value not in deduced]

    def offer(self):
        """{field: [(value, deduced_from or "")]} of the deducible fields, for pages."""
        offer = {}
        for name in self.DEDUCIBLE_FIELDS:
            sources = self.deduced_sources(name)
            offer[name] = [(value, sources.get(value, "")) for value in getattr(self, name)]
        return offer

    def confirm_deduced(self, field_names):
        """A person reviewed `field_names`: the values they kept are now confirmed."""
        self.deduced = {
            name: entries
            for name, entries in (self.deduced or {}).items()
            if name not in field_names
        }

    def pending_deductions(self):
        """[(value, where it was deduced from)] still to confirm, in the fields' order."""
        return [
            (value, source)
            for name in self.DEDUCIBLE_FIELDS
            for value, source in self.deduced_sources(name).items()
        ]

    def mark_verified(self):
        """The place's information was checked as it stands ("Tout est juste", "Ces
        informations sont à jour"): dated today, and the deduced values, shown to the
        person as "à confirmer", are confirmed. Returns the fields to save."""
        self.verified_at = timezone.now()
        self.confirm_deduced(self.DEDUCIBLE_FIELDS)
        return ["verified_at", "deduced"]

    # Information older than this is said to be old, in the list and on the page.
    FRESH_DAYS = 365

    @property
    def information_date(self):
        """When someone last vouched for the information: the last verification (or a
        person's edit, when the queryset is annotated with `last_person_edit`), else the
        creation of the listing."""
        dates = [d for d in (self.verified_at, getattr(self, "last_person_edit", None)) if d]
        return max(dates) if dates else self.created_at

    @property
    def is_stale(self):
        """Last vouched for more than `FRESH_DAYS` ago: "appelez avant de vous déplacer"."""
        date = self.information_date
        return date is not None and timezone.now() - date > timedelta(days=self.FRESH_DAYS)

    @property
    def date_maj(self):
        """The standard's `date_maj` (a date, or None when nobody knows it).

        The later of the last change of the information (by a person, or the
        source's own date for an import) and the last time a person confirmed
        it ("Ces informations sont à jour"). Loading a file or a fixture never
        makes old information look new.
        """
        return information_date(self.information_updated_at, self.verified_at)

    def clean(self):
        super().clean()
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError(
                "Indiquez à la fois la latitude et la longitude, ou aucune des deux."
            )
        self.resolve_commune()
        if self.commune is None and (self.code_insee or self.postal_code):
            raise ValidationError(
                {
                    "postal_code": "Aucune commune de la région ne correspond à ce code postal "
                    "et à ce nom de commune."
                }
            )

    def resolve_commune(self):
        """Derive the commune from the INSEE code, else the postal code and the city name.

        An importer sets `commune_table` (a `territories.models.CommuneTable`) to look
        the communes up in memory rather than with a query each."""
        from territories.models import Commune, normalize_search

        table = getattr(self, "commune_table", None)
        commune = None
        if self.code_insee:
            commune = (
                table.get(self.code_insee)
                if table is not None
                else Commune.objects.filter(pk=self.code_insee).first()
            )
        if commune is None and self.postal_code:
            candidates = (
                table.with_postal_code(self.postal_code)
                if table is not None
                else list(Commune.objects.matching(self.postal_code))
            )
            wanted = normalize_search(self.city)
            commune = next(
                (c for c in candidates if normalize_search(c.name) == wanted),
                candidates[0] if len(candidates) == 1 else None,
            )
        if commune is not None:
            self.commune = commune
            self.code_insee = commune.code_insee
            if normalize_search(self.city) == normalize_search(commune.name):
                self.city = commune.name  # "ISSOUDUN", "issoudun" → "Issoudun"
        return commune

    def unique_slug_base(self):
        return slugify(f"{self.name} {self.city}")[:100] or "structure"

    def unique_slug(self, *, avoid=()):
        """A slug no other place has (nor any of `avoid`, slugs about to be written)."""
        base = self.unique_slug_base()
        slug, n = base, 2
        while slug in avoid or Structure.objects.filter(slug=slug).exclude(pk=self.pk).exists():
            slug, n = f"{base}-{n}", n + 1
        return slug


class StopQuerySet(models.QuerySet):
    def of_published(self):
        return self.filter(structure__status=choices.Status.PUBLISHED)

    def near(self, lat, lon, radius_km=None):
        """Stops nearest first, annotated with `distance_km` (as `StructureQuerySet.near`)."""
        return nearest_first(self, lat, lon, radius_km)


class Stop(ValidatedModel):
    """A stop of an itinerant service: where and when the bus, the caravan… stops.

    A stop counts as a location of its structure: the search, the map markers
    and the API find the structure where it stops.
    """

    structure = models.ForeignKey(
        Structure, verbose_name="structure", on_delete=models.CASCADE, related_name="stops"
    )
    place = models.CharField("lieu", max_length=200, help_text="Par exemple : place de la mairie.")
    address = models.CharField("adresse", max_length=255, blank=True)
    commune = models.ForeignKey(
        "territories.Commune", verbose_name="commune", on_delete=models.PROTECT, related_name="+"
    )
    latitude = models.FloatField(validators=validate_latitude)
    longitude = models.FloatField(validators=validate_longitude)
    opening_hours = models.CharField(
        "horaires",
        max_length=500,
        blank=True,
        validators=[validate_opening_hours],
        help_text="Format OpenStreetMap, par exemple « We[1] 09:00-12:00 » (1er mercredi).",
    )
    note = models.CharField("précisions", max_length=255, blank=True)

    history = HistoricalRecords()
    objects = StopQuerySet.as_manager()

    class Meta:
        verbose_name = "étape itinérante"
        verbose_name_plural = "étapes itinérantes"
        ordering = ["structure", "commune__name", "place"]

    def __str__(self):
        return f"{self.place} – {self.commune.name}"


class ErrorReport(models.Model):
    """ "Signaler une erreur": a visitor's report, waiting for moderation."""

    class State(models.TextChoices):
        NEW = "new", "À traiter"
        DONE = "done", "Traité"
        REJECTED = "rejected", "Écarté"

    structure = models.ForeignKey(
        Structure, verbose_name="structure", on_delete=models.CASCADE, related_name="reports"
    )
    message = models.TextField("message")
    email = models.EmailField("e-mail pour la réponse", blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="auteur",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    state = models.CharField("état", max_length=10, choices=State.choices, default=State.NEW)
    created_at = models.DateTimeField("reçu le", auto_now_add=True)
    handled_at = models.DateTimeField("traité le", null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="traité par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "signalement d’erreur"
        verbose_name_plural = "signalements d’erreur"
        ordering = ["-created_at"]

    def __str__(self):
        return f"Signalement sur {self.structure} ({timezone.localtime(self.created_at):%d/%m/%Y})"


# --- Each place's `kind_ids`, after every change of the kinds' table --------------


@receiver(m2m_changed, sender=Structure.kinds.through, dispatch_uid="structure-kind-ids")
def _kinds_changed(sender, instance, action, reverse, **kwargs):
    """A place's kinds changed (`place.kinds.add()`, `.set()`…): its `kind_ids`
    follow. (A kind's places are never changed from the kind's side: the history
    of the kinds, `m2m_fields`, refuses it.)"""
    if reverse or action not in ("post_add", "post_remove", "post_clear"):
        return
    refresh_kind_ids([instance.pk], using=kwargs["using"])
    instance.kind_ids = kind_ids_of([instance.pk]).get(instance.pk, [])


@receiver(pre_delete, sender=ServiceType, dispatch_uid="structure-kind-ids-kind-deleted")
def _kind_deleting(sender, instance, **kwargs):
    instance._places_of_kind = list(instance.structures.values_list("pk", flat=True))


@receiver(post_delete, sender=ServiceType, dispatch_uid="structure-kind-ids-kind-deleted")
def _kind_deleted(sender, instance, using, **kwargs):
    """A kind deleted takes its rows of the kinds' table with it (no m2m signal)."""
    refresh_kind_ids(getattr(instance, "_places_of_kind", []), using=using)


# Memberships, coordinations, invitations, campaigns, merges and the data version
# (ETag / Last-Modified, with its signals) live in their own modules.
from mediation.api_tokens import ApiToken  # noqa: E402
from mediation.campaigns import (  # noqa: E402
    Campaign,
    CampaignMail,
    CampaignOptOut,
    ProposedChange,
)
from mediation.memberships import (  # noqa: E402
    Coordination,
    CoordinatorDigest,
    Invitation,
    JoinRequest,
    Membership,
    VerificationReminder,
)
from mediation.merges import DistinctPair, Merge, SourceIdentifier  # noqa: E402
from mediation.provenance import ImportConflict, SourceSnapshot  # noqa: E402
from mediation.versioning import DataVersion  # noqa: E402

__all__ = [
    "ApiToken",
    "Campaign",
    "CampaignMail",
    "CampaignOptOut",
    "Coordination",
    "CoordinatorDigest",
    "DataVersion",
    "DistinctPair",
    "ErrorReport",
    "ImportConflict",
    "Invitation",
    "JoinRequest",
    "MapGrid",
    "Membership",
    "Merge",
    "ProposedChange",
    "ServiceType",
    "SourceIdentifier",
    "SourceSnapshot",
    "Stop",
    "Structure",
    "User",
    "VerificationReminder",
]


class Tombstone(models.Model):
    """A deleted place, as partners are told of it (`mediation/tombstones.py`).

    Only the public identifier and the date are kept: nothing else of the place
    remains. A place created again under the same identifier loses its tombstone.
    """

    uid = models.CharField("identifiant", max_length=64, unique=True)
    deleted_at = models.DateTimeField("supprimé le", db_index=True)

    class Meta:
        verbose_name = "lieu supprimé"
        verbose_name_plural = "lieux supprimés"

    def __str__(self):
        return self.uid


class MapGrid(models.Model):
    """A finest whole grid of the map (`mediation/markers.py`), kept in the database
    under its cache key as well as in the shared cache: a server that starts while
    that cache is lost reads it (one row) rather than grouping every place of the
    directory. Written by `markers.prepare()` after the commit that moved the data
    version, for that version (`counter`), which then deletes the rows of earlier
    versions. Derived data: never edited, never exported, rebuilt from the places
    at any time."""

    key = models.CharField(max_length=64, primary_key=True)
    counter = models.PositiveBigIntegerField(db_index=True)
    cells = models.BinaryField()

    class Meta:
        verbose_name = "grille de la carte"
        verbose_name_plural = "grilles de la carte"

    def __str__(self):
        return self.key
