import pytest

from s2t_explain.alignment.subtitles import format_time, parse_cues, parse_time, to_srt, to_vtt
from s2t_explain.alignment.timestamps import Word
from s2t_explain.errors import ResultError

WORDS = [Word(" The", 0.0, 0.24, 0.9), Word(" lighthouse", 0.24, 0.8, 0.8), Word(" keeper.", 0.8, 3725.4567, 0.7)]


def test_time_formats():
    assert format_time(3725.4567) == "01:02:05,457"
    assert format_time(0.0, ".") == "00:00:00.000"
    assert parse_time("01:02:05,457") == pytest.approx(3725.457)
    assert parse_time("02:05.250") == pytest.approx(125.25)  # VTT without hours
    with pytest.raises(ResultError):
        parse_time("1:2:3")


@pytest.mark.parametrize("write", [to_srt, to_vtt])
def test_round_trip(write):
    cues = parse_cues(write(WORDS))
    assert [c[2] for c in cues] == ["The", "lighthouse", "keeper."]
    for (start, end, _), word in zip(cues, WORDS):
        assert start == pytest.approx(word.start, abs=5e-4) and end == pytest.approx(word.end, abs=5e-4)


def test_srt_layout_and_vtt_header():
    assert to_srt(WORDS).splitlines()[:3] == ["1", "00:00:00,000 --> 00:00:00,240", "The"]
    vtt = to_vtt(WORDS)
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:00.240\nThe\n")
    assert parse_cues("WEBVTT\n\nNOTE made by hand\n\nid1\n00:01.000 --> 00:02.500 align:start\nhello\n") == [
        (1.0, 2.5, "hello")]
