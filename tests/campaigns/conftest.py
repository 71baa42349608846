"""Fixtures of the campaigns' tests: the API's flow, number and contacts; the admin's users."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import Membership
from accounts.services import add_member
from tests.factories.campaigns import make_flow
from tests.factories.contacts import ContactFactory
from tests.factories.instances import WhatsAppInstanceFactory


@pytest.fixture
def setup(org_a):
    flow = make_flow(org_a)
    instance = WhatsAppInstanceFactory(organization=org_a)
    contacts = [ContactFactory(organization=org_a, name=f"Cliente {i}") for i in range(2)]
    return flow, instance, contacts


def english(client: Client) -> Client:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def root(db, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "password")
    return english(Client()), user


@pytest.fixture
def operator(db, django_user_model, org_a):
    """Staff of organization A only, with every campaigns permission."""
    user = django_user_model.objects.create_user("olga", "olga@example.com", "password", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="campaigns"))
    add_member(organization=org_a, user=user, role=Membership.Role.OPERATOR)
    client = english(Client())
    client.force_login(user)
    return client, user


@pytest.fixture
def client_(root):
    client, user = root
    client.force_login(user)
    return client
