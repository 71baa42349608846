"""The admin of WhatsApp numbers, by sub-domain.

The numbers (`numbers`), their forms and filters, the sandbox, the Cloud API's message templates.
"""

from instances.admin import numbers, sandbox, templates  # noqa: F401  (registers the admins)
