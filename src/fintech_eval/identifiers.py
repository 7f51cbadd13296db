"""Chinese registration identifiers an institution register carries, checked as pure functions that return why a
value is wrong (``None`` when it is right), so that the register reader and the store report the same rule.

* the unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from the 31-character alphabet
  ``0-9ABCDEFGHJKLMNPQRTUWXY`` (no I, O, S, V, Z); characters 3-8 are the GB/T 2260 division code of the
  registration authority; the 18th is a check character: with ``C_i`` the alphabet index of character ``i``
  (``i = 1..17``) and weight ``W_i = 3^(i-1) mod 31``, the check is the character of index
  ``31 - (Σ C_i·W_i mod 31)``, where 31 stands for 0;
* the registration authority's division (characters 3-8 of the credit code, :func:`credit_division`): its
  first two digits name the province of the authority that issued the code, ``10`` a national one
  (``100000``, e.g. the State Administration for Market Regulation registering a national bank); compared with
  the institution's registered province by :func:`credit_province_mismatch`;
* a city code (GB/T 2260): six digits whose first two are a province's code and whose middle two are not
  ``00`` (``440000`` is Guangdong itself, ``440300`` Shenzhen). Only the province prefix is checked against a
  table: the shipped GB/T 2260 table lists provinces, not prefectures.
"""

from __future__ import annotations

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28


def credit_check_char(first17: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters of a unified social credit code."""
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(value: str) -> str:
    """Upper case, spaces removed (codes are printed in upper case; a lower-case copy is the same code)."""
    return "".join(str(value).split()).upper()


def credit_code_problem(code: str, lang: str = "en") -> str | None:
    """Why ``code`` (normalised) is not a GB 32100-2015 unified social credit code, or ``None``; ``lang``: the
    language of the reason (``en`` or ``zh``, the same values in both)."""
    zh = lang == "zh"
    if len(code) != 18:
        return (f"credit_code {code!r} 有 {len(code)} 个字符，不是 18 个（GB 32100-2015）" if zh else
                f"credit_code {code!r} has {len(code)} characters, not 18 (GB 32100-2015)")
    wrong = sorted({c for c in code if c not in CREDIT_ALPHABET})
    if wrong:
        return (f"credit_code {code!r} 含有 GB 32100-2015 字符集 {CREDIT_ALPHABET} 以外的字符 {', '.join(wrong)}"
                "（不使用 I、O、S、V、Z）" if zh else
                f"credit_code {code!r} has character(s) {', '.join(wrong)} outside the GB 32100-2015 alphabet "
                f"{CREDIT_ALPHABET} (no I, O, S, V or Z)")
    if not code[2:8].isdigit():
        return (f"credit_code {code!r}：第 3-8 位（{code[2:8]}）不是六位 GB/T 2260 行政区划代码" if zh else
                f"credit_code {code!r}: characters 3-8 ({code[2:8]}) are not a six-digit GB/T 2260 division code")
    expected = credit_check_char(code[:17])
    if code[17] != expected:
        return (f"credit_code {code!r}：校验码 {code[17]!r} 与 GB 32100-2015 由前 17 位算出的 {expected!r} 不符，"
                "可能有字符录入错误" if zh else
                f"credit_code {code!r}: check character {code[17]!r} does not match the one GB 32100-2015 computes "
                f"from the first 17 ({expected!r}); a character was probably mistyped")
    return None


#: the division code of a national registration authority (GB/T 2260's 100000 is not a province)
NATIONAL_DIVISION = "10"


def credit_division(code: str) -> str:
    """Characters 3-8 of a unified social credit code: the GB/T 2260 division code of the registration
    authority that issued it (GB 32100-2015 §4.2)."""
    return code[2:8]


def credit_province_mismatch(code: str, province: str | None) -> str | None:
    """The province (two digits) of the authority that issued ``code`` when it is not ``province``, else
    ``None``: nothing to compare when the code was issued nationally (division ``100000``), when the
    province is blank, or when the code is not a valid one (its own check reports that)."""
    if not province or credit_code_problem(code) is not None:
        return None
    issued = credit_division(code)[:2]
    return None if issued in (NATIONAL_DIVISION, province) else issued


def city_code_problem(code: str, provinces: set[str], lang: str = "en") -> str | None:
    """Why ``code`` is not a GB/T 2260 city code of one of ``provinces`` (two-digit codes), or ``None``; ``lang``:
    the language of the reason (``en`` or ``zh``)."""
    zh = lang == "zh"
    if len(code) != 6 or not code.isdigit():
        return (f"city_code {code!r} 不是六位 GB/T 2260 代码（如深圳为 440300）" if zh else
                f"city_code {code!r} is not a six-digit GB/T 2260 code (e.g. 440300 for Shenzhen)")
    if code[:2] not in provinces:
        return (f"city_code {code!r}：{code[:2]} 不是 GB/T 2260 省级代码" if zh else
                f"city_code {code!r}: {code[:2]} is not a GB/T 2260 province code")
    if code[2:4] == "00":
        return (f"city_code {code!r} 是省级代码，不是地市代码（如 {code[:2]}01xx）" if zh else
                f"city_code {code!r} is a province's own code, not a city's (e.g. {code[:2]}01xx)")
    return None
