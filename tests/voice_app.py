"""A learner's voice app stand-in: TwiML by path, every request recorded with its signature checked."""

import threading

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server


class VoiceApp:
    """Serves `pages[path]` (TwiML text, or a (status, content type, body) triple); records what arrived."""

    def __init__(self, auth_token: str) -> None:
        self.pages: dict[str, object] = {}
        self.requests: list[dict] = []
        validator = RequestValidator(auth_token)
        app = Flask("voice-app")

        @app.route("/<path:path>", methods=["GET", "POST"])
        def page(path: str) -> Response:
            params = request.form.to_dict() if request.method == "POST" else {}
            self.requests.append({
                "path": "/" + path, "method": request.method, "values": request.values.to_dict(),
                "signed": validator.validate(request.url, params, request.headers.get("X-Twilio-Signature", "")),
            })
            answer = self.pages.get("/" + path, "<Response><Hangup/></Response>")
            if isinstance(answer, tuple):
                status, content_type, body = answer
                return Response(body, status=status, content_type=content_type)
            return Response(answer, content_type="text/xml")

        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_port}{path}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

