"""The files of an export, whether a zip archive or a folder, and the hash of what was read.

Readers name members by their path inside the export ('processes/<uuid>.json'); messages name
them as `export.zip:processes/<uuid>.json` so a user can find the broken one. A zip is opened
through io/limits.py (member count, names, sizes, compression ratio checked before anything is
read) and each member is read with a cap, whatever its directory entry claims.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openpcf.domain.errors import ImportFailure, Location
from openpcf.io import limits


class Archive:
    """Read-only access to the members of a zip file or a folder tree."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        if self.path.is_dir():
            self._members = sorted(
                p.relative_to(self.path).as_posix()
                for p in self.path.rglob("*")
                if p.is_file() and not p.is_symlink()  # a link may point outside the folder
            )
            if len(self._members) > limits.ZIP_MEMBERS.value:
                raise limits.exceeded(limits.ZIP_MEMBERS, f"{len(self._members)} files",
                                      Location(self.path), ImportFailure)  # fmt: skip
        elif self.path.is_file():
            if not zipfile.is_zipfile(self.path):
                raise ImportFailure("not a zip archive nor a folder", Location(self.path))
            self._zip = limits.open_zip(self.path, Location(self.path), ImportFailure)
            self._members = sorted(i.filename for i in self._zip.infolist() if not i.is_dir())
        else:
            raise ImportFailure("no such file or folder", Location(self.path))

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *_: object) -> None:
        if self._zip is not None:
            self._zip.close()

    @property
    def members(self) -> list[str]:
        return self._members

    def under(self, folder: str, suffix: str) -> list[str]:
        """Members directly in `folder` (any depth when folder is '') ending with `suffix`."""
        out = []
        for name in self._members:
            parts = name.split("/")
            in_folder = not folder or (len(parts) >= 2 and parts[-2] == folder)
            if in_folder and name.lower().endswith(suffix):
                out.append(name)
        return out

    def read(self, member: str) -> bytes:
        """A member's bytes, at most limits.MEMBER_BYTES."""
        limits.check_time(self.where(member), ImportFailure)
        if self._zip is not None:
            return limits.read_member(self._zip, member, self.where(member), ImportFailure)
        try:
            path = self.path / member
            limits.check_size(path.stat().st_size, limits.MEMBER_BYTES, self.where(member),
                              ImportFailure)  # fmt: skip
            return path.read_bytes()
        except OSError as exc:
            raise ImportFailure(f"cannot read ({exc})", self.where(member)) from None

    def read_object(self, member: str) -> dict[str, Any]:
        """A member that must hold one JSON object (bounded as io/limits.py says)."""
        data = limits.load_json(self.read(member), self.where(member), ImportFailure,
                                limits.MEMBER_BYTES, None)  # fmt: skip
        if not isinstance(data, dict):
            raise ImportFailure("expected a JSON object", self.where(member))
        return data

    def where(self, member: str, line: int | None = None) -> Location:
        return Location(f"{self.path}:{member}", line)

    def digest(self) -> str:
        """sha256 of the export: the zip's bytes, or every file's path and bytes in order."""
        h = hashlib.sha256()
        if self._zip is not None:
            with self.path.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            return h.hexdigest()
        for member in self._members:
            h.update(member.encode() + b"\0" + (self.path / member).read_bytes() + b"\0")
        return h.hexdigest()

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)
