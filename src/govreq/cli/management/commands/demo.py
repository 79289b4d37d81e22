from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from govreq.accounts.models import User
from govreq.cli.commands import GovreqCommand
from govreq.console.otp import has_second_factor, totp_confirm, totp_enrol_start
from govreq.core import totp
from govreq.demo.loader import STAFF, demo_load
from govreq.lifecycle.agency_mail import mail_officer


class Command(GovreqCommand):
    help = "Demo data for trying govreq out."
    subcommands = {
        "load": "Load the demo data set (idempotent; refused in production mode).",
        "authenticators": "Set up an authenticator for every demo staff member who has none, "
        "and print its key (development only): sign in without enrolling a phone.",
    }

    def handle_load(self, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("demo data is refused in production mode")
        started = timezone.now()
        added = demo_load()
        if added:
            # The demo's history happened years ago, when its officers were told of each step:
            # the messages it queued now are not sent today.
            DBTaskResult.objects.filter(
                enqueued_at__gte=started, task_path=f"{mail_officer.func.__module__}.mail_officer"
            ).delete()
            self.stdout.write(f"Demo data loaded: {added} requests")
        else:
            self.stdout.write("Demo data already loaded")

    def handle_authenticators(self, **options: Any) -> None:
        """Enrol each demo staff member's authenticator as if they had scanned the QR code a
        minute ago, and print the keys: any TOTP tool (``oathtool --totp -b KEY``, a password
        manager) then gives the code the console asks for."""
        if settings.PRODUCTION:
            raise CommandError("demo authenticators are refused in production mode")
        earlier = timezone.now() - timedelta(minutes=1)
        for email, _name, _roles in STAFF:
            user = User.objects.filter(email=email).first()
            if user is None:
                raise CommandError("the demo is not loaded: run govreq demo load first")
            if has_second_factor(user):
                self.stdout.write(f"{email:28} already has an authenticator")
                continue
            enrolment = totp_enrol_start(user=user, now=earlier)
            secret = base64.b32decode(
                enrolment.secret_base32 + "=" * (-len(enrolment.secret_base32) % 8)
            )
            totp_confirm(user=user, code=totp.code_at(secret, earlier), now=earlier)
            self.stdout.write(f"{email:28} {enrolment.secret_base32}")
