"""Forms of the mediators' space, in plain French.

The edit form covers every field a mediator can know about their place; what
only the hub decides (status, source, identifiers) is not in it.
"""

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from mediation import geocoding
from mediation.models import NO_KIND_MESSAGE, ServiceType, Stop, Structure, User
from territories.models import Commune, normalize_search

STRUCTURE_FIELDS = [
    "name",
    "kinds",
    "summary",
    "description",
    "address",
    "address_complement",
    "postal_code",
    "city",
    "latitude",
    "longitude",
    "phone",
    "emails",
    "websites",
    "appointment_url",
    "opening_hours",
    "opening_hours_note",
    "itinerance",
    "services",
    "publics",
    "specific_support",
    "fees",
    "access_modes",
    "support_modes",
    "national_programmes",
    "labels",
    "other_labels",
    "wheelchair_accessible",
    "accessibility_note",
    "acceslibre_url",
    "equipment",
    "equipment_note",
    "pivot",
    "parent_structure",
]

# Sections of the edit page: (title, fields).
SECTIONS = [
    ("Le lieu", ["name", "kinds", "summary", "description"]),
    (
        "Adresse et position sur la carte",
        ["address", "address_complement", "postal_code", "city", "latitude", "longitude"],
    ),
    ("Contact", ["phone", "emails", "websites", "appointment_url"]),
    ("Horaires", ["opening_hours", "opening_hours_note", "itinerance"]),
    (
        "Ce que l’on vous propose",
        ["services", "publics", "specific_support", "fees", "access_modes", "support_modes"],
    ),
    ("Dispositifs et labels", ["national_programmes", "labels", "other_labels"]),
    (
        "Accessibilité et équipements",
        [
            "wheelchair_accessible",
            "accessibility_note",
            "acceslibre_url",
            "equipment",
            "equipment_note",
        ],
    ),
    ("Informations administratives", ["pivot", "parent_structure"]),
]

LABELS = {
    "name": "Nom du lieu",
    "kinds": "Type de lieu",
    "summary": "Présentation en une ou deux phrases",
    "description": "Présentation détaillée",
    "address": "Adresse (numéro et rue)",
    "address_complement": "Complément d’adresse",
    "postal_code": "Code postal",
    "city": "Commune",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "phone": "Téléphone",
    "emails": "Adresses e-mail",
    "websites": "Sites internet",
    "appointment_url": "Adresse de la prise de rendez-vous en ligne",
    "opening_hours": "Horaires d’ouverture",
    "opening_hours_note": "Précisions sur les horaires",
    "itinerance": "Le lieu est-il fixe ou itinérant ?",
    "services": "Services proposés",
    "publics": "Publics accueillis en particulier",
    "specific_support": "Accompagnement adapté",
    "fees": "Est-ce payant ?",
    "access_modes": "Comment venir ?",
    "support_modes": "Comment se passe l’aide ?",
    "national_programmes": "Dispositifs nationaux",
    "labels": "Formations et labels",
    "other_labels": "Autres formations et labels",
    "wheelchair_accessible": "Accessible en fauteuil roulant",
    "accessibility_note": "Précisions sur l’accessibilité",
    "acceslibre_url": "Fiche Accès libre",
    "equipment": "Équipements à disposition du public",
    "equipment_note": "Précisions sur les équipements",
    "pivot": "Numéro SIRET (ou RNA pour une association)",
    "parent_structure": "Structure dont dépend le lieu",
}

HELP_TEXTS = {
    "name": "Le nom que les habitants connaissent, par exemple « Espace numérique de la médiathèque ».",
    "kinds": "Cochez un ou plusieurs types.",
    "summary": "Ce que l’on trouve chez vous, en mots simples (280 caractères au plus).",
    "description": "Facultatif : ateliers, matériel, façon d’accueillir…",
    "address": "Par exemple : 12 rue de la République.",
    "address_complement": "Facultatif : bâtiment, étage, entrée…",
    "postal_code": "5 chiffres, par exemple 36000.",
    "city": "Le nom de la commune, par exemple Châteauroux.",
    "latitude": "Se remplit seule quand vous placez le point sur la carte.",
    "longitude": "Se remplit seule quand vous placez le point sur la carte.",
    "phone": "Le numéro que le public peut appeler, par exemple 02 54 00 00 00.",
    "emails": "Une adresse par ligne.",
    "websites": "Une adresse par ligne, en commençant par https://",
    "appointment_url": "Si l’on peut prendre rendez-vous sur internet.",
    "opening_hours": (
        "Cochez les jours d’ouverture et indiquez les heures. Sans JavaScript, écrivez les "
        "horaires au format OpenStreetMap, par exemple « Mo-Fr 09:00-12:00,14:00-17:00; "
        "Sa 09:00-12:00 » (Mo lundi, Tu mardi, We mercredi, Th jeudi, Fr vendredi, Sa samedi, "
        "Su dimanche)."
    ),
    "opening_hours_note": "Par exemple : fermé pendant les vacances scolaires.",
    "itinerance": "Un lieu itinérant (bus, permanences) indique ses étapes plus bas.",
    "other_labels": "Un label par ligne.",
    "wheelchair_accessible": "Laissez « Je ne sais pas » si vous n’êtes pas sûr.",
    "acceslibre_url": "L’adresse de la fiche du lieu sur acceslibre.beta.gouv.fr, si elle existe.",
    "pivot": "14 chiffres, sans espace. Facultatif.",
    "parent_structure": "Par exemple la commune ou l’association qui porte le lieu. Facultatif.",
}


class Form(forms.Form):
    """Labels without the trailing " :" Django adds in French."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ModelForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


ACCESSIBILITY_CHOICES = [("", "Je ne sais pas"), ("true", "Oui"), ("false", "Non")]


class StructureForm(ModelForm):
    """Every field a mediator can fill in, plus the version the page was loaded at."""

    version = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Structure
        fields = STRUCTURE_FIELDS
        labels = LABELS
        help_texts = HELP_TEXTS
        widgets = {
            "kinds": forms.CheckboxSelectMultiple,
            "summary": forms.Textarea(attrs={"rows": 2, "maxlength": 280}),
            "description": forms.Textarea(attrs={"rows": 5}),
            "opening_hours": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            "opening_hours_note": forms.Textarea(attrs={"rows": 2}),
            "accessibility_note": forms.Textarea(attrs={"rows": 2}),
            "equipment_note": forms.Textarea(attrs={"rows": 2}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "postal_code": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 5}),
            "latitude": forms.NumberInput(attrs={"step": "any"}),
            "longitude": forms.NumberInput(attrs={"step": "any"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kinds"].queryset = ServiceType.objects.all()
        self.fields["kinds"].required = True
        self.fields["kinds"].error_messages["required"] = NO_KIND_MESSAGE
        self.fields["wheelchair_accessible"] = forms.TypedChoiceField(
            label=LABELS["wheelchair_accessible"],
            help_text=HELP_TEXTS["wheelchair_accessible"],
            choices=ACCESSIBILITY_CHOICES,
            coerce=lambda value: value == "true",
            empty_value=None,
            required=False,
            widget=forms.RadioSelect,
        )
        # As the radio buttons post it; an `initial` already in that form is kept.
        accessible = self.initial.get("wheelchair_accessible")
        if accessible in (True, False, None):
            self.initial["wheelchair_accessible"] = {True: "true", False: "false", None: ""}[
                accessible
            ]
        self.mark_deduced()

    def mark_deduced(self):
        """Values an import deduced say so beside their box, until a person saves the form."""
        for name in Structure.DEDUCIBLE_FIELDS:
            sources = self.instance.deduced_sources(name) if name in self.fields else {}
            if not sources:
                continue
            field = self.fields[name]
            field.choices = [
                (value, f"{label} — déduit de {sources[value]} — à confirmer")
                if value in sources
                else (value, label)
                for value, label in field.choices
            ]
            field.help_text = (
                "Les choix « à confirmer » ont été déduits par l’import. Décochez ce qui est "
                "faux : en enregistrant, vous confirmez ce qui reste coché."
            )

    def confirm_deduced(self):
        """The person saw each deduced value beside its box (edit page): what they keep is
        confirmed, what they unticked is gone. Called by the edit page when it saves, not
        by other paths that use this form without showing it (API writes)."""
        self.instance.confirm_deduced([n for n in Structure.DEDUCIBLE_FIELDS if n in self.fields])

    def sections(self):
        """The fields grouped under the page's headings."""
        return [(title, [self[name] for name in names]) for title, names in SECTIONS]

    def clean(self):
        cleaned = super().clean()
        if {"postal_code", "city"} & set(self.changed_data):
            # The commune follows the postal code and the name typed, not the old INSEE code.
            self.instance.code_insee = ""
            self.instance.commune = None
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        if (latitude is None) != (longitude is None):
            raise ValidationError(
                "Indiquez à la fois la latitude et la longitude, ou placez le point sur la carte."
            )
        if latitude is None and cleaned.get("address") and cleaned.get("postal_code"):
            place = geocoding.locate(
                f"{cleaned['address']} {cleaned['postal_code']} {cleaned.get('city', '')}"
            )
            if place:
                cleaned["latitude"], cleaned["longitude"] = place.latitude, place.longitude
        return cleaned


class CommuneField(forms.ModelChoiceField):
    """A commune typed as text: "Issoudun", "Issoudun (36100)" or an INSEE code."""

    widget = forms.TextInput

    default_error_messages = {
        "invalid_choice": "Commune introuvable dans la région, ou plusieurs communes portent ce "
        "nom : précisez le code postal, par exemple « Issoudun (36100) ».",
    }

    def __init__(self, **kwargs):
        super().__init__(queryset=Commune.objects.all(), **kwargs)

    def prepare_value(self, value):
        if isinstance(value, str) and value.isdigit():
            value = Commune.objects.filter(pk=value).first() or value
        if isinstance(value, Commune):
            postal = value.postal_codes[0] if value.postal_codes else value.code_insee
            return f"{value.name} ({postal})"
        return value

    def to_python(self, value):
        text = (value or "").strip()
        if not text:
            return None
        if isinstance(value, Commune):
            return value
        if Commune.objects.filter(pk=text).exists():
            return Commune.objects.get(pk=text)
        name, _, postal = text.partition("(")
        postal = postal.rstrip(") ").strip()
        candidates = list(Commune.objects.matching(postal or name))
        wanted = normalize_search(name)
        exact = [c for c in candidates if normalize_search(c.name) == wanted]
        if len(exact) == 1:
            return exact[0]
        if len(candidates) == 1 and not postal:
            return candidates[0]
        raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")

    def has_changed(self, initial, data):
        return str(self.prepare_value(initial) or "") != str(data or "").strip()


class StopForm(ModelForm):
    """One stop of an itinerant service; its point comes from the address if not placed."""

    commune = CommuneField(
        label="Commune", help_text="Par exemple « Issoudun » ou « Issoudun (36100) »."
    )

    class Meta:
        model = Stop
        fields = ["place", "address", "commune", "opening_hours", "note", "latitude", "longitude"]
        labels = {
            "place": "Lieu de l’étape",
            "address": "Adresse",
            "opening_hours": "Jours et heures de passage",
            "note": "Précisions",
        }
        help_texts = {
            "address": "Facultatif. Sans adresse, le point est placé au centre de la commune.",
            "opening_hours": (
                "Format OpenStreetMap : « We[1] 09:00-12:00 » = le 1er mercredi du mois, "
                "« Tu 14:00-17:00 » = chaque mardi."
            ),
            "latitude": "Facultatif : calculée depuis l’adresse.",
            "longitude": "Facultatif : calculée depuis l’adresse.",
        }
        widgets = {
            "latitude": forms.NumberInput(attrs={"step": "any"}),
            "longitude": forms.NumberInput(attrs={"step": "any"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["latitude"].required = False
        self.fields["longitude"].required = False

    def clean(self):
        cleaned = super().clean()
        commune = cleaned.get("commune")
        if commune is None:
            return cleaned
        moved = {"address", "commune"} & set(self.changed_data)
        placed = {"latitude", "longitude"} & set(self.changed_data)
        if (
            cleaned.get("latitude") is None
            or cleaned.get("longitude") is None
            or (moved and not placed)
        ):
            place = None
            if cleaned.get("address"):
                place = geocoding.locate(
                    f"{cleaned['address']} {commune.name}", citycode=commune.code_insee
                )
            cleaned["latitude"] = place.latitude if place else commune.latitude
            cleaned["longitude"] = place.longitude if place else commune.longitude
        return cleaned


StopFormSet = forms.inlineformset_factory(
    Structure, Stop, form=StopForm, extra=1, can_delete=True, max_num=100
)


class InvitationForm(Form):
    email = forms.EmailField(
        label="Adresse e-mail de la personne à inviter",
        help_text="Elle recevra un lien valable 14 jours, utilisable une seule fois.",
    )


class JoinRequestForm(Form):
    message = forms.CharField(
        label="Votre rôle dans ce lieu",
        help_text="Par exemple : « Je suis la conseillère numérique de la médiathèque ». "
        "Cela aide le coordinateur à vous répondre.",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )


class DecisionForm(Form):
    """Accept or refuse, with a message sent to the person concerned."""

    message = forms.CharField(
        label="Message à l’auteur",
        help_text="Obligatoire pour un refus : il est envoyé par e-mail.",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
    )


class RefusalForm(Form):
    message = forms.CharField(
        label="Pourquoi refusez-vous ?",
        help_text="Ce message est envoyé par e-mail à l’auteur.",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": "Expliquez le refus : le message est envoyé à l’auteur."},
    )


class AccountCreationForm(Form):
    """Accepting an invitation without an account: a name and a password."""

    first_name = forms.CharField(label="Prénom", max_length=150)
    last_name = forms.CharField(label="Nom", max_length=150)
    password1 = forms.CharField(
        label="Mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Au moins 12 caractères. Une phrase facile à retenir convient très bien.",
    )
    password2 = forms.CharField(
        label="Le même mot de passe, une seconde fois",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "Les deux mots de passe ne sont pas identiques.")
        elif password1:
            user = User(
                email=self.email,
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(password1, user)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class AccountDeletionForm(forms.Form):
    """Deleting one's account: the password says it is really the person."""

    password = forms.CharField(
        label="Votre mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError("Ce mot de passe n’est pas le bon.", code="password_incorrect")
        return password


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Nom du jeton",
        max_length=100,
        help_text="Pour le reconnaître : l’outil ou le partenaire qui l’utilise.",
    )
    lifetime = forms.TypedChoiceField(
        label="Valable",
        choices=[("365", "1 an"), ("90", "3 mois"), ("30", "1 mois")],
        initial="365",
        coerce=int,
    )


class AppCodeForm(Form):
    """The 6 digits an authenticator app shows."""

    code = forms.CharField(
        label="Code à 6 chiffres de votre application",
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": r"[0-9 ]*",
                "size": "8",
            }
        ),
    )


class RecoveryCodeForm(Form):
    """One of the 10 recovery codes given when the app was set up."""

    code = forms.CharField(
        label="Code de secours",
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )


class SecondFactorOffForm(AccountDeletionForm):
    """Turning the second factor off: the password again, as for deleting the account."""
