"""The files of an export, whether a zip archive or a folder, and the hash of what was read.

Readers name members by their path inside the export ('processes/<uuid>.json'); messages name
them as `export.zip:processes/<uuid>.json` so a user can find the broken one.

A member larger than `MAX_MEMBER_BYTES` uncompressed is refused before it is read (a zip bomb
or a file that is no data set). This is a minimal local bound until the shared input limits
(`io/limits.py`) cover archives.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openpcf.domain.errors import ImportFailure, Location

MAX_MEMBER_BYTES = 256 * 1024 * 1024  # the largest real data set seen is a few MB


class Archive:
    """Read-only access to the members of a zip file or a folder tree."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        if self.path.is_dir():
            self._members = sorted(
                p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file()
            )
        elif self.path.is_file():
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise ImportFailure(
                    f"not a zip archive nor a folder ({exc})", Location(self.path)
                ) from None
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
        try:
            if self._zip is not None:
                size = self._zip.getinfo(member).file_size
            else:
                size = (self.path / member).stat().st_size
            if size > MAX_MEMBER_BYTES:
                raise ImportFailure(f"{size:,} bytes uncompressed, more than the "
                                    f"{MAX_MEMBER_BYTES:,} a data set may have", self.where(member))  # fmt: skip
            if self._zip is not None:
                return self._zip.read(member)
            return (self.path / member).read_bytes()
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise ImportFailure(f"cannot read ({exc})", self.where(member)) from None

    def read_object(self, member: str) -> dict[str, Any]:
        """A member that must hold one JSON object; anything else is an ImportFailure."""
        raw = self.read(member)
        try:
            data = json.loads(raw)
        except RecursionError:
            raise ImportFailure("JSON nested too deeply", self.where(member)) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", None)
            msg = getattr(exc, "msg", None) or str(exc)
            raise ImportFailure(f"invalid JSON: {msg}", self.where(member, line)) from None
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
