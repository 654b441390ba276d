"""A fake LINE Messaging API on loopback (aiohttp) for the LINE reminder tests: it checks
the channel access token and the push request's shape as LINE publishes them, keeps what
it accepted, and can answer 429, a 5xx, or a refusal of some recipients ("blocked")."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from aiohttp import web

from tests.server_process import free_port

USER_ID = re.compile(r"U[0-9a-f]{32}")


def problems(body: object) -> list[str]:
    """What is wrong with a push request body (empty: nothing)."""
    if not isinstance(body, dict) or set(body) - {"to", "messages", "notificationDisabled", "customAggregationUnits"}:
        return ["body must be an object with to and messages"]
    found = [] if isinstance(body.get("to"), str) and USER_ID.fullmatch(body["to"]) else ["to is no user id"]
    messages = body.get("messages")
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return [*found, "messages must hold 1 to 5 messages"]
    for message in messages:
        if message.get("type") == "text":
            if not isinstance(message.get("text"), str) or not 1 <= len(message["text"]) <= 5000:
                found.append("text must be 1 to 5000 characters")
        elif message.get("type") == "template":
            template = message.get("template") or {}
            if not 1 <= len(message.get("altText") or "") <= 400:
                found.append("altText must be 1 to 400 characters")
            if template.get("type") != "buttons" or not 1 <= len(template.get("actions") or []) <= 4:
                found.append("a buttons template with 1 to 4 actions")
            if len(template.get("text") or "") > (60 if template.get("title") else 160):
                found.append("template text too long")
            for action in template.get("actions") or []:
                if action.get("type") != "postback" or not 1 <= len(action.get("label") or "") <= 20:
                    found.append("postback actions with a label of 1 to 20 characters")
                if not 1 <= len(action.get("data") or "") <= 300:
                    found.append("postback data must be 1 to 300 characters")
        else:
            found.append(f"unexpected message type {message.get('type')!r}")
    return found


@dataclass
class FakeLineApi:
    token: str
    blocked: set[str] = field(default_factory=set)  # recipients the API refuses (400)
    busy: int = 0  # answer this many requests with 429 first
    failing: int = 0  # then this many with 500
    pushed: list[dict] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why requests were refused (token, schema)
    keys: set[str] = field(default_factory=set)
    replies: list[dict] = field(default_factory=list)  # the webhook's answers (reply API)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v2/bot/message/push", self.push)
        app.router.add_post("/v2/bot/message/reply", self.reply)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        self.port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def unauthorised(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            self.refused.append("token")
            return web.json_response({"message": "Authentication failed"}, status=401)
        return None

    async def reply(self, request: web.Request) -> web.Response:
        if refused := self.unauthorised(request):
            return refused
        body = await request.json()
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(body.get("replyToken"), str) or not isinstance(messages, list) or not 1 <= len(messages) <= 5:
            self.refused.append("reply body")
            return web.json_response({"message": "The request body has 1 error(s)"}, status=400)
        self.replies.append(body)
        return web.json_response({"sentMessages": [{"id": "r", "quoteToken": "q"}]})

    def replied(self) -> list[str]:
        return [message["text"] for body in self.replies for message in body["messages"]]

    async def push(self, request: web.Request) -> web.Response:
        if refused := self.unauthorised(request):
            return refused
        key = request.headers.get("X-Line-Retry-Key", "")
        try:
            uuid.UUID(key)
        except ValueError:
            self.refused.append("retry key")
            return web.json_response({"message": "The retry key is invalid"}, status=400)
        body = await request.json()
        if found := problems(body):
            self.refused.append("; ".join(found))
            return web.json_response({"message": "The request body has 1 error(s)", "details": found}, status=400)
        if self.busy:
            self.busy -= 1
            return web.json_response({"message": "Too many requests"}, status=429, headers={"Retry-After": "60"})
        if self.failing:
            self.failing -= 1
            return web.json_response({"message": "Internal server error"}, status=500)
        if key in self.keys:
            return web.json_response({"message": "The retry key is already accepted"}, status=409)
        if body["to"] in self.blocked:
            return web.json_response({"message": "Failed to send messages"}, status=400)
        self.keys.add(key)
        self.pushed.append(body)
        return web.json_response({"sentMessages": [{"id": str(len(self.pushed)), "quoteToken": "q"}]})

    def to(self, user: str) -> list[dict]:
        return [body for body in self.pushed if body["to"] == user]

    async def stop(self) -> None:
        await self.runner.cleanup()
