"""The dashboard's pages (GET) and actions (POST, then a redirect back)."""

from __future__ import annotations

import hmac
from urllib.parse import urlencode
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ..errors import LifelongError
COOKIE = "lifelong_ui"  # the signed-in session
PAGE = 50  # interactions per page
MODES = ("hybrid", "dense", "keyword")


def add_routes(app: FastAPI, ui) -> None:
    agent = ui.agent

    @app.get("/ui/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request):
        return ui.render(request, "login.html")

    @app.post("/ui/login", include_in_schema=False)
    async def login(request: Request):
        fields = await ui.form(request, signed_in=False)
        if ui.token is None:
            return ui.back("/ui")
        if not hmac.compare_digest(fields.get("token", "").encode(), ui.token.encode()):
            return ui.back("/ui/login", problem="wrong token: give the server's LIFELONG_API_TOKEN")
        response = ui.back("/ui", notice="signed in")
        response.set_cookie(COOKIE, ui.session, httponly=True, samesite="strict", path="/ui")
        return response

    @app.post("/ui/logout", include_in_schema=False)
    async def logout(request: Request):
        await ui.form(request)
        response = RedirectResponse("/ui/login", status_code=303)
        response.delete_cookie(COOKIE, path="/ui")
        return response

    @app.get("/ui", response_class=HTMLResponse, include_in_schema=False)
    def interactions(request: Request, task: str = "", version: str = "", rating: str = "", q: str = "",
                     since: str = "", until: str = "", page: int = 0):
        ui.guard(request)
        filters = {"task": task, "version": version, "rating": rating, "q": q, "since": since, "until": until}
        problem = None
        with ui.serving:
            try:
                rows = agent.interactions(task=task or None, version=version or None, rating=rating or None,
                                          text=q or None, since=since or None, until=until or None,
                                          n=PAGE + 1, offset=max(0, page) * PAGE)
            except LifelongError as exc:
                rows, problem = [], str(exc)
            tasks = list(agent.tasks())
            versions = agent.answer_labels()
        def page_url(number: int) -> str:
            return "/ui?" + urlencode({**{k: v for k, v in filters.items() if v}, "page": number})

        return ui.render(request, "interactions.html", rows=rows[:PAGE], more=len(rows) > PAGE, page=max(0, page),
                         filters=filters, tasks=tasks, versions=versions, ratings=agent.RATINGS, problem_now=problem,
                         page_url=page_url)

    @app.get("/ui/conversations/{conversation}", response_class=HTMLResponse, include_in_schema=False)
    def conversation(request: Request, conversation: str):
        ui.guard(request)
        with ui.serving:
            turns = agent.turns(conversation)
        return ui.render(request, "conversation.html", turns=turns, conversation=conversation)

    @app.post("/ui/interactions/{interaction_id}/feedback", include_in_schema=False)
    async def feedback(request: Request, interaction_id: int):
        fields = await ui.form(request)
        to = fields.get("next", "/ui")
        correction = fields.get("correction", "").strip() or None
        rating = {"good": 1, "bad": -1}.get(fields.get("rating", ""))
        if correction is not None:
            rating = -1
        if rating is None:
            return ui.back(to, problem="give a rating or a correction")
        return ui.act(f"{to}#i{interaction_id}", lambda: agent.feedback(interaction_id, rating=rating, correction=correction),
                      lambda record: f"#{interaction_id}: " + ("corrected; a training example now" if record["example_id"] and correction
                                                               else "rated " + ("good" if rating == 1 else "bad")))

    @app.get("/ui/review", response_class=HTMLResponse, include_in_schema=False)
    def review(request: Request, task: str = ""):
        ui.guard(request)
        with ui.serving:
            try:
                queue, problem = agent.review_queue(50, task or None), None
            except LifelongError as exc:
                queue, problem = [], str(exc)
            tasks = list(agent.tasks())
        return ui.render(request, "review.html", queue=queue, tasks=tasks, task=task, problem_now=problem)

    @app.get("/ui/learning", response_class=HTMLResponse, include_in_schema=False)
    def learning(request: Request, task: str = "chat"):
        ui.guard(request)
        with ui.serving:
            tasks = list(agent.tasks())
            if task not in tasks:
                return ui.back("/ui/learning", problem=f"unknown task {task!r}")
            view = ui.learning_view(task)
            pending = len(agent.pending_examples(task))
        return ui.render(request, "learning.html", task=task, tasks=tasks, pending=pending, **view)

    @app.post("/ui/learn", include_in_schema=False)
    async def learn_now(request: Request):
        fields = await ui.form(request)
        task = fields.get("task", "chat")
        return ui.act(f"/ui/learning?task={task}", lambda: ui.jobs.start(task),
                      lambda job: f"learning run of {task} started (job {job.id})")

    @app.post("/ui/jobs/{job_id}/cancel", include_in_schema=False)
    async def cancel_job(request: Request, job_id: str):
        fields = await ui.form(request)
        return ui.act(fields.get("next", "/ui/learning"), lambda: ui.jobs.cancel(job_id), "cancelling at the next training step")

    @app.get("/ui/tasks/{task}/versions/{number}/promote", response_class=HTMLResponse, include_in_schema=False)
    def confirm_promote(request: Request, task: str, number: int):
        ui.guard(request)
        with ui.serving:
            try:
                version = agent.version(number, task)
            except LifelongError as exc:
                return ui.back(f"/ui/learning?task={task}", problem=str(exc))
            active = agent.active_version(task)
        current = f"v{active['number']}" if active else "the base model"
        return ui.render(request, "confirm.html", action=f"/ui/tasks/{task}/versions/{number}/promote",
                         question=f"Promote v{number} of task {task}? It replaces {current}, whatever the gate said"
                                  + (f" (it was {version['status']}: {version['reason']})" if version["reason"] else "") + ".",
                         back=f"/ui/learning?task={task}", label=f"Promote v{number}")

    @app.post("/ui/tasks/{task}/versions/{number}/promote", include_in_schema=False)
    async def promote(request: Request, task: str, number: int):
        fields = await ui.form(request)
        return ui.act(fields.get("next", f"/ui/learning?task={task}"),
                      lambda: agent.promote(number, task),
                      lambda row: f"v{row['number']} is now active for task {row['task']}")

    @app.get("/ui/tasks/{task}/rollback", response_class=HTMLResponse, include_in_schema=False)
    def confirm_rollback(request: Request, task: str):
        ui.guard(request)
        with ui.serving:
            active = agent.active_version(task)
        if active is None:
            return ui.back(f"/ui/learning?task={task}", problem=f"task {task!r} has no active adapter to roll back")
        parent = f"v{active['parent']}" if active["parent"] else "the base model"
        return ui.render(request, "confirm.html", action=f"/ui/tasks/{task}/rollback",
                         question=f"Roll task {task} back from v{active['number']} to {parent}? v{active['number']} is retired.",
                         back=f"/ui/learning?task={task}", label="Roll back")

    @app.post("/ui/tasks/{task}/rollback", include_in_schema=False)
    async def rollback(request: Request, task: str):
        fields = await ui.form(request)
        return ui.act(fields.get("next", f"/ui/learning?task={task}"), lambda: agent.rollback(task)[0],
                      lambda parent: f"task {task} now serves " + (f"v{parent['number']}" if parent else "the base model"))

    @app.get("/ui/knowledge", response_class=HTMLResponse, include_in_schema=False)
    def knowledge(request: Request, q: str = "", mode: str = "hybrid"):
        ui.guard(request)
        hits, problem = [], None
        with ui.serving:
            documents = agent.retriever.documents()
            if q:
                try:
                    hits = agent.search(q, mode=mode if mode in MODES else None)
                except LifelongError as exc:
                    problem = str(exc)
        return ui.render(request, "knowledge.html", documents=documents, hits=hits, q=q, mode=mode, modes=MODES,
                         problem_now=problem)

    @app.get("/ui/knowledge/forget", response_class=HTMLResponse, include_in_schema=False)
    def confirm_forget(request: Request, document: str):
        ui.guard(request)
        return ui.render(request, "confirm.html", action="/ui/knowledge/forget", fields={"document": document},
                         question=f"Forget {document}? Its chunks and vectors are removed from the knowledge base.",
                         back="/ui/knowledge", label="Forget")

    @app.post("/ui/knowledge/forget", include_in_schema=False)
    async def forget(request: Request):
        fields = await ui.form(request)
        document = fields.get("document", "")
        return ui.act("/ui/knowledge", lambda: agent.forget(document), lambda n: f"forgot {document} ({n} chunks)")
