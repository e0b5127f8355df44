"""Notice rules in plain words for pages, forms, e-mails and PDFs (the contract page's rule
list, the catalogue): ``notice_words(plan_or_booking)``."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.periods import Period


def period_words(text: str) -> str:
    """``"15d"`` → ``15 Tage``, ``"12m"`` → ``12 Monate``, ``"1m15d"`` → ``1 Monat und 15 Tage``."""
    period = Period.parse(text)
    parts = []
    if period.months:
        parts.append(ngettext("%(n)d Monat", "%(n)d Monate", period.months)
                     % {"n": period.months})
    if period.weeks:
        parts.append(ngettext("%(n)d Woche", "%(n)d Wochen", period.weeks) % {"n": period.weeks})
    if period.days:
        parts.append(ngettext("%(n)d Tag", "%(n)d Tage", period.days) % {"n": period.days})
    return _(" und ").join(parts)


def _renewal_words(renewal: str) -> str:
    if not renewal:
        return ""
    period = Period.parse(renewal)
    if (period.months, period.weeks, period.days) == (1, 0, 0):
        return _("monatlich")
    return _("jeweils um %(period)s") % {"period": period_words(renewal)}


def notice_words(terms) -> str:
    """A plan's or booking's rule in plain words, e.g. "12 Monate Mindestlaufzeit, danach
    monatlich; Kündigung 15 Tage zum Monatsende"."""
    renewal = _renewal_words(terms.renewal)
    if terms.min_term:
        term = _("%(period)s Mindestlaufzeit") % {"period": period_words(terms.min_term)}
        if renewal:
            term = _("%(term)s, danach %(renewal)s") % {"term": term, "renewal": renewal}
    else:
        term = _("keine Mindestlaufzeit")
        if renewal:
            term = _("%(term)s, Verlängerung %(renewal)s") % {"term": term, "renewal": renewal}
    notice = period_words(terms.notice)
    anchor = terms.notice_anchor
    if anchor == "month_end":
        rule = _("Kündigung %(notice)s zum Monatsende") % {"notice": notice}
    elif anchor == "term_end":
        rule = _("Kündigung %(notice)s zum Laufzeitende") % {"notice": notice}
    elif anchor == "any_day":
        rule = _("Kündigung jederzeit mit %(notice)s Frist") % {"notice": notice}
    else:
        rule = _("ordentliche Kündigung ausgeschlossen")
    return _("%(term)s; %(rule)s") % {"term": term[:1].upper() + term[1:], "rule": rule}
