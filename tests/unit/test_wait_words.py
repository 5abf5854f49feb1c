"""How long to wait, in the words of a rate-limit message ("Try again in {wait}."), and counts
with their nouns ("1 seat", "2 seats")."""
import pytest

from app.ratelimits import wait_words


@pytest.mark.parametrize(("seconds", "words"), [
    (1, "1 second"), (2, "2 seconds"), (119, "119 seconds"),
    (120, "2 minutes"), (121, "3 minutes"), (7199, "120 minutes"),
    (7200, "2 hours"), (86400, "24 hours"),
])
def test_the_wait_reads_as_english(seconds, words):
    assert wait_words(seconds) == words


@pytest.mark.parametrize(("n", "word", "words"), [
    (0, "seat", "0 seats"), (1, "seat", "1 seat"), (2, "webhook event", "2 webhook events"),
])
def test_a_count_and_its_noun(n, word, words):
    from app.text import counted

    assert counted(n, word) == words
