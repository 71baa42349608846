import factory

from contacts.models import Contact, Tag


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    phone = factory.Sequence(lambda n: f"+55119{n:08d}")
    name = factory.Faker("name", locale="pt_BR")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag-{n}")


TENANT_FACTORIES = {
    Contact: lambda organization: ContactFactory(organization=organization),
    Tag: lambda organization: TagFactory(organization=organization),
}
