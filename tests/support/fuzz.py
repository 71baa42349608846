"""The whole API fuzzed from its own OpenAPI schema (schemathesis + hypothesis) against gunicorn.

Shared by `tests/security/test_fuzz_api.py` (bounded, in the suite) and `bench/fuzz_api.py`
(longer, prints figures). The server is gunicorn with the project's config (config/gunicorn.py)
on the database and Redis of the caller; requests carry a bearer token of an organization admin.

The server must never reach out while fuzzed: a fuzzed instance's `base_url` could be anything,
so the server's provider calls go through a proxy that is a closed loopback port (every one fails
as 502 before leaving the machine), and private networks stay refused (the SSRF guard).
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]

# What every response must satisfy: no 5xx, a documented status, content type, headers and body.
CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)


# gunicorn answers these itself (limit_request_line 4094, limit_request_fields): not the API's contract.
SERVER_LIMITS = {414, 431}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """gunicorn as the Procfile runs it, on 127.0.0.1, with the environment given."""

    def __init__(self, env: dict, workers: int = 2, threads: int = 4):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        closed = free_port()  # nothing listens there: the proxy every provider call fails on
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key.lower() not in ("no_proxy", "http_proxy", "https_proxy")
        }
        self.env.update(
            DEBUG="0",
            LANGUAGE_CODE="en",
            ALLOWED_HOSTS="127.0.0.1",
            LOG_LEVEL="ERROR",
            WEB_ACCESS_LOG="",
            CONN_MAX_AGE="0",
            HTTP_PROXY=f"http://127.0.0.1:{closed}",
            HTTPS_PROXY=f"http://127.0.0.1:{closed}",
            PROVIDER_ALLOW_PRIVATE_NETWORKS="0",
            PROVIDER_CONNECT_TIMEOUT="1",
            PROVIDER_READ_TIMEOUT="2",
            # The fuzzer is one client at one address: the limits are tested elsewhere.
            API_THROTTLE_TOKEN_RATE="",
            API_THROTTLE_ADDRESS_RATE="",
            API_AUTH_FAILURE_LIMIT="0",
            WEBHOOKS_AUTH_FAILURE_LIMIT="0",
            **env,
        )
        self.workers, self.threads = workers, threads
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "LiveServer":
        command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"]
        command += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers)]
        command += ["--threads", str(self.threads), "--log-level", "warning", "--timeout", "60"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, start_new_session=True)
        try:
            self._wait_until_up()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                if requests.get(f"{self.url}/health", timeout=10).status_code < 500:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@dataclass
class Failure:
    operation: str
    check: str
    title: str
    status: int | None
    request: str

    def __str__(self) -> str:
        return f"{self.operation}: [{self.check}] {self.title} (HTTP {self.status})\n    {self.request}"


@dataclass
class Report:
    operations: int = 0
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0

    def distinct_failures(self) -> list[Failure]:
        """One failure per (operation, check, title, status): the same flaw found twice is one."""
        seen, distinct = set(), []
        for failure in self.failures:
            key = (failure.operation, failure.check, failure.title.split("\n")[0][:120], failure.status)
            if key not in seen:
                seen.add(key)
                distinct.append(failure)
        return distinct

    def by_operation(self) -> dict[str, list[Failure]]:
        grouped = defaultdict(list)
        for failure in self.distinct_failures():
            grouped[failure.operation].append(failure)
        return dict(grouped)

    def summary(self) -> str:
        lines = [
            f"operations tried: {self.operations}",
            f"requests made:    {self.requests}",
            f"statuses:         {dict(sorted(self.statuses.items()))}",
            f"failures found:   {len(self.distinct_failures())} distinct ({len(self.failures)} in all)",
            f"seconds:          {self.seconds:.1f}",
        ]
        for failure in self.distinct_failures():
            lines.append(f"  - {failure}")
        return "\n".join(lines)


def _curl(case) -> str:
    try:
        return case.as_curl_command()
    except Exception:  # noqa: BLE001  (only for the report)
        return f"{case.method} {case.formatted_path}"


def fuzz(
    *,
    base_url: str,
    token: str,
    pins: dict | None = None,
    max_examples: int = 10,
    budget_seconds: float = 50.0,
    include=None,
    progress=None,
) -> Report:
    """Each operation of the served schema gets `max_examples` generated requests (positive and
    negative data), within `budget_seconds` in all; every response is checked (CHECK_NAMES).

    `pins` maps a path prefix to the path parameters to use there (`seed()`'s: real ids and the
    webhook secrets, so detail routes and webhooks are fuzzed past the lookup). Shrinking is off:
    a failure is reported as found.
    """
    import hypothesis
    import schemathesis
    from hypothesis import strategies as st
    from schemathesis import GenerationMode
    from schemathesis import checks as st_checks

    checks = [getattr(st_checks, name) for name in CHECK_NAMES]
    schema = schemathesis.openapi.from_url(f"{base_url}/api/schema/?format=json", timeout=60)
    report = Report()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    started = time.monotonic()
    operations = []
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        if include is None or include(label):
            operations.append((label, operation))
    per_operation = budget_seconds / max(len(operations), 1)
    for label, operation in operations:
        if time.monotonic() - started > budget_seconds:
            break
        report.operations += 1
        if progress is not None:
            progress(f"{label} ({report.requests} requests so far, {time.monotonic() - started:.0f} s)")
        pinned = pins_for(pins or {}, operation.path)
        strategy = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=pinned or None),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, path_parameters=pinned or None),
        )
        deadline = time.monotonic() + per_operation
        run = _runner(
            strategy, label=label, deadline=deadline, base_url=base_url, session=session, checks=checks, report=report
        )
        run = hypothesis.settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
            verbosity=hypothesis.Verbosity.quiet,
        )(run)
        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            pass
        except Exception as exc:  # noqa: BLE001  (the generator could not build requests: report it)
            report.failures.append(Failure(label, "generation", f"{type(exc).__name__}: {exc}"[:300], None, ""))
    report.seconds = time.monotonic() - started
    return report


def _runner(strategy, *, label, deadline, base_url, session, checks, report):
    import hypothesis

    @hypothesis.given(case=strategy)
    def run(case):
        if time.monotonic() > deadline:
            return
        try:
            response = case.call(base_url=base_url, session=session, timeout=30)
        except requests.RequestException as exc:
            report.requests += 1
            report.failures.append(Failure(label, "transport", str(exc)[:200], None, _curl(case)))
            return
        report.requests += 1
        report.statuses[response.status_code] += 1
        if response.status_code in SERVER_LIMITS:
            return  # gunicorn's own refusal of a request line or headers over its limits, before Django
        try:
            case.validate_response(response, checks=checks)
        except (AssertionError, BaseExceptionGroup) as exc:  # schemathesis' failures (a FailureGroup, or one)
            for check, title in _failures_of(exc):
                report.failures.append(Failure(label, check, title, response.status_code, _curl(case)))

    return run


def _failures_of(exc: BaseException) -> list[tuple[str, str]]:
    """(check, title) of each failure schemathesis raised (a group of them, or one)."""
    inner = getattr(exc, "exceptions", None) or [exc]
    found = []
    for failure in inner:
        check = getattr(failure, "check_name", None) or getattr(failure, "code", None) or type(failure).__name__
        title = getattr(failure, "title", None) or str(failure).strip().split("\n")[0]
        message = getattr(failure, "message", "") or ""
        found.append((str(check), f"{title}: {message}".strip(": ")[:300]))
    return found


def seed() -> dict:
    """An organization with one of each kind of object, its admin's token, and the path
    parameters to pin: {"token": ..., "pins": {path prefix: {parameter: value}}}."""
    from django.contrib.auth import get_user_model

    from accounts.models import Membership, Organization
    from accounts.services import add_member, create_api_token
    from contacts.models import Contact, Tag
    from instances.models import WhatsAppInstance
    from tests.factories.flows import message_for
    from tests.factories.instances import EvolutionInstanceFactory, GosacInstanceFactory

    suffix = os.urandom(4).hex()
    organization = Organization.objects.create(name=f"Fuzz {suffix}", slug=f"fuzz-{suffix}")
    user = get_user_model().objects.create_user(f"fuzz-{suffix}", f"fuzz-{suffix}@example.com", os.urandom(8).hex())
    add_member(organization=organization, user=user, role=Membership.Role.ADMIN)
    _, token = create_api_token(user=user, name="fuzz")
    sandbox = WhatsAppInstance.objects.create(organization=organization, name="Sandbox", provider="sandbox")
    evolution = EvolutionInstanceFactory(organization=organization, instance_name=f"fuzz-{suffix}")
    gosac = GosacInstanceFactory(organization=organization)
    contact = Contact.objects.create(organization=organization, phone="+5511999990000", name="Fuzz")
    tag = Tag.objects.create(organization=organization, name="fuzz")
    message = message_for(organization)
    subflow = message.subflow
    flow = subflow.flow
    template = flow.template
    pins = {
        "/api/v1/contacts/{id}": {"id": contact.id},
        "/api/v1/tags/{id}": {"id": tag.id},
        "/api/v1/instances/{id}": {"id": sandbox.id},
        "/api/v1/templates/{id}": {"id": template.id},
        "/api/v1/chatbots/{id}": {"id": template.id},
        "/api/v1/flows/{id}": {"id": flow.id},
        "/api/v1/subflows/{id}": {"id": subflow.id},
        "/api/v1/flow-messages/{id}": {"id": message.id},
        "/api/v1/export/flows/{template_id}": {"template_id": template.id},
        "/api/webhooks/evolution/{secret}": {"secret": evolution.webhook_secret},
        "/api/webhooks/gosac/{secret}": {"secret": gosac.webhook_secret},
    }
    return {"token": token, "pins": pins, "organization_id": organization.id}


def pins_for(pins: dict, path: str) -> dict:
    return next((values for prefix, values in pins.items() if path.startswith(prefix)), {})
