"""Platform staff (Django users with roles) and personal API tokens for officers and staff."""

from __future__ import annotations

from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower


class StaffRole(models.TextChoices):
    INTAKE = "INTAKE", "Intake"
    REVIEWER = "REVIEWER", "Reviewer"
    APPROVER = "APPROVER", "Approver"
    HUMAN_RIGHTS_OFFICER = "HUMAN_RIGHTS_OFFICER", "Human-rights officer"
    POLICY_ADMIN = "POLICY_ADMIN", "Policy administrator"
    AUDITOR = "AUDITOR", "Auditor"


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A member of the platform's staff. Agency officers are not users (see agencies.Officer)."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=True, help_text="May sign in to the admin site.")
    created_at = models.DateTimeField(auto_now_add=True)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        help_text="The IANA zone the console shows times in, e.g. Asia/Hong_Kong.",
    )
    language = models.CharField(
        max_length=10,
        blank=True,
        help_text="The language of the e-mails govreq sends them (en, zh-hant); empty: English.",
    )

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="user_email_is_lower_case"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def zone(self) -> ZoneInfo:
        """The zone times are shown to this person in (UTC when unset or no longer known)."""
        try:
            return ZoneInfo(self.time_zone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=32, choices=StaffRole.choices)
    granted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="role_assignment_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=StaffRole.values), name="role_assignment_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.email}: {self.role}"


class ApiToken(models.Model):
    """A personal bearer token. Only its SHA-256 is stored; the secret is shown once.

    The presented token is ``grq_<prefix>_<secret>``; ``prefix`` finds the row, the hash of the
    whole token is compared in constant time.
    """

    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    officer = models.ForeignKey(
        "agencies.Officer", null=True, blank=True, on_delete=models.CASCADE, related_name="tokens"
    )
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="tokens"
    )
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Officers' tokens always expire (settings.OFFICER_TOKEN_DAYS unless given); a staff token
    # only when asked for.
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(officer__isnull=True) | models.Q(expires_at__isnull=False),
                name="api_token_of_officer_expires",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__isnull=True)
                | models.Q(expires_at__gt=models.F("created_at")),
                name="api_token_expires_after_creation",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(officer__isnull=False, user__isnull=True)
                    | models.Q(officer__isnull=True, user__isnull=False)
                ),
                name="api_token_has_exactly_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"grq_{self.prefix}_…"
