from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from flows.models.conversations import Conversation
from flows.models.design import FlowMessage


def received_file_path(instance: "ReceivedFile", filename: str) -> str:
    return f"received/{instance.organization_id}/{instance.contact_id}/{filename}"


class ReceivedFile(TenantModel):
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="files",
        verbose_name=_("conversation"),
    )
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="received_files", verbose_name=_("contact")
    )
    flow_message = models.ForeignKey(
        FlowMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("requested by")
    )
    original_name = models.CharField(_("original name"), max_length=255, blank=True)
    file = models.FileField(_("stored file"), upload_to=received_file_path, max_length=500, blank=True)
    file_type = models.CharField(_("type"), max_length=100, blank=True, help_text=_("MIME type, e.g. application/pdf"))
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    media_url = models.URLField(_("media URL"), max_length=1000, blank=True)
    processed = models.BooleanField(_("processed"), default=False)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("received file")
        verbose_name_plural = _("received files")
        ordering = ["-id"]

    def __str__(self):
        return self.original_name or self.media_url
