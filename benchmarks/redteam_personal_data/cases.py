"""Synthetic Swedish citizen comments with inline gold annotation, for testing Synpunkt's redaction.

Markup: {TYPE.tag:value}
  TYPE  P = personnummer, S = samordningsnummer, T = phone, E = e-mail, N = person name,
        K = hard negative (must stay), X = ignored (neither personal nor scored, e.g. an org's switchboard)
  tag   free-form format label (used in the miss tables)
All cases are invented for this test. `cases()` returns a list of dicts:
  {"id", "text", "ents": [(start, end, TYPE, tag, value)], "group"}
"""

from __future__ import annotations

import random
import re

MARK_RE = re.compile(r"\{([PSTENKX])(?:\.([\w\-+()/]+))?:([^{}]*)\}")


def parse(marked: str):
    out, ents, pos = [], [], 0
    n = 0
    for m in MARK_RE.finditer(marked):
        out.append(marked[pos:m.start()])
        n += len(marked[pos:m.start()])
        val = m.group(3)
        ents.append((n, n + len(val), m.group(1), m.group(2) or "", val))
        out.append(val)
        n += len(val)
        pos = m.end()
    out.append(marked[pos:])
    text = "".join(out)
    assert "{" not in text and "}" not in text, marked
    return text, ents


# ---------------------------------------------------------------- number generators
def luhn_digit(nine: str) -> int:
    s = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        s += d - 9 if d > 9 else d
    return (10 - s % 10) % 10


def id_number(rng, samo=False, valid=True, year=None):
    y = year or rng.randint(1938, 2012)
    m = rng.randint(1, 12)
    d = rng.randint(1, 28)
    dd = d + 60 if samo else d
    serial = f"{rng.randint(0, 999):03d}"
    yymmdd = f"{y % 100:02d}{m:02d}{dd:02d}"
    c = luhn_digit(yymmdd + serial)
    if not valid:
        c = (c + rng.randint(1, 9)) % 10
    return y, yymmdd, serial + str(c)


def fmt_id(rng, style, samo=False, valid=True, year=None):
    y, ymd, tail = id_number(rng, samo, valid, year)
    cc = str(y // 100)
    return {
        "10-dash": f"{ymd}-{tail}",
        "10-plus": f"{ymd}+{tail}",
        "10-space": f"{ymd} {tail}",
        "10-none": f"{ymd}{tail}",
        "12-dash": f"{cc}{ymd}-{tail}",
        "12-none": f"{cc}{ymd}{tail}",
        "12-space": f"{cc}{ymd} {tail}",
        "10-endash": f"{ymd}\u2013{tail}",
        "grouped": f"{ymd[:2]} {ymd[2:4]} {ymd[4:]}-{tail}",
        "12-dash-spaced": f"{cc}{ymd} - {tail}",
    }[style]


def d(rng, n):
    return "".join(str(rng.randint(0, 9)) for _ in range(n))


def phone(rng, style):
    mob = rng.choice(["70", "72", "73", "76", "79"])
    a, b, c = d(rng, 3), d(rng, 2), d(rng, 2)
    return {
        "mob-dash-space": f"0{mob}-{a} {b} {c}",
        "mob-none": f"0{mob}{a}{b}{c}",
        "mob-spaces": f"0{mob} {a} {b} {c}",
        "mob-dash": f"0{mob}-{a}{b}{c}",
        "mob-dots": f"0{mob}.{a}.{b}.{c}",
        "mob-spaced-dash": f"0{mob} - {a} {b} {c}",
        "mob-3-2-3": f"0{mob} {a[:2]} {a[2]}{b} {c[0]}{c[1]}",
        "+46-spaces": f"+46 {mob} {a} {b} {c}",
        "+46-none": f"+46{mob}{a}{b}{c}",
        "+46(0)": f"+46(0){mob}-{a}{b}{c}",
        "+46-0-dash": f"+46 (0){mob}-{a} {b} {c}",
        "0046-spaces": f"0046 {mob} {a} {b} {c}",
        "0046-none": f"0046{mob}{a}{b}{c}",
        "0046-dash": f"0046-{mob}-{a}{b}{c}",
        "08-3-3-2": f"08-{a} {d(rng,3)} {b}",
        "08-none": f"08-{a}{d(rng,3)}{b}",
        "08-space": f"08 {a} {d(rng,3)} {b}",
        "(08)": f"(08) {a} {d(rng,3)} {b}",
        "031-2-2-2": f"031-{b} {c} {d(rng,2)}",
        "031-none": f"031-{b}{c}{d(rng,2)}",
        "040-3-3": f"040-{a} {d(rng,2)} {b}",
        "0451-5": f"0{rng.choice(['451','660','920','611','380'])}-{a} {b}",
        "0920-2-2-2": f"0920-{b} {c} {d(rng,2)}",
        "010-numbers": f"010-{a} {b} {c}",
        "020-numbers": f"020-{d(rng,2)} {b} {c}",
        "0200-numbers": f"0200-{d(rng,2)} {b} {c}",
        "slash": f"0{mob}/{a}{b}{c}",
        "046-intl-no-plus": f"46{mob}{a}{b}{c}",
    }[style]


# ---------------------------------------------------------------- pools
FIRST = ["Anna", "Karin", "Lars", "Mikael", "Eva", "Johan", "Maria", "Erik", "Sofia", "Per", "Kristina", "Anders",
         "Emma", "Gustav", "Ingrid", "Oskar", "Elin", "Mats", "Helena", "Fredrik", "Agneta", "Tobias", "Birgitta",
         "Jonas", "Malin", "Sven", "Ulla", "Hampus", "Ebba", "Gunnel"]
LAST = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson",
        "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson", "Bengtsson", "Lindqvist", "Sjöberg", "Holmgren",
        "Lundström", "Åberg", "Öberg", "Wikström", "Nordin", "Sandberg", "Hedlund", "Forsberg", "Ekström", "Bergkvist",
        "Strand", "Mattsson"]
IMM_FIRST = ["Mohammed", "Ahmed", "Fatima", "Aleksandra", "Hussein", "Amina", "Ali", "Zeynep", "Dragan", "Milica",
             "Yusuf", "Leila", "Omar", "Nadia", "Tomasz", "Huong", "Abdi", "Hawa", "Mehmet", "Samira"]
IMM_LAST = ["Yilmaz", "Nguyen", "Hussein", "Ali", "Mohamed", "Kowalski", "Hassan", "Abdullahi", "Jovanović",
            "Demir", "Haddad", "Rahimi", "Nowak", "Öztürk", "Tran", "Ahmadi", "Warsame", "Karimi", "Petrović", "Said"]
EMAIL_USERS = ["anna.svensson", "kalle_92", "per-olof.sjoberg", "jörgen.åström", "märta.öberg", "lisa.k+kommun",
               "ahmed.yilmaz", "FATIMA.HUSSEIN", "nils1968", "ebba.lind+synpunkt", "b.nguyen", "mamma.till.3",
               "gunnel.holmgren", "anders_ek", "h.haddad", "zeynep.demir", "tobbe.w", "åsa.berg"]
EMAIL_DOMAINS = ["gmail.com", "hotmail.com", "telia.com", "live.se", "outlook.com", "yahoo.se", "bredband2.com",
                 "student.lu.se", "mail.ornskoldsvik.se", "edu.vallentuna.se", "icloud.com", "bahnhof.se",
                 "GMAIL.COM", "kommun.se", "stud.umu.se", "spray.se"]


# ---------------------------------------------------------------- hand-written comments
HAND = r"""
Hej! Jag heter {N.full:Karin Lundqvist} och har väntat i tre veckor på svar om bygglovet på {K.street:Storgatan 12}.
{N.initial-alone:Lisa} var jättetrevlig i receptionen och hjälpte mig med {K.eservice:Mina sidor}. Tack!
pratade med {N.lower:kalle} på {K.org:hemtjänsten} igår, han lovade att någon skulle höra av sig men inget har hänt
Min handläggare {N.title-first-initial:Sara B.} svarar aldrig på mina mejl. Det är tredje gången jag skriver.
Handläggaren {N.title-first:Eva} sa att beslutet skulle komma {K.date:2025-03-01} men jag har inte fått något.
{N.possessive:Johans} mamma fick ingen plats på äldreboendet trots att hon står först i kön.
Familjen {N.surname-plural:Svenssons} hund skäller hela nätterna och {K.org:Kommunen} gör ingenting.
Jag vill tacka {N.double-hyphen:Anna-Karin} och {N.double-space:Per Olof} på {K.org:Socialtjänsten} för ett fantastiskt bemötande.
{N.particle:Hjalmar von Essen} på {K.org:Miljöförvaltningen} har inte svarat på min anmälan om buller.
Kontakta gärna {N.particle:Cecilia af Klinteberg}, hon vet allt om ärendet.
Vi pratade med {N.particle:Maria de Souza} på {K.org:Ekonomiskt bistånd} men hon kunde inte hjälpa oss.
{N.immigrant:Mohammed} i {K.org:hemtjänsten} är den ende som faktiskt lyssnar på pappa.
Jag heter {N.immigrant:Fatima Hussein} och jag har bott i {K.place:Vallentuna} i {K.duration:12 år}.
Min dotter {N.immigrant:Aleksandra} har inte fått någon skolskjuts sedan {K.date:2025-01-08}.
{N.immigrant:Ahmed Yilmaz} på fritidsgården är en klippa, ge honom mer resurser!
Vår kontaktperson {N.immigrant:Huong Nguyen} har slutat och ingen har tagit över.
{N.caps:ANNA SVENSSON} HAR INTE FÅTT NÅGOT SVAR PÅ SIN ANSÖKAN!!!
JAG HAR RINGT {N.caps:KARIN} PÅ {K.org:SOCIALTJÄNSTEN} FEM GÅNGER UTAN SVAR
{N.wordname:Rosa} på förskolan Solrosen är helt underbar med barnen.
Vi vill tacka {N.wordname:Linnea} som ordnade allt med färdtjänsten.
{N.wordname:Sten} på tekniska kontoret har lovat att laga gatlyset men det är fortfarande mörkt.
Pratade med {N.wordname:Björn} på {K.org:Skatteverket}, inte kommunen, men han skickade mig vidare hit.
{N.wordname:Ulf} som kör snöplogen kör alldeles för fort förbi skolan.
Min kontakt {N.wordname:Viktor} på arbetsmarknadsenheten har varit sjuk i {K.duration:3 veckor}.
Farfar {N.wordname:Hjalmar} behöver hjälp med att handla men hemtjänsten hinner inte.
{N.wordname:Ask} i klass 3B blir mobbad varje rast och skolan gör inget.
Läraren {N.wordname:Ek} är den bästa vår son haft.
Fröken {N.wordname:Berg} sa att det inte finns plats i fritids till hösten.
{N.wordname-full:Kristina Lind} på kundtjänst tog sig tid att förklara fakturan på {K.amount:1 250 kr}.
Vår dotter {N.wordname:Sol} fick ingen plats på förskolan i närheten.
Vi döpte vår son till {N.wordname:Hope} och nu skriver skolan fel namn på alla papper.
Barnet {N.wordname:Ängel} har fått fel mat på förskolan två gånger.
{N.sentence-initial:Gunnel} i kassan på simhallen är alltid glad och trevlig.
{N.sentence-initial:Tobias} på bygglov har inte återkommit trots löfte.
Jag ringde {N.lower-full:anders karlsson} på växeln och han lovade att återkomma.
tack till {N.lower:emma} och {N.lower:jonas} på biblioteket för hjälpen med datorn!
Hälsningar {N.signature:Birgitta Holmgren}
Mvh {N.signature:Lars-Erik Öberg}
/{N.signature-slash:Mats}
//{N.signature-slash:Ebba W}
Hej {N.greeting:Helena}! Tack för senast, jag vill bara påminna om mitt ärende.
Vänliga hälsningar, {N.signature:Ingrid} och {N.signature:Sven Nordin}
Jag har haft kontakt med {N.full:Fredrik Sandberg} och {N.full:Malin Hedlund}, ingen av dem vet något.
Enligt {N.full:Oskar Wikström} på {K.org:Miljö- och hälsoskyddsnämnden} ska vi få svar inom {K.duration:två veckor}.
{N.full:Agneta Forsberg} och jag var på mötet den {K.date:12 mars} men protokollet är inte utskickat.
Min man {N.full:Mikael} har ansökt om bostadsanpassning, ärendenummer {K.casenr:2025-1234}.
Dottern {N.full:Elin Jansson} går i årskurs 5 på {K.org:Vasaskolan}.
Det var {N.full:Johan} som tog emot samtalet och han var otrevlig.
Kan {N.full:Per Gustafsson} ringa tillbaka till mig?
Personalen på {K.org:Hemtjänst} Norr, särskilt {N.full:Amina} och {N.full:Dragan}, är fantastiska.
Vi har pratat med rektorn {N.title-full:Ulla Bengtsson} om mobbningen men inget händer.
Socialsekreteraren {N.title-first:Nadia} har gjort ett jättebra jobb med vår familj.
Biståndshandläggare {N.title-full:Tomasz Kowalski} har inte följt upp beslutet.
Undersköterskan {N.title-first:Hawa} på Solgården förtjänar en löneförhöjning.
{N.immigrant:Abdi Warsame} från föreningen har hjälpt många ungdomar i området.
Tack {N.immigrant:Leila}, utan dig hade vi aldrig fått lägenheten.
Min granne {N.immigrant:Mehmet Öztürk} har eldat sopor på tomten i {K.duration:två månader}.
Vår son {N.immigrant:Yusuf} har väntat på en utredning i över ett år.
{N.immigrant:Zeynep Demir} på {K.org:Försäkringskassan} sa att kommunen måste skicka intyget.
Jag och {N.immigrant:Omar} har försökt boka tid i {K.eservice:BankID}-appen men det fungerar inte.
Kan någon förklara för {N.immigrant:Milica Jovanović} hur man ansöker? Hon talar inte så bra svenska.
{N.possessive:Mohammeds} lärare ringde mig och sa att han inte varit i skolan.
Jag lämnade in {N.possessive:Karins} ansökan i receptionen den {K.date:3 februari}.
{N.possessive:Anna-Karins} rollator står fortfarande kvar i förrådet.
Det var {N.possessive:Eriksons} bil som blockerade infarten hela helgen.
Ring gärna {N.full:Sofia Nilsson} på {K.org:kundtjänst} om du har frågor.
vi har bott här sen 2019 och {N.lower:ahmed} från bostadsbolaget har aldrig lagat fönstret
{N.lower-full:lisa andersson} på vård och omsorg ska få en eloge
Mamma ({N.paren:Gunnel Persson}) har fallit två gånger och fått vänta på larmet i över en timme.
Jag heter {N.heter:Samira} och jag är ensamstående mamma med tre barn.
Mitt namn är {N.heter:Per-Anders Ljungberg} och jag bor på {K.street:Kvarngatan 4}.
Dom kallar mig {N.nick:Kalle} men jag heter egentligen {N.heter:Karl-Johan}.
{N.full:Erik} och {N.full:Maria} på förskolan Ekorren förtjänar allt beröm.
Jag fick ett brev från {N.full:Hans-Göran Bäckström} men förstår inte vad det betyder.
Som {N.full:Jenny} på telefonen sa: "det är inte vårt ansvar". Men vems då?
Enhetschef {N.title-full:Helena Strand} lovade ett möte i {K.time:v. 12} men inget har hänt.
{N.full:Viktoria Hassan} och hennes kollegor har gjort ett strålande jobb.
Vi hade möte med {N.full:Christer Ahlgren}, {N.full:Britt-Marie Sundqvist} och {N.full:Yasmin Karimi}.
Pappa heter {N.heter:Bengt Åkesson} och han är {K.duration:87 år} och bor ensam.
Det var {N.wordname:Rosa} och {N.wordname:Linnea} som hjälpte oss på {K.org:Medborgarkontoret}.
Kan {N.wordname-full:Björn Lind} ringa upp mig? Han vet vad det gäller.
{N.wordname:Viktor} och {N.wordname:Sten} på parkförvaltningen har gjort parken så fin.
Vår handläggare heter {N.heter:Linnea Ek} och hon är superbra.
Hälsningar {N.signature:Ulf Berg}
Tacksam för svar. /{N.signature-slash:Rosa}
Jag har pratat med {N.full:Nguyen} på ekonomienheten flera gånger.
Skolsköterskan {N.title-first:Ingela} är guld värd!
Vi är jättenöjda med {N.full:Jessica Lindberg} som är kontaktperson för vår son.
Hemtjänstpersonalen, {N.full:Ida} och {N.full:Rasmus}, kommer alltid i tid.
Jag skulle vilja ha en ny handläggare istället för {N.full:Magnus Sjögren}.
Sedan {N.full:Therese} slutade på {K.org:LSS-enheten} har ingen svarat i telefon.
{N.possessive:Ahmeds} pappa har försökt få kontakt med skolan i två veckor.
Nämnden borde lyssna på {N.possessive:Marias} förslag om fler papperskorgar.
Det som {N.full:Kjell-Åke} på gatukontoret sa stämmer inte.
Kontakta mig eller min fru {N.full:Åsa} om ni behöver mer information.
Barnen {N.full:Wilma} och {N.full:Alve} har fått fel skolskjutstider.
{N.full:Moa Wallin} på kulturskolan har betytt allt för vår dotter.
Jag vill klaga på bemötandet från {N.full:Stefan Engström} vid besöket den {K.date:2025-02-14}.
Träffade {N.full:Nils} och {N.full:Göran} från fastighetsavdelningen vid lekplatsen.
Vi har fått hjälp av tolken {N.full:Hamid Rahimi} och det fungerade bra.
{N.caps:MOHAMMED ALI} på fritids gör ett fantastiskt jobb!!
TACK {N.caps:LISA} OCH {N.caps:EMMA} PÅ BIBLIOTEKET!
Hemtjänsten i {K.place:Göteborg} skickade {N.full:Dragana} som inte kunde någon svenska.
Prata med {N.full:Sebastian Nyström}, han har all dokumentation.
Efter samtal med {N.full:Louise Ekman} förstår jag fortfarande inte beslutet.
Vår nya granne {N.full:Tiina Virtanen} har tre hundar som skäller.
Det var chefen {N.title-first:Roger} som beslutade att stänga badhuset.
Min mamma {N.full:Elsa Bergström} har demens och får inte den hjälp hon behöver.
{N.full:Lena} och {N.full:Kent} på återvinningscentralen var hjälpsamma.
Jag träffade {N.full:Adam Holm} från {K.org:Kronofogden} men det gällde en annan sak.
{N.lower:fatima} på skolan har hjälpt vår son så mycket
Jag har sökt handläggare {N.lower:ola} flera gånger utan svar
Handläggare {N.title-first:Ola} svarar inte på mejl.
"""

# Hard-negative comments (no personal data; every capitalised word is a trap)
NEG = r"""
{K.org:Kommunen} har inte svarat på min fråga om avgiften på {K.amount:1 250 kr}.
{K.org:Socialtjänsten} i {K.place:Vallentuna} borde ha bättre öppettider, t.ex. {K.time:08:30}–{K.time:16:00}.
Jag flyttade från {K.place:Stockholm} till {K.place:Göteborg} och nu fungerar inte {K.eservice:Mina sidor}.
{K.org:Malmö stad} skickade fakturan den {K.date:2025-03-01} med förfallodag {K.date:2025-03-31}.
Ärendenummer {K.casenr:2025-1234}, jag väntar fortfarande på beslut.
Vi överklagade beslutet, dnr {K.casenr:KS 2024/123}, men har inte fått något svar.
Avgiften höjdes med {K.percent:15 %} utan att någon informerade oss.
Det tog {K.duration:3 veckor} att få en tid, och sedan var det inställt.
{K.org:Skatteverket} och {K.org:Kronofogden} säger olika saker, vem ska man tro på?
{K.org:Hemtjänst} och {K.org:Ekonomiskt bistånd} behöver prata med varandra.
Skicka post till {K.street:Storgatan 12}, {K.postcode:123 45} {K.place:Umeå}.
Jag loggade in med {K.eservice:BankID} men {K.eservice:Mina sidor} visar fel uppgifter.
Mötet hölls på {K.eservice:Teams} och ljudet fungerade inte, vi hittade inte ens länken via {K.eservice:Google}.
Statistiken på {K.org:Kolada} visar att vår kommun ligger sist i länet.
{K.org:Skolverket} säger att alla barn har rätt till skolskjuts, men inte här.
{K.org:Försäkringskassan} vill ha ett intyg från kommunen som ni vägrar skriva.
Jag betalade {K.amount:4 500 kronor} för bygglovet och {K.amount:12 000 kr} för nybyggnadskartan.
Öppettiderna kl. {K.time:08.30}-{K.time:16.30} passar inte den som jobbar.
Sedan {K.year:2019} har avgiften ökat med {K.percent:32 procent}.
På {K.street:Drottninggatan 45B} har det legat en trasig cykel sedan {K.date:1 april}.
Jag bor i {K.postcode:752 36} {K.place:Uppsala} men är skriven i {K.place:Knivsta}.
Ärende {K.casenr:BN 2024-000123} gäller ett staket, inte en mur.
Det står {K.amount:3 450:-} på fakturan men ni lovade {K.amount:2 900 kr}.
{K.org:Region Stockholm} och {K.org:Stockholms stad} skyller på varandra.
Vi ringde {K.emergency:112} och sedan {K.emergency:1177} men ingen kom på {K.duration:45 minuter}.
Polisen ({K.emergency:114 14}) sa att det var kommunens ansvar.
{K.org:Trafikverket} äger vägen enligt er, men {K.org:Lantmäteriet} säger annat.
Parkeringen vid {K.place:Centralstationen} kostar {K.amount:35 kr/tim} vilket är för dyrt.
Sommaren {K.year:2024} var badplatsen vid {K.place:Rosersberg} full av alger.
Mellan {K.date:2025-06-01} och {K.date:2025-08-15} är biblioteket stängt, det är {K.duration:11 veckor}!
Det har gått {K.duration:1,5 år} sedan vi sökte förskoleplats i {K.place:Täby}.
Elpriset steg {K.percent:40%} och nu vill ni höja hyran med {K.percent:7,5 %}.
I {K.place:Sundsvall} har man löst detta, varför inte i {K.place:Härnösand}?
{K.org:Arbetsförmedlingen} skickade oss till {K.org:Jobbtorget} som skickade oss tillbaka.
Busslinje {K.number:515} går bara två gånger i timmen efter kl {K.time:19}.
Vi fick beskedet i brev daterat {K.date:15/3} men det kom fram {K.date:den 28:e}.
Vi vill ha fler parkbänkar i {K.place:Ekparken} och vid {K.place:Björkdammen}.
Förskolan {K.org:Solrosen} och skolan {K.org:Björkhagsskolan} delar gård.
{K.org:Vård- och omsorgsförvaltningen} har inte svarat på vår skrivelse från {K.date:januari}.
Fakturanr {K.casenr:1234567} gäller inte oss, vi har aldrig beställt något.
Ni kan nå mig via {K.eservice:Mina meddelanden} på {K.eservice:1177.se}.
Kommunens växel {X.switchboard:08-590 970 00} är stängd på lunchen.
Jag skickade in blanketten {K.form:SoL 4:1} men fick den i retur.
Den nya cykelbanan längs {K.street:Sveavägen} är livsfarlig vid korsningen mot {K.street:Odengatan}.
Snöröjningen på {K.street:Björkvägen 3} sker alltid sist, trots att vi har {K.number:4} barn.
Fastigheten {K.property:Ekbacken 2:14} är ute till försäljning men bygglovet är inte klart.
Organisationsnummer {K.orgnr:212000-0142} står på fakturan, är det rätt?
Ni har skrivit fel belopp: {K.amount:1.250,00 kr} ska vara {K.amount:125,00 kr}.
Simhallen på {K.street:Ängelholmsvägen} öppnar {K.time:06:00} men det står {K.time:07:00} på webben.
{K.org:Ekonomiskt bistånd} betalade ut {K.amount:8 312 kr} för {K.date:mars 2025} vilket är för lite.
Kl {K.time:14.15} den {K.date:2 maj 2025} stod bussen still i {K.duration:40 min} vid {K.place:Ekeby}.
{K.place:Linköping} har gratis parkering för elbilar, varför har inte vi det?
{K.org:Lindgården} saknar personal på helgerna.
Vi som bor i {K.place:Berga} och {K.place:Solberga} blir alltid bortglömda.
Ingen på {K.org:Barn- och utbildningsförvaltningen} vet vem som ansvarar.
Vi har swishat {K.amount:200 kr} till föreningen men fått betala igen via {K.eservice:Swish}.
Min bostadsrättsförening {K.org:HSB Brf Solsidan} har klagat i {K.duration:2 år}.
Jag använder {K.eservice:Freja eID} och inte {K.eservice:BankID}, kan jag logga in ändå?
Parkeringsboten på {K.amount:800 kr} fick jag den {K.date:2025-02-30}, ett datum som inte finns!
{K.org:Polisen} och {K.org:Räddningstjänsten} kom men {K.org:Socialjouren} kom aldrig.
Vi vill ha kvar {K.org:Kulturskolan} i {K.place:Rosengård}.
Kursen kostar {K.amount:1 950 SEK} per termin, det har inte alla råd med.
Skolan i {K.place:Stenstorp} har fortfarande inte fått nya fönster.
Sjön {K.place:Ängeln} är full av sopor efter midsommar.
Bygget på {K.street:Lindvägen 7A} pågår dygnet runt från {K.time:06.00} till {K.time:22.00}.
Hyran för lokalen är {K.amount:3 200 kr/mån} plus moms {K.percent:25 %}.
Jag har klagat sedan {K.date:vecka 34} och nu är det {K.date:vecka 45}.
Postnummer {K.postcode:831 30} {K.place:Östersund} stämmer inte i ert register.
Ni skriver {K.date:2025-03-05 kl. 10:00} men det var {K.date:2025-03-06}.
"""


def generated(rng):
    """Number, phone and e-mail items in many formats, in realistic frames."""
    out = []
    # ---- personnummer
    pnr_frames = [
        ("Mitt personnummer är {X}, jag har väntat i flera veckor på beslut om bostadstillägg.", "kw-personnummer"),
        ("Hej, jag söker ekonomiskt bistånd. Pnr {X}.", "kw-Pnr"),
        ("personnr {X} - har inte fått något svar på min ansökan", "kw-personnr"),
        ("Angående min pappa, p-nr {X}, som bor på Solgården.", "kw-p-nr"),
        ("Min son ({X}) har inte fått skolskjuts.", "paren-no-kw"),
        ("Min son (pnr {X}) har inte fått skolskjuts.", "paren-kw"),
        ("Ring mig om ni undrar något, mitt nummer är {X}", "mitt-nummer-ar"),
        ("Jag, {X}, vill överklaga beslutet från nämnden.", "bare-commas"),
        ("Personnummer: {X}", "kw-colon"),
        ("pnr:{X} angående hemtjänst", "kw-nospace"),
        ("Ansökan gäller {X}.", "bare-sentence-end"),
        ("Gäller min mamma {X} som fått fel avgift.", "bare-after-noun"),
        ("Pers.nr {X}, fakturan är fel.", "kw-Persnr-dot"),
        ("Personummer {X} (stavfel i ordet)", "kw-typo"),
        ("Mitt prsnr är {X}", "kw-prsnr"),
        ("Födelsenummer {X}, jag är inte folkbokförd i kommunen.", "kw-fodelsenummer"),
        ("P nr {X} , ansökan om färdtjänst", "kw-P-space-nr"),
        ("pers nr {X} bostadsanpassning", "kw-pers-nr"),
        ("Personnumret är {X}", "kw-personnumret"),
        ("Skriver för min sambo, hans personnummer är {X} och han har inte fått svar.", "kw-long"),
        ("PNR {X}", "kw-caps"),
        ("Barnets personnummer {X}, förskoleplacering.", "kw-barnets"),
    ]
    styles = ["10-dash", "10-plus", "10-space", "10-none", "12-dash", "12-none", "12-space", "10-endash", "12-dash-spaced"]
    for i, (frame, ctx) in enumerate(pnr_frames):
        for j in range(3):
            style = styles[(i * 3 + j) % len(styles)]
            valid = (i + j) % 3 != 0  # a third wrong check digit
            if style == "10-plus":
                val = fmt_id(rng, style, valid=valid, year=rng.randint(1915, 1924))
            else:
                val = fmt_id(rng, style, valid=valid)
            tag = f"{style}|{'ok' if valid else 'badcheck'}|{ctx}"
            out.append(frame.replace("{X}", "{P." + tag.replace("|", "/") + ":" + val + "}"))
    # grouped after keyword, and a digit short
    out.append("Pnr {P.grouped/kw:" + fmt_id(rng, "grouped") + "} gäller min mamma.")
    out.append("personnummer {P.short-digit/kw:" + fmt_id(rng, "10-dash")[:-1] + "} (saknar en siffra, skrev fel)")
    out.append("Pnr {P.invalid-date/kw:851345-1234}, jag behöver hjälp.")
    # ---- samordningsnummer
    samo_frames = [
        ("Mitt samordningsnummer är {X} och jag väntar på ett beslut.", "kw-samordningsnummer"),
        ("Samordningsnr {X}, jag har inget personnummer än.", "kw-samordningsnr"),
        ("Jag har bara samordningsnummer: {X}", "kw-colon"),
        ("Ansökan gäller {X}, vi kom till Sverige förra året.", "bare"),
        ("Min fru ({X}) behöver tolk vid mötet.", "paren"),
        ("personnummer {X} (det är ett samordningsnummer)", "kw-pnr"),
        ("mitt nummer är {X}", "mitt-nummer-ar"),
        ("Sam.nr {X}", "kw-Samnr-dot"),
    ]
    sstyles = ["10-dash", "12-dash", "10-none", "12-none", "10-space"]
    for i, (frame, ctx) in enumerate(samo_frames):
        for j in range(3):
            style = sstyles[(i + j) % len(sstyles)]
            valid = (i + j) % 3 != 1
            val = fmt_id(rng, style, samo=True, valid=valid)
            tag = f"{style}/{'ok' if valid else 'badcheck'}/{ctx}"
            out.append(frame.replace("{X}", "{S." + tag + ":" + val + "}"))
    # ---- phones
    phone_frames = [
        "Ring mig på {X} efter kl 17.",
        "Ni når mig på {X}",
        "Mitt nummer: {X}. Hör av er!",
        "tel {X}",
        "Min mobil {X}, jag svarar inte på dolt nummer.",
        "Kan någon ringa min mamma på {X}? Hon väntar fortfarande.",
        "Ring {X} så förklarar jag.",
        "Jag har ringt er från {X} flera gånger utan svar.",
        "Vid frågor: {X} (efter 16)",
        "Kontakta min son på {X} istället för mig.",
        "Hemnumret är {X}",
        "sms:a gärna {X}",
    ]
    pstyles = ["mob-dash-space", "mob-none", "mob-spaces", "mob-dash", "mob-dots", "mob-spaced-dash", "mob-3-2-3",
               "+46-spaces", "+46-none", "+46(0)", "+46-0-dash", "0046-spaces", "0046-none", "0046-dash",
               "08-3-3-2", "08-none", "08-space", "(08)", "031-2-2-2", "031-none", "040-3-3", "0451-5",
               "0920-2-2-2", "010-numbers", "020-numbers", "0200-numbers", "slash", "046-intl-no-plus"]
    for i, style in enumerate(pstyles):
        for j in range(3):
            frame = phone_frames[(i * 3 + j) % len(phone_frames)]
            val = phone(rng, style)
            out.append(frame.replace("{X}", "{T." + style + ":" + val + "}"))
    # phones without a phone word, mid-sentence
    out.append("Det är {T.bare-mob:" + phone(rng, "mob-dash-space") + "} som gäller om ni vill nå oss.")
    out.append("Svar till {T.bare-mob-none:" + phone(rng, "mob-none") + "} eller via brev.")
    out.append("{T.sentence-initial:" + phone(rng, "mob-dash-space") + "} är mitt nummer, ring efter fem.")
    out.append("Mitt nummer är {T.mitt-nummer-ar:" + phone(rng, "mob-none") + "}.")
    out.append("Ring mig på {T.words:noll sju noll, ett två tre, fyrtiofem sextiosju} så tar vi det.")
    out.append("Mitt nummer är {T.words-digits:noll-sju-tre 12 34 567}.")
    # ---- e-mails
    email_frames = [
        "Svara till {X} tack.",
        "Min mejl är {X}.",
        "Kontakta mig på {X}",
        "Skicka beslutet till {X}, inte med post.",
        "E-post: {X}",
        "Ni kan mejla min dotter på {X} istället.",
        "Jag har skickat tre mejl från {X}!",
    ]
    i = 0
    for user in EMAIL_USERS:
        for dom in EMAIL_DOMAINS[i % len(EMAIL_DOMAINS): i % len(EMAIL_DOMAINS) + 1]:
            val = f"{user}@{dom}"
            tag = ("aao" if re.search("[åäö]", val) else "") + ("plus" if "+" in val else "") + \
                  ("upper" if val.upper() == val else "") + ("sub" if dom.count(".") > 1 else "")
            tag = tag or "plain"
            frame = email_frames[i % len(email_frames)]
            out.append(frame.replace("{X}", "{E." + tag + ":" + val + "}"))
            i += 1
    extra_emails = [
        ("at-paren", "anna.lind(at)kommun.se"),
        ("at-bracket-punkt", "karin [at] gmail punkt com"),
        ("at-bracket-punkt", "per.nilsson [at] hotmail punkt com"),
        ("at-word-dot", "johan at gmail dot com"),
        ("snabel-a", "lisa punkt berg snabel-a telia punkt com"),
        ("space-at", "ahmed.ali @ gmail.com"),
        ("angle", "<eva.holm@outlook.com>"),
        ("mailto", "mailto:sven.ek@telia.com"),
        ("upper", "KARIN.BERG@LIVE.SE"),
        ("aao-domain", "info.ägare@företaget-åre.se"),
        ("digits-under", "m_hussein_85@hotmail.com"),
        ("at-paren-space", "nils (at) bahnhof.se"),
        ("snabela-word", "olle.s snabel-a gmail.com"),
    ]
    for k, (tag, val) in enumerate(extra_emails):
        frame = email_frames[k % len(email_frames)]
        core = val
        if tag == "angle":
            out.append(frame.replace("{X}", "<{E.angle:" + val[1:-1] + "}>"))
            continue
        if tag == "mailto":
            out.append(frame.replace("{X}", "mailto:{E.mailto:" + val[7:] + "}"))
            continue
        out.append(frame.replace("{X}", "{E." + tag + ":" + core + "}"))
    out.append("Skriv till {E.sentence-end:anna.svensson@gmail.com}. Jag svarar samma dag.")
    out.append("Min adress är {E.sentence-end-excl:kalle@telia.com}!")
    out.append("({E.in-paren:sara.holm@gmail.com})")
    out.append("Mejla {E.comma-list:a.b@c.se}, {E.comma-list:eva@d.se} eller ring.")
    return out


def mixed(rng):
    """Comments with several kinds of personal data together, as real complaints often have."""
    out = []
    for k in range(30):
        f = rng.choice(FIRST if k % 2 else IMM_FIRST)
        l = rng.choice(LAST if k % 3 else IMM_LAST)
        pn = fmt_id(rng, rng.choice(["10-dash", "12-dash", "10-none"]), valid=k % 4 != 0)
        ph = phone(rng, rng.choice(["mob-dash-space", "mob-none", "+46-spaces", "08-3-3-2"]))
        em = f"{f.lower()}.{l.lower()}@{rng.choice(['gmail.com', 'hotmail.com', 'telia.com'])}"
        amount = f"{rng.randint(1, 9)} {rng.randint(100, 999)} kr"
        case = f"{rng.choice([2024, 2025])}-{rng.randint(100, 9999)}"
        frames = [
            "Hej! Jag heter {N.mixed:%s %s} (%s). Jag har fått en faktura på {K.amount:%s} som jag inte förstår. "
            "Ring {T.mixed:%s} eller mejla {E.mixed:%s}. Ärendenummer {K.casenr:%s}."
            % (f, l, "{P.mixed:" + pn + "}", amount, ph, em, case),
            "Ärende {K.casenr:%s}: {N.mixed:%s %s}, pnr {P.mixed:%s}, tfn {T.mixed:%s}. Beslutet om {K.amount:%s} är fel."
            % (case, f, l, pn, ph, amount),
            "Mvh {N.mixed:%s} ({E.mixed:%s}, {T.mixed:%s})" % (f, em, ph),
        ]
        out.append(frames[k % 3])
    return out


def cases(seed: int = 7):
    rng = random.Random(seed)
    rows = []
    for group, lines in (("hand", HAND), ("neg", NEG), ("extra", EXTRA)):
        for line in lines.strip().splitlines():
            if line.strip():
                rows.append((group, line.strip().replace("\\t", "\t").replace("070 123 45 67", "070\u00a0123\u00a045\u00a067")))
    rows += [("gen", x) for x in generated(rng)]
    rows += [("mixed", x) for x in mixed(rng)]
    rows.append(("extra", "Hej!\n\nJag heter {N.multiline:Lisa Ek} och bor i {K.place:Umeå}.\r\nRing {T.multiline:0701234567}\n\n/{N.multiline:Lisa}  "))
    out = []
    for i, (g, marked) in enumerate(rows):
        text, ents = parse(marked)
        out.append({"id": i, "group": g, "text": text, "ents": ents, "marked": marked})
    return out


if __name__ == "__main__":
    cs = cases()
    from collections import Counter
    print(len(cs), "cases")
    print(Counter(e[2] for c in cs for e in c["ents"]))


# ---------------------------------------------------------------- extra cases added after the first run
EXTRA = r"""
Skriv till {E.at-word-dot-nonname:nils1968 at gmail dot com} om ni har frågor.
Svara gärna på {E.at-bracket-punkt-nonname:bullerklagan [at] gmail punkt com}.
Min mejl: {E.space-at-nonname:kalle_92 @ hotmail.com}
Maila {E.snabel-a-nonname:tant.gron snabel-a telia punkt se} tack
Kontakta {E.at-paren-nonname:mamma.till.3(at)live.se} om tiderna.
Mejla {E.nonname-punkt:grannen72 @ gmail punkt com} så svarar jag.
Hej,  jag heter {N.ws:Karin Lund}.\tRing {T.ws:070-123 45 67}  efter  fem.
Mitt nummer är {T.nbsp:070 123 45 67} (med hårda mellanslag).
Ring mig på {T.trailing-dot:08-123 456 78}.
"""
