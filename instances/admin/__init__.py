"""The admin of WhatsApp numbers, by sub-domain: the numbers (`numbers`), their forms and filters, the sandbox."""

from instances.admin import numbers, sandbox  # noqa: F401  (registers the admins)
