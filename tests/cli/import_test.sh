#!/usr/bin/env bash
# `leadflow import` through the real binaries: a 10,000-row spreadsheet in
# Bitrix24's export shape (';'-separated, Russian headers, quoted cells
# with the delimiter and line breaks) with 50 bad rows: 9,950 go in, the 50
# are written beside the file with their reasons, people named twice get
# one lead, a second run changes nothing; the preview and mapping errors.
set -euo pipefail

: "${LEADFLOWD:?path to leadflowd}" "${LEADFLOW_CLI:?path to leadflow}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=harness.sh
source "$here/harness.sh"

start_leadflowd --data-dir "$work/data"
export LEADFLOW_TOKEN_FILE="$work/data/admin.key"

# The spreadsheet, and what it should make: its expected lead count.
python3 - "$work/leads.csv" "$work/expected" <<'PY'
import random, sys
random.seed(7)
header = ['ID', 'Название лида', 'Имя', 'Фамилия', 'Рабочий телефон', 'Мобильный телефон',
          'Рабочий e-mail', 'Название компании', 'Комментарий', 'Ответственный']
def quote(cell):
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ';"\n') else cell
lines, people = [';'.join(header)], set()
for i in range(10000):
    person = i if i < 9900 else (i - 9900) * 3 + 1   # the last 100 rows: people seen before
    phone = f'+7 916 {person // 10000:03d}-{person % 10000 // 100:02d}-{person % 100:02d}'
    email = f'client{person}@example.com'
    row = [str(i + 1), f'Заявка {i}', 'Анна' if i % 2 else 'Иван', f'Клиент{person}', phone,
           '', email if i % 3 else '', f'ООО "Ромашка {i % 50}"',
           f'звонил; просил перезвонить\nпосле {i % 12 + 9}:00' if i % 10 == 0 else '', 'anna']
    if i % 200 == 7:  # 50 bad rows, of four kinds
        kind = (i // 200) % 4
        if kind == 0: row[4], row[6] = '12', ''             # a phone that is none
        elif kind == 1: row[4], row[6] = '', 'not-an-email'  # an email that is none
        elif kind == 2: row[4], row[6] = '', ''              # nothing to reach them by
        else: row.append('a stray cell')                     # more cells than columns
    else:
        people.add(person)
    lines.append(';'.join(quote(c) for c in row))
open(sys.argv[1], 'w', encoding='utf-8').write('\ufeff' + '\r\n'.join(lines) + '\r\n')
open(sys.argv[2], 'w').write(str(len(people)))
PY
expected_leads=$(cat "$work/expected")

lf import "$work/leads.csv" --preview 3 >"$work/preview"
check "the preview shows the mapping" grep -q "Рабочий телефон *-> phone" "$work/preview"
check "  (Bitrix24's headers recognised)" grep -q "Название лида *-> title" "$work/preview"
check "  and three rows as JSON" [ "$(grep -c '^{' "$work/preview")" = 3 ]
check "  and sends nothing" [ "$(lf status | json "d.get('totalLag', 0)")" = 0 ]
check "  (no lead yet)" [ -z "$(lf leads list)" ]

if lf import "$work/leads.csv" --map 'Телефон=phone' 2>"$work/err"; then check "a mapping of an unknown column is refused" false; fi
check "  naming it" grep -q "column 'Телефон': no such column" "$work/err"
if lf import "$work/leads.csv" --map 'ID=status' 2>"$work/err"; then check "an unknown field is refused" false; fi
check "  naming it" grep -q "'status' is not a lead field" "$work/err"

lf import "$work/leads.csv" --entered-by ops >"$work/summary"
check "10,000 rows read" [ "$(json "d['rows']" <"$work/summary")" = 10000 ]
check "9,950 sent" [ "$(json "d['sent']" <"$work/summary")" = 9950 ]
check "50 refused" [ "$(json "d['rejected']" <"$work/summary")" = 50 ]
check "the refused rows beside the file, with line and reason" python3 - "$work/leads.csv.rejected.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding='utf-8'), delimiter=';'))
assert rows[0][:3] == ['line', 'reason', 'ID'], rows[0]
assert len(rows) == 51, len(rows)
ids = sorted(int(r[2]) for r in rows[1:])
assert ids == [i + 1 for i in range(10000) if i % 200 == 7], ids[:5]
reasons = {r[2]: r[1] for r in rows[1:]}
assert 'manual_entry.phone' in reasons['8'], reasons['8']          # '12'
assert 'manual_entry.email' in reasons['208'], reasons['208']      # not-an-email
assert 'needs a phone or an email' in reasons['408'], reasons['408']
assert 'cells, but the header has 10 columns' in reasons['608'], reasons['608']
assert all(int(r[0]) >= 2 for r in rows[1:])
PY

wait_idle
lf leads list --all --page-size 1000 >"$work/leads"
check "one lead per person: $expected_leads" [ "$(wc -l <"$work/leads")" = "$expected_leads" ]
check "a lead as the row had it" python3 - "$work/leads" <<'PY'
import json, sys
leads = [json.loads(l) for l in open(sys.argv[1])]
lead = next(l for l in leads if any(p['number'] == '+79160000010' for p in l.get('phones', [])))
text = json.dumps(lead, ensure_ascii=False)
assert lead['source'] == 'LEAD_SOURCE_MANUAL', lead['source']
assert 'Клиент10' in text and 'Ромашка 10' in text and 'Заявка 10' in text, text
assert 'перезвонить' in text and 'после 19:00' in text, text
PY
lf events tail >"$work/events-1"

# Again: the same ids, taken once.
lf import "$work/leads.csv" >"$work/summary-2"
check "a second run sends the same rows" [ "$(json "d['sent']" <"$work/summary-2")" = 9950 ]
wait_idle
lf events tail >"$work/events-2"
check "  and changes nothing (no new event)" [ "$(wc -l <"$work/events-2")" = "$(wc -l <"$work/events-1")" ]
check "  (the same leads)" [ "$(lf leads list --all --page-size 1000 | wc -l)" = "$expected_leads" ]

# Fixed rows: the rejects file goes once nothing is refused.
python3 - "$work/leads.csv" "$work/fixed.csv" <<'PY'
import sys
lines = open(sys.argv[1], encoding='utf-8-sig', newline='').read().split('\r\n')
open(sys.argv[2], 'w', encoding='utf-8').write('\r\n'.join(lines[:6]) + '\r\n')
PY
printf 'x' >"$work/fixed.csv.rejected.csv"
lf import "$work/fixed.csv" >"$work/summary-3"
check "a clean file: nothing refused" [ "$(json "d['rejected']" <"$work/summary-3")" = 0 ]
check "  and no stale rejects file" [ ! -e "$work/fixed.csv.rejected.csv" ]

# Contacts: 200 rows, 5 with a bad phone, the last 10 people seen before
# (same phone, another email): those are left to the contact that has it,
# but for person 3, whose first row was refused.
python3 - "$work/contacts.csv" <<'PY'
import sys
lines = ['Имя;Фамилия;Рабочий телефон;Рабочий e-mail;Комментарий']
for i in range(200):
    person = i if i < 190 else i - 190
    phone = '12' if i in (3, 50, 99, 120, 150) else f'+7 917 000-{person // 100:02d}-{person % 100:02d}'
    lines.append(f'Ольга;Контакт{person};{phone};c{i}@example.com;строка {i}')
open(sys.argv[1], 'w', encoding='utf-8').write('\n'.join(lines) + '\n')
PY
lf import "$work/contacts.csv" --kind contacts >"$work/contacts-1"
check "contacts: 186 created" [ "$(json "d['created']" <"$work/contacts-1")" = 186 ]
check "  9 left to the contact with their phone" [ "$(json "d['matched']" <"$work/contacts-1")" = 9 ]
check "  5 refused, naming the phone" [ "$(json "d['rejected']" <"$work/contacts-1")" = 5 ]
check "  (reasons)" grep -q "^5;phone: '12' is not a valid phone number" "$work/contacts.csv.rejected.csv"
check "  186 contacts listed" [ "$(lf contacts list --all --page-size 1000 | wc -l)" = 186 ]
lf import "$work/contacts.csv" --kind contacts >"$work/contacts-2"
check "a second run creates none" [ "$(json "d['created']" <"$work/contacts-2")" = 0 ]
check "  and knows its own" [ "$(json "d['unchanged']" <"$work/contacts-2")" = 186 ]
check "  (still 186)" [ "$(lf contacts list --all --page-size 1000 | wc -l)" = 186 ]

# Companies: a name is enough; a row without one is refused.
printf 'Название компании;Телефон\nООО Ромашка;+7 495 111-22-33\nАО Лютик;\n;+7 495 000-00-00\n' >"$work/companies.csv"
lf import "$work/companies.csv" --kind companies >"$work/companies-1"
check "companies: 2 created" [ "$(json "d['created']" <"$work/companies-1")" = 2 ]
check "  the nameless one refused" [ "$(json "d['rejected']" <"$work/companies-1")" = 1 ]
check "  (naming the title)" grep -q "title" "$work/companies.csv.rejected.csv"
finish
