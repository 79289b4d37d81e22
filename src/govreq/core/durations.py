"""A span of time in words a person reads at a glance: '3 h 20 min', '2 d 4 h' (in the active
language)."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext as _


def span_words(span: timedelta) -> str:
    """The absolute length of ``span``: days and hours, or hours and minutes under a day."""
    seconds = int(abs(span).total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d min") % {"minutes": minutes}


def time_left_words(left: timedelta) -> str:
    """'in 3 h 20 min' or 'overdue by 2 d 4 h'."""
    if left < timedelta(0):
        return _("overdue by %(span)s") % {"span": span_words(left)}
    return _("in %(span)s") % {"span": span_words(left)}
