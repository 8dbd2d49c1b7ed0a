"""Country names of the Online Retail data -> ISO 3166-1 alpha-2, as Braze's ``country`` wants.

Braze stores ``country`` as ISO-3166-1 alpha-2 and maps names on a best-effort basis, unmappable
values becoming NULL (braze-api.md §1.1.1); the replay sends codes so the result does not depend on
the server's mapping. The data set's own spellings are covered (``EIRE``, ``RSA``, ``USA``).
``Channel Islands`` (Jersey JE or Guernsey GG), ``European Community`` and ``Unspecified`` name no
single country: no ``country`` is sent for them.
"""

from __future__ import annotations

COUNTRY_CODES: dict[str, str | None] = {
    "Australia": "AU",
    "Austria": "AT",
    "Bahrain": "BH",
    "Belgium": "BE",
    "Brazil": "BR",
    "Canada": "CA",
    "Channel Islands": None,
    "Cyprus": "CY",
    "Czech Republic": "CZ",
    "Denmark": "DK",
    "EIRE": "IE",
    "Ireland": "IE",
    "European Community": None,
    "Finland": "FI",
    "France": "FR",
    "Germany": "DE",
    "Greece": "GR",
    "Hong Kong": "HK",
    "Iceland": "IS",
    "Israel": "IL",
    "Italy": "IT",
    "Japan": "JP",
    "Lebanon": "LB",
    "Lithuania": "LT",
    "Malta": "MT",
    "Netherlands": "NL",
    "Norway": "NO",
    "Poland": "PL",
    "Portugal": "PT",
    "RSA": "ZA",
    "South Africa": "ZA",
    "Saudi Arabia": "SA",
    "Singapore": "SG",
    "Spain": "ES",
    "Sweden": "SE",
    "Switzerland": "CH",
    "USA": "US",
    "United States": "US",
    "United Arab Emirates": "AE",
    "United Kingdom": "GB",
    "Unspecified": None,
}


def country_code(name: str) -> str | None:
    """ISO 3166-1 alpha-2 for a country name of the data set; ``None`` when it names no single
    country or is unknown (then no ``country`` attribute is sent)."""
    name = name.strip()
    if len(name) == 2 and name.isalpha() and name.isupper():
        return name
    return COUNTRY_CODES.get(name)
