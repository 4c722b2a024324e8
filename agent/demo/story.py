"""The demo's fortnight: what changes in the simulated organisation on which day, and what a person
does about the nonconformities, so the dashboard's trends and the NC register have a history to show.

Day 14 is today. On day 3 someone opens SSH to the world on a bastion security group, closed again
on day 8; EBS encryption by default is turned on on day 5 (A.8.24 passes from then on); Carla and
David enrol MFA devices on day 6 and Ben loses his on day 11 (a regression of a closed NC); Emma
signs in to Okta again on day 9 (her draft closes itself); HR finds Isabel's signed terms missing on
day 11 (A.6.2 fails) and files Grace's NDA on day 12 (A.6.6 passes).
Dana, the ISMS manager, accepts, plans, resolves, closes and rejects NCs on the way, so the register
ends with drafts and with open, action_planned, resolved (ready for verification), closed and
rejected NCs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import boto3

from agent.audit.nc_actions import Change
from agent.demo.organisation import FAKE_CREDENTIALS, MFA_CODES, REGION
from agent.demo.people import CAST, Person

if TYPE_CHECKING:
    from types_boto3_iam import IAMClient

DAYS = 14
ACTOR = "dana.lee@example.com"
REGIONAL = "eu-west-1"  # the demo configuration's one region
BASTION = "bastion-ssh"
MFA_LATECOMERS = ("carla.mendes", "david.kim")  # the console users seeded without MFA
SSH_FROM_ANYWHERE = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


@dataclass
class DemoWorld:
    """What the day's changes act on: the moto endpoint, and the people as they stand."""

    endpoint: str
    cast: tuple[Person, ...] = field(default_factory=lambda: CAST)

    def iam(self) -> IAMClient:
        return boto3.client("iam", endpoint_url=self.endpoint, region_name=REGION, **FAKE_CREDENTIALS)

    def regional(self, service: str) -> Any:  # typed loosely: no EC2 type stubs are installed
        session = boto3.Session(region_name=REGIONAL, **FAKE_CREDENTIALS)
        return cast(Any, session).client(service, endpoint_url=self.endpoint)

    def update(self, employee_id: str, **facts: Any) -> None:
        self.cast = tuple(
            dataclasses.replace(p, **facts) if p.employee_id == employee_id else p for p in self.cast
        )


def open_bastion(world: DemoWorld) -> None:
    ec2 = world.regional("ec2")
    group = ec2.create_security_group(GroupName=BASTION, Description="bastion host")
    ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[SSH_FROM_ANYWHERE])


def close_bastion(world: DemoWorld) -> None:
    ec2 = world.regional("ec2")
    [group] = ec2.describe_security_groups(GroupNames=[BASTION])["SecurityGroups"]
    ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[SSH_FROM_ANYWHERE])


def ebs_encrypted_by_default(world: DemoWorld) -> None:
    world.regional("ec2").enable_ebs_encryption_by_default()


def console_users_enrol_mfa(world: DemoWorld) -> None:
    iam = world.iam()
    for user in MFA_LATECOMERS:
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
        iam.enable_mfa_device(UserName=user, SerialNumber=device["SerialNumber"], **MFA_CODES)


def ben_loses_mfa(world: DemoWorld) -> None:
    iam = world.iam()
    for device in iam.list_mfa_devices(UserName="ben.okafor")["MFADevices"]:
        iam.deactivate_mfa_device(UserName="ben.okafor", SerialNumber=device["SerialNumber"])


def emma_signs_in(world: DemoWorld) -> None:
    world.update("E005", okta_login=0)


def grace_nda_filed(world: DemoWorld) -> None:
    world.update("E007", nda=True)


def isabel_terms_missing(world: DemoWorld) -> None:
    world.update("E009", terms=False)


# Before the day's collection, in this order.
CHANGES: dict[int, tuple[Callable[[DemoWorld], None], ...]] = {
    3: (open_bastion,),
    5: (ebs_encrypted_by_default,),
    6: (console_users_enrol_mfa,),
    8: (close_bastion,),
    9: (emma_signs_in,),
    11: (ben_loses_mfa, isabel_terms_missing),
    12: (grace_nda_filed,),
}

SG_CHECK = "aws.ec2.security_group_admin_ports"
MFA_CHECK = "aws.iam.console_user_without_mfa"
LEAVER_CHECK = "people.leaver.okta_sign_in_after_leaving"
NDA_CHECK = "hr.people.nda_signed"
GHOST_CHECK = "people.okta.account_without_employee"


@dataclass(frozen=True)
class Step:
    """One of Dana's actions on the NC of `check`; `due_in` days from the day sets a plan's due date."""

    check: str
    action: str
    change: Change
    due_in: int | None = None


# After the day's collection, in this order.
STEPS: dict[int, tuple[Step, ...]] = {
    2: (
        Step(
            LEAVER_CHECK, "accept", Change(reason="confirmed with HR: Finn Berg left on his termination date")
        ),
        Step(MFA_CHECK, "accept", Change(reason="console access without MFA breaks the access policy")),
        Step(NDA_CHECK, "accept", Change(reason="HR cannot find Grace Liu's signed NDA")),
    ),
    3: (
        Step(
            MFA_CHECK,
            "plan",
            Change(
                root_cause="MFA enrolment is not enforced when a console password is issued",
                reason="IT to enrol the two console users this week",
                corrective_action="Carla and David enrol MFA devices; console passwords issued after enrolment",
                owner="it-support@acme.example",
            ),
            due_in=7,
        ),
    ),
    4: (
        Step(SG_CHECK, "accept", Change(reason="SSH open to the internet on the bastion group")),
        Step(
            GHOST_CHECK,
            "reject",
            Change(
                reason="contractor account managed by the agency's offboarding, listed in the vendor register"
            ),
        ),
    ),
    5: (
        Step(
            SG_CHECK,
            "plan",
            Change(
                reason="Ben removes the rule after today's maintenance window",
                root_cause="a temporary rule for a vendor session was never removed",
                corrective_action="remove the rule; bastion access through the VPN only",
                owner="ben.okafor@acme.example",
            ),
            due_in=5,
        ),
    ),
    6: (Step(MFA_CHECK, "resolve", Change(reason="Carla and David enrolled virtual MFA devices")),),
    7: (
        Step(
            MFA_CHECK,
            "close",
            Change(effectiveness_review="the day 7 collection shows every console user with MFA"),
        ),
    ),
    8: (Step(SG_CHECK, "resolve", Change(reason="the SSH rule was removed from the bastion group")),),
    9: (
        Step(
            SG_CHECK,
            "close",
            Change(effectiveness_review="no security group admits admin ports from anywhere since day 8"),
        ),
    ),
    12: (
        Step(
            MFA_CHECK,
            "plan",
            Change(
                reason="Ben re-enrols on Monday",
                root_cause="Ben's MFA device was removed when his phone was replaced",
                corrective_action="Ben re-enrols; device replacement added to the IT checklist",
                owner="ben.okafor@acme.example",
            ),
            due_in=3,
        ),
    ),
    13: (Step(NDA_CHECK, "resolve", Change(reason="HR filed Grace Liu's signed NDA")),),
}
