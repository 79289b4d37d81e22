"""The domain's choice values in the officer's language."""

from __future__ import annotations

from django import template

from govreq.portal.forms import (
    DATA_CATEGORY_LABELS,
    EXTENSION_STATUS_LABELS,
    KIND_LABELS,
    OFFENCE_LABELS,
    OUTCOME_LABELS,
    STATUS_LABELS,
    TARGET_TYPE_LABELS,
)

register = template.Library()


def _label(labels: dict, value: object) -> str:  # type: ignore[type-arg]
    label = labels.get(str(value))
    return str(label) if label is not None else str(value)


@register.filter
def kind_label(value: object) -> str:
    return _label(KIND_LABELS, value)


@register.filter
def offence_label(value: object) -> str:
    return _label(OFFENCE_LABELS, value)


@register.filter
def category_label(value: object) -> str:
    return _label(DATA_CATEGORY_LABELS, value)


@register.filter
def status_label(value: object) -> str:
    return _label(STATUS_LABELS, value)


@register.filter
def target_type_label(value: object) -> str:
    return _label(TARGET_TYPE_LABELS, value)


@register.filter
def outcome_label(value: object) -> str:
    return _label(OUTCOME_LABELS, value)


@register.filter
def extension_status_label(value: object) -> str:
    return _label(EXTENSION_STATUS_LABELS, value)
