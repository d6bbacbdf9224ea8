"""The national data standard of "lieux de médiation numérique" 1.0.2, mapped to the model.

One table, `COLUMNS`: the standard's 32 columns in its schema's order, each with
the `Structure` attribute that holds it and whether a place cannot be read
without it. Whether a column is multi-valued ("|" between values in the
standard's files, a list on the model and in the API) and its closed list of
values are the model field's own (`Column.multiple`, `Column.values`), so they
cannot drift from what the model accepts.

Everything that speaks the standard derives from this table:
`mediation.exporters` writes these columns, `mediation.importers.standard`
reads them, and the API (`mediation.api.serializers`, `mediation.api.write`)
publishes them under the same names, with the directory's own fields
(`REGIONAL_COLUMNS`) after them.
"""

from dataclasses import dataclass

from mediation.fields import MultiValueField
from mediation.models import Structure

VERSION = "1.0.2"


@dataclass(frozen=True)
class Column:
    """One column: its name in the standard and the model attribute holding it."""

    name: str
    # The `Structure` field; None where the value is computed (`date_maj`).
    attribute: str | None
    # A row without it cannot become a place (the importer refuses the row).
    required: bool = False
    # What the API documentation says of it, where the name is not enough.
    help: str = ""

    @property
    def field(self):
        return Structure._meta.get_field(self.attribute) if self.attribute else None

    @property
    def multiple(self):
        """True for a list of values ("a|b" in the standard's files)."""
        return isinstance(self.field, MultiValueField)

    @property
    def values(self):
        """The closed list of accepted values (the standard's wording), or None."""
        field = self.field
        if field is None or not field.choices:
            return None
        return tuple(value for value, _ in field.choices)


COLUMNS = (
    Column("id", "uid", required=True, help="Identifiant du lieu (champ « id » du standard)."),
    Column("pivot", "pivot", help="SIRET, SIREN ou RNA ; vide s’il est inconnu."),
    Column("nom", "name", required=True),
    Column("commune", "city", required=True),
    Column("code_postal", "postal_code", required=True),
    Column("code_insee", "code_insee"),
    Column("adresse", "address", required=True),
    Column("complement_adresse", "address_complement"),
    Column("latitude", "latitude"),
    Column("longitude", "longitude"),
    Column(
        "typologie",
        "typologie",
        help="Codes de typologie de data.inclusion (ASSO, COMMUNE…), avec ceux des types du lieu "
        "(médiathèque : BIB, France Services : RFS, coworking et fablab : TIERS_LIEUX).",
    ),
    Column("telephone", "phone", help="Format international : +33…"),
    Column("courriels", "emails", help="Adresses e-mail de contact du lieu."),
    Column("site_web", "websites", help="Sites web du lieu."),
    Column("horaires", "opening_hours", help="Format OpenStreetMap opening_hours."),
    Column("presentation_resume", "summary"),
    Column("presentation_detail", "description"),
    Column("source", "source", help="Qui a collecté la donnée."),
    Column("itinerance", "itinerance", help="Itinérant, Fixe."),
    Column("structure_parente", "parent_structure"),
    # The date the information last changed: computed (see `exporters.date_maj`).
    Column("date_maj", None),
    Column("services", "services", help="Services proposés (valeurs du standard)."),
    Column("publics_specifiquement_adresses", "publics", help="Publics spécifiquement adressés."),
    Column("prise_en_charge_specifique", "specific_support", help="Prises en charge spécifiques."),
    Column("frais_a_charge", "fees", help="Gratuit, Gratuit sous condition, Payant."),
    Column(
        "dispositif_programmes_nationaux",
        "national_programmes",
        help="Dispositifs et programmes nationaux, avec ceux des types du lieu (France Services, "
        "Promeneurs du net).",
    ),
    Column("formations_labels", "labels", help="Formations et labels (valeurs du standard)."),
    Column("autres_formations_labels", "other_labels", help="Autres formations et labels."),
    Column("modalites_acces", "access_modes", help="Modalités d’accès."),
    Column("modalites_accompagnement", "support_modes", help="Modalités d’accompagnement."),
    Column("fiche_acces_libre", "acceslibre_url"),
    Column("prise_rdv", "appointment_url"),
)

# The directory's own fields, which the standard has no column for: the API
# publishes them after the standard's, under names in the same style, and the
# export adds them after its 32 columns when asked (`?colonnes=regionales`).
REGIONAL_COLUMNS = (
    Column(
        "horaires_precisions",
        "opening_hours_note",
        help="Précisions en texte libre (vacances…).",
    ),
    Column("accessible_fauteuil_roulant", "wheelchair_accessible", help="null : non renseigné."),
    Column("precisions_accessibilite", "accessibility_note"),
    Column("equipements", "equipment", help="Équipements à disposition."),
    Column("precisions_equipements", "equipment_note"),
    Column(
        "modifie_le",
        "updated_at",
        help="Dernière modification dans l’annuaire (voir updated_since).",
    ),
    Column(
        "verifie_le",
        "verified_at",
        help="Dernière vérification des informations par le lieu ou son médiateur (null : "
        "jamais). `modifie_le` est la dernière modification de la fiche dans l’annuaire.",
    ),
)

NAMES = tuple(column.name for column in COLUMNS)
REGIONAL_NAMES = tuple(column.name for column in REGIONAL_COLUMNS)
REQUIRED = tuple(column.name for column in COLUMNS if column.required)
BY_NAME = {column.name: column for column in (*COLUMNS, *REGIONAL_COLUMNS)}
