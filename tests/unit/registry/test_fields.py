"""Every field validator with valid and invalid input; СНИЛС and ИНН against published numbers."""

from __future__ import annotations

from datetime import date

import pytest

from degcore.errors import InvalidInput
from degcore.registry import fields
from tests.conftest import load_vector


def _code(check: fields.Validator, value: object) -> str:
    with pytest.raises(fields.BadField) as info:
        check(value)
    return info.value.code


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Иванов Иван Иванович", "Иванов Иван Иванович"),
        ("  Салтыков-Щедрин Михаил Евграфович ", "Салтыков-Щедрин Михаил Евграфович"),
        ("Ёлкина Алёна", "Ёлкина Алёна"),
        ("е\u0308жиков Ёж", "ёжиков Ёж"),  # decomposed ё is normalised (NFC), not refused
    ],
)
def test_fio_accepts_cyrillic_names(value: str, expected: str) -> None:
    assert fields.fio(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("Ivanov Ivan", "not_cyrillic"),
        ("Иванов Ivan", "not_cyrillic"),
        ("Иванов 2", "not_cyrillic"),
        ("Иванов  Иван", "not_cyrillic"),  # two spaces: not silently collapsed
        ("Иванов--Иван", "not_cyrillic"),
        ("Иванов_Иван", "not_cyrillic"),
        ("Иванов <b>Иван</b>", "forbidden_characters"),
        ("Иванов\u200bИван", "forbidden_characters"),  # zero-width space
        ("Иванов\u202eнави", "forbidden_characters"),  # right-to-left override
        ("Иванов\x00", "forbidden_characters"),
        ("Иванов\u00a0Иван", "forbidden_characters"),  # no-break space
        ("Иванов\tИван", "forbidden_characters"),
        ("Ж" * 101, "too_long"),
        ("   ", "required"),
        (42, "not_text"),
    ],
)
def test_fio_refuses(value: object, code: str) -> None:
    assert _code(fields.fio, value) == code


def test_fio_length_limit_is_100() -> None:
    assert fields.fio("Ж" * 100) == "Ж" * 100


@pytest.mark.parametrize(
    ("value", "expected"),
    [("01.02.1980", date(1980, 2, 1)), ("29.02.2000", date(2000, 2, 29)), ("31.12.1999", date(1999, 12, 31))],
)
def test_dates(value: str, expected: date) -> None:
    assert fields.date_ru(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("1980-02-01", "date_format"),
        ("1.2.1980", "date_format"),
        ("01/02/1980", "date_format"),
        ("01.02.80", "date_format"),
        ("３１.12.1999", "date_format"),  # full-width digits
        ("30.02.2000", "not_a_date"),
        ("29.02.1900", "not_a_date"),
        ("00.01.2000", "not_a_date"),
        ("31.13.2000", "not_a_date"),
    ],
)
def test_dates_refused(value: str, code: str) -> None:
    assert _code(fields.date_ru, value) == code


def test_birth_date_in_the_future() -> None:
    with pytest.raises(fields.BadField, match="in_future"):
        fields.birth_date("02.01.2030", today=date(2026, 1, 1))


def test_passport_fields() -> None:
    assert fields.passport_series("4510") == "4510"
    assert fields.passport_number("123456") == "123456"
    for bad in ("451", "45 10", "45100", "45a0", "٤٥١٠"):  # the last: Arabic-Indic digits
        assert _code(fields.passport_series, bad) == "four_digits"
    for bad in ("12345", "123 456", "123-456", "1234567"):
        assert _code(fields.passport_number, bad) == "six_digits"


def test_division_code() -> None:
    assert fields.division_code("770-001") == "770001"
    assert fields.division_code("770001") == "770001"
    for bad in ("770 001", "77-0001", "7700011", "77o-001"):
        assert _code(fields.division_code, bad) == "division_format"


def test_snils_published_numbers() -> None:
    vectors = load_vector("ru_documents/ru_inn_snils_passport.json")["snils"]
    for case in vectors["valid"]:
        value = case["value"]
        if len(value.replace("-", "").replace(" ", "")) == 9:
            continue  # degcore requires all 11 digits (R11); the 9-digit legacy form is refused
        assert len(fields.snils(value)) == 11, case
    for case in vectors["invalid"]:
        with pytest.raises(fields.BadField):
            fields.snils(case["value"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [("112-233-445 95", "11223344595"), ("11223344595", "11223344595"), ("001-001-998 00", "00100199800")],
)
def test_snils_forms(value: str, expected: str) -> None:
    assert fields.snils(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("112-233-445 94", "checksum"),
        ("11223344594", "checksum"),
        ("112233445 95", "snils_format"),
        ("112-233-445-95", "snils_format"),
        ("1122334459", "snils_format"),
        ("001001998", "snils_format"),
    ],
)
def test_snils_refused(value: str, code: str) -> None:
    assert _code(fields.snils, value) == code


def test_snils_control_number_edge_sums() -> None:
    """Sums of 100 and 101 give control 00; above 101 the sum is taken mod 101 first."""
    for number in range(1_002_000, 1_003_000):
        digits = f"{number:09d}"
        total = sum(int(d) * (9 - i) for i, d in enumerate(digits))
        control = total % 101 % 100
        assert fields.snils(f"{digits}{control:02d}") == f"{digits}{control:02d}"
        assert _code(fields.snils, f"{digits}{(control + 1) % 100:02d}") == "checksum"


def test_inn_published_numbers() -> None:
    vectors = load_vector("ru_documents/ru_inn_snils_passport.json")["inn"]
    for case in vectors["valid"]:
        assert fields.inn(case["value"]) == case["value"]
    for case in vectors["invalid"]:
        with pytest.raises(fields.BadField):
            fields.inn(case["value"])


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("7707083894", "checksum"),
        ("770708389", "inn_length"),
        ("77070838931", "inn_length"),
        ("77070 83893", "digits_only"),
    ],
)
def test_inn_refused(value: str, code: str) -> None:
    assert _code(fields.inn, value) == code


@pytest.mark.parametrize(
    "value",
    ["+79123456789", "+7 9123456789", "+7 912 345-67-89", "+7 (912) 345-67-89", "79123456789"],
)
def test_phone_variants_normalise(value: str) -> None:
    assert fields.phone(value) == "+79123456789"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("+7 912 ABC-67-89", "phone_letters"),
        ("+7912345678", "phone_format"),
        ("+791234567890", "phone_format"),
        ("+1 912 345 67 89", "phone_format"),
        ("++79123456789", "phone_format"),
        ("+7 701 234 56 78", "phone_not_russian"),  # +7 7xx is Kazakhstan
        ("+7 000 000 00 00", "phone_not_russian"),
    ],
)
def test_phone_refused(value: str, code: str) -> None:
    assert _code(fields.phone, value) == code


@pytest.mark.parametrize("value", ["ivan@example.ru", "иван@почта.рф", "a.b+c@mail.example.com"])
def test_email_accepted(value: str) -> None:
    assert "@" in fields.email(value)


@pytest.mark.parametrize(
    "value", ["ivan", "ivan@", "@example.ru", "ivan@@example.ru", "iv an@example.ru", "ivan@ru"]
)
def test_email_refused(value: str) -> None:
    assert _code(fields.email, value) in ("email_invalid", "forbidden_characters")


def test_uploads_by_content() -> None:
    assert fields.upload_type(b"%PDF-1.7\n...") == "application/pdf"
    assert fields.upload_type(b"\xff\xd8\xff\xe0 jfif") == "image/jpeg"
    assert fields.upload_type(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert _code(fields.upload_type, b"GIF89a....") == "upload_type"
    assert _code(fields.upload_type, b"MZ\x90\x00 an exe named scan.pdf") == "upload_type"
    assert _code(fields.upload_type, b"") == "upload_empty"
    assert _code(fields.upload_type, b"%PDF-" + bytes(fields.MAX_UPLOAD_BYTES)) == "upload_too_large"
    assert fields.upload_type(b"%PDF-" + bytes(fields.MAX_UPLOAD_BYTES - 5)) == "application/pdf"


def test_a_form_reports_every_problem_at_once_in_both_languages() -> None:
    required = {"full_name": fields.fio, "snils": fields.snils, "phone": fields.phone}
    with pytest.raises(InvalidInput) as info:
        fields.validate(
            {"full_name": "Ivan", "snils": "112-233-445 94", "extra": "x"}, required, {"inn": fields.inn}
        )
    problems = {(e.field, e.code) for e in info.value.errors}
    assert problems == {
        ("full_name", "not_cyrillic"),
        ("snils", "checksum"),
        ("phone", "required"),
        ("extra", "unknown_field"),
    }
    for error in info.value.errors:
        assert error.message and error.message_ru and error.message != error.message_ru
    assert fields.validate(
        {"full_name": "Иван", "snils": "11223344595", "phone": "79123456789"}, required
    ) == {
        "full_name": "Иван",
        "snils": "11223344595",
        "phone": "+79123456789",
    }


# --- look-alike letters (issue 14): one script per word, from the Unicode script data -------------
CYRILLIC_O = "\u043e"  # «о», drawn exactly like the Latin "o"


@pytest.mark.parametrize(
    "value",
    [
        "ivan@gosuslugi.ru",
        "иван@почта.рф",
        "ivan@xn--80a1acny.xn--p1ai",  # почта.рф typed as punycode
        "user@ελλάδα.ελ",
        "taro@東京.jp",  # Han with a Latin TLD: a combination UTS #39 allows
        "ivan.petrov+2024@mail.example.com",
    ],
)
def test_single_script_email_domains_pass(value: str) -> None:
    assert "@" in fields.email(value)


@pytest.mark.parametrize(
    "value",
    [
        f"ivan@g{CYRILLIC_O}suslugi.ru",  # the example
        "ivan@xn--gsuslugi-nbh.ru",  # the same domain typed as punycode
        "ivan@пример.com",  # a Cyrillic name under a Latin TLD: one domain, one script
        "ivan@раураl.com",  # Cyrillic р, а, у, а with a Latin l
        f"iv{CYRILLIC_O}n@example.ru",  # the local part too
        "ivan@examρle.com",  # Greek rho
    ],
)
def test_mixed_script_email_is_refused(value: str) -> None:
    assert _code(fields.email, value) == "mixed_script"


@pytest.mark.parametrize(
    "value",
    [
        "125009, Москва, ул. Тверская, д. 1, корп. 2А, кв. 1",
        "ЖК Sky Garden, Москва",  # whole Latin words are fine
        "ОВД Тверского района г. Москвы",
        "ул. 8 Марта, д. 10/2",
    ],
)
def test_free_text_with_one_script_per_word_passes(value: str) -> None:
    assert fields.text(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "ул. Tверская, д. 1",  # Latin T
        "Москва, ул. Лен" + "i" + "на",  # Latin i in a Cyrillic word
        f"OB{'Д'} района",  # Latin O, B with a Cyrillic Д
    ],
)
def test_free_text_mixing_scripts_in_a_word_is_refused(value: str) -> None:
    assert _code(fields.text, value) == "mixed_script"


@pytest.mark.parametrize("value", ["Ивaнов Иван", "Иванов Ivan", f"Pyсс{CYRILLIC_O}в"])
def test_fio_with_latin_look_alikes_is_refused(value: str) -> None:
    """ФИО is Cyrillic only: a look-alike Latin letter in any name part is refused."""
    assert _code(fields.fio, value) == "not_cyrillic"


def test_the_script_check_ignores_common_and_inherited_characters() -> None:
    assert fields.one_script("2А-б.")  # digits and punctuation are Common
    assert fields.one_script("\u0438\u0306")  # и + combining breve (Inherited): й decomposed
    assert not fields.one_script("oо")
