"""The app's files on disk, bounded by count and by size (not only by age): the GIFs it writes, and the
uploads gradio keeps for it."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("demo")

UPLOADS_KEEP = 200  # files
UPLOADS_BYTES = 512 * 1024 * 1024


def prune(directory: str | Path, keep: int, max_bytes: int, pattern: str = "*") -> int:
    """Delete the oldest files matching ``pattern`` under ``directory`` (recursively) until at most ``keep``
    remain, holding at most ``max_bytes`` together; empty folders left behind go too. Returns the number
    of files deleted."""
    directory = Path(directory)
    files = []
    for p in directory.rglob(pattern):
        try:
            if p.is_file():
                st = p.stat()
                files.append((st.st_mtime, st.st_size, p))
        except OSError:  # deleted meanwhile
            pass
    files.sort(key=lambda f: f[0], reverse=True)  # newest first: kept first
    total, deleted = 0, 0
    for n, (_, size, p) in enumerate(files):
        total += size
        if n < keep and total <= max_bytes:
            continue
        try:
            p.unlink()
            deleted += 1
            if p.parent != directory and not any(p.parent.iterdir()):
                p.parent.rmdir()
        except OSError:
            pass
    if deleted:
        log.info("pruned %d files in %s (bound: %d files, %d MB)", deleted, directory, keep, max_bytes >> 20)
    return deleted


def prune_uploads() -> int:
    """gradio's upload folder (the app's own: app.py sets GRADIO_TEMP_DIR), bounded."""
    from gradio.utils import get_upload_folder

    return prune(get_upload_folder(), UPLOADS_KEEP, UPLOADS_BYTES)
