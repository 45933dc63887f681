"""Who may do what, on which state: the one module that decides.

Every route names the permission it needs; this table says which roles hold it and over which
states (their own, or all). Routes document themselves from it, services ask it, and the access
tests walk it, so the rules are written once. Raw data of a state (uploads, validation reports,
which quote unprotected cells) belongs to that state's agency and the admin; the regional task
force sees status and harmonized data of every state; anonymous callers see only public data.

A state's National Coordinator (001 lines ~625-638: appointed by each country, "with
sufficient authority", representing it) decides for that state alone: it signs off or sends
back the state's harmonized quarters and sets its publication consent. The admin does not hold
these: an admin acting for a state would put words in the state's mouth (it manages clients,
so it can register a state's coordinator, which is audited). For a region, "own state" means
the regions the principal's state is a member of.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from exchange.auth.principal import Principal, Role
from exchange.core.problems import forbidden, unauthorized


class Scope(StrEnum):
    OWN_STATE = "own state"
    ALL_STATES = "all states"


class Permission(StrEnum):
    SUBMIT = "submit"  # upload a quarterly table for a state
    VIEW_SUBMISSIONS = "view_submissions"  # list submissions, their status, history, revisions
    READ_RAW = "read_raw"  # original files and validation reports (unprotected values)
    MANAGE_CLIENTS = "manage_clients"  # create, list and disable API clients
    SIGN_OFF = "sign_off"  # sign off, withdraw or send back a state's harmonized quarter
    VIEW_CONSENT = "view_consent"  # a state's publication consent
    SET_CONSENT = "set_consent"  # set it: regional aggregates only, or national tables too
    VIEW_COVERAGE = "view_coverage"  # a region's participants and the coverage of its tables
    MANAGE_PARTICIPANTS = "manage_participants"  # which member states take part in a region
    VIEW_HARMONIZED = "view_harmonized"  # harmonized observations (unprotected) of a state
    REQUEST_RELEASE = "request_release"  # queue the next release of a period
    SEE_EMBARGOED = "see_embargoed"  # releases before their embargo ends, and unpublished ones
    READ_AUDIT = "read_audit"  # a release's audit: the true values of suppressed cells


RULES: dict[Permission, dict[Role, Scope]] = {
    Permission.SUBMIT: {Role.SUBMITTER: Scope.OWN_STATE, Role.ADMIN: Scope.ALL_STATES},
    Permission.VIEW_SUBMISSIONS: {
        Role.SUBMITTER: Scope.OWN_STATE, Role.COORDINATOR: Scope.OWN_STATE,
        Role.ANALYST: Scope.ALL_STATES, Role.ADMIN: Scope.ALL_STATES},
    Permission.READ_RAW: {
        Role.SUBMITTER: Scope.OWN_STATE, Role.COORDINATOR: Scope.OWN_STATE,
        Role.ADMIN: Scope.ALL_STATES},
    Permission.MANAGE_CLIENTS: {Role.ADMIN: Scope.ALL_STATES},
    Permission.SIGN_OFF: {Role.COORDINATOR: Scope.OWN_STATE},
    Permission.VIEW_CONSENT: {
        Role.SUBMITTER: Scope.OWN_STATE, Role.COORDINATOR: Scope.OWN_STATE,
        Role.ANALYST: Scope.ALL_STATES, Role.ADMIN: Scope.ALL_STATES},
    Permission.SET_CONSENT: {Role.COORDINATOR: Scope.OWN_STATE},
    Permission.VIEW_COVERAGE: {
        Role.COORDINATOR: Scope.OWN_STATE, Role.ANALYST: Scope.ALL_STATES,
        Role.ADMIN: Scope.ALL_STATES},
    Permission.MANAGE_PARTICIPANTS: {Role.ADMIN: Scope.ALL_STATES},
    # The task force analyses unprotected harmonized data inside the exchange; agencies and
    # coordinators see their own state's.
    Permission.VIEW_HARMONIZED: {
        Role.SUBMITTER: Scope.OWN_STATE, Role.COORDINATOR: Scope.OWN_STATE,
        Role.ANALYST: Scope.ALL_STATES, Role.ADMIN: Scope.ALL_STATES},
    Permission.REQUEST_RELEASE: {Role.ADMIN: Scope.ALL_STATES},
    Permission.SEE_EMBARGOED: {Role.ANALYST: Scope.ALL_STATES, Role.ADMIN: Scope.ALL_STATES},
    # The audit holds the true value of every suppressed cell: the admin's only.
    Permission.READ_AUDIT: {Role.ADMIN: Scope.ALL_STATES},
}


def scope_of(principal: Principal, permission: Permission) -> Scope | None:
    """Over which states ``principal`` holds ``permission``; None when it does not at all."""
    return RULES[permission].get(principal.role)


def allows(principal: Principal, permission: Permission, ref_area: str) -> bool:
    scope = scope_of(principal, permission)
    return scope == Scope.ALL_STATES or (
        scope == Scope.OWN_STATE and principal.ref_area == ref_area)


def require(principal: Principal | None, permission: Permission) -> Principal:
    """The principal, if it holds ``permission`` for some state: 401 without one, 403 when its
    role never holds it."""
    if principal is None:
        raise unauthorized()
    if scope_of(principal, permission) is None:
        raise forbidden(f"Role {principal.role} may not {_VERBS[permission]}.")
    return principal


def require_state(principal: Principal, permission: Permission, ref_area: str) -> None:
    """403 unless ``principal`` holds ``permission`` for ``ref_area``."""
    require(principal, permission)
    if not allows(principal, permission, ref_area):
        raise forbidden(f"This client may {_VERBS[permission]} for {principal.ref_area} only, "
                        f"not {ref_area}.")


def require_region(principal: Principal, permission: Permission, region: str,
                   members: Collection[str]) -> None:
    """403 unless ``principal`` holds ``permission`` for a region with these ``members``: any
    region with all states, a region of its own state with its own state."""
    require(principal, permission)
    if scope_of(principal, permission) == Scope.OWN_STATE and principal.ref_area not in members:
        raise forbidden(f"This client may {_VERBS[permission]} for the regions of "
                        f"{principal.ref_area} only, not {region}.")


def sees_embargoed(principal: Principal | None) -> bool:
    """Whether the caller (None: anonymous) sees releases before their embargo ends."""
    return principal is not None and scope_of(principal, Permission.SEE_EMBARGOED) is not None


def states_visible(principal: Principal, permission: Permission) -> str | None:
    """The one state a scoped principal is limited to, or None for all states."""
    return principal.ref_area if scope_of(require(principal, permission), permission) \
        == Scope.OWN_STATE else None


def who_may(permission: Permission | None) -> str:
    """The sentence each route's documentation carries: who may call it."""
    if permission is None:
        return "**Who may call:** anyone, without a token."
    holders = ", ".join(f"`{role.value}` ({scope.value})"
                        for role, scope in RULES[permission].items())
    return f"**Who may call:** {holders}. Every other role gets 403; no token, 401."


_VERBS = {
    Permission.SUBMIT: "submit data",
    Permission.VIEW_SUBMISSIONS: "see submissions",
    Permission.READ_RAW: "read original files and validation reports",
    Permission.MANAGE_CLIENTS: "manage API clients",
    Permission.SIGN_OFF: "sign off or send back a state's data",
    Permission.VIEW_CONSENT: "see a state's publication consent",
    Permission.SET_CONSENT: "set a state's publication consent",
    Permission.VIEW_COVERAGE: "see regional coverage and participants",
    Permission.MANAGE_PARTICIPANTS: "change a region's participants",
    Permission.VIEW_HARMONIZED: "see harmonized observations",
    Permission.REQUEST_RELEASE: "request a release",
    Permission.SEE_EMBARGOED: "see embargoed or unpublished releases",
    Permission.READ_AUDIT: "read a release's audit",
}
