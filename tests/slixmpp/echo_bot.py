#!/usr/bin/env python3
"""An echo bot on slixmpp, the independent client of the interop test
(tests/tests/slixmpp_interop.rs).

It logs in over STARTTLS on the given address, trusting only the given CA file, sends
its presence, prints "READY" on stdout once the session has started, and sends every
chat or normal message with a body back to its sender, unchanged. It ends when its
standard input closes (the test is gone) or after --lifetime seconds, whichever comes
first; the test also ends it by PID.
"""

import argparse
import asyncio
import sys
import threading

import slixmpp


class EchoBot(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.echoed = 0
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_auth", self.on_failed_auth)

    async def on_start(self, _event):
        self.send_presence()
        mech = getattr(self.plugin["feature_mechanisms"], "mech", None)
        name = getattr(mech, "name", "?") if mech is not None else "?"
        print(f"READY {name}", flush=True)

    def on_message(self, msg):
        if msg["type"] in ("chat", "normal") and msg["body"]:
            reply = self.make_message(mto=msg["from"], mbody=msg["body"], mtype=msg["type"])
            if msg["id"]:
                reply["id"] = msg["id"]
            reply.send()
            self.echoed += 1

    def on_failed_auth(self, _event):
        print("FAILED authentication", flush=True)
        self.disconnect()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jid", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True, help="PEM file of the only CA to trust")
    parser.add_argument("--lifetime", type=float, default=120.0)
    args = parser.parse_args()

    bot = EchoBot(args.jid, args.password)
    bot.ca_certs = args.ca
    loop = asyncio.get_event_loop()

    def watch_stdin():
        sys.stdin.read()
        loop.call_soon_threadsafe(loop.stop)

    threading.Thread(target=watch_stdin, daemon=True).start()
    loop.call_later(args.lifetime, loop.stop)
    bot.connect(address=(args.host, args.port), use_ssl=False, force_starttls=True)
    loop.run_forever()
    print(f"ECHOED {bot.echoed}", flush=True)


if __name__ == "__main__":
    main()
