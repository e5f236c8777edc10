"""Where the shared reference material lives: `../shared` beside the repository (see its ref/README.md).

It is not copied into the repository (licences differ). A git worktree kept one level further down finds it
one level higher; `ELN_MSC_SHARED` names the folder explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def shared_path(*parts: str) -> Path:
    """A file under the shared folder; a clear error when the folder cannot be found."""
    candidates = [Path(os.environ["ELN_MSC_SHARED"])] if os.environ.get("ELN_MSC_SHARED") else []
    candidates += [ROOT.parent / "shared", ROOT.parent.parent / "shared"]
    for folder in candidates:
        path = folder.joinpath(*parts)
        if path.exists():
            return path
    raise FileNotFoundError(f"{'/'.join(parts)} not found under ../shared beside the repository "
                            f"(looked in {', '.join(str(c) for c in candidates)}); set ELN_MSC_SHARED")
