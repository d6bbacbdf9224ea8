"""Closed value lists of the national data standard 1.0.2.

Each value *is* the standard's wording ("Lieux de médiation numérique",
LaMednum / ANCT, schema 1.0.2), so importing and exporting is a lookup, not a
translation table.
"""

from django.db import models


class Service(models.TextChoices):
    DEMARCHES = "Aide aux démarches administratives", "Aide aux démarches administratives"
    OUTILS_QUOTIDIEN = (
        "Maîtrise des outils numériques du quotidien",
        "Maîtrise des outils numériques du quotidien",
    )
    INSERTION_PRO = (
        "Insertion professionnelle via le numérique",
        "Insertion professionnelle via le numérique",
    )
    SECURITE = "Utilisation sécurisée du numérique", "Utilisation sécurisée du numérique"
    PARENTALITE = (
        "Parentalité et éducation avec le numérique",
        "Parentalité et éducation avec le numérique",
    )
    LOISIRS = "Loisirs et créations numériques", "Loisirs et créations numériques"
    COMPREHENSION = "Compréhension du monde numérique", "Compréhension du monde numérique"
    ACCES_MATERIEL = (
        "Accès internet et matériel informatique",
        "Accès internet et matériel informatique",
    )
    MATERIEL_SOLIDAIRE = (
        "Acquisition de matériel informatique à prix solidaire",
        "Acquisition de matériel informatique à prix solidaire",
    )


class Public(models.TextChoices):
    JEUNES = "Jeunes", "Jeunes"
    ETUDIANTS = "Étudiants", "Étudiants"
    FAMILLES = "Familles et/ou enfants", "Familles et/ou enfants"
    SENIORS = "Seniors", "Seniors"
    FEMMES = "Femmes", "Femmes"


class PriseEnCharge(models.TextChoices):
    SURDITE = "Surdité", "Surdité"
    HANDICAPS_MOTEURS = "Handicaps moteurs", "Handicaps moteurs"
    HANDICAPS_MENTAUX = "Handicaps mentaux", "Handicaps mentaux"
    ILLETTRISME = "Illettrisme", "Illettrisme"
    ANGLAIS = "Langues étrangères (anglais)", "Langues étrangères (anglais)"
    AUTRES_LANGUES = "Langues étrangères (autres)", "Langues étrangères (autres)"
    DEFICIENCE_VISUELLE = "Déficience visuelle", "Déficience visuelle"


class Frais(models.TextChoices):
    GRATUIT = "Gratuit", "Gratuit"
    GRATUIT_SOUS_CONDITION = "Gratuit sous condition", "Gratuit sous condition"
    PAYANT = "Payant", "Payant"


class Dispositif(models.TextChoices):
    AIDANTS_CONNECT = "Aidants Connect", "Aidants Connect"
    BNR = "Bibliothèques numérique de référence", "Bibliothèques numérique de référence"
    PIX = "Certification PIX", "Certification PIX"
    CONSEILLERS_NUMERIQUES = "Conseillers numériques", "Conseillers numériques"
    EMMAUS_CONNECT = "Emmaüs Connect", "Emmaüs Connect"
    FRANCE_SERVICES = "France Services", "France Services"
    GEN = "Grande école du numérique", "Grande école du numérique"
    CROIX_ROUGE = "La Croix Rouge", "La Croix Rouge"
    CAF = "Point d'accès numérique CAF", "Point d'accès numérique CAF"
    PROMENEURS = "Promeneurs du net", "Promeneurs du net"
    RELAIS_EMMAUS = "Relais numérique (Emmaüs Connect)", "Relais numérique (Emmaüs Connect)"


class FormationLabel(models.TextChoices):
    MON_ESPACE_SANTE = "Formé à « Mon Espace Santé »", "Formé à « Mon Espace Santé »"
    DUPLEX = "Formé à « DUPLEX » (illettrisme)", "Formé à « DUPLEX » (illettrisme)"
    ARNIA = (
        "Arnia/MedNum BFC (Bourgogne-Franche-Comté)",
        "Arnia/MedNum BFC (Bourgogne-Franche-Comté)",
    )
    REEMPLOI_NORMANDIE = (
        "Collectif ressources et acteurs réemploi (Normandie)",
        "Collectif ressources et acteurs réemploi (Normandie)",
    )
    # The standard documents "Étapes numériques (La Poste)"; the 1.0.2 schema's
    # pattern only accepts it without the space. We store the documented form
    # and the exporter writes the form the schema validates.
    ETAPES_NUMERIQUES = "Étapes numériques (La Poste)", "Étapes numériques (La Poste)"
    FABRIQUES_TERRITOIRE = "Fabriques de Territoire", "Fabriques de Territoire"
    ECLAIREURS = "Les Éclaireurs du numérique (Drôme)", "Les Éclaireurs du numérique (Drôme)"
    MES_PAPIERS = "Mes Papiers (Métropole de Lyon)", "Mes Papiers (Métropole de Lyon)"
    ORDI_3 = "ORDI 3.0", "ORDI 3.0"
    SUD_LABS = "SUD LABS (PACA)", "SUD LABS (PACA)"


class ModaliteAcces(models.TextChoices):
    SE_PRESENTER = "Se présenter", "Se présenter"
    TELEPHONER = "Téléphoner", "Téléphoner"
    MAIL = "Contacter par mail", "Contacter par mail"
    RDV_EN_LIGNE = "Prendre un RDV en ligne", "Prendre un RDV en ligne"
    PAS_DE_PUBLIC = "Ce lieu n'accueille pas de public", "Ce lieu n'accueille pas de public"
    PRESCRIPTION = (
        "Envoyer un mail avec une fiche de prescription",
        "Envoyer un mail avec une fiche de prescription",
    )


class ModaliteAccompagnement(models.TextChoices):
    AUTONOMIE = "En autonomie", "En autonomie"
    INDIVIDUEL = "Accompagnement individuel", "Accompagnement individuel"
    ATELIER = "Dans un atelier collectif", "Dans un atelier collectif"
    DISTANCE = "À distance", "À distance"


class Itinerance(models.TextChoices):
    ITINERANT = "Itinérant", "Itinérant"
    FIXE = "Fixe", "Fixe"


class Equipement(models.TextChoices):
    """Equipment a visitor may use on site (not part of the standard)."""

    ORDINATEURS = "Ordinateurs en accès libre", "Ordinateurs en accès libre"
    WIFI = "Wi-Fi gratuit", "Wi-Fi gratuit"
    IMPRIMANTE = "Imprimante", "Imprimante"
    SCANNER = "Scanner", "Scanner"
    TABLETTES = "Tablettes", "Tablettes"
    VISIO = "Poste de visioconférence", "Poste de visioconférence"
    FABRICATION = (
        "Machines de fabrication (imprimante 3D, découpe laser…)",
        "Machines de fabrication (imprimante 3D, découpe laser…)",
    )


class Status(models.TextChoices):
    DRAFT = "draft", "Brouillon"
    PUBLISHED = "published", "Publié"
    ARCHIVED = "archived", "Archivé"
