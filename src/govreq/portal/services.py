"""Portal writes: e-mailed sign-in codes for officers, rate limits, sending a prepared request.

Every refusal a visitor can provoke before signing in answers the same whether or not the address
belongs to an officer, so the portal never tells anyone which addresses have accounts.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.crypto import salted_hmac

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.agencies.models import AgencyStatus, Officer, OfficerStatus
from govreq.agencies.rules import email_domain_allowed
from govreq.audit.services import audit_record, audit_record_standalone
from govreq.core.actors import Actor
from govreq.core.domains import canonical_email
from govreq.core.errors import Conflict, DomainError, FieldError, NotFound, ValidationFailed
from govreq.core.mail import mail_on_commit
from govreq.core.queue import enqueue_with_transaction, seal, unseal
from govreq.intake.models import Channel, LegalRequest
from govreq.intake.schemas import RequestSubmission
from govreq.lifecycle.receiving import document_attach, request_submit
from govreq.portal.models import MAX_CODE_ATTEMPTS, LoginCode, RateLimitEvent, RateLimitScope
from govreq.portal.staging import StagedDocument, staged_path

CODE_DIGITS = 8
CODE_LIFETIME = timedelta(minutes=10)
PORTAL = Actor.system("portal")


@dataclass(frozen=True, kw_only=True)
class RateLimit:
    scope: RateLimitScope
    limit: int
    window: timedelta


CODES_PER_ADDRESS = RateLimit(
    scope=RateLimitScope.CODE_FOR_ADDRESS, limit=5, window=timedelta(hours=1)
)
CODES_PER_CLIENT = RateLimit(
    scope=RateLimitScope.CODE_FROM_CLIENT, limit=20, window=timedelta(hours=1)
)
VERIFICATIONS_PER_CLIENT = RateLimit(
    scope=RateLimitScope.VERIFY_FROM_CLIENT, limit=50, window=timedelta(hours=1)
)
ACCESS_REQUESTS_PER_CLIENT = RateLimit(
    scope=RateLimitScope.ACCESS_FROM_CLIENT, limit=10, window=timedelta(hours=1)
)
# Rate-limit events older than this count for nothing and are deleted.
RATE_LIMIT_RETENTION = timedelta(days=1)


class SignInFailed(DomainError):
    """The code is wrong, used, expired or dead, or nobody may sign in with this address."""

    code = "sign_in_failed"
    http_status = 400


class RateLimited(DomainError):
    code = "rate_limited"
    http_status = 429


def normalise_email(email: str) -> str:
    """The stored form: an internationalised domain in its ASCII (punycode) form, as officers'
    addresses are stored (core.domains), so either spelling signs the same officer in."""
    return canonical_email(email) or email.strip().lower()


def normalise_code(code: str) -> str:
    """Digits only: officers may type the code with spaces or a hyphen."""
    return "".join(character for character in code if character.isdigit())


def _keyed_hash(purpose: str, value: str) -> str:
    return salted_hmac(f"govreq.portal.{purpose}", value, algorithm="sha256").hexdigest()


def _code_hash(email: str, code: str) -> str:
    return _keyed_hash("login_code", f"{email}\n{code}")


def officer_may_sign_in(officer: Officer) -> bool:
    """An ACTIVE officer of a VERIFIED agency, at one of the agency's official domains."""
    agency = officer.agency
    if officer.status != OfficerStatus.ACTIVE or agency.status != AgencyStatus.VERIFIED:
        return False
    domains = list(agency.domains.values_list("domain", flat=True))
    return email_domain_allowed(officer.email, domains, allow_subdomains=agency.allow_subdomains)


def _eligible_officer(email: str) -> Officer | None:
    officer = Officer.objects.select_related("agency").filter(email=email).first()
    if officer is None or not officer_may_sign_in(officer):
        return None
    return officer


def within_limits(limits: list[tuple[RateLimit, str]], now: datetime) -> bool:
    """Whether every limit still allows one more attempt; if so, that attempt is counted.

    Must run inside a transaction. Refused attempts are not counted, so a refused client is
    let in again once its window has passed.
    """
    RateLimitEvent.objects.filter(occurred_at__lt=now - RATE_LIMIT_RETENTION).delete()
    keyed = [
        (limit, _keyed_hash("rate_limit", f"{limit.scope}\n{value}")) for limit, value in limits
    ]
    for limit, key in keyed:
        recent = RateLimitEvent.objects.filter(
            scope=limit.scope, key=key, occurred_at__gt=now - limit.window
        ).count()
        if recent >= limit.limit:
            return False
    RateLimitEvent.objects.bulk_create(
        RateLimitEvent(scope=limit.scope, key=key, occurred_at=now) for limit, key in keyed
    )
    return True


def login_code_request(*, email: str, client_ip: str, language: str, now: datetime) -> None:
    """E-mail a sign-in code to ``email`` if it belongs to an officer who may sign in.

    Unknown, suspended or otherwise ineligible addresses get nothing, and the caller cannot tell
    the difference, not even from the time the answer takes: this only counts the attempt and
    queues it, sealed, the same for every address; the worker looks the address up and, for an
    officer who may sign in, makes and mails the code (``send_sign_in_code``). Raises
    RateLimited (for every address alike) after 5 requests for one address or 20 from one
    client address within an hour.
    """
    email = normalise_email(email)
    with transaction.atomic():
        allowed = within_limits([(CODES_PER_ADDRESS, email), (CODES_PER_CLIENT, client_ip)], now)
        if not allowed:
            raise RateLimited("too many sign-in codes requested; try again later")
        asked = {"email": email, "client_ip": client_ip, "language": language}
        enqueue_with_transaction(send_sign_in_code, sealed=seal(asked | {"at": now.isoformat()}))


@task()
def send_sign_in_code(sealed: str) -> str:
    """The worker's half of ``login_code_request``: a code for an officer who may sign in,
    valid from the moment it was asked for, recorded (hashed) and audited, its mail queued in
    the same transaction; nothing for any other address. Run again for the same request (its
    worker died before recording it done), it mails a second code, and only the newest counts."""
    asked = unseal(sealed)
    if asked is None:
        return "unreadable: the secret key changed since it was queued"
    email, now = asked["email"], datetime.fromisoformat(asked["at"])
    with transaction.atomic():
        officer = _eligible_officer(email)
        if officer is None:
            return "no code: not an officer who may sign in"
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        login = LoginCode.objects.create(
            officer=officer,
            email=email,
            code_hash=_code_hash(email, code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        LoginCode.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
        audit_record(
            actor=PORTAL,
            action="portal.sign_in_code_sent",
            object_type="officer",
            object_id=officer.pk,
            data={"login_code": login.pk, "client_ip": asked["client_ip"]},
            now=now,
        )
        _send_code(officer=officer, code=code, language=asked["language"])
    return "code sent"


def _send_code(*, officer: Officer, code: str, language: str) -> None:
    languages = {language_code for language_code, _ in settings.LANGUAGES}
    with translation.override(language if language in languages else settings.LANGUAGE_CODE):
        context = {
            "officer": officer,
            "code": code,
            "minutes": int(CODE_LIFETIME.total_seconds() // 60),
        }
        subject = render_to_string("portal/email/sign_in_code_subject.txt", context).strip()
        body = render_to_string("portal/email/sign_in_code.txt", context)
    mail_on_commit(subject=subject, body=body, to=[officer.email])


def login_code_verify(*, email: str, code: str, client_ip: str, now: datetime) -> Officer:
    """The officer whose newest code this is; raises SignInFailed otherwise (or RateLimited).

    A right code is used up; a wrong one counts against the code, which dies at the fifth wrong
    guess. Success and failure are both audited (``portal.signed_in``, ``portal.sign_in_failed``).
    For an officer whose agency requires an authenticator this is only the first step
    (``portal.sign_in_code_accepted``; then ``portal.second_factor``).
    """
    email = normalise_email(email)
    code = normalise_code(code)
    officer: Officer | None = None
    with transaction.atomic():
        if not within_limits([(VERIFICATIONS_PER_CLIENT, client_ip)], now):
            reason = "rate_limited"
        else:
            login = (
                LoginCode.objects.select_for_update(of=("self",))
                .select_related("officer__agency")
                .filter(email=email)
                .order_by("-created_at", "-id")
                .first()
            )
            reason = _refusal(login, code, now)
            if login is not None and reason == "wrong_code":
                login.attempts += 1
                login.save(update_fields=["attempts"])
            elif login is not None and reason == "":
                login.used_at = now
                login.save(update_fields=["used_at"])
                if officer_may_sign_in(login.officer):
                    officer = login.officer
                else:
                    reason = "not_allowed"
        if officer is not None:
            # An agency that requires an authenticator: signed in only once its code is given
            # too (portal.second_factor).
            second_factor = officer.agency.require_officer_totp
            audit_record(
                actor=Actor.for_officer(officer),
                action="portal.sign_in_code_accepted" if second_factor else "portal.signed_in",
                object_type="officer",
                object_id=officer.pk,
                data={"client_ip": client_ip},
                now=now,
            )
        else:
            known = Officer.objects.filter(email=email).values_list("pk", flat=True).first()
            audit_record(
                actor=PORTAL,
                action="portal.sign_in_failed",
                object_type="officer",
                object_id=known or "",
                data={"email": email[:254], "reason": reason, "client_ip": client_ip},
                now=now,
            )
    if reason == "rate_limited":
        raise RateLimited("too many sign-in attempts; try again later")
    if officer is None:
        raise SignInFailed("the code is not valid")
    return officer


def _refusal(login: LoginCode | None, code: str, now: datetime) -> str:
    """Why ``code`` does not sign in with ``login`` (a stable word for the audit log), or ""."""
    if login is None:
        return "no_code"
    if login.used_at is not None:
        return "used"
    if login.expires_at <= now:
        return "expired"
    if login.attempts >= MAX_CODE_ATTEMPTS:
        return "too_many_attempts"
    if not code or not hmac.compare_digest(login.code_hash, _code_hash(login.email, code)):
        return "wrong_code"
    return ""


def access_request_allowed(*, client_ip: str, now: datetime) -> bool:
    """Whether this client may file another access request (10 an hour); counts it if so."""
    with transaction.atomic():
        return within_limits([(ACCESS_REQUESTS_PER_CLIENT, client_ip)], now)


def sign_out_record(*, officer: Officer, now: datetime) -> None:
    audit_record_standalone(
        actor=Actor.for_officer(officer),
        action="portal.signed_out",
        object_type="officer",
        object_id=officer.pk,
        now=now,
    )


def request_send(
    *,
    officer: Officer,
    submission: RequestSubmission,
    documents: list[StagedDocument],
    draft_id: str,
    now: datetime,
) -> LegalRequest:
    """Submit a request prepared in the portal with its staged documents, all or nothing.

    The request and every document are written in one transaction: a document the intake refuses
    leaves no request behind. Its errors name the document as ``documents[i]``. The draft id is
    the idempotency key, so a second "send" of the same draft returns the first request.
    """
    actor = Actor.for_officer(officer)
    with transaction.atomic():
        result = request_submit(
            actor=actor,
            officer=officer,
            submission=submission,
            channel=Channel.PORTAL,
            now=now,
            idempotency_key=f"portal-{draft_id}",
        )
        if not result.created:
            return result.request
        for index, document in enumerate(documents):
            field = f"documents[{index}]"
            try:
                with staged_path(draft_id, document["file"]).open("rb") as upload:
                    document_attach(
                        actor=actor,
                        request=result.request,
                        upload=upload,
                        original_name=document["name"],
                        claimed_type=document["claimed"] or None,
                        now=now,
                    )
            except ValidationFailed as refusal:
                raise ValidationFailed(
                    [FieldError(field=field, message=error.message) for error in refusal.errors]
                ) from refusal
            except Conflict as refusal:
                raise ValidationFailed.single(field, refusal.message) from refusal
            except (OSError, ValueError) as missing:
                raise ValidationFailed.single(field, "is no longer staged") from missing
    return result.request


@transaction.atomic
def sign_in_unlock(*, actor: Actor, email: str, now: datetime) -> int:
    """Lift an officer's sign-in lockout: the codes asked for their address and the
    authenticator tries counted against them start again from zero, and a code that died of
    too many wrong guesses stays dead (they ask for a new one). Intake staff or policy admins,
    or the operator at the console. Audited (``portal.sign_in_unlocked``); returns the number
    of counted attempts forgotten."""
    require_role(actor, StaffRole.INTAKE, StaffRole.POLICY_ADMIN)
    email = normalise_email(email)
    officer = Officer.objects.filter(email=email).first()
    if officer is None:
        raise NotFound(f"no officer has the address {email}", code="officer_not_found")
    counted = [
        (RateLimitScope.CODE_FOR_ADDRESS, email),
        (RateLimitScope.SECOND_FACTOR_FOR_OFFICER, str(officer.pk)),
    ]
    forgotten = 0
    for scope, value in counted:
        key = _keyed_hash("rate_limit", f"{scope}\n{value}")
        forgotten += RateLimitEvent.objects.filter(scope=scope, key=key).delete()[0]
    audit_record(
        actor=actor,
        action="portal.sign_in_unlocked",
        object_type="officer",
        object_id=officer.pk,
        data={"forgotten_attempts": forgotten},
        now=now,
    )
    return forgotten
