"""Every sentence and label of the reports, one table per language (Swedish first; English mirrors its keys).

To change a sentence, change it here: templates and figures only look strings up by key. Placeholders in
braces are filled by :meth:`synpunkt.report.context.Report.t` (HTML, arguments escaped) or ``Report.text``
(plain text, for figures). A few strings carry markup (<b>, <i>); they are only used in HTML.
"""

from __future__ import annotations

from synpunkt.labels import (ALL_TOPICS, ALL_TOPICS_LABEL_EN, ALL_TOPICS_LABEL_SV, SENTIMENT_LABELS_SV, SENTIMENTS,
                             TOPIC_LABELS_EN, TOPIC_LABELS_SV)
from synpunkt.quarantine_reasons import reason_labels

NB = "\u00a0"  # non-breaking space: keeps "95 % KI" and "5 % nivå" on one line

STRINGS: dict[str, dict] = {
    "sv": {
        "locale": "sv_SE",
        "topics": {ALL_TOPICS: ALL_TOPICS_LABEL_SV, **TOPIC_LABELS_SV},
        "sentiments": {s: SENTIMENT_LABELS_SV[s].capitalize() for s in SENTIMENTS},
        "channels": {"telefon": "Telefon", "e-post": "E-post", "chatt": "Chatt", "besök": "Besök",
                     None: "Kanal saknas"},
        "kommungrupper": {"A1": "Storstäder", "A2": "Pendlingskommun nära storstad", "B3": "Större stad",
                          "B4": "Pendlingskommun nära större stad", "B5": "Lågpendlingskommun nära större stad",
                          "C6": "Mindre stad/tätort", "C7": "Pendlingskommun nära mindre stad/tätort",
                          "C8": "Landsbygdskommun", "C9": "Landsbygdskommun med besöksnäring"},
        "national_name": "alla kommuner",
        "title_municipality": "Synpunkter {year}: {name}",
        "title_national": "Synpunkter {year}: alla kommuner",
        "subtitle_municipality": "Årsrapport om vad medborgarna har sagt till {name} ({county}) under {year}, "
                                 "klassat som positivt, skeptiskt eller negativt och efter område.",
        "subtitle_national": "Årsrapport om vad medborgarna har sagt till de {k} kommuner som lämnar synpunkter "
                             "till Synpunkt, {year}, klassat som positivt, skeptiskt eller negativt och efter område.",
        "subtitle_national_one": "Årsrapport om vad medborgarna har sagt till den kommun som lämnar synpunkter till "
                                 "Synpunkt, {year}, klassat som positivt, skeptiskt eller negativt och efter område.",
        "page_label": "Sida",
        "page_of": "av",
        # -- the first screen ----------------------------------------------------------------------------------
        "lead_heading": "Så står sig {name} {year}",
        "lead_heading_national": "Riket {year} i korthet",
        "lead_rank": "Plats <b>{rank} av {total}</b> bland kommunerna med minst {min_n} synpunkter, efter "
                     "nettotal.",
        "lead_rank_peers": "Plats {rank} av {total} bland jämförbara kommuner ({peers}).",
        "lead_unranked": "{name} har {n} synpunkter {year}, färre än de {min_n} som krävs för att rangordnas. "
                         "Siffrorna är osäkra; läs dem med försiktighet.",
        "lead_unranked_one": "{name} har {n} synpunkt {year}, färre än de {min_n} som krävs för att rangordnas. "
                             "Siffrorna är osäkra; läs dem med försiktighet.",
        "lead_gap": "Nettotal <b>{net}</b> mot övriga landets {rest} (hela riket {national}): {gap}.",
        "gap_higher": "{diff} procentenheter högre",
        "gap_lower": "{diff} procentenheter lägre",
        "gap_same": "samma nivå",
        "gap_sig": "statistiskt säkerställd skillnad",
        "gap_not_sig": "ingen säkerställd skillnad",
        "lead_areas_summary": "Per område: statistiskt säkerställt över riket i {above} och under riket i "
                              "{below} av {total} prövade områden.",
        "lead_areas_summary_one": "Per område: statistiskt säkerställt över riket i {above} och under riket i "
                                  "{below} av {total} prövat område.",
        "lead_areas_untested": "{k} områden har färre än {min_n} synpunkter och prövas inte.",
        "lead_areas_untested_one": "{k} område har färre än {min_n} synpunkter och prövas inte.",
        "lead_areas_small": "{k} områden bygger på färre än {min_n} synpunkter (markerade {mark}); läs dem med "
                            "försiktighet.",
        "lead_areas_small_one": "{k} område bygger på färre än {min_n} synpunkter (markerat {mark}); läs det med "
                                "försiktighet.",
        "lead_national_spread": "{ranked} kommuner har minst {min_n} synpunkter och rangordnas: högst nettotal "
                                "har {top} ({top_net}), lägst {bottom} ({bottom_net}).",
        "lead_national_spread_one": "Bara en kommun, {top}, har minst {min_n} synpunkter och rangordnas (nettotal "
                                    "{top_net}).",
        "lead_national_unranked": "{k} kommuner har färre synpunkter och rangordnas inte.",
        "lead_national_unranked_one": "{k} kommun har färre synpunkter och rangordnas inte.",
        "lead_table_caption": "Områdena {year}",
        "lead_areas_empty": "– = inga synpunkter om området {year}.",
        "col_change_since": "Förändring sedan {prev}",
        "col_vs_national": "Mot övriga landet",
        "lead_marks": "▲/▼ = statistiskt säkerställd ökning/minskning sedan {prev}, eller skillnad mot övriga "
                      "landet (alla andra kommuner); – = ingen säkerställd skillnad. Hur det prövas står i avsnittet Om siffrorna.",
        "lead_marks_national": "▲/▼ = statistiskt säkerställd ökning/minskning sedan {prev}; – = ingen "
                               "säkerställd förändring. Hur det prövas står i avsnittet Om siffrorna.",
        "lead_no_prev": "ingen jämförelse",
        "lead_marks_noprev": "▲/▼ = statistiskt säkerställt högre/lägre än övriga landet (alla andra kommuner); "
                             "– = ingen säkerställd skillnad. Hur det prövas står i avsnittet Om siffrorna.",
        "keyfigures": "{n} synpunkter under {year}: {pos} positiva, {skep} skeptiska och {neg} negativa. "
                      "Nettotal {net} (95" + NB + "%" + NB + "KI {lo} till {hi}).",
        "keyfigures_change": "Jämfört med {prev}: {change} procentenheter{mark}.",
        "net_explained": "<b>Nettotal</b> = andelen positiva minus andelen negativa, i procentenheter (från −100 "
                         "till +100). Streck och band visar 95" + NB + "%" + NB + "konfidensintervall: med fler "
                         "synpunkter blir de smalare.",
        "not_tested": "för få för test",
        "sig_up": "statistiskt säkerställd ökning", "sig_down": "statistiskt säkerställd minskning",
        "not_sig": "ingen säkerställd förändring",
        "gap_up": "statistiskt säkerställt högre än övriga landet",
        "gap_down": "statistiskt säkerställt lägre än övriga landet", "gap_none": "ingen säkerställd skillnad",
        # -- sections -----------------------------------------------------------------------------------------
        "h_year": "Året i en bild", "h_trends": "Utveckling över tid", "h_benchmark": "Jämförelse",
        "h_channels": "Kanaler", "h_equal": "Likabehandling", "h_quotes": "Vad medborgarna säger",
        "h_method": "Om siffrorna",
        "year_intro": "Andelen positiva, skeptiska och negativa synpunkter {year}, för alla synpunkter och per "
                      "område. En synpunkt kan handla om flera områden; för ett område räknas inställningen till "
                      "just det området.",
        "year_alt": "Liggande staplar: andel positiva, skeptiska och negativa synpunkter per område {year}, "
                    "med antal och nettotal.",
        "col_topic": "Område", "col_n": "Antal", "col_net": "Nettotal (95 % KI)", "col_net_short": "Nettotal",
        "share_axis": "Andel av synpunkterna", "net_axis": "Nettotal",
        "no_data_year": "Det finns inga klassade synpunkter för {year} i lagret.",
        "trend_intro": "Nettotal per område för alla år i lagret ({first}–{last}), med 95" + NB + "%" + NB +
                       "konfidensintervall.",
        "trend_alt": "Linjediagram: nettotal per område och år med konfidensintervall.",
        "share_trend_intro": "Andelen positiva, skeptiska och negativa bland alla synpunkter, år för år.",
        "share_trend_alt": "Linjediagram: andel positiva, skeptiska och negativa synpunkter per år med band för "
                           "konfidensintervallen.",
        "one_year_only": "Det finns inga synpunkter från {name} före {year} i lagret, så det finns ingen "
                         "utveckling att visa ännu.",
        "one_year_only_national": "Det finns inga synpunkter före {year} i lagret, så det finns ingen utveckling "
                                  "att visa ännu.",
        "no_prev_year": "Det finns inga synpunkter från {prev} att jämföra med.",
        "change_table_caption": "Förändring {prev} → {year}",
        "col_pos_prev_now": "Andel positiva {prev} → {year}", "col_net_prev": "Nettotal {prev}",
        "col_net_now": "Nettotal {year}", "col_change": "Förändring", "col_p": "p-värde", "col_sig": "",
        "change_note": "▲/▼ i fetstil = statistiskt säkerställd ökning/minskning (z-test, 5" + NB + "%" + NB +
                       "nivå; se Om siffrorna). Inget test när ett år har färre än {min_n} synpunkter.",
        "bench_intro_group": "{name} jämfört med riket (alla kommuner i lagret) och med övriga kommuner i samma "
                             "kommungrupp enligt SKR, {group} ({peers}), {year}.",
        "bench_intro_county": "{name} jämfört med riket (alla kommuner i lagret) och med övriga kommuner i "
                              "{county} ({peers}), {year}. Kommungruppen {group} har färre än {min} kommuner med "
                              "synpunkter {year}, så länet är jämförelsegrupp.",
        "bench_intro_nopeers": "{name} jämfört med riket (alla kommuner i lagret), {year}. Varken kommungruppen "
                               "{group} eller {county} har andra kommuner med synpunkter {year}, så det finns "
                               "ingen jämförelsegrupp.",
        "bench_alt": "Punktdiagram: nettotal per område för kommunen, jämförbara kommuner och riket med "
                     "konfidensintervall.",
        "bench_self": "{name}", "bench_peers_group": "Övriga i kommungruppen",
        "bench_peers_county": "Övriga i {county}",
        "bench_national": "Riket (alla kommuner)",
        "bench_test": "Kolumnen <i>mot övriga landet</i> prövar skillnaden mellan {name} och alla andra kommuner i "
                      "lagret med samma z-test som för förändringar (tvåsidigt, 5" + NB + "%" + NB + "nivå).",
        "col_self": "{name}", "col_peers": "Jämförbara", "col_national": "Riket", "col_vs_rest": "Mot övriga landet",
        "rank_intro": "Kommunerna med minst {min_n} synpunkter {year}, rangordnade efter nettotal för alla "
                      "synpunkter, med 95" + NB + "%" + NB + "konfidensintervall. Den streckade linjen är riket. "
                      "Kommuner vars intervall överlappar kan inte säkert skiljas åt.",
        "rank_intro_municipality": "{name} (svart) bland kommunerna med minst {min_n} synpunkter, rangordnade "
                                   "efter nettotal {year}{peers}. {name} har plats {rank} av {total}.",
        "rank_intro_unranked": "Kommunerna med minst {min_n} synpunkter, rangordnade efter nettotal {year}{peers}. "
                               "{name} har färre synpunkter och rangordnas inte.",
        "rank_peers_note": "; jämförbara kommuner i lila",
        "rank_not_ranked": "Rangordnas inte (färre än {min_n} synpunkter): {names}.",
        "rank_none": "Ingen kommun har minst {min_n} synpunkter {year}, så ingen rangordnas.",
        "rank_alt": "Punktdiagram: kommunerna rangordnade efter nettotal med konfidensintervall.",
        "national_line": "Riket",
        "topic_table_caption": "Nettotal per område och kommun {year} (antal synpunkter inom parentes)",
        "col_municipality": "Kommun",
        "channels_intro": "Synpunkterna {year} efter kanal. Skillnaden mellan kanalerna prövas med ett "
                          "chi-två-test på fördelningen positiv/skeptisk/negativ: {test}.",
        "channels_alt": "Liggande staplar: andel positiva, skeptiska och negativa synpunkter per kanal.",
        "no_channels": "Synpunkterna för {year} saknar uppgift om kanal (telefon, e-post, chatt, besök), så "
                       "kanalerna kan inte jämföras.",
        "one_channel": "Alla synpunkter med känd kanal {year} kom via {channel}, så kanalerna kan inte jämföras.",
        "small_channels": "Synpunkterna {year} har uppgift om kanal ({channels}), men varje kanal har färre än "
                          "{min_n} synpunkter, för få för att visas eller jämföras.",
        "equal_intro": "Får alla samma bemötande? Jämförelsen bygger på fält i de metadata som kommunen skickade "
                       "med synpunkterna.",
        "equal_absent": "Synpunkterna för {year} har inga metadata om kön (fält som <i>kön</i> eller "
                        "<i>handläggare_kön</i>) eller samtalstid (fält som <i>samtalstid_min</i>), så "
                        "likabehandlingen kan inte jämföras i den här rapporten.",
        "equal_gender_intro": "Inställning efter <b>{field}</b> (fältet <i>{key}</i>), med 95" + NB + "%" + NB +
                              "konfidensintervall.",
        "equal_gender_alt": "Punktdiagram: andel positiva, skeptiska och negativa per grupp med "
                            "konfidensintervall.",
        "equal_chi2": "Chi-två-test av om fördelningen positiv/skeptisk/negativ skiljer sig mellan grupperna: "
                      "{test}.",
        "equal_missing": "{n} synpunkter utan uppgift (t.ex. ”okänt”) och grupper med färre än {min} synpunkter "
                         "ingår inte.",
        "equal_no_gender": "Metadata saknar uppgift om kön, så inställningen kan inte jämföras mellan könen.",
        "equal_too_few": "För få synpunkter med uppgift om {field} (minst två grupper med {min} eller fler behövs) "
                         "för en jämförelse.",
        "gender_field": "kön",
        "group_values": {"kvinna": "Kvinna", "man": "Man", "annat": "Annat", "woman": "Kvinna", "female": "Kvinna",
                         "male": "Man", "other": "Annat", "k": "Kvinna", "m": "Man"},
        "duration_field": "samtalstid",
        "equal_duration_intro": "Genomsnittlig <b>samtalstid</b> (fältet <i>{key}</i>, minuter) med 95" + NB +
                                "%" + NB + "konfidensintervall, {n} samtal.",
        "equal_duration_alt": "Punktdiagram: genomsnittlig samtalstid per grupp med konfidensintervall.",
        "duration_axis": "Genomsnittlig samtalstid (minuter)",
        "duration_by_gender": "Efter kön", "duration_by_sentiment": "Efter inställning",
        "welch": "Welch t-test mellan {a} och {b}: t = {t}, df = {df}, {p}",
        "kruskal": "Kruskal–Wallis-test mellan grupperna: H = {h}, {p}",
        "duration_none": "Metadata saknar samtalstid, så samtalslängden kan inte jämföras.",
        "significant": "statistiskt säkerställd skillnad", "not_significant": "ingen säkerställd skillnad",
        "low_expected": " (obs: några förväntade antal är under 5, så testet är ungefärligt)",
        "test_na": "testet kan inte beräknas",
        "test_result": "χ² = {chi2}, df = {dof}, {p}",
        "quotes_intro": "Några typiska synpunkter per område och inställning {year}: de som modellen klassade med "
                        "störst säkerhet. Texten är redigerad: personuppgifter är ersatta med markeringar som "
                        "[NAMN] och [TELEFON].",
        "quotes_none": "Inga synpunkter att visa för {year}.",
        "quotes_too_few": "{name} har {n} synpunkter {year}, färre än {min_n}: med så få synpunkter kan ett "
                          "citat peka ut den som skrev det, så inga citat visas.",
        "quotes_empty": "inga synpunkter",
        "quote_source_national": "{municipality}, {channel}",
        # -- appendix: about the figures, in plain language -------------------------------------------------------
        "method_intro": "Varje synpunkt läses av en språkmodell som bedömer om den är positiv, skeptisk eller "
                        "negativ och vilka områden den handlar om. Andelarna är andelar av synpunkterna, inte av "
                        "medborgarna: den som hör av sig är inte ett slumpmässigt urval av invånarna.",
        "method_intervals": "<b>Osäkerhet.</b> Varje andel och nettotal har ett 95" + NB + "%" + NB +
                            "konfidensintervall: det spann där det verkliga värdet för kommunens synpunkter med "
                            "stor sannolikhet ligger. Få synpunkter ger breda intervall. Andelarna är "
                            "korrigerade för modellens kända felbedömningar (mätta på handgranskade synpunkter "
                            "som modellen inte tränats på). Intervallen räknar in osäkerheten i den korrigeringen och "
                            "att modellen kan fela annorlunda på kommunens synpunkter än på de granskade; deras bredd "
                            "är avstämd så att 95 av 100 simulerade urval av granskade synpunkter hamnar inom "
                            "intervallet. Synpunkter som kommunen själv har granskat räknas med granskarens svar.",
        "method_tests": "<b>Säkerställda skillnader.</b> När två nettotal jämförs (i år mot i fjol, eller "
                        "kommunen mot övriga landet) prövas skillnaden mellan de korrigerade nettotalen med ett "
                        "z-test vars standardfel tas från intervallen, så att korrektionens osäkerhet räknas med. "
                        "Övriga landets nettotal är rikets skattning utan kommunens synpunkter. "
                        "Skillnaden kallas statistiskt säkerställd (▲/▼) när den är så stor att den bara "
                        "skulle uppstå av en slump i färre än 5 fall av 100. Varje område prövas för sig utan "
                        "korrektion för flera jämförelser, så en enstaka markering kan vara ett slumpfynd. "
                        "Inget test görs när ett år eller en grupp har färre än {min_test} synpunkter. "
                        "Skillnader mellan kanaler och grupper prövas med chi-två-test och t-test.",
        "method_ranking": "<b>Rangordning.</b> Bara kommuner med minst {min_n} synpunkter under året rangordnas; "
                          "med färre är nettotalet för osäkert. Plats i rangordningen säger mindre än den "
                          "verkar: kommuner vars intervall överlappar kan inte säkert skiljas åt. Varje siffra som "
                          "bygger på färre än {min_n} synpunkter (en kommun, ett område) är markerad med {mark}.",
        "method_peers": "<b>Jämförbara kommuner.</b> Kommunerna jämförs med övriga kommuner i samma kommungrupp "
                        "enligt Sveriges Kommuner och Regioners (SKR) kommungruppsindelning 2023, som delar in "
                        "kommunerna efter storlek, pendling och närhet till större städer. Har gruppen färre än "
                        "{min_group} kommuner med synpunkter under året jämförs kommunen i stället med övriga "
                        "kommuner i samma län. Kolumnen <i>Jämförbara</i> väger samman kommunernas korrigerade "
                        "skattningar efter antal synpunkter; intervallet är det bredare av två: ±1,96 gånger en "
                        "övre gräns för medelfelet (det viktade medlet av kommunernas medelfel, som rymmer "
                        "klassificerarens osäkerhet) och ett intervall från Wilson-gränserna för andelen positiva "
                        "och negativa (97,5" + NB + "% vardera), så att en liten grupp aldrig får ett intervall "
                        "utan bredd.",
        "method_quality": "<b>Inlämnade filer.</b> Kommunerna skickar in sina synpunkter som filer. Rader som "
                          "inte kan användas (till exempel tomma eller med ogiltigt datum) sorteras bort och "
                          "räknas nedan. Personuppgifter tas bort innan något sparas.",
        "m_model": "Modellversion", "m_sentiment_f1": "Träffsäkerhet för inställning (F1, 0–1)",
        "m_topic_f1": "Träffsäkerhet för områden (F1, 0–1)",
        "m_eval_note": "Modellen har prövats på {n} synpunkter som människor har klassat och som den inte tränats "
                       "på ({date}). F1 är ett mått på träffsäkerhet där 1 betyder att allt blev rätt.",
        "m_eval_note_two": "Modellen har prövats på {n} synpunkter som människor har klassat och som den inte "
                           "tränats på, i två testmängder: en skriven som träningsdatan och en skriven oberoende av "
                           "den ({date}). Varje värde ovan är det sämre av de två. F1 är ett mått på träffsäkerhet "
                           "där 1 betyder att allt blev rätt.",
        "m_target": "mål {target}: {met}",
        "m_met": "uppnått", "m_not_met": "ej uppnått",
        "ci_short": "95" + NB + "%" + NB + "KI",
        "small_n_note": "Värden i grått bygger på färre än {min_n} synpunkter och är mycket osäkra.",
        "small_sample_note": "{mark} = bygger på färre än {min_n} synpunkter: siffran är osäker och ska läsas med "
                             "försiktighet (kommuner med färre rangordnas inte).",
        "small_sample_title": "färre än {min_n} synpunkter",
        "m_topic_caveat": "Områdesklassningen är mindre säker än klassningen av inställning; läs andelarna per "
                          "område med det i åtanke.",
        "m_no_eval": "Modellens utvärdering hittades inte, så träffsäkerheten kan inte redovisas här.",
        "m_eval_other": "Obs: utvärderingen gäller {eval_version}; synpunkterna är klassade med {version}.",
        "m_comments": "Synpunkter i rapporten ({year})", "m_comments_all": "Synpunkter i lagret, alla år",
        "m_batches": "Inlämnade filer (alla år)", "m_rows": "Rader mottagna / godkända / i karantän",
        "m_failed": "Filer som inte kunde läsas", "m_reasons": "Skäl till karantän",
        "m_review": "Träffsäkerhet enligt manuell granskning (slumpurval)",
        "m_review_value": "{acc} (95" + NB + "% KI {lo}–{hi}), {n} granskade synpunkter",
        "m_review_none": "Ingen granskning av ett slumpurval ännu",
        "m_data_as_of": "Data senast uppdaterade", "m_generated": "Rapporten skapad",
        "m_none": "–",
        "m_correction": "Korrigering av andelarna",
        "correction_methods": {
            "em": "EM-skattning (Saerens m.fl. 2002) på modellens sannolikheter, omkalibrerade på granskade "
                  "synpunkter (Alexandari m.fl. 2020)",
            "pacc": "justerad räkning av modellens sannolikheter (PACC, Bella m.fl. 2010)",
            "acc": "justerad räkning av modellens svar (ACC, Forman 2008)",
            "cc": "ingen: modellens svar räknade som de är"},
        "reasons": reason_labels("sv"),
        "index_title": "Synpunkter {year}: årsrapporter",
        "index_intro": "Senaste rendering: {generated}. Varje rapports egen tid står i kolumnen Skapad.",
        "index_report": "Rapport", "index_lang": "Språk", "index_national": "Alla kommuner (riket)",
        "index_generated": "Skapad", "lang_names": {"sv": "svenska", "en": "engelska"},
    },
    "en": {
        "locale": "en_GB",
        "topics": {ALL_TOPICS: ALL_TOPICS_LABEL_EN, **TOPIC_LABELS_EN},
        "sentiments": {"positive": "Positive", "skeptical": "Skeptical", "negative": "Negative"},
        "channels": {"telefon": "Phone", "e-post": "E-mail", "chatt": "Chat", "besök": "Visit",
                     None: "No channel given"},
        "kommungrupper": {"A1": "Large cities", "A2": "Commuting municipalities near large cities",
                          "B3": "Medium-sized towns", "B4": "Commuting municipalities near medium-sized towns",
                          "B5": "Low-commuting municipalities near medium-sized towns", "C6": "Small towns",
                          "C7": "Commuting municipalities near small towns", "C8": "Rural municipalities",
                          "C9": "Rural municipalities with a visitor industry"},
        "national_name": "all municipalities",
        "title_municipality": "Citizen comments {year}: {name}",
        "title_national": "Citizen comments {year}: all municipalities",
        "subtitle_municipality": "Annual report on what citizens told {name} ({county}) in {year}, classified as "
                                 "positive, skeptical or negative and by area.",
        "subtitle_national": "Annual report on what citizens told the {k} municipalities that send their comments "
                             "to Synpunkt, {year}, classified as positive, skeptical or negative and by area.",
        "subtitle_national_one": "Annual report on what citizens told the one municipality that sends its comments "
                                 "to Synpunkt, {year}, classified as positive, skeptical or negative and by area.",
        "page_label": "Page",
        "page_of": "of",
        "lead_heading": "Where {name} stands in {year}",
        "lead_heading_national": "The country in {year} at a glance",
        "lead_rank": "Ranked <b>{rank} of {total}</b> among the municipalities with at least {min_n} comments, "
                     "by net score.",
        "lead_rank_peers": "Ranked {rank} of {total} among comparable municipalities ({peers}).",
        "lead_unranked": "{name} has {n} comments in {year}, fewer than the {min_n} needed to be ranked. The "
                         "figures are uncertain; read them with care.",
        "lead_unranked_one": "{name} has {n} comment in {year}, fewer than the {min_n} needed to be ranked. The "
                             "figures are uncertain; read them with care.",
        "lead_gap": "Net score <b>{net}</b> against the rest of the country's {rest} (whole country {national}): "
                    "{gap}.",
        "gap_higher": "{diff} percentage points higher",
        "gap_lower": "{diff} percentage points lower",
        "gap_same": "the same level",
        "gap_sig": "a statistically significant difference",
        "gap_not_sig": "no significant difference",
        "lead_areas_summary": "By area: significantly above the country in {above} and below it in {below} of "
                              "{total} tested areas.",
        "lead_areas_summary_one": "By area: significantly above the country in {above} and below it in {below} of "
                                  "{total} tested area.",
        "lead_areas_untested": "{k} areas have fewer than {min_n} comments and are not tested.",
        "lead_areas_untested_one": "{k} area has fewer than {min_n} comments and is not tested.",
        "lead_areas_small": "{k} areas rest on fewer than {min_n} comments (marked {mark}); read them with care.",
        "lead_areas_small_one": "{k} area rests on fewer than {min_n} comments (marked {mark}); read it with care.",
        "lead_national_spread": "{ranked} municipalities have at least {min_n} comments and are ranked: the "
                                "highest net score is {top}'s ({top_net}), the lowest {bottom}'s ({bottom_net}).",
        "lead_national_spread_one": "Only one municipality, {top}, has at least {min_n} comments and is ranked (net "
                                    "score {top_net}).",
        "lead_national_unranked": "{k} municipalities have fewer comments and are not ranked.",
        "lead_national_unranked_one": "{k} municipality has fewer comments and is not ranked.",
        "lead_table_caption": "The areas in {year}",
        "lead_areas_empty": "– = no comments about the area in {year}.",
        "col_change_since": "Change since {prev}",
        "col_vs_national": "vs rest of country",
        "lead_marks": "▲/▼ = statistically significant increase/decrease since {prev}, or difference from the "
                      "rest of the country (every other municipality); – = no significant difference. How this is tested is described under About "
                      "the figures.",
        "lead_marks_national": "▲/▼ = statistically significant increase/decrease since {prev}; – = no "
                               "significant change. How this is tested is described under About the figures.",
        "lead_no_prev": "no comparison",
        "lead_marks_noprev": "▲/▼ = statistically significantly higher/lower than the rest of the country (every "
                             "other municipality); – = no significant difference. How this is tested is described "
                             "under About the figures.",
        "keyfigures": "{n} comments in {year}: {pos} positive, {skep} skeptical and {neg} negative. "
                      "Net score {net} (95% CI {lo} to {hi}).",
        "keyfigures_change": "Compared with {prev}: {change} percentage points{mark}.",
        "net_explained": "<b>Net score</b> = the share of positive minus the share of negative comments, in "
                         "percentage points (from −100 to +100). Whiskers and bands show 95% confidence "
                         "intervals: the more comments, the narrower they are.",
        "not_tested": "too few to test",
        "sig_up": "statistically significant increase", "sig_down": "statistically significant decrease",
        "not_sig": "no significant change",
        "gap_up": "statistically significantly higher than the rest of the country",
        "gap_down": "statistically significantly lower than the rest of the country",
        "gap_none": "no significant difference",
        "h_year": "The year at a glance", "h_trends": "Trends", "h_benchmark": "Benchmark",
        "h_channels": "Channels", "h_equal": "Equal treatment", "h_quotes": "What citizens say",
        "h_method": "About the figures",
        "year_intro": "The shares of positive, skeptical and negative comments in {year}, for all comments and per "
                      "area. A comment can be about several areas; for an area, the sentiment towards that area "
                      "counts.",
        "year_alt": "Horizontal bars: share of positive, skeptical and negative comments per area in {year}, with "
                    "counts and net scores.",
        "col_topic": "Area", "col_n": "n", "col_net": "Net score (95% CI)", "col_net_short": "Net score",
        "share_axis": "Share of comments", "net_axis": "Net score",
        "no_data_year": "There are no classified comments for {year} in the warehouse.",
        "trend_intro": "Net score per area for every year in the warehouse ({first}–{last}), with 95% confidence "
                       "intervals.",
        "trend_alt": "Line charts: net score per area and year with confidence intervals.",
        "share_trend_intro": "The shares of positive, skeptical and negative comments among all comments, year by "
                             "year.",
        "share_trend_alt": "Line chart: share of positive, skeptical and negative comments per year with "
                           "confidence bands.",
        "one_year_only": "The warehouse has no comments from {name} before {year}, so there is no trend to show "
                         "yet.",
        "one_year_only_national": "The warehouse has no comments before {year}, so there is no trend to show yet.",
        "no_prev_year": "There are no comments from {prev} to compare with.",
        "change_table_caption": "Change {prev} → {year}",
        "col_pos_prev_now": "Share positive {prev} → {year}", "col_net_prev": "Net score {prev}",
        "col_net_now": "Net score {year}", "col_change": "Change", "col_p": "p-value", "col_sig": "",
        "change_note": "▲/▼ in bold = statistically significant increase/decrease (z-test, 5% level; see About "
                       "the figures). No test when a year has fewer than {min_n} comments.",
        "bench_intro_group": "{name} compared with the country (all municipalities in the warehouse) and with the "
                             "other municipalities in the same SKR municipality group, {group} ({peers}), {year}.",
        "bench_intro_county": "{name} compared with the country (all municipalities in the warehouse) and with the "
                              "other municipalities in {county} ({peers}), {year}. The municipality group {group} "
                              "has fewer than {min} municipalities with comments in {year}, so the county is the "
                              "comparison group.",
        "bench_intro_nopeers": "{name} compared with the country (all municipalities in the warehouse), {year}. "
                               "Neither the municipality group {group} nor {county} has other municipalities with "
                               "comments in {year}, so there is no comparison group.",
        "bench_alt": "Dot plot: net score per area for the municipality, comparable municipalities and the country "
                     "with confidence intervals.",
        "bench_self": "{name}", "bench_peers_group": "Others in the municipality group",
        "bench_peers_county": "Others in {county}", "bench_national": "National (all municipalities)",
        "bench_test": "The column <i>vs rest of country</i> tests the difference between {name} and all other "
                      "municipalities in the warehouse with the same z-test as for changes (two-sided, 5% level).",
        "col_self": "{name}", "col_peers": "Comparable", "col_national": "National",
        "col_vs_rest": "vs rest of country",
        "rank_intro": "The municipalities with at least {min_n} comments in {year}, ranked by the net score of all "
                      "comments, with 95% confidence intervals. The dashed line is the national figure. "
                      "Municipalities whose intervals overlap cannot be told apart with confidence.",
        "rank_intro_municipality": "{name} (black) among the municipalities with at least {min_n} comments, ranked "
                                   "by net score in {year}{peers}. {name} ranks {rank} of {total}.",
        "rank_intro_unranked": "The municipalities with at least {min_n} comments, ranked by net score in "
                               "{year}{peers}. {name} has fewer comments and is not ranked.",
        "rank_peers_note": "; comparable municipalities in purple",
        "rank_not_ranked": "Not ranked (fewer than {min_n} comments): {names}.",
        "rank_none": "No municipality has at least {min_n} comments in {year}, so none is ranked.",
        "rank_alt": "Dot plot: municipalities ranked by net score with confidence intervals.",
        "national_line": "National",
        "topic_table_caption": "Net score per area and municipality, {year} (number of comments in brackets)",
        "col_municipality": "Municipality",
        "channels_intro": "Comments in {year} by channel. The difference between channels is tested with a "
                          "chi-square test on the positive/skeptical/negative distribution: {test}.",
        "channels_alt": "Horizontal bars: share of positive, skeptical and negative comments per channel.",
        "no_channels": "The comments for {year} carry no channel (phone, e-mail, chat, visit), so channels cannot "
                       "be compared.",
        "one_channel": "All comments with a known channel in {year} came by {channel}, so channels cannot be "
                       "compared.",
        "small_channels": "The comments for {year} carry a channel ({channels}), but each channel has fewer than "
                          "{min_n} comments, too few to show or compare.",
        "equal_intro": "Is everyone treated alike? The comparison uses fields in the metadata the municipality sent "
                       "with its comments.",
        "equal_absent": "The comments for {year} have no metadata on gender (fields such as <i>kön</i> or "
                        "<i>handläggare_kön</i>) or call duration (fields such as <i>samtalstid_min</i>), so equal "
                        "treatment cannot be compared in this report.",
        "equal_gender_intro": "Sentiment by <b>{field}</b> (field <i>{key}</i>), with 95% confidence intervals.",
        "equal_gender_alt": "Dot plot: share of positive, skeptical and negative comments per group with "
                            "confidence intervals.",
        "equal_chi2": "Chi-square test of whether the positive/skeptical/negative distribution differs between the "
                      "groups: {test}.",
        "equal_missing": "{n} comments without a value (e.g. “okänt”) and groups of fewer than {min} comments are "
                         "left out.",
        "equal_no_gender": "The metadata has no gender field, so sentiment cannot be compared between genders.",
        "equal_too_few": "Too few comments with a {field} value (at least two groups of {min} or more are needed) "
                         "for a comparison.",
        "gender_field": "gender",
        "group_values": {"kvinna": "Woman", "man": "Man", "annat": "Other", "woman": "Woman", "female": "Woman",
                         "male": "Man", "other": "Other", "k": "Woman", "m": "Man"},
        "duration_field": "call duration",
        "equal_duration_intro": "Mean <b>call duration</b> (field <i>{key}</i>, minutes) with 95% confidence "
                                "intervals, {n} calls.",
        "equal_duration_alt": "Dot plot: mean call duration per group with confidence intervals.",
        "duration_axis": "Mean call duration (minutes)",
        "duration_by_gender": "By gender", "duration_by_sentiment": "By sentiment",
        "welch": "Welch t-test between {a} and {b}: t = {t}, df = {df}, {p}",
        "kruskal": "Kruskal–Wallis test between the groups: H = {h}, {p}",
        "duration_none": "The metadata has no call duration, so call lengths cannot be compared.",
        "significant": "statistically significant difference", "not_significant": "no significant difference",
        "low_expected": " (note: some expected counts are below 5, so the test is approximate)",
        "test_na": "the test cannot be computed",
        "test_result": "χ² = {chi2}, df = {dof}, {p}",
        "quotes_intro": "A few typical comments per area and sentiment in {year}: those the model classified with "
                        "the highest confidence. The text is redacted: personal data is replaced by markers such as "
                        "[NAMN] (name) and [TELEFON] (phone). Comments are shown in the original Swedish.",
        "quotes_none": "No comments to show for {year}.",
        "quotes_too_few": "{name} has {n} comments in {year}, fewer than {min_n}: with so few comments a quote "
                          "could identify its writer, so no quotes are shown.",
        "quotes_empty": "no comments",
        "quote_source_national": "{municipality}, {channel}",
        "method_intro": "Each comment is read by a language model that judges whether it is positive, skeptical or "
                        "negative and which areas it is about. Shares are shares of comments, not of citizens: "
                        "those who get in touch are not a random sample of the residents.",
        "method_intervals": "<b>Uncertainty.</b> Every share and net score has a 95% confidence interval: the "
                            "range in which the true value for the municipality's comments very probably lies. "
                            "Few comments give wide intervals. The shares are corrected for the model's known "
                            "errors (measured on hand-labelled comments it was not trained on). The intervals "
                            "include the uncertainty of that correction and allow for the model erring differently "
                            "on the municipality's comments than on the labelled ones; their width is set so that "
                            "95 in 100 simulated batches of labelled comments fall inside. Comments the "
                            "municipality has reviewed count with the reviewer's answer.",
        "method_tests": "<b>Significant differences.</b> When two net scores are compared (this year against last "
                        "year, or the municipality against the rest of the country), the difference is tested "
                        "between the corrected net scores with a z-test whose standard errors come from the "
                        "intervals, so the correction's uncertainty counts too. The rest of the country's net score "
                        "is the national estimate without the municipality's comments. A difference is called statistically significant (▲/▼) "
                        "when it is so large that chance alone would produce it fewer than 5 times in 100. Each "
                        "area is tested on its own without a correction for multiple comparisons, so a single "
                        "mark may be a chance finding. There is no test when a year or group has fewer than "
                        "{min_test} comments. Differences between channels and groups are tested with chi-square "
                        "tests and t-tests.",
        "method_ranking": "<b>Ranking.</b> Only municipalities with at least {min_n} comments in the year are "
                          "ranked; with fewer, the net score is too uncertain. A rank says less than it seems: "
                          "municipalities whose intervals overlap cannot be told apart with confidence. Every figure "
                          "resting on fewer than {min_n} comments (a municipality, an area) is marked {mark}.",
        "method_peers": "<b>Comparable municipalities.</b> Municipalities are compared with the other "
                        "municipalities in the same group of the Swedish Association of Local Authorities and "
                        "Regions' (SKR) classification of municipalities 2023, which groups them by size, commuting "
                        "and closeness to larger towns. When the group has fewer than {min_group} municipalities "
                        "with comments in the year, the comparison is with the other municipalities in the same "
                        "county instead. The <i>comparable</i> column pools the municipalities' corrected "
                        "estimates weighted by their comments; its interval is the wider of ±1.96 times an upper "
                        "bound of the standard error (the weighted mean of the municipalities' standard errors, "
                        "which include the classifier's uncertainty) and an interval from the Wilson bounds of the "
                        "positive and negative shares (97.5" + NB + "% each), so that a small group never gets an "
                        "interval of zero width.",
        "method_quality": "<b>Submitted files.</b> Municipalities send their comments as files. Rows that cannot be "
                          "used (empty, for example, or with an invalid date) are set aside and counted below. "
                          "Personal data is removed before anything is stored.",
        "m_model": "Model version", "m_sentiment_f1": "Accuracy for sentiment (F1, 0–1)",
        "m_topic_f1": "Accuracy for areas (F1, 0–1)",
        "m_eval_note": "The model was tested on {n} comments that people had classified and that it was not "
                       "trained on ({date}). F1 is a measure of accuracy where 1 means everything was right.",
        "m_eval_note_two": "The model was tested on {n} comments that people had classified and that it was not "
                           "trained on, in two test sets: one written like its training data and one written "
                           "independently of it ({date}). Each figure above is the worse of the two. F1 is a measure "
                           "of accuracy where 1 means everything was right.",
        "m_target": "target {target}: {met}",
        "m_met": "met", "m_not_met": "not met",
        "ci_short": "95% CI",
        "small_n_note": "Values in grey rest on fewer than {min_n} comments and are very uncertain.",
        "small_sample_note": "{mark} = rests on fewer than {min_n} comments: the figure is uncertain and should be "
                             "read with care (municipalities with fewer are not ranked).",
        "small_sample_title": "fewer than {min_n} comments",
        "m_topic_caveat": "The area classification is less certain than the sentiment classification; read the "
                          "per-area shares with that in mind.",
        "m_no_eval": "The model's evaluation was not found, so its accuracy cannot be given here.",
        "m_eval_other": "Note: the evaluation is for {eval_version}; the comments were classified with {version}.",
        "m_comments": "Comments in this report ({year})", "m_comments_all": "Comments in the warehouse, all years",
        "m_batches": "Files submitted (all years)", "m_rows": "Rows received / accepted / quarantined",
        "m_failed": "Files that could not be read", "m_reasons": "Reasons for quarantine",
        "m_review": "Accuracy by human review (random sample)",
        "m_review_value": "{acc} (95% CI {lo}–{hi}), {n} comments reviewed",
        "m_review_none": "No random sample has been reviewed yet",
        "m_data_as_of": "Data last updated", "m_generated": "Report generated",
        "m_none": "–",
        "m_correction": "Correction of the shares",
        "correction_methods": {
            "em": "EM estimate (Saerens et al. 2002) on the model's probabilities, recalibrated on labelled "
                  "comments (Alexandari et al. 2020)",
            "pacc": "adjusted count of the model's probabilities (PACC, Bella et al. 2010)",
            "acc": "adjusted count of the model's answers (ACC, Forman 2008)",
            "cc": "none: the model's answers counted as they are"},
        "reasons": reason_labels("en"),
        "index_title": "Citizen comments {year}: annual reports",
        "index_intro": "Latest render: {generated}. Each report's own time is in the Generated column.",
        "index_report": "Report", "index_lang": "Language", "index_national": "All municipalities (national)",
        "index_generated": "Generated", "lang_names": {"sv": "Swedish", "en": "English"},
    },
}
LANGUAGES = tuple(STRINGS)


def strings(lang: str) -> dict:
    """The UI strings of a language; raises ValueError for an unsupported one."""
    if lang not in STRINGS:
        raise ValueError(f"unsupported report language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    return STRINGS[lang]
