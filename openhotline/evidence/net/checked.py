"""The addresses a name may be reached at, by the capture policy: for clients other than
the fetcher (RDAP, NNTP) that connect to a configured or looked-up server themselves.

The name goes through the platform's resolver (never the system's), and one forbidden
address refuses the name: attackers mix records. The fetcher keeps its own admission,
which also reads odd IPv4 spellings, goes through proxies and records each hop.
"""

from collections.abc import Sequence

from openhotline.evidence.net.policy import IPNetwork, check_address, check_name, parse_address
from openhotline.evidence.net.resolver import resolve


class NameRefused(Exception):
    """The policy refuses the name or one of its addresses; the message says why."""


class NameUnresolved(Exception):
    """The resolver found no address; the message is the resolver's."""


def checked_addresses(
    host: str,
    allow_nets: Sequence[IPNetwork],
    dns_servers: Sequence[tuple[str, int]] | None,
    dns_timeout: float,
) -> tuple[str, ...]:
    """Every address of `host` (or the literal itself), each allowed by the policy."""
    reason = check_name(host, via_proxy=False)
    if reason:
        raise NameRefused(reason)
    literal = parse_address(host)
    if literal is not None:
        addresses: tuple[str, ...] = (str(literal),)
    else:
        resolution = resolve(host, servers=dns_servers, timeout=dns_timeout)
        if resolution.error:
            raise NameUnresolved(resolution.error)
        addresses = resolution.addresses
    for address in addresses:
        reason = check_address(address, allow_nets)
        if reason:
            said = f"{host} is {reason}" if literal else f"{host} resolves to {address}, {reason}"
            raise NameRefused(said)
    return addresses
