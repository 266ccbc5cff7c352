"""Generate SYNTHETIC archival records for benchmarks: deterministic, realistic in shape, not history.

Every record is invented. Titles carry the marker "[synthetic]" and the first paragraph says so; IDs
are ``synthetic-NNNNNNN``. A few well-known names from the bundled authority files appear among the
agents and places so that reconciliation is exercised as in real data; everything they "say" here is
made up.

Shape of the data, chosen to resemble a Cold War document collection:

- dates 1945-1991, denser in the crisis years, 85 % to the day, 10 % to the month, 5 % to the year;
- agents from a pool of ~3,000 invented people and ~400 organizations plus the authority names,
  drawn with a Zipf-like skew (a few correspondents write most records);
- one sender (sometimes two), one to four addressees, sometimes an intermediary and participants;
- one to four body paragraphs that mention other agents and places;
- document types, rights statements and languages in realistic proportions; a few records carry a
  second, disagreeing date or lack a source record ID, as real sources do.

``generate(count, seed)`` yields ``docket.ingest.model.Record`` objects with their stable IDs set;
``python -m bench.synthetic COUNT --out DIR`` writes them as JSON files the JSON reader accepts.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import random
from pathlib import Path
from typing import Iterator

from docket.ingest.model import DateValue, Name, Record, SourceRef

MARKER = "[synthetic]"
DEFAULT_SEED = 1954

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# Known names (from data/authorities) so reconciliation sees exact and near matches.
KNOWN_PEOPLE = ("Zhou Enlai", "Ho Chi Minh", "Vo Nguyen Giap", "Wei Guoqing")
KNOWN_ORGANIZATIONS = ("CCP Central Committee", "CCP Guangxi Provincial Committee", "Vietnamese People's Army")
KNOWN_PLACES = ("Vietnam", "China", "Switzerland", "Geneva", "Guangxi", "Red River Delta")
TOPICS = ("First Indochina War", "Sino-Vietnamese Relations", "Cold War", "Armistice negotiations",
          "Military aid", "Border questions", "Trade agreements", "Nuclear weapons", "Decolonization",
          "Propaganda", "Refugees", "Economic planning")

# (type, weight)
DOC_TYPES = (("Telegram", 30), ("Cable", 15), ("Memorandum", 12), ("Record of Conversation", 12),
             ("Letter", 10), ("Minutes", 8), ("Report", 6), ("Note", 3), ("Directive", 2), ("Statement", 2))
RIGHTS = (
    ("The History and Public Policy Program welcomes reuse of Digital Archive materials for research "
     "and educational purposes.", 70),
    ("Copyright Not Evaluated", 15),
    ("No Copyright - United States", 10),
    ("Creative Commons Attribution 4.0", 5),
)
LANGUAGES = (("Chinese", 35), ("Russian", 30), ("Vietnamese", 10), ("English", 10), ("French", 5),
             ("Polish", 4), ("Hungarian", 3), ("German", 3))

_SYLLABLES = ("an", "bel", "cor", "da", "ev", "fen", "gar", "hal", "is", "jor", "ka", "lin", "mor",
              "nav", "ol", "pet", "quin", "ras", "sol", "tav", "ul", "vel", "wen", "xan", "yor", "zel")
_ORG_KINDS = ("Ministry of Foreign Affairs", "Central Committee", "Embassy", "General Staff",
              "Trade Mission", "Politburo", "Council of Ministers", "Press Department", "Consulate",
              "Planning Commission")
_WORDS = ("delegation", "negotiations", "position", "proposal", "situation", "comrades", "agreement",
          "conference", "military", "assistance", "question", "government", "party", "report",
          "instructions", "meeting", "frontier", "supplies", "representatives", "discussion",
          "declaration", "envoy", "treaty", "armistice", "forces", "leadership", "opinion", "reply")


def _name(rng: random.Random, parts: int) -> str:
    return " ".join("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 2))).capitalize()
                    for _ in range(parts))


class _Pools:
    """Build the invented agents and places once per seed; draw from them with a Zipf-like skew."""

    def __init__(self, rng: random.Random):
        people = {_name(rng, rng.choice((2, 2, 3))) for _ in range(3200)}
        self.people = list(KNOWN_PEOPLE) + sorted(people)[:3000]
        rng.shuffle(self.people)
        places = sorted({_name(rng, 1) for _ in range(400)})
        self.places = list(KNOWN_PLACES) + places
        rng.shuffle(self.places)
        orgs = sorted({f"{rng.choice(_ORG_KINDS)} of {rng.choice(places)}" for _ in range(500)})[:400]
        self.organizations = list(KNOWN_ORGANIZATIONS) + orgs
        rng.shuffle(self.organizations)
        self._weights = {key: _zipf_cumulative(len(pool)) for key, pool in
                         (("people", self.people), ("places", self.places), ("organizations", self.organizations))}

    def draw(self, rng: random.Random, pool: str) -> str:
        items = getattr(self, pool)
        cumulative = self._weights[pool]
        return items[bisect.bisect_left(cumulative, rng.random() * cumulative[-1])]

    def agent(self, rng: random.Random) -> str:
        return self.draw(rng, "organizations" if rng.random() < 0.35 else "people")


def _zipf_cumulative(n: int, s: float = 1.0) -> list[float]:
    return list(itertools.accumulate(1.0 / (k ** s) for k in range(1, n + 1)))


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


def _year(rng: random.Random) -> int:
    # Denser around 1950-1956 and 1960-1968, as such collections are.
    if rng.random() < 0.45:
        return rng.choice((rng.randint(1950, 1956), rng.randint(1960, 1968)))
    return rng.randint(1945, 1991)


def _date(rng: random.Random) -> DateValue:
    year, month = _year(rng), rng.randint(1, 12)
    day = rng.randint(1, _DAYS_IN_MONTH[month - 1])
    roll = rng.random()
    if roll < 0.85:
        return DateValue(f"{MONTHS[month - 1]} {day}, {year}", f"{year}-{month:02d}-{day:02d}", "date line")
    if roll < 0.95:
        return DateValue(f"{MONTHS[month - 1]} {year}", f"{year}-{month:02d}", "date line")
    return DateValue(str(year), str(year), "date line")


def _sentence(rng: random.Random, mentions: list[str]) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 18))]
    if mentions and rng.random() < 0.6:
        words.insert(rng.randint(0, len(words)), rng.choice(mentions))
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def generate(count: int, seed: int = DEFAULT_SEED, *, start: int = 1, per_file: int = 1000) -> Iterator[Record]:
    """Yield ``count`` synthetic records numbered from ``start``; the same seed gives the same records."""
    rng = random.Random(seed)
    pools = _Pools(rng)
    for number in range(start, start + count):
        # One generator per record: record N is the same however many records are generated.
        r = random.Random(f"{seed}/{number}")
        yield _record(r, pools, number, per_file)


def _record(rng: random.Random, pools: _Pools, number: int, per_file: int) -> Record:
    index = number - 1
    record = Record(source=SourceRef(f"synthetic-{index // per_file:05d}.json", index % per_file + 1),
                    id=f"synthetic-{number:07d}", layout="synthetic")
    where = "synthetic generator"
    doc_type = _weighted(rng, DOC_TYPES)
    senders = [pools.agent(rng) for _ in range(2 if rng.random() < 0.08 else 1)]
    addressees = list(dict.fromkeys(pools.agent(rng) for _ in range(rng.choices((1, 2, 3, 4), (60, 25, 10, 5))[0])))
    date = _date(rng)
    if rng.random() < 0.9:  # some sources give no record ID
        record.found("record_id", f"SYN-{number:07d}", where)
    record.found("date", date, where)
    if rng.random() < 0.02 and date.precision == "day":  # a second, disagreeing date
        record.found("other_dates", [_date(rng)], where)
    record.found("title", f"{MARKER} {doc_type}, {' and '.join(senders)} to {', '.join(addressees)}", where)
    record.found("doc_type", doc_type, where)
    record.found("senders", [Name.parse(s) for s in senders], where)
    record.found("addressees", [Name.parse(a) for a in addressees], where)
    if rng.random() < 0.1:
        record.found("intermediaries", [Name.parse(pools.agent(rng))], where)
    if doc_type in ("Record of Conversation", "Minutes"):
        record.found("participants", [Name.parse(pools.draw(rng, "people")) for _ in range(rng.randint(2, 5))], where)
    places = list(dict.fromkeys(pools.draw(rng, "places") for _ in range(rng.randint(0, 3))))
    mentioned = list(dict.fromkeys([pools.agent(rng) for _ in range(rng.randint(0, 4))]))
    paragraphs = [f"Synthetic record generated for benchmarking; not a historical document ({record.id})."]
    for _ in range(rng.randint(1, 4)):
        paragraphs.append(" ".join(_sentence(rng, mentioned + places) for _ in range(rng.randint(2, 6))))
    record.found("body", paragraphs, where)
    record.found("signature", senders[0], where)
    record.found("summary", f"{doc_type} from {senders[0]} concerning " + ", ".join(rng.sample(_WORDS, 3)) + ".", where)
    record.found("citations", [f"Synthetic Archive, fond {rng.randint(1, 99)}, file {rng.randint(1, 9999)}"], where)
    language = _weighted(rng, LANGUAGES)
    if language != "English":
        translator = pools.draw(rng, "people")
        record.found("original_language", language, where)
        record.found("translators", [Name.parse(translator)], where)
        record.found("translation_statement", f"Translated for the synthetic archive by {translator}.", where)
    record.found("languages", ["English"], where)
    record.found("rights", _weighted(rng, RIGHTS), where)
    record.found("associated_agents", mentioned, where)
    record.found("associated_places", places, where)
    record.found("associated_topics", rng.sample(TOPICS, rng.randint(0, 3)), where)
    return record


def write_json(directory: Path, count: int, seed: int = DEFAULT_SEED, per_file: int = 1000) -> list[Path]:
    """Write ``count`` records as JSON files of ``per_file`` records each; return the files."""
    from docket.ingest.jsonfile import dumps

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    batch: list[Record] = []
    for record in generate(count, seed, per_file=per_file):
        batch.append(record)
        if len(batch) == per_file:
            paths.append(_write(directory, batch, dumps))
            batch = []
    if batch:
        paths.append(_write(directory, batch, dumps))
    return paths


def _write(directory: Path, batch: list[Record], dumps) -> Path:
    path = directory / batch[0].source.file
    path.write_text(dumps(batch), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write SYNTHETIC benchmark records as JSON files.")
    parser.add_argument("count", type=int, help="number of records")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the JSON files into")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--per-file", type=int, default=1000, help="records per JSON file")
    args = parser.parse_args(argv)
    paths = write_json(args.out, args.count, args.seed, args.per_file)
    print(f"wrote {args.count} synthetic records to {len(paths)} files in {args.out}")


if __name__ == "__main__":
    main()
