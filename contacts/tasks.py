import logging

from celery import shared_task

from contacts.services import contact_import_run

logger = logging.getLogger(__name__)


@shared_task
def run_contact_import_task(contact_import_id: int) -> None:
    if contact_import_run(contact_import_id=contact_import_id) is None:
        logger.info("run_contact_import_task: import %d is gone or already taken; skipping", contact_import_id)
