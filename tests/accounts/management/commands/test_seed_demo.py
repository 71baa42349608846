from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts.models import Membership, Organization


def test_it_creates_the_demo_organization_and_admin_once(db, capsys, monkeypatch):
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    call_command("seed_demo")
    first = capsys.readouterr().out
    assert "Admin login: admin / " in first
    password = first.split("Admin login: admin / ")[1].split()[0]

    call_command("seed_demo")
    second = capsys.readouterr().out
    assert "Admin login" not in second

    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    assert Organization.objects.filter(slug="demo").count() == 1
    assert Membership.objects.get(user=admin).role == Membership.Role.ADMIN


def test_it_takes_the_password_from_the_environment(db, capsys, monkeypatch):
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "correct-horse-battery")
    call_command("seed_demo")
    assert "Admin login" not in capsys.readouterr().out
    assert get_user_model().objects.get(username="admin").check_password("correct-horse-battery")


def test_it_seeds_a_usable_demo_in_every_app(db, monkeypatch):
    from campaigns.models import Campaign
    from contacts.models import Contact
    from flows.models import FlowTemplate
    from instances.models import WhatsAppInstance

    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "correct-horse-battery")
    call_command("seed_demo")
    call_command("seed_demo")

    demo = Organization.objects.get(slug="demo")
    assert Contact.objects.filter(organization=demo).count() >= 10
    assert WhatsAppInstance.objects.get(organization=demo, provider="sandbox").connection_state == "open"
    template = FlowTemplate.objects.get(organization=demo)
    campaign = Campaign.objects.get(organization=demo)
    assert campaign.status == Campaign.Status.DRAFT
    assert campaign.flow.template == template
    assert [i.provider for i in campaign.ordered_instances()] == ["sandbox"]
