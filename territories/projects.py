"""The bassins' "Projet numérique de territoire": limited formatting, always sanitised.

Coordinators write Markdown; what reaches the page is HTML limited to paragraphs,
lists, emphasis and http(s)/mailto links, cleaned by nh3 (ammonia) whatever was
typed — raw HTML, scripts and javascript: links never survive.
"""

import markdown
import nh3
from django.utils.safestring import mark_safe

ALLOWED_TAGS = {"p", "br", "ul", "ol", "li", "strong", "em", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render(text):
    """Safe HTML for `text` (Markdown with limited formatting)."""
    html = markdown.markdown(text or "", extensions=["sane_lists"], output_format="html")
    return mark_safe(
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=URL_SCHEMES,
            link_rel="noopener noreferrer nofollow",
        )
    )
