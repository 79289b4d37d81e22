"""Staff users and their roles. (Personal API tokens are the API's: ``api.tokens``.)"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from govreq.accounts.models import RoleAssignment, StaffRole, User
from govreq.accounts.permissions import require_role
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.errors import FieldError, ValidationFailed


@transaction.atomic
def staff_add(
    *,
    actor: Actor,
    email: str,
    name: str,
    roles: list[str],
    password: str | None = None,
    now: datetime,
) -> User:
    """Create a staff user with roles. Without a password the user can use only API tokens."""
    require_role(actor, StaffRole.POLICY_ADMIN)
    errors: list[FieldError] = []
    email = email.strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        errors.append(FieldError(field="email", message=f"{email!r} is not an e-mail address"))
    else:
        if User.objects.filter(email=email).exists():
            errors.append(FieldError(field="email", message="a staff user with it exists"))
    if not name.strip():
        errors.append(FieldError(field="name", message="must not be empty"))
    for index, role in enumerate(roles):
        if role not in StaffRole.values:
            errors.append(
                FieldError(
                    field=f"roles[{index}]",
                    message=f"{role!r} is not one of {', '.join(StaffRole.values)}",
                )
            )
    if errors:
        raise ValidationFailed(errors)
    user = User.objects.create_user(email=email, password=password, name=name.strip())
    RoleAssignment.objects.bulk_create(
        RoleAssignment(user=user, role=role, granted_at=now) for role in sorted(set(roles))
    )
    audit_record(
        actor=actor,
        action="staff.added",
        object_type="user",
        object_id=user.pk,
        data={"email": email, "roles": sorted(set(roles))},
        now=now,
    )
    return user


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """Every IANA time zone name this machine knows, sorted."""
    return tuple(sorted(available_timezones() | {"UTC"}))


def time_zone_valid(zone: str) -> bool:
    """Whether ``zone`` names an IANA time zone (e.g. ``Asia/Hong_Kong``, ``UTC``)."""
    return zone in time_zones()


@transaction.atomic
def staff_language_set(*, actor: Actor, language: str, now: datetime) -> User:
    """A staff member chooses the language of the e-mails govreq sends them (their own)."""
    user = actor.user
    if user is None:
        raise ValidationFailed.single("language", "only a staff member has a language")
    language = language.strip().lower()
    known = [code for code, _name in settings.LANGUAGES]
    if language not in known:
        raise ValidationFailed.single(
            "language", f"{language[:16]!r} is not one of {', '.join(known)}"
        )
    before = user.language
    if before == language:
        return user
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
    audit_record(
        actor=actor,
        action="staff.language_set",
        object_type="user",
        object_id=str(user.pk),
        data={"from": before, "to": language},
        now=now,
    )
    return user


@transaction.atomic
def staff_time_zone_set(*, actor: Actor, zone: str, now: datetime) -> User:
    """A staff member chooses the zone the console shows times in (their own, nobody else's)."""
    user = actor.user
    if user is None:
        raise ValidationFailed.single("time_zone", "only a staff member has a time zone")
    zone = zone.strip()
    if not time_zone_valid(zone):
        raise ValidationFailed.single(
            "time_zone", f"{zone[:64]!r} is not a time zone name, e.g. Asia/Hong_Kong"
        )
    before = user.time_zone
    User.objects.filter(pk=user.pk).update(time_zone=zone)
    user.time_zone = zone
    audit_record(
        actor=actor,
        action="staff.time_zone_set",
        object_type="user",
        object_id=str(user.pk),
        data={"from": before, "to": zone},
        now=now,
    )
    return user
