"""A journal rolled into segments: one hash chain across several files.

The base file ``<name>.jsonl`` holds the chain from seq 1; each later segment
``<name>.seg-<first seq, 12 digits>.jsonl`` continues it from the record after the previous file's
last. The newest file is the one appended to. Older segments can be compressed or moved away once
nothing needs them: opening a store reads only from its checkpoint, and a full pass (verify-log) over
a journal whose first files were moved verifies the chain from the first file still present.
"""

from __future__ import annotations

import re
from pathlib import Path

_SEGMENT = re.compile(r"\.seg-(\d{12})\.jsonl$")


def segment_path(base: Path, first_seq: int) -> Path:
    """The file a segment starting at ``first_seq`` is written to."""
    return base.with_name(f"{base.stem}.seg-{first_seq:012d}.jsonl")


def journal_files(base: Path) -> list[tuple[Path, int]]:
    """Every file of the journal with the seq its first record has, oldest first (the base file, if
    present, first); [(base, 1)] when there is none yet."""
    files = [(base, 1)] if base.exists() else []
    later = []
    for path in base.parent.glob(f"{base.stem}.seg-*.jsonl"):
        found = _SEGMENT.search(path.name)
        if found is not None and path.name == segment_path(base, int(found.group(1))).name:
            later.append((path, int(found.group(1))))
    files += sorted(later, key=lambda pair: pair[1])
    return files or [(base, 1)]
