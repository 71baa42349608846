from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from accounts.filters import TenantFilterSet
from accounts.models import Membership
from accounts.queries import organization_roles
from accounts.tenancy import TenantModelViewSet
from contacts import queries, services
from contacts.imports import ContactImportError
from contacts.models import Contact, Tag
from core.api import request_object


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "organization", "name"]
        read_only_fields = ["organization"]
        validators = []  # the (organization, name) uniqueness is checked by the service


class ContactSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(max_length=40, help_text=_("Any common format; stored as E.164"))
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        write_only=True,
        help_text=_("Tag names, created as needed"),
    )
    is_opted_out = serializers.BooleanField(read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "organization",
            "phone",
            "name",
            "email",
            "custom_fields",
            "tags",
            "is_active",
            "is_opted_out",
            "opted_out_at",
            "opt_out_reason",
            "opt_out_source",
            "last_interaction_at",
            "total_messages_received",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "organization",
            "opted_out_at",
            "opt_out_reason",
            "opt_out_source",
            "last_interaction_at",
            "total_messages_received",
            "created_at",
            "updated_at",
        ]
        validators = []  # phone uniqueness is create-or-get, handled by the service

    def to_internal_value(self, data):
        if hasattr(data, "get"):
            data = {key: data[key] for key in data}
            # The old bulk-dispatch screen sends the phone as `whatsapp_id` (digits, e.g. 5511999999999).
            whatsapp_id = data.pop("whatsapp_id", None)
            if whatsapp_id is not None and "phone" not in data:
                data["phone"] = whatsapp_id
            if self.instance is None:  # a create; an update's extra keys would replace its custom fields
                data = self._columns_as_custom_fields(data)
        return super().to_internal_value(data)

    def _columns_as_custom_fields(self, data: dict) -> dict:
        """Top-level keys that name no field (the old client's extra columns, e.g. `company`) kept as custom fields."""
        columns = {key: data.pop(key) for key in list(data) if key not in self.fields}
        columns = {key: value for key, value in columns.items() if isinstance(value, str | int | float | bool)}
        if columns and isinstance(data.get("custom_fields", {}), dict):
            data["custom_fields"] = {**columns, **data.get("custom_fields", {})}
        return data

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["tags"] = sorted(tag.name for tag in instance.tags.all())
        data["whatsapp_id"] = instance.phone.lstrip("+")
        return data

    def validate_custom_fields(self, value):
        if not isinstance(value, dict):
            raise ValidationError(_('Must be an object, e.g. {"points": 120}.'))
        return value


class BulkSerializer(serializers.Serializer):
    numbers = serializers.CharField(required=False, trim_whitespace=False, help_text=_("One phone number a line"))
    csv = serializers.CharField(
        required=False, trim_whitespace=False, help_text=_("CSV text with a header row: phone,name,email,…")
    )
    delimiter = serializers.CharField(required=False, min_length=1, max_length=1)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)

    def validate(self, attrs):
        if ("numbers" in attrs) == ("csv" in attrs):
            raise ValidationError({"numbers": [_("Send either numbers or csv (one of them).")]})
        return attrs


class OptOutSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, help_text=_("Why, e.g. pediu por telefone"))


class ContactFilter(TenantFilterSet):
    tag = filters.CharFilter(method="filter_tag", help_text=_("Tag name; several separated by commas (any)"))
    opted_out = filters.BooleanFilter(method="filter_opted_out")
    is_active = filters.BooleanFilter()
    search = filters.CharFilter(method="filter_search", help_text=_("Name, email or phone digits"))

    class Meta:
        model = Contact
        fields = ["tag", "opted_out", "is_active", "search"]

    def filter_tag(self, queryset, name, value):
        names = [part.strip() for part in value.split(",") if part.strip()]
        return queries.contacts_with_tags(queryset, names) if names else queryset

    def filter_opted_out(self, queryset, name, value):
        return queries.contacts_opted_out(queryset, value)

    def filter_search(self, queryset, name, value):
        return queries.contacts_matching(queryset, value)


BULK_RESULT = inline_serializer(
    "BulkResult",
    {
        "ids": serializers.ListField(child=serializers.IntegerField(allow_null=True)),
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "invalid": serializers.IntegerField(),
        "errors": inline_serializer(
            "BulkRowError",
            {
                "row": serializers.IntegerField(),
                "column": serializers.CharField(),
                "reason": serializers.CharField(),
                "value": serializers.CharField(),
            },
            many=True,
        ),
    },
)


@extend_schema_view(
    destroy=extend_schema(
        parameters=[
            OpenApiParameter(
                "permanent", OpenApiTypes.BOOL, description="Remove the row for good (organization admins only)"
            )
        ]
    )
)
class ContactViewSet(TenantModelViewSet):
    """Contacts. POST is create-or-get by phone: 201 when new, 200 with the existing (updated) one.

    DELETE deactivates (the contact is kept with its opt-out); `?permanent=true` removes
    it for good and is for organization admins.
    """

    queryset = Contact.objects.prefetch_related("tags")
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    ordering_fields = ["id", "name", "created_at", "updated_at", "last_interaction_at"]
    ordering = ["-id"]

    @extend_schema(responses={201: ContactSerializer, 200: ContactSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        contact, created = services.contact_get_or_create(
            organization=self.get_write_organization(),
            phone=data["phone"],
            name=data.get("name", ""),
            email=data.get("email", ""),
            custom_fields=data.get("custom_fields"),
            tags=data.get("tags", ()),
            is_active=data.get("is_active") if "is_active" in request.data else None,
        )
        body = self.get_serializer(Contact.objects.prefetch_related("tags").get(id=contact.id)).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        tags = data.pop("tags", None)
        services.contact_update(contact=serializer.instance, tags=tags, **data)

    def update(self, request, *args, **kwargs):
        response = super().update(request, *args, **kwargs)
        response.data = self.get_serializer(self.get_queryset().get(id=kwargs["pk"])).data
        return response

    def perform_destroy(self, instance):
        if self.request.query_params.get("permanent") in ("1", "true", "yes"):
            if organization_roles(self.request).get(instance.organization_id) != Membership.Role.ADMIN:
                raise PermissionDenied(_("Only organization admins can delete contacts permanently."))
            services.contact_delete(contact=instance)
        else:
            services.contact_deactivate(contact=instance)

    @extend_schema(request=BulkSerializer, responses=BULK_RESULT)
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Numbers (one a line) or CSV text in; ids in input order, counts and per-row errors out."""
        serializer = BulkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        numbers_only = "numbers" in data
        try:
            result = services.contacts_import_text(
                organization=self.get_write_organization(),
                text=data["numbers"] if numbers_only else data["csv"],
                numbers_only=numbers_only,
                tag_names=data.get("tags", ()),
                delimiter=data.get("delimiter"),
            )
        except ContactImportError as exc:
            raise ValidationError({"csv": [str(exc)]}) from None
        return Response(
            {
                "ids": result.ids,
                "created": result.created,
                "updated": result.updated,
                "invalid": result.invalid,
                "errors": [
                    {"row": error.row, "column": error.column, "reason": error.reason, "value": error.value}
                    for error in result.errors
                ],
            }
        )

    @extend_schema(
        request=inline_serializer("OptOut", {"reason": serializers.CharField(required=False, max_length=200)}),
        responses=ContactSerializer,
    )
    @action(detail=True, methods=["post"], url_path="opt-out")
    def opt_out(self, request, pk=None):
        contact = self.get_object()
        body = OptOutSerializer(data=request_object(request))
        body.is_valid(raise_exception=True)
        reason = body.validated_data.get("reason", "")[:200]
        services.contacts_opt_out(contacts=Contact.objects.filter(id=contact.id), reason=reason, source="api")
        return Response(self.get_serializer(self.get_queryset().get(id=contact.id)).data)

    @extend_schema(request=None, responses=ContactSerializer)
    @action(detail=True, methods=["post"], url_path="opt-in")
    def opt_in(self, request, pk=None):
        contact = self.get_object()
        services.contacts_opt_in(contacts=Contact.objects.filter(id=contact.id))
        return Response(self.get_serializer(self.get_queryset().get(id=contact.id)).data)


class TagViewSet(TenantModelViewSet):
    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    search_fields = ["name"]
    ordering_fields = ["name", "id"]

    def perform_create(self, serializer):
        organization = self.get_write_organization()
        name = serializer.validated_data["name"].strip()
        if Tag.objects.filter(organization=organization, name=name).exists():
            raise ValidationError({"name": [_("A tag with this name already exists.")]})
        serializer.save(organization=organization, name=name)

    def perform_update(self, serializer):
        name = serializer.validated_data.get("name", serializer.instance.name).strip()
        taken = Tag.objects.filter(organization_id=serializer.instance.organization_id, name=name)
        if taken.exclude(id=serializer.instance.id).exists():
            raise ValidationError({"name": [_("A tag with this name already exists.")]})
        serializer.save(name=name)
