from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        # The project-wide system checks (config imports no app, so the lowest app loads them).
        from config import checks  # noqa: F401
