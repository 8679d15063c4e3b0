"""/admin: the operators' dashboard, one server-rendered page with inline SVG (no CDN, no script).

Administrators only: BFF_ADMIN_TOKEN or the session token of a bound administrator
(MONITORING_READ), as a Bearer header (API clients: checked on every request, as before) or
posted once to ``/admin/login``. A login opens a session on the server
(:mod:`bff.auth.admin_sessions`): the HttpOnly, SameSite=Strict cookie holds only its random id,
never the token, and every request checks the row (not expired, not revoked, the admin token
unchanged or the administrator's session live and still an administrator's). Logout revokes the
row, so a copied cookie opens nothing afterwards; the page lists the live admin sessions (a
prefix of each id's hash, who, when, from where) with a button to revoke each. No token ever
travels in a URL (where logs, history and Referer headers keep it). Every answer carries a
strict CSP, ``X-Frame-Options: DENY``, ``Cache-Control: no-store`` and
``Referrer-Policy: same-origin``. Administrators can list a company's users and revoke a binding
or all of a user's sessions (forms posting to ``/admin/revoke``; the SameSite=Strict cookie and
an ``Origin`` check keep other sites from posting them). ``Secure`` and the ``Origin`` check use
the scheme a trusted proxy's X-Forwarded-Proto gives (uvicorn's ProxyHeadersMiddleware, with
BFF_TRUSTED_PROXIES). Everything shown is escaped.
"""

from __future__ import annotations

import time
from datetime import datetime
from html import escape
from urllib.parse import parse_qs, quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bff.auth.admin_sessions import TOKEN, ActiveAdminSession, AdminLogin, AdminSessions
from bff.core.domain import Permission
from bff.core.errors import BffError, ErrorCode
from bff.monitor.performance import OperationFigures, performance, recent_errors
from bff.monitor.probe import ProbeSample
from bff.monitor.status import erp_status
from bff.notify.render import CHINA
from bff.services import Services
from bff.store.tables import ErpBinding
from bff.web.appstate import services_of
from bff.web.gql import bearer_token, error_response
from resolvers.context import RequestContext
from resolvers.monitoring import is_admin_token

STATE_COLORS = {"UP": "#2e7d32", "DEGRADED": "#f9a825", "DOWN": "#c62828", "UNKNOWN": "#757575"}


COOKIE = "bff_admin"  # the admin session's random id (bff/auth/admin_sessions.py), never a token
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",  # no-referrer would make form posts send "Origin: null"
    "X-Content-Type-Options": "nosniff",
}


def _secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


class Refused(Exception):
    """A Bearer header that is no administrator's: 403, not the login form."""


async def _administrator(request: Request) -> ActiveAdminSession | bool:
    """Who asks: True for a valid Bearer header (API clients), the admin session the cookie
    names, or False (no valid session: the login form). Raises Refused for a bad Bearer."""
    services = services_of(request)
    bearer = bearer_token(request)
    if bearer:
        if await admin_login(services, bearer) is None:
            raise Refused
        return True
    return await services.admin_sessions.check(request.cookies.get(COOKIE, "")) or False


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""  # resolved by BFF_TRUSTED_PROXIES


async def _form(request: Request) -> dict[str, str]:
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=10)
    return {key: values[0] for key, values in fields.items()}


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


def login_page(message: str = "", status: int = 401) -> Response:
    note = f'<p class="note">{escape(message)}</p>' if message else ""
    body = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>惠采 BFF 监控 · 登录</title>
<style>body{{font-family:system-ui,sans-serif;margin:48px}} input{{width:28em;padding:6px}} .note{{color:#c62828}}</style>
</head><body><h1>管理员登录</h1>{note}
<form method="post" action="/admin/login"><label>管理员令牌 <input type="password" name="token" autocomplete="off" required></label>
<button type="submit">登录</button></form></body></html>"""
    return _secured(HTMLResponse(body, status_code=status))


async def login(request: Request) -> Response:
    services = services_of(request)
    token = (await _form(request)).get("token", "")
    who = await admin_login(services, token) if _same_origin(request) else None
    if who is None:
        return login_page("令牌无效或无管理员权限", status=403)
    raw_id = await services.admin_sessions.open(who, _client_ip(request), request.headers.get("user-agent", ""))
    response = RedirectResponse("/admin", status_code=303)
    response.set_cookie(
        COOKIE, raw_id, max_age=int(services.admin_sessions.ttl.total_seconds()), path="/admin", httponly=True,
        samesite="strict", secure=request.url.scheme == "https",
    )
    return _secured(response)


async def logout(request: Request) -> Response:
    """Ends the session on the server: the same cookie, replayed, opens nothing."""
    raw_id = request.cookies.get(COOKIE, "")
    if raw_id:
        await services_of(request).admin_sessions.revoke(raw_id, raw=True)
    response = RedirectResponse("/admin", status_code=303)
    response.delete_cookie(COOKIE, path="/admin")
    return _secured(response)


async def revoke(request: Request) -> Response:
    """A revocation form of the user list: end one binding, or all sessions of a user."""
    services = services_of(request)
    try:
        allowed = _same_origin(request) and bool(await _administrator(request))
    except Refused:
        allowed = False
    if not allowed:
        return _secured(error_response(ErrorCode.FORBIDDEN, "仅限管理员操作", status=403))
    form = await _form(request)
    kind, target, company = form.get("kind", ""), form.get("id", "")[:100], form.get("company", "")[:50]
    anchor = "users"
    if kind == "binding":
        await services.bindings.end(ErpBinding.binding_id == target, reason="revoked")
    elif kind == "sessions":
        await services.sessions.revoke_all(target)
    elif kind == "admin_session":
        await services.admin_sessions.revoke(target)
        anchor = "admin-sessions"
    return _secured(RedirectResponse(f"/admin?company={quote(company)}#{anchor}", status_code=303))


def routes() -> list[Route]:
    return [
        Route("/admin", dashboard, methods=["GET"]),
        Route("/admin/login", login, methods=["POST"]),
        Route("/admin/logout", logout, methods=["POST"]),
        Route("/admin/revoke", revoke, methods=["POST"]),
    ]


async def admin_login(services: Services, token: str) -> AdminLogin | None:
    """What a token opens (a login posted to /admin/login, or a Bearer header): the admin token,
    or an administrator's session (kept by its stored id, which the admin session checks each
    time); None for anything else. The same check as ``systemStatus`` / ``performance``."""
    if not token:
        return None
    context = RequestContext(services=services, bearer_token=token)
    if is_admin_token(context):
        return services.admin_sessions.token_login()
    try:
        viewer = await context.viewer()
    except BffError:
        return None
    if viewer is None or Permission.MONITORING_READ not in viewer.permissions:
        return None
    return AdminSessions.user_login(viewer.openid, viewer.session_id)


async def dashboard(request: Request) -> Response:
    services = services_of(request)
    try:
        who = await _administrator(request)
    except Refused:
        return _secured(error_response(ErrorCode.FORBIDDEN, "仅限管理员访问监控面板", status=403))
    if who is False:
        page = login_page()
        if COOKIE in request.cookies:  # expired or revoked: the browser may forget it
            page.delete_cookie(COOKIE, path="/admin")
        return page
    company = request.query_params.get("company", "").strip()[:50]
    users = await users_section(services, company)
    admins = admin_sessions_section(await services.admin_sessions.active(), company,
                                    who.id_hash if isinstance(who, ActiveAdminSession) else None)
    status = erp_status(services.monitor.probe, services.erp)
    report = await performance(services.db, 3600)
    errors = await recent_errors(services.db, 15)
    alerts = list(reversed(services.monitor.alerter.recent))
    anomaly_rows = "".join(
        f"<tr><td>{form}</td><td>{escape(name)}</td><td>{count}</td></tr>"
        for form, name, count in services.erp.anomalies.snapshot()
    ) or '<tr><td colspan="3">无</td></tr>'

    backlog = await services.notify.outbox.backlog()
    color = STATE_COLORS[status.state.value]
    rows = "".join(
        f"<tr><td>{escape(f.operation)}</td><td>{f.count}</td><td>{f.error_rate:.1%}</td><td>{_ms(f.p50_ms)}</td>"
        f"<td>{_ms(f.p95_ms)}</td><td>{_ms(f.p99_ms)}</td><td>{_num(f.erp_calls_per_request)}</td></tr>"
        for f in report.operations
    )
    error_rows = "".join(
        f"<tr><td>{_time(e.at)}</td><td>{escape(e.direction)}</td><td>{escape(e.operation)}</td>"
        f"<td>{escape(e.error)}</td><td>{e.latency_ms or ''}</td><td><code>{escape(e.trace_id or '')}</code></td></tr>"
        for e in errors
    )
    alert_rows = "".join(
        f"<tr><td>{_time(a.at)}</td><td>{escape(a.title)}</td><td>{escape(a.detail)}</td>"
        f"<td>{'已发送' if a.delivered else '未送达'}</td></tr>"
        for a in alerts
    )
    body = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>惠采 BFF 监控</title>
<style>
body{{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:24px;color:#222;background:#fafafa}}
h1{{font-size:22px}} h2{{font-size:17px;margin-top:28px}}
.card{{display:inline-block;background:#fff;border:1px solid #ddd;border-radius:8px;padding:10px 16px;margin:4px 8px 4px 0}}
.card b{{display:block;font-size:20px}} table{{border-collapse:collapse;background:#fff;font-size:13px}}
td,th{{border:1px solid #ddd;padding:4px 8px;text-align:left}} th{{background:#f0f0f0}}
#erp-state{{color:#fff;background:{color};padding:2px 10px;border-radius:6px}} svg{{background:#fff;border:1px solid #ddd}}
</style></head><body>
<h1>惠采 BFF 监控面板</h1>
<div class="card">ERP 状态<b><span id="erp-state">{status.state.value}</span></b></div>
<div class="card">最近探测<b>{_time(status.last_check)}</b></div>
<div class="card">探测延迟 p50 / p95<b>{_ms(status.latency_p50_ms)} / {_ms(status.latency_p95_ms)}</b></div>
<div class="card">连续失败<b>{status.consecutive_failures}</b></div>
<div class="card">熔断器<b id="circuit">{status.circuit_state}</b></div>
<div class="card">备用通道<b>{'使用中' if status.backup_in_use else ('待命' if status.backup_configured else '未配置')}</b></div>
<div class="card">最近有效数据<b>{_time(status.last_good_data_at)}</b></div>
<div class="card">近1小时请求 / 错误率<b>{report.count} / {report.error_rate:.1%}</b></div>
<div class="card">消息队列 待发 / 发送中<b id="outbox">{backlog.queued} / {backlog.sending}</b></div>
<div class="card">消息延迟<b>{backlog.lag_s:.0f} s</b></div>
<h2>ERP 探测历史 (24 小时)</h2>
{probe_chart(services.monitor.probe.samples())}
<h2>各操作延迟 (近1小时, ms)</h2>
{latency_chart(report.operations)}
<table id="operations"><tr><th>操作</th><th>次数</th><th>错误率</th><th>p50</th><th>p95</th><th>p99</th><th>ERP 调用/次</th></tr>{rows}</table>
<h2>最近错误</h2>
<table id="errors"><tr><th>时间</th><th>方向</th><th>操作</th><th>错误</th><th>ms</th><th>trace</th></tr>{error_rows}</table>
<h2>ERP 数据异常（字段形状不符已降级，_record 为缺少标识而跳过的记录）</h2>
<table id="anomalies"><tr><th>表单</th><th>字段</th><th>次数</th></tr>{anomaly_rows}</table>
<h2>最近告警</h2>
<table id="alerts"><tr><th>时间</th><th>告警</th><th>详情</th><th>Webhook</th></tr>{alert_rows}</table>
{users}
{admins}
<form method="post" action="/admin/logout"><button type="submit">退出登录</button></form>
</body></html>"""
    return _secured(HTMLResponse(body))


async def users_section(services: Services, company: str) -> str:
    """A company's bound users, each with its revocation buttons."""
    rows = ""
    if company:
        bindings = await services.bindings.company_users(company)
        people = await services.sessions.people(sorted({b.openid for b in bindings}))
        for b in bindings:
            nickname, sessions = people[b.openid]
            rows += (
                f"<tr><td>{escape(nickname or '')}</td><td><code>{escape(b.openid)}</code></td><td>{escape(b.method)}</td>"
                f"<td>{_time(b.bound_at)}</td><td>{sessions}</td><td>"
                f"{_revoke_button('binding', b.binding_id, company, '解除绑定')}"
                f"{_revoke_button('sessions', b.openid, company, '注销全部会话')}</td></tr>"
            )
    return f"""<h2 id="users">企业用户</h2>
<form method="get" action="/admin"><label>客户编号 <input name="company" value="{escape(company)}"></label>
<button type="submit">查看</button></form>
<table id="company-users"><tr><th>昵称</th><th>openid</th><th>方式</th><th>绑定时间</th><th>会话</th><th>操作</th></tr>{rows}</table>"""


def admin_sessions_section(sessions: list[ActiveAdminSession], company: str, current: str | None) -> str:
    """The live /admin sessions, each with a revoke button: a prefix of its id's hash names it
    (the hash opens nothing; the id itself is never stored)."""
    rows = "".join(
        f"<tr><td><code>{escape(a.id_hash[:8])}</code>{' (当前)' if a.id_hash == current else ''}</td>"
        f"<td>{'管理员令牌' if a.kind == TOKEN else '管理员会话'}</td><td><code>{escape(a.principal)}</code></td>"
        f"<td>{_time(a.created_at)}</td><td>{_time(a.last_seen_at)}</td><td>{_time(a.expires_at)}</td>"
        f"<td>{escape(a.client_ip)}</td><td>{escape(a.user_agent[:80])}</td>"
        f"<td>{_revoke_button('admin_session', a.id_hash, company, '注销')}</td></tr>"
        for a in sessions
    )
    return f"""<h2 id="admin-sessions">管理员登录会话</h2>
<table id="admin-sessions-table"><tr><th>会话</th><th>方式</th><th>登录者</th><th>登录时间</th><th>最近活动</th><th>到期</th>
<th>地址</th><th>浏览器</th><th>操作</th></tr>{rows}</table>"""


def _revoke_button(kind: str, target: str, company: str, label: str) -> str:
    return (
        f'<form method="post" action="/admin/revoke" style="display:inline">'
        f'<input type="hidden" name="kind" value="{kind}"><input type="hidden" name="id" value="{escape(target)}">'
        f'<input type="hidden" name="company" value="{escape(company)}"><button type="submit">{label}</button></form>'
    )


def probe_chart(samples: list[ProbeSample], width: int = 900, height: int = 180) -> str:
    """Probe latency over 24 hours; each probe a dot colored by state (failures on the top edge)."""
    now = time.time()
    top = max([s.latency_ms or 0.0 for s in samples] + [100.0])
    pad = 30

    def x(at: float) -> float:
        return pad + (width - 2 * pad) * (1 - (now - at) / 86400)

    def y(ms: float | None) -> float:
        return pad if ms is None else height - pad - (height - 2 * pad) * (ms / top)

    points = " ".join(f"{x(s.at):.1f},{y(s.latency_ms):.1f}" for s in samples if s.latency_ms is not None)
    dots = "".join(
        f'<circle cx="{x(s.at):.1f}" cy="{y(s.latency_ms):.1f}" r="3" fill="{STATE_COLORS[s.state.value]}">'
        f"<title>{s.state.value} {s.latency_ms or '失败'}</title></circle>"
        for s in samples
    )
    return (
        f'<svg id="probe-chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#999"/>'
        f'<text x="{pad}" y="{pad - 8}" font-size="11">{top:.0f} ms</text>'
        f'<text x="{pad}" y="{height - 8}" font-size="11">-24h</text>'
        f'<text x="{width - pad - 24}" y="{height - 8}" font-size="11">现在</text>'
        f'<polyline points="{points}" fill="none" stroke="#1565c0" stroke-width="1.5"/>{dots}</svg>'
    )


def latency_chart(operations: list[OperationFigures], width: int = 900) -> str:
    """Horizontal bars per operation: p50, p95 and p99."""
    shown = operations[:12]
    row_h, label_w = 26, 260
    height = max(40, row_h * len(shown) + 30)
    top = max([f.p99_ms or 0.0 for f in shown] + [1.0])
    scale = (width - label_w - 60) / top
    bars = []
    for i, f in enumerate(shown):
        y0 = 10 + i * row_h
        bars.append(f'<text x="4" y="{y0 + 14}" font-size="11">{escape(f.operation[:40])}</text>')
        for value, color, h in ((f.p99_ms, "#ef9a9a", 18), (f.p95_ms, "#ffcc80", 12), (f.p50_ms, "#64b5f6", 6)):
            bars.append(
                f'<rect x="{label_w}" y="{y0 + (18 - h) / 2 + 2}" width="{(value or 0) * scale:.1f}" height="{h}" fill="{color}"/>'
            )
        bars.append(f'<text x="{label_w + (f.p99_ms or 0) * scale + 4:.1f}" y="{y0 + 14}" font-size="10">{_ms(f.p99_ms)}</text>')
    legend = (
        f'<text x="{label_w}" y="{height - 6}" font-size="10" fill="#1565c0">p50</text>'
        f'<text x="{label_w + 40}" y="{height - 6}" font-size="10" fill="#ef6c00">p95</text>'
        f'<text x="{label_w + 80}" y="{height - 6}" font-size="10" fill="#c62828">p99</text>'
    )
    return f'<svg id="latency-chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}">{"".join(bars)}{legend}</svg>'


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _time(value: datetime | None) -> str:
    # Beijing time: the wholesaler's administrators read it, not the server's clock.
    return "–" if value is None else escape(value.astimezone(CHINA).strftime("%m-%d %H:%M:%S"))
