"""The page-export reader: both layouts, the seed record, and every way a page can be rejected."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from docket.ingest.model import ABSENT, DERIVED, FOUND, INFO, WARNING, DateValue, Name, Provenance, Record, Rejection
from docket.ingest.page_parts import chinese_date, list_values, looks_like_date, split_lines
from docket.ingest.pages import CURRENT, OLDER, parse_page, read

FIXTURES = Path(__file__).parent / "fixtures" / "pages"

SEED_BODY = (
    "Under the circumstances that the Geneva Conference has made progress and that an armistice agreement "
    "is possible to be reached in July, the operation activities of the Vietnamese People's Army should "
    "neither be expanded nor reduced, and it is proper for the activities to be maintained at their current "
    "level. A few days ago, Comrade Wei Guoqing telegraphed us to report that the Vietnamese command had made "
    "new deployments and was preparing to expand to a certain extent the size of military operations. We "
    "believe that [the opinion in] Wei's telegram should be adopted and some additional troops can be "
    "deployed in the Red River delta area to threaten the French. However, no big operation should be carried "
    "out in July. When big operation should be carried out should be determined in accordance with the "
    "development of the Geneva Conference. Please discuss with Comrades Ho (Chi Minh), Vo (Nguyen Giap) and "
    "Wei (Guoqing) to see whether or not the above opinions are proper."
)
SEED_SUMMARY = (
    "Telegram from the CCP Central Committee to Zhou Enlai saying that given the progress made at the Geneva "
    "Conference has made armistice and progress possible. Therefore no big operations should be carried out "
    "by the Vietnamese People's Army."
)
SEED_RIGHTS = (
    "The History and Public Policy Program welcomes reuse of Digital Archive materials for research and "
    "educational purposes. Some documents may be subject to copyright, which is retained by the rights holders "
    "in accordance with US and international copyright laws. When possible, rights holders have been contacted "
    "for permission to reproduce their materials.\n\n"
    "To enquire about this document's rights status or request permission for commercial use, please contact "
    "the History and Public Policy Program at"
)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def record(text: str, name: str = "page.txt") -> Record:
    result = parse_page(text, name)
    assert isinstance(result, Record), result
    return result


def rejection(text: str, name: str = "page.txt") -> Rejection:
    result = parse_page(text, name)
    assert isinstance(result, Rejection), result
    return result


def single_newlines(text: str) -> str:
    return re.sub(r"\n(?:[ \t\u00a0]*\n)+", "\n", text)


def codes(rec: Record) -> list[str]:
    return [p.code for p in rec.problems]


def page(*lines: str) -> str:
    return "\n\n".join(lines) + "\n"


# -- the seed record ----------------------------------------------------------------------------


@pytest.fixture
def seed(seed_path: Path) -> Record:
    return record(seed_path.read_text(encoding="utf-8"), seed_path.name)


def test_seed_record_exactly(seed: Record, seed_path: Path):
    assert seed.layout == CURRENT
    assert seed.source.file == seed_path.name and seed.source.position == 1
    assert seed.id == ""  # the registry assigns it
    assert seed.date == DateValue("June 20, 1954", "1954-06-20", "date line")
    assert seed.other_dates == []
    assert seed.title == "Telegram, CCP Central Committee to Zhou Enlai"
    assert seed.subtitle is None
    assert seed.doc_type == "Telegram"
    assert seed.senders == [Name("CCP Central Committee")]
    assert seed.addressees == [Name("Zhou Enlai")]
    assert seed.intermediaries == [Name.parse("(CCP) Guangxi Provincial Committee")]
    assert seed.participants == [] and seed.authors == []
    assert seed.salutation == "(CCP) Guangxi Provincial Committee for conveying to Comrade Zhou Enali:"
    assert seed.body == [SEED_BODY]
    assert "[the opinion in]" in seed.body[0]
    assert seed.signature == "CCP Central Committee"
    assert seed.signature_date == DateValue("June 20", "1954-06-20", "signature")
    assert seed.signature_place is None
    assert seed.summary == SEED_SUMMARY
    assert seed.citations == ["ZX vol. 4, p. 509"]
    assert seed.translators == [Name("Chen Jian")]
    assert seed.translated_for == "CWIHP"
    assert seed.translation_statement == "Translated for CWIHP by Chen Jian."
    assert seed.original_language is None
    assert seed.rights == SEED_RIGHTS
    assert seed.funder_credit is None
    assert seed.record_id == "" and seed.uploaded_date is None
    assert seed.source_url is None
    assert seed.languages == seed.associated_agents == seed.associated_places == []
    assert seed.associated_topics == seed.subjects == seed.collections == []
    assert seed.problems == []  # the pipeline, not the reader, warns of the missing ID and upload date


def test_seed_provenance(seed: Record):
    assert seed.status("date") == Provenance(FOUND, "date line")
    assert seed.status("title") == Provenance(FOUND, "title")
    for name in ("doc_type", "senders", "addressees"):
        assert seed.status(name) == Provenance(DERIVED, "title")
    assert seed.status("intermediaries") == Provenance(DERIVED, "salutation")
    assert seed.status("salutation") == Provenance(FOUND, "opening line")
    assert seed.status("signature_date") == Provenance(FOUND, "signature")
    assert seed.status("citations") == Provenance(FOUND, "Document Information")
    assert seed.status("translation_statement") == Provenance(FOUND, "Document Information")
    assert seed.status("translators") == Provenance(DERIVED, "translation statement")
    assert seed.status("rights") == Provenance(FOUND, "Document Information")
    # present on the page but empty: absent, and we can tell where it would have been
    assert seed.status("record_id") == Provenance(ABSENT, "Document Information: Record ID")
    assert seed.status("uploaded_date") == Provenance(ABSENT, "Document Information: Original Uploaded Date")
    assert seed.status("funder_credit").status == ABSENT
    assert seed.status("subtitle").status == ABSENT


def test_seed_single_newline_export_reads_the_same(seed: Record, seed_path: Path):
    text = single_newlines(seed_path.read_text(encoding="utf-8"))
    assert "\n\n" not in text
    assert record(text, seed_path.name).to_dict() == seed.to_dict()


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_seed_other_line_endings_read_the_same(seed: Record, seed_path: Path, newline: str):
    text = seed_path.read_text(encoding="utf-8").replace("\n", newline)
    assert record(text, seed_path.name).to_dict() == seed.to_dict()


def test_seed_with_nbsp_paragraphs_and_bom_reads_the_same(seed: Record, seed_path: Path):
    text = seed_path.read_text(encoding="utf-8").replace("\n\n", "\n\u00a0\n").replace("\n\n", "\n \u00a0\t\n")
    assert record("\ufeff" + text, seed_path.name).to_dict() == seed.to_dict()


def test_read_yields_the_seed(seed: Record, seed_path: Path, settings):
    results = list(read(seed_path, seed_path.name, settings))
    assert len(results) == 1
    assert results[0].to_dict() == seed.to_dict()


def test_read_rejects_what_it_cannot_load(tmp_path: Path, settings):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"June 20, 1954\n\nTitle \xff\n")
    [result] = read(bad, "bad.txt", settings)
    assert isinstance(result, Rejection) and result.code == "encoding" and result.source.line == 3
    big = tmp_path / "big.txt"
    big.write_text("x" * 100, encoding="utf-8")
    [result] = read(big, "big.txt", settings.replace(max_file_bytes=10))
    assert isinstance(result, Rejection) and result.code == "too-large"
    [result] = read(tmp_path / "missing.txt", "missing.txt", settings)
    assert isinstance(result, Rejection) and result.code == "unreadable"


# -- current layout -----------------------------------------------------------------------------


def test_current_layout_with_every_label():
    rec = record(fixture("current-full.txt"), "current-full.txt")
    assert rec.layout == CURRENT
    assert rec.date == DateValue("October 3, 1950", "1950-10-03", "date line")
    assert rec.title == "Cable, Roshchin to Filippov [Stalin]"
    assert rec.doc_type == "Cable"
    assert rec.status("doc_type") == Provenance(FOUND, "Document Information: Type")
    assert rec.senders == [Name("Roshchin")]
    assert rec.addressees == [Name("Filippov [Stalin]", "Filippov", "Stalin")]
    assert rec.funder_credit == "This document was made possible with support from the Leon Levy Foundation."
    assert rec.status("funder_credit") == Provenance(FOUND, "credit line")
    assert rec.original_language == "Russian"
    assert rec.status("original_language") == Provenance(FOUND, "translation note")
    assert rec.salutation == "To Comrade Filippov:"
    assert rec.intermediaries == []
    assert rec.body == [
        "[Mao Zedong] asked me to convey the following to you.",
        "The Chinese leadership has considered the situation in Korea at length. Several comrades believe that "
        "sending troops now would bring grave difficulties: our army's equipment is poor, and the war of "
        "liberation has only just ended.",
        "The Politburo will meet again on 5 October. A final answer will be sent through this channel as soon "
        "as it is taken.",
    ]
    assert rec.signature == "Roshchin"
    assert rec.signature_place == "Beijing"
    assert rec.signature_date == DateValue("3 October 1950", "1950-10-03", "signature")
    assert rec.summary == (
        "Cable from Soviet Ambassador N. V. Roshchin reporting Mao Zedong's reservations about sending Chinese "
        "troops to Korea and promising a final answer after the Politburo meets."
    )
    assert rec.citations == [
        "APRF, f. 45, op. 1, d. 334, ll. 105-106",
        "Dmitri Volkogonov Papers, Library of Congress, reel 17",
    ]
    assert rec.translation_statement == "Translated for CWIHP from Russian by Gary Goldberg."
    assert rec.translators == [Name("Gary Goldberg")]
    assert rec.translated_for == "CWIHP"
    assert rec.original_archive == "Archive of the President of the Russian Federation (APRF)"
    assert rec.rights == "Reuse of this document for research and teaching is welcome; please credit the archive."
    assert rec.status("rights") == Provenance(FOUND, "Document Information: Rights")
    assert rec.authors == [Name("Roshchin, N. V. (Nikolai Vasilyevich), 1901-1960")]
    assert rec.status("authors") == Provenance(FOUND, "Document Information: Author(s)")
    assert rec.associated_agents == [
        "Mao, Zedong, 1893-1976", "Stalin, Joseph, 1879-1953", "Chinese People's Volunteers"
    ]
    assert rec.associated_places == ["China", "Korea (North)", "Soviet Union"]
    assert rec.associated_topics == ["Korean War, 1950-1953"]
    assert rec.subjects == ["Chinese intervention", "Soviet air cover"]
    assert rec.languages == ["Russian", "English"]
    assert rec.uploaded_date == DateValue("June 5, 2012", "2012-06-05", "Document Information: Original Uploaded Date")
    assert rec.record_id == "117312"
    assert rec.status("record_id") == Provenance(FOUND, "Document Information: Record ID")
    assert rec.problems == []


def test_related_documents_are_neither_summary_nor_body():
    rec = record(fixture("current-full.txt"))
    everything = " ".join([rec.summary or "", *rec.body, rec.title, *rec.citations])
    assert "Stalin asks" not in everything and "38th parallel" not in everything
    assert "answers the reservations" not in everything
    assert rec.other_dates == []


def test_related_documents_after_document_information_are_skipped():
    text = page(
        "June 20, 1954", "Telegram, A to B", "Text of the telegram.", "Summary of the telegram.",
        "Document Information", "ZX vol. 4, p. 1.", "Related Documents", "June 21, 1954",
        "Telegram, B to A", "Another summary.", "Record ID", "42",
    )
    rec = record(text)
    assert rec.citations == ["ZX vol. 4, p. 1"]
    assert rec.rights is None
    assert rec.record_id == "42"
    assert rec.summary == "Summary of the telegram."
    assert rec.problems == []


def test_current_layout_single_newline_export_reads_the_same():
    text = fixture("current-full.txt")
    assert record(single_newlines(text)).to_dict() == record(text).to_dict()


def test_current_translated_page_keeps_text_unharmed():
    rec = record(fixture("current-translated.txt"))
    assert rec.title == (
        "Telegram, Zhou Enlai to Mao Zedong, Liu Shaoqi, and CCP Central Committee, "
        "'Arriving in Nanning on the 29th'"
    )
    assert rec.subtitle == "Arriving in Nanning on the 29th"
    assert rec.senders == [Name("Zhou Enlai")]
    assert rec.addressees == [Name("Mao Zedong"), Name("Liu Shaoqi"), Name("CCP Central Committee")]
    assert rec.original_language == "Chinese"
    assert rec.salutation == "Chairman Mao, Comrade [Liu] Shaoqi, and the Central Committee:"
    assert len(rec.body) == 2  # the non-breaking-space lines are blank, not paragraphs
    assert "Comrades Hồ Chí Minh and Võ Nguyên Giáp" in rec.body[0]
    assert rec.body[1].startswith("Nehru said of the talks: “Asia must settle Asia’s own affairs.” U Nu’s")
    assert rec.signature == "Zhou Enlai"
    assert rec.signature_date == DateValue("27 June", "1954-06-27", "signature")
    assert rec.citations == [
        "Zhou Enlai nianpu, 1949–1976, vol. 1 (Beijing: Zhongyang wenxian chubanshe, 1997), p. 389"
    ]
    assert rec.translators == [Name("Chen Jian"), Name("Shen Zhihua")]
    assert rec.translated_for == "CWIHP"
    assert rec.rights == (
        "For questions about this translation write to [email protected]; "
        "reuse for teaching and research is welcome."
    )
    assert rec.problems == []


def test_labels_present_but_empty_leave_fields_absent():
    rec = record(fixture("current-translated.txt"))
    for name, label in [
        ("original_archive", "Original Archive"),
        ("authors", "Author(s)"),
        ("associated_agents", "Associated People & Organizations"),
        ("associated_places", "Associated Places"),
        ("associated_topics", "Associated Topics"),
        ("subjects", "Subjects Discussed"),
        ("languages", "Language"),
        ("uploaded_date", "Original Uploaded Date"),
        ("record_id", "Record ID"),
    ]:
        assert rec.status(name) == Provenance(ABSENT, f"Document Information: {label}"), name
        assert not getattr(rec, name)
    # an empty "Type" leaves the title to give the type; an empty "Rights" the unlabelled statement
    assert rec.status("doc_type") == Provenance(DERIVED, "title") and rec.doc_type == "Telegram"
    assert rec.status("rights") == Provenance(FOUND, "Document Information")


def test_chinese_body_and_inline_labels():
    rec = record(fixture("current-chinese.txt"))
    assert rec.title == "Minutes of Conversation between Zhou Enlai and Ho Chi Minh"
    assert rec.participants == [Name("Zhou Enlai"), Name("Ho Chi Minh")]
    assert rec.status("participants") == Provenance(DERIVED, "title")
    assert rec.salutation == "胡志明主席："
    assert rec.body == [
        "\u3000\u3000我们认为，日内瓦会议的形势对我们有利。停战线问题应当坚持我们的立场，但也要准备作出必要的让步。",
        "\u3000\u3000关于老挝和柬埔寨问题，应当分别处理，不要把三国的问题混在一起。",
    ]
    assert rec.signature == "周恩来"
    assert rec.signature_date == DateValue("七月五日", "1954-07-05", "signature")
    assert rec.citations == ["Zhongyang dang'anguan, 204-00007-01, pp. 1-3"]
    assert rec.associated_agents == ["Ho Chi Minh, President"]  # one person, not two values
    assert rec.associated_places == ["Liuzhou (China)", "Vietnam"]
    assert rec.doc_type == "Minutes"
    assert rec.status("doc_type") == Provenance(FOUND, "Document Information: Type")
    assert rec.languages == ["Chinese"]
    assert rec.status("languages") == Provenance(FOUND, "Document Information: Language")
    assert rec.uploaded_date == DateValue("2013-09-30", "2013-09-30", "Document Information: Original Uploaded Date")
    assert rec.record_id == "121560"
    assert rec.rights is None
    assert rec.problems == []


def test_date_line_and_title_disagree():
    rec = record(fixture("current-date-disagreement.txt"))
    assert rec.date == DateValue("June 18, 1954", "1954-06-18", "date line")
    assert rec.other_dates == [DateValue("June 17, 1954", "1954-06-17", "title")]
    assert rec.status("other_dates") == Provenance(FOUND, "title")
    assert rec.doc_type == "Record of Conversation"
    assert rec.participants == [Name("Zhou Enlai"), Name("Anthony Eden")]
    assert len(rec.body) == 3 and rec.signature is None
    assert rec.translators == [Name("Li Xiaobing"), Name("Gao Bei")]
    assert rec.translated_for is None
    [disagreement] = [p for p in rec.problems if p.code == "date-disagreement"]
    assert disagreement.field == "date" and disagreement.severity == WARNING
    assert "June 18, 1954" in disagreement.message and "June 17, 1954" in disagreement.message


def test_unreadable_uploaded_date_is_kept_with_a_warning():
    rec = record(fixture("current-date-disagreement.txt"))
    assert rec.uploaded_date == DateValue("Spring 2011", None, "Document Information: Original Uploaded Date")
    [problem] = [p for p in rec.problems if p.field == "uploaded_date"]
    assert problem.code == "bad-date" and "Spring 2011" in problem.message


def test_date_taken_from_title_when_there_is_no_date_line():
    rec = record(fixture("current-no-date-line.txt"))
    assert rec.title == "Memorandum, Molotov to the CPSU Central Committee Presidium, 12 March 1954"
    assert rec.date == DateValue("12 March 1954", "1954-03-12", "title")
    assert rec.status("date") == Provenance(DERIVED, "title")
    assert codes(rec) == ["date-from-title"]
    assert rec.addressees == [Name("CPSU Central Committee Presidium")]
    assert rec.signature == "V. Molotov"
    assert rec.body[-1].startswith("The drafts are attached.")


def test_unreadable_date_line_falls_back_to_the_title_with_a_warning():
    text = page("June 31, 1954", "Telegram, A to B, June 30, 1954", "Text.", "Summary.", "Document Information",
                "ZX vol. 4.")
    rec = record(text)
    assert rec.date == DateValue("June 30, 1954", "1954-06-30", "title")
    assert rec.status("date") == Provenance(DERIVED, "title")
    [problem] = rec.problems
    assert problem.code == "bad-date" and "June 31, 1954" in problem.message


def test_type_label_outranks_the_title():
    rec = record(page("June 20, 1954", "Telegram, A to B", "Text.", "Summary.", "Document Information",
                      "ZX vol. 4.", "Type", "Reports"))
    assert rec.doc_type == "Report"
    assert rec.status("doc_type") == Provenance(FOUND, "Document Information: Type")
    rec = record(page("June 20, 1954", "Telegram, A to B", "Text.", "Summary.", "Document Information",
                      "ZX vol. 4.", "Type: Briefing Paper"))
    assert rec.doc_type == "Briefing Paper"  # an unknown type is kept as written


def test_unknown_title_type_is_none():
    rec = record(page("June 20, 1954", "On the Question of Indochina", "Text.", "Summary.",
                      "Document Information", "ZX vol. 4."))
    assert rec.doc_type is None and rec.status("doc_type").status == ABSENT
    assert rec.senders == rec.addressees == rec.participants == []


def test_rights_label_wins_and_a_different_unlabelled_statement_is_reported():
    rec = record(page("June 20, 1954", "Telegram, A to B", "Text.", "Summary.", "Document Information",
                      "ZX vol. 4.", "Reuse welcome for research.", "Rights", "Public domain."))
    assert rec.rights == "Public domain."
    assert rec.status("rights") == Provenance(FOUND, "Document Information: Rights")
    assert codes(rec) == ["unread-text"] and "Reuse welcome" in rec.problems[0].message


def test_second_value_of_a_single_valued_label_is_reported():
    rec = record(page("June 20, 1954", "Telegram, A to B", "Text.", "Summary.", "Document Information",
                      "ZX vol. 4.", "Record ID", "121156\n121157"))
    assert rec.record_id == "121156"
    assert codes(rec) == ["unread-text"] and "121157" in rec.problems[0].message


def test_translation_by_two_without_for():
    rec = record(page("June 20, 1954", "Telegram, A to B", "Text.", "Summary.", "Document Information",
                      "Translated by Chen Jian and Shen Zhihua."))
    assert rec.citations == []
    assert rec.translators == [Name("Chen Jian"), Name("Shen Zhihua")]
    assert rec.translated_for is None and rec.original_language is None


def test_second_different_translation_statement_is_reported():
    rec = record(page("June 20, 1954", "Telegram, A to B", "Text.", "Summary.", "Document Information",
                      "ZX vol. 4. Translated by Chen Jian.", "Source", "RGASPI, f. 17. Translated by Gary Goldberg."))
    assert rec.translators == [Name("Chen Jian")]
    assert rec.citations == ["ZX vol. 4", "RGASPI, f. 17"]
    assert codes(rec) == ["unread-text"] and "Gary Goldberg" in rec.problems[0].message


def test_only_summary_before_document_information_means_no_body():
    rec = record(page("June 20, 1954", "Telegram, A to B", "Summary only.", "Document Information", "ZX."))
    assert rec.summary == "Summary only." and rec.body == []
    [problem] = rec.problems
    assert problem.code == "empty-body" and problem.severity == INFO


def test_conveying_salutation_and_numbered_points():
    rec = record(page(
        "July 1, 1954", "Telegram, CCP Central Committee to Zhou Enlai",
        "To the Guangxi Provincial Committee, to be forwarded to Comrade Zhou Enlai:",
        "1. First point of the telegram.", "2. Second point of the telegram",
        "Summary.", "Document Information", "ZX.",
    ))
    assert rec.intermediaries == [Name("Guangxi Provincial Committee")]
    assert rec.body == ["1. First point of the telegram.", "2. Second point of the telegram"]
    assert rec.signature is None


# -- older layout -------------------------------------------------------------------------------


def test_older_layout_with_capital_title_and_url():
    rec = record(fixture("older-full.txt"))
    assert rec.layout == OLDER
    assert rec.date == DateValue("October 21, 1950", "1950-10-21", "date line")
    assert rec.title == "Telegram, Mao Zedong to Peng Dehuai and Others"
    assert rec.status("title") == Provenance(FOUND, "citation")
    assert rec.doc_type == "Telegram"
    assert rec.senders == [Name("Mao Zedong")]
    assert rec.addressees == [Name("Peng Dehuai")]
    assert rec.funder_credit == "This document was made possible with support from the Leon Levy Foundation."
    assert rec.summary == (
        "Mao Zedong instructs Peng Dehuai and the other commanders of the Chinese People's Volunteers to keep "
        "the forward units concealed until the enemy's columns have passed."
    )
    assert rec.status("summary") == Provenance(FOUND, "Citation block")
    assert rec.citations == ["Jianguo yilai Mao Zedong wengao, vol. 1, pp. 588-589"]
    assert rec.status("citations") == Provenance(FOUND, "citation")
    assert rec.translators == [Name("Chen Jian")] and rec.translated_for == "CWIHP"
    assert rec.source_url == "https://digitalarchive.example.org/document/114912"
    assert rec.record_id == "114912"
    assert rec.status("record_id") == Provenance(DERIVED, "source URL")
    assert rec.salutation == "Comrades Peng [Dehuai], Deng [Hua], Hong [Xuezhi], Han [Xianchu] and Xie [Fang]:"
    assert [p[:3] for p in rec.body] == ["(1)", "(2)"]
    assert rec.signature == "Mao Zedong"
    assert rec.signature_date == DateValue("October 21", "1950-10-21", "signature")
    assert [(p.code, p.severity) for p in rec.problems] == [("title-in-capitals", INFO), ("unnamed-parties", INFO)]


def test_older_layout_title_only_in_citation():
    rec = record(fixture("older-no-title.txt"))
    assert rec.title == "Memorandum, V. M. Molotov to N. S. Khrushchev and G. M. Malenkov"
    assert rec.status("title") == Provenance(DERIVED, "citation")
    assert codes(rec) == ["title-from-citation"]
    assert rec.date == DateValue("May 14, 1954", "1954-05-14", "date line")
    assert rec.senders == [Name("V. M. Molotov")]
    assert rec.addressees == [Name("N. S. Khrushchev"), Name("G. M. Malenkov")]
    assert rec.original_language == "Russian"
    assert rec.status("original_language") == Provenance(DERIVED, "translation statement")
    assert rec.salutation == "To Comrades Khrushchev and Malenkov,"
    assert rec.body[0].startswith("The Chinese delegation considers")  # "Russian Transcription" is a link
    assert rec.signature == "V. Molotov"


def test_older_layout_date_only_in_citation():
    rec = record(fixture("older-no-date.txt"))
    assert rec.date == DateValue("March 31, 1956", "1956-03-31", "citation")
    assert rec.status("date") == Provenance(DERIVED, "citation")
    assert codes(rec) == ["date-from-citation"]
    assert rec.title == "Cable, Soviet Ambassador to China Pavel Yudin to Khrushchev"
    assert rec.senders == [Name("Soviet Ambassador to China Pavel Yudin")]
    assert rec.translators == [Name("Mark H. Doctoroff")]
    assert rec.citations == ["APRF, f. 3, op. 65, d. 356, ll. 1-4"]
    assert rec.signature == "P. Yudin" and len(rec.body) == 2


def test_older_layout_date_line_and_citation_disagree():
    rec = record(fixture("older-date-disagreement.txt"))
    assert rec.date == DateValue("April 2, 1954", "1954-04-02", "date line")
    assert rec.other_dates == [DateValue("April 3, 1954", "1954-04-03", "citation")]
    assert codes(rec) == ["date-disagreement"]
    assert rec.original_language == "Vietnamese"
    assert rec.salutation == "Dear Comrade Mao Zedong,"
    assert rec.signature == "With warm greetings,\nHo Chi Minh"


def test_older_layout_title_differing_from_citation_is_kept_and_reported():
    text = fixture("older-date-disagreement.txt").replace("Letter, Ho Chi Minh to Mao Zedong\n",
                                                          "Letter from Ho Chi Minh\n")
    rec = record(text)
    assert rec.title == "Letter from Ho Chi Minh"
    assert "title-disagreement" in codes(rec)


def test_older_layout_with_document_information_after_the_body():
    text = fixture("older-full.txt") + "Related Documents\nOctober 22, 1950\nTelegram, X to Y\nDocument Information\n" \
        "Record ID: 999\nAssociated Places\nKorea (North)\n"
    rec = record(text)
    assert rec.record_id == "999"  # the label outranks the number in the URL
    assert rec.status("record_id") == Provenance(FOUND, "Document Information: Record ID")
    assert rec.associated_places == ["Korea (North)"]
    assert rec.signature == "Mao Zedong" and len(rec.body) == 2


def test_older_layout_single_newlines_and_blank_lines_read_the_same():
    compact = fixture("older-full.txt")
    spaced = compact.replace("\n", "\n\n")
    assert record(spaced).to_dict() == record(compact).to_dict()


# -- rejections ---------------------------------------------------------------------------------


def test_random_text_is_an_unknown_layout():
    result = rejection(fixture("unknown-layout.txt"), "unknown-layout.txt")
    assert result.code == "unknown-layout" and result.field == ""
    assert result.source.file == "unknown-layout.txt" and result.source.line == 1
    assert "Document Information" in result.message and "Citation" in result.message
    assert "Notes of the reading-room committee" in result.message


@pytest.mark.parametrize("text", ["", "\n\n", "\u00a0\n \t\n"])
def test_empty_page_is_rejected(text: str):
    assert rejection(text).code == "unknown-layout"


def test_page_cut_before_document_information_is_rejected(seed_path: Path):
    text = seed_path.read_text(encoding="utf-8").split("Document Information")[0]
    result = rejection(text)
    assert result.code == "unknown-layout" and "Document Information" in result.message


def test_no_date_line_and_no_citation_is_an_unknown_layout():
    result = rejection(page("Skip to content", "Telegram, A to B", "Text.", "Summary.", "Document Information"))
    assert result.code == "unknown-layout" and "no date line, and neither a citation" in result.message
    result = rejection(page("Search in", "Telegram, A to B", "Citation", "get citation", "Summary only.",
                            "share document"))
    assert result.code == "unknown-layout"


def test_older_layout_without_citation_block_is_rejected():
    result = rejection(page("Search in", "Digital Archive International History Declassified", "June 20, 1954",
                            "Telegram, A to B", "VIEW DOCUMENT IN", "English HTML", "Text."))
    assert result.code == "unknown-layout" and "Citation" in result.message


def test_unreadable_date_with_no_other_source_is_rejected():
    result = rejection(fixture("bad-date.txt"), "bad-date.txt")
    assert (result.field, result.code) == ("date", "bad-date")
    assert "'June 31, 1954'" in result.message
    assert result.source.line == 3


def test_title_date_suffices_without_date_line_or_citation():
    rec = record(page("Skip to content", "Telegram, A to B, 20 June 1954", "Text.", "Summary.",
                      "Document Information"))
    assert rec.date == DateValue("20 June 1954", "1954-06-20", "title")
    assert rec.citations == [] and codes(rec) == ["date-from-title"]


def test_missing_date_with_a_citation_is_rejected():
    result = rejection(page("Skip to content", "Telegram, A to B", "Text.", "Summary.", "Document Information",
                            "ZX vol. 4, p. 509."))
    assert (result.field, result.code) == ("date", "no-date")


def test_empty_title_with_no_citation_title_is_rejected():
    result = rejection(fixture("empty-title.txt"), "empty-title.txt")
    assert (result.field, result.code) == ("title", "empty-title")
    assert result.source.line == 7  # where the title was expected


# -- parts --------------------------------------------------------------------------------------


def test_split_lines_keeps_text_and_normalises_keys():
    lines = split_lines("\ufeff  Skip\u00a0to  content \r\n\u00a0\n\u3000\u3000正文\r“Quoted”\t\n")
    assert [(line.no, line.text, line.key) for line in lines] == [
        (1, "Skip\u00a0to  content", "skip to content"),
        (3, "\u3000\u3000正文", "正文"),
        (4, "“Quoted”", "“quoted”"),
    ]


@pytest.mark.parametrize(
    "text, expected",
    [("June 20, 1954", True), ("June 31, 1954", True), ("Undated", True), ("Summer 1954", True),
     ("c. 1954", True), ("Telegram, June 20", False), ("Document Information", False), ("May", False),
     ("Telegram, CCP Central Committee to Zhou Enlai", False)],
)
def test_looks_like_date(text: str, expected: bool):
    assert looks_like_date(" ".join(text.split()).casefold()) is expected


def test_chinese_date():
    assert chinese_date("六月二十日", 1954) == "1954-06-20"
    assert chinese_date("十月一日", 1949) == "1949-10-01"
    assert chinese_date("十二月三十一日", 1950) == "1950-12-31"
    assert chinese_date("1954年6月20日", None) == "1954-06-20"
    assert chinese_date("一九五四年六月二十日", None) == "1954-06-20"
    assert chinese_date("二月三十日", 1954) is None
    assert chinese_date("六月二十日", None) is None
    assert chinese_date("周恩来", 1954) is None


def test_list_values():
    assert list_values(["Mao Zedong", "Zhou Enlai"], "associated_agents") == ["Mao Zedong", "Zhou Enlai"]
    assert list_values(["Ho Chi Minh, President"], "associated_agents") == ["Ho Chi Minh, President"]
    assert list_values(["Zhou, Enlai"], "associated_agents") == ["Zhou, Enlai"]
    assert list_values(["Mao Zedong, Zhou Enlai"], "associated_agents") == ["Mao Zedong", "Zhou Enlai"]
    assert list_values(["Mao, Zedong; Zhou, Enlai"], "associated_agents") == ["Mao, Zedong", "Zhou, Enlai"]
    assert list_values(["China, Vietnam"], "associated_places") == ["China", "Vietnam"]
    assert list_values(["First Indochina War, 1946-1954"], "subjects") == ["First Indochina War, 1946-1954"]
    assert list_values(["Chinese, English"], "languages") == ["Chinese", "English"]
