"""Server time of the back-office's heaviest pages with a million recipients (DATABASE_URL, REDIS_URL).

    DATABASE_URL=... REDIS_URL=... SECRET_KEY=x python bench/admin_pages.py [--recipients 1000000] [--rounds 5]

Seeds one organization with N contacts and one running execution of N recipients
(statuses spread over the funnel, SQL `generate_series`, no Python per row), vacuums,
then renders through Django's test client, as a staff operator of that organization:
the dashboard (`/admin/`), the campaign page and the recipients changelist, plus the
JSON endpoints the pages poll. Prints, per page, the median and worst of the rounds with
this run's cache keys deleted before each (cold), the median when counts are shared for a
poll period (warm), and the number of queries. Targets: < 300 ms each. The database must
be migrated; the seed is removed at the end (`--keep` keeps it for another run: `--reuse`).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("REDIS_KEY_PREFIX", f"bench{os.getpid()}")
SLUG = "bench-admin-pages"


def seed(n: int):
    from django.db import connection

    from accounts.models import Organization
    from campaigns.models import Campaign, CampaignInstance, Execution
    from flows.models import Flow, FlowMessage, FlowTemplate, Subflow
    from instances.models import WhatsAppInstance

    org = Organization.objects.create(name="Bench admin", slug=SLUG)
    template = FlowTemplate.objects.create(organization=org, name="Bench")
    flow = Flow.objects.create(template=template, name="Bench")
    FlowMessage.objects.create(subflow=Subflow.objects.create(flow=flow, name="s"), text="Olá {{customer_name}}")
    instance = WhatsAppInstance.objects.create(organization=org, name="bench-sandbox", connection_state="open")
    campaign = Campaign.objects.create(
        organization=org, template=template, flow=flow, name="Bench 1M", status="active", audience_type="all"
    )
    CampaignInstance.objects.create(campaign=campaign, instance=instance, position=0)
    execution = Execution.objects.create(organization=org, campaign=campaign, status="running", total_recipients=n)
    statuses = "ARRAY['pending','sent','delivered','read','read','replied','completed','failed','opted_out','unknown']"
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO contacts_contact (organization_id, phone, name, email, custom_fields, is_active,
                   opt_out_reason, opt_out_source, total_messages_received, created_at, updated_at)
               SELECT %s, '+5511' || lpad(i::text, 9, '0'), 'Cliente ' || i, '', '{}', true, '', '', 0, now(), now()
               FROM generate_series(1, %s) AS i""",
            [org.id, n],
        )
        cursor.execute(
            f"""INSERT INTO campaigns_recipient (execution_id, contact_id, phone, variables, status,
                   provider_message_id, retry_count, error, created_at, sent_at)
               SELECT %s, c.id, c.phone, '{{}}', ({statuses})[1 + (c.id %% 10)], '', 0, '', now(),
                      now() - ((c.id %% 86400) || ' seconds')::interval
               FROM contacts_contact c WHERE c.organization_id = %s""",
            [execution.id, org.id],
        )
    for table in ("contacts_contact", "campaigns_recipient", "campaigns_execution", "campaigns_campaignlog"):
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")
    return org, campaign, execution


def remove():
    from django.db import connection

    from accounts.models import Organization

    org = Organization.objects.filter(slug=SLUG).first()
    if org is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM campaigns_recipient WHERE execution_id IN "
            "(SELECT id FROM campaigns_execution WHERE organization_id = %s)",
            [org.id],
        )
        cursor.execute("DELETE FROM contacts_contact WHERE organization_id = %s", [org.id])
    from campaigns.models import Campaign

    Campaign.objects.filter(organization=org).delete()
    org.delete()


def forget_shared_counts(cache) -> None:
    """Delete this run's own cache keys only (its KEY_PREFIX), never the whole Redis database."""
    from django.conf import settings

    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    client = getattr(getattr(cache, "_cache", None), "get_client", None)
    if client is None or not prefix:
        cache.clear()  # a per-process cache (locmem): nothing else shares it
        return
    redis = client(write=True)
    for key in redis.scan_iter(match=f"{prefix}:*"):
        redis.delete(key)


def measure(client, url: str, rounds: int, *, cold: bool) -> tuple[float, float, int]:
    """Median and worst server time; `cold`: nothing shared through the cache (every count made)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm: templates, the connection
    times = []
    for _ in range(rounds):
        if cold:
            forget_shared_counts(cache)
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), max(times), len(queries)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.test import Client
    from django.urls import reverse

    from accounts.models import Membership, Organization
    from accounts.services import add_member
    from campaigns.models import Campaign, Execution

    settings.ALLOWED_HOSTS = ["*"]
    if args.reuse and Organization.objects.filter(slug=SLUG).exists():
        org = Organization.objects.get(slug=SLUG)
        campaign = Campaign.objects.get(organization=org)
        execution = Execution.objects.get(organization=org)
    else:
        remove()
        started = time.perf_counter()
        org, campaign, execution = seed(args.recipients)
        print(f"seeded {args.recipients:,} contacts and recipients in {time.perf_counter() - started:.1f} s")
    user, _ = get_user_model().objects.get_or_create(username="bench-admin-pages", defaults={"is_staff": True})
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["campaigns", "instances"]))
    if not Membership.objects.filter(user=user, organization=org).exists():
        add_member(organization=org, user=user, role=Membership.Role.OPERATOR)
    client = Client()
    client.force_login(user)

    pages = [
        ("dashboard", reverse("admin:index")),
        ("dashboard JSON", reverse("admin:campaigns_dashboard_live")),
        ("campaign page", reverse("admin:campaigns_campaign_change", args=[campaign.id])),
        ("campaign JSON", reverse("admin:campaigns_campaign_live", args=[campaign.id])),
        ("execution page", reverse("admin:campaigns_execution_change", args=[execution.id])),
        ("recipients changelist", reverse("admin:campaigns_recipient_changelist")),
        ("recipients, status=failed", reverse("admin:campaigns_recipient_changelist") + "?status__exact=failed"),
    ]
    print("cold: this run's cache keys deleted before each request (every count made); warm: counts shared")
    header = f"{'page':28} {'cold median':>12} {'cold worst':>11} {'warm median':>12} {'queries':>8}"
    print(header + "   (ms; target < 300; shared machine: noisy)")
    for name, url in pages:
        cold, cold_worst, queries = measure(client, url, args.rounds, cold=True)
        warm, _worst, _queries = measure(client, url, args.rounds, cold=False)
        print(f"{name:28} {cold:12.1f} {cold_worst:11.1f} {warm:12.1f} {queries:8d}")
    if not args.keep:
        remove()
        user.delete()


if __name__ == "__main__":
    main()
