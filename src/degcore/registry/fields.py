r"""One validator per field of the application form (REQUIREMENTS.md §2.1, R6–R16, C4–C10).

Each validator takes the raw value and returns the normalised one, or raises :class:`BadField`
with a stable code. :func:`validate` runs a whole form and raises one :class:`InvalidInput`
listing every :class:`FieldError` at once, with messages in English and Russian. Input holding
control or markup characters is refused, never cleaned: a portal must not store what the voter
did not see.

**Look-alike letters.** A word that mixes scripts (``gоsuslugi`` with a Cyrillic «о») reads like
another word and is refused with the code ``mixed_script``. The script of each character comes
from the Unicode Character Database through the ``regex`` package (``\p{Script_Extensions=…}``);
characters of the Common and Inherited scripts (digits, punctuation, combining marks) go with any
script. Where the rule applies: the e-mail domain as a whole and the local part (each one
script), every word of free text (address, issuing authority); ФИО is Cyrillic only anyway.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date

import phonenumbers
import regex
from email_validator import EmailNotValidError, validate_email
from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError
from stdnum.ru import inn as stdnum_inn

from degcore.errors import FieldError, InvalidInput
from degcore.issuance.enrollment import check_voter_key

__all__ = [
    "MAX_UPLOAD_BYTES",
    "BadField",
    "birth_date",
    "date_ru",
    "division_code",
    "email",
    "fio",
    "inn",
    "one_script",
    "passport_number",
    "passport_series",
    "phone",
    "snils",
    "text",
    "upload_type",
    "validate",
]

#: 5 MiB: the seeds' «не более 5 МБ» read as binary megabytes (REQUIREMENTS C10).
MAX_UPLOAD_BYTES = 5 * 2**20

#: code → (English, Russian). Codes are stable; messages may be reworded.
MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("This field is required.", "Обязательное поле."),
    "not_text": ("Expected text.", "Ожидается текст."),
    "unknown_field": ("This form has no such field.", "В форме нет такого поля."),
    "bad_id": (
        "Letters, digits, '.', '_' or '-', at most 64.",
        "Буквы, цифры, «.», «_» или «-», не более 64.",
    ),
    "not_a_flag": ("Use 0 or 1.", "Используйте 0 или 1."),
    "forbidden_characters": (
        "Contains control or markup characters.",
        "Содержит управляющие символы или символы разметки.",
    ),
    "too_long": ("Too long.", "Слишком длинное значение."),
    "not_cyrillic": (
        "Cyrillic letters only (Ё allowed), words separated by a space or a hyphen.",
        "Только кириллические буквы (включая Ё), слова через пробел или дефис.",
    ),
    "date_format": ("Use the format DD.MM.YYYY.", "Используйте формат ДД.ММ.ГГГГ."),
    "not_a_date": ("No such calendar date.", "Такой даты не существует."),
    "in_future": ("The date is in the future.", "Дата в будущем."),
    "four_digits": ("Exactly 4 digits.", "Ровно 4 цифры."),
    "six_digits": ("Exactly 6 digits.", "Ровно 6 цифр."),
    "division_format": ("Use NNN-NNN or 6 digits.", "Используйте формат NNN-NNN или 6 цифр."),
    "snils_format": ("Use XXX-XXX-XXX YY or 11 digits.", "Используйте формат XXX-XXX-XXX YY или 11 цифр."),
    "checksum": ("The control digits do not match.", "Контрольное число не совпадает."),
    "inn_length": ("An INN has 10 or 12 digits.", "ИНН состоит из 10 или 12 цифр."),
    "digits_only": ("Digits only.", "Только цифры."),
    "phone_letters": ("A phone number has no letters.", "Номер телефона не содержит букв."),
    "phone_format": (
        "Use +7 and 10 digits, e.g. +7 912 345-67-89.",
        "Используйте +7 и 10 цифр, например +7 912 345-67-89.",
    ),
    "phone_not_russian": ("Not a valid Russian phone number.", "Недействительный российский номер."),
    "email_invalid": ("Not a valid e-mail address.", "Недействительный адрес электронной почты."),
    "mixed_script": (
        "Letters of different alphabets are mixed in one word (e.g. a Latin and a Cyrillic «о»).",
        "В одном слове смешаны буквы разных алфавитов (например, латинская и кириллическая «о»).",
    ),
    "voter_key_invalid": (
        "Not a valid voter key: 64 hexadecimal digits of an Ed25519 public key made by the device.",
        "Недействительный ключ избирателя: 64 шестнадцатеричные цифры открытого ключа Ed25519 устройства.",
    ),
    "upload_empty": ("The file is empty.", "Файл пуст."),
    "upload_too_large": ("The file is larger than 5 MiB.", "Файл больше 5 МБ."),
    "upload_type": ("Only PDF, JPEG or PNG files.", "Допускаются только файлы PDF, JPEG или PNG."),
}


class BadField(ValueError):
    """Raised by a validator with a code from :data:`MESSAGES`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def field_error(field: str, code: str) -> FieldError:
    """The FieldError for ``code`` on ``field``, with both messages."""
    en, ru = MESSAGES[code]
    return FieldError(field, code, en, ru)


# Every digit pattern is ASCII-only (re.ASCII): full-width or Arabic-Indic digits are refused.
# Refused characters: everything str.isprintable() rejects (Unicode "Other" — control, format such
# as zero-width joiners and bidi overrides, unassigned, private use — and separators other than the
# ASCII space, e.g. no-break spaces), and the characters of HTML/XML markup.
_MARKUP = re.compile(r"[<>&\"'`]")


def _clean_text(value: object, max_length: int) -> str:
    if not isinstance(value, str):
        raise BadField("not_text")
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        raise BadField("required")
    if not value.isprintable() or _MARKUP.search(value):
        raise BadField("forbidden_characters")
    if len(value) > max_length:
        raise BadField("too_long")
    return value


#: The scripts (or, as UTS #39's "highly restrictive" level allows, combinations) one word may use.
_WORD_SCRIPTS = (
    ("Latin",), ("Cyrillic",), ("Greek",), ("Armenian",), ("Georgian",), ("Hebrew",), ("Arabic",),
    ("Latin", "Han", "Hiragana", "Katakana"), ("Latin", "Han", "Hangul"), ("Latin", "Han", "Bopomofo"),
)  # fmt: skip
_ONE_SCRIPT = regex.compile(
    "|".join(
        "[" + "".join(rf"\p{{scx={name}}}" for name in names) + r"\p{sc=Common}\p{sc=Inherited}]*"
        for names in _WORD_SCRIPTS
    )
)
_WORD = regex.compile(r"[\p{L}\p{M}]+")


def one_script(word: str) -> bool:
    """Whether ``word``'s letters all belong to one script (Common and Inherited characters go with any)."""
    return _ONE_SCRIPT.fullmatch(word) is not None


def text(value: object, max_length: int = 500) -> str:
    """Free text (issuing authority, address): no control or markup characters, no word mixing scripts."""
    cleaned = _clean_text(value, max_length)
    if not all(one_script(word) for word in _WORD.findall(cleaned)):
        raise BadField("mixed_script")
    return cleaned


_CYRILLIC_NAME = re.compile(r"[А-Яа-яЁё]+(?:[ -][А-Яа-яЁё]+)*")


def fio(value: object) -> str:
    """ФИО: Cyrillic letters incl. Ё, words separated by a space or hyphen, ≤ 100 characters (R6, C8)."""
    name = _clean_text(value, 100)
    if not _CYRILLIC_NAME.fullmatch(name):
        raise BadField("not_cyrillic")
    return name


_DATE = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})", re.ASCII)


def date_ru(value: object) -> date:
    """A date written ДД.ММ.ГГГГ that exists in the calendar (R7)."""
    raw = _clean_text(value, 10)
    match = _DATE.fullmatch(raw)
    if not match:
        raise BadField("date_format")
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise BadField("not_a_date") from None


def birth_date(value: object, today: date | None = None) -> date:
    """A date of birth: :func:`date_ru`, not after ``today`` (age is an eligibility rule, not a format)."""
    born = date_ru(value)
    if today is not None and born > today:
        raise BadField("in_future")
    return born


def _digits(value: object, count: int, code: str) -> str:
    raw = _clean_text(value, 32)
    if not (raw.isascii() and raw.isdigit() and len(raw) == count):
        raise BadField(code)
    return raw


def passport_series(value: object) -> str:
    """Passport series: exactly 4 digits, no spaces (R8)."""
    return _digits(value, 4, "four_digits")


def passport_number(value: object) -> str:
    """Passport number: exactly 6 digits, no spaces or dashes (R8)."""
    return _digits(value, 6, "six_digits")


_DIVISION = re.compile(r"(\d{3})-?(\d{3})", re.ASCII)


def division_code(value: object) -> str:
    """Код подразделения: ``NNN-NNN`` or ``NNNNNN``, normalised to 6 digits (R8, C9)."""
    match = _DIVISION.fullmatch(_clean_text(value, 7))
    if not match:
        raise BadField("division_format")
    return match.group(1) + match.group(2)


_SNILS = re.compile(r"(\d{3})-(\d{3})-(\d{3}) (\d{2})|(\d{9})(\d{2})", re.ASCII)
#: Numbers up to 001-001-998 were issued before the control number existed and are not checked.
_SNILS_UNCHECKED_MAX = 1_001_998


def snils(value: object) -> str:
    """СНИЛС: ``XXX-XXX-XXX YY`` or 11 digits with a matching control number; returns 11 digits (R11)."""
    match = _SNILS.fullmatch(_clean_text(value, 14))
    if not match:
        raise BadField("snils_format")
    groups = match.groups()
    number = "".join(groups[:3]) if groups[0] else groups[4]
    control = int(groups[3] if groups[0] else groups[5])
    if int(number) > _SNILS_UNCHECKED_MAX:
        total = sum(int(d) * (9 - i) for i, d in enumerate(number))
        if total % 101 % 100 != control:
            raise BadField("checksum")
    return f"{number}{control:02d}"


def inn(value: object) -> str:
    """ИНН: 10 or 12 digits with valid check digits (python-stdnum's ``stdnum.ru.inn``; R12, C4)."""
    raw = _clean_text(value, 12)
    if not (raw.isascii() and raw.isdigit()):
        raise BadField("digits_only")
    try:
        return str(stdnum_inn.validate(raw))
    except InvalidLength:
        raise BadField("inn_length") from None
    except InvalidChecksum:
        raise BadField("checksum") from None
    except ValidationError:
        raise BadField("digits_only") from None


_PHONE_SEPARATORS = re.compile(r"[ ()-]")
_PHONE = re.compile(r"\+?7(\d{10})", re.ASCII)


def phone(value: object) -> str:
    """A Russian phone number in any common spelling, normalised to E.164 ``+7XXXXXXXXXX`` (R9, C7)."""
    raw = _clean_text(value, 24)
    if any(ch.isalpha() for ch in raw):
        raise BadField("phone_letters")
    match = _PHONE.fullmatch(_PHONE_SEPARATORS.sub("", raw))
    if not match:
        raise BadField("phone_format")
    normalised = "+7" + match.group(1)
    parsed = phonenumbers.parse(normalised, None)
    # +7 is shared with Kazakhstan: the number must be a valid one and Russian.
    if not phonenumbers.is_valid_number(parsed) or phonenumbers.region_code_for_number(parsed) != "RU":
        raise BadField("phone_not_russian")
    return normalised


def email(value: object) -> str:
    """An e-mail address (``email-validator``; IDN domains such as .рф allowed; no DNS look-ups; R10)."""
    raw = _clean_text(value, 254)
    try:
        checked = validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        raise BadField("email_invalid") from None
    # The Unicode form of the domain, also when it was typed as punycode (xn--…).
    if not (one_script(checked.domain) and one_script(checked.local_part)):
        raise BadField("mixed_script")
    return str(checked.normalized)


_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def upload_type(data: object) -> str:
    """The MIME type of an upload judged by its content signature, not its name; at most 5 MiB (R16)."""
    if not isinstance(data, bytes | bytearray):
        raise BadField("upload_type")
    if not data:
        raise BadField("upload_empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise BadField("upload_too_large")
    for magic, mime in _SIGNATURES:
        if data.startswith(magic):
            return mime
    raise BadField("upload_type")


def voter_key(value: object) -> str:
    """The voter's device key: the hex of a valid Ed25519 public key; returns lower-case hex."""
    if not isinstance(value, str):
        raise BadField("voter_key_invalid")
    try:
        return check_voter_key(value.strip().lower()).hex()
    except InvalidInput:
        raise BadField("voter_key_invalid") from None


Validator = Callable[[object], object]


def validate(
    data: Mapping[str, object], required: Mapping[str, Validator], optional: Mapping[str, Validator] = {}
) -> dict[str, object]:
    """Run every validator; return the normalised values or raise one InvalidInput listing every problem."""
    errors: list[FieldError] = []
    out: dict[str, object] = {}
    unknown = set(data) - set(required) - set(optional)
    errors.extend(field_error(str(name), "unknown_field") for name in sorted(unknown, key=str))
    for name, check in [*required.items(), *optional.items()]:
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if name in required:
                errors.append(field_error(name, "required"))
            continue
        try:
            out[name] = check(value)
        except BadField as bad:
            errors.append(field_error(name, bad.code))
    if errors:
        raise InvalidInput(f"{len(errors)} field(s) invalid: " + ", ".join(e.field for e in errors), errors)
    return out
