from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "openhotline.core"
    label = "core"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.mail.utils import DNS_NAME

        # local import: app loading; importing them registers the checks.
        from openhotline.core import checks, signing_keys  # noqa: F401

        # Django would ask socket.getfqdn() (the system resolver) for the HELO name.
        DNS_NAME._fqdn = settings.MAIL_HOSTNAME
