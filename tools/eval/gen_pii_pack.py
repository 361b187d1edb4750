import json
def lb(words, seps):
    alts=[]
    for w in words:
        for s in seps:
            alts.append((w+s).replace(' ', '\\x20'))  # keep spaces explicit
    return '(?<=' + '|'.join(alts) + ')'
# separators between a context word and the value, including a JSON key's
# closing quote ("ssn": "...")
EN_SEPS=[' ', ': ', ':', ' : ', ' #', ' # ', '# ', ' is ', '= ', '=', ' no. ', ' no: ', ' number ', ' number: ', ' number is ', ' - ', '\t', '": "', '":"']
KO_SEPS=[' ', ': ', ':', ' : ', '는 ', '은 ', '= ', '\t', '": "', '":"']

def q(s):  # single-quoted YAML scalar
    return "'" + s.replace("'", "''") + "'"

rules=[]
def rule(id, desc, entity, sev, patterns, tests_m, tests_n, validate=None, confirm=None, paranoia=None, flags=None, tags=None):
    rules.append(dict(id=id, desc=desc, entity=entity, sev=sev, patterns=patterns, m=tests_m, n=tests_n,
                      validate=validate, confirm=confirm, paranoia=paranoia, flags=flags, tags=tags))

rule('pii.contact.email','An email address','EMAIL','low',
     [r'[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b'],
     ['Write to jane.roe@example.com for details.', '메일은 hong.gildong@example.org 로 보내세요.'],
     ['The @example handle is not an address.', 'user@localhost has no domain'])

rule('pii.contact.phone-intl','A phone number in international (E.164) form','PHONE','low',
     [r'\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,5}(?:[ .-]\d{1,5}){2,4}\b', r'\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{3,5}[ .-]\d{3,8}\b',
      r'\+\d{1,3}[ .-]\d{6,12}\b', r'\B\+[1-9]\d{9,13}\b',
      r'\+\d{1,3} ?\(0\) ?\d{6,12}\b', r'\+\d{1,3}[ .-]\d{1,4}[ .-]\d{6,10}\b'],
     ['Call +1 202 555 0147 tomorrow.', '+44 20 7946 0958', '연락처: +82-10-2345-6789', 'Appelez +33 1 23 45 67 89', 'mobile +44 7700900123',
      'Ring +44 (0) 7700900123', 'Bel +31 6 20123456', 'Chiama +39 06 69812345'],
     ['The score was +3 today.', 'Set the offset to +12.', 'UNB+20230315+4711111', 'The stock is +14.12 at $47.77'])
rule('pii.contact.phone-nanp','A North American phone number','PHONE','low',
     [r'(?:\b1[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}(?:\s?(?:x|ext\.?)\s?\d{1,6})?\b'],
     ['Reach me at (202) 555-0147.', 'Office: 202-555-0183 ext. 12', 'tel 1-800-555-0199', 'desk 202.555.0183x4411'],
     ['Invoice 2023.11.14 was paid.', 'Version 1.22.333 released'])
rule('pii.contact.phone-national','A national phone number with a trunk 0 (UK, Korea, Europe)','PHONE','low',
     [r'\b0\d{1,4}[ .-]\d{3,4}[ .-]\d{3,4}\b', r'\b0\d(?:[ .-]\d{2}){4}\b', r'\(0\d{1,5}\)\s?\d{3,5}(?:[ .-]?\d{3,4})?\b',
      r'\b0\d{1,4} ?- ?\d{6,8}\b', r'\b0\d{2,4} \d{6,8}\b',
      r'\b01[016789][\s.-]?\d{3,4}[\s.-]?\d{4}\b'],
     ['휴대폰 010-2345-6789 로 연락 주세요.', 'Tel. 020 7946 0958', 'Appelez le 01.84.17.61.18', 'tel 0341 8387176', '02-312-4567', '(01632) 960 123', '01023456789'],
     ['Page 0 of 12', 'v0.12.3 is out', 'SSN 054-28-6917', 'on 01.06.2023', 'at 03-15 10'])
PHONE_EN=['phone','phone number','phone no.','tel','tel.','telephone','mobile','mobile number','cell','cellphone','fax','office','home','work','call me on','call me at','call','answering at','reach me at','reached at','text me at','registered','contact number','landline','whatsapp','desk']
PHONE_KO=['전화','전화번호','연락처','휴대폰','휴대전화','핸드폰','팩스','휴대폰 번호','전화 번호']
rule('pii.contact.phone-context','Digits in phone number groups after a phone context word','PHONE','low',
     [r'(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\) ?)?\d{2,5}(?:[ .-]\d{2,8}){1,4}(?: ?(?:x|ext\.?) ?\d{1,6})?\b', r'\b\d{7,11}\b'],
     ['Mobile: 9472 7916', 'call me on 416 60 039 please', '연락처: 02 312 4567', 'Box 61487\n416 60 039 office', 'mobile: 99 577450'],
     ['Room 9472 7916', 'Order 416 60 039'],
     confirm='(?:'+lb(PHONE_EN,EN_SEPS)[:-1]+'|'+lb(PHONE_KO,KO_SEPS)[4:]+r'|(?=[\d().+ x-]{6,28}[ -](?:office|fax|mobile|home|work|cell)\b))')
rule('pii.contact.phone-bare','Ten digits that may be a phone number','PHONE','low',
     [r'\b\d{3}[\s.-]?\d{3}[\s.-]?\d{4}\b(?:\s?(?:x|ext\.?)\s?\d{1,6}\b)?', r'\b\d{3,4}[\s-]\d{4}\b'],
     ['call 2025550147 now', 'dial 555-0147'],
     ['Order 12345 shipped', 'year 2024'],
     paranoia=2)

rule('pii.finance.card','A payment card number with a valid Luhn checksum','CREDIT_CARD','medium',
     [r'\b(?:4\d{3}|5[0-9]\d{2}|2[2-7]\d{2}|2131|1800|3[0-9]\d{2}|6\d{3})(?:[ -]?\d){8,15}\b'],
     ['Card 4000 1200 0000 0008 exp 12/29', 'visa: 4111111111111111', 'Amex 3782-822463-10005'],
     ['Card 4000 1200 0000 0009 exp 12/29', 'Tracking 1234567890123'],
     validate='luhn')
rule('pii.finance.iban-context','An IBAN-shaped number after the word IBAN, checksum not required','IBAN','low',
     [r'\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b'],
     ['IBAN: DE12 1234 5678 9012 3456 00', '이반: GB29NWBK560034123'],
     ['Ref: DE12 1234 5678 9012 3456 00'],
     flags=[], confirm=lb(['IBAN','IBAN (international bank account number)','IBAN number','IBAN no.'],EN_SEPS)[:-1]+'|'+lb(['이반','IBAN이','국제은행계좌번호','국제 은행 계좌 번호','(IBAN)'],KO_SEPS)[4:])
rule('pii.finance.iban','An IBAN with a valid mod-97 check','IBAN','medium',
     [r'\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b'],
     ['IBAN: GB82 WEST 1234 5698 7654 32', 'Pay to DE89370400440532013000 please'],
     ['IBAN: GB82 WEST 1234 5698 7654 33', 'Part number AB12CDEF34567890'],
     validate='iban', flags=[])

CARD_EN=['card','card number','card no.','card #','credit card','credit card number','credit card no.','debit card','debit card number','card number is','my card']
CARD_KO=['카드번호','카드 번호','신용카드 번호','신용카드번호','카드']
rule('pii.finance.card-context','A card-shaped number after a context word, checksum not required','CREDIT_CARD','low',
     [r'\b\d{4}[ -]?\d{4,6}[ -]?\d{4,5}(?:[ -]?\d{1,4})?\b'],
     ['credit card number 4000 1200 0000 0009', '카드 번호: 1234-5678-9012-3456'],
     ['Order 4000 1200 0000 0009 shipped', '카드 번호 없음'],
     confirm=lb(CARD_EN,EN_SEPS)[:-1]+'|'+lb(CARD_KO,KO_SEPS)[4:])
SSN_EN=['ssn','ssn#','ss#','social security','social security number','social security no.','social sec. no.','socsec','tax id','taxpayer id']
SSN_KO=['사회보장번호','사회 보장 번호','미국 사회보장번호']
rule('pii.id.us-ssn-context','A US social security number after a context word','US_SSN','medium',
     [r'\b\d{3}[- ]?\d{2}[- ]?\d{4}\b'],
     ['My SSN is 536-22-1048.', 'social security number: 536221048', '사회보장번호: 536-22-1048', '{"name": "A. Roe", "ssn": "536221048"}'],
     ['SSN: 666-22-1048', 'Order 536-22-1048 shipped'],
     validate='ssn-us', confirm=lb(SSN_EN,EN_SEPS)[:-1]+'|'+lb(SSN_KO,KO_SEPS)[4:])
rule('pii.id.us-ssn','A number in the US social security number format','US_SSN','low',
     [r'\b\d{3}-\d{2}-\d{4}\b'],
     ['Applicant 536-22-1048, approved'],
     ['Applicant 900-22-1048, approved', 'ref 536-22-0000'],
     validate='ssn-us')
ID_EN=['national id','national id number','national identification number','national insurance number','personal identification number',
       'personal id','id number','social security','social security number','social security no.','ssn','tax id','tax id number',
       'tax identification number','taxpayer id','tax registration id','tax registration number','personnummer','codice fiscale']
ID_KO=['사회보장번호','사회 보장 번호','국민보험번호','신분증 번호','신분증번호','주민번호','개인 식별 번호','납세자 번호','납세자번호','세금 등록 ID','세금 ID','세금 식별 번호','납세 번호']
rule('pii.id.national-context','A national identity, social security or tax number of any country after a context word','NATIONAL_ID','low',
     [r'\b[A-Z]{0,6}\d[A-Z0-9]{6,17}\b', r'\b\d{6}[-+]\d{4,7}\b', r'\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Z]\b'],
     ['Social security number: 850709-4123', 'Codice fiscale: RSSMRA85T10A562S', 'national insurance number QQ 12 34 56 C', '세금 등록 ID: 304918275'],
     ['Order number: 850709-4123', 'Tax id: none given', 'id number: 12'],
     flags=[], confirm='(?i:'+lb(ID_EN,EN_SEPS)[:-1]+'|'+lb(ID_KO,KO_SEPS)[4:]+')')

rule('pii.net.ipv4','An IPv4 address','IP_ADDRESS','low',
     [r'\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b'],
     ['Login from 203.0.113.45 failed', 'server 192.168.0.12'],
     ['version 3.14.159.265', 'ratio 1.2.3', 'I am using V 9.0.1.0 now', 'enzyme EC 3.2.1.22', 'WinPython-64bit-3.4.2.4', 'release 1.2.3.4.5'],
     validate='ipv4', confirm=r'(?<![\w.-])(?<!v\x20)(?<!version\x20)(?<!ec\x20)(?!(?:\d{1,3}\.){3}\d{1,3}\.\d)')
rule('pii.net.ipv6','An IPv6 address','IP_ADDRESS','low',
     [r'(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{1,4}\b', r'(?:[0-9A-Fa-f]{0,4}:){2,6}\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b'],
     ['Client 2001:db8:85a3::8a2e:370:7334 connected', 'addr fe80::1ff:fe23:4567:890a', 'mapped ::ffff:192.0.2.128'],
     ['Meeting at 12:30:45 today', 'ratio 1:2:3'],
     validate='ipv6')
rule('pii.net.mac','A MAC address','MAC_ADDRESS','low',
     [r'\b[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}\b', r'\b[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\b'],
     ['NIC 00:1A:2B:3C:4D:5E is up', 'cisco 001a.2b3c.4d5e'],
     ['time 12:30:45', 'hash 00:1A:2B']) 

DOB_EN=['dob','d.o.b.','date of birth','birth date','birthdate','born on','born','birthday']
DOB_KO=['생년월일','생일','출생일']
DATE=r'\b(?:(?:19|20)\d{2}[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])|(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|1[0-2])[-/.](?:19|20)?\d{2}|(?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])[-/.](?:19|20)?\d{2})\b'
rule('pii.id.date-of-birth','A date of birth after a context word','DATE_OF_BIRTH','low',
     [DATE, r'\b(?:19|20)\d{2}년\s?(?:0?[1-9]|1[0-2])월\s?(?:0?[1-9]|[12]\d|3[01])일',
      r'\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]{0,6}\.?\s(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?,?\s(?:19|20)\d{2}\b',
      r'\b(?:0?[1-9]|[12]\d|3[01])\s(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]{0,6}\.?,?\s(?:19|20)\d{2}\b'],
     ['DOB: 1984-07-21', 'born on March 3, 1990', '생년월일: 1990년 3월 3일'],
     ['Released on 1984-07-21', 'meeting 2024-05-01'],
     confirm=lb(DOB_EN,EN_SEPS)[:-1]+'|'+lb(DOB_KO,KO_SEPS)[4:])

PASS_EN=['passport','passport no.','passport number','passport #','passport no','passport id']
PASS_KO=['여권번호','여권 번호','여권']
rule('pii.id.passport','A passport number after a context word','PASSPORT','low',
     [r'\b[A-Za-z]{1,2}\d{6,9}\b', r'\b\d{8,9}\b'],
     ['Passport number: X12345678', 'passport 987654321'],
     ['Order X12345678 shipped', 'passport photo size'],
     confirm=lb(PASS_EN,EN_SEPS)[:-1]+'|'+lb(PASS_KO,KO_SEPS)[4:])
rule('pii.kr.passport','A Korean passport number (M, S, R, G or D and 8 digits, or the 2021 format) after a context word','KR_PASSPORT','low',
     [r'\b[MSRGDmsrgd]\d{8}\b', r'\b[MSRGD]\d{3}[A-Z]\d{4}\b'],
     ['여권번호: M12345678', '여권 번호 M123A4567', 'Korean passport no. S87654321'],
     ['모델명 M12345678', '제품 번호 M123A4567'],
     confirm=lb(PASS_EN+['korean passport','korean passport no.'],EN_SEPS)[:-1]+'|'+lb(PASS_KO,KO_SEPS)[4:])

RRN_KO=['주민등록번호','주민번호','주민 등록 번호','주민등록 번호','외국인등록번호','외국인 등록번호','외국인번호']
RRN_EN=['rrn','resident registration number','resident registration no.','resident number','alien registration number','foreigner registration number']
RRN_DATE=r'\b\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[- ]?'
rule('pii.kr.rrn','A Korean resident registration number with a valid date and checksum','KR_RRN','medium',
     [RRN_DATE+r'[1-4]\d{6}\b'],
     ['주민등록번호 900101-1234568', 'id 850315-2000007 end', '0402293111110'],
     ['주민등록번호 900101-1234567', 'code 901301-1234568'],
     validate='rrn-kr')
rule('pii.kr.frn','A Korean foreigner registration number with a valid date and checksum','KR_FRN','medium',
     [RRN_DATE+r'[5-8]\d{6}\b'],
     ['외국인등록번호 990505-5012342'],
     ['외국인등록번호 990505-5012343'],
     validate='rrn-kr')
rule('pii.kr.rrn-context','A Korean resident or foreigner registration number after a context word, checksum not required (numbers issued from October 2020)','KR_RRN','low',
     [RRN_DATE+r'[1-8]\d{6}\b'],
     ['주민등록번호: 210615-4829301', 'RRN 210615-3829307'],
     ['주민등록번호: 211315-4829301', '주문번호: 210615-4829301'],
     validate='rrn-kr-date', confirm=lb(RRN_EN,EN_SEPS)[:-1]+'|'+lb(RRN_KO,KO_SEPS)[4:])

BRN_KO=['사업자등록번호','사업자번호','사업자 등록번호','사업자 등록 번호']
BRN_EN=['business registration number','business registration no.','brn']
rule('pii.kr.brn','A Korean business registration number with a valid checksum','KR_BRN','low',
     [r'\b\d{3}-\d{2}-\d{5}\b'],
     ['사업자등록번호 220-81-00001', 'BRN 101-81-23455'],
     ['사업자등록번호 220-81-00002', 'code 000-00-00000'],
     validate='brn-kr')
rule('pii.kr.brn-context','Ten digits after a Korean business registration context word, with a valid checksum','KR_BRN','low',
     [r'\b\d{10}\b'],
     ['사업자등록번호: 2208100001'],
     ['전화번호: 2208100001', '사업자등록번호: 2208100002'],
     validate='brn-kr', confirm=lb(BRN_EN,EN_SEPS)[:-1]+'|'+lb(BRN_KO,KO_SEPS)[4:])

DL_KO=['운전면허번호','운전면허 번호','면허번호','운전면허증 번호','운전면허']
DL_EN=["driver's license","driver's license number","driver license","driver license number","drivers license","driving licence","driving licence number","license no.","dl","dl#","dl no."]
rule('pii.kr.driver-license','A Korean driver\'s license number (NN-NN-NNNNNN-NN) after a context word','KR_DRIVER_LICENSE','low',
     [r'\b\d{2}-\d{2}-\d{6}-\d{2}\b', r'\b\d{12}\b'],
     ['운전면허번호: 11-12-345678-90', "driver's license number 11-12-345678-90"],
     ['주문번호: 11-12-345678-90', 'serial 111234567890'],
     confirm=lb(DL_EN,EN_SEPS)[:-1]+'|'+lb(DL_KO,KO_SEPS)[4:])

out=['# Personal data: contact details, payment and bank numbers, national',
     '# identifiers (US, Korea), network addresses and dates of birth, in English',
     '# and Korean.  Every rule names its entity for typed redaction.  Numbers with',
     '# a checksum are checked by a validator (rules/README.md); numbers without',
     '# one are reported only after a context word (the `confirm` lookbehinds) or,',
     '# bare, at paranoia 2; US social security numbers in their dashed form, with',
     '# the area, group and serial rules, are reported bare.  Identity and tax',
     '# numbers of other countries are reported after a context word only',
     '# (pii.id.national-context).  Korean resident registration numbers: pii.kr.rrn and',
     '# pii.kr.frn need the checksum (numbers issued before October 2020);',
     '# numbers issued since then end in random digits, so pii.kr.rrn-context',
     '# accepts a valid date and gender digit without the checksum, at severity',
     '# low, only after a context word such as 주민등록번호.',
     '# Every number in the tests is made up (checksums computed for the purpose),',
     '# or a documented example (the IBAN registry\'s GB82 WEST..., card networks\'',
     '# test numbers).',
     '# This file is generated by tools/eval/gen_pii_pack.py; edit that and rerun.',
     'version: 1','pack: pii','pack_version: "1.0.0"',
     'description: Personal data (contact details, payment numbers, national identifiers, addresses) in English and Korean',
     'rules:']
for r in rules:
    out.append(f'  - id: {r["id"]}')
    out.append('    category: pii')
    out.append(f'    description: {q(r["desc"])}')
    out.append(f'    severity: {r["sev"]}')
    out.append('    applies_to: both')
    out.append('    views: [raw]')
    if r['paranoia']: out.append(f'    paranoia: {r["paranoia"]}')
    out.append(f'    entity: {r["entity"]}')
    if r['validate']: out.append(f'    validate: {r["validate"]}')
    if r['flags'] is not None: out.append(f'    flags: [{", ".join(r["flags"])}]')
    out.append('    patterns:')
    for p in r['patterns']: out.append(f'      - {q(p)}')
    if r['confirm']: out.append(f'    confirm: {q(r["confirm"])}')
    out.append(f'    tags: [pii]')
    out.append('    tests:')
    out.append('      match:')
    for t in r['m']: out.append(f'        - {json.dumps(t, ensure_ascii=False)}')
    out.append('      no_match:')
    for t in r['n']: out.append(f'        - {json.dumps(t, ensure_ascii=False)}')
import sys
open(sys.argv[1],'w').write('\n'.join(out)+'\n')
