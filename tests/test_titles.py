"""Title structure: type, senders, addressees, participants, subtitle, dates."""

from __future__ import annotations

import pytest

from docket.ingest.model import Name
from docket.ingest.titles import canonical_type, continues_name, parse_title, split_names, split_subtitle


def written(names) -> list[str]:
    return [n.written for n in names]


def test_seed_title():
    parts = parse_title("Telegram, CCP Central Committee to Zhou Enlai")
    assert parts.doc_type == "Telegram"
    assert parts.senders == (Name("CCP Central Committee"),)
    assert parts.addressees == (Name("Zhou Enlai"),)
    assert parts.participants == ()
    assert parts.subtitle is None
    assert parts.dates == ()
    assert parts.unnamed_others is False


def test_three_addressees_and_quoted_subtitle():
    parts = parse_title(
        "Telegram, Zhou Enlai to Mao Zedong, Liu Shaoqi, and CCP Central Committee, "
        "'Arriving in Nanning on the 29th'"
    )
    assert parts.doc_type == "Telegram"
    assert written(parts.senders) == ["Zhou Enlai"]
    assert written(parts.addressees) == ["Mao Zedong", "Liu Shaoqi", "CCP Central Committee"]
    assert parts.subtitle == "Arriving in Nanning on the 29th"


def test_curly_quoted_subtitle_after_date():
    parts = parse_title("Telegram, Mao Zedong to Stalin, June 20, 1954, “Agree with the Proposal”")
    assert parts.subtitle == "Agree with the Proposal"
    assert parts.dates == ("June 20, 1954",)
    assert written(parts.addressees) == ["Stalin"]


def test_and_others_is_flagged_not_named():
    parts = parse_title("Telegram, Mao Zedong to Peng Dehuai and Others")
    assert written(parts.addressees) == ["Peng Dehuai"]
    assert parts.unnamed_others is True


@pytest.mark.parametrize(
    "title, doc_type, participants",
    [
        ("Minutes of Conversation between Mao Zedong and Ho Chi Minh", "Minutes", ["Mao Zedong", "Ho Chi Minh"]),
        ("Record of Conversation between Zhou Enlai, Pham Van Dong and Anthony Eden", "Record of Conversation",
         ["Zhou Enlai", "Pham Van Dong", "Anthony Eden"]),
        ("Memorandum of Conversation between Khrushchev and Mao Zedong", "Memorandum of Conversation",
         ["Khrushchev", "Mao Zedong"]),
        ("Record of a Conversation between Yudin and Liu Shaoqi", "Record of Conversation", ["Yudin", "Liu Shaoqi"]),
        ("Minutes, Conversation between Mao Zedong and P. F. Yudin", "Minutes", ["Mao Zedong", "P. F. Yudin"]),
        ("Memorandum of Conversation with Ho Chi Minh", "Memorandum of Conversation", ["Ho Chi Minh"]),
    ],
)
def test_conversations_give_participants(title, doc_type, participants):
    parts = parse_title(title)
    assert parts.doc_type == doc_type
    assert written(parts.participants) == participants
    assert parts.senders == () and parts.addressees == ()


def test_date_after_participants_is_not_a_participant():
    parts = parse_title("Record of Conversation between Zhou Enlai and Anthony Eden, June 17, 1954")
    assert written(parts.participants) == ["Zhou Enlai", "Anthony Eden"]
    assert parts.dates == ("June 17, 1954",)


def test_bracketed_identification_is_kept():
    parts = parse_title("Cable, Roshchin to Filippov [Stalin]")
    assert parts.doc_type == "Cable"
    assert parts.addressees == (Name("Filippov [Stalin]", "Filippov", "Stalin"),)
    assert parts.addressees[0] == Name.parse("Filippov [Stalin]")


def test_from_form_and_leading_article():
    parts = parse_title("Letter from the CCP Central Committee to the Workers Party of Vietnam regarding aid")
    assert parts.doc_type == "Letter"
    assert written(parts.senders) == ["CCP Central Committee"]
    assert written(parts.addressees) == ["Workers Party of Vietnam"]


def test_office_to_is_not_the_address():
    parts = parse_title("Cable, Soviet Ambassador to China Pavel Yudin to Khrushchev")
    assert written(parts.senders) == ["Soviet Ambassador to China Pavel Yudin"]
    assert written(parts.addressees) == ["Khrushchev"]


def test_apposition_stays_with_its_name():
    parts = parse_title("Telegram, Mao Zedong to Ho Chi Minh, President of the DRV")
    assert written(parts.addressees) == ["Ho Chi Minh, President of the DRV"]


def test_several_senders():
    parts = parse_title("Telegram, Mao Zedong and Zhou Enlai to Peng Dehuai")
    assert written(parts.senders) == ["Mao Zedong", "Zhou Enlai"]
    assert written(parts.addressees) == ["Peng Dehuai"]


def test_capitals_title_is_read_too():
    parts = parse_title("TELEGRAM, CCP CENTRAL COMMITTEE TO ZHOU ENLAI")
    assert parts.doc_type == "Telegram"
    assert written(parts.senders) == ["CCP CENTRAL COMMITTEE"]
    assert written(parts.addressees) == ["ZHOU ENLAI"]


@pytest.mark.parametrize(
    "title, doc_type",
    [
        ("Telegrams, Zhou Enlai to Mao Zedong", "Telegram"),
        ("cable, Zhou Enlai to Mao Zedong", "Cable"),
        ("Cablegram from Zhou Enlai to Mao Zedong", "Cablegram"),
        ("Memorandum, Molotov to Malenkov", "Memorandum"),
        ("Memoranda, Molotov to Malenkov", "Memorandum"),
        ("Minutes, Politburo Meeting", "Minutes"),
        ("Letters, Stalin to Mao", "Letter"),
        ("Report, Soviet Embassy to Moscow", "Report"),
        ("Diary of Soviet Ambassador P. F. Yudin", "Diary"),
        ("Note, Ministry of Foreign Affairs to the British Embassy", "Note"),
        ("Notes on a Meeting", "Note"),
        ("Resolution of the CCP Central Committee", "Resolution"),
        ("Transcript of a Meeting between Mao and Khrushchev", "Transcript"),
        ("Directive, Central Military Commission to the Advisory Group", "Directive"),
        ("Speeches by Zhou Enlai at Geneva", "Speech"),
        ("Instructions, CCP Central Committee to the Chinese Military Advisory Group", "Instructions"),
        ("Instruction, CCP Central Committee to the Chinese Military Advisory Group", "Instructions"),
        ("Decree of the Presidium", "Decree"),
        ("Messages, Khrushchev to Mao", "Message"),
        ("Zhou Enlai's Speech at the Geneva Conference", None),
        ("Telegraphic Summary of Events", None),
        ("On the Question of Indochina", None),
    ],
)
def test_document_types(title, doc_type):
    assert parse_title(title).doc_type == doc_type


def test_type_word_must_end_at_a_boundary():
    assert parse_title("Reportage on the Front").doc_type is None
    assert parse_title("Notebook of Comrade Wei").doc_type is None


def test_unknown_shape_yields_nothing_guessed():
    parts = parse_title("Mao Zedong to Stalin")  # no type: not read as sender/addressee
    assert parts == parse_title("Mao Zedong to Stalin")
    assert parts.doc_type is None and parts.senders == () and parts.addressees == ()


def test_canonical_type():
    assert canonical_type("telegrams") == "Telegram"
    assert canonical_type("  Record  of a Conversation ") == "Record of Conversation"
    assert canonical_type("Minutes of Conversation") == "Minutes"
    assert canonical_type("Poem") is None


def test_split_subtitle():
    assert split_subtitle("Telegram, A to B, 'Subtitle'") == ("Telegram, A to B", "Subtitle")
    assert split_subtitle("Telegram, A to B, “Subtitle”") == ("Telegram, A to B", "Subtitle")
    # an apostrophe is not an opening quotation mark
    assert split_subtitle("Telegram, Mao's Reply to B'") == ("Telegram, Mao's Reply to B'", None)
    # mismatched quotation marks are left alone
    assert split_subtitle("Telegram, A to B, “Subtitle'") == ("Telegram, A to B, “Subtitle'", None)
    assert split_subtitle("'Whole title quoted'") == ("'Whole title quoted'", None)


def test_split_names_respects_brackets_and_apposition():
    names, others = split_names("Ho (Chi Minh), Vo (Nguyen Giap), and Wei (Guoqing)")
    assert written(names) == ["Ho (Chi Minh)", "Vo (Nguyen Giap)", "Wei (Guoqing)"]
    assert names[0] == Name("Ho (Chi Minh)", "Ho", "Chi Minh")
    assert others is False
    names, _ = split_names("Filippov [Stalin, I. V.] and Mao Zedong")
    assert written(names) == ["Filippov [Stalin, I. V.]", "Mao Zedong"]
    names, others = split_names("Mao Zedong et al.")
    assert written(names) == ["Mao Zedong"] and others is True


def test_leading_parenthesis_is_part_of_the_name():
    names, _ = split_names("(CCP) Guangxi Provincial Committee")
    assert names == (Name.parse("(CCP) Guangxi Provincial Committee"),)
    assert names[0].name == "(CCP) Guangxi Provincial Committee"
    assert names[0].identified_as is None


def test_continues_name():
    assert continues_name("President")
    assert continues_name("President of the DRV")
    assert continues_name("1898-1976")
    assert continues_name("his deputy")
    assert not continues_name("Premier Zhou Enlai")
    assert not continues_name("Liu Shaoqi")
