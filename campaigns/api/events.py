"""`POST /api/v1/events`: a business event that starts the campaigns subscribed to it, for one contact."""

from rest_framework import generics, serializers, status
from rest_framework.response import Response

from accounts.tenancy import TenantScopedMixin
from campaigns.models import InboundEvent
from campaigns.schedules.triggers import EVENT_NAME
from campaigns.services.events import receive_event

MAX_DATA_KEYS = 50
MAX_VALUE_LENGTH = 1000


def _check_text(value: str, path: str) -> None:
    if "\x00" in value:
        raise serializers.ValidationError({path: ["Must not contain NUL characters."]})
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise serializers.ValidationError({path: ["Must not contain lone surrogates."]})


class EventContactSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32, help_text="e.g. +5511999999999")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EventSerializer(serializers.Serializer):
    event = serializers.CharField(max_length=100, help_text="e.g. payment.overdue")
    contact = EventContactSerializer()
    data = serializers.DictField(required=False, default=dict, help_text='e.g. {"amount": "R$ 120,00"}')
    organization = serializers.IntegerField(required=False)

    def validate_event(self, value):
        if not EVENT_NAME.fullmatch(value):
            raise serializers.ValidationError("Letters, digits and . _ : - only, e.g. payment.overdue.")
        return value

    def validate(self, attrs):
        data = attrs.get("data") or {}
        if len(data) > MAX_DATA_KEYS:
            raise serializers.ValidationError({"data": [f"At most {MAX_DATA_KEYS} keys."]})
        for key, value in data.items():
            path = f"data.{key}"
            if not EVENT_NAME.fullmatch(str(key)):
                raise serializers.ValidationError({path: ["Keys are letters, digits and . _ : - only."]})
            if value is not None and not isinstance(value, str | int | float | bool):
                raise serializers.ValidationError({path: ["Must be a text, a number, true/false or null."]})
            if isinstance(value, str):
                if len(value) > MAX_VALUE_LENGTH:
                    raise serializers.ValidationError({path: [f"At most {MAX_VALUE_LENGTH} characters."]})
                _check_text(value, path)
        _check_text(attrs["contact"]["name"], "contact.name")
        return attrs


class EventView(TenantScopedMixin, generics.GenericAPIView):
    queryset = InboundEvent.objects.all()
    serializer_class = EventSerializer

    def post(self, request):
        body = EventSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 200:
            return Response({"Idempotency-Key": ["At most 200 characters."]}, status=status.HTTP_400_BAD_REQUEST)
        row, replayed = receive_event(
            organization=self.get_write_organization(),
            event=body.validated_data["event"],
            phone=body.validated_data["contact"]["phone"],
            name=body.validated_data["contact"]["name"],
            data=body.validated_data["data"],
            idempotency_key=key,
        )
        answer = {"id": row.id, "event": row.event, **row.result}
        response = Response(answer, status=status.HTTP_202_ACCEPTED)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response
