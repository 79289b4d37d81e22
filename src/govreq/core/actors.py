"""Who did something: a staff user, an agency officer, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

# For the type checker only: the actor is the bottom layer's way of naming who acts, so it cannot
# import the accounts and agencies above it (the layer contract ignores type-checking imports).
if TYPE_CHECKING:
    from govreq.accounts.models import User
    from govreq.agencies.models import Officer

ActorKind = Literal["USER", "OFFICER", "SYSTEM"]


@dataclass(frozen=True, kw_only=True)
class Actor:
    kind: ActorKind
    id: str
    label: str
    user: User | None = None
    officer: Officer | None = None

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(kind="USER", id=str(user.pk), label=user.email, user=user)

    @classmethod
    def for_officer(cls, officer: Officer) -> Actor:
        return cls(kind="OFFICER", id=str(officer.pk), label=officer.email, officer=officer)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(kind="SYSTEM", id="", label=label)
