"""Where the record files are: a local folder, or a URL of any file system pyarrow knows (``s3://``,
``gs://``, ``hdfs://`` — HDFS through the Hadoop client's libhdfs, as on a cluster's edge node). The
driver lists the files, checks their schemas, reads their footers and fingerprints them through
``pyarrow.fs``; the engine reads them by their URI (Spark reads any Hadoop file system; DuckDB reads
local files)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.fs as pafs

from ..errors import DataError


@dataclass(frozen=True)
class RecordFile:
    rel: str  # path below the input root, with '/'
    path: str  # path on the file system
    uri: str  # what an engine reads

    @property
    def suffix(self) -> str:
        return self.rel[self.rel.rfind("."):] if "." in self.rel.rsplit("/", 1)[-1] else ""

    @property
    def parts(self) -> list[str]:
        return self.rel.split("/")


@dataclass(frozen=True)
class Inputs:
    location: str
    fs: pafs.FileSystem
    root: str
    remote: bool

    def files(self, sub: str) -> list[RecordFile] | None:
        """Every file below ``root/sub``, sorted; ``None`` when there is no such folder."""
        base = f"{self.root.rstrip('/')}/{sub}"
        if self.fs.get_file_info(base).type != pafs.FileType.Directory:
            return None
        infos = self.fs.get_file_info(pafs.FileSelector(base, recursive=True))
        out = []
        for info in infos:
            if info.type != pafs.FileType.File:
                continue
            rel = info.path[len(self.root.rstrip("/")) + 1:]
            uri = info.path if not self.remote else f"{self.location.rstrip('/')}/{rel}"
            out.append(RecordFile(rel, info.path, uri))
        return sorted(out, key=lambda f: f.rel)

    def open(self, f: RecordFile) -> IO[bytes]:
        """Random access (Parquet footers)."""
        return self.fs.open_input_file(f.path)

    def stream(self, f: RecordFile) -> IO[bytes]:
        return self.fs.open_input_stream(f.path)

    def size(self, f: RecordFile) -> int:
        return self.fs.get_file_info(f.path).size


def is_remote(location: str | Path) -> bool:
    """A URL other than ``file://``."""
    text = str(location)
    return "://" in text and not text.startswith("file://")


def open_inputs(location: str | Path) -> Inputs:
    """The file system and root of ``location`` (a folder, or a URL); a missing folder is an error."""
    text = str(location)
    if is_remote(text):
        try:
            fs, root = pafs.FileSystem.from_uri(text)
        except (pa.ArrowException, ValueError, OSError) as exc:
            raise DataError(f"cannot open {text}: {exc}", rule="file.missing", file=text) from None
        inputs = Inputs(text, fs, root, remote=True)
    else:
        local = Path(text.removeprefix("file://")).resolve()
        inputs = Inputs(str(local), pafs.LocalFileSystem(), str(local), remote=False)
    if inputs.fs.get_file_info(inputs.root).type != pafs.FileType.Directory:
        raise DataError(f"no such folder: {text}", rule="file.missing", file=text)
    return inputs
