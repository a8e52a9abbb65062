"""Small clients for the simulated internet's servers, shared by the simnet tests."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

import dns.resolver
import httpx

from openhotline.simnet.runner import Simnet


def resolve(net: Simnet, name: str) -> str:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port, resolver.lifetime = [net.dns_address], net.dns_port, 3
    return str(resolver.resolve(name, "A")[0].address)


def fetch(net: Simnet, address: str, host: str, path: str = "/") -> httpx.Response:
    # trust_env=False: a proxy from the environment must never see simnet traffic.
    with httpx.Client(trust_env=False, timeout=5) as client:
        return client.get(f"http://{address}:{net.http_port}{path}", headers={"Host": host})


def browse(net: Simnet, host: str, path: str = "/") -> httpx.Response:
    """GET as a browser would: resolve the name with simnet's DNS first."""
    return fetch(net, resolve(net, host), host, path)


def rdap(net: Simnet, path: str) -> httpx.Response:
    with httpx.Client(trust_env=False, timeout=5) as client:
        return client.get(net.rdap_url + path)


def send_mail(
    net: Simnet, to: list[str], body: str, subject: str = "Notice", sender: str = "hotline@hq.test"
) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, ", ".join(to), subject
    message.set_content(body)
    # local_hostname: otherwise smtplib asks the system resolver for our own name.
    with smtplib.SMTP(net.smtp_host, net.smtp_port, local_hostname="hq.test", timeout=5) as smtp:
        smtp.send_message(message, from_addr=sender, to_addrs=to)


def abuse_emails(document: Any) -> list[str]:
    """Every e-mail of every entity with the abuse role, however deeply nested."""
    found: list[str] = []
    for item in document.get("entities", []):
        if "abuse" in item.get("roles", []):
            for entry in item["vcardArray"][1]:
                if entry[0] == "email":
                    found.append(entry[3])
        found.extend(abuse_emails(item))
    return found
