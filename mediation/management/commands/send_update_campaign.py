"""`send_update_campaign`: a link to confirm or correct their listing, for places
without a mediator (see mediation/campaigns.py); `--report N` prints a campaign's figures."""

from django.core.management.base import BaseCommand, CommandError

from mediation import campaigns
from mediation.models import Campaign
from mediation.space import emails
from territories.models import BassinDeVie


class Command(BaseCommand):
    help = (
        "Envoie aux lieux sans médiateur dont l’e-mail public est connu un lien pour "
        "confirmer ou corriger leur fiche sans compte (au plus un message par lieu tous "
        "les six mois). --report N affiche le bilan d’une campagne."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--bassin",
            action="append",
            metavar="SLUG",
            help="Limiter à ce bassin de vie (répétable). Par défaut : toute la région.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Affiche sans envoyer.")
        parser.add_argument("--base-url", default="", help="Adresse du site (https://…).")
        parser.add_argument("--report", type=int, metavar="N", help="Bilan de la campagne N.")

    def handle(self, *args, bassin=None, dry_run=False, base_url="", report=None, **options):
        if report is not None:
            campaign = Campaign.objects.filter(pk=report).first()
            if campaign is None:
                raise CommandError(f"Aucune campagne n° {report}.")
            self.write_report(campaign)
            return
        bassins = None
        if bassin:
            bassins = list(BassinDeVie.objects.filter(slug__in=bassin))
            unknown = set(bassin) - {b.slug for b in bassins}
            if unknown:
                raise CommandError(f"Bassin(s) de vie inconnu(s) : {', '.join(sorted(unknown))}")
        campaign, results = campaigns.send_campaign(
            bassins=bassins,
            base_url=(base_url or emails.default_base_url()).rstrip("/"),
            dry_run=dry_run,
        )
        for structure, address, sent in results:
            mark = "" if dry_run or sent else " — ÉCHEC DE L’ENVOI"
            self.stdout.write(f"{structure.name} ({structure.city}) → {address}{mark}")
        if dry_run:
            self.stdout.write(self.style.SUCCESS(f"{len(results)} lieu(x) seraient contactés."))
            return
        self.write_report(campaign)
        failed = sum(1 for *_, sent in results if not sent)
        if failed:
            raise CommandError(f"{failed} envoi(s) en échec (voir le journal).")

    def write_report(self, campaign):
        self.stdout.write(self.style.SUCCESS(f"{campaign} (n° {campaign.pk})"))
        for label, count in campaign.report().lines():
            self.stdout.write(f"  {label} : {count}")
