"""Reference data of the fictional shop Groenhuys: countries, names, products, devices, traffic."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

SHOP_URL = "https://www.groenhuys.nl"


def _list(text: str) -> tuple[str, ...]:
    """Comma-separated names as a tuple ('de Jong, Jansen' -> ('de Jong', 'Jansen'))."""
    return tuple(part.strip() for part in text.split(","))


@dataclass(frozen=True)
class City:
    """A city with the parts needed to make a plausible postal address."""

    name: str
    province: str
    postal_prefix: str
    area_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Country:
    """A customer country: its names, addresses, e-mail domains and how people there write."""

    code: str
    weight: float
    crm_labels: tuple[str, ...]
    locales: tuple[str, ...]
    domains: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    streets: tuple[str, ...]
    number_first: bool
    cities: tuple[City, ...]
    tax_percent: int


NL = Country(
    code="NL",
    weight=0.55,
    crm_labels=("Netherlands",) * 7 + ("Nederland", "NL", ""),
    locales=("nl-NL",) * 5 + ("en-US", "en-GB"),
    domains=_list(
        "gmail.com, hotmail.com, outlook.com, ziggo.nl, kpnmail.nl, live.nl, icloud.com, "
        "xs4all.nl, planet.nl, hetnet.nl"
    ),
    first_names=_list(
        "Anna, Emma, Sophie, Julia, Zoë, Lotte, Sanne, Fleur, Eva, Lieke, Iris, Noor, Femke, "
        "Anouk, Esther, Marieke, Ingrid, José, Inge, Mirjam, Ilse, Marloes, Annemiek, Renée, "
        "Chloë, Fatima, Meryem, Özlem, Saskia, Daan, Sem, Lucas, Levi, Finn, Thijs, Bram, Ruben, "
        "Jeroen, Sander, Bas, Joost, Pieter, Willem, Koen, Mohamed, Ahmet, Youssef, Gijs, "
        "Maarten, Hendrik, Jan, Kees, Wouter, Niels, Tim, Lars, Stijn, Rik, Mees, Teun"
    ),
    last_names=_list(
        "de Jong, Jansen, de Vries, van den Berg, van Dijk, Bakker, Visser, Smit, Meijer, "
        "de Boer, Mulder, de Groot, Bos, Vos, Peters, Hendriks, van Leeuwen, Dekker, Brouwer, "
        "de Wit, Dijkstra, Smits, de Graaf, van der Meer, van der Linden, Kok, de Haan, "
        "Vermeulen, van den Heuvel, van der Veen, van den Broek, de Bruijn, van der Heijden, "
        "Schouten, van Beek, Willemsen, van Vliet, Hoekstra, Verhoeven, Koster, Prins, Blom, "
        "Huisman, Kuipers, van Wijk, Postma, Kramer, Yılmaz, El Amrani, Öztürk, Ørsted, Bouzid, "
        "Çelik, Boersma, Veenstra, de Ruiter, Hofstede, Timmermans, van Rijn, Zwart"
    ),
    streets=_list(
        "Kerkstraat, Dorpsstraat, Molenweg, Prinsengracht, Lindenlaan, Stationsweg, Beukenlaan, "
        "Julianastraat, Wilhelminastraat, Schoolstraat, Vondellaan, Oranjestraat, Eikenlaan, "
        "Tuinstraat, Marktplein"
    ),
    number_first=False,
    cities=(
        City("Amsterdam", "NH", "10"),
        City("Rotterdam", "ZH", "30"),
        City("Den Haag", "ZH", "25"),
        City("Utrecht", "UT", "35"),
        City("Eindhoven", "NB", "56"),
        City("Groningen", "GR", "97"),
        City("Haarlem", "NH", "20"),
        City("Arnhem", "GE", "68"),
        City("Zwolle", "OV", "80"),
        City("Leiden", "ZH", "23"),
        City("Nijmegen", "GE", "65"),
        City("Breda", "NB", "48"),
        City("Delft", "ZH", "26"),
        City("Amersfoort", "UT", "38"),
        City("Maastricht", "LI", "62"),
        City("Apeldoorn", "GE", "73"),
        City("'s-Hertogenbosch", "NB", "52"),
    ),
    tax_percent=21,
)


BE = Country(
    code="BE",
    weight=0.15,
    crm_labels=("Belgium",) * 6 + ("België", "Belgique", "BE"),
    locales=("nl-BE",) * 3 + ("fr-BE",),
    domains=_list("telenet.be, skynet.be, proximus.be, gmail.com, hotmail.com, outlook.be"),
    first_names=_list(
        "Louis, Arthur, Noah, Jules, Victor, Olivia, Louise, Marie, Elise, Lore, Wout, Jens, "
        "Pieter-Jan, Françoise, Geneviève, Amélie, Hélène, Lien, Ine, Wim, Luc, Jef, Bart, Dries, "
        "Sien, Noémie, Maxime, Thibault, Rania, Seppe, Kato, Febe, Lucas, Emma, Anouk, Stijn"
    ),
    last_names=_list(
        "Peeters, Janssens, Maes, Jacobs, Mertens, Willems, Claes, Goossens, Wouters, De Smet, "
        "Dubois, Lambert, Dupont, Vermeersch, Van Damme, De Backer, Michiels, Hermans, Leclercq, "
        "Lejeune, Vandenbroucke, Verstraete, Cools, Coppens, Declercq, Martens, Laurent, Renard, "
        "Lemaire, Bogaert, Dewulf, Pauwels, Segers, Van de Velde, Devos, Van Acker, Desmedt, "
        "Geerts, Nuyts, Baert"
    ),
    streets=_list(
        "Kerkstraat, Stationsstraat, Rue de la Station, Nieuwstraat, Dorpstraat, "
        "Chaussée de Waterloo, Meir, Veldstraat, Kouter, Rue du Marché"
    ),
    number_first=False,
    cities=(
        City("Antwerpen", "VAN", "20"),
        City("Gent", "VOV", "90"),
        City("Brussel", "BRU", "10"),
        City("Leuven", "VBR", "30"),
        City("Brugge", "VWV", "80"),
        City("Mechelen", "VAN", "28"),
        City("Hasselt", "VLI", "35"),
        City("Liège", "WLG", "40"),
        City("Namur", "WNA", "50"),
        City("Kortrijk", "VWV", "85"),
    ),
    tax_percent=21,
)


DE = Country(
    code="DE",
    weight=0.15,
    crm_labels=("Germany",) * 6 + ("Deutschland", "DE"),
    locales=("de-DE",) * 4 + ("en-US",),
    domains=_list("gmx.de, web.de, t-online.de, gmail.com, posteo.de, freenet.de"),
    first_names=_list(
        "Lukas, Leon, Felix, Jonas, Maximilian, Paul, Elias, Ben, Jürgen, Jörg, Günter, Uwe, "
        "Stefan, Matthias, Sabine, Ursula, Katrin, Anja, Birgit, Mia, Hannah, Lena, Lea, Leonie, "
        "Sophie, Marie, Jana, Franziska, Bärbel, Käthe, Sören, Björn, Dörte, Heike, Tobias, "
        "Florian"
    ),
    last_names=_list(
        "Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann, "
        "Schäfer, Koch, Bauer, Richter, Klein, Wolf, Schröder, Neumann, Schwarz, Zimmermann, "
        "Braun, Krüger, Hartmann, Lange, Schmitt, Werner, Schmitz, Krause, Meier, Lehmann, "
        "Schulze, Köhler, Herrmann, König, Kaiser, Fuchs, Scholz, Möller, Weiß, Vogel"
    ),
    streets=_list(
        "Hauptstraße, Bahnhofstraße, Schulstraße, Gartenstraße, Lindenstraße, Goethestraße, "
        "Königsallee, Am Markt, Rosenweg, Birkenweg"
    ),
    number_first=False,
    cities=(
        City("Berlin", "BE", "10"),
        City("Hamburg", "HH", "20"),
        City("München", "BY", "80"),
        City("Köln", "NW", "50"),
        City("Düsseldorf", "NW", "40"),
        City("Frankfurt am Main", "HE", "60"),
        City("Münster", "NW", "48"),
        City("Aachen", "NW", "52"),
        City("Leipzig", "SN", "04"),
    ),
    tax_percent=19,
)


GB = Country(
    code="GB",
    weight=0.08,
    crm_labels=("United Kingdom",) * 6 + ("UK", "GB", "England"),
    locales=("en-GB",),
    domains=_list("gmail.com, btinternet.com, yahoo.co.uk, hotmail.co.uk, outlook.com"),
    first_names=_list(
        "Oliver, George, Harry, Jack, Charlie, Oscar, Olivia, Amelia, Isla, Ava, Emily, Poppy, "
        "Sophie, Grace, Siobhan, Niamh, Aoife, Callum, Rhys, Dylan, Ffion, Zoë, Chloë, Imogen, "
        "Freddie, Alfie"
    ),
    last_names=_list(
        "Taylor, Davies, Evans, Wilson, Roberts, Wright, Walker, Robinson, Thompson, White, "
        "Hughes, Edwards, Green, Hall, Wood, Harris, Lewis, Clarke, Jackson, Patel, Khan, Turner, "
        "Hill, Cooper, Ward, Morris, Moore, Watson, Baker, Harrison, Morgan, Phillips, Parker, "
        "Bennett, Shaw, O'Brien, Ellis, Murphy, Chapman, Richardson"
    ),
    streets=_list(
        "High Street, Station Road, Church Lane, Victoria Road, Park Avenue, Mill Lane, "
        "Kings Road, The Crescent"
    ),
    number_first=True,
    cities=(
        City("London", "", "SE15"),
        City("London", "", "N1"),
        City("London", "", "E8"),
        City("Manchester", "", "M20"),
        City("Bristol", "", "BS6"),
        City("Leeds", "", "LS6"),
        City("Edinburgh", "", "EH10"),
        City("Brighton", "", "BN1"),
        City("Oxford", "", "OX4"),
    ),
    tax_percent=0,
)


US = Country(
    code="US",
    weight=0.07,
    crm_labels=("United States",) * 6 + ("USA", "US", "United States of America"),
    locales=("en-US",),
    domains=_list("gmail.com, yahoo.com, outlook.com, aol.com, icloud.com, comcast.net"),
    first_names=_list(
        "James, Michael, Robert, John, David, William, Mary, Patricia, Jennifer, Linda, "
        "Elizabeth, Jessica, Ashley, Emily, Madison, Tyler, Brandon, Kevin, José, María, Sofía, "
        "Diego, Mateo, Camila, Ethan, Harper"
    ),
    last_names=_list(
        "Johnson, Williams, Brown, Jones, Garcia, Miller, Davis, Rodriguez, Martinez, Hernandez, "
        "Lopez, Gonzalez, Anderson, Lee, Perez, Young, Allen, Sanchez, Nguyen, Ramirez, Flores, "
        "Rivera, Torres, Campbell, Mitchell, Carter, Gomez, Reyes, Sullivan, Kowalski, Novak, "
        "Schultz, Nakamura, Okafor, Brennan, Castillo"
    ),
    streets=_list(
        "Main Street, Oak Avenue, Maple Drive, Cedar Lane, Elm Street, Washington Avenue, "
        "Lake Shore Drive, Sunset Boulevard"
    ),
    number_first=True,
    cities=(
        City("New York", "NY", "100", ("212", "646", "917")),
        City("Brooklyn", "NY", "112", ("718", "347")),
        City("Seattle", "WA", "981", ("206",)),
        City("Portland", "OR", "972", ("503",)),
        City("Austin", "TX", "787", ("512",)),
        City("Chicago", "IL", "606", ("312", "773")),
        City("Boston", "MA", "021", ("617",)),
        City("San Francisco", "CA", "941", ("415",)),
    ),
    tax_percent=0,
)

COUNTRIES = (NL, BE, DE, GB, US)


@dataclass(frozen=True)
class Product:
    """A product of the shop's catalogue."""

    product_id: str
    sku: str
    handle: str
    name: str
    category: str
    price_cents: int
    compare_at_cents: int
    vendor: str


CATEGORIES = {
    "tuinmeubelen": ("Tuinmeubelen", "TM"),
    "potten-plantenbakken": ("Potten & plantenbakken", "PP"),
    "buitenverlichting": ("Buitenverlichting", "BV"),
    "woontextiel": ("Woontextiel", "WT"),
    "keuken-tafel": ("Keuken & tafel", "KT"),
    "decoratie": ("Decoratie", "DC"),
    "tuingereedschap": ("Tuingereedschap", "TG"),
    "planten-zaden": ("Planten & zaden", "PZ"),
    "barbecue": ("Barbecue & buitenkeuken", "BQ"),
}

_PRODUCTS = (
    ("tuinmeubelen", "Teak tuintafel Lombok 180 cm", 64900, 74900, "Hollands Hout"),
    ("tuinmeubelen", "Loungeset Bali 4-delig", 119900, 0, "Hollands Hout"),
    ("tuinmeubelen", "Klapstoel Jardin groen", 4995, 0, "Atelier Noord"),
    ("tuinmeubelen", "Hangmat Siesta katoen", 6995, 7995, "Linnenhuis"),
    ("tuinmeubelen", "Ligbed Capri", 18900, 0, "Hollands Hout"),
    ("tuinmeubelen", "Bistroset Montmartre", 12900, 14900, "Atelier Noord"),
    ("potten-plantenbakken", "Terracotta bloempot 20 cm", 1295, 0, "Terra & Co"),
    ("potten-plantenbakken", "Terracotta bloempot 35 cm", 2995, 0, "Terra & Co"),
    ("potten-plantenbakken", "Zinken plantenbak 80 cm", 5995, 0, "Terra & Co"),
    ("potten-plantenbakken", "Hangpot macramé", 1995, 0, "Linnenhuis"),
    ("potten-plantenbakken", "Plantenbak cortenstaal 100 cm", 14900, 16900, "Vuur & Vlam"),
    ("potten-plantenbakken", "Keramiek pot oker 25 cm", 3495, 0, "Terra & Co"),
    ("buitenverlichting", "Solar lichtsnoer 10 m", 2495, 2995, "Lumen Living"),
    ("buitenverlichting", "Rotan hanglamp Ubud", 8900, 0, "Lumen Living"),
    ("buitenverlichting", "Buitenwandlamp Nordlys", 7995, 0, "Lumen Living"),
    ("buitenverlichting", "Windlicht glas & hout", 2250, 0, "Atelier Noord"),
    ("buitenverlichting", "Tuinfakkel bamboe set van 4", 1695, 0, "Lumen Living"),
    ("woontextiel", "Linnen kussenhoes oker 45x45", 2495, 0, "Linnenhuis"),
    ("woontextiel", "Linnen kussenhoes salie 45x45", 2495, 0, "Linnenhuis"),
    ("woontextiel", "Buitenkleed Ibiza 160x230", 11900, 13900, "Linnenhuis"),
    ("woontextiel", "Wollen plaid Texel", 7900, 0, "Linnenhuis"),
    ("woontextiel", "Tafelkleed linnen naturel", 4995, 0, "Linnenhuis"),
    ("keuken-tafel", "Stoneware dinerbord set van 4", 4495, 0, "Tafelgoed"),
    ("keuken-tafel", "Glazen karaf met bamboe dop", 1995, 0, "Tafelgoed"),
    ("keuken-tafel", "Olijfhouten snijplank", 3495, 0, "Tafelgoed"),
    ("keuken-tafel", "Linnen theedoeken set van 3", 2195, 0, "Linnenhuis"),
    ("keuken-tafel", "Espressokopjes Zoë set van 2", 1750, 0, "Tafelgoed"),
    ("decoratie", "Geurkaars vijgenblad", 1895, 0, "Atelier Noord"),
    ("decoratie", "Vaas gerecycled glas", 2750, 0, "Atelier Noord"),
    ("decoratie", "Wandspiegel rotan rond", 6900, 7900, "Atelier Noord"),
    ("decoratie", "Fotolijst eiken 13x18", 1495, 0, "Hollands Hout"),
    ("decoratie", "Droogbloemen boeket lente", 2995, 0, "Zaadgoed"),
    ("tuingereedschap", "Snoeischaar Profi", 3495, 0, "Tuinkracht"),
    ("tuingereedschap", "Gieter zink 9 liter", 3995, 0, "Tuinkracht"),
    ("tuingereedschap", "Tuinhandschoenen leer", 1495, 0, "Tuinkracht"),
    ("tuingereedschap", "Plantschepje RVS", 1250, 0, "Tuinkracht"),
    ("tuingereedschap", "Compostbak 300 liter", 5495, 6495, "Tuinkracht"),
    ("planten-zaden", "Olijfboom in pot 120 cm", 8900, 0, "Zaadgoed"),
    ("planten-zaden", "Lavendel Hidcote 6 stuks", 1995, 0, "Zaadgoed"),
    ("planten-zaden", "Moestuin zadenpakket", 1495, 0, "Zaadgoed"),
    ("planten-zaden", "Monstera deliciosa 80 cm", 4495, 0, "Zaadgoed"),
    ("planten-zaden", "Bloembollen mix herfst", 2495, 0, "Zaadgoed"),
    ("barbecue", "Houtskoolbarbecue Kettle 57 cm", 17900, 19900, "Vuur & Vlam"),
    ("barbecue", "Vuurschaal cortenstaal 60 cm", 12900, 0, "Vuur & Vlam"),
    ("barbecue", "Pizzasteen rond", 2995, 0, "Vuur & Vlam"),
    ("barbecue", "BBQ-gereedschap set RVS", 3995, 0, "Vuur & Vlam"),
)


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join("".join(ch if ch.isalnum() else " " for ch in plain).split())


PRODUCTS = tuple(
    Product(
        product_id=str(8_104_220_000_000 + number * 7_919),
        sku=f"GH-{CATEGORIES[category][1]}-{number:04d}",
        handle=_slug(name),
        name=name,
        category=CATEGORIES[category][0],
        price_cents=price,
        compare_at_cents=compare_at,
        vendor=vendor,
    )
    for number, (category, name, price, compare_at, vendor) in enumerate(_PRODUCTS, start=101)
)
CATEGORY_SLUGS = tuple(CATEGORIES)

CONTENT_PAGES = (
    ("/pages/over-ons", "Over ons"),
    ("/pages/klantenservice", "Klantenservice"),
    ("/pages/verzending-en-retour", "Verzending en retour"),
    ("/blogs/inspiratie/balkon-inrichten", "Zo richt je een klein balkon in"),
    ("/blogs/inspiratie/moestuin-beginnen", "Beginnen met een moestuin"),
    ("/blogs/inspiratie/najaarsbollen-planten", "Najaarsbollen planten"),
)
SEARCH_TERMS = ("tuinstoel", "kussen", "lamp", "terracotta", "olijfboom", "plaid", "bbq", "vaas")

USER_AGENTS = {
    "desktop": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/129.0.0.0 Safari/537.36",
    ),
    "mobile": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) CriOS/130.0.6723.90 Mobile/15E148 Safari/604.1",
    ),
    "tablet": (
        "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Safari/537.36",
    ),
}

# Where a session comes from: (weight, source, medium, campaign names or (), referrer).
TRAFFIC = (
    (0.33, "", "", (), ""),
    (0.20, "google", "organic", (), "https://www.google.com/"),
    (0.15, "google", "cpc", ("brand_nl", "tuinmeubelen_generic", "seasonal"), "https://www.google.com/"),
    (0.13, "newsletter", "email", ("weekly",), ""),
    (0.08, "facebook", "paid_social", ("retargeting_cart", "lookalike_customers", "summer_terrace"),
     "https://l.facebook.com/"),
    (0.05, "instagram", "paid_social", ("spring_collection", "influencer_linnen"),
     "https://l.instagram.com/"),
    (0.03, "pinterest", "paid_social", ("moodboard_interieur",), "https://www.pinterest.com/"),
    (0.03, "", "referral", (), "https://www.wonenonline.example/tuintrends-2026"),
)  # fmt: skip

SEASONAL_CAMPAIGNS = {
    1: "winter_sale", 2: "winter_sale", 3: "spring_garden_2026", 4: "spring_garden_2026",
    5: "spring_garden_2026", 6: "summer_terrace", 7: "summer_terrace", 8: "summer_sale",
    9: "autumn_sale", 10: "autumn_sale", 11: "black_friday", 12: "kerst_cadeaus",
}  # fmt: skip

COMPANIES = (
    "Hoveniersbedrijf De Wit",
    "Studio Linnen",
    "Café De Tuin",
    "Bloemenhuis Flora",
    "Interieur & Zo",
    "Groen Kantoor BV",
    "B&B Het Hof",
    "Van Dijk Vastgoed",
)
JOB_TITLES = ("Eigenaar", "Hovenier", "Interieurstylist", "Inkoper", "Office manager", "")
SHIPPING_METHODS = {
    "NL": ("PostNL Standaard", "PostNL Avondlevering", "DHL Parcel", "Afhalen in de winkel"),
    "BE": ("bpost", "DHL Parcel", "PostNL Standaard"),
    "DE": ("DHL Paket", "DPD Classic"),
    "GB": ("DHL Express International",),
    "US": ("DHL Express International",),
}
PAYMENT_METHODS = {
    "NL": ("iDEAL", "iDEAL", "iDEAL", "PayPal", "Klarna", "Shopify Payments"),
    "BE": ("Bancontact", "Bancontact", "PayPal", "Shopify Payments"),
    "DE": ("PayPal", "Klarna", "Shopify Payments", "SOFORT"),
    "GB": ("Shopify Payments", "PayPal"),
    "US": ("Shopify Payments", "PayPal"),
}
ORDER_NOTES = ("", "", "", "", "", "", "Graag bij de buren afgeven", "Cadeauverpakking aub")
