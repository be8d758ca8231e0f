"""The one state machine of an application, its Russian names, and the reasons for rejection.

REQUIREMENTS.md §2.5 (C12, C13, C15, C17), §2.6 and R18/R19. The seeds name the same states in
a dozen ways; :meth:`Status.from_display` maps every spelling found there to one canonical state.
"""

from __future__ import annotations

from enum import StrEnum

from degcore.errors import InvalidInput

__all__ = ["TRANSITIONS", "RejectionReason", "Status"]


class Status(StrEnum):
    """An application's state (stable machine names)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    NEEDS_CLARIFICATION = "needs_clarification"
    APPROVED = "approved"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def display_ru(self) -> str:
        """The name a Russian portal shows."""
        return _DISPLAY[self]

    @property
    def terminal(self) -> bool:
        """Rejected and withdrawn applications never change again (C13)."""
        return self in (Status.REJECTED, Status.WITHDRAWN)

    @classmethod
    def from_display(cls, text: str) -> Status:
        """The state a seed document's status name means («Принято», «Отклонено», «На проверке», …)."""
        key = " ".join(text.replace("ё", "е").replace("Ё", "Е").lower().split())
        try:
            return _SYNONYMS[key]
        except KeyError:
            raise InvalidInput(f"unknown application status name {text!r}") from None


_DISPLAY = {
    Status.DRAFT: "Создано",
    Status.SUBMITTED: "Получено",
    Status.UNDER_REVIEW: "На проверке",
    Status.NEEDS_CLARIFICATION: "Требуется уточнение",
    Status.APPROVED: "Одобрено",
    Status.CONFIRMED: "Подтверждено",
    Status.REJECTED: "Отказано",
    Status.WITHDRAWN: "Отозвано",
}

# Every spelling in the seeds (REQUIREMENTS §2.5), lower-cased with ё → е.
_SYNONYMS = {
    "создано": Status.DRAFT,
    "черновик": Status.DRAFT,
    "получено": Status.SUBMITTED,
    "заявка принята": Status.SUBMITTED,
    "на проверке": Status.UNDER_REVIEW,
    "в обработке": Status.UNDER_REVIEW,
    "требуется уточнение": Status.NEEDS_CLARIFICATION,
    "одобрено": Status.APPROVED,
    "принято": Status.APPROVED,
    "проверка завершена": Status.APPROVED,
    "готово к обработке": Status.APPROVED,
    "подтверждено": Status.CONFIRMED,
    "отказано": Status.REJECTED,
    "отклонено": Status.REJECTED,
    "отозвано": Status.WITHDRAWN,
    "отозвана": Status.WITHDRAWN,
}
_SYNONYMS.update({str(s): s for s in Status})

_ACTIVE = (
    Status.DRAFT,
    Status.SUBMITTED,
    Status.UNDER_REVIEW,
    Status.NEEDS_CLARIFICATION,
    Status.APPROVED,
    Status.CONFIRMED,
)

#: Every legal move. Withdrawal is open from every active state (its deadline is checked apart).
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.SUBMITTED, Status.REJECTED, Status.WITHDRAWN}),
    Status.SUBMITTED: frozenset({Status.UNDER_REVIEW, Status.REJECTED, Status.WITHDRAWN}),
    Status.UNDER_REVIEW: frozenset(
        {Status.NEEDS_CLARIFICATION, Status.APPROVED, Status.REJECTED, Status.WITHDRAWN}
    ),
    Status.NEEDS_CLARIFICATION: frozenset({Status.UNDER_REVIEW, Status.REJECTED, Status.WITHDRAWN}),
    Status.APPROVED: frozenset({Status.CONFIRMED, Status.REJECTED, Status.WITHDRAWN}),
    Status.CONFIRMED: frozenset({Status.WITHDRAWN}),
    Status.REJECTED: frozenset(),
    Status.WITHDRAWN: frozenset(),
}
#: States in which an application counts as active for the duplicate rules.
ACTIVE_STATES = frozenset(_ACTIVE)


class RejectionReason(StrEnum):
    """Machine-readable reasons for a rejection (REQUIREMENTS §2.6, R19)."""

    INVALID_DATA = "invalid_data"
    REGISTER_MISMATCH = "register_mismatch"
    INELIGIBLE = "ineligible"
    MISSING_DOCUMENT = "missing_document"
    UPLOAD_ERROR = "upload_error"
    LATE = "late"
    REGION_UNAVAILABLE = "region_unavailable"
    DUPLICATE = "duplicate"
    WRONG_TYPE = "wrong_type"
    NO_CONSENT = "no_consent"

    @property
    def display_ru(self) -> str:
        """The reason as a Russian portal words it."""
        return _REASONS_RU[self]


_REASONS_RU = {
    RejectionReason.INVALID_DATA: "Неполные или некорректные персональные данные",
    RejectionReason.REGISTER_MISMATCH: "Данные не совпадают с данными реестра",
    RejectionReason.INELIGIBLE: "Заявитель не соответствует требованиям",
    RejectionReason.MISSING_DOCUMENT: "Отсутствуют обязательные документы",
    RejectionReason.UPLOAD_ERROR: "Ошибка загрузки документов",
    RejectionReason.LATE: "Пропущен срок подачи заявления",
    RejectionReason.REGION_UNAVAILABLE: "ДЭГ недоступно в выбранном регионе",
    RejectionReason.DUPLICATE: "Повторная подача заявления",
    RejectionReason.WRONG_TYPE: "Неверный тип заявления",
    RejectionReason.NO_CONSENT: "Нет согласия на обработку персональных данных",
}
