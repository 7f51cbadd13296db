"""The words of the pages, in Chinese and English: one table per language (:data:`TEXT`), which each page
module extends with its own words through :func:`add` (so a new page does not edit another's table). A key
given twice with different words is an error at import, and every key must exist in both languages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LANGS = ("zh", "en")
LANG_COOKIE = "fe_lang"  # the language a visitor chose (``?lang=``), kept for a year

TEXT: dict[str, dict[str, Any]] = {
    "zh": {"title": "金融科技评估平台", "sign_in": "登录", "email": "电子邮箱", "password": "密码", "sign_out": "退出登录",
           "signed_in_as": "当前用户", "role": "角色", "api": "接口文档", "invalid": "电子邮箱或密码错误",
           "locked": "登录失败次数过多，请稍后再试或联系管理员", "csrf": "表单已过期，请重新提交",
           "welcome": "设置密码以激活账户", "entities": "填报主体", "new_password": "新密码（至少 10 个字符）",
           "repeat": "再次输入新密码", "activate": "激活账户", "mismatch": "两次输入的密码不一致",
           "invalid_link": "邀请链接无效（不存在、已使用、已撤销或已过期），请联系评估人员重新发送",
           "account": "我的账户", "tokens": "接口令牌", "token_name": "名称", "scopes": "权限范围", "created": "创建时间",
           "last_used": "最近使用", "revoked": "已撤销", "revoke": "撤销", "create_token": "创建令牌",
           "token_once": "请立即复制此令牌：它只显示这一次", "change_password": "修改密码",
           "current_password": "当前密码", "password_changed": "密码已修改，其他会话已退出",
           "not_signed_in": "请先登录", "not_found": "未找到", "forbidden": "您的角色无权查看此页面",
           "home": "首页", "campaigns": "评估项目", "returns": "填报", "results": "评估结果", "vendors": "服务商评级",
           "roles": {"administrator": "管理员", "evaluator": "评估人员", "submitter": "填报机构", "viewer": "查看者"},
           "scope_names": {"read": "只读", "submit": "填报", "admin": "管理"}},
    "en": {"title": "FinTech evaluation platform", "sign_in": "Sign in", "email": "E-mail", "password": "Password",
           "sign_out": "Sign out", "signed_in_as": "Signed in as", "role": "Role", "api": "API documentation",
           "invalid": "Wrong e-mail or password", "locked": "Too many failed sign-ins: try again later or ask an administrator",
           "csrf": "The form expired: please submit it again",
           "welcome": "Set a password to activate your account", "entities": "Reporting for",
           "new_password": "New password (at least 10 characters)", "repeat": "The new password again",
           "activate": "Activate account", "mismatch": "The two passwords differ",
           "invalid_link": "This invitation link is not valid (unknown, used, revoked or expired): ask for a new one",
           "account": "My account", "tokens": "API tokens", "token_name": "Name", "scopes": "Scopes",
           "created": "Created", "last_used": "Last used", "revoked": "Revoked", "revoke": "Revoke",
           "create_token": "Create a token", "token_once": "Copy this token now: it is shown this once",
           "change_password": "Change password", "current_password": "Current password",
           "password_changed": "Password changed; your other sessions were signed out",
           "not_signed_in": "Please sign in first", "not_found": "Not found",
           "forbidden": "Your role may not see this page", "home": "Home", "campaigns": "Campaigns",
           "returns": "Returns", "results": "Results", "vendors": "Vendor ratings",
           "roles": {"administrator": "administrator", "evaluator": "evaluator", "submitter": "submitter", "viewer": "viewer"},
           "scope_names": {"read": "read", "submit": "submit", "admin": "administer"}},
}


def negotiate(asked: str | None, accept_language: str | None, default: str) -> str:
    """The language of an answer: ``asked`` (the ``?lang=`` parameter or the ``fe_lang`` cookie) when it is one
    of :data:`LANGS`, else the first of :data:`LANGS` in the ``Accept-Language`` header by its q-values
    (``zh-CN``, ``zh-TW`` → zh; ``en-GB`` → en), else ``default``."""
    if asked in LANGS:
        return asked
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").lower().split(",")):
        code, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if code.strip()[:2] in LANGS and q > 0:
            ranked.append((-q, i, code.strip()[:2]))
    return min(ranked)[2] if ranked else default


def add(words: Mapping[str, Mapping[str, Any]]) -> None:
    """Add a page module's words (``{"zh": {...}, "en": {...}}``, the same keys in both)."""
    if set(words) != set(LANGS) or set(words["zh"]) != set(words["en"]):
        missing = set(words.get("zh", {})) ^ set(words.get("en", {}))
        raise ValueError(f"page words must exist in both languages; not in both: {sorted(missing)}")
    for lang in LANGS:
        table = TEXT[lang]
        for key, value in words[lang].items():
            if key in table and table[key] != value:
                raise ValueError(f"page word {key!r} ({lang}) is defined twice with different text")
            table[key] = value
