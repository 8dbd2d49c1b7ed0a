"""A webhook receiver for the tour: prints each POST it gets and answers 200.

python3 examples/retail/webhook_receiver.py          # listens on 127.0.0.1:9000
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key = self.headers.get("Idempotency-Key", "")
        try:
            shown = json.dumps(json.loads(body))
        except ValueError:
            shown = body.decode(errors="replace")
        print(f"{self.path}  idempotency-key={key}  {shown}", flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
