"""The real `annexa` console script against a local Graph, a local BambooHR and moto: a small company.

Joiners, movers, leavers, guests and admins are planted in Entra ID, BambooHR and AWS IAM; one
`annexa collect` must find exactly the planted weaknesses, each draft NC naming the people and
their timeline. Then Graph keeps failing (checks error, NCs stay) and an HR export turns
malformed (a clear error, nothing stored).
"""

from __future__ import annotations

import boto3
import pytest
from sqlalchemy import func, select

from agent.audit.nonconformities import list_ncs
from agent.config.settings import build_settings, load_settings
from agent.plugin.loader import load_plugins
from agent.run.runner import Runner
from agent.store import Store
from agent.store.results import results_of
from agent.store.schema import Blob, CheckRun, Observation
from tests.bamboohr_server import BambooServer, bamboo_employee
from tests.cli import annexa_json
from tests.e2e import TODAY, at, day, judged_on
from tests.graph_server import USER, GraphData, GraphFault, GraphServer, directory, mfa_policy, user

pytestmark = pytest.mark.slow

TENANT_ID = "0f0e0d0c-0b0a-4909-8807-060504030201"
ENTRA = f"entra:{TENANT_ID}"
TOKEN = "eyJ0eXAiOiJKV1QifQ.e2e-graph-token"
BAMBOO_KEY = "e2e-bamboo-api-key"


def staff(
    eid: str,
    name: str,
    email: str,
    *,
    hired: int = -800,
    screened: int | None = -810,
    terms: str = "1",
    nda: str = "1",
    trained: int | None = -100,
    **kw,
) -> dict:
    return bamboo_employee(
        eid,
        name,
        email,
        hired=day(hired),
        manager="ada@acme.com",
        customScreening=day(screened) if screened is not None else "0000-00-00",
        customTerms=terms,
        customNda=nda,
        customTraining=day(trained) if trained is not None else "",
        **kw,
    )


def leaver(eid: str, name: str, email: str, left: int) -> dict:
    return staff(eid, name, email, status="Inactive", terminated=day(left))


BAMBOO = [
    staff("1", "Ada Admin", "ada@acme.com"),
    staff("2", "Ben Builder", "ben@acme.com"),
    staff("3", "Cleo Current", "cleo@acme.com"),
    leaver("4", "Lou Leaver", "lou@acme.com", left=-20),
    leaver("5", "Sam Signin", "sam@acme.com", left=-30),
    leaver("6", "Dora Done", "dora@acme.com", left=-60),
    staff("7", "Jo Joiner", "jo@acme.com", hired=7, screened=None, trained=None),
    staff("8", "Max Mover", "max@acme.com", department="Sales"),  # moved; Entra UPN changed with the move
    staff("9", "Tia Training", "tia@acme.com", nda="0", trained=-500),
    staff("10", "Sid Screening", "sid@acme.com", hired=-200, screened=-190, terms="0"),
    staff("11", "Ivy Idle", "ivy@acme.com"),
]
ENTRA_USERS = [
    # id, upn, kwargs, MFA registered
    ("u-ada", "ada@acme.com", {"employee_id": "1", "last_sign_in": at(-1)}, True),
    ("u-ada-adm", "ada-admin@acme.onmicrosoft.com", {"last_sign_in": at(-3)}, True),
    ("u-ben", "ben@acme.com", {"employee_id": "2", "last_sign_in": at(-1)}, False),
    ("u-cleo", "cleo@acme.com", {"last_sign_in": at(-2)}, True),
    ("u-lou", "lou@acme.com", {"employee_id": "4", "last_sign_in": at(-25)}, True),
    ("u-sam", "sam@acme.com", {"employee_id": "5", "enabled": False, "last_non_interactive": at(-5)}, True),
    ("u-dora", "dora@acme.com", {"enabled": False, "last_sign_in": at(-61)}, True),
    ("u-jo", "jo@acme.com", {"employee_id": "7", "created": at(-1)}, False),
    ("u-max", "max.sales@acme.com", {"employee_id": "8", "last_sign_in": at(-1)}, True),
    ("u-tia", "tia@acme.com", {"last_sign_in": at(-4)}, True),
    ("u-sid", "sid@acme.com", {"last_sign_in": at(-4)}, True),
    ("u-ivy", "ivy@acme.com", {"employee_id": "11", "last_sign_in": at(-200)}, True),
    ("u-ghost", "ghost@acme.com", {"last_sign_in": at(-3)}, True),
    ("u-svc", "svc-backup@acme.com", {"last_non_interactive": at(-1)}, True),
    (
        "g-old",
        "old_partner.com#EXT#@acme.onmicrosoft.com",
        {"user_type": "Guest", "created": at(-400)},
        False,
    ),
    ("g-new", "new_partner.com#EXT#@acme.onmicrosoft.com", {"user_type": "Guest", "created": at(-10)}, False),
]


def graph_data() -> GraphData:
    return directory(
        [user(uid, upn, **kw) for uid, upn, kw, _ in ENTRA_USERS],
        mfa={uid: mfa for uid, _, _, mfa in ENTRA_USERS},
        policy=mfa_policy("ca-1", state="enabledForReportingButNotEnforced"),
        admin_role="r-ga",
        admins=[(USER, "u-ada"), (USER, "u-ada-adm"), (USER, "u-ben")],
    )


def seed_iam(account_id: str) -> dict[str, str]:
    iam = boto3.client("iam")
    for name in ("lou@acme.com", "dora@acme.com", "cleo@acme.com", "deploy-bot"):
        iam.create_user(UserName=name)
    for name in ("lou@acme.com", "cleo@acme.com", "deploy-bot"):
        iam.create_access_key(UserName=name)
    return {n: f"arn:aws:iam::{account_id}:user/{n}" for n in ("lou@acme.com", "dora@acme.com")}


def expected(iam: dict[str, str]) -> dict[str, set[str]]:
    return {
        "people.leaver.entra_account_enabled": {"u-lou"},
        "people.leaver.entra_sign_in_after_leaving": {"u-sam"},
        "people.leaver.aws_iam_user": {iam["lou@acme.com"]},
        "people.entra.account_without_employee": {"u-ghost"},
        "entra.users.inactive": {"u-ivy"},
        "entra.guests.review_age": {"g-old"},
        "entra.mfa.member_not_registered": {"u-ben", "u-jo"},
        "entra.mfa.conditional_access": {f"{ENTRA}:mfa-enforcement"},
        "entra.roles.privileged_without_mfa": {"u-ben"},
        "entra.roles.global_admin_count": {"r-ga"},
        "hr.people.screening_before_start": {"hr:10"},
        "hr.people.terms_signed": {"hr:10"},
        "hr.people.nda_signed": {"hr:9"},
        "hr.people.training_overdue": {"hr:9"},
    }


PEOPLE_PREFIXES = ("people.", "entra.", "hr.")
# Only the sources the people checks read: AWS checks of other subjects are not this test's business.
SOURCES = ("--source", "entra.*", "--source", "hr.*", "--source", "aws.iam.credential_report")


def write_config(path, store, graph_url: str, hr: str) -> None:
    path.write_text(f"""
[store]
url = "sqlite:///{store}"

[aws]
enabled = true
max_attempts = 1

[entra]
enabled = true
tenant_id = "{TENANT_ID}"
access_token_env = "E2E_GRAPH_TOKEN"
graph_url = "{graph_url}"
max_attempts = 2
max_retry_wait = 1

{hr}

[checks.params."people.entra.account_without_employee"]
exempt_accounts = ["svc-*"]

[checks.params."entra.roles.global_admin_count"]
max_global_admins = 2
""")


BAMBOO_HR = """
[hr]
enabled = true
provider = "bamboohr"
subdomain = "acme"
api_key_env = "E2E_BAMBOO_KEY"
base_url = "{url}"

[hr.columns]
screening_completed = "customScreening"
terms_signed = "customTerms"
nda_signed = "customNda"
training_completed = "customTraining"

[hr.aliases]
"ada-admin@acme.onmicrosoft.com" = "1"
"""

ENV = {"E2E_GRAPH_TOKEN": TOKEN, "E2E_BAMBOO_KEY": BAMBOO_KEY}


def failing_reasons(store: Store, check_id: str) -> dict[str, str]:
    """The failing results' reasons of the check's latest evaluation, read from the store."""
    with store.read() as s:
        latest = s.execute(
            select(CheckRun).where(CheckRun.check_id == check_id).order_by(CheckRun.id.desc()).limit(1)
        ).scalar_one()
    return {r.resource_id: r.reason for r in results_of(store, latest.result_set) if r.status == "fail"}


def people_ncs(config) -> dict[str, dict]:
    ncs = annexa_json("nc", "list", "--config", str(config))
    return {nc["check_id"]: nc for nc in ncs if nc["check_id"].startswith(PEOPLE_PREFIXES)}


def test_a_small_company_end_to_end(aws, tmp_path, monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    account_id = boto3.client("sts").get_caller_identity()["Account"]
    iam = seed_iam(account_id)
    config = tmp_path / "annexa.toml"
    with GraphServer(graph_data(), token=TOKEN, page_size=5) as graph, \
            BambooServer("acme", BAMBOO_KEY, BAMBOO) as bamboo:  # fmt: skip
        write_config(config, tmp_path / "store.db", graph.url, BAMBOO_HR.format(url=bamboo.url))
        graph.faults.append(GraphFault("/v1.0/users", status=429, retry_after="1", times=1))
        doc = annexa_json("collect", "--config", str(config), *SOURCES)
        assert doc["run"]["status"] == "complete" and doc["observations"] == {"ok": 6, "error": 0}
        assert graph.hits["/v1.0/users"] == 5  # one 429 retried, then four pages of five

        ncs = people_ncs(config)
        assert {c: set(nc["failing_resources"]) for c, nc in ncs.items()} == expected(iam)
        assert all(nc["state"] == "draft" for nc in ncs.values())
        assert ncs["people.leaver.entra_account_enabled"]["scope"] == ENTRA
        assert ncs["people.leaver.aws_iam_user"]["scope"] == f"aws:{account_id}"
        assert ncs["hr.people.nda_signed"]["scope"] == "hr:bamboohr:acme"
        assert ncs["people.leaver.entra_sign_in_after_leaving"]["severity"] == "major"

        store = Store(f"sqlite:///{tmp_path / 'store.db'}")
        shift = (judged_on(store) - TODAY).days  # 0 unless a midnight UTC passed since the import

        shown = annexa_json(
            "nc", "show", ncs["people.leaver.entra_account_enabled"]["id"], "--config", str(config)
        )
        assert shown["reasons"]["u-lou"] == (
            f"Lou Leaver (4): terminated {day(-20)} ({20 + shift} days ago); Entra ID lou@acme.com enabled, "
            f"last sign-in {day(-25)} ({25 + shift} days ago); AWS IAM user lou@acme.com ({account_id}) still "
            f"has access key 1, never used; {19 + shift} day(s) past the 1-day grace period"
        )
        assert failing_reasons(store, "people.leaver.entra_sign_in_after_leaving") == {
            "u-sam": f"Sam Signin (5): terminated {day(-30)} ({30 + shift} days ago); Entra ID sam@acme.com "
            f"disabled, last sign-in {day(-5)} ({5 + shift} days ago), 25 days after termination"
        }
        aws_reason = failing_reasons(store, "people.leaver.aws_iam_user")[iam["lou@acme.com"]]
        assert (
            aws_reason.startswith(f"Lou Leaver (4): terminated {day(-20)}") and "access key 1" in aws_reason
        )
        assert failing_reasons(store, "hr.people.training_overdue")["hr:9"].startswith(
            "Tia Training (9): trained"
        )
        assert "Ben Builder" not in str(
            failing_reasons(store, "entra.roles.privileged_without_mfa")
        )  # accounts
        assert failing_reasons(store, "entra.roles.privileged_without_mfa")["u-ben"].startswith(
            "ben@acme.com"
        )

        # Graph now keeps failing (in process, the same runner, to spare console-script start-ups):
        # checks on entra.users error, nothing passes, NCs stay open with their failing resources.
        graph.faults.append(GraphFault("/v1.0/users", status=503, retry_after="0", times=None))
        settings, _ = load_settings(config)
        summary = Runner(store, settings, load_plugins()).collect(["entra.*", "hr.*"])
        assert summary.run.status == "partial"
        assert (summary.observations_ok, summary.observations_failed) == (4, 1)
        outcomes = {o.check.id: o.status.value for o in summary.outcomes}
        for check_id in ("people.leaver.entra_account_enabled", "people.leaver.entra_sign_in_after_leaving",
                         "people.entra.account_without_employee", "entra.users.inactive",
                         "entra.mfa.member_not_registered", "entra.roles.privileged_without_mfa"):  # fmt: skip
            assert outcomes[check_id] == "error", check_id
        assert (
            outcomes["entra.mfa.conditional_access"] == "fail" and outcomes["hr.people.nda_signed"] == "fail"
        )
        with store.read() as s:
            [failed] = s.execute(select(Observation).where(Observation.status == "error")).scalars()
            after = {
                n.check_id: set(n.failing_resources)
                for n in list_ncs(s)
                if n.check_id.startswith(PEOPLE_PREFIXES)
            }
        assert failed.source == "entra.users"
        assert (
            failed.error
            == "Graph GET /users: HTTP 503 ServiceUnavailable: Too many requests or service unavailable. after 2 attempts"
        )
        assert after == expected(iam)


CSV_HEADER = "id,email,name,status,hire_date,termination_date,nda\n"


def test_a_malformed_hr_export_is_rejected_and_stores_nothing(tmp_path):
    """In process (the runner `annexa collect` drives), to keep console-script start-ups few."""
    export = tmp_path / "people.csv"
    export.write_text(
        CSV_HEADER + "1,ann@acme.com,Ann,active,2024-01-01,,yes\n2,bo@acme.com,Bo,active,2024-01-01,,no\n"
    )
    settings = build_settings({
        "store": {"url": f"sqlite:///{tmp_path / 'store.db'}"},
        "hr": {"enabled": True, "provider": "file", "path": str(export),
               "columns": {"employee_id": "id", "nda_signed": "nda"}},
        "checks": {"disabled": ["hr.people.screening_before_start", "hr.people.terms_signed",
                                "hr.people.training_overdue"]},
    })  # fmt: skip
    store = Store(settings.store.url)
    runner = Runner(store, settings, load_plugins())
    first = runner.collect([])
    assert first.run.status == "complete"
    assert [(o.check.id, o.status.value, o.nc) for o in first.outcomes] == [
        ("hr.people.nda_signed", "fail", "NC-0001")
    ]

    def stored() -> tuple[int, list[tuple[str, str, list[str]]]]:
        with store.read() as s:
            blobs = s.execute(select(func.count()).select_from(Blob)).scalar_one()
            ncs = [(n.check_id, n.state, sorted(n.failing_resources)) for n in list_ncs(s)]
        return blobs, ncs

    before = stored()
    export.write_text(
        CSV_HEADER + "1,ann@acme.com,Ann,active,01/02/2024,,yes\n3,,Cy,retired,2024-01-01,,no\n"
    )
    second = Runner(store, settings, load_plugins()).collect([])
    assert second.run.status == "failed"
    assert [(o.check.id, o.status.value) for o in second.outcomes] == [("hr.people.nda_signed", "error")]
    assert stored() == before == (before[0], [("hr.people.nda_signed", "draft", ["hr:2"])])
    with store.read() as s:
        last = s.execute(select(Observation).order_by(Observation.id.desc()).limit(1)).scalar_one()
    assert last.status == "error" and last.record_count == 0
    assert last.error == (
        f"{export}: rejected, nothing stored: line 2: hire_date '01/02/2024' is not an ISO date (YYYY-MM-DD); "
        "line 3: status 'retired' is not a known employment status (map it in [hr] status_values)"
    )
