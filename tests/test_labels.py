"""Labels people read: every code list's labels are distinct in each language, countries carry
natural short names (UN short names, codelists/country_labels.yaml) instead of ISO's inverted
list forms, and the ISO names they replace are still accepted in uploads."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from standards import Standard, load_standard
from standards.loader import DATA_DIR, load_standard_from
from standards.mappings import load_mappings, value_map
from standards.validation import validate_file

LANGUAGES = ("en", "ru", "fr")
COUNTRY_LISTS = ("CL_AREA", "CL_CITIZENSHIP")

# Checked by hand against UNTERM's short names (the convention of country_labels.yaml): the
# Central Asian States, the wider region of the Almaty conference, and Pakistan.
CENTRAL_ASIA_AND_WIDER = {
    "KAZ": ("Kazakhstan", "Казахстан", "Kazakhstan"),
    "KGZ": ("Kyrgyzstan", "Кыргызстан", "Kirghizistan"),
    "TJK": ("Tajikistan", "Таджикистан", "Tadjikistan"),
    "TKM": ("Turkmenistan", "Туркменистан", "Turkménistan"),
    "UZB": ("Uzbekistan", "Узбекистан", "Ouzbékistan"),
    "AFG": ("Afghanistan", "Афганистан", "Afghanistan"),
    "AZE": ("Azerbaijan", "Азербайджан", "Azerbaïdjan"),
    "CHN": ("China", "Китай", "Chine"),
    "IRN": ("Iran", "Иран", "Iran"),
    "RUS": ("Russian Federation", "Российская Федерация", "Fédération de Russie"),
    "TUR": ("Türkiye", "Турция", "Türkiye"),
    "PAK": ("Pakistan", "Пакистан", "Pakistan"),
}

# ISO's list forms: a name, a comma, then the qualifier ("Iran, Islamic Republic of",
# "Congo, The Democratic Republic of the", "Virgin Islands, British", "Taiwan, Province of China").
INVERTED_EN = re.compile(r", (?:The |the )?[\w' ]*\b(?:Republic|State|States|Province|Kingdom|"
                         r"Federation|Islands?)\b|, .*\bof(?: the)?$|, (?:British|U\.S\.)$")
# "Bolivie, état plurinational de", "Moldova, République de", "Åland, Îles", "Russie, Fédération
# de", "Taïwan, province de Chine", "Îles Vierges, États-Unis", "Palestine, État de".
INVERTED_FR = re.compile(r", (?:[ÉéEe]tats?|[Rr]épublique|[Ff]édération|[ÎîIi]les?|[Pp]rovince|"
                         r"[Rr]oyaume)\b|, .*\b(?:de|du|d')$")
SOVIET_ERA_RU = ("Киргизия", "Туркмения", "Молдавия", "Белоруссия", "Таджикия")


def _codelist_languages() -> list[tuple[str, str]]:
    return [(cl, lang) for cl in load_standard().codelists for lang in LANGUAGES]


def _labels(standard: Standard, lang: str) -> dict[str, str]:
    """code -> label in one language, of every country code (CL_CITIZENSHIP holds CL_AREA)."""
    return {c.id: c.label(lang) for c in standard.codelists["CL_CITIZENSHIP"].codes}


# --- every code list -----------------------------------------------------------------------------

@pytest.mark.parametrize(("codelist_id", "lang"), _codelist_languages(),
                         ids=lambda v: v)
def test_no_two_codes_of_a_code_list_share_a_label(standard: Standard, codelist_id: str,
                                                   lang: str) -> None:
    """A reader tells the codes apart by their labels: no two alike, ignoring case."""
    codes = standard.codelists[codelist_id].codes
    counts = Counter(c.label(lang).casefold() for c in codes)
    shared = {c.id: c.label(lang) for c in codes if counts[c.label(lang).casefold()] > 1}
    assert not shared, f"{codelist_id} [{lang}] codes share labels: {shared}"


@pytest.mark.parametrize(("codelist_id", "lang"), _codelist_languages(), ids=lambda v: v)
def test_every_code_has_a_label_of_its_own_in_each_language(standard: Standard, codelist_id: str,
                                                            lang: str) -> None:
    missing = [c.id for c in standard.codelists[codelist_id].codes
               if not (c.name.get(lang) or "").strip()]
    assert not missing, f"{codelist_id}: no {lang} label for {missing[:10]}"
    assert standard.codelists[codelist_id].name.get(lang), f"{codelist_id}: no {lang} name"


# --- countries: natural short names --------------------------------------------------------------

def test_kyrgyzstan_is_kyrgyzstan_in_russian(standard: Standard) -> None:
    """Кыргызстан, the official short name the States use, not the Soviet-era Киргизия."""
    for cl in COUNTRY_LISTS:
        kgz = standard.codelists[cl].by_id["KGZ"]
        assert kgz.label("ru") == "Кыргызстан"
        assert (kgz.label("en"), kgz.label("fr")) == ("Kyrgyzstan", "Kirghizistan")


@pytest.mark.parametrize("code", sorted(CENTRAL_ASIA_AND_WIDER))
def test_central_asia_and_the_wider_region_read_as_the_un_names_them(standard: Standard,
                                                                     code: str) -> None:
    country = standard.codelists["CL_AREA"].by_id[code]
    assert tuple(country.label(lang) for lang in LANGUAGES) == CENTRAL_ASIA_AND_WIDER[code]


def test_the_regions_members_are_covered_by_the_hand_check(standard: Standard) -> None:
    """The hand-checked table above covers the Central Asian and wider-region States."""
    assert standard.region_members("WIDER_CENTRAL_ASIA") <= set(CENTRAL_ASIA_AND_WIDER)


def test_no_english_label_is_an_inverted_iso_form(standard: Standard) -> None:
    inverted = {k: v for k, v in _labels(standard, "en").items() if INVERTED_EN.search(v)}
    assert not inverted, inverted


def test_no_french_label_is_an_inverted_iso_form(standard: Standard) -> None:
    labels = _labels(standard, "fr")
    inverted = {k: v for k, v in labels.items() if INVERTED_FR.search(v)}
    assert not inverted, inverted
    assert not [v for v in labels.values() if ", état" in v or ", République" in v]
    assert not [v for v in labels.values() if re.search(r"\bétat\b", v)], "État is capitalised"


def test_the_patterns_catch_what_iso_writes(standard: Standard) -> None:
    """The inverted-form checks above would have failed on the generated ISO names."""
    for iso in ("Iran, Islamic Republic of", "Korea, Republic of", "Moldova, Republic of",
                "Bolivia, Plurinational State of", "Tanzania, United Republic of",
                "Venezuela, Bolivarian Republic of", "Taiwan, Province of China",
                "Congo, The Democratic Republic of the", "Virgin Islands, British",
                "Micronesia, Federated States of", "Palestine, State of"):
        assert INVERTED_EN.search(iso), iso
    for iso in ("Bolivie, état plurinational de", "Iran, République islamique d'",
                "Moldova, République de", "Russie, Fédération de", "Åland, Îles",
                "Taïwan, province de Chine", "Îles Vierges, États-Unis", "Palestine, État de"):
        assert INVERTED_FR.search(iso), iso
    for fine in ("Bonaire, Sint Eustatius and Saba", "Saint Helena, Ascension and Tristan da Cunha",
                 "Bonaire, Saint-Eustache et Saba", "Sainte-Hélène, Ascension et Tristan da Cunha"):
        assert not INVERTED_EN.search(fine) and not INVERTED_FR.search(fine), fine


def test_no_russian_label_is_a_soviet_era_name(standard: Standard) -> None:
    labels = _labels(standard, "ru")
    assert not {k: v for k, v in labels.items() if v in SOVIET_ERA_RU}
    assert labels["TKM"] == "Туркменистан"
    assert labels["MDA"] == "Республика Молдова"
    assert labels["BLR"] == "Беларусь"


@pytest.mark.parametrize(("code", "en", "ru", "fr"), [
    ("KOR", "Republic of Korea", "Республика Корея", "République de Corée"),
    ("PRK", "Democratic People's Republic of Korea",
     "Корейская Народно-Демократическая Республика", "République populaire démocratique de Corée"),
    ("MDA", "Republic of Moldova", "Республика Молдова", "République de Moldova"),
    ("TZA", "United Republic of Tanzania", "Объединенная Республика Танзания",
     "République-Unie de Tanzanie"),
    ("BOL", "Bolivia", "Боливия", "Bolivie"),
    ("VEN", "Venezuela", "Венесуэла", "Venezuela"),
    ("COD", "Democratic Republic of the Congo", "Демократическая Республика Конго",
     "République démocratique du Congo"),
    ("TWN", "Taiwan Province of China", "Китайская провинция Тайвань",
     "Province chinoise de Taïwan"),
    ("VAT", "Holy See", "Святой Престол", "Saint-Siège"),
    ("PSE", "State of Palestine", "Государство Палестина", "État de Palestine"),
])
def test_countries_iso_lists_inverted_read_naturally(standard: Standard, code: str, en: str,
                                                      ru: str, fr: str) -> None:
    country = standard.codelists["CL_AREA"].by_id[code]
    assert (country.label("en"), country.label("ru"), country.label("fr")) == (en, ru, fr)


def test_extra_citizenship_codes_read_well_in_every_language(standard: Standard) -> None:
    cit = standard.codelists["CL_CITIZENSHIP"]
    assert [cit.by_id["STLS"].label(lang) for lang in LANGUAGES] == [
        "Stateless", "Без гражданства", "Apatride"]
    assert [cit.by_id["UNK"].label(lang) for lang in LANGUAGES] == [
        "Unknown citizenship", "Гражданство неизвестно", "Nationalité inconnue"]


def test_every_label_override_replaces_an_iso_name(standard: Standard, tmp_path) -> None:
    """country_labels.yaml lists only countries whose ISO names it changes, each in en, ru, fr;
    the ISO names replaced are kept on the code as aliases."""
    from standards.loader import _country_labels

    labels = _country_labels(DATA_DIR / "codelists" / "country_labels.yaml")
    iso = load_standard_from(_data_copy(tmp_path, "labels: {}\n")).codelists["CL_AREA"]
    area = standard.codelists["CL_AREA"]
    assert labels and set(labels) <= set(area.ids)
    for code, name in labels.items():
        assert area.by_id[code].name == name, code
        assert name != iso.by_id[code].name, f"{code}: same as the ISO names, nothing to override"
        replaced = set(iso.by_id[code].name.values()) - set(name.values())
        assert set(area.by_id[code].aliases) == replaced, code
    untouched = [c for c in area.codes if c.id not in labels]
    assert untouched and not any(c.aliases for c in untouched)
    assert all(c.name == iso.by_id[c.id].name for c in untouched)


def test_iso_formal_names_stay_the_description(standard: Standard) -> None:
    area = standard.codelists["CL_AREA"]
    assert area.by_id["KGZ"].description["en"] == "Kyrgyz Republic"
    assert area.by_id["IRN"].description["en"] == "Islamic Republic of Iran"


# --- the old names are still accepted in uploads -------------------------------------------------

@pytest.mark.parametrize(("variant", "code"), [
    ("Киргизия", "KGZ"), ("Кыргызстан", "KGZ"), ("Kyrgyz Republic", "KGZ"),
    ("Iran, Islamic Republic of", "IRN"), ("Iran (Islamic Republic of)", "IRN"), ("Iran", "IRN"),
    ("Iran, République islamique d'", "IRN"), ("Иран (Исламская Республика)", "IRN"),
    ("Korea, Republic of", "KOR"), ("Republic of Korea", "KOR"), ("Corée, République de", "KOR"),
    ("Moldova, Republic of", "MDA"), ("Moldova, République de", "MDA"),
    ("Bolivia, Plurinational State of", "BOL"), ("Bolivie, état plurinational de", "BOL"),
    ("Tanzania, United Republic of", "TZA"), ("Танзания", "TZA"),
    ("Venezuela, Bolivarian Republic of", "VEN"), ("Taiwan, Province of China", "TWN"),
    ("Congo, The Democratic Republic of the", "COD"), ("Turquie", "TUR"), ("Turkey", "TUR"),
    ("Türkiye", "TUR"), ("United Kingdom", "GBR"), ("Соединённые штаты", "USA"),
    ("Apatride", "STLS"), ("Nationalité inconnue", "UNK"),
])
def test_old_iso_names_and_new_labels_both_map(variant: str, code: str) -> None:
    aliases = load_mappings().aliases
    for dim in ("CITIZENSHIP", "REF_AREA"):
        assert aliases[dim].get(variant.casefold()) == code, (dim, variant)


def test_every_country_name_maps_back_to_its_own_code(standard: Standard) -> None:
    """No label, ISO name or formal name of one country is taken by another's."""
    aliases = load_mappings().aliases["CITIZENSHIP"]
    wrong = {}
    for country in standard.codelists["CL_AREA"].codes:
        for name in {*country.name.values(), *country.aliases, *country.description.values()}:
            if aliases.get(name.casefold()) != country.id:
                wrong[name] = (country.id, aliases.get(name.casefold()))
    assert not wrong, wrong


def test_value_map_lifts_both_russian_names_of_kyrgyzstan(standard: Standard) -> None:
    mapped = value_map(["Киргизия", "Кыргызстан", "KGZ"], "CITIZENSHIP", standard,
                       load_mappings())
    assert mapped == {"Киргизия": ("KGZ", "alias"), "Кыргызстан": ("KGZ", "alias")}


def test_an_upload_with_the_old_russian_name_validates(example, tmp_path) -> None:
    frame = example.with_columns(pl.col("CITIZENSHIP").replace({"AFG": "Киргизия"}))
    path = tmp_path / "upload.csv"
    frame.write_csv(path)
    report = validate_file(path, country="KAZ", period="2026-Q3")
    assert report.valid, report.as_dict()["errors"][:2]
    assert any("'Киргизия' -> KGZ" in note for note in report.notes)


# --- the loader checks the labels file -----------------------------------------------------------

def _data_copy(tmp_path: Path, labels: str) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    (data / "codelists" / "country_labels.yaml").write_text(labels, encoding="utf-8")
    return data


def test_a_label_missing_a_language_is_refused(tmp_path) -> None:
    data = _data_copy(tmp_path, "labels:\n  KGZ: {en: Kyrgyzstan, ru: Кыргызстан}\n")
    with pytest.raises(ValueError, match="KGZ needs a label in each of en, ru, fr"):
        load_standard_from(data)


def test_a_label_for_an_unknown_code_is_refused(tmp_path) -> None:
    data = _data_copy(tmp_path, "labels:\n  XKX: {en: Kosovo, ru: Косово, fr: Kosovo}\n")
    with pytest.raises(ValueError, match="not ISO 3166-1 alpha-3: \\['XKX'\\]"):
        load_standard_from(data)
