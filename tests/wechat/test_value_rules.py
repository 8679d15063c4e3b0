"""The subscription-message value rules: the wechat.md table, and fit() always yielding a valid value."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bff.wechat.value_rules import KEY_TYPES, fit, key_type, violation

VALID: dict[str, list[str]] = {
    "thing": ["不锈钢六角螺栓 M8×30", "a" * 20, "备注：请尽快发货!"],
    "number": ["0", "12", "3.1415", "1" * 32, "1" * 16 + "." + "1" * 16],
    "letter": ["abc", "XYZ", "a" * 32],
    "symbol": ["!", "@#$%&", "¥"],
    "character_string": ["SO-2024-0001", "SF1234567890", "a" * 32, "A_b.c/1"],
    "time": ["15:01", "9:05", "00:00", "23:59", "2019年10月1日 15:01", "2019-10-01 15:01",
             "15:01~16:30", "2019年10月1日 15:01~2019年10月2日 08:00", "15:01 ~ 16:00"],
    "date": ["2019年10月1日", "2019年10月1日 15:01", "2019-10-01", "2024年2月29日"],
    "amount": ["¥100", "￥12.50", "$3", "€0.99", "£1234567890", "¥100元", "100元", "8.8元"],
    "phone_number": ["13800138000", "+86-10-12345678", "0" * 17],
    "car_number": ["粤A12345", "京AD12345", "ABC123"],
    "name": ["张三", "欧阳" * 5, "Alice", "a" * 20],
    "phrase": ["配送中", "已发货", "已完成", "一二三四五"],
}

INVALID: dict[str, list[str]] = {
    "thing": ["", "   ", "a" * 21, "line\nbreak", "tab\there"],
    "number": ["", "1,000", "-5", "1.", ".5", "1e5", "１２", "1" * 33, "1" * 20 + "." + "1" * 13, "12个"],
    "letter": ["", "abc1", "a b", "中文", "a" * 33],
    "symbol": ["", "!!!!!!", "a!", "1", "! "],
    "character_string": ["", "a" * 33, "SO 0001", "订单001", "SO-０01"],
    "time": ["", "24:00", "12:60", "15:01:30", "3pm", "2019年13月1日 15:01", "2019年2月30日 15:01",
             "15:01~16:00~17:00", "2019年10月1日", "1501", " 15:01"],
    "date": ["", "15:01", "2019/10/01", "2019年10月", "2019年10月32日", "2019年10月1日~2019年10月2日",
             "2019-10-01T15:01", "2019年10月1日 25:00"],
    "amount": ["", "100", "¥", "¥¥100", "¥1,000", "¥-5", "¥12345678901", "元", "100$", "¥1.", "USD100"],
    "phone_number": ["", "1" * 18, "138 0013 8000", "(010)123", "+-", "tel13800138000"],
    "car_number": ["", "粤A 12345", "粤A1234567"],
    "name": ["", "张三Li", "一" * 11, "a" * 21, "Li Lei", "张 三", "O'Neil"],
    "phrase": ["", "配送中ing", "一二三四五六", "已 发货", "OK"],
}


def test_every_type_has_examples() -> None:
    assert set(VALID) == set(INVALID) == KEY_TYPES


@pytest.mark.parametrize(
    ("key", "expected"),
    [("thing1", "thing"), ("character_string2", "character_string"), ("phrase3", "phrase"), ("time4", "time"),
     ("date5", "date"), ("amount6", "amount"), ("number7", "number"), ("letter8", "letter"), ("symbol9", "symbol"),
     ("phone_number10", "phone_number"), ("car_number11", "car_number"), ("name12", "name"),
     ("thing", None), ("foo1", None), ("Thing1", None), ("character1", None), ("", None)],
)
def test_key_type(key: str, expected: str | None) -> None:
    assert key_type(key) == expected


@pytest.mark.parametrize(("kind", "value"), [(k, v) for k, values in VALID.items() for v in values])
def test_valid_values(kind: str, value: str) -> None:
    assert violation(kind, value) is None
    assert fit(kind, value) == value  # valid values pass through untouched


@pytest.mark.parametrize(("kind", "value"), [(k, v) for k, values in INVALID.items() for v in values])
def test_invalid_values(kind: str, value: str) -> None:
    reason = violation(kind, value)
    assert isinstance(reason, str) and reason


def test_unknown_type_is_a_violation() -> None:
    assert violation("colour", "red") is not None
    with pytest.raises(ValueError):
        fit("colour", "red")


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("thing", "一" * 30, "一" * 19 + "…"),
        ("thing", "第一行\n第二行", "第一行 第二行"),
        ("character_string", "SO 2024/0001 订单", "SO2024/0001"),
        ("character_string", "ＳＯ１２", "SO12"),
        ("character_string", "x" * 40, "x" * 32),
        ("phrase", "已发货 (shipped)", "已发货"),
        ("phrase", "正在生产中请稍候", "正在生产中"),
        ("name", "Li Lei", "LiLei"),
        ("name", "欧阳" * 6, "欧阳" * 5),
        ("number", "共 1,234.5 件", "1234.5"),
        ("number", "12.", "12"),
        ("letter", "abc-123-def", "abcdef"),
        ("symbol", "a!b@c#d$e%f^", "!@#$%"),
        ("amount", "1,234.50", "¥1234.50"),
        ("amount", "$ 12", "$12"),
        ("phone_number", "138 0013 8000", "13800138000"),
        ("car_number", "粤a 12345", "粤A12345"),
        ("time", "2024-05-01T09:05:00+08:00", "2024年5月1日 09:05"),
        ("time", "2024-05-01 09:05 ~ 2024-05-01 18:00", "2024-05-01 09:05 ~ 2024-05-01 18:00"),
        ("time", "2024/05/01 9:05~2024/05/02 18:00", "2024年5月1日 09:05~2024年5月2日 18:00"),
        ("date", "2024-05-01T09:05:00Z", "2024年5月1日 09:05"),
        ("date", "2024/5/1", "2024年5月1日"),
    ],
)
def test_fit_shortens_and_cleans(kind: str, value: str, expected: str) -> None:
    assert violation(kind, value) is not None or value == expected
    fitted = fit(kind, value)
    assert fitted == expected
    assert violation(kind, fitted) is None


@pytest.mark.parametrize(
    ("kind", "value"),
    [("time", "明天下午"), ("time", "2024-02-30 10:00"), ("time", "2024-05-01"), ("date", "15:01"),
     ("date", "someday"), ("number", "无"), ("number", "1" * 33), ("amount", "¥12345678901"),
     ("amount", "免费"), ("phone_number", "1" * 18), ("car_number", "粤A123456789"), ("phrase", "OK"),
     ("name", "123"), ("thing", "   "), ("character_string", "订单"), ("letter", "123"), ("symbol", "abc")],
)
def test_fit_refuses_what_cannot_be_fixed(kind: str, value: str) -> None:
    with pytest.raises(ValueError):
        fit(kind, value)


@given(kind=st.sampled_from(sorted(KEY_TYPES)), value=st.text(max_size=60))
@example(kind="time", value="0:00~0:00")
@example(kind="amount", value="￥0元")
@example(kind="thing", value="\x00" * 25)
def test_fit_either_refuses_or_returns_a_valid_value(kind: str, value: str) -> None:
    try:
        fitted = fit(kind, value)
    except ValueError:
        return
    assert violation(kind, fitted) is None


_NUMBERISH = st.text(alphabet="0123456789., ¥$元-:年月日~T", max_size=40)


@given(kind=st.sampled_from(["number", "amount", "time", "date", "phone_number"]), value=_NUMBERISH)
def test_fit_on_number_like_text(kind: str, value: str) -> None:
    try:
        fitted = fit(kind, value)
    except ValueError:
        return
    assert violation(kind, fitted) is None
