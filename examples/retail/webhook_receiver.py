"""A webhook receiver for the README tour: prints every request the cancellation_webhook campaign
sends, answers 200. Standard library only; listens on 127.0.0.1 (port 9000, or the first argument).

    python3 examples/retail/webhook_receiver.py [PORT]
"""

from __future__ import annotations

import contextlib
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.dumps(json.loads(raw), separators=(", ", ": ")) if raw else ""
        except ValueError:
            body = raw.decode(errors="replace")
        key = self.headers.get("Idempotency-Key", "-")
        print(f"{self.command} {self.path}  idempotency-key={key}\n  {body}", flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    do_POST = do_PUT = do_GET = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:  # the print above is the log
        return


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    server = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    print(f"webhook receiver on http://127.0.0.1:{port} (Ctrl-C stops)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
