"""Role checks, used at the top of every staff service (deny by default)."""

from __future__ import annotations

from govreq.accounts.models import StaffRole, User
from govreq.core.actors import Actor
from govreq.core.errors import PermissionDenied


def user_roles(user: User) -> frozenset[str]:
    """The user's roles, cached on the instance for the length of a request."""
    cached: frozenset[str] | None = getattr(user, "_govreq_roles", None)
    if cached is None:
        cached = frozenset(user.role_assignments.values_list("role", flat=True))
        user._govreq_roles = cached  # type: ignore[attr-defined]
    return cached


def actor_roles(actor: Actor) -> frozenset[str]:
    """A staff actor's roles. A superuser holds every role, but no rule exempts them."""
    if actor.user is None or not actor.user.is_active:
        return frozenset()
    if actor.user.is_superuser:
        return frozenset(StaffRole.values)
    return user_roles(actor.user)


def require_role(actor: Actor, *roles: StaffRole) -> None:
    """Refuse unless the actor is a staff user holding one of ``roles``."""
    if actor.kind == "SYSTEM":
        return  # the operator at the server's console, or a scheduled job
    held = actor_roles(actor)
    if not held.intersection(roles):
        needed = " or ".join(role.label.lower() for role in roles)
        raise PermissionDenied(f"this needs the {needed} role", code="role_required")


def require_staff(actor: Actor) -> None:
    """Any staff role may read; officers and role-less users may not."""
    require_role(actor, *StaffRole)
