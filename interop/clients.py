"""Reads an ssekit stream through one Python SSE client, as an application would.

    python clients.py {httpx-sse|sseclient-py} URL [LAST_EVENT_ID [RESUME_URL]]

Prints one JSON line per event the client yields: {"id", "event", "data"}. When the connection
fails mid-stream it reconnects (to RESUME_URL, default URL) with `Last-Event-ID` set to the id of
the last complete event, until the server ends the stream (after the terminal event, or 204).
Neither client reconnects by itself.
"""

import json
import sys

import httpx


class Reader:
    def __init__(self, last):
        self.last = last

    def emit(self, event_id, event, data):
        print(json.dumps({"id": event_id, "event": event, "data": data}), flush=True)
        if event_id:
            self.last = event_id

    def httpx_sse(self, http, url, headers):
        from httpx_sse import connect_sse

        with connect_sse(http, "GET", url, headers=headers) as source:
            if source.response.status_code == 204:
                return
            for sse in source.iter_sse():
                self.emit(sse.id, sse.event, sse.data)

    def sseclient_py(self, http, url, headers):
        import sseclient

        with http.stream("GET", url, headers=headers) as res:
            if res.status_code == 204:
                return
            for event in sseclient.SSEClient(res.iter_bytes()).events():
                # sseclient-py yields an unterminated final block when the body ends; ssekit puts
                # the id last, so a cut-off event has no id, and an app must drop it.
                if event.id is None:
                    continue
                self.emit(event.id, event.event, event.data)


def main():
    client, url = sys.argv[1], sys.argv[2]
    reader = Reader(sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None)
    resume_url = sys.argv[4] if len(sys.argv) > 4 else url
    read = {"httpx-sse": reader.httpx_sse, "sseclient-py": reader.sseclient_py}[client]
    with httpx.Client(timeout=httpx.Timeout(60.0)) as http:
        for _ in range(5):
            headers = {"Last-Event-ID": reader.last} if reader.last else {}
            try:
                read(http, url, headers)
                return
            except httpx.TransportError as e:
                print(f"reconnecting after {e!r}", file=sys.stderr)
                url = resume_url
    sys.exit("gave up after 5 connections")


if __name__ == "__main__":
    main()
