"""Admin list cells labelled with their column heading, for the phone layout of the portal
app's lists (templates/admin/portal/change_list_results.html, portal/static/portal/admin.css).

Django renders each cell as a finished ``<td …>``/``<th …>`` string and offers no hook for
attributes; the label is added to that opening tag. The action checkbox column (its heading
is markup, not text) stays unlabelled.
"""

from __future__ import annotations

import re

from django import template
from django.utils.html import format_html, strip_tags
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_OPENING_TAG = re.compile(r"^<(td|th)\b")


@register.simple_tag
def labelled_cell(cell: SafeString, headers: list[dict], index: int) -> SafeString:
    """``cell`` with ``data-label="<heading of column index>"`` in its opening tag."""
    header = headers[index] if index < len(headers) else {}
    label = strip_tags(str(header.get("text", ""))).strip()
    if not label or header.get("class_attrib", "").find("action-checkbox") != -1:
        return cell
    attribute = format_html(' data-label="{}"', label[:1].upper() + label[1:])
    # ``cell`` is Django's finished, escaped markup; only the escaped attribute is added.
    return mark_safe(_OPENING_TAG.sub(  # noqa: S308
        lambda match: f"<{match.group(1)}{attribute}", str(cell), count=1))
