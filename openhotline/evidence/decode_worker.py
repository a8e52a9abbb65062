"""The media decoding worker's side (see decoding.py). Imports nothing from Django at
module level: the worker loads this module to find `serve` before Django is set up."""

import os
import resource
from multiprocessing.connection import Connection


def serve(conn: Connection, memory_mb: int) -> None:
    """Set up once, cap the address space, then answer jobs until the pipe closes."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openhotline.settings")
    django.setup()
    from django.conf import settings  # after django.setup(), in this process

    # local import: this process sets Django up first (it starts from a bare interpreter).
    from openhotline.evidence import media

    if memory_mb:
        # After the imports: they map libraries, the decoders' allocations are what we cap.
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    conn.send("ready")
    while True:
        try:
            job = conn.recv()
            data = conn.recv_bytes()
        except EOFError:
            return
        for name, value in job["settings"].items():
            setattr(settings, name, value)
        conn.send(media.examine(data, hashes=job["hashes"], preview=job["preview"]))
