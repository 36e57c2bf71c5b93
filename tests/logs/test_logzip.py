"""The archive the CSV download writes is a standard zip: the standard zipfile module and Info-ZIP's unzip read it,
a member streamed and members copied from temporary files alike, with zip64 fields where sizes need them."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile

import pytest

from provisioning.logzip import ZIP64_LIMIT, Deflater, Spool, ZipStream

TEXTS = {"first.csv": b"a,b\r\n" * 50_000, "second.csv": "zo\u00eb,\u00c5\r\n".encode() * 7, "empty.csv": b""}


def archive_bytes() -> bytes:
    archive = ZipStream()
    pieces = []
    first = Deflater()
    pieces.append(archive.member("first.csv", first))
    data = TEXTS["first.csv"]
    for start in range(0, len(data), 65536):
        pieces.append(first.compress(data[start : start + 65536]))
    pieces += [first.flush(), archive.end_member(first)]
    for name in ("second.csv", "empty.csv"):
        spool = Spool()
        spool.write(TEXTS[name])
        pieces.append(archive.member(name, spool.deflater))
        pieces += list(spool.blocks())
        pieces.append(archive.end_member(spool.deflater))
        spool.close()
    pieces.append(archive.finish())
    return b"".join(pieces)


def test_zipfile_reads_every_member_back():
    with zipfile.ZipFile(io.BytesIO(archive_bytes())) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == list(TEXTS)
        assert {name: archive.read(name) for name in TEXTS} == TEXTS
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in archive.infolist())


@pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP's unzip is not installed")
def test_unzip_tests_the_archive_clean(tmp_path):
    path = tmp_path / "logs.zip"
    path.write_bytes(archive_bytes())
    result = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True, check=False)  # noqa: S603, S607
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No errors detected" in result.stdout


def test_sizes_beyond_the_32_bit_fields_go_to_zip64_fields():
    archive = ZipStream()
    member = Deflater()
    body = [archive.member("big.csv", member), member.flush(), archive.end_member(member)]
    member.size = ZIP64_LIMIT + 10  # as a member of more than 2 GiB would leave it
    with zipfile.ZipFile(io.BytesIO(b"".join([*body, archive.finish()]))) as read:
        assert read.getinfo("big.csv").file_size == ZIP64_LIMIT + 10
