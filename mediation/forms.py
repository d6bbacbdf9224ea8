"""Forms of the public site: the search, and "Signaler une erreur"."""

from django import forms
from django.core import signing

from mediation import choices, needs
from mediation.fields import SearchTextField
from mediation.models import ErrorReport, ServiceType


def short_choices(enum):
    """URL-friendly values for a standard list, labelled in plain French:
    Service.DEMARCHES → ("demarches", "Aide pour les démarches en ligne…")."""
    return [(member.name.lower().replace("_", "-"), needs.plain(member)) for member in enum]


SERVICE_CHOICES = short_choices(choices.Service)
PUBLIC_CHOICES = short_choices(choices.Public)
SUPPORT_CHOICES = short_choices(choices.PriseEnCharge)


def standard_value(enum, short):
    """The standard's wording for a URL value: "demarches" → "Aide aux démarches…"."""
    return enum[short.upper().replace("-", "_")].value


class SearchForm(forms.Form):
    """The whole search, carried by the URL (GET) so it can be shared and bookmarked."""

    q = SearchTextField(
        label="Où êtes-vous ?",
        help_text="Commune, code postal ou adresse",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "autocapitalize": "off",
                "enterkeyhint": "search",
                "placeholder": "Exemple : Châteauroux ou 36000",
            }
        ),
    )
    # Filled by "Autour de moi" (browser geolocation).
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lon = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    besoin = forms.MultipleChoiceField(
        label="De quoi avez-vous besoin ?",
        help_text="Choisissez une ou plusieurs réponses, ou aucune.",
        choices=[(need.slug, need.label) for need in needs.NEEDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    type = forms.ModelMultipleChoiceField(
        label="Type de lieu",
        queryset=ServiceType.objects.all(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    service = forms.MultipleChoiceField(
        label="Pour quoi faire ?",
        help_text="Les lieux qui proposent tout ce qui est coché.",
        choices=SERVICE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    public = forms.MultipleChoiceField(
        label="Pour qui ?",
        help_text="Les lieux qui s’adressent en particulier à l’un de ces publics.",
        choices=PUBLIC_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    support = forms.MultipleChoiceField(
        label="Accompagnement adapté",
        help_text="Les lieux formés à tout ce qui est coché.",
        choices=SUPPORT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    free = forms.BooleanField(label="Gratuit", required=False)
    wheelchair = forms.BooleanField(label="Accessible en fauteuil roulant", required=False)
    open_now = forms.BooleanField(label="Ouvert maintenant", required=False)
    saturday = forms.BooleanField(label="Ouvert le samedi", required=False)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    FILTERS = (
        "besoin",
        "type",
        "service",
        "public",
        "support",
        "free",
        "wheelchair",
        "open_now",
        "saturday",
    )

    def clean(self):
        data = super().clean()
        if (data.get("lat") is None) != (data.get("lon") is None):
            data["lat"] = data["lon"] = None
        return data

    def value(self, name, default=None):
        """A cleaned value, or `default` for a missing or invalid one."""
        if not self.is_bound:
            return default
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        value = self.cleaned_data.get(name)
        return default if value in (None, "", []) else value

    def active_filters(self):
        """How many filters are set (shown on the "Affiner" button)."""
        return sum(1 for name in self.FILTERS if self.value(name))

    def active_labels(self):
        """The criteria ticked, as the page words them ("Gratuit", "Médiathèque"),
        said above the list while the filters' panel is closed."""
        labels = []
        for name in self.FILTERS:
            value = self.value(name)
            if not value:
                continue
            field = self.fields[name]
            if isinstance(field, forms.BooleanField):
                labels.append(field.label)
            elif isinstance(field, forms.ModelMultipleChoiceField):
                labels += [str(item) for item in value]
            else:
                names = dict(field.choices)
                labels += [str(names.get(item, item)) for item in value]
        return labels


class ErrorReportForm(forms.ModelForm):
    """Report a mistake on a structure's page; protected from bots without a captcha.

    - `website` is a honeypot: hidden from people, filled by naive bots;
    - `token` is the signed time the form was shown: a post sent less than
      `MIN_SECONDS` later, or more than a day later, is refused.
    """

    MIN_SECONDS = 3
    MAX_AGE = 24 * 3600
    SALT = "mediation.error-report"

    website = forms.CharField(
        label="Ne pas remplir ce champ",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    token = forms.CharField(widget=forms.HiddenInput)

    class Meta:
        model = ErrorReport
        fields = ["message", "email"]
        labels = {
            "message": "Qu’est-ce qui est faux ou manquant ?",
            "email": "Votre adresse e-mail (facultatif)",
        }
        help_texts = {
            "message": "Par exemple : « Les horaires du mercredi ont changé », "
            "« Le numéro de téléphone ne répond plus ».",
            "email": "Seulement si vous souhaitez une réponse. Elle ne sera pas publiée.",
        }
        widgets = {
            "message": forms.Textarea(attrs={"rows": 5, "maxlength": 2000}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["message"].error_messages["required"] = "Décrivez l’erreur en quelques mots."
        self.fields["email"].error_messages["invalid"] = (
            "Cette adresse e-mail n’est pas valide (exemple : prenom.nom@exemple.fr)."
        )
        for name in ("message", "email"):
            self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}-aide"
        if not self.is_bound:
            self.initial["token"] = signing.TimestampSigner(salt=self.SALT).sign("report")

    def full_clean(self):
        super().full_clean()
        # Tie each field to its help text and its error, for screen readers.
        for name in ("message", "email"):
            attrs = self.fields[name].widget.attrs
            described = [f"id_{name}-aide"]
            if self.is_bound and name in self.errors:
                described.append(f"id_{name}-erreur")
                attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = " ".join(described)

    def clean_message(self):
        message = self.cleaned_data["message"].strip()
        if len(message) < 5:
            raise forms.ValidationError("Décrivez l’erreur en quelques mots.")
        if len(message) > 2000:
            raise forms.ValidationError("Votre message est trop long (2 000 caractères au plus).")
        return message

    def bot_check(self):
        """Why this post cannot come from a person, or None.

        "honeypot" (the hidden field is filled), "too-fast" (sent within
        `MIN_SECONDS`), "forged" (no valid token), "expired" (the page was
        opened more than a day ago: a person is asked to send it again).
        """
        if self.data.get("website"):
            return "honeypot"
        signer = signing.TimestampSigner(salt=self.SALT)
        token = self.data.get("token", "")
        try:
            signer.unsign(token, max_age=self.MAX_AGE)
        except signing.SignatureExpired:
            return "expired"
        except signing.BadSignature:
            return "forged"
        try:
            signer.unsign(token, max_age=self.MIN_SECONDS)
        except signing.SignatureExpired:
            return None  # old enough: a person took the time to write
        return "too-fast"
