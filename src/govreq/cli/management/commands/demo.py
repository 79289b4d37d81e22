from __future__ import annotations

import base64
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError, CommandParser
from django.db import connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from govreq.accounts.models import User
from govreq.cli.commands import GovreqCommand
from govreq.console.otp import has_second_factor, totp_confirm, totp_enrol_start
from govreq.core import totp
from govreq.demo import platform as demo_platform
from govreq.demo.loader import STAFF, demo_load
from govreq.lifecycle.agency_mail import mail_officer


class Command(GovreqCommand):
    help = "Demo data for trying govreq out."
    subcommands = {
        "load": "Load the demo data set (idempotent; refused in production mode).",
        "reset": "Start the demo again from scratch (SQLite only): delete the database, "
        "documents, packages, mail and demo platform in the data directory, then load the demo.",
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

    def add_subcommand_arguments(self, name: str, parser: CommandParser) -> None:
        if name == "reset":
            parser.add_argument(
                "--yes", action="store_true", help="Really delete everything in the data directory."
            )

    def handle_reset(self, **options: Any) -> None:
        """Stop ``govreq serve`` first: the database file is deleted under it otherwise."""
        if settings.PRODUCTION:
            raise CommandError("demo reset is refused in production mode")
        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
            raise CommandError(
                "demo reset only deletes a SQLite database: drop and create the PostgreSQL "
                "database yourself, then run govreq migrate and govreq demo load"
            )
        if not options["yes"]:
            raise CommandError(
                f"this deletes the demo's data in {settings.DATA_DIR}: run it again with --yes"
            )
        connections.close_all()
        data = Path(settings.DATA_DIR)
        database = Path(settings.SQLITE_PATH)
        for path in data.glob(database.name + "*"):  # the database, its WAL and lock files
            path.unlink()
        platform = demo_platform.database_path(data)
        platform.unlink(missing_ok=True)
        for folder in (settings.DOCUMENTS_DIR, settings.PACKAGES_DIR, settings.MAIL_DIR):
            shutil.rmtree(folder, ignore_errors=True)
        call_command("migrate", verbosity=0)
        self.handle_load(**options)

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
