"""Native CRC32C for the records of one event file, without patching TensorBoard.

TensorBoard's `RecordWriter` (used by torch's SummaryWriter) computes record
checksums in pure Python, about 0.4 s per MiB: for the megabytes of a
ChannelExplorer step that is most of the write time, spent holding the GIL.
`use_native_crc` gives one SummaryWriter's record writer a ``write`` that
uses the C CRC32C of ``google-crc32c``: the same masked CRC, so the file is
byte-identical. Only that writer object changes; TensorBoard's modules and
every other SummaryWriter in the process keep the pure-Python function.
"""

from __future__ import annotations

import struct
import types

__all__ = ["masked_crc32c", "native_crc_available", "use_native_crc"]

try:
    import google_crc32c
except ImportError:  # pragma: no cover - google-crc32c is a dependency
    google_crc32c = None


def native_crc_available() -> bool:
    """True when the C implementation of ``google-crc32c`` is importable."""
    return google_crc32c is not None and getattr(google_crc32c, "implementation", "") == "c"


def masked_crc32c(data: bytes) -> int:
    """TensorBoard's masked CRC32C of ``data``, computed natively."""
    x = google_crc32c.value(bytes(data))
    return (((x >> 15) | (x << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _native_write(self, data):
    # The body of tensorboard's RecordWriter.write with the native CRC.
    header = struct.pack("<Q", len(data))
    self._writer.write(header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data)))


def use_native_crc(summary_writer) -> bool:
    """Makes the record writer behind ``summary_writer``'s event file use the native CRC.

    Safe to call before every write: the SummaryWriter may reopen its file
    writer after ``close``, and the new record writer is then switched too.

    Args:
        summary_writer: A `torch.utils.tensorboard.SummaryWriter`.

    Returns:
        True if its record writer now uses the native CRC; False when
        ``google-crc32c`` has no C implementation here or the writer is not
        laid out as in the TensorBoard versions this package supports (the
        records are then written by TensorBoard's own code, just slower).
    """
    if not native_crc_available():
        return False
    from tensorboard.summary.writer.record_writer import RecordWriter

    try:
        record_writer = summary_writer._get_file_writer().event_writer._async_writer._writer
    except AttributeError:
        return False
    if type(record_writer) is not RecordWriter or not hasattr(record_writer, "_writer"):
        return False
    if getattr(record_writer.write, "__func__", None) is not _native_write:
        # An instance attribute: only this object's method changes, and the
        # writer thread picks it up on its next record (both versions write
        # the same bytes, so the switch needs no lock).
        record_writer.write = types.MethodType(_native_write, record_writer)
    return True
