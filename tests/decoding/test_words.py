from s2t_explain.decoding.words import group_words, is_punctuation


def words(labels, **kw):
    return [(w.text, w.tokens) for w in group_words(labels, **kw)]


def test_space_prefixed_bpe():
    labels = [" The", " light", "house", " keeper", "'s", " boat", "."]
    assert words(labels) == [("The", (0,)), ("lighthouse", (1, 2)), ("keeper's", (3, 4)), ("boat.", (5, 6))]


def test_punctuation_attaches_and_specials_are_skipped():
    labels = ["<|startoftranscript|>", '"', "Hello", ",", " world", '!"', "<|endoftext|>"]
    special = [True, False, False, False, False, False, True]
    assert words(labels, special=special) == [('"Hello,', (1, 2, 3)), ('world!"', (4, 5))]


def test_first_token_without_space_and_numbers():
    assert words(["I", " paid", " $", "12", ".50", "."]) == [("I", (0,)), ("paid", (1,)), ("$12.50.", (2, 3, 4, 5))]


def test_languages_without_spaces():
    labels = ["我", "们", "去", "。"]
    assert words(labels, language="zh") == [("我", (0,)), ("们", (1,)), ("去。", (2, 3))]
    assert words(labels, language="en") == [("我们去。", (0, 1, 2, 3))]


def test_only_punctuation_and_empty():
    assert words(["...", "!"]) == [("...!", (0, 1))]
    assert words([]) == []
    assert is_punctuation(" ,") and not is_punctuation(" a,") and not is_punctuation(" ")
