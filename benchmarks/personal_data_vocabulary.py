"""Word material for the personal-data benchmark (benchmarks/personal_data_corpus.py); all made up here.

Names written here in Latin script complement Faker's name lists (sv_SE, fi_FI, pl_PL, hr_HR) with first and
last names common among people in Sweden with roots in the Middle East, the Horn of Africa, Iran, Afghanistan,
Turkey, the Balkans, South and East Asia and Latin America. None of these lists is the redactor's: the benchmark
reports separately how names found in the redactor's own lists fare.
"""

from __future__ import annotations

IMMIGRANT_FIRST = """
Ahmad Mohammad Ali Hussein Omar Khaled Yousef Ibrahim Mustafa Hassan Karim Sami Nour Rania Lina Yasmin Aya Rasha Dima
Hala Reem Salma Mariam Fatima Zahra Amal Layla Hiba Walaa Ghada Samer Bassel Firas Mazen Jamil Nidal Wael Tarek Ziad
Hadi Abdirahman Abdullahi Mahad Hodan Ayaan Fadumo Hibaaq Ubah Sagal Ilhan Asad Guled Liban Farhan Idil Deeqa Khadar
Mukhtar Reza Mehdi Amir Dariush Kourosh Farhad Babak Shirin Parisa Neda Maryam Leila Soraya Sahar Yalda Sayed Zabihullah
Farid Nasrin Habiba Wahid Rahim Dilan Rojda Berivan Zana Shilan Baran Rebin Kawa Hawre Soran Aram Yonas Dawit Tesfaye
Habtom Senait Selam Merhawi Filmon Samrawit Tsega Mehmet Ahmet Emre Burak Elif Zeynep Ayşe Emine Özlem Hatice Derya
Emir Edin Adnan Mirsad Senad Alma Amela Lejla Emina Minh Linh Thanh Wei Jing Priya Rahul Amit Anjali Sanjay Deepa
Carlos José Camila Diego Valentina Alejandro Mateo Gabriela
""".split()

IMMIGRANT_LAST = """
Al-Hassan Alhassan Al-Ali Haddad Khalil Nasser Saleh Darwish Hamdan Abdallah Mansour Sabbagh Khoury Kassab Zein Hamoud
Warsame Jama Farah Hirsi Dahir Osman Mohamud Yusuf Nur Karimi Hosseini Ahmadi Rahimi Sultani Nazari Jafari Sadeghi
Mohammadi Rezaei Hashemi Azizi Noori Haidari Tesfay Gebremedhin Haile Berhane Kidane Tekle Gebru Woldu Yılmaz Yilmaz
Kaya Demir Çelik Şahin Öztürk Aydın Arslan Doğan Kılıç Aslan Çetin Koç Özdemir Hodžić Hadžić Begić Mehmedović Hasanović
Delić Kovačević Jovanović Petrović Marković Nguyen Tran Pham Wang Zhang Sharma Patel Singh Kumar Gupta Rodríguez
González Hernández López Martínez
""".split()

TITLES = ["handläggaren", "Handläggaren", "min handläggare", "biståndshandläggaren", "socialsekreteraren",
          "rektorn", "Rektor", "enhetschefen", "läraren", "mentorn", "sjuksköterskan", "undersköterskan",
          "kontaktpersonen", "chefen", "bygglovshandläggaren", "vaktmästaren", "assistenten", "kuratorn",
          "busschauffören", "min granne", "grannen", "min kontaktperson", "utredaren"]

ORGANISATIONS = ["Vård och omsorg", "Försäkringskassan", "Skatteverket", "Socialtjänsten", "Hemtjänsten",
                 "Stadsbyggnadskontoret", "Kulturhuset", "Arbetsförmedlingen", "Region Skåne", "Systembolaget",
                 "Kommunfullmäktige", "Miljöförvaltningen", "Trafikverket", "Lantmäteriet", "Polisen",
                 "Medborgarkontoret", "Kontaktcenter", "Mina sidor", "BankID", "Vuxenutbildningen", "Komvux",
                 "Individ- och familjeomsorgen", "Barn- och utbildningsförvaltningen", "Räddningstjänsten",
                 "Kommunstyrelsen", "Överförmyndaren", "Biblioteket", "Fritidsgården", "Västtrafik", "SL",
                 "Skånetrafiken", "Migrationsverket", "Kronofogden", "Bostadsbolaget", "Fastighetskontoret",
                 "Kundtjänst", "Facebook", "Google", "Instagram", "ICA Maxi", "Coop", "Willys", "Postnord"]

PLACES = ["Göteborg", "Kiruna", "Rosengård", "Tensta", "Järva", "Hjällbo", "Biskopsgården", "Centralstationen",
          "Lund", "Mora", "Ludvika", "Örebro", "Västerås", "Norrköping", "Gamla stan", "Södermalm", "Angered",
          "Kortedala", "Frölunda", "Husby", "Rinkeby", "Skärholmen", "Vällingby", "Umeå", "Luleå", "Gävle",
          "Sundsvall", "Jönköping", "Växjö", "Kalmar", "Visby", "Falun", "Borås", "Halmstad", "Trollhättan",
          "Nordstan", "Slottsskogen", "Ringön", "Stadsparken", "Torget", "Resecentrum", "Simhallen"]

FILLER = [
    "Snöröjningen fungerar inte alls på vår gata.",
    "Ingen ringer tillbaka fast jag har mejlat flera gånger.",
    "Bemötandet var väldigt bra och jag fick hjälp direkt.",
    "Jag väntade över en timme i telefonkön.",
    "Hemtjänsten kommer alltid för sent till min mamma.",
    "Förskolan är fantastisk men kön var lång.",
    "E-tjänsten för bygglov krånglade hela kvällen.",
    "Det är mycket skräp i parken efter helgerna.",
    "Gatlamporna har varit trasiga i flera veckor.",
    "Tack för snabb och trevlig service!",
    "Jag förstår inte varför beslutet tog så lång tid.",
    "Bussen var försenad igen i morse.",
    "Biblioteket borde ha längre öppettider.",
    "Det luktar illa från återvinningsstationen.",
    "Skolmaten har blivit mycket bättre i år.",
    "Ni måste göra något åt trafiken vid skolan.",
    "Jag är besviken på hur mitt ärende har hanterats.",
    "Personalen på äldreboendet gör ett fantastiskt jobb.",
    "Vattnet var avstängt utan förvarning.",
    "Hemsidan är svår att hitta på.",
    "Min dotter trivs jättebra på fritids.",
    "Det är ofta fullt på parkeringen vid vårdcentralen.",
    "Cykelbanan är full av grus sedan i vintras.",
    "Svaret jag fick var otydligt och kortfattat.",
]

CONTACT_WORDS = {
    "telefon": ["Ring mig på {}", "Tel: {}", "Tel {}", "mobil: {}", "Mobilnr {}", "Du når mig på {}",
                "Mitt nummer är {}", "Ring {} efter kl 16", "sms:a gärna {}", "telefonnummer {}", "{}",
                "Kontakta mig på {} eller via mejl", "nås på tel. {}", "Tfn {}"],
    "e-post": ["Mejla mig på {}", "E-post: {}", "mail {}", "Svara till {}", "Min mejl är {}", "{}",
               "Skicka beslutet till {} tack", "mejladress: {}", "kontakta mig via {}"],
    "adress": ["Jag bor på {}", "Adress: {}", "Skicka brevet till {}", "utanför {}", "vi bor på {} sedan 2019",
               "Hämta soporna på {}"],
}

PNR_CONTEXTS = ["Mitt personnummer är {}", "mitt personnummer: {}", "Personnummer {}", "pnr {}", "Pnr: {}",
                "pers.nr {}", "personnr {}", "Födelsenummer {}", "mitt nummer är {}", "personnumret {}",
                "mitt personummer är {}", "personnumer {}", "p-nr {}", "ang. mitt pnr {}", "(pnr {})",
                "min sons personnummer är {}", "pers nr: {}", "person nr {}"]
SAMO_CONTEXTS = ["Mitt samordningsnummer är {}", "samordningsnummer {}", "samordningsnr: {}",
                 "Jag har samordningsnummer {}", "mitt personnummer är {}", "pnr {}"]
BARE_CONTEXTS = ["{}", "Ang. {}", "gäller {}", "({})", "Jag ({}) har sökt bidrag", "Ärendet gäller {} och hans mamma"]

NAME_CONTEXTS = [
    "{title} {name} ringde aldrig tillbaka.", "Jag har pratat med {name} tre gånger.", "Tack till {name} på hemtjänsten!",
    "Min kontaktperson heter {name}.", "{name} på bygglov lovade att höra av sig.", "Mvh {name}",
    "Hälsningar\n{name}", "Jag och {name} väntade i två timmar.", "Skicka svaret till {name} tack.",
    "{title} {name} var otroligt hjälpsam.", "Jag vill klaga på {title} {name}.", "Fråga efter {name} i receptionen.",
    "Vi träffade {name} och {name2} på mötet.", "/{name}", "{name} var jättetrevlig.", "hej det är {name} som skriver",
    "Har fortfarande inte fått svar från {name}.", "Jag heter {name} och bor i området.", "Ring {name} istället.",
    "Min mamma {name} bor på boendet.", "Vänliga hälsningar, {name}",
]
POSSESSIVE_CONTEXTS = ["{pos} bemötande var under all kritik.", "Jag har aldrig fått {pos} beslut.",
                       "{title} {pos} kommentarer var onödiga.", "Det var {pos} fel att ansökan försvann.",
                       "Tack för {pos} hjälp!"]

METADATA_PERSONAL = {
    "handläggare": "namn", "kontaktperson": "namn", "inlämnad av": "namn", "namn": "namn", "ansvarig": "namn",
    "telefon": "telefon", "mobil": "telefon", "e-post": "e-post", "epost": "e-post", "personnummer": "personnummer",
    "adress": "adress",
}
METADATA_OTHER = {
    "förvaltning": ORGANISATIONS[:12],
    "kategori": ["Synpunkt", "Klagomål", "Beröm", "Förslag", "Fråga", "Felanmälan"],
    "kanal": ["E-tjänst", "Telefon", "Brev", "Besök", "Mejl", "App"],
    "kommun": ["Göteborg", "Lund", "Mora", "Kiruna", "Umeå", "Växjö", "Borås"],
    "enhet": ["Hemtjänst Norr", "Förskolan Solrosen", "Vägenheten", "Bygglov", "Parkförvaltningen",
              "Äldreboendet Björken", "Skola Öst"],
}
