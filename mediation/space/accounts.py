"""Account pages that differ from Django's own: limits and unlocking.

- A password reset is limited per visitor and per address (mediation/abuse.py):
  past the limit the form comes back with a French message and no mail leaves.
- Choosing a new password through the e-mailed link clears the account's
  login lock-out (django-axes, mediation/lockout.py), from every address, and
  logs the owner in: they can always get back in, whatever a stranger
  guessing their password did.
"""

from axes.utils import reset as reset_login_failures
from django.contrib.auth import views as auth_views

from mediation import abuse


class PasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form):
        if not abuse.allow(self.request, "password_reset", targets=[form.cleaned_data["email"]]):
            form.add_error(None, abuse.message("password_reset"))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The new password unlocks the account and logs its owner in, even while
    a stranger's guesses keep the login form locked for that e-mail."""

    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"

    def form_valid(self, form):
        response = super().form_valid(form)
        reset_login_failures(username=form.user.email.lower())
        return response
