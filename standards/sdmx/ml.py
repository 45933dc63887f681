"""What every SDMX-ML 2.1 message shares: the namespaces and the header.

Messages are written as text, not built as trees: a data message of a region over many quarters
holds millions of observations and is streamed. Clients are strict about the opening (the XML
declaration as the first byte, a prefixed root) and about the header's fields in schema order
(ID, Test, Prepared, Sender, then Structure for data), so this is the one place that writes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from xml.sax.saxutils import quoteattr

from standards.sdmx.catalogue import LANGUAGES

V21 = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1"
NAMESPACES: dict[str, str] = {
    "mes": f"{V21}/message",
    "str": f"{V21}/structure",
    "com": f"{V21}/common",
    "gen": f"{V21}/data/generic",
    "ss": f"{V21}/data/structurespecific",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "xml": "http://www.w3.org/XML/1998/namespace",
}
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def xmlns(*prefixes: str, **extra: str) -> str:
    """``xmlns:p="…"`` declarations for the root element (``extra``: prefix -> URI)."""
    pairs = [(p, NAMESPACES[p]) for p in prefixes] + list(extra.items())
    return " ".join(f"xmlns:{p}={quoteattr(uri)}" for p, uri in pairs)


def attr(value: object) -> str:
    """An attribute value, quoted and escaped."""
    return quoteattr(str(value))


def text(value: object) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def names(element: str, values: Mapping[str, str], languages: tuple[str, ...] = LANGUAGES
          ) -> str:
    """``<com:Name xml:lang="en">…</com:Name>`` (or Description) for each language we have."""
    return "".join(f'<com:{element} xml:lang="{lang}">{text(values[lang])}</com:{element}>'
                   for lang in languages if values.get(lang))


def prepared(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def header(message_id: str, *, sender: str, now: datetime | None = None,
           structure: str = "") -> str:
    """The ``mes:Header``; ``structure`` is the data message's ``mes:Structure`` element(s)."""
    return (f"<mes:Header><mes:ID>{text(message_id)}</mes:ID><mes:Test>false</mes:Test>"
            f"<mes:Prepared>{prepared(now)}</mes:Prepared><mes:Sender id={attr(sender)}/>"
            f"{structure}</mes:Header>")
