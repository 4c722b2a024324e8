"""The simulated Okta org's state: plain dataclasses with a cursor index, so seeding 50,000 users
(`seed_users`) and paging through them stay cheap, and the helpers that seed it."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from simulators.localserver import Fault

API_TOKEN = "00SimulatedOktaApiToken-notARealSecret0000000"  # SSWS token the default world accepts
CLIENT_ID = "0oaSimulatedServiceApp01"
USERS_READ, ROLES_READ, POLICIES_READ = "okta.users.read", "okta.roles.read", "okta.policies.read"
RATE_LIMIT = 600  # requests per window, as X-Rate-Limit-Limit says
RATE_WINDOW = 60  # seconds; X-Rate-Limit-Reset is the end of the current window
STATUSES = (
    "STAGED",
    "PROVISIONED",
    "ACTIVE",
    "RECOVERY",
    "PASSWORD_EXPIRED",
    "LOCKED_OUT",
    "SUSPENDED",
    "DEPROVISIONED",
)
ERRORS = {  # status -> Okta's errorCode and errorSummary
    400: ("E0000001", "Api validation failed"),
    401: ("E0000011", "Invalid token provided"),
    403: ("E0000006", "You do not have permission to perform the requested action"),
    404: ("E0000007", "Not found: Resource not found"),
    405: ("E0000022", "The endpoint does not support the provided HTTP method"),
    429: ("E0000047", "API call exceeded rate limit due to too many requests."),
}
SERVER_ERROR = ("E0000009", "Internal Server Error")
PROVIDERS = {"push": "OKTA", "signed_nonce": "OKTA", "token:software:totp": "GOOGLE", "sms": "OKTA"}
PROVIDERS |= {"email": "OKTA", "call": "OKTA", "question": "OKTA", "webauthn": "FIDO"}
PROVIDERS |= {"token:hardware": "YUBICO", "u2f": "FIDO"}
ROLE_LABELS = {
    "SUPER_ADMIN": "Super Administrator",
    "ORG_ADMIN": "Organization Administrator",
    "APP_ADMIN": "Application Administrator",
    "USER_ADMIN": "Group Administrator",
    "HELP_DESK_ADMIN": "Help Desk Administrator",
    "READ_ONLY_ADMIN": "Read-only Administrator",
    "REPORT_ADMIN": "Report Administrator",
    "CUSTOM": "Custom Role",
}
CREATED = "2024-01-10T09:00:00.000Z"


# --- the world ------------------------------------------------------------------------------------
@dataclass
class Factor:
    id: str
    factor_type: str  # push, token:software:totp, sms, webauthn, signed_nonce ...
    provider: str = "OKTA"
    status: str = "ACTIVE"  # or PENDING_ACTIVATION, NOT_SETUP ...


@dataclass
class Role:
    id: str
    type: str  # SUPER_ADMIN, ORG_ADMIN, APP_ADMIN, READ_ONLY_ADMIN, CUSTOM ...
    label: str
    status: str = "ACTIVE"
    assignment_type: str = "USER"  # or GROUP: held through a group


@dataclass
class User:
    id: str
    login: str
    status: str = "ACTIVE"
    email: str | None = None  # None: the login
    employee_number: str | None = None
    first_name: str = "Test"
    last_name: str = "User"
    created: str = CREATED
    activated: str | None = CREATED
    status_changed: str | None = CREATED
    last_login: str | None = None
    factors: list[Factor] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)  # seed with the user, or `OktaWorld.grant`


@dataclass
class Rule:
    id: str
    name: str
    priority: int = 1
    status: str = "ACTIVE"
    system: bool = False
    access: str = "ALLOW"
    require_factor: bool | None = None  # OKTA_SIGN_ON rules: actions.signon.requireFactor
    factor_mode: str | None = None  # ACCESS_POLICY rules: "1FA" or "2FA"
    groups_include: list[str] = field(default_factory=list)
    groups_exclude: list[str] = field(default_factory=list)
    users_exclude: list[str] = field(default_factory=list)


@dataclass
class Policy:
    id: str
    name: str
    type: str  # OKTA_SIGN_ON, ACCESS_POLICY (PASSWORD, MFA_ENROLL ... are listed by type too)
    priority: int = 1
    status: str = "ACTIVE"
    system: bool = False
    groups_include: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)


@dataclass
class ServiceApp:
    """An OAuth 2.0 service app: its client assertions verify with `public_key`; it may ask for `scopes`."""

    client_id: str
    public_key: RSAPublicKey
    scopes: frozenset[str] = frozenset({USERS_READ, ROLES_READ, POLICIES_READ})


@dataclass
class OktaWorld:
    """What the server answers from; tests, the demo and the benchmark fill it."""

    token: str = API_TOKEN  # the SSWS token accepted ("": none)
    apps: dict[str, ServiceApp] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)  # by id, in listing order
    policies: list[Policy] = field(default_factory=list)
    max_limit: int = 200  # the largest page the server gives, whatever `limit` asks
    faults: dict[str, Fault] = field(default_factory=dict)  # regex on "METHOD /path?query" -> fault
    now: float | None = None  # a frozen server clock (Date and rate-limit headers); None: the real one
    rate_limit: int | None = None  # requests per window before 429s; None: never refuse
    latency: float = 0.0
    gather: int = 0
    _order: list[str] = field(default_factory=list, repr=False)
    _position: dict[str, int] = field(default_factory=dict, repr=False)
    _admins: dict[str, None] = field(default_factory=dict, repr=False)  # ids holding roles, in order

    def add_user(self, user: User) -> User:
        if user.id not in self._position:
            self._position[user.id] = len(self._order)
            self._order.append(user.id)
        self.users[user.id] = user
        if user.roles:
            self._admins[user.id] = None
        return user

    def grant(self, user_id: str, role: Role) -> Role:
        self.users[user_id].roles.append(role)
        self._admins[user_id] = None
        return role

    def add_app(self, client_id: str, public_key: RSAPublicKey, scopes: Iterable[str] | None = None) -> None:
        granted = frozenset(scopes) if scopes is not None else ServiceApp.scopes
        self.apps[client_id] = ServiceApp(client_id, public_key, granted)

    def after(self, cursor: str | None) -> int:
        """Where the listing continues after user `cursor` (an id, as Okta's cursors are)."""
        return 0 if cursor is None else self._position[cursor] + 1

    def ordered(self, start: int) -> Iterable[User]:
        return (self.users[i] for i in itertools.islice(self._order, start, None))

    def admins(self) -> list[str]:
        return list(self._admins)


# --- seeding --------------------------------------------------------------------------------------
def factor(factor_type: str, number: int = 1, status: str = "ACTIVE") -> Factor:
    prefix = re.sub(r"[^a-z]", "", factor_type)[:3]
    return Factor(f"{prefix}{number:017d}", factor_type, PROVIDERS.get(factor_type, "OKTA"), status)


def role(kind: str, *, assignment_type: str = "USER", label: str | None = None, number: int = 1) -> Role:
    return Role(
        f"ra{kind[:4].lower()}{number:011d}",
        kind,
        label or ROLE_LABELS.get(kind, kind),
        "ACTIVE",
        assignment_type,
    )


def user_id(number: int) -> str:
    return f"00u{number:017d}"


def seed_users(
    world: OktaWorld,
    count: int,
    *,
    start: int = 1,
    domain: str = "example.com",
    statuses: Sequence[str] = ("ACTIVE",),
    factor_types: Sequence[str] = ("push",),
) -> None:
    """`count` users `user<n>@domain`, their statuses cycling through `statuses`; each user not
    DEPROVISIONED has one active factor of each of `factor_types`."""
    for n in range(start, start + count):
        status = statuses[n % len(statuses)]
        enrolled = [] if status == "DEPROVISIONED" else [factor(t, n) for t in factor_types]
        world.add_user(
            User(user_id(n), f"user{n}@{domain}", status, employee_number=str(n), factors=enrolled)
        )


def default_policies() -> list[Policy]:
    """An org's defaults: the global session policy and the default authentication policy."""
    return [
        Policy(
            "00pDefaultSignOn0001",
            "Default Policy",
            "OKTA_SIGN_ON",
            priority=1,
            system=True,
            groups_include=["00gEveryone000000001"],
            rules=[Rule("0prDefaultRule000001", "Default Rule", system=True, require_factor=False)],
        ),
        Policy(
            "rstDefaultAccess0001",
            "Default Policy",
            "ACCESS_POLICY",
            system=True,
            rules=[
                Rule("rulCatchAll000000001", "Catch-all Rule", priority=99, system=True, factor_mode="2FA")
            ],
        ),
    ]
