import pytest

from mappings.expressions import EvaluationError

from .helpers import ev


def test_now_is_utc_in_entras_default_format():
    assert ev("Now()") == "3/5/2024 2:07:09 PM"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-01-15T10:30:00Z", "1/15/2024 10:30:00 AM"),
        ("2024-01-15T10:30:00-08:00", "1/15/2024 6:30:00 PM"),
        ("2024-01-15", "1/15/2024 12:00:00 AM"),
        ("1/15/2024 6:30:00 PM", "1/15/2024 6:30:00 PM"),
        ("20150123105347.0Z", "1/23/2015 10:53:47 AM"),
        ("2021-06-30+08:00", "6/29/2021 4:00:00 PM"),
        ("2020-03-16-07:00", "3/16/2020 7:00:00 AM"),
        ("2020-03-16+0530", "3/15/2020 6:30:00 PM"),
        ("2020-03-16Z", "3/16/2020 12:00:00 AM"),
        ("2024-01-15T00:00:00.1234567Z", "1/15/2024 12:00:00 AM"),
    ],
)
def test_cdate_reads_the_usual_date_strings(value, expected):
    assert ev("CDate([d])", d=value) == expected


def test_cdate_refuses_what_is_not_a_date():
    with pytest.raises(EvaluationError, match="is not a date"):
        ev('CDate("tomorrow")')
    assert ev("CDate([d])") is None


@pytest.mark.parametrize(
    "interval, value, expected",
    [
        ("yyyy", 1, "2/29/2025 12:00:00 AM".replace("2/29", "2/28")),
        ("m", 1, "3/29/2024 12:00:00 AM"),
        ("m", -1, "1/29/2024 12:00:00 AM"),
        ("d", 7, "3/7/2024 12:00:00 AM"),
        ("d", -30, "1/30/2024 12:00:00 AM"),
        ("ww", 2, "3/14/2024 12:00:00 AM"),
        ("h", 25, "3/1/2024 1:00:00 AM"),
        ("n", 90, "2/29/2024 1:30:00 AM"),
        ("s", 61, "2/29/2024 12:01:01 AM"),
        ("q", 1, "5/29/2024 12:00:00 AM"),
    ],
)
def test_date_add_intervals(interval, value, expected):
    assert ev(f'DateAdd("{interval}", {value}, CDate("2024-02-29"))') == expected


def test_date_add_clamps_to_the_end_of_the_month_and_rejects_unknown_intervals():
    assert ev('DateAdd("m", 1, "2024-01-31")') == "2/29/2024 12:00:00 AM"
    with pytest.raises(EvaluationError, match="interval must be one of"):
        ev('DateAdd("x", 1, "2024-01-31")')


def test_a_positive_utc_offset_is_an_offset_in_every_date_function():
    assert ev('DateAdd("d", 1, "2021-06-30+08:00")') == "6/30/2021 4:00:00 PM"
    assert ev('NumFromDate("2021-06-30+08:00")') == ev('NumFromDate("2021-06-29T16:00:00Z")')
    assert ev('DateDiff("h", "2021-06-30+08:00", "2021-06-30Z")') == "8"
    assert ev('FormatDateTime("2021-06-30+08:00", , "yyyy-MM-ddzzz", "yyyy-MM-dd HH:mm")') == "2021-06-29 16:00"


@pytest.mark.parametrize(
    "interval, expected",
    [("yyyy", 1), ("m", 13), ("d", 397), ("ww", 57), ("h", 9528), ("n", 571680), ("s", 34300800), ("q", 4)],
)
def test_date_diff_is_positive_when_the_second_date_is_later(interval, expected):
    assert ev(f'DateDiff("{interval}", "2023-01-10", "2024-02-11")') == str(expected)
    assert ev(f'DateDiff("{interval}", "2024-02-11", "2023-01-10")') == str(-expected)


@pytest.mark.parametrize(
    "interval, date1, date2, expected",
    [
        ("yyyy", "2023-12-31T23:59:59Z", "2024-01-01T00:00:00Z", 1),
        ("q", "2024-03-31T23:00:00Z", "2024-04-01T00:00:00Z", 1),
        ("m", "2024-01-31T23:59:00Z", "2024-02-01T00:00:00Z", 1),
        ("d", "2024-01-01T23:59:00Z", "2024-01-02T00:01:00Z", 1),
        ("y", "2024-01-01T23:59:00Z", "2024-01-02T00:01:00Z", 1),
        ("d", "2024-01-02T00:01:00Z", "2024-01-01T23:59:00Z", -1),
        ("w", "2024-03-04", "2024-03-11", 1),  # Monday to the next Monday
        ("w", "2024-03-04", "2024-03-10", 0),
        ("w", "2024-03-11", "2024-03-04", -1),
        ("ww", "2024-03-09", "2024-03-10", 1),  # Saturday to Sunday: one Sunday passed
        ("ww", "2024-03-10", "2024-03-16", 0),  # from a Sunday: date1 is not counted
        ("ww", "2024-03-10", "2024-03-17", 1),
        ("ww", "2024-03-17", "2024-03-09", -2),
        ("h", "2024-03-04T10:59:00Z", "2024-03-04T11:01:00Z", 1),
        ("h", "2024-03-04T11:01:00Z", "2024-03-04T10:59:00Z", -1),
        ("n", "2024-03-04T10:00:59Z", "2024-03-04T10:01:00Z", 1),
        ("s", "2024-03-04T10:00:00.9Z", "2024-03-04T10:00:01.1Z", 1),
    ],
)
def test_date_diff_counts_interval_boundaries_like_vbscript(interval, date1, date2, expected):
    assert ev(f'DateDiff("{interval}", "{date1}", "{date2}")') == str(expected)


def test_date_diff_with_a_null_date_is_null():
    assert ev('DateDiff("d", [hire], "2024-01-01")') is None


def test_date_from_num_and_num_from_date_documented_example():
    assert ev("NumFromDate([d])", d="2012-01-01T23:00:00Z") == "129699324000000000"
    assert ev("DateFromNum(129699324000000000)") == "1/1/2012 11:00:00 PM"
    assert ev('NumFromDate("2012-01-01T15:00:00-08:00")') == "129699324000000000"


def test_date_from_num_treats_never_as_null():
    assert ev("DateFromNum([accountExpires])", accountExpires="9223372036854775807") is None
    assert ev("DateFromNum([lastLogonTimestamp])", lastLogonTimestamp="0") is None


def test_format_date_time_documented_example():
    text = 'FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")'
    assert ev(text, extensionAttribute1="20150123105347.1Z") == "2015-01-23"


def test_format_date_time_of_now_and_the_three_argument_form():
    assert ev('FormatDateTime(Now(), , "M/d/yyyy h:mm:ss tt", "yyyy-MM-ddTHH:mm:ss")') == "2024-03-05T14:07:09"
    assert ev('FormatDateTime("2024-03-05", "yyyy-MM-dd", "dd/MM/yy")') == "05/03/24"


@pytest.mark.parametrize(
    "fmt, expected",
    [
        ("yyyy-MM-dd HH:mm:ss", "2024-03-05 14:07:09"),
        ("yy M d H m s", "24 3 5 14 7 9"),
        ("hh:mm tt", "02:07 PM"),
        ("h'h'mm", "2h07"),
        ("dddd, d MMMM yyyy", "Tuesday, 5 March 2024"),
        ("ddd MMM", "Tue Mar"),
        ("HH:mm:ss.fff zzz", "14:07:09.000 +00:00"),
        (r"yyyy\-MM\-dd\T", "2024-03-05T"),
        ("'yyyy' yyyy", "yyyy 2024"),
        ("yyyy-MM-ddTHH:mm:ssK", "2024-03-05T14:07:09Z"),
        ("o", "2024-03-05T14:07:09.0000000Z"),
    ],
)
def test_format_date_time_output_specifiers(fmt, expected):
    assert ev(f'FormatDateTime("20240305140709.0Z", , "yyyyMMddHHmmss.fZ", "{fmt}")') == expected


@pytest.mark.parametrize(
    "value, fmt",
    [
        ("3/5/2024 2:07:09 PM", "M/d/yyyy h:mm:ss tt"),
        ("05.03.24 14:07", "dd.MM.yy HH:mm"),
        ("2024-03-05T16:07:09+02:00", "yyyy-MM-ddTHH:mm:sszzz"),
        ("  2024-03-05 14:07  ", "yyyy-MM-dd HH:mm"),
        ("Mar 5 2024 14:07", "MMM d yyyy HH:mm"),
    ],
)
def test_format_date_time_input_formats(value, fmt):
    assert ev(f'FormatDateTime([d], , "{fmt}", "yyyy-MM-dd HH:mm")', d=value) == "2024-03-05 14:07"


def test_format_date_time_input_that_does_not_match_is_a_per_user_error():
    with pytest.raises(EvaluationError, match="does not match the date format"):
        ev('FormatDateTime("2024/03/05", , "yyyy-MM-dd", "yyyy")')
    assert ev('FormatDateTime([d], , "yyyy-MM-dd", "yyyy")') is None
