"""What the registry tests share: an election, a voter list, a form, steps to an approved application."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from degcore.registry import ElectionSettings, Registry, Schedule, Status, StatusChanged

SCHEDULE = Schedule(
    "Europe/Moscow",
    registration_opens=datetime(2026, 8, 1, 0, 0),
    voting_starts=datetime(2026, 9, 18, 8, 0),
    voting_ends=datetime(2026, 9, 20, 20, 0),
)
SETTINGS = ElectionSettings(
    "duma-2026",
    SCHEDULE,
    remote_districts=frozenset({"d1", "d2"}),
    ballot_styles={"d1": "style-1", "d2": "style-2", "d3": "style-3"},
    consent_versions={"personal_data": "1.0", "remote_voting_terms": "2.1"},
)
NOW = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)
KEY = bytes(range(32))
SIGNING = SigningKey(bytes(range(32, 64)))
#: The close of registration: the default issuance window opens here.
CLOSES = SCHEDULE.closes


def open_registry(location: str | Path, settings: ElectionSettings = SETTINGS, **kw: object) -> Registry:
    """A registry over ``location`` with the test keys."""
    keys: dict[str, object] = {"code_key": KEY, "signing_key": SIGNING, **kw}
    return Registry(location, settings, **keys)  # type: ignore[arg-type]


VOTERS = """voter_id,full_name,birth_date,citizenship,district,disenfranchised
v1,Иванов Иван Иванович,01.02.1980,RU,d1,0
v2,Петрова Анна-Мария Сергеевна,20.09.2008,RU,d1,0
v3,Сидоров Пётр Петрович,21.09.2008,RU,d1,0
v4,Кузнецова Ольга Игоревна,05.05.1990,KZ,d1,0
v5,Смирнов Олег Олегович,05.05.1970,RU,d1,1
v6,Попов Павел Павлович,06.06.1966,RU,d3,0
v7,Лебедева Ёлка Ивановна,07.07.1977,RU,d2,0
"""

SNILS = {"v1": "112-233-445 95", "v2": "646-663-083 23", "v3": "672-384-123 06", "v7": "672-384-123 06"}


def device_key(voter: str, generation: int = 0) -> SigningKey:
    """The voter's device key (``generation`` > 0: a new device after a lost one)."""
    return SigningKey(hashlib.sha256(f"test device {voter} {generation}".encode()).digest())


def form(voter: str = "v1", **changes: str) -> dict[str, str]:
    names = {
        "v1": ("Иванов Иван Иванович", "01.02.1980"),
        "v2": ("Петрова Анна-Мария Сергеевна", "20.09.2008"),
        "v7": ("Лебедева Елка Ивановна", "07.07.1977"),
    }
    name, born = names.get(voter, names["v1"])
    base = {
        "full_name": name,
        "birth_date": born,
        "passport_series": "4510",
        "passport_number": f"{abs(hash(voter)) % 10**6:06d}",
        "passport_issued": "10.03.2010",
        "passport_issuer": "ОВД Тверского района г. Москвы",
        "snils": SNILS.get(voter, "112-233-445 95"),
        "phone": "+7 912 345-67-89" if voter == "v1" else "+7 916 000-00-0" + voter[-1],
        "district": "d2" if voter == "v7" else "d1",
        "address": "125009, Москва, ул. Тверская, д. 1, кв. 1",
        "voter_key": bytes(device_key(voter).verify_key).hex(),
    }
    base.update(changes)
    return base


@pytest.fixture
def events() -> list[StatusChanged]:
    return []


@pytest.fixture
def registry(store_location: str, events: list[StatusChanged]) -> Iterator[Registry]:
    reg = open_registry(store_location, on_event=events.append)
    reg.import_voters(VOTERS, now=NOW)
    yield reg
    reg.close()


def consented(reg: Registry, number: str, now: datetime = NOW) -> None:
    reg.consent(number, "personal_data", "1.0", now=now)
    reg.consent(number, "remote_voting_terms", "2.1", now=now)


def approved(reg: Registry, voter: str = "v1") -> str:
    app = reg.create(voter, form(voter), now=NOW)
    consented(reg, app.number)
    assert reg.submit(app.number, now=NOW).status is Status.SUBMITTED
    reg.start_review(app.number, now=NOW, actor="op")
    reg.approve(app.number, now=NOW, actor="op")
    return app.number


def confirmed(reg: Registry, voter: str = "v1", now: datetime = NOW) -> str:
    """An application of ``voter`` approved and confirmed with its code: the voter is on the remote list."""
    number = approved(reg, voter)
    reg.confirm(number, reg.issue_code(number, now=now), now=now)
    return number
