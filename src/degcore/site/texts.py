"""The site's words, in Russian (the default page) and English (``en/``).

Only fixed text lives here; everything from the record is inserted, escaped, by :mod:`pages`.
``lookup`` holds the messages the lookup script shows (handed to it as a JSON data block).
"""

from __future__ import annotations

__all__ = ["CHECK_TITLES_RU", "TEXTS"]

#: Russian titles of the verifier's checks (the English ones are the catalogue's).
CHECK_TITLES_RU: dict[str, str] = {
    "V1": "Файлы записи: подписанный организатором список, каждый файл на месте и совпадает",
    "V2": "Манифест и параметры: группа, выборы, конфигурация церемонии",
    "V3": "Церемония ключей: подписи доверенных лиц, доказательства, QUAL, общий ключ",
    "V4": "Ключи эмитента: RSA не короче 2048 бит для каждого вида бюллетеня",
    "V5": "Журнал урны: позиции, цепочка хешей, подписи урны, время, закрытие",
    "V6": "Бюллетени: учётные данные, подпись бюллетеня, все доказательства, время голосования",
    "V7": "Не более одного учтённого бюллетеня на учётные данные (правило урны)",
    "V8": "Проверенные избирателями (Benaloh) бюллетени раскрыты верно и не поданы",
    "V9": "Зашифрованный итог равен произведению учтённых бюллетеней",
    "V10": "Частичные расшифрования: подписи доверенных лиц, доказательства Чаума–Педерсена",
    "V11": "Результат равен комбинации Лагранжа и дискретным логарифмам частичных расшифрований",
    "V12": "Миксная сеть: доказательство каждого перемешивания, от учтённых бюллетеней до выхода",
    "V13": "Миксная сеть: расшифрования последнего выхода подписаны и доказаны",
    "V14": "Параметры выборов: подписаны организатором, привязаны к манифесту и церемонии",
    "V15": "Допуск: подписанный список избирателей и подписанный журнал выдачи",
    "V16": "Учёт по видам бюллетеня: выдано ≤ списка, учтено ≤ выдано",
    "V17": "Совместная подпись параметров: каждая сторона подписала своим ключом",
    "V18": "Выдача с согласия избирателя: каждая выдача подписана ключом избирателя из списка",
    "V19": "Закреплённые ключи: параметры называют закреплённый ключ каждой роли",
}

TEXTS: dict[str, dict[str, object]] = {
    "ru": {
        "lang_name": "Русский",
        "other": ("en/index.html", "English"),
        "decimal": ",",
        "title": "Результаты выборов",
        "verified": "Запись выборов проверена: все проверки пройдены",
        "verified_note": (
            "Эта страница создана командой degcore site, которая сама заново проверила всю запись"
            " выборов. Результат ниже — тот, что доказан расшифрованием; вы можете проверить его сами"
            " (см. «Как проверить самому»)."
        ),
        "failed": "ЗАПИСЬ ВЫБОРОВ НЕ ПРОШЛА ПРОВЕРКУ",
        "failed_note": (
            "Результат не показывается: запись, которая не проходит проверку, ничего не доказывает."
            " Не прошли проверки:"
        ),
        "election": "Выборы",
        "window": "Голосование",
        "result": "Результат",
        "votes_in": "голосов подано в этом вопросе",
        "option": "Вариант",
        "votes": "Голоса",
        "share": "Доля",
        "turnout": "Явка: учтённые бюллетени против списка дистанционных избирателей",
        "total": "Всего",
        "by_district": "Результат по округам",
        "checks": "Проверки",
        "check": "Проверка",
        "outcome": "Итог",
        "items": "Объектов",
        "failures": "Ошибок",
        "outcomes": {"pass": "пройдена", "fail": "НЕ ПРОЙДЕНА", "error": "ОШИБКА", "skip": "пропущена"},
        "keys": "Отпечаток записи и ключей",
        "record_sha": "SHA-256 записи (record.json)",
        "role": "Роль",
        "fingerprint": "Отпечаток (SHA-256 открытого ключа)",
        "documents": "Документы выборов",
        "documents_note": "Все файлы записи, как они проверены; SHA-256 каждого — в record.json.",
        "file": "Файл",
        "bytes": "Байт",
        "howto": "Как проверить самому",
        "howto_text": (
            "Скачайте папку record/ этого сайта (или получите запись у организатора), установите degcore"
            " и выполните проверку. Сравните SHA-256 записи с опубликованным организатором в другом месте."
        ),
        "howto_receipt": "Квитанцию избирателя и код отслеживания можно проверить так:",
        "lookup": "Найти свой бюллетень",
        "noscript": (
            "Поиск работает в браузере с JavaScript. Без него используйте degcore find и"
            " degcore verify --receipt (см. «Как проверить самому»)."
        ),
        "no_lookup": (
            "Поиск бюллетеня не предлагается для записи, которая не прошла проверку: проверьте"
            " квитанцию командой degcore verify --receipt."
        ),
        "by_code": "По коду отслеживания",
        "code_label": "Код отслеживания (64 шестнадцатеричные цифры)",
        "find": "Найти",
        "by_receipt": "По квитанции",
        "receipt_label": "Вставьте квитанцию (JSON) или откройте файл квитанции",
        "check_receipt": "Проверить квитанцию",
        "generated": "Создано",
        "lookup_texts": {
            "loading": "Ищем…",
            "bad_code": "Код отслеживания — это 64 шестнадцатеричные цифры (0–9, a–f).",
            "load_failed": "Не удалось загрузить часть индекса. Откройте сайт целиком (папку) и повторите.",
            "counted": "Бюллетень есть в журнале урны, позиция {position}: УЧТЁН.",
            "superseded": (
                "Бюллетень есть в журнале, позиция {position}: ЗАМЕНЁН более поздним бюллетенем тех же"
                " учётных данных (учтён последний)."
            ),
            "challenged": (
                "Бюллетень есть в журнале, позиция {position}: ПРОВЕРЕН и раскрыт избирателем (Benaloh);"
                " такие бюллетени не учитываются."
            ),
            "not_found": "Такого кода отслеживания в журнале урны нет.",
            "bad_receipt": "Это не квитанция degcore: {why}",
            "other_election": "Квитанция выдана для других выборов. ОТКЛОНЕНА.",
            "sig_invalid": (
                "Подпись урны на квитанции НЕ ВЕРНА: квитанцию выдала не урна этих выборов или она"
                " изменена. ОТКЛОНЕНА."
            ),
            "sig_valid": "Подпись урны на квитанции верна (проверено в браузере, Ed25519).",
            "sig_unsupported": (
                "Этот браузер не умеет проверять подписи Ed25519: подпись урны НЕ проверена."
                " Проверьте её командой degcore verify --receipt."
            ),
            "missing": (
                "Бюллетеня с этой квитанции НЕТ в журнале. Сохраните квитанцию: подписанная урной, она —"
                " доказательство."
            ),
            "mismatch": (
                "Журнал на позиции {position} хранит не ту запись, что названа в квитанции ({what})."
                " Сохраните квитанцию: это доказательство."
            ),
            "accepted": "Квитанция ПРИНЯТА: позиция {position} и хеш записи совпадают с журналом.",
            "unchecked": ("Позиция {position} и хеш записи совпадают с журналом, но подпись не проверена."),
            "read_failed": "Не удалось прочитать файл.",
        },
    },
    "en": {
        "lang_name": "English",
        "other": ("../index.html", "Русский"),
        "decimal": ".",
        "title": "Election results",
        "verified": "The election record verifies: every check passed",
        "verified_note": (
            "This page was made by degcore site, which re-checked the whole election record itself. The"
            " result below is the one the decryption proves; you can check it yourself (see"
            " \u201cCheck it yourself\u201d)."
        ),
        "failed": "THE ELECTION RECORD DOES NOT VERIFY",
        "failed_note": (
            "No result is shown: a record that does not verify proves nothing. The checks that did not pass:"
        ),
        "election": "Election",
        "window": "Voting",
        "result": "Result",
        "votes_in": "votes cast in this contest",
        "option": "Option",
        "votes": "Votes",
        "share": "Share",
        "turnout": "Turnout: counted ballots against the remote voters' list",
        "total": "Total",
        "by_district": "Result by district",
        "checks": "Checks",
        "check": "Check",
        "outcome": "Outcome",
        "items": "Items",
        "failures": "Failures",
        "outcomes": {"pass": "pass", "fail": "FAIL", "error": "ERROR", "skip": "skipped"},
        "keys": "Record and key fingerprints",
        "record_sha": "SHA-256 of the record (record.json)",
        "role": "Role",
        "fingerprint": "Fingerprint (SHA-256 of the public key)",
        "documents": "The election's documents",
        "documents_note": "Every file of the record, as verified; each file's SHA-256 is in record.json.",
        "file": "File",
        "bytes": "Bytes",
        "howto": "Check it yourself",
        "howto_text": (
            "Download this site's record/ folder (or get the record from the authority), install degcore"
            " and run the verifier. Compare the record's SHA-256 with the one the authority published"
            " elsewhere."
        ),
        "howto_receipt": "A voter's receipt and a tracking code are checked with:",
        "lookup": "Find your ballot",
        "noscript": (
            "The lookup needs a browser with JavaScript. Without it, use degcore find and degcore verify"
            " --receipt (see \u201cCheck it yourself\u201d)."
        ),
        "no_lookup": (
            "No ballot lookup is offered for a record that does not verify: check your receipt with"
            " degcore verify --receipt."
        ),
        "by_code": "By tracking code",
        "code_label": "Tracking code (64 hexadecimal digits)",
        "find": "Find",
        "by_receipt": "By receipt",
        "receipt_label": "Paste your receipt (JSON) or open the receipt file",
        "check_receipt": "Check the receipt",
        "generated": "Made by",
        "lookup_texts": {
            "loading": "Looking…",
            "bad_code": "A tracking code is 64 hexadecimal digits (0–9, a–f).",
            "load_failed": "A part of the index could not be loaded. Open the whole site (folder) and retry.",
            "counted": "The ballot is in the box's log at position {position}: COUNTED.",
            "superseded": (
                "The ballot is in the log at position {position}: SUPERSEDED by a later ballot of the same"
                " credential (the last one counts)."
            ),
            "challenged": (
                "The ballot is in the log at position {position}: CHALLENGED and opened by its voter"
                " (Benaloh); such ballots are never counted."
            ),
            "not_found": "This tracking code is not in the box's log.",
            "bad_receipt": "This is not a degcore receipt: {why}",
            "other_election": "The receipt is of another election. REFUSED.",
            "sig_invalid": (
                "The box's signature on the receipt DOES NOT VERIFY: this election's box did not issue it,"
                " or it was altered. REFUSED."
            ),
            "sig_valid": "The box's signature on the receipt verifies (checked in this browser, Ed25519).",
            "sig_unsupported": (
                "This browser cannot verify Ed25519 signatures: the box's signature was NOT checked."
                " Check it with degcore verify --receipt."
            ),
            "missing": (
                "The ballot of this receipt is NOT in the log. Keep the receipt: signed by the box, it is"
                " evidence."
            ),
            "mismatch": (
                "The log's entry at position {position} is not the one the receipt names ({what}). Keep"
                " the receipt: it is evidence."
            ),
            "accepted": "Receipt ACCEPTED: position {position} and the entry hash match the log.",
            "unchecked": "Position {position} and the entry hash match the log; the signature is unchecked.",
            "read_failed": "The file could not be read.",
        },
    },
}
