"""Citations and translation statements as the archive writes them."""

from __future__ import annotations

import pytest

from docket.ingest.citations import find_statement, parse_citation, parse_statement
from docket.ingest.model import Name


def test_reference_and_statement():
    c = parse_citation("ZX vol. 4, p. 509. Translated for CWIHP by Chen Jian.")
    assert c.references == ("ZX vol. 4, p. 509",)
    assert c.statement == "Translated for CWIHP by Chen Jian."
    assert c.title is None and c.date_text is None and c.url is None and c.record_number is None


def test_quoted_citation_of_the_older_pages():
    c = parse_citation(
        "“Telegram, CCP Central Committee to Zhou Enlai,” June 20, 1954, History and Public Policy Program "
        "Digital Archive, ZX vol. 4, p. 509. Translated for CWIHP by Chen Jian. "
        "https://digitalarchive.example.org/document/121156"
    )
    assert c.title == "Telegram, CCP Central Committee to Zhou Enlai"
    assert c.date_text == "June 20, 1954"
    assert c.references == ("ZX vol. 4, p. 509",)
    assert c.statement == "Translated for CWIHP by Chen Jian."
    assert c.url == "https://digitalarchive.example.org/document/121156"
    assert c.record_number == "121156"


def test_quoted_title_with_inner_subtitle_and_straight_quotes():
    c = parse_citation(
        "\"Telegram, Zhou Enlai to Mao Zedong, 'Arriving in Nanning on the 29th',\" June 27, 1954, "
        "History and Public Policy Program Digital Archive, ZX vol. 4."
    )
    assert c.title == "Telegram, Zhou Enlai to Mao Zedong, 'Arriving in Nanning on the 29th'"
    assert c.date_text == "June 27, 1954"
    assert c.references == ("ZX vol. 4",)
    assert c.statement is None


def test_text_after_the_statement_is_another_reference():
    c = parse_citation("APRF, f. 45, op. 1, d. 334, ll. 105-106. Translated for CWIHP from Russian by "
                       "Gary Goldberg. Also published in CWIHP Bulletin 6-7.")
    assert c.references == ("APRF, f. 45, op. 1, d. 334, ll. 105-106", "Also published in CWIHP Bulletin 6-7")
    assert c.statement == "Translated for CWIHP from Russian by Gary Goldberg."


@pytest.mark.parametrize(
    "statement, translators, made_for, language",
    [
        ("Translated for CWIHP by Chen Jian.", ["Chen Jian"], "CWIHP", None),
        ("Translated for CWIHP from Russian by Gary Goldberg.", ["Gary Goldberg"], "CWIHP", "Russian"),
        ("Translated from the Chinese", [], None, "Chinese"),
        ("Translated by Chen Jian and Shen Zhihua.", ["Chen Jian", "Shen Zhihua"], None, None),
        ("Translated by V. M. Zubok, Chen Jian, and David Wolff", ["V. M. Zubok", "Chen Jian", "David Wolff"],
         None, None),
        ("Translated from Vietnamese for CWIHP by Merle Pribbenow.", ["Merle Pribbenow"], "CWIHP", "Vietnamese"),
        ("Obtained and translated by Sergey Radchenko.", ["Sergey Radchenko"], None, None),
    ],
)
def test_parse_statement(statement, translators, made_for, language):
    t = parse_statement(statement)
    assert t.statement == statement
    assert [n.written for n in t.translators] == translators
    assert t.translated_for == made_for
    assert t.original_language == language


def test_statement_ends_after_the_names_not_at_an_initial():
    before, statement, after = find_statement("AVPRF, f. 06. Translated by V. M. Zubok. Published 1996.")
    assert (before, statement, after) == ("AVPRF, f. 06. ", "Translated by V. M. Zubok.", "Published 1996.")
    assert parse_statement(statement).translators == (Name("V. M. Zubok"),)


def test_no_statement():
    assert find_statement("ZX vol. 4, p. 509.") == ("ZX vol. 4, p. 509.", None, "")
    # "translated" inside a sentence is not a statement
    assert find_statement("Notes on documents translated earlier")[1] is None


def test_overlong_quoted_passage_is_not_a_title():
    c = parse_citation("“" + "word " * 200 + ",” June 20, 1954, ZX.")
    assert c.title is None
