"""Salesforce-shaped record ids and times of the emulators: the case checksum, the counter behind each prefix and
the SystemModstamp of a record written now."""

import string
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from emulators.ids import IdFactory, sf18, to_id15
from emulators.salesforce.state import now_iso


def checksum(id15: str) -> str:
    """The 3-character suffix as Salesforce describes it: per block of 5 characters, bit i set when character i is an
    upper-case letter, the 5 bits naming a character of A-Z0-5."""
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(2**i for i, c in enumerate(id15[start : start + 5]) if c in string.ascii_uppercase)
        suffix += (string.ascii_uppercase + "012345")[bits]
    return suffix


@given(st.text(alphabet=string.ascii_letters + string.digits + "é_", min_size=15, max_size=15))
def test_the_checksum_marks_the_upper_case_letters_of_each_block(id15):
    assert sf18(id15) == id15 + checksum(id15)
    assert to_id15(sf18(id15)) == id15


def test_a_wrong_checksum_is_not_an_id():
    good = sf18("0055g0000000AbC")
    assert to_id15(good) == "0055g0000000AbC"
    assert to_id15(good[:15] + "AAA") is None


def test_ids_count_up_in_base_62_for_each_prefix():
    factory = IdFactory()
    assert factory.next("0Pa")[:15] == "0Pa5g0000000001"
    assert factory.next("0Pa")[:15] == "0Pa5g0000000002"
    assert factory.next("011")[:15] == "0115g0000000001"  # each prefix has its own counter
    expected = {61: "00000000z", 62: "000000010", 3843: "0000000zz", 3844: "000000100", 62**9 - 1: "zzzzzzzzz"}
    for counter, digits in expected.items():
        factory.counters["0Pa"] = counter - 1
        made = factory.next("0Pa")
        assert made == sf18("0Pa5g0" + digits)
        assert made[6:15] == digits


def test_record_stamps_are_the_current_second():
    def formatted():
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    for _ in range(2000):  # across a change of second now and then
        before = formatted()
        stamp = now_iso()
        assert before <= stamp <= formatted()
