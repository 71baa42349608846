import pytest

from contacts import demo
from contacts.models import Contact, Tag


@pytest.mark.django_db
def test_demo_seed_is_idempotent(org_a):
    demo.seed(org_a)
    demo.seed(org_a)
    contacts = Contact.objects.filter(organization=org_a)
    assert contacts.count() == 20
    assert contacts.filter(tags__name="vip").count() == 5
    assert all(c.custom_fields.get("cidade") for c in contacts)
    assert set(Tag.objects.filter(organization=org_a).values_list("name", flat=True)) == {
        "vip",
        "cliente",
        "lead",
        "demo",
    }
