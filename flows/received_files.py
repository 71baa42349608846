"""Files contacts send: each is downloaded into media storage after the burst that accepted it.

The URL comes in a webhook payload, so the download goes through the guarded session
(`instances.http`), which refuses metadata and private addresses; a file over
FLOWS_MAX_FILE_BYTES, or one that cannot be fetched, keeps only its URL.
"""

import logging

import requests
from django.conf import settings
from django.core.files.base import ContentFile

from core.http_guard import ForbiddenAddress
from flows.models import ReceivedFile
from instances.http import get_session

logger = logging.getLogger(__name__)

_DOWNLOAD_CHUNK = 64 * 1024


def store_received_file(*, received_file_id: int) -> ReceivedFile | None:
    """Download a received file into media storage, up to FLOWS_MAX_FILE_BYTES; else keep its URL."""
    received = ReceivedFile.objects.filter(id=received_file_id, processed=False).first()
    if received is None:
        return None
    if settings.FLOWS_DOWNLOAD_FILES and received.media_url:
        try:
            content = _download(received.media_url, limit=settings.FLOWS_MAX_FILE_BYTES)
        except (requests.RequestException, ValueError, ForbiddenAddress) as exc:
            logger.warning("received file %s not downloaded, URL kept: %s", received.id, exc)
        else:
            received.file.save(received.original_name or f"file-{received.id}", ContentFile(content), save=False)
            received.size = len(content)
    received.processed = True
    received.save(update_fields=["file", "size", "processed"])
    return received


def _download(url: str, *, limit: int) -> bytes:
    # The URL comes in a webhook payload: the guarded session refuses metadata and private addresses.
    with get_session().get(url, stream=True, timeout=(5, 30)) as response:
        response.raise_for_status()
        declared = int(response.headers.get("Content-Length") or 0)
        if declared > limit:
            raise ValueError(f"file of {declared} bytes is over the {limit}-byte limit")
        chunks, size = [], 0
        for chunk in response.iter_content(_DOWNLOAD_CHUNK):
            size += len(chunk)
            if size > limit:
                raise ValueError(f"file is over the {limit}-byte limit")
            chunks.append(chunk)
    return b"".join(chunks)
