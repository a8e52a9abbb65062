"""The cast of every test (an analyst, a QA reviewer, a manager, an administrator, a police
liaison, a member and an outsider) and the socket guard: no test may reach beyond loopback.
"""

import ipaddress
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from openhotline.accounts.models import Organisation, OrganisationKind, Role, User
from openhotline.simnet.runner import Simnet

# --- No packet leaves loopback ---------------------------------------------------------


class ForbiddenConnection(AssertionError):
    pass


def _is_loopback(address: Any) -> bool:
    if not (isinstance(address, tuple) and address):
        return False
    host = address[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        # A name: resolve it the way the caller would, and check every answer.
        infos = _real_getaddrinfo(host, None)
        return all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_sendto = socket.socket.sendto


def _guarded(real: Callable[..., Any]) -> Callable[..., Any]:
    def guard(sock: socket.socket, address: Any, *args: Any) -> Any:
        target = args[-1] if real is _real_sendto and args else address
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(target):
            raise ForbiddenConnection(f"test tried to reach {target!r}, outside loopback")
        return real(sock, address, *args)

    return guard


def pytest_configure(config: pytest.Config) -> None:
    socket.socket.connect = _guarded(_real_connect)  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded(_real_connect_ex)  # type: ignore[method-assign]
    socket.socket.sendto = _guarded(_real_sendto)  # type: ignore[method-assign]


# --- The cast ---------------------------------------------------------------------------


def totp_now(user: User) -> str:
    device = TOTPDevice.objects.get(user=user)
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def make_user(username: str, role: str = "", organisation: Organisation | None = None) -> User:
    user = User.objects.create_user(username=username, password="correct horse battery staple")
    user.role = role
    user.organisation = organisation
    user.save()
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return user


@pytest.fixture
def analyst(db: None) -> User:
    return make_user("alice-analyst", Role.ANALYST)


@pytest.fixture
def qa_reviewer(db: None) -> User:
    return make_user("quinn-qa", Role.QA_REVIEWER)


@pytest.fixture
def manager(db: None) -> User:
    return make_user("mo-manager", Role.MANAGER)


@pytest.fixture
def administrator(db: None) -> User:
    user = make_user("ada-admin", Role.ADMINISTRATOR)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def police_liaison(db: None) -> User:
    return make_user("pat-police", Role.POLICE_LIAISON)


@pytest.fixture
def member(db: None) -> User:
    company = Organisation.objects.create(name="Example Social", kind=OrganisationKind.MEMBER)
    return make_user("mem-member", Role.MEMBER, company)


@pytest.fixture
def outsider(db: None) -> User:
    return make_user("otto-outsider")


def verified_client(user: User) -> Client:
    """A client signed in with both factors, as the sign-in view would leave it."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    return client


@pytest.fixture
def analyst_client(analyst: User) -> Client:
    return verified_client(analyst)


@pytest.fixture(scope="session")
def simnet() -> Iterator[Simnet]:
    """The simulated internet, on loopback, for the whole run."""
    with Simnet() as net:
        yield net


@pytest.fixture
def on_simnet(simnet: Simnet, settings: Any) -> Iterator[Simnet]:
    """The platform configured as a deployment would be, pointed at simnet: its DNS, its
    RDAP bootstrap, its IP database and its mail server. Hosts that took content down or
    moved after a notice are put back afterwards."""
    simnet.reset()
    settings.DNS_SERVERS = [(simnet.dns_address, simnet.dns_port)]
    settings.FETCH_ALLOW_NETS = [ipaddress.ip_network("127.77.0.0/16")]
    settings.FETCH_TOTAL_TIMEOUT = 5
    settings.RDAP_BOOTSTRAP = simnet.rdap_bootstrap_url
    settings.GEOIP_DB = str(simnet.mmdb_path)
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": simnet.smtp_host,
                "port": simnet.smtp_port,
                "timeout": 10,
            },
        }
    }
    yield simnet
    simnet.reset()


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Throttle counters live in the cache; each test starts with none. The PDQ index
    lives in the process and follows hash rows by id: a rolled-back test's ids come
    back in the next test, so each test starts with the index unbuilt."""
    from django.core.cache import cache

    from openhotline.signals import pdq_store

    cache.clear()
    pdq_store.forget()
