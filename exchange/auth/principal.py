"""The roles of the exchange and the principal a verified token stands for. What each role may
do is decided in ``exchange.auth.policy``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    SUBMITTER = "submitter"  # a national agency, bound to one REF_AREA
    ANALYST = "analyst"  # the regional task force: harmonized data and status, never raw files
    COORDINATOR = "coordinator"  # a state's National Coordinator, bound to one REF_AREA
    ADMIN = "admin"  # states, clients, standard versions, release calendars


SCOPED_ROLES = frozenset({Role.SUBMITTER, Role.COORDINATOR})


@dataclass(frozen=True)
class Principal:
    client_id: str
    role: Role
    ref_area: str | None = None

    def __post_init__(self) -> None:
        scoped = self.role in SCOPED_ROLES
        if scoped != (self.ref_area is not None):
            raise ValueError(f"role {self.role} {'needs' if scoped else 'takes no'} ref_area")
