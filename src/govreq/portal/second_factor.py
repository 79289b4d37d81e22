"""Officers' authenticator apps (TOTP): set up, and asked for after the e-mailed code when their
agency requires it (``Agency.require_officer_totp``, switched by ``agencies.second_factor``).

The codes are ``core.totp``'s, as for staff: a code is accepted once (the last time step used is
stored under a row lock), and a recovery code stands in for the app once. Attempts are rate
limited per officer and per client address, and audited like the e-mailed code's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.agencies.models import Officer
from govreq.audit.services import audit_record
from govreq.core import totp
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, ValidationFailed
from govreq.portal.models import OfficerRecoveryCode, OfficerTotpDevice, RateLimitScope
from govreq.portal.services import (
    PORTAL,
    VERIFICATIONS_PER_CLIENT,
    RateLimit,
    RateLimited,
    SignInFailed,
    officer_may_sign_in,
    within_limits,
)

# Ten tries per officer in 15 minutes: a 6-digit code cannot be guessed at that pace, and the
# e-mailed code has to be asked for again after each 10 minutes anyway.
SECOND_FACTOR_PER_OFFICER = RateLimit(
    scope=RateLimitScope.SECOND_FACTOR_FOR_OFFICER, limit=10, window=timedelta(minutes=15)
)


def officer_totp_required(officer: Officer) -> bool:
    """Whether the officer's agency asks for an authenticator code after the e-mailed one."""
    return officer.agency.require_officer_totp


def officer_has_authenticator(officer: Officer) -> bool:
    return OfficerTotpDevice.objects.filter(officer=officer, confirmed_at__isnull=False).exists()


@transaction.atomic
def officer_totp_enrol_start(*, officer: Officer, now: datetime) -> totp.Enrolment:
    """A new, unconfirmed authenticator secret for the officer (replacing an unconfirmed one);
    shown once, confirmed by ``officer_totp_confirm``."""
    existing = OfficerTotpDevice.objects.filter(officer=officer).first()
    if existing is not None and existing.confirmed_at is not None:
        raise Conflict("an authenticator is already set up", code="totp_exists")
    secret = totp.secret_new(account=officer.email)
    OfficerTotpDevice.objects.update_or_create(
        officer=officer,
        defaults={
            "secret_encrypted": secret.encrypted,
            "created_at": now,
            "confirmed_at": None,
            "last_counter": 0,
        },
    )
    return secret.enrolment


def officer_totp_enrolment(officer: Officer) -> totp.Enrolment | None:
    """The enrolment still waiting for its first code (to show it again), if any."""
    device = OfficerTotpDevice.objects.filter(officer=officer, confirmed_at__isnull=True).first()
    if device is None:
        return None
    secret = totp.secret_decrypt(bytes(device.secret_encrypted))
    return totp.enrolment_of(secret, account=officer.email)


def _accept(device: OfficerTotpDevice, code: str, now: datetime) -> bool:
    """Whether ``code`` is valid now and later than the last one used (then it is used up)."""
    counter = totp.accepted_counter(
        secret=totp.secret_decrypt(bytes(device.secret_encrypted)),
        code=code,
        last_counter=device.last_counter,
        now=now,
    )
    if counter is None:
        return False
    device.last_counter = counter
    device.save(update_fields=["last_counter"])
    return True


def _recovery_codes_new(*, officer: Officer, now: datetime) -> list[str]:
    OfficerRecoveryCode.objects.filter(officer=officer).delete()
    codes = totp.recovery_codes_new()
    OfficerRecoveryCode.objects.bulk_create(
        OfficerRecoveryCode(
            officer=officer, code_hash=totp.recovery_code_hash(code), created_at=now
        )
        for code in codes
    )
    return codes


def _limits(officer: Officer, client_ip: str) -> list[tuple[RateLimit, str]]:
    return [(SECOND_FACTOR_PER_OFFICER, str(officer.pk)), (VERIFICATIONS_PER_CLIENT, client_ip)]


def _signed_in(officer: Officer, *, how: str, client_ip: str, now: datetime) -> None:
    audit_record(
        actor=Actor.for_officer(officer),
        action="portal.signed_in",
        object_type="officer",
        object_id=officer.pk,
        data={"client_ip": client_ip, "second_factor": how},
        now=now,
    )


def _failed(officer: Officer, *, reason: str, client_ip: str, now: datetime) -> None:
    audit_record(
        actor=PORTAL,
        action="portal.sign_in_failed",
        object_type="officer",
        object_id=officer.pk,
        data={"email": officer.email, "reason": reason, "client_ip": client_ip},
        now=now,
    )


def officer_totp_confirm(
    *, officer: Officer, code: str, client_ip: str, now: datetime
) -> list[str]:
    """Confirm the officer's new authenticator with a first code from it, which also completes
    their sign-in; returns their recovery codes (shown once). Raises SignInFailed for a wrong
    code, RateLimited after too many tries."""
    reason = ""
    codes: list[str] = []
    with transaction.atomic():
        device = OfficerTotpDevice.objects.select_for_update().filter(officer=officer).first()
        if device is None or device.confirmed_at is not None:
            raise Conflict("there is no authenticator waiting for confirmation", code="totp_state")
        if not within_limits(_limits(officer, client_ip), now):
            reason = "rate_limited"
        elif not officer_may_sign_in(officer):
            reason = "not_allowed"
        elif not _accept(device, code, now):
            reason = "wrong_authenticator_code"
        if reason:
            _failed(officer, reason=reason, client_ip=client_ip, now=now)
        else:
            device.confirmed_at = now
            device.save(update_fields=["confirmed_at"])
            codes = _recovery_codes_new(officer=officer, now=now)
            audit_record(
                actor=Actor.for_officer(officer),
                action="portal.second_factor_enrolled",
                object_type="officer",
                object_id=officer.pk,
                now=now,
            )
            _signed_in(officer, how="totp_enrolled", client_ip=client_ip, now=now)
    if reason == "rate_limited":
        raise RateLimited("too many authenticator codes tried; try again later")
    if reason:
        raise SignInFailed("the authenticator code is not valid")
    return codes


def officer_second_factor_verify(
    *, officer: Officer, code: str, client_ip: str, now: datetime
) -> None:
    """Complete the sign-in of an officer who gave their e-mailed code: a current code from
    their authenticator (each accepted once), or else one of their unused recovery codes.
    Raises SignInFailed (or RateLimited); success and failure are audited."""
    reason = ""
    how = "totp"
    with transaction.atomic():
        device = (
            OfficerTotpDevice.objects.select_for_update()
            .filter(officer=officer, confirmed_at__isnull=False)
            .first()
        )
        if not within_limits(_limits(officer, client_ip), now):
            reason = "rate_limited"
        elif device is None:
            reason = "no_authenticator"
        elif not officer_may_sign_in(officer):
            reason = "not_allowed"
        elif not _accept(device, code, now):
            how = "recovery_code"
            used = OfficerRecoveryCode.objects.filter(
                officer=officer, code_hash=totp.recovery_code_hash(code), used_at__isnull=True
            ).update(used_at=now)
            if used != 1:
                reason = "wrong_authenticator_code"
        if reason:
            _failed(officer, reason=reason, client_ip=client_ip, now=now)
        else:
            _signed_in(officer, how=how, client_ip=client_ip, now=now)
    if reason == "rate_limited":
        raise RateLimited("too many authenticator codes tried; try again later")
    if reason:
        raise SignInFailed("the authenticator code is not valid")


@transaction.atomic
def officer_totp_reset(*, actor: Actor, officer: Officer, reason: str, now: datetime) -> None:
    """Forget an officer's authenticator and recovery codes (a lost phone): their next sign-in
    sets up a new one. Intake staff and policy admins, with a reason; audited."""
    require_role(actor, StaffRole.INTAKE, StaffRole.POLICY_ADMIN)
    if not reason.strip():
        raise ValidationFailed.single("reason", "must not be empty")
    deleted, _ = OfficerTotpDevice.objects.filter(officer=officer).delete()
    if not deleted:
        raise Conflict("the officer has no authenticator", code="totp_missing")
    OfficerRecoveryCode.objects.filter(officer=officer).delete()
    audit_record(
        actor=actor,
        action="officer.authenticator_reset",
        object_type="officer",
        object_id=officer.pk,
        data={"reason": reason.strip()},
        now=now,
    )
