"""Write the behavioural test suite (suite.jsonl) from the hand-written seeds in seeds/ and the templates below.

Deterministic: the same seeds and templates always give the same file, byte for byte. Run from the project root:

    .venv/bin/python data/behaviour/build.py

Cases: minimum-functionality tests (MFT) per capability, invariance tests (INV) built by perturbing the clearly
positive and negative comments in seeds/invariance.tsv, and directional tests (DIR) that add a complaint or praise
to the same comments. Labels follow data/comments/LABELLING.md. Every text was written for this suite.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Iterable
from pathlib import Path

from synpunkt.behaviour import (
    add_emoji,
    add_exclamations,
    ascii_diacritics,
    names_in,
    stable_seed,
    strip_punctuation,
    swap_names,
    swap_typos,
    to_lower,
    to_upper,
)

HERE = Path(__file__).resolve().parent
SEEDS = HERE / "seeds"
OUT = HERE / "suite.jsonl"


def read_seeds(name: str) -> list[list[str]]:
    """Rows of a seeds TSV file (label, text[, extra...]); '#' lines are comments."""
    rows = []
    for line in (SEEDS / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows


def pick(items: Iterable, k: int, salt: str) -> list:
    """k items chosen deterministically (in their original order)."""
    items = list(items)
    rng = random.Random(stable_seed(salt))
    chosen = sorted(rng.sample(range(len(items)), min(k, len(items))))
    return [items[i] for i in chosen]


def product(template: str, label: str, k: int, salt: str, **slots: list[str]) -> list[tuple[str, str]]:
    """k fillings of a template from the cross product of its slots, each with the label."""
    keys = list(slots)
    combos = pick(itertools.product(*(slots[key] for key in keys)), k, salt)
    return [(label, template.format(**dict(zip(keys, c)))) for c in combos]


# -- minimum functionality templates ---------------------------------------------------------------------

STAFF = ["Handläggaren", "Personalen i receptionen", "Hon i växeln", "Socialsekreteraren", "Killen i kundtjänst"]
TOOLS = ["E-tjänsten", "Inloggningen med BankID", "Chatten", "Appen", "Formuläret på webben"]


def negation() -> list[tuple[str, str]]:
    return (product("{s} var inte {a}.", "negative", 8, "neg1", s=STAFF,
                    a=["hjälpsam", "trevlig", "tydlig", "särskilt kunnig"])
            + product("{s} var inte alls {a}, tvärtom.", "positive", 8, "neg2", s=STAFF,
                      a=["otrevlig", "stressad", "otydlig", "nonchalant"])
            + product("{t} fungerade inte.", "negative", 5, "neg3", t=TOOLS)
            + product("{t} krånglade inte en enda gång.", "positive", 5, "neg4", t=TOOLS))


def irony() -> list[tuple[str, str]]:
    return product("{p}, {problem}.{closer}", "negative", 18, "irony",
                   p=["Toppen", "Strålande", "Helt fantastiskt", "Snyggt jobbat", "Bravo"],
                   problem=["nu har jag väntat i sju veckor på ett svar",
                            "tredje gången samma lampa går sönder och ingen lagar den",
                            "e-tjänsten kraschar precis när man ska skicka",
                            "ingen vet vem som har mitt ärende",
                            "beskedet kom dagen efter att fristen gått ut",
                            "fakturan är fel igen"],
                   closer=["", " Verkligen imponerande.", " Heja kommunen.", " Riktigt proffsigt."])


def resigned() -> list[tuple[str, str]]:
    return product("{o} {t}", "skeptical", 16, "resigned",
                   o=["Tja.", "Nåja.", "Suck.", "Ja ja.", "Jaha."],
                   t=["Det blir väl som det blir.", "Man vänjer sig väl.",
                      "Vi får se om det händer något den här gången.", "Det är som det är med sånt här.",
                      "Orkar inte driva det mer.", "Man får ta det som det kommer."])


def conditional() -> list[tuple[str, str]]:
    future = ["ni ringer tillbaka som ni lovade", "beslutet kommer före sommaren", "fakturan rättas den här gången",
              "plogbilen kommer innan sju", "handläggaren hör av sig nästa vecka", "e-tjänsten fungerar nästa gång"]
    past = ["ni haft öppet på lördagar", "kön varit kortare", "blanketten funnits på engelska",
            "svaret kommit en vecka tidigare", "chatten varit öppen efter fem"]
    return (product("Om {c} blir jag nöjd.", "skeptical", 5, "cond1", c=future)
            + product("Blir bra om {c}.", "skeptical", 5, "cond2", c=future)
            + product("Hade {c} hade jag varit helnöjd.", "skeptical", 4, "cond3", c=past)
            + product("Om {c} hade det varit toppen.", "skeptical", 4, "cond4", c=past))


def mixed() -> list[tuple[str, str]]:
    return (product("{p}, men {n}.", "skeptical", 12, "mixed1",
                    p=["Kunnig personal", "Smidig e-tjänst", "Trevligt bemötande i växeln", "Bra information på webben",
                       "Hemtjänsten gör ett fint jobb", "Snabbt svar"],
                    n=["handläggningstiden är alldeles för lång", "ingen ringde tillbaka som utlovat",
                       "fakturan var fel igen", "inloggningen krånglar hela tiden", "man får aldrig tag på någon",
                       "beslutet var omöjligt att förstå"])
            + product("{n}, men {p}.", "skeptical", 8, "mixed2",
                      n=["Kön var alldeles för lång", "Beslutet dröjde i flera månader", "Hemsidan är helt rörig",
                         "Det tog en evighet att komma fram"],
                      p=["handläggaren var väldigt bra", "personalen var jättetrevlig",
                         "svaret var tydligt och korrekt", "hon som hjälpte mig var jättekunnig"]))


def emphasis() -> list[tuple[str, str]]:
    neg = ["Handläggaren var otrevlig", "Ingen ringde tillbaka", "E-tjänsten kraschade igen",
           "Jag har väntat i sex veckor", "Ni har skickat fel faktura igen", "Aldrig fått svar på mitt mejl"]
    pos = ["Handläggaren var jättetrevlig", "Tack för snabb hjälp", "Smidig e-tjänst", "Ni är bäst",
           "Fick svar på en gång", "Underbar personal"]
    cases = []
    for label, bases in (("negative", neg), ("positive", pos)):
        for base in bases:
            cases += [(label, f"{base}!!!"), (label, f"{base.upper()}!!!")]
    return cases


def short() -> list[tuple[str, str]]:
    return ([("positive", f"{w}.") for w in ["Utmärkt", "Fantastiskt", "Klockrent", "Jättebra"]]
            + [("negative", f"{w}.") for w in ["Bedrövligt", "Uselt", "Oprofessionellt", "Pinsamt"]])


LONG_INTROS = [
    ("Jag kontaktade kommunen i början av mars angående en ansökan om bostadsanpassning för min pappa, som sedan i "
     "höstas har svårt att ta sig in och ut ur huset."),
    "Vi har under våren haft kontakt med förvaltningen om ett bygglov för en mindre tillbyggnad av vårt fritidshus.",
    ("Jag skriver med anledning av mitt ärende om försörjningsstöd, som jag sökte i januari efter att ha blivit av "
     "med jobbet."),
    ("Min dotter har en plats på förskolan i vårt område och jag har varit i kontakt med både förskolan och "
     "kommunens växel flera gånger under hösten."),
    "Under vintern har jag vid flera tillfällen kontaktat kommunen om snöröjningen på vår gata, där många äldre bor.",
    ("Jag driver ett litet café i centrum och har haft kontakt med miljöförvaltningen om livsmedelsregistrering och "
     "tillstånd för uteservering."),
]
LONG_POSITIVE = [
    ("Redan första gången jag ringde fick jag prata med en handläggare som tog sig tid och förklarade hur allt "
     "skulle gå till."),
    "Hon återkom exakt när hon hade lovat och hade då redan kontrollerat det som saknades i ansökan.",
    "Blanketterna på webben var lätta att hitta och det gick fint att skicka in allt med BankID.",
    "Beslutet kom betydligt snabbare än jag hade räknat med.",
    "Alla jag pratade med var vänliga, kunniga och tålmodiga, även när jag frågade samma sak flera gånger.",
    "Jag fick tydlig skriftlig information om vad som skulle hända härnäst, vilket gjorde mig mycket lugnare.",
    "När något blev fel i fakturan rättades det samma dag utan att jag behövde tjata.",
    "Det kändes hela tiden som att de ville hjälpa mig och inte bara bli av med ärendet.",
]
LONG_NEGATIVE = [
    "Jag fick vänta i telefonkön i över en timme innan någon svarade, och då kopplades jag till fel avdelning.",
    "Handläggaren lovade att ringa tillbaka samma vecka men hörde aldrig av sig.",
    "E-tjänsten loggade ut mig två gånger mitt i ansökan och allt jag hade skrivit försvann.",
    "Ingen kunde svara på när beslutet skulle komma och ingen verkade veta vem som hade ansvar för ärendet.",
    "När jag väl fick tag på någon blev jag bemött som om jag var till besvär.",
    "Jag har fått tre olika besked från tre olika personer och inget av dem stämde.",
    "Mina mejl har inte besvarats trots att det nu gått över sex veckor.",
    "Beslutet saknade motivering och ingen har kunnat förklara hur man kommit fram till det.",
]
LONG_CLOSINGS = {
    "positive": ["Stort tack till alla inblandade, jag är mycket nöjd med hur ärendet sköttes.",
                 "Överlag en riktigt bra upplevelse, så här ska det fungera.",
                 "Jag kommer att rekommendera andra att höra av sig till er."],
    "negative": ["Jag är djupt besviken på hur kommunen har hanterat det här.",
                 "Hela ärendet har varit en ren mardröm från början till slut.",
                 "Så här får det helt enkelt inte gå till."],
    "skeptical": ["Nu har beslutet kommit och vi får se om det blir bättre framöver.",
                  "Jag vet ärligt talat inte vad jag ska tycka, det blev väl till slut någorlunda rätt.",
                  "Vi får väl se hur det fungerar i praktiken."],
}


def long() -> list[tuple[str, str]]:
    cases = []
    for label, n, pools in (("positive", 12, [LONG_POSITIVE] * 4), ("negative", 12, [LONG_NEGATIVE] * 4),
                            ("skeptical", 6, [LONG_POSITIVE, LONG_POSITIVE, LONG_NEGATIVE, LONG_NEGATIVE])):
        for k in range(n):
            rng = random.Random(stable_seed("long", label, str(k)))
            body = []
            for pool in pools:
                body.append(rng.choice([s for s in pool if s not in body]))
            if label == "skeptical":  # alternate praise and criticism so neither dominates
                body = [body[0], body[2], body[1], body[3]]
            text = " ".join([rng.choice(LONG_INTROS), *body, rng.choice(LONG_CLOSINGS[label])])
            cases.append((label, text))
    return cases


def sms() -> list[tuple[str, str]]:
    return (product("{m}{s}", "positive", 4, "sms1", m=["tack för snabb hjälp", "bra bemötande idag", "smidig app"],
                    s=[" :)", " 👍", "!!"])
            + product("{m}{s}", "negative", 4, "sms2", m=["ingen svarar", "appen funkar ej", "väntat 3v på svar"],
                      s=[" 😡", " asså", " igen.."]))


def english() -> list[tuple[str, str]]:
    staff = ["case worker", "receptionist", "woman on the phone", "guy in the chat"]
    return (product("The {s} was {a}.", "positive", 4, "en1", s=staff, a=["very helpful", "friendly and quick"])
            + product("The {s} was {a}.", "negative", 4, "en2", s=staff, a=["rude", "unhelpful and dismissive"]))


def placeholders() -> list[tuple[str, str]]:
    subjects = ["[NAMN]", "Handläggaren [NAMN]", "[NAMN] i kundtjänst"]
    return (product("{s} {b}.", "positive", 5, "ph1", s=subjects,
                    b=["var otroligt hjälpsam", "löste allt på en gång", "var tydlig och trevlig"])
            + product("{s} {b}.", "negative", 5, "ph2", s=subjects,
                      b=["var otrevlig mot mig", "har inte svarat på tre veckor", "gav mig fel besked"])
            + [("positive", "Tack för att ni ringde upp på [TELEFON] så snabbt."),
               ("negative", "Ingen har svarat på mitt mejl från [E-POST], det är bedrövligt."),
               ("positive", "Gatan vid [ADRESS] plogades tidigt varje morgon, jättebra."),
               ("negative", "Brevet skickades till [ADRESS] fast jag flyttade för ett år sedan, slarvigt.")])


def service_named() -> list[tuple[str, str]]:
    return product("{p} {s}.", "skeptical", 22, "service",
                   p=["Ärendet gällde", "Jag ringde om", "Ang.", "Kontakt angående", "Frågade om", "Ärende:",
                      "Samtal om", "Mitt ärende handlade om"],
                   s=["bygglov", "sophämtning", "snöröjning", "förskoleplats", "hemtjänst", "färdtjänst",
                      "bostadsanpassning", "ekonomiskt bistånd", "parkeringstillstånd", "gatubelysning", "skolskjuts",
                      "byte av vattenmätare"])


def implicit_negative() -> list[tuple[str, str]]:
    return product("{s} {b}.", "negative", 12, "implicit",
                   s=["Handläggaren", "Hon i kundtjänst", "Mannen i receptionen", "Socialsekreteraren"],
                   b=["himlade med ögonen", "suckade när jag ställde min fråga", "skrattade åt min fråga",
                      "tittade i mobilen medan jag pratade", "gick iväg mitt i samtalet"])


MFT_CAPABILITIES = {  # capability -> template generator (hand-written seeds: seeds/mft_<capability>.tsv)
    "negation": negation, "irony": irony, "resigned": resigned, "conditional": conditional, "mixed": mixed,
    "emphasis": emphasis, "short": short, "long": long, "dialect": None, "sms": sms, "english": english,
    "other_languages": None, "placeholders": placeholders, "service_named": service_named,
    "implicit_negative": implicit_negative,
}


def mft_cases() -> list[dict]:
    cases = []
    for capability, generator in MFT_CAPABILITIES.items():
        test = f"mft_{capability}"
        rows = [(r[0], r[1], r[2] if len(r) > 2 else None) for r in read_seeds(f"mft_{capability}.tsv")]
        rows += [(label, text, None) for label, text in (generator() if generator else [])]
        seen = set()
        for label, text, language in rows:
            if text in seen:
                continue
            seen.add(text)
            case = {"id": f"{test}-{len(seen):03d}", "test": test, "type": "MFT", "capability": capability,
                    "text": text, "expected": label}
            if language:
                case["language"] = language
            cases.append(case)
    return cases


# -- invariance and directional tests --------------------------------------------------------------------

NEUTRAL_EMOJI = ["📞", "📄", "🏠", "📧", "🗓️", "🚌"]
MOOD_EMOJI = {"positive": ["😊", "👍", "🙏", "👏", "❤️"], "negative": ["😡", "👎", "😤", "🙄", "😠"]}
NAME_PARTNERS = {"[NAMN]": "Anna", "Mohammed": "Erik", "Fatima": "Karin", "Johan": "Ahmed", "Lena": "Amira",
                 "Ali": "Lars"}
PARTNER_SWAP = {**NAME_PARTNERS, **{v: k for k, v in NAME_PARTNERS.items()}}
NAMES = list(PARTNER_SWAP)
COMPLAINTS = {  # by the seed's label, so the added sentence reads naturally after it
    "positive": ["Men ingen ringde tillbaka.", "Men jag väntar fortfarande på svar.", "Tyvärr var kön väldigt lång.",
                 "Men fakturan var fel igen.", "Dock kraschade e-tjänsten två gånger.",
                 "Men ingen har hört av sig sedan dess."],
    "negative": ["Dessutom ringde ingen tillbaka.", "Och jag väntar fortfarande på svar.",
                 "Kön var också väldigt lång.", "Fakturan var dessutom fel igen.", "E-tjänsten kraschade dessutom två gånger.",
                 "Ingen har heller hört av sig sedan dess."],
}
PRAISES = ["Men personalen var trevlig.", "Hemsidan var dock lätt att förstå.", "Tack ändå för ett vänligt bemötande.",
           "Chatten svarade i alla fall snabbt."]

REFERENCES = ["Ärende 2025-0412.", "Dnr KS 2024/118.", "Ärendenummer: 324585.", "Gäller ärende 7781.",
              "Referensnummer 4471-22.", "Kundnummer 55120."]
"""Case and reference numbers as citizens write them into a comment; they say nothing about the judgement
(added 2026-12-02 after an operator red team saw "Dnr 2025-123." turn praise negative)."""

INV_TESTS = {  # test -> (capability, perturbation(text, label, index) -> text)
    "inv_upper": ("casing", lambda t, label, i: to_upper(t)),
    "inv_lower": ("casing", lambda t, label, i: to_lower(t)),
    "inv_exclamations": ("emphasis", lambda t, label, i: add_exclamations(t)),
    "inv_emoji_neutral": ("emoji", lambda t, label, i: add_emoji(t, NEUTRAL_EMOJI[i % len(NEUTRAL_EMOJI)])),
    "inv_emoji_mood": ("emoji", lambda t, label, i: add_emoji(t, MOOD_EMOJI[label][i % len(MOOD_EMOJI[label])])),
    "inv_typos": ("typos", lambda t, label, i: swap_typos(t, n=1 + len(t.split()) // 10, seed=stable_seed("typo", t))),
    "inv_ascii_diacritics": ("diacritics", lambda t, label, i: ascii_diacritics(t)),
    "inv_no_punctuation": ("punctuation", lambda t, label, i: strip_punctuation(t)),
    "inv_reference": ("reference", lambda t, label, i: with_sentence(t, REFERENCES[i % len(REFERENCES)])),
}


def with_sentence(text: str, sentence: str) -> str:
    text = text.rstrip()
    return f"{text} {sentence}" if text.endswith((".", "!", "?")) else f"{text}. {sentence}"


def inv_dir_cases() -> list[dict]:
    seeds = [(r[0], r[1]) for r in read_seeds("invariance.tsv")]
    cases = []

    def add(test: str, type_: str, capability: str, i: int, original: str, text: str, expected: str, label: str,
            suffix: str = "") -> None:
        if text != original:
            cases.append({"id": f"{test}-{i + 1:03d}{suffix}", "test": test, "type": type_, "capability": capability,
                          "text": text, "original": original, "expected": expected, "original_sentiment": label})

    for test, (capability, perturb) in INV_TESTS.items():
        for i, (label, text) in enumerate(seeds):
            add(test, "INV", capability, i, text, perturb(text, label, i), "same", label)
    for i, (label, text) in enumerate(seeds):
        if names_in(text, NAMES):
            add("inv_name_swap", "INV", "names", i, text, swap_names(text, PARTNER_SWAP), "same", label, "a")
            to_placeholder = {n: ("[NAMN]" if n != "[NAMN]" else "Fatima") for n in NAMES}
            add("inv_name_swap", "INV", "names", i, text, swap_names(text, to_placeholder), "same", label, "b")
    for i, (label, text) in enumerate(seeds):
        add("dir_add_complaint", "DIR", "complaint_added", i, text,
            with_sentence(text, COMPLAINTS[label][i % len(COMPLAINTS[label])]), "p_positive_not_up", label)
    for i, (label, text) in enumerate(seeds):
        if label == "negative":
            add("dir_add_praise", "DIR", "praise_added", i, text,
                with_sentence(text, PRAISES[i % len(PRAISES)]), "p_negative_not_up", label)
    return cases


def _normalised(text: str) -> str:
    """Lower case, runs of punctuation and spaces as one space; a text of emoji or punctuation only is kept as it
    is (stripped), so that two different emoji never compare equal as empty strings."""
    words = re.sub(r"[\W_]+", " ", text.lower()).strip()
    return words or text.strip()


def labelled_texts() -> set[str]:
    """Normalised texts of the labelled in-domain data (training, validation and both test sets)."""
    from synpunkt.config import IN_DOMAIN_DATA, INDEPENDENT_TEST_DATA

    return {_normalised(json.loads(line)["text"]) for path in (IN_DOMAIN_DATA, INDEPENDENT_TEST_DATA)
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def build() -> list[dict]:
    """Every case, except those whose text (or original) is also a labelled comment: a suite case the model was
    trained on would flatter it (short texts such as "Tack!" are easily written twice)."""
    labelled = labelled_texts()
    cases = [c for c in mft_cases() + inv_dir_cases()
             if not {_normalised(t) for t in (c["text"], c.get("original")) if t} & labelled]
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    return cases


def main() -> None:
    cases = build()
    with open(OUT, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(case, ensure_ascii=False) + "\n" for case in cases)
    counts: dict[str, int] = {}
    for c in cases:
        counts[c["test"]] = counts.get(c["test"], 0) + 1
    print(f"wrote {len(cases)} cases to {OUT}")
    for test, n in counts.items():
        print(f"  {test:28s} {n}")


if __name__ == "__main__":
    main()
