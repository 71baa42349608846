"""What an outbound-webhook subscription adds to applying a recipient status (the drainer's work).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wf_outbox_bench REDIS_URL=redis://127.0.0.1:6379/6 \
        INTEGRATIONS_ENCRYPTION_KEYS=<a Fernet key> .venv/bin/python bench/outbox.py [--recipients 2000] [--rounds 5]

Seeds one organization with an execution of `--recipients` sent recipients, then moves
them to `delivered` one call each (as `campaigns.tracking.apply_message_status` does, one
transaction per event, naming the instance's organization), in alternating rounds: with no
subscription anywhere, with a subscription of another organization only, and with this
organization subscribed (the outbox row is written by the statement of the move), each
round in another order. Prints the median µs per status, the ratios to the first case, and
the median of each round's own ratio (the steadier figure on a shared machine). The
Evolution request path itself is unchanged: with the default queued intake it stores the
event and applies nothing. The seed is deleted at the end.
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", uuid.uuid4().hex)
os.environ.setdefault("REDIS_KEY_PREFIX", f"bench-outbox-{uuid.uuid4().hex[:8]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from accounts.models import Organization
    from campaigns.models import Campaign, CampaignInstance, Execution, Recipient
    from campaigns.transitions import advance_recipients
    from contacts.models import Contact
    from flows.models import Flow, FlowTemplate
    from instances.models import WhatsAppInstance
    from integrations.models import OutboundEvent, WebhookSubscription
    from integrations.services import webhooks

    tag = uuid.uuid4().hex[:8]
    org = Organization.objects.create(name="bench", slug=f"bench-{tag}")
    other = Organization.objects.create(name="other", slug=f"other-{tag}")
    try:
        template = FlowTemplate.objects.create(organization=org, name="t")
        flow = Flow.objects.create(template=template, name="f")
        instance = WhatsAppInstance.objects.create(organization=org, name=f"i-{tag}")
        campaign = Campaign.objects.create(organization=org, name="c", template=template, flow=flow)
        CampaignInstance.objects.create(campaign=campaign, instance=instance)
        contacts = Contact.objects.bulk_create(
            [
                Contact(organization=org, phone=f"+5511{9 * 10**7 + i:08d}")
                for i in range(args.recipients * args.rounds * 3 + 3)
            ]
        )
        execution = Execution.objects.create(organization=org, campaign=campaign, status="running")
        recipients = Recipient.objects.bulk_create(
            [
                Recipient(
                    execution=execution,
                    contact=c,
                    instance=instance,
                    phone=c.phone,
                    status="sent",
                    provider_message_id=f"m-{c.id}",
                    sent_at=timezone.now(),
                )
                for c in contacts
            ]
        )
        ids = iter([r.id for r in recipients])
        cases = {"no subscription": None, "another org subscribed": other, "this org subscribed": org}
        timings = {name: [] for name in cases}
        statements = {}
        names = list(cases)
        for round_ in range(args.rounds):
            # Each round in another order: a case measured later in a round would pay for the table's growth.
            for name in names[round_ % 3 :] + names[: round_ % 3]:
                subscriber = cases[name]
                WebhookSubscription.objects.all().filter(organization__in=[org, other]).delete()
                if subscriber is not None:
                    webhooks.create_subscription(
                        organization=subscriber, url="https://x.example/h", events=["recipient.delivered"]
                    )
                webhooks.forget_subscriptions()
                batch = [next(ids) for _ in range(args.recipients)]
                started = time.perf_counter()
                for recipient_id in batch:
                    with transaction.atomic():
                        advance_recipients(
                            Recipient.objects.filter(id=recipient_id), "delivered", organization_id=org.id
                        )
                timings[name].append((time.perf_counter() - started) / len(batch) * 1e6)
                if name not in statements:  # what one status sends to PostgreSQL, BEGIN and COMMIT included
                    with CaptureQueriesContext(connection) as queries, transaction.atomic():
                        advance_recipients(Recipient.objects.filter(id=next(ids)), "delivered", organization_id=org.id)
                    statements[name] = len(queries.captured_queries)
        base = statistics.median(timings["no subscription"])
        print(f"{args.recipients} statuses x {args.rounds} rounds per case (shared, noisy machine: read the ratios)")
        for name, values in timings.items():
            median = statistics.median(values)
            # Each round's own ratio: the machine's speed drifts between rounds more than within one.
            ratios = sorted(v / b for v, b in zip(values, timings["no subscription"], strict=True))
            print(
                f"  {name:<24} {median:8.0f} µs/status   x{median / base:.2f}   "
                f"per round: median x{statistics.median(ratios):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})   "
                f"{statements[name]} statements"
            )
        written = OutboundEvent.objects.filter(organization=org).count()
        print(f"  outbox rows written: {written} (expected {args.recipients * args.rounds + 1})")
    finally:
        OutboundEvent.objects.filter(organization__in=[org, other]).delete()
        Campaign.objects.filter(organization=org).delete()
        org.delete()
        other.delete()


if __name__ == "__main__":
    main()
