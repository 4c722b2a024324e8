"""OSCAL building blocks shared by the bundle's documents, and the Annex A catalog and profile.

The catalog carries control identifiers and short titles only: the standard's text is ISO's and is
not ours to copy. The profile is the organisation's selection of it, the applicable controls (the
SoA without its exclusions). Every OSCAL object is made through compliance-trestle's models, so a
document that would not validate fails here, at export; trestle is imported only by the functions
that build documents, because it costs a command ~0.4 s to load.
"""

from __future__ import annotations

import enum
import json
import re
import uuid
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from agent import __version__
from agent.audit.catalog import THEMES, annex_a
from agent.literal import literal

if TYPE_CHECKING:
    from pydantic import AnyUrl
    from trestle.core.base_model import OscalBaseModel
    from trestle.oscal import common

OSCAL_DIR = "oscal"
CATALOG = f"{OSCAL_DIR}/catalog.json"
PROFILE = f"{OSCAL_DIR}/profile.json"
RESULTS = f"{OSCAL_DIR}/assessment-results.json"
# Annexa's own property names live in this namespace (OSCAL's default one has a closed vocabulary).
NS = "urn:annexa:oscal"
_UUIDS = uuid.uuid5(uuid.NAMESPACE_URL, NS)
# Markdown that could make text from collected systems render as something else: links, HTML,
# entities, emphasis, code. OSCAL's markup fields are Markdown in JSON; each is backslash-escaped.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>&#!|~])")


def uid(*parts: object) -> str:
    """A stable UUID (version 5) for what `parts` name: the same object gets the same UUID in
    every export, so documents of overlapping periods can be joined."""
    return str(uuid.uuid5(_UUIDS, "\x1f".join(str(p) for p in parts)))


def line(value: object) -> str:
    """One line of plain text for a field that allows neither control characters, line breaks
    nor leading or trailing spaces (OSCAL titles and property values): shown literally."""
    return " ".join(literal(value).split()) or "-"


def markup(value: object) -> str:
    """Text for an OSCAL markup field that renders literally: Markdown syntax escaped."""
    return _MARKDOWN.sub(r"\\\1", literal(value))


@cache
def _namespace() -> AnyUrl:
    from pydantic import AnyUrl

    return AnyUrl(NS)


def _plain(value: Any) -> Any:
    """What trestle's JSON serializer makes of the values a model dumps as Python objects."""
    from pydantic import AnyUrl
    from trestle.core.base_model import robust_datetime_serialization

    if isinstance(value, datetime):
        return robust_datetime_serialization(value)
    if isinstance(value, AnyUrl):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"no OSCAL JSON for {type(value).__name__}")


def dump(model: OscalBaseModel, *, pretty: bool = False) -> bytes:
    """A validated model's JSON, byte for byte what trestle's `oscal_serialize_json_bytes` writes
    (tests/test_oscal.py checks it), three times faster: trestle formats each field through a
    Python hook in JSON mode, here only the few values that need it are (see `_plain`)."""
    value = model.model_dump(by_alias=True, exclude_none=True)
    layout: dict[str, Any] = {"indent": 2} if pretty else {"separators": (",", ":")}
    return json.dumps(value, default=_plain, ensure_ascii=False, **layout).encode()


def prop(name: str, value: object) -> common.Property:
    from trestle.oscal import common

    return common.Property(name=name, ns=_namespace(), value=line(value))


def props(pairs: Iterable[tuple[str, object]]) -> list[common.Property] | None:
    """Annexa properties, skipping absent values (OSCAL lists are either absent or non-empty)."""
    out = [prop(name, value) for name, value in pairs if value is not None and value != ""]
    return out or None


def metadata(title: str, modified: datetime, remarks: str | None = None) -> common.Metadata:
    from trestle.oscal import OSCAL_VERSION, common

    return common.Metadata(
        title=line(title),
        last_modified=modified,
        version=__version__,
        oscal_version=common.OscalVersion(root=common.StringDatatype(root=OSCAL_VERSION)),
        props=[prop("generator", f"annexa {__version__}")],
        remarks=remarks,
    )


def in_scope(selected: list[str], excluded: Iterable[str]) -> list[str]:
    """The applicable controls a document covers: the bundle's (all when it names none), in
    catalog order, without the SoA's exclusions."""
    gone = set(excluded)
    return [c for c in annex_a() if (not selected or c in selected) and c not in gone]


def catalog_document(modified: datetime) -> bytes:
    from trestle.oscal import catalog

    groups: dict[str, list[catalog.Control]] = {theme: [] for theme in THEMES}
    for control in annex_a().values():
        groups[control.theme].append(
            catalog.Control(
                id=control.id,
                title=line(control.title),
                props=[prop("label", control.id)],
            )
        )
    doc = catalog.Catalog(
        uuid=uid("catalog", *annex_a()),
        metadata=metadata(
            "ISO/IEC 27001:2022 Annex A: control identifiers and short titles",
            modified,
            "The identifiers and short titles of the 93 controls of ISO/IEC 27001:2022 Annex A, "
            "for assessment results to refer to. The controls' text is in the standard, published by "
            "ISO; it is not reproduced here.",
        ),
        groups=[
            catalog.Group2(
                id=theme,
                title=f"{theme.capitalize()} controls (clause {clause})",
                controls=groups[theme],
            )
            for theme, clause in THEMES.items()
        ],
    )
    return dump(catalog.Model(catalog=doc), pretty=True)


def profile_document(modified: datetime, controls: list[str], catalog_href: str) -> bytes:
    """The applicable controls as a selection of the catalog (an SoA without its text)."""
    from trestle.oscal import common, profile

    imported: profile.Import1 | profile.Import2
    if controls:
        imported = profile.Import2(
            href=catalog_href, include_controls=[profile.SelectControl(with_ids=controls)]
        )
    else:  # nothing applicable in this bundle: every control left out
        imported = profile.Import1(
            href=catalog_href,
            include_all=common.IncludeAll(),
            exclude_controls=[profile.SelectControl(with_ids=list(annex_a()))],
        )
    doc = profile.Profile(
        uuid=uid("profile", modified.isoformat(), *controls),
        metadata=metadata(
            "Applicable ISO/IEC 27001:2022 Annex A controls",
            modified,
            "The controls this organisation applies (its Statement of Applicability without the "
            "exclusions), selected from the Annex A catalog beside this profile.",
        ),
        imports=[imported],
        merge=profile.Merge2(as_is=True),
    )
    return dump(profile.Model(profile=doc), pretty=True)


def control_selection(controls: list[str]) -> Any:
    """The controls an assessment reviewed, as OSCAL `reviewed-controls`."""
    from trestle.oscal import common

    if controls:
        selection: Any = common.ControlSelections(
            include_controls=[common.SelectControlById(control_id=c) for c in controls]
        )
    else:
        selection = common.ControlSelectionsAll(
            include_all=common.IncludeAll(),
            exclude_controls=[common.SelectControlById(control_id=c) for c in annex_a()],
        )
    return common.ReviewedControls(control_selections=[selection])
