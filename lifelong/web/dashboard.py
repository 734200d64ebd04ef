"""The operator's dashboard at /ui: interactions, the review queue, learning and knowledge.
Server-rendered (Jinja2), assets shipped in the package, no JavaScript needed.

Auth is the API's: with no token (loopback only), pages are open; with a token, a browser
signs in once at /ui/login and keeps an HttpOnly, SameSite=Strict cookie derived from the
token (a Bearer header works too). Every form carries a CSRF token derived from a secret of
this process, so another site cannot submit them; every change redirects back (POST, then
GET) and says what happened."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from ..errors import LifelongError
from . import charts
from .dashboard_routes import COOKIE, add_routes

HERE = Path(__file__).parent


class Dashboard:
    def __init__(self, app: FastAPI, agent, serving, jobs, token: str | None):
        self.agent, self.serving, self.jobs, self.token = agent, serving, jobs, token
        self.templates = Jinja2Templates(directory=HERE / "templates")
        self.csrf = secrets.token_urlsafe(32)
        self.session = None if token is None else hmac.new(token.encode(), b"lifelong-ui", hashlib.sha256).hexdigest()
        app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static")
        add_routes(app, self)

    # --- auth and forms ------------------------------------------------------------------------

    def signed_in(self, request: Request) -> bool:
        if self.token is None:
            return True
        cookie = request.cookies.get(COOKIE, "")
        bearer = request.headers.get("authorization", "")
        return hmac.compare_digest(cookie.encode(), self.session.encode()) or hmac.compare_digest(
            bearer.encode(), f"Bearer {self.token}".encode())

    def guard(self, request: Request) -> None:
        if not self.signed_in(request):
            raise _SignIn()

    async def form(self, request: Request, signed_in: bool = True) -> dict[str, str]:
        """The submitted form, once its CSRF token (and, unless signing in, the session) is checked."""
        if signed_in:
            self.guard(request)
        try:
            fields = {k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8"), keep_blank_values=True).items()}
        except UnicodeDecodeError:
            raise HTTPException(400, "the form is not UTF-8") from None
        if not hmac.compare_digest(fields.get("csrf", "").encode(), self.csrf.encode()):
            raise HTTPException(403, "the form's CSRF token is missing or stale; reload the page and submit again")
        return fields

    # --- rendering -----------------------------------------------------------------------------

    def render(self, request: Request, template: str, **context) -> HTMLResponse:
        context.update(csrf=self.csrf, section=template.removesuffix(".html"), notice=request.query_params.get("notice"),
                       problem=request.query_params.get("problem"), signed_out=self.token is not None)
        return self.templates.TemplateResponse(request, template, context)

    @staticmethod
    def back(to: str, notice: str | None = None, problem: str | None = None) -> RedirectResponse:
        """Redirect to a dashboard page (never elsewhere) with a notice or a problem to show."""
        path = urlsplit(to)
        target = path.path if path.path.startswith("/ui") and not path.netloc else "/ui"
        query = parse_qs(path.query)
        query.pop("notice", None), query.pop("problem", None)
        if notice:
            query["notice"] = [notice]
        if problem:
            query["problem"] = [problem]
        return RedirectResponse(f"{target}?{urlencode(query, doseq=True)}", status_code=303)

    def act(self, to: str, action, notice) -> RedirectResponse:
        """Run ``action`` under the serving lock; a refusal (LifelongError) comes back as a
        problem shown on the page, with nothing changed."""
        try:
            with self.serving:
                result = action()
        except LifelongError as exc:
            return self.back(to, problem=str(exc))
        return self.back(to, notice=notice(result) if callable(notice) else notice)

    # --- page data -----------------------------------------------------------------------------

    def learning_view(self, task: str) -> dict:
        runs = self.agent.learning_runs(task)
        return {"runs": runs, "heatmap": charts.accuracy_heatmap(runs), "lines": charts.metric_lines(runs),
                "versions": self.agent.versions(task), "active": self.agent.active_version(task),
                "jobs": [j.to_dict() for j in self.jobs.list() if j.task == task]}


class _SignIn(Exception):
    """Raised by a page that needs the token; answered with a redirect to /ui/login."""


def install(app: FastAPI, agent, serving, jobs, token: str | None) -> Dashboard:
    @app.exception_handler(_SignIn)
    async def sign_in(request: Request, exc: _SignIn):
        return RedirectResponse("/ui/login", status_code=303)

    return Dashboard(app, agent, serving, jobs, token)
