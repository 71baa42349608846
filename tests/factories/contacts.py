import factory
from django.core.files.base import ContentFile

from contacts.models import Contact, ContactImport, Tag


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    phone = factory.Sequence(lambda n: f"+55119{n:08d}")
    name = factory.Faker("name", locale="pt_BR")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag-{n}")


class ContactImportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactImport

    file = factory.LazyFunction(lambda: ContentFile(b"phone,name\n11999999999,Ana\n", name="contacts.csv"))


TENANT_FACTORIES = {
    Contact: lambda organization: ContactFactory(organization=organization),
    Tag: lambda organization: TagFactory(organization=organization),
    ContactImport: lambda organization: ContactImportFactory(organization=organization),
}
