"""Remove a person's second factor (lost phone and recovery codes).

They set up a new one at their next login (required for admins and
coordinators), or from "Mon espace". The admin does the same from the
"TOTP devices" and "Static devices" lists.
"""

from django.core.management.base import BaseCommand, CommandError

from mediation import second_factor
from mediation.models import User


class Command(BaseCommand):
    help = (
        "Retire la double authentification d’un compte (téléphone et codes de secours perdus) : "
        "la personne la configurera à nouveau à sa prochaine connexion."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="Adresse e-mail du compte.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Dire seulement ce qui serait retiré."
        )

    def handle(self, *, email, dry_run, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"Aucun compte avec l’adresse {email}.")
        if dry_run:
            count = second_factor.device_count(user)
            self.stdout.write(self.style.SUCCESS(f"{count} appareil(s) à retirer (essai à blanc)."))
            return
        count = second_factor.remove(user=user)
        self.stdout.write(
            self.style.SUCCESS(
                f"Double authentification retirée pour {user.email} ({count} appareil(s))."
            )
        )
