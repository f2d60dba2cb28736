"""Publishers' archives fetched with tonic's download helpers, where the licence allows and a network is there.

Without a network (or with a moved file) the attempt ends in one line on stderr; the caller then
checks the folder and reports what is missing and where to get it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .cache import note

# one entry per archive: (url, file name, md5, archives inside it to extract as well)
Entries = Callable[[], list[tuple[str, str, str, list[str]]]]


def download(root: Path, title: str, entries: Entries) -> bool:
    """Download, verify and extract every archive of ``entries()`` into ``root``; False if that fails."""
    try:
        from tonic.download_utils import download_and_extract_archive, extract_archive

        for url, filename, md5, inner in entries():
            download_and_extract_archive(url, str(root), filename=filename, md5=md5)
            for name in inner:
                extract_archive(str(Path(root) / name), str(root))
        return True
    except Exception as e:  # no network, blocked host, moved or changed file ...
        note(f"could not download {title} ({type(e).__name__}: {e})")
        return False
