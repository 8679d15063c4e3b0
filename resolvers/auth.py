"""Login, session, profile and binding resolvers."""

from __future__ import annotations

import contextlib
import logging
import unicodedata

from bff.core.domain import Binding, Company, LoginResult, Viewer
from bff.core.security import mask_phone
from bff.erp.errors import ErpFailure
from bff.monitor.context import request_facts
from bff.services import Services
from resolvers.context import Info
from resolvers.inputs import bad_input, https_url, text

log = logging.getLogger(__name__)


async def checked_nickname(services: Services, openid: str, nickname: str | None) -> str | None:
    """A nickname fit to keep: no markup, and WeChat's content check (msgSecCheck) does not
    find it risky. The mini program saves only after WeChat's own nickname review passed;
    this is the server's check, for every client."""
    if nickname is None:
        return None
    if "<" in nickname or ">" in nickname:
        raise bad_input("昵称不能包含 < 或 >", "profile.nickname")
    # Controls (Cc: newlines, tabs), format characters (Cf: bidi overrides such as U+202E that
    # reverse how a name reads, invisible marks), separators of lines and paragraphs. The
    # zero-width joiner stays: emoji sequences (👨‍👩‍👧) are made with it.
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and c != "\u200d" for c in nickname):
        raise bad_input("昵称不能包含换行或不可见的控制字符", "profile.nickname")
    verdict = await services.wechat.msg_sec_check(openid, nickname)
    if verdict == "risky":
        raise bad_input("昵称含有不当内容，请修改后再试", "profile.nickname")
    if verdict == "review":
        log.info("nickname kept pending WeChat review verdict 'review'")
    return nickname


async def wx_login(info: Info, code: str, nickname: str | None, avatar_url: str | None) -> LoginResult:
    services = info.context.services
    code = text(code, "code", max_len=128, required=True, label="登录凭证") or ""
    nickname = text(nickname, "profile.nickname", max_len=32, label="昵称")
    avatar_url = https_url(avatar_url, "profile.avatarUrl", label="头像地址")
    session = await services.wechat.code_to_session(code)
    nickname = await checked_nickname(services, session.openid, nickname)
    result = await services.sessions.create(
        session.openid, session.unionid, session.session_key, nickname=nickname, avatar_url=avatar_url
    )
    result.viewer.binding = await services.bindings.current(session.openid)
    return result


async def me(info: Info) -> Viewer:
    return await info.context.require_viewer()


async def update_profile(info: Info, nickname: str | None, avatar_url: str | None) -> Viewer:
    viewer = await info.context.require_viewer()
    nickname = text(nickname, "profile.nickname", max_len=32, label="昵称")
    avatar_url = https_url(avatar_url, "profile.avatarUrl", label="头像地址")
    nickname = await checked_nickname(info.context.services, viewer.openid, nickname)
    user = await info.context.services.sessions.update_profile(viewer.openid, nickname, avatar_url)
    viewer.nickname, viewer.avatar_url = user.nickname, user.avatar_url
    return viewer


async def logout(info: Info, all_sessions: bool) -> bool:
    viewer = await info.context.require_viewer()
    sessions = info.context.services.sessions
    if all_sessions:
        return await sessions.revoke_all(viewer.openid) > 0
    return await sessions.logout(viewer)


async def bind_by_invite_code(info: Info, invite_code: str) -> Binding:
    viewer = await info.context.require_viewer()
    code = text(invite_code, "inviteCode", max_len=64, required=True, label="邀请码") or ""
    return await info.context.services.bindings.bind_by_invite_code(viewer, code, info.context.client_ip)


async def bind_by_account(info: Info, username: str, password: str) -> Binding:
    viewer = await info.context.require_viewer()
    username = text(username, "erpAccount.username", max_len=64, required=True, label="ERP账号") or ""
    if not password or len(password) > 128:
        raise bad_input("请填写ERP密码", "erpAccount.password")
    return await info.context.services.bindings.bind_by_account(viewer, username, password, info.context.client_ip)


async def delete_my_account(info: Info) -> bool:
    """Everything the BFF keeps of the caller removed (docs/privacy.md); the session ends with it."""
    viewer = await info.context.require_viewer()
    services = info.context.services
    deleted = await services.accounts.delete(viewer.openid, (services.sessions.trusted_session_id(viewer.openid),))
    facts = request_facts()
    if facts is not None:
        facts.session_id = None  # this request's own call log row is written after: it names no session either
    log.info("account deleted rows=%s call_logs_anonymised=%d", sum(deleted.removed.values()), deleted.anonymised_logs)
    return True


async def unbind(info: Info) -> bool:
    viewer = await info.context.require_viewer()
    return await info.context.services.bindings.unbind(viewer)


async def company_details(info: Info, binding: Binding) -> Company:
    """The bound company with live details from the ERP (cached base data); phone masked.

    If the ERP cannot answer, the name kept at binding time still lets the page render.
    """
    company = binding.company
    if company.id is not None:
        with contextlib.suppress(ErpFailure):
            company = await info.context.services.companies.get(company.id) or company
    return Company(**{**company.__dict__, "mobile": mask_phone(company.mobile), "contact": company.contact})
