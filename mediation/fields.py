"""A multi-valued field that filters the same way on SQLite and PostgreSQL,
and the bounded text field of every search (site and API).

Values are stored as "|a|b|" text: `services__has="X"` is a plain LIKE on both
databases, and the national standard already uses "|" between values.
"""

from django import forms
from django.core import exceptions
from django.db import models
from django.db.models import Lookup

from mediation import validators

SEPARATOR = "|"


class MultiValueField(models.TextField):
    """A list of strings; with `choices`, a list of values taken from them."""

    description = "Liste de valeurs"
    default_validators = [validators.validate_single_line]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", list)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        # What get_prep_value() stored: "" or "|a|b|" (read for every value of every
        # row a list or an export reads: no more than the split).
        if not value:
            return []
        return [part for part in value.split(SEPARATOR) if part]

    def to_python(self, value):
        if value is None or value == "":
            return []
        if isinstance(value, list | tuple):
            return [str(v) for v in value if str(v).strip()]
        return [part for part in str(value).split(SEPARATOR) if part]

    def get_prep_value(self, value):
        values = self.to_python(value)
        if not values:
            return ""
        return SEPARATOR + SEPARATOR.join(values) + SEPARATOR

    def normalize_item(self, value):
        return str(value).strip()

    def normalize(self, value):
        """The list as stored: each item in its normal form."""
        return [item for item in map(self.normalize_item, self.to_python(value)) if item]

    def clean(self, value, model_instance):
        return super().clean(self.normalize(value), model_instance)

    def value_to_string(self, obj):
        return self.get_prep_value(self.value_from_object(obj))

    def validate(self, value, model_instance):
        if not self.editable:
            return
        if not value and not self.blank:
            raise exceptions.ValidationError(self.error_messages["blank"], code="blank")
        for item in value:
            if SEPARATOR in item:
                raise exceptions.ValidationError(
                    "Une valeur ne peut pas contenir le caractère « | ».", code="separator"
                )
            if self.choices and item not in dict(self.flatchoices):
                raise exceptions.ValidationError(
                    "« %(value)s » ne fait pas partie des valeurs possibles.",
                    code="invalid_choice",
                    params={"value": item},
                )

    def formfield(self, **kwargs):
        if self.choices:
            defaults = {
                "form_class": forms.TypedMultipleChoiceField,
                "choices": self.choices,
                "widget": forms.CheckboxSelectMultiple,
                "required": not self.blank,
                "label": self.verbose_name[:1].upper() + self.verbose_name[1:],
                "help_text": self.help_text,
            }
            defaults.update(kwargs)
            form_class = defaults.pop("form_class")
            for key in ("coerce", "empty_value", "choices_form_class", "max_length"):
                defaults.pop(key, None)
            return form_class(**defaults)
        return super().formfield(
            **{"form_class": ListTextField, "widget": forms.Textarea(attrs={"rows": 2}), **kwargs}
        )


class WebAddressListField(MultiValueField):
    """Web addresses, http:// or https:// only ("www.x.fr" is taken as https://)."""

    default_validators = [*MultiValueField.default_validators, validators.validate_web_addresses]

    def normalize_item(self, value):
        return validators.normalize_web_address(value)


class EmailListField(MultiValueField):
    default_validators = [*MultiValueField.default_validators, validators.validate_email_addresses]


class NormalizedMixin:
    """A model field whose value is brought to its stored form before it is checked."""

    def normalize(self, value):
        return self.normalizer(value)

    def clean(self, value, model_instance):
        return super().clean(self.normalize(value), model_instance)


class PhoneField(NormalizedMixin, models.CharField):
    """A French phone number, stored as "+33254123457", typed and shown "02 54 12 34 57"."""

    default_validators = [validators.validate_phone]
    normalizer = staticmethod(validators.normalize_phone)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": PhoneFormField, **kwargs})


class WebAddressField(NormalizedMixin, models.URLField):
    """One web address, http:// or https:// only ("www.x.fr" is taken as https://)."""

    default_validators = [validators.validate_web_address]
    normalizer = staticmethod(validators.normalize_web_address)

    def formfield(self, **kwargs):
        return models.CharField.formfield(
            self, **{"form_class": WebAddressFormField, "widget": forms.URLInput, **kwargs}
        )


class PhoneFormField(forms.CharField):
    """Shows the national format; the model field's validator decides (same message everywhere)."""

    def prepare_value(self, value):
        return validators.display_phone(value)

    def to_python(self, value):
        return validators.normalize_phone(super().to_python(value))


class WebAddressFormField(forms.CharField):
    """No check of its own: the model field's validator decides (same message everywhere)."""

    def to_python(self, value):
        return validators.normalize_web_address(super().to_python(value))


class ListTextField(forms.CharField):
    """One value per line in a textarea."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if isinstance(value, list | tuple):
            return list(value)
        return [line.strip() for line in value.replace("|", "\n").splitlines() if line.strip()]


@MultiValueField.register_lookup
class Has(Lookup):
    """`field__has="value"`: the list holds this value."""

    lookup_name = "has"
    prepare_rhs = False  # the value is one item, not a list to serialize

    def get_db_prep_lookup(self, value, connection):
        escaped = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return ("%s", [f"%{SEPARATOR}{escaped}{SEPARATOR}%"])

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs} ESCAPE '\\'", [*lhs_params, *rhs_params]


SEARCH_MAX_CHARS = 200
SEARCH_MAX_WORDS = 20


class SearchTextField(forms.CharField):
    """What a person or a partner types to search: bounded before any query runs.

    Each word of a search is one more condition over several columns; an
    unbounded text let one request hold a database worker for seconds and grow
    it by gigabytes. 200 characters and 20 words are far above any real search.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", SEARCH_MAX_CHARS)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.error_messages["max_length"] = (
            f"Votre recherche est trop longue : {SEARCH_MAX_CHARS} caractères au plus "
            "(elle en compte %(show_value)d)."
        )

    def validate(self, value):
        super().validate(value)
        if len(value) > SEARCH_MAX_CHARS:  # the length first: it is what makes it costly
            raise forms.ValidationError(
                self.error_messages["max_length"],
                code="max_length",
                params={"show_value": len(value)},
            )
        words = len(value.split())
        if words > SEARCH_MAX_WORDS:
            raise forms.ValidationError(
                f"Votre recherche compte trop de mots : {SEARCH_MAX_WORDS} au plus "
                f"(elle en compte {words}).",
                code="max_words",
            )
        if any(ord(char) < 32 and char not in "\t\n\r" for char in value):
            raise forms.ValidationError(
                "Votre recherche contient un caractère de contrôle : retirez-le.",
                code="control_character",
            )
