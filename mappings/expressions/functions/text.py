"""String functions: Append, CStr, ConvertToBase64, ConvertToUTF8Hex, Guid, InStr, Join, Left, Len, Mid,
NormalizeDiacritics, PCase, RandomString, Redact, StripSpaces, ToLower, ToUpper, Word."""

from __future__ import annotations

import base64
import re
import secrets
import string
import unicodedata
import uuid

from mappings.expressions.constants import VB_CONSTANTS
from mappings.expressions.errors import EvaluationError
from mappings.expressions.functions.registry import function
from mappings.expressions.values import MISSING, Redacted, is_empty, to_int, to_str


@function("Append(source, suffix)", 2)
def append(ctx, source, suffix):
    """source + suffix. Choice: a null source gives null (so `Append([mail], ".uat")` never writes ".uat" alone)."""
    source = to_str(source)
    if source is None:
        return None
    return source + (to_str(suffix) or "")


@function("CStr(value)", 1)
def cstr(ctx, value):
    """Number, reference or boolean as a string; null stays null."""
    return to_str(value)


@function("ConvertToBase64(source)", 1)
def convert_to_base64(ctx, source):
    """Base64 of the UTF-16LE ("Unicode") bytes, as .NET's Encoding.Unicode."""
    text = to_str(source)
    return None if text is None else base64.b64encode(text.encode("utf-16-le")).decode("ascii")


@function("ConvertToUTF8Hex(source)", 1)
def convert_to_utf8_hex(ctx, source):
    """Upper-case hex of the UTF-8 bytes."""
    text = to_str(source)
    return None if text is None else text.encode("utf-8").hex().upper()


@function("Guid()", 0)
def guid(ctx):
    return str(uuid.uuid4())


@function("InStr(value1, value2, [start], [compareType])", 2, 4)
def instr(ctx, value1, value2, start, compare_type):
    """1-based position of value2 in value1, 0 when absent. compareType vbTextCompare (1) ignores case;
    vbBinaryCompare (0), the default, does not; the constants may be written bare or quoted.
    Choice: a null value1 gives null, a null value2 is "" (found at start)."""
    haystack, needle = to_str(value1), to_str(value2) or ""
    if haystack is None:
        return None
    begin = 1 if start is MISSING or start is None else to_int(start, "InStr start")
    if begin < 1:
        raise EvaluationError(f"start must be 1 or more, got {begin}")
    if _compare_mode(compare_type) == VB_CONSTANTS["vbTextCompare"]:
        haystack, needle = haystack.casefold(), needle.casefold()
    return haystack.find(needle, begin - 1) + 1


def _compare_mode(value) -> int:
    """The compareType argument; left out, null or an attribute with no value (an empty multi-valued one
    included) is the default, vbBinaryCompare."""
    text = None if value is MISSING else to_str(value)
    if text is None:
        return VB_CONSTANTS["vbBinaryCompare"]
    text = text.strip()
    if text in VB_CONSTANTS:
        return VB_CONSTANTS[text]
    if text in ("0", "1"):
        return int(text)
    raise EvaluationError(f"compareType must be vbTextCompare or vbBinaryCompare, got {text!r}")


def _values(value):
    if isinstance(value, list | tuple):
        for item in value:
            yield from _values(item)
    elif not is_empty(value):
        yield to_str(value)


@function("Join(separator, source1, source2, ...)", 2, None)
def join(ctx, separator, *sources):
    """Values joined by separator; a multi-valued source gives all its values. Choice (from Microsoft's example
    `Join(", ", "", [surname], [givenName])` = "Doe, John"): null and empty sources are skipped;
    nothing left -> null."""
    parts = [v for source in sources for v in _values(source)]
    return (to_str(separator) or "").join(parts) if parts else None


@function("Left(string, numChars)", 2)
def left(ctx, text, num_chars):
    """First numChars characters: 0 -> "", negative -> the input unchanged, null input -> ""."""
    text = to_str(text)
    count = to_int(num_chars, "Left numChars")
    if text is None:
        return ""
    if count < 0:
        return text
    return text[:count]


@function("Len(string)", 1)
def length(ctx, value):
    """The number of characters of a string or of a number as written (Len(42568.75) = 8); null or "" gives 0."""
    text = to_str(value)
    return len(text) if text else 0


@function("Mid(source, start, length)", 3)
def mid(ctx, source, start, length):
    """`length` characters from the 1-based `start`; running past the end returns up to the end.
    Choice: null source -> null; start below 1 is an error (as in VBA); negative length -> error."""
    text = to_str(source)
    begin, count = to_int(start, "Mid start"), to_int(length, "Mid length")
    if begin < 1:
        raise EvaluationError(f"start must be 1 or more, got {begin}")
    if count < 0:
        raise EvaluationError(f"length must not be negative, got {count}")
    if text is None:
        return None
    return text[begin - 1 : begin - 1 + count]


# Microsoft's published table: plain letter(s) -> the characters NormalizeDiacritics replaces by them, some of them a
# letter followed by combining marks (ā́ is ā + U+0301). Characters outside it are kept as they are.
_DIACRITICS = {
    "a": "ä à â ã å á ą ă ā ā́ ā̀ ā̂ ā̃ ǟ ā̈ ǡ a̱ å̄",
    "A": "Ä À Â Ã Å Á Ą Ă Ā Ā́ Ā̀ Ā̂ Ā̃ Ǟ Ā̈ Ǡ A̱ Å̄",
    "ae": "æ ǣ",
    "AE": "Æ Ǣ",
    "c": "ç č ć c̄ c̱",
    "C": "Ç Č Ć C̄ C̱",
    "d": "ď d̄ ḏ",
    "D": "Ď D̄ Ḏ",
    "e": "ë è é ê ę ě ė ē ḗ ḕ ē̂ ē̃ ê̄ e̱ ë̄ e̊̄",
    "E": "Ë È É Ê Ę Ě Ė Ē Ḗ Ḕ Ē̂ Ē̃ Ê̄ E̱ Ë̄ E̊̄",
    "g": "ğ ḡ g̱",
    "G": "Ğ Ḡ G̱",
    "i": "ï î ì í ı ī ī́ ī̀ ī̂ ī̃ i̱",
    "I": "Ï Î Ì Í İ Ī Ī́ Ī̀ Ī̂ Ī̃ I̱",
    "l": "ľ ł l̄ ḹ ḻ",
    "L": "Ł Ľ L̄ Ḹ Ḻ",
    "n": "ñ ń ň n̄ ṉ",
    "N": "Ñ Ń Ň N̄ Ṉ",
    "o": "ö ò ő õ ô ó ō ṓ ṑ ō̂ ō̃ ȫ ō̈ ǭ ȭ ȱ o̱",
    "O": "Ö Ò Ő Õ Ô Ó Ō Ṓ Ṑ Ō̂ Ō̃ Ȫ Ō̈ Ǭ Ȭ Ȱ O̱",
    "oe": "ø ø̄ œ̄",
    "OE": "Ø Ø̄ Œ̄",
    "r": "ř r̄ ṟ ṝ",
    "R": "Ř R̄ Ṟ Ṝ",
    "ss": "ß",
    "s": "š ś ș ş s̄ s̱",
    "S": "Š Ś Ș Ş S̄ S̱",
    "t": "ť ț t̄ ṯ",
    "T": "Ť Ț T̄ Ṯ",
    "u": "ü ù û ú ů ű ū ū́ ū̀ ū̂ ū̃ u̇̄ ǖ ṻ ṳ̄ u̱",
    "U": "Ü Ù Û Ú Ů Ű Ū Ū́ Ū̀ Ū̂ Ū̃ U̇̄ Ǖ Ṻ Ṳ̄ U̱",
    "y": "ÿ ý ȳ ȳ́ ȳ̀ ȳ̃ y̱",
    "Y": "Ÿ Ý Ȳ Ȳ́ Ȳ̀ Ȳ̃ Y̱",
    "z": "ź ž ż z̄ ẕ",
    "Z": "Ź Ž Ż Z̄ Ẕ",
}
_PLAIN = {
    unicodedata.normalize("NFC", marked): plain for plain, listed in _DIACRITICS.items() for marked in listed.split()
}
# Longest first, so a letter with two marks is replaced whole rather than leaving its second mark behind.
_MARKED = re.compile("|".join(re.escape(m) for m in sorted(_PLAIN, key=len, reverse=True)))


@function("NormalizeDiacritics(source)", 1)
def normalize_diacritics(ctx, source):
    """Accented letters to plain ones by Microsoft's table (ä->a, ā́->a, æ->ae, ø->oe, ß->ss...). The input is first
    NFC-composed so a decomposed "a" + U+0308 is treated as ä."""
    text = to_str(source)
    return None if text is None else _MARKED.sub(lambda m: _PLAIN[m.group(0)], unicodedata.normalize("NFC", text))


def _title(text: str, is_separator) -> str:
    out, start = [], True
    for ch in text:
        if is_separator(ch):
            out.append(ch)
            start = True
        else:
            out.append(ch.upper() if start else ch.lower())
            start = False
    return "".join(out)


@function("PCase(source, [wordSeparators])", 1, 2)
def pcase(ctx, source, word_separators):
    """First letter of each word upper, the rest lower. Without separators, words break where .NET ToTitleCase
    breaks them: at any character that is not a letter, digit, apostrophe or combining mark. Choice: unlike
    ToTitleCase, all-capital words are lowered too ("pHilip K. DICK" -> "Philip K. Dick"), since the point is
    to tidy names typed in capitals."""
    text = to_str(source)
    if text is None:
        return None
    separators = to_str(word_separators) if word_separators is not MISSING else None
    if separators:
        return _title(text, lambda ch: ch in separators)
    return _title(text, lambda ch: not (ch.isalnum() or ch == "'" or unicodedata.category(ch).startswith("M")))


_SPECIAL = "!#$%&()*+,-./:;<=>?@[]^_{|}~"


@function("RandomString(length, minNumbers, minSpecialCharacters, minCapital, minLower, [charactersToAvoid])", 5, 6)
def random_string(ctx, length, min_numbers, min_special, min_capital, min_lower, avoid):
    """A random string with at least the given counts of digits, specials, capitals and lower-case letters;
    at most 256 characters. Drawn with `secrets` (it is used for initial passwords)."""
    size = to_int(length, "RandomString length")
    counts = [to_int(v, "RandomString minimum") for v in (min_numbers, min_special, min_capital, min_lower)]
    if not 1 <= size <= 256:
        raise EvaluationError(f"length must be between 1 and 256, got {size}")
    if any(c < 0 for c in counts) or sum(counts) > size:
        raise EvaluationError(f"the minimum counts ({sum(counts)}) do not fit in length {size}")
    excluded = set(to_str(avoid) or "") if avoid is not MISSING else set()
    pools = [
        [c for c in pool if c not in excluded]
        for pool in (string.digits, _SPECIAL, string.ascii_uppercase, string.ascii_lowercase)
    ]
    if any(count and not pool for count, pool in zip(counts, pools, strict=True)):
        raise EvaluationError("charactersToAvoid leaves no character for a required class")
    everything = [c for pool in pools for c in pool]
    chars = [secrets.choice(pool) for count, pool in zip(counts, pools, strict=True) for _ in range(count)]
    chars += [secrets.choice(everything) for _ in range(size - len(chars))]
    for i in range(len(chars) - 1, 0, -1):
        j = secrets.randbelow(i + 1)
        chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


@function("Redact(attributeOrValue)", 1)
def redact(ctx, value):
    """The value flows unchanged; provisioning logs show "[Redact]" instead."""
    if isinstance(value, list):
        return [Redacted(v) for v in (to_str(item) for item in value) if v is not None]
    text = to_str(value)
    return None if text is None else Redacted(text)


@function("StripSpaces(source)", 1)
def strip_spaces(ctx, source):
    """Removes every space character (U+0020)."""
    text = to_str(source)
    return None if text is None else text.replace(" ", "")


def _case(text, culture, upper: bool):
    text = to_str(text)
    if text is None:
        return None
    lang = (to_str(culture) or "").split("-")[0].lower() if culture is not MISSING else ""
    if lang in ("tr", "az"):  # Turkish dotted and dotless i
        text = text.replace("i", "İ").replace("ı", "I") if upper else text.replace("I", "ı").replace("İ", "i")
    return "".join(_simple_case(ch, upper) for ch in text)


def _simple_case(ch: str, upper: bool) -> str:
    """.NET changes case one character for one character ("straße" -> "STRAßE"); Python's full case mapping
    would lengthen the text ("STRASSE"), so a character whose mapping is longer is kept as it is, except the
    dotted capital I, whose simple lower-case mapping is a plain i."""
    mapped = ch.upper() if upper else ch.lower()
    if len(mapped) == 1:
        return mapped
    return "i" if ch == "İ" else ch


@function("ToLower(source, [culture])", 1, 2)
def to_lower(ctx, source, culture):
    """Lower case; culture (RFC 4646, e.g. "tr-TR") matters only for Turkish/Azeri i; invariant otherwise."""
    return _case(source, culture, upper=False)


@function("ToUpper(source, [culture])", 1, 2)
def to_upper(ctx, source, culture):
    """Upper case; culture as in ToLower."""
    return _case(source, culture, upper=True)


@function("Word(string, wordNumber, delimiters)", 3)
def word(ctx, text, number, delimiters):
    """The wordNumber-th (1-based) word, words split at any delimiter character. Number < 1, null input or
    too few words -> "". Choice: consecutive delimiters count as one (no empty words)."""
    text = to_str(text)
    index = to_int(number, "Word wordNumber")
    seps = to_str(delimiters) or " "
    if text is None or index < 1:
        return ""
    words, current = [], []
    for ch in text:
        if ch in seps:
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        words.append("".join(current))
    return words[index - 1] if index <= len(words) else ""
