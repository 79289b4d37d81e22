"""The public transparency pages (/transparency/), in English and Traditional Chinese.

Anyone may read published reports and download them; staff may also read the live draft of any
period. Pages are rendered on the server, charts included (SVG), with no script and no inline
style, under the site's Content-Security-Policy. The page language follows ``?lang=zh-hant``,
else the Accept-Language header (there is no LocaleMiddleware: each view activates it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.functional import lazy
from django.utils.http import http_date
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_supported_language_variant
from django.utils.translation import gettext as _
from django.views.decorators.http import condition, require_GET

from govreq.audit.selectors import audit_checkpoints_document, audit_checkpoints_version
from govreq.core.errors import DomainError, NotFound
from govreq.intake.models import RequestKind
from govreq.jurisdictions.names import country_name
from govreq.review.models import RejectionReason
from govreq.transparency import labels
from govreq.transparency.charts import ChartText, chart_table, requests_chart
from govreq.transparency.counting import CONTENT_KEYS, NOTICE_DELAY_REASONS, OUTCOMES, percent
from govreq.transparency.exports import FORMATS, FORMATS_BY_SUFFIX, Provenance
from govreq.transparency.models import PublishedReport
from govreq.transparency.periods import Period, parse_period
from govreq.transparency.selectors import (
    jurisdiction_entry,
    publication_state,
    published_half_year_bodies,
    published_index,
    published_overview,
    published_report,
    published_versions,
    report_draft_cached,
    report_provenance,
    series_for,
)

LANGUAGES = (("en", "English"), ("zh-hant", "繁體中文"))


def _language(request: HttpRequest) -> str:
    asked = request.GET.get("lang", "").strip().lower()
    if asked:
        try:
            return get_supported_language_variant(asked)
        except LookupError:
            pass
    return translation.get_language_from_request(request)


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    language = _language(request)
    with translation.override(language):
        links = []
        for code, name in LANGUAGES:
            query = request.GET.copy()
            query["lang"] = code
            links.append({"code": code, "name": name, "url": f"?{query.urlencode()}"})
        # A language chosen with ?lang= follows the reader through the links.
        chosen = "lang" in request.GET
        html = render_to_string(
            template,
            {
                **_page_context(),
                **context,
                "language": language,
                "language_links": links,
                "lang_query": f"?lang={language}" if chosen else "",
                "lang_param": f"&lang={language}" if chosen else "",
            },
            request=request,
        )
    response = HttpResponse(html)
    response["Content-Language"] = language
    patch_vary_headers(response, ["Accept-Language"])
    return response


# How long a browser or proxy may reuse a public page without asking again; after that a
# conditional GET is answered 304 while nothing new was published.
PUBLIC_MAX_AGE = 300
PUBLIC_CACHE_SECONDS = 24 * 3600


def _public_page(
    request: HttpRequest, page: str, build: Callable[[], tuple[str, dict[str, Any]]]
) -> HttpResponse:
    """A public page, rendered once per (page, version asked for, language, state of
    publication) and kept in Django's cache; ``ETag``/``Last-Modified`` answer a matching
    conditional GET with 304. Publishing a version changes the state, hence the key and the
    ETag: the new page is served at once. ``build`` gives the template and context."""
    language = _language(request)
    state = publication_state()
    version = request.GET.get("version", "").strip()
    # Every query parameter is part of the page (the language links carry them).
    query = sorted((name, value) for name in request.GET for value in request.GET.getlist(name))
    identity = "|".join([page, version, language, repr(query), state.token])
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    etag = f'"{digest}"'
    last_modified = int(state.last_published_at.timestamp()) if state.last_published_at else None
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is None:
        key = f"govreq:transparency:page:{digest}"
        html = cache.get(key)
        if html is None:
            with translation.override(language):  # ?lang= as well as the browser's language
                template, context = build()
            html = _render(request, template, context).content.decode()
            cache.set(key, html, PUBLIC_CACHE_SECONDS)
        response = HttpResponse(html)
    else:
        response = not_modified
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    response["Content-Language"] = language
    patch_vary_headers(response, ["Accept-Language"])
    return response


def _page_context() -> dict[str, Any]:
    return {"periods": [period for period, _version in published_index()]}


def _period_or_404(text: str) -> Period:
    try:
        return parse_period(text)
    except DomainError:
        raise Http404("no such period") from None


def _version(request: HttpRequest) -> int | None:
    raw = request.GET.get("version", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404("no such version")
    return int(raw)


def _published_or_404(period: Period, request: HttpRequest) -> PublishedReport:
    try:
        return published_report(period, version=_version(request))
    except NotFound:
        raise Http404("not published") from None


def _is_staff(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_staff and user.is_active)


def _chart(code: str, bodies: list[tuple[Period, dict[str, Any]]], ident: str) -> SafeString:
    """The chart, drawn when the template shows it: in the page's language."""
    return _lazy_chart(code, bodies, ident)


def _chart_now(code: str, bodies: list[tuple[Period, dict[str, Any]]], ident: str) -> SafeString:
    series = series_for(code, bodies=bodies)
    name = _("All jurisdictions") if code == "ALL" else country_name(code, fallback=series.name)
    text = ChartText(
        title=_("%(name)s: requests and share with data produced, by half-year") % {"name": name},
        requests=_("Requests received"),
        percent=_("Percentage with data produced"),
        hold_from=_("Hold from {date}"),
        empty=_("No published data yet"),
        summary=_("{period}: {requests} requests, {percent} with data produced"),
        held=_("Put on hold"),
        still_held=_("Still on hold at the end"),
        time_axis=_("Half-year received"),
        held_summary=_("{held} put on hold, {still_held} still on hold at the end"),
        period_name=labels.period_name,
    )
    # requests_chart and chart_table escape every text they draw.
    return mark_safe(  # noqa: S308
        requests_chart(series, text=text, chart_id=ident)
        + requests_chart(series, text=text, chart_id=f"{ident}-narrow", narrow=True)
        + chart_table(series, text=text, caption=text.title)
    )


_lazy_chart = lazy(_chart_now, SafeString)


def _labelled(entry: dict[str, Any]) -> dict[str, Any]:
    """Rows with translated labels for the templates."""
    total = entry["requests"]
    return {
        "kinds": [
            {"code": kind, "label": labels.KINDS[kind], **entry["by_kind"][kind]}
            for kind in RequestKind.values
        ],
        "outcomes": [
            {
                "code": outcome,
                "label": labels.OUTCOMES[outcome],
                "requests": entry["outcomes"][outcome],
                "share": percent(entry["outcomes"][outcome], total),
            }
            for outcome in OUTCOMES
        ],
        "reasons": [
            {
                "code": reason,
                "label": labels.REJECTION_REASONS[reason],
                "requests": entry["rejection_reasons"][reason],
            }
            for reason in RejectionReason.values
        ],
        "content": [
            {"code": key, "label": labels.CONTENT[key], "requests": count}
            for key, count in ((key, entry["content"][key]) for key in CONTENT_KEYS)
        ],
        # Versions published under counting rules 2 have no user notices: no table then.
        "notice_delays": [
            {
                "code": reason,
                "label": labels.NOTICE_DELAYS[reason],
                "accounts": entry["user_notices"]["delayed_by_reason"][reason],
            }
            for reason in NOTICE_DELAY_REASONS
        ]
        if entry.get("user_notices")
        else [],
    }


def _downloads(period: Period, *, version: int | None, draft: bool) -> list[dict[str, str]]:
    names = {
        "csv": _("CSV (govreq schema)"),
        "json": _("JSON (govreq schema)"),
        "meta": _("CSV in Meta's layout"),
        "google": _("CSV in Google's layout"),
    }
    view = "transparency:draft-download" if draft else "transparency:download"
    links = []
    for key, fmt in FORMATS.items():
        url = reverse(view, kwargs={"period": period.label, "suffix": fmt.suffix})
        if version and not draft:
            url += f"?version={version}"
        links.append(
            {"label": str(names[key]), "url": url, "filename": fmt.filename(period.label, version)}
        )
    return links


def _holds_shown(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The holds of these jurisdiction entries, with the jurisdiction's name and the exceptions
    in words."""
    shown = []
    for entry in entries:
        for hold in entry["holds"]:
            exceptions = (
                [str(_("emergencies (danger to life)"))] if hold["exceptions"]["emergency"] else []
            )
            exceptions += [
                str(labels.OFFENCES.get(code, code)) for code in hold["exceptions"]["offences"]
            ]
            shown.append(hold | {"name": entry["name"], "exceptions_shown": exceptions})
    return shown


def _report_context(
    period: Period, body: dict[str, Any], report: PublishedReport | None
) -> dict[str, Any]:
    holds = _holds_shown(body["jurisdictions"])
    bodies = published_half_year_bodies(extra=(period, body) if period.is_half_year else None)
    charts = [{"code": "ALL", "svg": _chart("ALL", bodies, "chart-all")}]
    for code in sorted({hold["jurisdiction"] for hold in holds}):
        charts.append({"code": code, "svg": _chart(code, bodies, f"chart-{code.lower()}")})
    versions = list(published_versions(period)) if report is not None else []
    return {
        "period": period,
        "body": body,
        "total": body["total"],
        "total_rows": _labelled(body["total"]),
        "jurisdictions": body["jurisdictions"],
        "holds": holds,
        "charts": charts,
        "report": report,
        "versions": versions,
        "draft": report is None,
        "downloads": _downloads(
            period, version=report.version if report else None, draft=report is None
        ),
    }


def _jurisdiction_context(
    period: Period, body: dict[str, Any], code: str, report: PublishedReport | None
) -> dict[str, Any]:
    try:
        entry = jurisdiction_entry(body, code)
    except NotFound:
        raise Http404("no such jurisdiction in this report") from None
    bodies = published_half_year_bodies(extra=(period, body) if period.is_half_year else None)
    return {
        "period": period,
        "body": body,
        "entry": entry,
        "holds": _holds_shown([entry]),
        "rows": _labelled(entry),
        "chart": _chart(entry["code"], bodies, f"chart-{entry['code'].lower()}"),
        "report": report,
        "draft": report is None,
        "downloads": _downloads(
            period, version=report.version if report else None, draft=report is None
        ),
    }


def _stream(
    period: Period, suffix: str, body: dict[str, Any], provenance: Provenance
) -> StreamingHttpResponse:
    fmt = FORMATS_BY_SUFFIX.get(suffix)
    if fmt is None:
        raise Http404("no such format")
    response = StreamingHttpResponse(fmt.render(body, provenance), content_type=fmt.media_type)
    filename = fmt.filename(period.label, provenance.version)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Public pages --------------------------------------------------------------------------------


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    def build() -> tuple[str, dict[str, Any]]:
        report = published_overview()
        context: dict[str, Any] = {"report": report, "published": published_index()}
        if report is not None:
            period = parse_period(report.period)
            context |= _report_context(period, report.body, report)
            context["leading"] = sorted(
                report.body["jurisdictions"], key=lambda entry: entry["requests"], reverse=True
            )[:10]
        return "transparency/overview.html", context

    return _public_page(request, "overview", build)


@require_GET
def rules(request: HttpRequest) -> HttpResponse:
    return _public_page(request, "rules", lambda: ("transparency/rules.html", {}))


@require_GET
def period_page(request: HttpRequest, period: str) -> HttpResponse:
    parsed = _period_or_404(period)

    def build() -> tuple[str, dict[str, Any]]:
        report = _published_or_404(parsed, request)
        return "transparency/period.html", _report_context(parsed, report.body, report)

    return _public_page(request, f"period:{parsed.label}", build)


@require_GET
def jurisdiction_page(request: HttpRequest, period: str, code: str) -> HttpResponse:
    parsed = _period_or_404(period)

    def build() -> tuple[str, dict[str, Any]]:
        report = _published_or_404(parsed, request)
        return "transparency/jurisdiction.html", _jurisdiction_context(
            parsed, report.body, code, report
        )

    return _public_page(request, f"jurisdiction:{parsed.label}:{code.upper()}", build)


@require_GET
def download(request: HttpRequest, period: str, suffix: str) -> StreamingHttpResponse:
    """A published version's frozen numbers, in any format (never recomputed)."""
    parsed = _period_or_404(period)
    report = _published_or_404(parsed, request)
    return _stream(parsed, suffix, report.body, report_provenance(report))


@require_GET
@condition(etag_func=lambda request: audit_checkpoints_version())
def audit_checkpoints_json(request: HttpRequest) -> StreamingHttpResponse:
    """Every signed checkpoint of the audit chain's head, and the keys that check them: for
    outside parties to fetch and keep (docs/audit.md). Streamed, so its size does not matter;
    cacheable for five minutes, and a copy already held is confirmed by its ETag (304)."""
    response = StreamingHttpResponse(
        audit_checkpoints_document(), content_type="application/json; charset=utf-8"
    )
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Staff: live drafts --------------------------------------------------------------------------


def _draft_body(period: Period) -> dict[str, Any]:
    return report_draft_cached(period=period, now=timezone.now())


@require_GET
def draft_period(request: HttpRequest, period: str) -> HttpResponse:
    if not _is_staff(request):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    parsed = _period_or_404(period)
    with translation.override(_language(request)):
        context = _report_context(parsed, _draft_body(parsed), None)
    return _render(request, "transparency/period.html", context)


@require_GET
def draft_jurisdiction(request: HttpRequest, period: str, code: str) -> HttpResponse:
    if not _is_staff(request):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    parsed = _period_or_404(period)
    with translation.override(_language(request)):
        context = _jurisdiction_context(parsed, _draft_body(parsed), code, None)
    return _render(request, "transparency/jurisdiction.html", context)


@require_GET
def draft_download(
    request: HttpRequest, period: str, suffix: str
) -> HttpResponse | StreamingHttpResponse:
    if not _is_staff(request):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    parsed = _period_or_404(period)
    return _stream(parsed, suffix, _draft_body(parsed), Provenance())
