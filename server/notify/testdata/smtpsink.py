"""An aiosmtpd handler for the notify tests: it keeps every accepted message
as <n>.eml in a folder (written to a temporary name, then renamed, so a
reader never sees half a message) and refuses the recipients it is told to.

    python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c smtpsink.Sink DIR [RULE ...]

with this folder on PYTHONPATH. A RULE is ADDRESS=REPLY, for example
"gone@example.com=550 5.1.1 No such mailbox": RCPT TO that address is
answered REPLY. A REPLY written N*REPLY ("busy@example.com=2*451 4.3.0 Try
later") is answered the first N times only; then the address is accepted.
"""

import json
import os


class Sink:
    def __init__(self, folder, *rules):
        self.folder = folder
        self.refuse = {}
        self.times = {}
        for rule in rules:
            address, reply = rule.split("=", 1)
            count, star, rest = reply.partition("*")
            if star and count.isdigit():
                self.times[address.lower()] = int(count)
                reply = rest
            self.refuse[address.lower()] = reply
        self.count = 0

    @classmethod
    def from_cli(cls, parser, *args):
        if not args:
            parser.error("smtpsink.Sink needs the folder to write messages to")
        return cls(*args)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        key = address.lower()
        reply = self.refuse.get(key)
        if reply and key in self.times:
            if self.times[key] <= 0:
                reply = None
            else:
                self.times[key] -= 1
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.folder, "%d" % self.count)
        with open(base + ".json.tmp", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "tls": session.ssl is not None
                       or server.transport.get_extra_info("ssl_object") is not None}, f)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".json.tmp", base + ".json")
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 Message accepted for delivery"
