"""A real SMTP server for the tests: aiosmtpd, delivering into a Maildir.

    smtp_server.py --listen 127.0.0.1:PORT --maildir DIR [--tls-cert CERT --tls-key KEY [--smtps]]
                   [--user NAME --password SECRET]

With a certificate, STARTTLS is offered and required before mail, or with --smtps the whole
connection is TLS from the first byte; with a user, AUTH (PLAIN/LOGIN, only over TLS) is
required. Each accepted message lands as one file in
DIR/new. Runs until SIGTERM or SIGINT. Prints "ready" once listening.
"""

import argparse
import asyncio
import signal
import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--smtps", action="store_true")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)

    options = {}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        if args.smtps:
            options.update(ssl_context=context)
        else:
            options.update(tls_context=context, require_starttls=True)
    if args.user:
        expected = (args.user.encode(), (args.password or "").encode())

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and (
                auth_data.login,
                auth_data.password,
            ) == expected
            # handled=False: aiosmtpd answers 535 itself (its default, True, answers nothing).
            return AuthResult(success=ok, handled=False)

        options.update(
            authenticator=authenticate,
            auth_required=True,
            # aiosmtpd counts only STARTTLS as TLS; an SMTPS connection is TLS throughout.
            auth_require_tls=bool(args.tls_cert) and not args.smtps,
        )

    controller = Controller(
        Mailbox(args.maildir), hostname=host, port=int(port), ready_timeout=10, **options
    )
    controller.start()
    print("ready", flush=True)

    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
