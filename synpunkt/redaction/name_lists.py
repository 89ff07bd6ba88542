"""Word lists behind the name rules: first names, surnames, titles before a name, and words that are never names.

Two sets of name lists: ``CORE_LISTS``, the short hand-written lists the name model's features were trained with
(so they stay as they are), and ``GAZETTEER``, which adds the first names and surnames of ``first_names.txt`` and
``surnames.txt`` (common in Sweden, from Faker's lists; see ``build_name_gazetteer``) for the rules. Names that
are also common Swedish words (``COMMON_WORD_NAMES``: "Björn", "Klara", "Lund", "Berg") count only beside another
name or after a title.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FIRST_NAMES = frozenset("""
Anna Eva Maria Karin Kristina Lena Sara Sarah Kerstin Emma Ingrid Marie Malin Jenny Hanna Hannah Sofia Sofie Annika
Susanne Monica Monika Elin Johanna Birgitta Carina Elisabeth Elisabet Helena Ulla Camilla Åsa Ida Julia Therese Emelie
Emilie Louise Anneli Annelie Cecilia Josefin Josefine Frida Agneta Gunilla Ann Anette Annette Margareta Inger Marianne
Elsa Alice Maja Ella Wilma Alva Ebba Astrid Vera Olivia Selma Stella Agnes Freja Matilda Mathilda Moa Nora Tove Tilda
Ellen Amanda Felicia Jessica Rebecka Rebecca Madeleine Caroline Charlotte Ulrika Pia Lotta Mia Petra Sanna Jonna
Helen Siv Britt Barbro Gunnel Berit Solveig Yvonne Viktoria Victoria Fatima Fatma Amina Aisha Aicha Leila Layla Yasmin
Jasmin Zainab Zeynep Maryam Mariam Noor Nour Hiba Rana Dalia Ayan Hodan Nadia Elena Natalia Olga Irina Katarina Jelena
Ana Ewa Agnieszka Magdalena Jasmina Amra Emina Lejla Erika Veronica Veronika Emilia Hedvig Linn Evelina Tindra Minna
Signe Majken Greta Lea Leah Tyra Elvira Mikaela Michaela Gabriella Isabelle Isabella Nathalie Natalie Sandra
Angelica Angelika Jeanette Marina Marita Mona Rose-Marie Ann-Marie Ann-Sofie Anna-Karin Eva-Lena Lisbeth Lisbet
Gudrun Gertrud Ingegerd Ingela Ingeborg Elise Lise Anja Nina Jennie Lovisa Ronja Hilda Hilma
Alicia Cornelia Elina Esther Ester Leia Thea Tea Meja Melissa Miranda Nellie Novalie Smilla Vilma Wilja Ylva Åse
Lars Mikael Michael Anders Johan Erik Eric Peter Thomas Tomas Daniel Fredrik Andreas Stefan Staffan Mats Magnus Mattias
Matthias Jonas Marcus Markus Niklas Nicklas Martin Bengt Göran Henrik Nils Leif Alexander Christer Krister Patrik
Patric Oskar Oscar Simon Viktor Victor David Emil Jakob Jacob Gustav Gustaf Sebastian Jonathan Tobias Kristoffer
Christoffer Robert Joakim Ulf Gunnar Roger Kent Sven Rolf Olof Åke Lennart Kjell Ingvar Bertil Rune Tommy Håkan
Torbjörn Claes Klas Kenneth Christian Kristian Filip Philip Linus Hugo William Liam Noah Noa Oliver Elias Lucas Lukas
Adam Axel Alfred Theo Teo Vincent Leo Ludvig Isak Albin Edvin Arvid Melvin Valter Walter Wilhelm Vilhelm Sixten Ebbe
Harry Olle Elliot Gabriel Samuel Anton Rasmus Jesper Jimmy Johnny Robin Kevin Dennis Pontus Carl Hampus Ola Jörgen
Janne Pelle Kalle Bosse Lasse Nisse Sigge Micke Jocke Stina Lisen Kicki Conny Sune Gösta Evert Arne Tage Folke
Holger Einar Erling Egon Allan Alf Yngve
Mohammed Mohamed Muhammad Muhammed Mohammad Mohamad Ahmed Ahmad Ali Hassan Hussein Hussain Omar Abdullah Abdallah
Yusuf Youssef Yousef Ibrahim Mustafa Mahmoud Mahmud Khalid Khaled Karim Amir Reza Mehdi Hamid Abdi Abdirahman
Abdullahi Ismail Mehmet Murat Emre Kemal Jamal Samir Tariq Bilal Adnan Zoran Goran Dragan Nikola Marko Tomasz
Piotr Krzysztof Pavel Sergei Sergej Dmitri Ivan Aleksandr Aleksander Juan Carlos Jose José Luis Pablo Miguel Ahmet Hadi
Nabil Rami Fadi Yassin Yasin Hamza Zakaria Idris Abdul Anas Walid Tarek Majid Saeed Saied Farid Faisal Hashim Osman
Mehmed Selim Ömer Hasan Hüseyin Ayşe Elif Merve Emine Hatice Leyla Shirin Parisa Maryan Sahra Hamdi Kader Yonas
Dawit Minh Linh Huong Wei Jing Hui Raj Amit Priya Anil Sunil Sanjay Arjun Johannes Anders-Erik
Per-Olof Per-Erik Jan-Erik Lars-Erik Karl-Erik Bengt-Göran Nils-Erik Sven-Erik Jan-Olof Lars-Göran
""".split())

AMBIGUOUS_FIRST_NAMES = frozenset(
    "Per Bo Hans Dan Stig Björn Karl Klara Liv Linda Saga Lina Iris Rune Jan Said Lisa Linnea Viola Ros Rut Ruth Maj "
    "Sol Tor Sten Milan Tina Lova".split()
)
"""Names that are also common Swedish words: a name only beside a surname or after a title."""

SURNAMES = frozenset("""
Lindberg Lindström Lindqvist Lindkvist Lindgren Bergström Lundberg Lundgren Lundqvist Lundkvist Berglund Sandberg
Forsberg Sjöberg Wallin Engström Eklund Lundin Bergman Wikström Bergqvist Nyström Holmberg Löfgren
Söderberg Nyberg Blomqvist Nordström Lundström Viklund Björklund Berggren Sandström Nordin Åberg Ekström
Holmgren Sundberg Hedlund Dahlberg Hellström Sjögren Öberg Strömberg Lindholm Holmqvist Sundström
Hedberg Åström Lindell Jakobsen Hansen Nielsen Jensen Pedersen Olsen Larsen Andersen Johansen Nguyen Pham
Yilmaz Kaya Demir Şahin Çelik Yıldız Öztürk Aydın Nowak Kowalski Wiśniewski Kowalczyk Jovanović Petrović Nikolić
Hodžić Hadžić Ahmadi Hosseini Mohammadi Rezaei Karimi Hussein Hassan Ahmed Mohamed Abdullahi Warsame Farah Jama
Axelsson Ekberg Engberg Lundmark Marklund Öhman Lindblom Söderström Wahlberg Westerberg Åkerlund
""".split())


TITLE_WORDS = frozenset("""
heter hette kallas herr fru fröken dr doktor prof professor mvh hälsningar hälsning hälsar signerat
handläggare handläggaren handläggarna handläggarens handläggarn biståndshandläggare biståndshandläggaren
socialsekreterare socialsekreteraren rektor rektorn lärare läraren lärarna mentor mentorn förskollärare
förskoläraren förskolläraren fritidsledaren pedagogen chef chefen enhetschef enhetschefen avdelningschef
avdelningschefen förvaltningschef förvaltningschefen kommunchef kommundirektör kommundirektören kommunalråd
kommunalrådet oppositionsråd oppositionsrådet ordförande ordföranden politiker politikern läkare läkaren
sjuksköterska sjuksköterskan undersköterska undersköterskan kontaktperson kontaktpersonen kontaktman kontaktmannen
assistent assistenten tjänsteman tjänstemannen inspektör inspektören bygglovshandläggare
bygglovshandläggaren utredare utredaren kurator kuratorn skolsköterskan vaktmästare vaktmästaren chauffören
busschauffören föraren sekreterare sekreteraren kollegan kollega grannen granne grannar maken makan frun mannen
sambon pojkvännen flickvännen vännen sonen dottern mamma mamman pappa pappan mormor morfar farmor farfar
brodern bror systern syster
""".split())

TITLE_SUFFIXES = (
    "chef", "chefen", "handläggare", "handläggaren", "sekreterare", "sekreteraren", "ordförande", "ordföranden",
    "minister", "ministern", "direktör", "direktören", "samordnare", "samordnaren", "sköterska", "sköterskan",
    "lärare", "läraren", "ledare", "ledaren", "behandlare", "behandlaren", "rådgivare", "rådgivaren", "skötare",
    "skötaren", "bibliotekarie", "bibliotekarien", "kurator", "kuratorn", "assistent", "assistenten", "inspektör",
    "inspektören", "tekniker", "teknikern", "kommunalråd", "kommunalrådet", "rektor", "rektorn", "pedagog",
    "pedagogen", "vaktmästare", "vaktmästaren", "chaufför", "chauffören", "talesperson", "talespersonen", "läkare",
    "läkaren", "kontaktperson", "kontaktpersonen", "utredare", "utredaren", "psykolog", "psykologen",
)
"""Endings of job titles ("Enhetschefen", "familjebehandlare"): a capitalised word after one is taken for a name."""


STOPWORDS = frozenset("""
jag du han hon hen vi ni de dem den det detta denna dessa man min mitt mina din ditt dina er ert era vår vårt våra hans
hennes deras sin sitt sina och men eller att som inte tack hej hejsan med mvh ja nej på i om till från efter innan när
var vad vem vilken vilket vilka hur varför en ett alla ingen inget inga jo nu då här där idag igår imorgon sedan också
även bara så kommunen kommun staden regionen vänliga vänlig hälsningar hälsning kl klockan nr tel telefon mejl mail
januari februari mars april maj juni juli augusti september oktober november december måndag tisdag onsdag torsdag
fredag lördag söndag sverige stockholm göteborg malmö uppsala herr fru dr sms bankid swish ok okej bra dålig dåligt
toppen kanon super grattis snälla bästa stort tusen fantastiskt underbart värdelöst katastrof skandal äntligen tyvärr
dessvärre jättebra fick får har hade kan kunde vill ska skulle finns gillar älskar hatar undrar önskar saknar behöver
ring ringde kom trots dock alltså typ hallå nä japp mycket lite helt väldigt riktigt verkligen varje ingenting någon
något några många flera hela samma annan andra ju väl redan fortfarande aldrig alltid ibland ofta igen mer mest
thank thanks thx the we you it my our this that hi hello please great lovely good bad very not and but
fran nar ar pa ocksa aven sa da nagon nagot nagra manga varfor battre sjalv hander annu inga
""".split())
"""Function words, greetings, months, days, big towns and other words the name rules and model never mark."""

COMMON_WORD_NAMES = frozenset("""
Alf Ana Ane Ban Bara Ben Bill Björn Bo Bob Britt Bror Dag Dan Del Dina Edit Eli Else Finn Fran Frank Fred
Frode Gerd Gro Gun Hans Helge Ian Ib Ina Inga Inge Iris Isa Iva Ivo Jan Jarl Juni Kaj Karen Kata Kim Klara
Lage Lana Lara Lea Li Lilja Lily Lina Linda Line Lisa Liv Lo Loke Lone Lova Love Lucia Luna Maj Malva Mara Marin Mark
Max May Mila Mile Mina Mira Mio My Nana Nova Odd Per Rita Roar Ron Rosa Rose Roy Rut Ruth Saga Said Sam Sanna Siri
Sol Sten Stig Tage Tea Ted Tilde Tim Tina Tine Tom Tone Tor Tora Urban Vagn Vide Ville Viola
Aas Alm Asp Bach Bakke Berg Björk Blixt Blom Borg Brink Bäck Car Dam Ek Falk Flink Fors Frid Frisk Green Gren Hall
Hammar Hult Hägg Hjort Holm Kling Kos Kvist Lazar Lie Lien Lind Linde Lund Malm Modig Nord Palm Rask Roos Seven
Skog Sköld Smith Stark Steen Storm Strand Strid Ström Svärd Thor Toft Turk Vik Wall
""".split())
"""Names in the gazetteer that are also common Swedish (or English) words or places: a name only beside another
name or after a title (the hand-written lists above keep their say)."""


NICKNAMES = frozenset("""
Gurra Gugge Berra Roffe Uffe Totte Affe Perra Hasse Lelle Kenta Tompa Robban Danne Fredde Jonte Ludde Steffe Pirre
Benke Classe Ninni Lollo Tusse Lottis Gittan Bettan Sussi Kattis Sessan Annis Mickan Tessan Vickan Jossan
Mirre Hagge Pålle Kjelle Bengan Nicke Jimpa Tobbe Nille Rolle Tjalle Gunnis Ingis Birgan Nettan Frasse Acke
Sickan Bibbi Gabbe Dodde Flisan Sassa Ollie Jonne Henke Jompa Tessi Nilla Kickan Ullis Lillemor Göte Jerka Peppe
Tottan
""".split())
"""Swedish short forms of first names ("Gurra" for Gustav, "Berra" for Bertil, "Gittan" for Birgitta): first names
of the rules (not of the name model's features). Those that are also words are in ``WORD_NICKNAMES``."""

WORD_NICKNAMES = frozenset("Ankan Stickan Putte Mange".split())
"""Short forms that are also words ("ankan" is the duck): names only where the rules for ambiguous first names say
so (beside a surname, after a title or a greeting: "Tack Ankan för ...")."""


NOT_NAMES = frozenset("""
dnr ocr ref ärende ärendenr faktura fakturanr kundnr ordernr willys coop lidl hemköp ica maxi apoteket postnord
norr söder öst väst syd nordost nordväst sydost sydväst centrum city
""".split())
"""Lowercased words that look like names beside one (a possessive, a capitalised word) but are not: the rules
that grow names never take them (kept apart from ``STOPWORDS``, which is one of the model's features)."""


def _read_names(file_name: str) -> frozenset[str]:
    path = Path(__file__).resolve().parent / file_name
    return frozenset(line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                     if line.strip() and not line.startswith("#"))


@dataclass(frozen=True)
class NameLists:
    """First names (a name on their own), ambiguous first names (only beside a surname or after a title), surnames
    (a name on their own) and all surnames (also those that are words: a surname after a first name)."""

    first: frozenset[str]
    ambiguous: frozenset[str]
    surnames: frozenset[str]
    all_surnames: frozenset[str]


CORE_LISTS = NameLists(FIRST_NAMES, AMBIGUOUS_FIRST_NAMES, SURNAMES, SURNAMES)
"""The hand-written lists: the name model's features are computed with these (as when it was trained)."""

_GAZ_FIRST, _GAZ_LAST = _read_names("first_names.txt"), _read_names("surnames.txt")
_WORDS = COMMON_WORD_NAMES | {w for w in _GAZ_FIRST | _GAZ_LAST if w.lower() in STOPWORDS}
GAZETTEER = NameLists(
    first=FIRST_NAMES | NICKNAMES | (_GAZ_FIRST - _WORDS - AMBIGUOUS_FIRST_NAMES - WORD_NICKNAMES),
    ambiguous=AMBIGUOUS_FIRST_NAMES | WORD_NICKNAMES | ((_WORDS & _GAZ_FIRST) - FIRST_NAMES),
    surnames=SURNAMES | (_GAZ_LAST - _WORDS),
    all_surnames=SURNAMES | _GAZ_LAST,
)
"""The hand-written lists and the gazetteer: what the name rules use."""
