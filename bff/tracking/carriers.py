"""The ERP's carrier names → 快递100's carrier codes, for the common express carriers.

Carriers are matched by a name the ERP's logistics datasource may use (圆通速递, 圆通快递, 圆通):
the longest known name contained in the ERP's. A name matching none (a freight line such as
金通物流, 安能物流 or 百世快运: 零担 lines 快递100 does not follow for us) is not followed: the
purchaser is told "暂不支持自动查询" with the carrier, the number and the remark to copy.

Codes are 快递100's own (lower case; e.g. ``yuantong`` in both demo repositories); those needing the
receiver's phone (its last four digits are enough) are marked: 顺丰 answers nothing without it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str  # as a purchaser calls it
    needs_phone: bool = False


_CARRIERS: tuple[tuple[tuple[str, ...], Carrier], ...] = (
    (("顺丰快运",), Carrier("shunfengkuaiyun", "顺丰快运", needs_phone=True)),
    (("顺丰",), Carrier("shunfeng", "顺丰速运", needs_phone=True)),
    (("圆通",), Carrier("yuantong", "圆通速递")),
    (("中通快运",), Carrier("zhongtongkuaiyun", "中通快运")),
    (("中通",), Carrier("zhongtong", "中通快递")),
    (("申通",), Carrier("shentong", "申通快递")),
    (("韵达快运",), Carrier("yundakuaiyun", "韵达快运")),
    (("韵达",), Carrier("yunda", "韵达快递")),
    (("京东",), Carrier("jd", "京东物流")),
    (("EMS", "ems", "中国邮政速递"), Carrier("ems", "EMS")),
    (("邮政",), Carrier("youzhengguonei", "邮政快递包裹")),
    (("德邦",), Carrier("debangwuliu", "德邦")),
    (("极兔",), Carrier("jtexpress", "极兔速递")),
    (("跨越",), Carrier("kuayue", "跨越速运")),
    (("百世快递", "汇通"), Carrier("huitongkuaidi", "百世快递")),
    (("宅急送",), Carrier("zhaijisong", "宅急送")),
    (("优速",), Carrier("youshuwuliu", "优速快递")),
    (("丰网",), Carrier("fengwang", "丰网速运")),
    (("壹米滴答",), Carrier("yimidida", "壹米滴答")),
)
# Longest names first: 顺丰快运 before 顺丰, 中通快运 before 中通.
_BY_NAME: tuple[tuple[str, Carrier], ...] = tuple(sorted(
    ((name, carrier) for names, carrier in _CARRIERS for name in names), key=lambda pair: -len(pair[0])))
CODES: frozenset[str] = frozenset(carrier.code for _, carrier in _CARRIERS)


def carrier_of(name: str | None) -> Carrier | None:
    """The carrier 快递100 follows under this ERP name, if any."""
    if not name:
        return None
    return next((carrier for known, carrier in _BY_NAME if known in name), None)


def by_code(code: str) -> Carrier | None:
    return next((carrier for _, carrier in _CARRIERS if carrier.code == code), None)
