"""Which addresses the server may call: the guard against server-side request forgery.

An instance's `base_url` is typed by a tenant, and the server calls it. Never allowed:
link-local addresses (169.254.0.0/16, fe80::/10: where clouds serve instance metadata and
credentials), the other metadata addresses (AWS's fd00:ec2::254, Alibaba's 100.100.100.200),
the names that lead there, and unspecified, multicast and reserved addresses. Loopback and
private networks (127/8, ::1, 10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10) only with
`PROVIDER_ALLOW_PRIVATE_NETWORKS` on: a self-hosted Evolution often lives beside this server.

Checked twice: when the URL is saved (`check_url`, from the model's `clean()`), and when
a connection is opened (`instances.http`), against every address the host resolves to and
the one actually connected to, so a name that changes its answer later (DNS rebinding)
gets nowhere.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

METADATA_NETWORKS = [
    ipaddress.ip_network(net)
    for net in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "100.100.100.200/32", "0.0.0.0/8")
]
METADATA_HOSTNAMES = {
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
}


class ForbiddenAddress(Exception):
    """The URL leads to an address the server must not call."""


def refusal(address: str) -> str:
    """Why the server must not connect to `address` (an IP), or '' when it may."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return _("%(address)s is not an IP address.") % {"address": address}
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            ip = mapped
    if any(ip in network for network in METADATA_NETWORKS if network.version == ip.version):
        return _("%(address)s is a link-local or cloud metadata address.") % {"address": ip}
    private = ip.is_loopback or ip.is_private
    if not private and (ip.is_multicast or ip.is_unspecified or ip.is_reserved or ip.is_link_local):
        return _("%(address)s is not a routable address.") % {"address": ip}
    if (private or not ip.is_global) and not settings.PROVIDER_ALLOW_PRIVATE_NETWORKS:
        return _(
            "%(address)s is a loopback or private address (allowed only with PROVIDER_ALLOW_PRIVATE_NETWORKS)."
        ) % {"address": ip}
    return ""


def check_host(host: str, port: int | None, *, must_resolve: bool) -> None:
    """Raise ForbiddenAddress unless every address `host` resolves to may be called.

    A name that does not resolve passes when `must_resolve` is off (at save time the
    provider's DNS may not be reachable from here yet); the connection checks again.
    """
    host = (host or "").strip("[]").rstrip(".").lower()
    if not host:
        raise ForbiddenAddress(_("The URL has no host."))
    if host in METADATA_HOSTNAMES:
        raise ForbiddenAddress(_("%(host)s is a cloud metadata host.") % {"host": host})
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        addresses = [host]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            if must_resolve:
                raise ForbiddenAddress(_("%(host)s does not resolve.") % {"host": host}) from None
            return
        addresses = sorted({info[4][0] for info in infos})
    for address in addresses:
        reason = refusal(address)
        if reason:
            raise ForbiddenAddress(reason)


def check_url(url: str, *, must_resolve: bool = False) -> None:
    """Raise ForbiddenAddress unless `url` is http(s) and leads only to addresses that may be called."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ForbiddenAddress(_("The URL is not valid.")) from None
    if parts.scheme not in ("http", "https"):
        raise ForbiddenAddress(_("Only http and https URLs can be called."))
    check_host(parts.hostname or "", port, must_resolve=must_resolve)


# requests' transport, checked at every new connection: what a name resolves to is read when the
# socket connects, so a name that changes its address after the check (DNS rebinding) is caught.
class _GuardedConnectionMixin:
    def _new_conn(self):
        check_host(self._dns_host, self.port, must_resolve=False)
        sock = super()._new_conn()
        reason = refusal(sock.getpeername()[0])
        if reason:
            sock.close()
            raise ForbiddenAddress(reason)
        return sock


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """requests' adapter whose direct connections go through `core.http_guard`."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        pools = {"http": GuardedHTTPConnectionPool, "https": GuardedHTTPSConnectionPool}
        self.poolmanager.pool_classes_by_scheme = pools
