"""The account's message templates: synced from Meta (all pages), updated by Meta's notices."""

import pytest

from instances import templates
from instances.models import MessageTemplate
from instances.tasks import sync_message_templates
from tests.factories.instances import CloudInstanceFactory
from tests.support.fakes.graph_api import template

pytestmark = pytest.mark.django_db


@pytest.fixture
def cloud(org_a, fake_graph):
    return CloudInstanceFactory(organization=org_a, cloud_business_account_id="102290129340398")


def test_a_sync_reads_every_page_of_the_account(cloud, fake_graph):
    fake_graph.templates = [
        template("boas_vindas"),
        template("boleto", category="UTILITY"),
        template("promo_natal", status="PENDING"),
        template("promo_natal", language="en_US", status="REJECTED"),
        template("retomada", status="PAUSED"),
    ]
    fake_graph.page_size = 2

    assert templates.sync_templates(instance=cloud) == 5

    pages = fake_graph.requests_to(r"/102290129340398/message_templates", method="GET")
    assert len(pages) == 3
    assert "fields=id,name,language,status,category" in pages[0].path
    rows = {(t.name, t.language): t for t in MessageTemplate.objects.filter(organization=cloud.organization)}
    assert rows[("boleto", "pt_BR")].category == "UTILITY"
    assert rows[("boas_vindas", "pt_BR")].sendable and rows[("boas_vindas", "pt_BR")].quality == "GREEN"
    assert rows[("promo_natal", "en_US")].status == "REJECTED" and not rows[("promo_natal", "en_US")].sendable


def test_a_new_sync_updates_and_never_duplicates(cloud, fake_graph):
    fake_graph.templates = [template("boas_vindas", status="PENDING")]
    templates.sync_templates(instance=cloud)
    fake_graph.templates = [template("boas_vindas", status="APPROVED")]

    templates.sync_templates(instance=cloud)

    assert list(MessageTemplate.objects.values_list("name", "status")) == [("boas_vindas", "APPROVED")]


def test_a_status_notice_changes_the_template_at_once(cloud, fake_graph):
    fake_graph.templates = [template("boas_vindas")]
    templates.sync_templates(instance=cloud)
    row = MessageTemplate.objects.get()

    result = templates.apply_status_update(
        instance=cloud, meta_id=row.meta_id, name="boas_vindas", language="pt_BR", status="PAUSED", reason="Low quality"
    )

    row.refresh_from_db()
    assert (result, row.status, row.reason) == ("template_paused", "PAUSED", "Low quality")


def test_the_beat_job_syncs_each_account_once(org_a, cloud, fake_graph):
    CloudInstanceFactory(organization=org_a, cloud_business_account_id="102290129340398")
    fake_graph.templates = [template("boas_vindas")]

    results = sync_message_templates()

    assert list(results.values()) == [1]
    assert len(fake_graph.requests_to(r"/message_templates", method="GET")) == 1


def test_the_admin_syncs_and_lists_the_templates(admin_client, cloud, fake_graph):
    from django.urls import reverse

    fake_graph.templates = [template("boas_vindas"), template("promo", status="REJECTED")]
    changelist = reverse("admin:instances_whatsappinstance_changelist")

    response = admin_client.post(
        changelist, {"action": "sync_message_templates", "_selected_action": [cloud.id]}, follow=True
    )

    assert "2 templates synced" in response.content.decode()
    page = admin_client.get(reverse("admin:instances_messagetemplate_changelist")).content.decode()
    assert "boas_vindas" in page and "REJECTED" in page
