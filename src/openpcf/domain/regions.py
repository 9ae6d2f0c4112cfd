"""China's provincial-level divisions: ISO 3166-2 code, GB/T 2260 code, names in both languages.

Codes: ISO 3166-2:CN as amended in 2017 (letter codes, e.g. CN-JS); administrative division
codes from GB/T 2260 (the six-digit `adcode` the boundary data is keyed by). Taiwan, Hong Kong
and Macao are listed as China's standard map shows them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Province:
    code: str  # ISO 3166-2, e.g. CN-JS
    adcode: str  # GB/T 2260, e.g. 320000
    zh: str
    en: str
    kind: str  # province | municipality | autonomous region | SAR

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


PROVINCES: tuple[Province, ...] = tuple(
    Province(*row)
    for row in (
        ("CN-BJ", "110000", "北京", "Beijing", "municipality"),
        ("CN-TJ", "120000", "天津", "Tianjin", "municipality"),
        ("CN-HE", "130000", "河北", "Hebei", "province"),
        ("CN-SX", "140000", "山西", "Shanxi", "province"),
        ("CN-NM", "150000", "内蒙古", "Inner Mongolia", "autonomous region"),
        ("CN-LN", "210000", "辽宁", "Liaoning", "province"),
        ("CN-JL", "220000", "吉林", "Jilin", "province"),
        ("CN-HL", "230000", "黑龙江", "Heilongjiang", "province"),
        ("CN-SH", "310000", "上海", "Shanghai", "municipality"),
        ("CN-JS", "320000", "江苏", "Jiangsu", "province"),
        ("CN-ZJ", "330000", "浙江", "Zhejiang", "province"),
        ("CN-AH", "340000", "安徽", "Anhui", "province"),
        ("CN-FJ", "350000", "福建", "Fujian", "province"),
        ("CN-JX", "360000", "江西", "Jiangxi", "province"),
        ("CN-SD", "370000", "山东", "Shandong", "province"),
        ("CN-HA", "410000", "河南", "Henan", "province"),
        ("CN-HB", "420000", "湖北", "Hubei", "province"),
        ("CN-HN", "430000", "湖南", "Hunan", "province"),
        ("CN-GD", "440000", "广东", "Guangdong", "province"),
        ("CN-GX", "450000", "广西", "Guangxi", "autonomous region"),
        ("CN-HI", "460000", "海南", "Hainan", "province"),
        ("CN-CQ", "500000", "重庆", "Chongqing", "municipality"),
        ("CN-SC", "510000", "四川", "Sichuan", "province"),
        ("CN-GZ", "520000", "贵州", "Guizhou", "province"),
        ("CN-YN", "530000", "云南", "Yunnan", "province"),
        ("CN-XZ", "540000", "西藏", "Tibet (Xizang)", "autonomous region"),
        ("CN-SN", "610000", "陕西", "Shaanxi", "province"),
        ("CN-GS", "620000", "甘肃", "Gansu", "province"),
        ("CN-QH", "630000", "青海", "Qinghai", "province"),
        ("CN-NX", "640000", "宁夏", "Ningxia", "autonomous region"),
        ("CN-XJ", "650000", "新疆", "Xinjiang", "autonomous region"),
        ("CN-TW", "710000", "台湾", "Taiwan", "province"),
        ("CN-HK", "810000", "香港", "Hong Kong", "SAR"),
        ("CN-MO", "820000", "澳门", "Macao", "SAR"),
    )
)
BY_CODE: dict[str, Province] = {p.code: p for p in PROVINCES}
NATIONAL = "CN"


def province(code: str) -> Province | None:
    return BY_CODE.get(code.strip().upper())


def region_name(code: str, lang: str) -> str:
    """A region's name in `lang` ('中国' / 'China' for CN); the code itself when unknown."""
    if code.strip().upper() == NATIONAL:
        return "中国" if lang == "zh" else "China"
    p = province(code)
    return p.name(lang) if p else code
