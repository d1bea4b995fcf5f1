#!/usr/bin/env python3
"""gencorpus.py - the deterministic mail corpus of the scrub-headers benchmark.

Writes into the directory OUT, which it empties first:

  bench.mbox    COUNT messages, mboxrd ("From " lines quoted as ">From "),
                each after a From_ line and followed by an empty line
  maildir/cur/  the same messages, one file each, as they were before
                quoting; names sort in generation order
  single.eml    one plain-text message of 2-4 KB with a Received chain and
                client fields: the procmail one-process-per-message case
  big.eml       one message of BIG_MB megabytes (10^6 bytes), almost all of
                it a base64 attachment; mid.eml the same at MID_MB
  stats.txt     what was generated

What makes the mail realistic is what scrub-headers has to work through:
Received chains of 3-8 hops in Postfix, Exim, sendmail, Microsoft, Gmail
and LMTP styles, DKIM-Signature and ARC sets with folded base64, folded
and RFC 2047 encoded fields, User-Agent, X-Mailer and X-Originating-IP,
multipart/alternative, multipart/mixed with attachments of 1 KB to 2 MB,
multipart/related HTML with cid: images, mailing-list mail, git patches,
about 1% CRLF messages and about 1% malformed ones (missing final
boundary, header line without a colon, no empty line after the header,
NUL, bare CR, overlong line).

The output depends only on --seed, the counts and the Python minor version
(one random.Random, integer seeds).  Standard library only.

usage: gencorpus.py [--seed N] [--count N] [--big-mb MB] [--mid-mb MB] OUT
"""
import argparse
import base64
import binascii
import collections
import datetime
import os
import random
import shutil
import sys

VERSION = 4

WORDS = """able about above after again against air all also always among and
answer any area ask back base be because before begin below best better big
black body book both box branch bring build busy but call can carry cause
change check city clear close cold come commit common config could country
cover cross cut dark day deep develop did differ do does done door down draw
drive dry during each early earth east eat end enough even ever every example
eye face fact fall family far farm fast feel few field figure fill final find
fine fire first fish five fix follow food foot force form found four free
friend from front full game gave get give go good great green ground group
grow half hand happen hard has have head hear heat help here high hold home
hour house idea important inch island keep kernel key kind king know land
large last late lay lead learn leave left less let letter life light like line
list little live long look made mail main make man many map mark may mean
measure meet merge might mile mind minute miss money month more morning most
move much must name near need never new next night north note nothing notice
now number object off often old once one only open order other our out over
own page paper part pass patch people picture piece place plan plant play
point port power press problem produce pull put queue question quick rain
reach read ready real record red relay release remember rest review right
river road rock room round rule run said same saw say school science sea
second see seem self send sentence serve server set several shape ship short
should show side simple since sing size small snow some song soon sound south
space special spool stand start state stay step still stop story street
strong study such sun sure surface system table tail take talk teach tell
test than that their them then there these thing think this those though
three through time today together told too took top toward town tree true
try turn two under unit until upon usual very voice wait walk want warm watch
water way week weight well went were west what wheel when where which while
white whole why wind with wonder word work world would write year yes yet
young""".split()
FIRST = """Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Oscar
Peggy Rupert Sybil Trent Victor Walter Wendy Amir Chen Dmitri Elif Fatima
Gunnar Hana Ines Jonas Kenji Lena Marta Noor Priya Rosa Sven Tariq Vera Yusuf
""".split()
LAST = """Smith Jones Garcia Dubois Rossi Novak Kowalski Tanaka Kim Nguyen
Silva Johansson Okafor Haddad Schmidt Moreau Horvat Petrov Park Costa Larsen
Mensah Weber Laurent Nielsen Karimi""".split()
# Display names and phrases that need RFC 2047 encoded words.
INTL = ["Jürgen Weiß", "Zoë Côté", "Søren Ågård", "Łukasz Wróbel",
        "Андрей Смирнов", "山田 太郎", "José Peña", "Çağla Öztürk"]
INTL_TEXT = ["Grüße aus München", "Réunion de vendredi", "Отчёт за март",
             "会議の資料", "Przegląd kodu", "Año nuevo, presupuesto nuevo"]
DOMAINS = ["example.com", "example.org", "example.net", "posteo.example",
           "riseup.example", "gmail.com", "outlook.com", "fastmail.example",
           "mailbox.example", "uni-hannover.example", "ngo-mail.example"]
LISTS = ["dev@lists.kestrel.example", "users@lists.openrelay.example",
         "announce@lists.fieldnotes.example", "notmuch@notmuchmail.example"]
ZONES = ["+0000", "+0100", "+0200", "-0500", "-0700", "+0530", "+0900",
         "-0300"]
ATTACH = [("application/pdf", "pdf"), ("image/jpeg", "jpg"),
          ("image/png", "png"), ("application/zip", "zip"),
          ("application/octet-stream", "bin"), ("text/csv", "csv"),
          ("application/vnd.oasis.opendocument.text", "odt")]
KINDS = ["personal", "alternative", "newsletter", "list", "patch", "attach",
         "related", "forward"]
WEIGHTS = [30, 20, 10, 12, 5, 15, 5, 3]
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
ALNUM = B64[:62]


def rfcdate(ts, zone):
    """RFC 5322 date of ts in the time zone zone ("+0100")."""
    off = int(zone[1:3]) * 60 + int(zone[3:5])
    off = off if zone[0] == "+" else -off
    t = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc) + \
        datetime.timedelta(minutes=off)
    return t.strftime("%a, %d %b %Y %H:%M:%S ") + zone


def fold(name, value):
    """Fold an unfolded value at spaces before column 78."""
    if "\n" in value or len(name) + 2 + len(value) <= 78:
        return value
    lines, cur, room = [], "", 76 - len(name)
    for w in value.split(" "):
        if cur and len(cur) + 1 + len(w) > room:
            lines.append(cur)
            cur, room = w, 77
        else:
            cur = cur + " " + w if cur else w
    lines.append(cur)
    return "\n ".join(lines)


def lines_of(s, width):
    """Cut s into lines of width characters."""
    return [s[i:i + width] for i in range(0, len(s), width)]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.stats = collections.Counter()

    # -- small pieces
    def pick(self, seq):
        return self.r.choice(seq)

    def chars(self, n, alphabet=ALNUM):
        return "".join(self.r.choices(alphabet, k=n))

    def hexs(self, n):
        return "%0*x" % (n, self.r.getrandbits(4 * n))

    def b64(self, nbytes):
        return base64.b64encode(self.r.randbytes(nbytes)).decode()

    def ip(self):
        r = self.r
        return "%d.%d.%d.%d" % (r.choice([31, 46, 62, 80, 91, 109, 141, 185,
                                          193, 212]), r.randrange(256),
                                r.randrange(256), r.randrange(1, 255))

    def lanip(self):
        return "192.168.%d.%d" % (self.r.randrange(256),
                                  self.r.randrange(2, 255))

    def words(self, n):
        return " ".join(self.r.choices(WORDS, k=n))

    def sentence(self):
        s = self.words(self.r.randint(4, 16))
        return s[0].upper() + s[1:] + self.pick(".....?!")

    def encword(self, text):
        """text as RFC 2047 encoded words, B or Q, 30 bytes a word."""
        cs = self.pick(["UTF-8", "utf-8", "iso-8859-1"])
        try:
            raw = text.encode(cs)
        except UnicodeEncodeError:
            cs, raw = "UTF-8", text.encode()
        b = self.r.random() < 0.5
        out = []
        # Cut at character boundaries: UTF-8 continuation bytes are 10xxxxxx.
        i = 0
        while i < len(raw):
            j = min(i + 30, len(raw))
            while j < len(raw) and cs.lower() == "utf-8" and \
                    raw[j] & 0xC0 == 0x80:
                j -= 1
            chunk = raw[i:j]
            if b:
                out.append("=?%s?B?%s?=" % (
                    cs, base64.b64encode(chunk).decode()))
            else:
                out.append("=?%s?Q?%s?=" % (cs, "".join(
                    chr(c) if chr(c).isalnum() and c < 128 else
                    "_" if c == 32 else "=%02X" % c for c in chunk)))
            i = j
        self.stats["encoded-word"] += 1
        return " ".join(out)

    def person(self):
        r = self.r
        if r.random() < 0.07:
            name = self.pick(INTL)
            local = self.chars(6, "abcdefghijklmnopqrstuvwxyz")
        else:
            name = "%s %s" % (self.pick(FIRST), self.pick(LAST))
            local = self.pick([name.split()[0].lower(),
                               name.replace(" ", ".").lower(),
                               name[0].lower() + self.chars(5, ALNUM[26:])])
        return name, "%s@%s" % (local, self.pick(DOMAINS))

    def mailbox(self, name, addr):
        if not name.isascii():
            return "%s <%s>" % (self.encword(name), addr)
        return self.pick(['"%s" <%s>', "%s <%s>"]) % (name, addr)

    # -- header fields
    def received(self, hops, ts, sender, rcpt, client_ip):
        """hops Received fields, newest first, with their times."""
        r, sdom, rdom = self.r, sender.split("@")[1], rcpt.split("@")[1]
        t = ts + hops * 3
        out = []
        relay = r.randrange(4)	# one relay software per message
        for hop in range(hops):
            t -= r.randint(0, 4)
            when = rfcdate(t, self.pick(ZONES))
            if hop == hops - 1:	# submission: names the sender's machine
                v = self.pick([
                    "from [%s] (dyn-%s.isp.example [%s])\n\t(Authenticated "
                    "sender: %s)\n\tby smtp.%s (Postfix) with ESMTPSA id %s\n"
                    "\tfor <%s>; %s" % (
                        self.lanip(), client_ip.replace(".", "-"), client_ip,
                        sender, sdom, self.hexs(10).upper(), rcpt, when),
                    "from [%s] (helo=[%s])\n\tby smtp.%s with esmtpsa "
                    "(TLS1.3) tls TLS_AES_256_GCM_SHA384\n\t(Exim 4.96)\n"
                    "\t(envelope-from <%s>)\n\tid 1r%s-%s-%s;\n\t%s" % (
                        client_ip, self.lanip(), sdom, sender, self.chars(5),
                        self.chars(6), self.chars(2), when),
                    "by 2002:a05:6a10:%x:b0:%x:%x with SMTP id %s;\n"
                    "        %s" % (r.randrange(65536), r.randrange(65536),
                                    r.randrange(65536), self.chars(10), when)])
            elif hop == 0:	# final delivery
                v = self.pick([
                    "from mail.%s\n\tby mail.%s with LMTP\n\tid %s\n"
                    "\t(envelope-from <%s>)\n\tfor <%s>; %s" % (
                        rdom, rdom, self.chars(22, B64), sender, rcpt, when),
                    "from localhost (localhost [127.0.0.1])\n\tby mx.%s "
                    "(Postfix) with ESMTP id %s\n\tfor <%s>; %s" % (
                        rdom, self.hexs(10).upper(), rcpt, when)])
            else:
                h = "%s%d.%s" % (self.pick(["out", "relay", "mx"]),
                                 r.randint(1, 20), sdom)
                v = [
                    "from %s (%s [%s])\n\t(using TLSv1.3 with cipher "
                    "TLS_AES_256_GCM_SHA384 (256/256 bits))\n\t(No client "
                    "certificate requested)\n\tby mx%d.%s (Postfix) with "
                    "ESMTPS id %s\n\tfor <%s>; %s" % (
                        h, h, self.ip(), r.randint(1, 3), rdom,
                        self.hexs(11).upper(), rcpt, when),
                    "from %s (%s [%s])\n\tby %s (8.17.1/8.17.1) with ESMTPS "
                    "id %s\n\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 "
                    "bits=256 verify=NOT)\n\tfor <%s>; %s" % (
                        h, h, self.ip(), "relay.%s" % sdom, self.chars(14),
                        rcpt, when),
                    "from %s.eurprd04.prod.outlook.com (2603:10a6:%x::%x) by\n"
                    " %s.eurprd04.prod.outlook.com (2603:10a6:%x::%x) with\n"
                    " Microsoft SMTP Server (version=TLS1_2,\n cipher="
                    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.%d.%d;"
                    " %s" % (self.chars(12, ALNUM[:36]).upper(),
                             r.randrange(65536), r.randrange(65536),
                             self.chars(12, ALNUM[:36]).upper(),
                             r.randrange(65536), r.randrange(65536),
                             r.randint(6000, 8000), r.randint(10, 40), when),
                    "from %s ([%s])\n\tby compute%d.internal (MEProxy); %s" % (
                        h, self.ip(), r.randint(1, 9), when)][relay]
            out.append(("Received", v))
        self.stats["received"] += hops
        return out

    def dkim(self, domain, ts):
        names = ["from", "to", "cc", "subject", "date", "message-id",
                 "mime-version", "content-type", "in-reply-to", "references"]
        h = ":".join(names[:self.r.randint(5, len(names))])
        return ("DKIM-Signature",
                "v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s;\n\ts=%s; t=%d;"
                "\n\th=%s;\n\tbh=%s;\n\tb=%s" % (
                    domain, self.pick(["s1", "20230601", "selector1", "mail"]),
                    ts, h, self.b64(32),
                    "\n\t ".join(lines_of(self.b64(256), 68))))

    def arc(self, i, ts, sender):
        d = self.pick(["google.com", "microsoft.com", "fastmail.example"])
        return [
            ("ARC-Seal", "i=%d; a=rsa-sha256; t=%d; cv=%s; d=%s; s=arc-2016;"
             "\n\tb=%s" % (i, ts, "none" if i == 1 else "pass", d,
                           "\n\t ".join(lines_of(self.b64(256), 68)))),
            ("ARC-Message-Signature", "i=%d; a=rsa-sha256; c=relaxed/relaxed;"
             " d=%s; s=arc-2016;\n\th=to:subject:message-id:date:from;\n"
             "\tbh=%s;\n\tb=%s" % (i, d, self.b64(32),
                                   "\n\t ".join(lines_of(self.b64(256), 68)))),
            ("ARC-Authentication-Results", "i=%d; mx.%s;\n\tdkim=pass "
             "header.i=@%s;\n\tspf=pass smtp.mailfrom=%s" % (
                 i, d, sender.split("@")[1], sender))]

    def client(self, mua, ts, sender):
        """The Message-ID and the fields a mail client adds."""
        r, dom = self.r, sender.split("@")[1]
        stamp = datetime.datetime.fromtimestamp(
            ts, datetime.timezone.utc).strftime("%Y%m%d%H%M%S")
        if mua == "thunderbird":
            mid = "%s-%s-%s-%s-%s@%s" % (self.hexs(8), self.hexs(4),
                                         self.hexs(4), self.hexs(4),
                                         self.hexs(12), dom)
            f = [("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) "
                  "Gecko/20100101\n Thunderbird/115.%d.%d" % (
                      r.randint(0, 9), r.randint(0, 3))),
                 ("Content-Language", self.pick(["en-US", "de-DE", "fr"]))]
        elif mua == "mutt":
            mid = "%s.%s@%s" % (stamp, self.chars(6),
                                self.pick(["x230", "laptop", "thinkpad.home"]))
            f = [("User-Agent", self.pick(["Mutt/2.2.12 (2023-09-09)",
                                           "NeoMutt/20231103"]))]
        elif mua == "outlook":
            mid = "AM0PR04MB%s@AM0PR04MB%d.eurprd04.prod.outlook.com" % (
                self.chars(24, ALNUM[:36]).upper(), r.randint(1000, 9999))
            f = [("Thread-Topic", self.words(4)),
                 ("Thread-Index", self.b64(22)),
                 ("X-MS-Has-Attach", ""),
                 ("X-Originating-IP", "[%s]" % self.ip()),
                 ("x-ms-exchange-organization-scl", "1"),
                 ("x-microsoft-antispam-message-info",
                  "\n ".join(lines_of(self.b64(r.randint(400, 1200)), 76))),
                 ("Content-Language", "en-US")]
        elif mua == "gmail":
            mid = "CA%s@mail.gmail.com" % self.chars(r.randint(40, 56),
                                                     ALNUM + "+_=-")
            f = [("X-Gm-Message-State", self.b64(48)),
                 ("X-Google-Smtp-Source", self.b64(60))]
        elif mua == "roundcube":
            mid = "%s@%s" % (self.hexs(32), dom)
            f = [("User-Agent", "Roundcube Webmail/1.6.%d" % r.randint(0, 6)),
                 ("X-Sender", sender),
                 ("X-Originating-IP", "[%s]" % self.ip())]
        elif mua == "apple":
            mid = "%s-%s-%s-%s-%s@" % tuple(
                self.hexs(n).upper() for n in (8, 4, 4, 4, 12)) + dom
            f = [("X-Mailer", "Apple Mail (2.%d.%d)" % (r.randint(3600, 3800),
                                                        r.randint(100, 700)))]
        elif mua == "evolution":
            mid = "%s.camel@%s" % (self.hexs(40), dom)
            f = [("X-Mailer", "Evolution 3.46.%d-1" % r.randint(0, 4)),
                 ("Organization", self.words(2).title() + " e.V.")]
        elif mua == "git":
            mid = "%s.%d-%d-%s@%s" % (stamp, r.randint(1000, 99999),
                                      r.randint(1, 9),
                                      sender.split("@")[0], dom)
            f = [("X-Mailer", "git-send-email 2.%d.%d" % (r.randint(30, 44),
                                                          r.randint(0, 3)))]
        else:			# bulk mailer
            mid = "%s.%s@mail%d.news.example" % (self.hexs(20), self.hexs(8),
                                                 r.randint(1, 9))
            f = [("X-Mailer", "MailChimp Mailer - **CID%s**" % self.hexs(20)),
                 ("X-Campaign", "mailchimp%s" % self.hexs(20)),
                 ("List-Unsubscribe", "<https://news.example/u/%s>,\n "
                  "<mailto:unsub-%s@news.example>" % (self.chars(48),
                                                      self.chars(20))),
                 ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
                 ("Feedback-ID", "%d:%s:campaign" % (r.randrange(10 ** 6),
                                                     self.chars(8))),
                 ("Precedence", "bulk")]
        return "<%s>" % mid, f

    def listfields(self, lst):
        name, host = lst.split("@")
        return [("X-BeenThere", lst),
                ("X-Mailman-Version", "2.1.%d" % self.r.randint(20, 39)),
                ("Precedence", "list"),
                ("List-Id", "%s discussion <%s.%s>" % (name, name, host)),
                ("List-Unsubscribe", "<https://%s/mailman/options/%s>,\n "
                 "<mailto:%s-request@%s?subject=unsubscribe>" % (
                     host, name, name, host)),
                ("List-Archive", "<https://%s/pipermail/%s/>" % (host, name)),
                ("List-Post", "<mailto:%s>" % lst),
                ("List-Help", "<mailto:%s-request@%s?subject=help>" % (
                    name, host)),
                ("Errors-To", "%s-bounces@%s" % (name, host)),
                ("Sender", '"%s" <%s-bounces@%s>' % (name, name, host))]

    # -- bodies: each returns (content fields, body bytes)
    def text(self, size, intl=False):
        r, out = self.r, ["%s %s," % (self.pick(["Hi", "Hello", "Dear"]),
                                      self.pick(FIRST)), ""]
        n = 0
        while n < size:
            para = " ".join(self.sentence() for _ in range(r.randint(2, 6)))
            if intl and r.random() < 0.4:
                para += " " + self.pick(INTL_TEXT) + "."
            if r.random() < 0.004:	# needs mboxrd quoting
                para = "From " + para
            line = ""
            for w in para.split(" "):
                if line and len(line) + 1 + len(w) > 72:
                    out.append(line)
                    n += len(line) + 1
                    line = w
                else:
                    line = line + " " + w if line else w
            out += [line, ""]
            n += len(line) + 2
        if r.random() < 0.3:
            out += ["On %s, %s wrote:" % (rfcdate(1690000000, "+0200"),
                                          self.person()[0])]
            out += ["> " + self.sentence() for _ in range(r.randint(2, 8))]
            out.append("")
        out += ["Thanks,", self.pick(FIRST)]
        if r.random() < 0.2:
            out += ["-- ", "%s %s" % (self.pick(FIRST), self.pick(LAST))]
        return "\n".join(out) + "\n"

    def textpart(self, size):
        intl = self.r.random() < 0.3
        t = self.text(size, intl)
        if not intl:
            return [("Content-Type", "text/plain; charset=us-ascii"),
                    ("Content-Transfer-Encoding", "7bit")], t.encode()
        how = self.pick(["8bit", "quoted-printable", "base64"])
        data = t.encode()
        if how == "quoted-printable":
            data = binascii.b2a_qp(data)
        elif how == "base64":
            data = base64.encodebytes(data)
        return [("Content-Type", self.pick(["text/plain; charset=UTF-8",
                                            "text/plain; charset=utf-8; "
                                            "format=flowed"])),
                ("Content-Transfer-Encoding", how)], data

    def htmlpart(self, size, cids=()):
        paras = self.text(size).split("\n\n")
        html = ['<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
                '</head><body>']
        for p in paras:
            html.append('<div dir="ltr">%s</div>' % p.replace(
                "&", "&amp;").replace("<", "&lt;").replace("\n", "<br>\n"))
        for c in cids:
            html.append('<p><img src="cid:%s" alt="" width="120"></p>' % c)
        if self.r.random() < 0.3:
            html.append('<img src="https://open.news.example/o/%s.gif" '
                        'width="1" height="1">' % self.chars(40))
        data = ("\n".join(html) + "\n</body></html>\n").encode()
        if self.r.random() < 0.7:
            return [("Content-Type", 'text/html; charset="utf-8"'),
                    ("Content-Transfer-Encoding", "quoted-printable")], \
                binascii.b2a_qp(data)
        return [("Content-Type", 'text/html; charset="utf-8"'),
                ("Content-Transfer-Encoding", "base64")], \
            base64.encodebytes(data)

    def attachsize(self):
        """Mostly a few KB, some tens of KB, a few up to 2 MB."""
        x = self.r.random()
        if x < 0.005:
            return int(2 ** self.r.uniform(17, 21))
        if x < 0.06:
            return int(2 ** self.r.uniform(14.5, 17))
        return int(2 ** self.r.uniform(10, 14.3))

    def attachment(self, size):
        ctype, ext = self.pick(ATTACH)
        name = "%s.%s" % (self.pick(["report", "scan0042", "budget 2024",
                                     "IMG_2041", "minutes", "contract-v3",
                                     "Übersicht", "résumé"]), ext)
        if ext == "csv":
            raw = "\n".join(",".join(self.words(6).split())
                            for _ in range(size // 40 + 1)).encode()[:size]
        else:
            raw = self.r.randbytes(size)
        if name.isascii():
            disp = 'attachment;\n filename="%s"' % name
        else:
            disp = "attachment;\n filename*=UTF-8''%s" % "".join(
                c if c.isascii() and c.isalnum() else
                "".join("%%%02X" % b for b in c.encode()) for c in name)
        self.stats["attachments"] += 1
        self.stats["attachment bytes"] += size
        return [("Content-Type", '%s; name="%s"' % (
                    ctype, name if name.isascii() else self.encword(name))),
                ("Content-Disposition", disp),
                ("Content-Transfer-Encoding", "base64")], \
            base64.encodebytes(raw)

    def boundary(self):
        r = self.r
        return self.pick([
            "------------%s" % self.chars(24),
            "000000000000%s" % self.hexs(16),
            "----=_Part_%d_%d.%d" % (r.randint(10 ** 5, 10 ** 6),
                                     r.randint(10 ** 8, 10 ** 9),
                                     r.randint(10 ** 12, 10 ** 13)),
            "Apple-Mail=_%s" % self.hexs(32).upper()])

    def multipart(self, sub, parts, extra=""):
        b = self.boundary().encode()
        out = [b"This is a multi-part message in MIME format.\n"] \
            if self.r.random() < 0.5 else []
        for fields, data in parts:
            out.append(b"\n--" + b + b"\n")
            out.append("".join("%s: %s\n" % f for f in fields).encode())
            out.append(b"\n" + data)
            if not data.endswith(b"\n"):
                out.append(b"\n")
        out.append(b"\n--" + b + b"--\n")
        self.stats["multipart/" + sub] += 1
        return [("Content-Type", 'multipart/%s;%s\n boundary="%s"' % (
            sub, extra, b.decode()))], b"".join(out)

    def patch(self):
        out = [self.text(self.r.randint(100, 500)), "---\n"]
        files = ["%s/%s.c" % (self.pick(["mm", "net/core", "fs/ext4", "lib"]),
                              self.pick(WORDS))
                 for _ in range(self.r.randint(1, 3))]
        for f in files:
            out.append(" %s | %d %s\n" % (f, self.r.randint(2, 30), "+-" * 4))
        out.append(" %d files changed\n\n" % len(files))
        for f in files:
            out.append("diff --git a/%s b/%s\nindex %s..%s 100644\n--- a/%s\n"
                       "+++ b/%s\n" % (f, f, self.hexs(7), self.hexs(7), f, f))
            for _ in range(self.r.randint(1, 3)):
                out.append("@@ -%d,7 +%d,8 @@ static int %s(void)\n" % (
                    self.r.randint(1, 900), self.r.randint(1, 900),
                    self.pick(WORDS)))
                for _ in range(self.r.randint(6, 12)):
                    out.append("%s\t%s = %s(%s);\n" % (
                        self.pick("   +-"), self.pick(WORDS), self.pick(WORDS),
                        self.pick(WORDS)))
        out.append("-- \n2.43.0\n")
        return [("Content-Type", "text/plain; charset=UTF-8"),
                ("Content-Transfer-Encoding", "8bit")], "".join(out).encode()

    def body(self, kind):
        r = self.r
        size = int(2 ** r.uniform(7.5, 11.5))
        if kind in ("personal", "list"):
            return self.textpart(size)
        if kind == "patch":
            return self.patch()
        if kind == "alternative":
            return self.multipart("alternative", [self.textpart(size),
                                                  self.htmlpart(size)])
        if kind == "newsletter":
            size *= 4
            return self.multipart("alternative", [self.textpart(size),
                                                  self.htmlpart(size)])
        if kind == "related":
            cids = ["part%d.%s@%s" % (i + 1, self.hexs(8), self.pick(DOMAINS))
                    for i in range(r.randint(1, 3))]
            imgs = []
            for c in cids:
                f, data = self.attachment(int(2 ** r.uniform(10, 15)))
                imgs.append(([("Content-Type", 'image/png; name="logo.png"'),
                              ("Content-ID", "<%s>" % c),
                              ("Content-Disposition", "inline"),
                              ("Content-Transfer-Encoding", "base64")], data))
            alt = self.multipart("alternative", [self.textpart(size),
                                                 self.htmlpart(size, cids)])
            return self.multipart("related", [alt] + imgs,
                                  ' type="multipart/alternative";')
        if kind == "forward":
            inner = self.message(0, "personal", forwarded=True)
            return self.multipart("mixed", [
                self.textpart(size),
                ([("Content-Type", "message/rfc822"),
                  ("Content-Disposition", "inline")], inner)])
        first = self.textpart(size) if r.random() < 0.5 else \
            self.multipart("alternative", [self.textpart(size),
                                           self.htmlpart(size)])
        n = r.choices([1, 2, 3], [70, 20, 10])[0]
        return self.multipart("mixed", [first] + [
            self.attachment(self.attachsize()) for _ in range(n)])

    # -- whole messages
    def message(self, ts, kind, forwarded=False, mua=None):
        """One message as bytes; self.envfrom is its envelope sender."""
        r = self.r
        ts = ts or 1672531200 + r.randrange(2 * 365 * 86400)
        sname, sender = self.person()
        rname, rcpt = self.person()
        lst = self.pick(LISTS) if kind in ("list", "patch") else None
        mua = mua or {"patch": "git", "newsletter": "bulk"}.get(kind) or \
            self.pick(["thunderbird", "mutt", "outlook", "gmail", "roundcube",
                       "apple", "evolution"])
        ctype, body = self.body(kind)
        subject = self.sentence()[:-1]
        if kind == "patch":
            n = r.randint(1, 9)
            subject = "[PATCH v%d %d/%d] %s: %s" % (
                r.randint(1, 4), r.randint(1, n), n,
                self.pick(["mm", "net", "ext4"]), subject.lower())
        elif lst:
            subject = "[%s] %s" % (lst.split("@")[0], subject)
        if r.random() < 0.08:
            subject = self.encword(self.pick(INTL_TEXT) + " " + subject)
        reply = r.random() < 0.35
        if reply:
            subject = "Re: " + subject
        mid, clientf = self.client(mua, ts, sender)
        author = [("From", self.mailbox(sname, sender)),
                  ("To", lst or self.mailbox(rname, rcpt))]
        if r.random() < 0.2:
            author.append(("Cc", ",\n ".join(
                self.mailbox(*self.person())
                for _ in range(r.choice([1, 2, 3, 8, 20])))))
        author += [("Subject", subject),
                   ("Date", rfcdate(ts, self.pick(ZONES))),
                   ("Message-ID", mid)]
        if reply or (kind == "patch" and r.random() < 0.8):
            refs = ["<%s@%s>" % (self.chars(20), self.pick(DOMAINS))
                    for _ in range(r.choice([1, 1, 2, 3, 6, 12]))]
            author += [("In-Reply-To", refs[-1]),
                       ("References", "\n ".join(refs))]
        author += [("MIME-Version", "1.0")] + ctype + clientf
        if forwarded:
            fields = self.received(2, ts, sender, rcpt, self.ip()) + author
            return self.render(fields, body)
        if lst:
            author += self.listfields(lst)
        signed = []
        if r.random() < 0.6:
            signed.append(self.dkim(sender.split("@")[1], ts))
            if lst and r.random() < 0.5:
                signed.insert(0, self.dkim(lst.split("@")[1], ts))
        hops = r.choices(range(3, 9), [20, 25, 22, 15, 10, 8])[0]
        recv = self.received(hops, ts, sender, rcpt, self.ip())
        checks = []
        if r.random() < 0.7:
            checks.append((
                "Authentication-Results", "mx.%s;\n\tdkim=pass (2048-bit key) "
                "header.d=%s header.s=s1;\n\tspf=pass smtp.mailfrom=%s" % (
                    rcpt.split("@")[1], sender.split("@")[1], sender)))
        if r.random() < 0.25:
            for i in range(r.randint(1, 2), 0, -1):
                checks += self.arc(i, ts, sender)
        if r.random() < 0.4:
            checks += [("X-Spam-Level", "*" * r.randint(0, 3)),
                       ("X-Spam-Status", "No, score=%.1f required=5.0 tests="
                        "BAYES_00,DKIM_SIGNED,\n\tDKIM_VALID,SPF_PASS "
                        "autolearn=ham version=4.0.0" % r.uniform(-3, 3))]
        self.envfrom = sender
        top = [("Return-Path", "<%s>" % sender), ("Delivered-To", rcpt)]
        fields = top + recv[:1] + checks + recv[1:] + signed + author
        self.stats["kind " + kind] += 1
        return self.render(fields, body)

    @staticmethod
    def render(fields, body):
        head = "".join("%s: %s\n" % (n, fold(n, v)) for n, v in fields)
        return head.encode() + b"\n" + body

    def malform(self, raw):
        """Damage raw as real mail is damaged."""
        how = self.pick(["no final boundary", "no colon", "no empty line",
                         "nul", "bare cr", "overlong header line",
                         "overlong body line"])
        self.stats["malformed: " + how] += 1
        end = raw.index(b"\n\n")
        head, body = raw[:end + 1], raw[end + 1:]
        if how == "no final boundary":
            cut = body.rfind(b"\n--", 0, len(body) - 1)
            return head + body[:cut + 1] if cut > 0 else head + body[:-20]
        if how == "no colon":	# between two fields, near the end
            at = head.rfind(b"\nMIME-Version:") + 1
            return head[:at] + b"This line is not a header\n" + \
                head[at:] + body
        if how == "no empty line":
            return head + body[1:]
        if how == "nul":	# in a field value
            at = head.find(b"\nSubject: ") + 14
            return head[:at] + b"\0" + head[at:] + body
        if how == "bare cr":
            return head.replace(b"\nSubject:", b"\rSubject:", 1) + body
        if how == "overlong header line":
            return head + b"X-Long: " + self.chars(
                self.r.randint(1000, 20000)).encode() + b"\n" + body
        at = body.find(b"\n", len(body) // 3) + 1	# in a part, not after
        return head + body[:at] + self.chars(
            self.r.randint(10 ** 5, 3 * 10 ** 5)).encode() + b"\n" + body[at:]

    def corpus_message(self, i):
        kind = self.r.choices(KINDS, WEIGHTS)[0]
        raw = self.message(1700000000 + i * 60, kind)
        x = self.r.random()
        if x < 0.01:
            raw = self.malform(raw)
        elif x < 0.02:
            raw = raw.replace(b"\n", b"\r\n")
            self.stats["crlf"] += 1
        return raw

    def big(self, mb):
        """A short text message with one attachment making it mb * 10^6."""
        head = self.message(1700000000, "personal").split(b"\n\n", 1)[0]
        text = self.text(2000).encode()
        keep = []
        for ln in head.split(b"\n"):
            if ln[:1] in (b" ", b"\t"):
                if keep:
                    keep[-1] += b"\n" + ln
            else:
                keep.append(ln)
        keep = [f for f in keep if not f.lower().startswith(b"content-")]
        b = b"------------" + self.chars(24).encode()
        keep.append(b'Content-Type: multipart/mixed;\n boundary="' + b + b'"')
        front = b"\n".join(keep) + b"\n\n--" + b + \
            b"\nContent-Type: text/plain; charset=us-ascii\n\n" + text + \
            b"\n--" + b + b"\nContent-Type: application/zip; " \
            b'name="backup.zip"\n' \
            b'Content-Disposition: attachment; filename="backup.zip"\n' \
            b"Content-Transfer-Encoding: base64\n\n"
        back = b"\n--" + b + b"--\n"
        room = int(mb * 10 ** 6) - len(front) - len(back)
        data = base64.encodebytes(self.r.randbytes(room * 57 // 77 + 57))
        return front + data[:room - room % 77] + back


def mboxrd(raw):
    """Quote ^>*From_ lines with one more '>'."""
    if b"From " not in raw:
        return raw
    lines = raw.split(b"\n")
    for i, ln in enumerate(lines):
        if ln.lstrip(b">").startswith(b"From "):
            lines[i] = b">" + ln
    return b"\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--big-mb", type=float, default=50)
    ap.add_argument("--mid-mb", type=float, default=10)
    ap.add_argument("--version", action="version", version=str(VERSION))
    ap.add_argument("out")
    a = ap.parse_args()

    if os.path.isdir(a.out):
        shutil.rmtree(a.out)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(a.out, "maildir", sub))
    g = Gen(a.seed)
    total = 0
    with open(os.path.join(a.out, "bench.mbox"), "wb") as mbox:
        for i in range(a.count):
            raw = g.corpus_message(i)
            total += len(raw)
            ts = 1700000000 + i * 60
            name = "%d.M%06dP%d.bench:2,S" % (ts, i, 4000 + i % 997)
            with open(os.path.join(a.out, "maildir", "cur", name), "wb") as f:
                f.write(raw)
            stamp = datetime.datetime.fromtimestamp(
                ts, datetime.timezone.utc).strftime("%a %b %e %H:%M:%S %Y")
            mbox.write(b"From %s %s\n" % (g.envfrom.encode(), stamp.encode()))
            raw = mboxrd(raw)
            mbox.write(raw if raw.endswith(b"\n") else raw + b"\n")
            mbox.write(b"\n")

    # The one-process-per-message case: plain text, 2-4 KB.
    s = Gen(a.seed + 1)
    while True:
        raw = s.message(1700000000, "personal", mua="thunderbird")
        if 2000 <= len(raw) <= 4000 and b"multipart" not in raw:
            break
    with open(os.path.join(a.out, "single.eml"), "wb") as f:
        f.write(raw)
    for name, mb in (("big.eml", a.big_mb), ("mid.eml", a.mid_mb)):
        with open(os.path.join(a.out, name), "wb") as f:
            f.write(Gen(a.seed + 2).big(mb))

    st = ["gencorpus.py %d --seed %d --count %d (Python %d.%d)" % (
        VERSION, a.seed, a.count, *sys.version_info[:2]),
        "messages: %d, %d bytes, mean %d" % (a.count, total,
                                             total // max(a.count, 1)),
        "single.eml: %d bytes" % len(raw)]
    st += ["%s: %d" % kv for kv in sorted(g.stats.items())]
    with open(os.path.join(a.out, "stats.txt"), "w") as f:
        f.write("\n".join(st) + "\n")
    print("\n".join(st[:3]))


if __name__ == "__main__":
    main()
