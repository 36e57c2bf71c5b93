"""The VB constants an expression may write as bare words, with their values (VBScript's)."""

from __future__ import annotations

# InStr's compareType: vbBinaryCompare compares ordinally, vbTextCompare ignores case.
VB_CONSTANTS: dict[str, int] = {"vbBinaryCompare": 0, "vbTextCompare": 1}
