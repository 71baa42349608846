"""A flow message's choice step over the API: `GET|PUT|DELETE /flow-messages/<id>/choice`.

PUT replaces the step (its options and settings) with the body; the rules are those of
the admin and of import (`flows.choice_design`), and a refusal names its path, e.g.
`options[1].label`. DELETE turns the message back into a plain message.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.queries import organization_roles
from flows.api.design import SubflowField
from flows.choice_design import choice_document, choice_problems, normalized, remove_choice, write_choice
from flows.models import FlowMessage, Subflow
from flows.models.choices import MAX_OPTIONS, MAX_REPROMPTS


class ChoiceOptionSerializer(serializers.Serializer):
    key = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="Stable id; from the label when empty"
    )
    label = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, max_length=72, default="")
    goto = SubflowField(
        queryset=Subflow.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="The subflow this option leads to; null goes on in order",
    )


class ChoiceSerializer(serializers.Serializer):
    options = ChoiceOptionSerializer(many=True, max_length=MAX_OPTIONS)
    other = SubflowField(
        queryset=Subflow.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Where an unmatched reply goes after the re-prompts; null goes on in order",
    )
    max_reprompts = serializers.IntegerField(min_value=0, max_value=MAX_REPROMPTS, default=2)
    reprompt_text = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    list_button = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")

    def to_representation(self, document):
        return {
            **document,
            "options": [{**o, "goto": o["goto"].id if o["goto"] else None} for o in document["options"]],
            "other": document["other"].id if document["other"] else None,
        }


class FlowMessageChoiceView(APIView):
    def get_message(self, request, pk) -> FlowMessage:
        message = get_object_or_404(
            FlowMessage.objects.select_related("subflow__flow__template"),
            id=pk,
            subflow__flow__template__organization__in=list(organization_roles(request)),
        )
        self.check_object_permissions(request, message)
        return message

    @extend_schema(responses=ChoiceSerializer)
    def get(self, request, pk):
        document = choice_document(self.get_message(request, pk))
        if document is None:
            raise NotFound("This message has no options.")
        return Response(ChoiceSerializer(document).data)

    @extend_schema(request=ChoiceSerializer, responses=ChoiceSerializer)
    def put(self, request, pk):
        message = self.get_message(request, pk)
        serializer = ChoiceSerializer(data=request.data, context={"request": request, **self._context(request)})
        serializer.is_valid(raise_exception=True)
        document = normalized(serializer.validated_data)
        if problems := choice_problems(message, document):
            raise ValidationError({path: [problem] for path, problem in problems.items()})
        write_choice(message, document)
        return Response(ChoiceSerializer(choice_document(message)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        remove_choice(self.get_message(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _context(self, request) -> dict:
        return {"organization_ids": list(organization_roles(request))}
