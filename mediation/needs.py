"""What people need, in their words, and the standard's values said plainly.

The national standard's wording ("Maîtrise des outils numériques du
quotidien", "Handicaps mentaux") stays in the data, the API and the exports;
the public pages show the plain words below. The needs on the home page are
the first question a citizen answers: each maps to the standard's services.
"""

from dataclasses import dataclass

from mediation.choices import (
    Dispositif,
    Frais,
    ModaliteAcces,
    ModaliteAccompagnement,
    PriseEnCharge,
    Public,
    Service,
)


@dataclass(frozen=True)
class Need:
    slug: str  # the URL value (?besoin=demarches)
    label: str
    services: tuple  # the standard's services that answer it (any of them)
    icon: str  # a pictogram of the Lucide set (npm lucide-static, ISC licence)


NEEDS = (
    Need("demarches", "Faire une démarche en ligne", (Service.DEMARCHES,), "file-text"),
    Need(
        "apprendre",
        "Apprendre à me servir d’un téléphone ou d’un ordinateur",
        (Service.OUTILS_QUOTIDIEN, Service.COMPREHENSION),
        "monitor-smartphone",
    ),
    Need(
        "acces",
        "Avoir accès à un ordinateur ou à internet",
        (Service.ACCES_MATERIEL,),
        "laptop",
    ),
    Need(
        "imprimer",
        "Imprimer ou scanner un document",
        (Service.ACCES_MATERIEL,),
        "printer",
    ),
    Need("emploi", "Chercher un emploi", (Service.INSERTION_PRO,), "briefcase"),
    Need("enfant", "Accompagner mon enfant", (Service.PARENTALITE,), "backpack"),
    Need(
        "securite",
        "Me protéger des arnaques sur internet",
        (Service.SECURITE,),
        "shield-check",
    ),
    Need(
        "materiel",
        "Acheter un ordinateur ou un téléphone pas cher",
        (Service.MATERIEL_SOLIDAIRE,),
        "piggy-bank",
    ),
)
NEEDS_BY_SLUG = {need.slug: need for need in NEEDS}


def services_for(slugs):
    """The standard's services answering any of the needs `slugs`."""
    services = []
    for slug in slugs:
        for service in NEEDS_BY_SLUG[slug].services:
            if service not in services:
                services.append(service)
    return services


# The standard's values, as a citizen reads them. A value missing here is shown as is.
PLAIN = {
    Service.DEMARCHES: "Aide pour les démarches en ligne (impôts, CAF, santé…)",
    Service.OUTILS_QUOTIDIEN: "Apprendre à se servir d’un ordinateur, d’un téléphone, d’internet",
    Service.INSERTION_PRO: "Aide pour chercher un emploi ou une formation",
    Service.SECURITE: "Se protéger sur internet (arnaques, mots de passe)",
    Service.PARENTALITE: "Accompagner ses enfants avec les écrans et l’école en ligne",
    Service.LOISIRS: "Loisirs et création (photo, vidéo, jeux…)",
    Service.COMPREHENSION: "Comprendre le numérique et ses usages",
    Service.ACCES_MATERIEL: "Ordinateur, internet ou imprimante à disposition",
    Service.MATERIEL_SOLIDAIRE: "Acheter un ordinateur ou un téléphone à petit prix",
    Public.JEUNES: "Jeunes",
    Public.ETUDIANTS: "Étudiants",
    Public.FAMILLES: "Familles et enfants",
    Public.SENIORS: "Personnes âgées",
    Public.FEMMES: "Femmes",
    PriseEnCharge.SURDITE: "Personnes sourdes ou malentendantes",
    PriseEnCharge.HANDICAPS_MOTEURS: "Personnes à mobilité réduite",
    PriseEnCharge.HANDICAPS_MENTAUX: "Personnes avec un handicap psychique ou intellectuel",
    PriseEnCharge.ILLETTRISME: "Personnes qui ont du mal à lire ou à écrire",
    PriseEnCharge.ANGLAIS: "On y parle anglais",
    PriseEnCharge.AUTRES_LANGUES: "On y parle d’autres langues étrangères",
    PriseEnCharge.DEFICIENCE_VISUELLE: "Personnes aveugles ou malvoyantes",
    Frais.GRATUIT: "Gratuit",
    Frais.GRATUIT_SOUS_CONDITION: "Gratuit sous conditions",
    Frais.PAYANT: "Payant",
    ModaliteAcces.SE_PRESENTER: "Venir sur place",
    ModaliteAcces.TELEPHONER: "Téléphoner avant",
    ModaliteAcces.MAIL: "Écrire un e-mail",
    ModaliteAcces.RDV_EN_LIGNE: "Prendre rendez-vous sur internet",
    ModaliteAcces.PAS_DE_PUBLIC: "Ce lieu ne reçoit pas de public",
    ModaliteAcces.PRESCRIPTION: "Sur orientation d’un travailleur social",
    ModaliteAccompagnement.AUTONOMIE: "Seul, sur un ordinateur en libre accès",
    ModaliteAccompagnement.INDIVIDUEL: "Avec une personne, en tête-à-tête",
    ModaliteAccompagnement.ATELIER: "En atelier, en petit groupe",
    ModaliteAccompagnement.DISTANCE: "À distance, par téléphone ou en visio",
    Dispositif.FRANCE_SERVICES: "France Services (guichet des services publics)",
    Dispositif.CONSEILLERS_NUMERIQUES: "Conseiller numérique",
    Dispositif.AIDANTS_CONNECT: "Aidants Connect (un aidant peut faire la démarche pour vous)",
    Dispositif.CAF: "Point numérique de la CAF",
    Dispositif.PROMENEURS: "Promeneurs du Net (des éducateurs présents en ligne pour les jeunes)",
}


def plain(value):
    """A standard value as a citizen reads it."""
    return PLAIN.get(value, value)
