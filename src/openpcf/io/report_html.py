"""The footprint study report as one self-contained HTML page (CSS and SVG charts inline), laid out
as an ISO 14067 / GB/T 24067 CFP study report. The PDF (`report_pdf`) prints this same page.

The report renders a `Result` and never recomputes it. What a result does not hold (the profile's
and product rule's texts, the model's boundary, the certificate) comes in a `ReportContext`,
filled by the CLI or web layer from the rule catalogue and the certification records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from openpcf.domain.methodology import ProductRule, Profile
from openpcf.domain.result import Result
from openpcf.io import charts
from openpcf.io.label import (
    STANDARD_NAMES,
    CertificateSummary,
    declared_unit_text,
    label_svg,
    label_value,
    product_page_url,
    status_text,
)

TEMPLATES = Path(__file__).parent / "templates" / "report"
LANGS = ("en", "zh")

#: The numbered sections, in order; the PDF test counts them.
SECTIONS = (
    "goal",
    "unit",
    "boundary",
    "data",
    "results",
    "electricity",
    "allocation",
    "uncertainty",
    "limitations",
    "certificate",
    "reproducibility",
)


@dataclass(frozen=True)
class ReportContext:
    """What the report shows beyond the result itself."""

    certificate: CertificateSummary | None = None
    profile: Profile | None = None
    rule: ProductRule | None = None
    boundary: str | None = None  # the model's system boundary, when the model is at hand
    generated: datetime = field(default_factory=lambda: datetime.now(UTC))
    public_url: str = "http://127.0.0.1:8000"


TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Carbon footprint study report",
        "subtitle": "Product carbon footprint (CFP) quantified per ISO 14067 / GB/T 24067",
        "per": "per",
        "declared_unit": "declared unit",
        "du_label": "Declared unit",
        "draft": "Draft — not certified",
        "certified": "Certified",
        "s_goal": "Goal and scope",
        "s_unit": "Declared unit",
        "s_boundary": "System boundary and cut-off",
        "s_data": "Data sources and data quality",
        "s_results": "Results",
        "s_electricity": "Electricity",
        "s_allocation": "Allocation",
        "s_uncertainty": "Uncertainty",
        "s_limitations": "Limitations",
        "s_certificate": "Certificate",
        "s_reproducibility": "Reproducibility",
        "goal_text": "This study quantifies the carbon footprint of {product} per declared unit "
        "({unit}), following {standard}. It is intended for the product's carbon footprint "
        "declaration, its carbon label and disclosure to customers; the results apply to the "
        "product, site and period described by the model, and are not a comparison with other "
        "products.",
        "product": "Product",
        "product_id": "Product id",
        "standard": "Standard (profile)",
        "rule": "Product rule",
        "rule_general": "general (the model names no product rule)",
        "boundary": "System boundary",
        "boundary_unknown": "not recorded in the result; stages covered: {stages}",
        "gwp": "Characterisation",
        "gwp_value": "{gwp} GWP100 (IPCC)",
        "factor_set": "Factor set",
        "date": "Report date",
        "unit_text": "Results are expressed in kg CO2e per {unit} of product.",
        "unit_rule": "The product rule {rule} declares the unit as {unit}.",
        "unit_cfp": "A cradle-to-gate or gate-to-gate boundary gives a partial CFP (ISO 14067).",
        "stages_in": "Life-cycle stages included",
        "stage": "Stage",
        "share": "Share",
        "excluded_stages": "Stages the profile leaves out of the declared footprint",
        "none": "none",
        "excluded_title": "Left out of the total, with its estimate",
        "excluded_none": "Nothing computed was left out of the total.",
        "item": "Item",
        "estimate": "Estimate",
        "cutoff": "Cut-off criterion",
        "cutoff_none": "No numeric cut-off: every input in the model is quantified.",
        "cutoff_value": "Inputs may be left out up to {share} of the total (in aggregate).",
        "primary": "Primary (site-specific) data",
        "primary_text": "{share} of the footprint comes from primary data (supplier-specific "
        "footprints, measured direct emissions and site data); the rest from secondary factors.",
        "dq_title": "Data-quality ratings",
        "dq_text": "Contribution-weighted pedigree ratings from 1 (very good) to 5 (very poor).",
        "dq_none": "No data-quality ratings were given for the inputs.",
        "indicator": "Indicator",
        "rating": "Rating",
        "factors_title": "Emission factors used",
        "factor": "Factor",
        "source": "Source",
        "year": "Year",
        "region": "Region",
        "version": "Version",
        "flags": "Flags",
        "total": "Total",
        "headline": "Carbon footprint",
        "by_stage": "By life-cycle stage",
        "by_input": "By input (hotspots)",
        "input": "Input",
        "kind": "Kind",
        "other_inputs": "Other inputs ({n})",
        "flow": "Flow of the footprint",
        "by_gas": "By greenhouse gas",
        "gas": "Gas",
        "gas_co2e_note": "“CO2e” is the part computed from factors given in CO2e only, not "
        "split by gas.",
        "origins": "Fossil, biogenic and land-use change (dLUC)",
        "origin": "Origin",
        "inventory": "Inventory of flows (mass)",
        "kg": "kg",
        "fig_waterfall": "Life cycle, stage by stage to the total",
        "fig_stages": "Share of each stage",
        "fig_inputs": "Largest inputs",
        "fig_sankey": "Inputs through stages to the total",
        "fig_gases": "Gas split",
        "fig_origins": "Origins",
        "fig_dq": "Data-quality ratings",
        "grid_basis": "Grid average",
        "grid_footprint": "life-cycle electricity carbon-footprint factor (CO2e)",
        "grid_co2": "grid CO2 emission factor",
        "accepts": "Evidence accepted in place of the grid average",
        "elec_inputs": "Electricity inputs",
        "elec_none": "The model has no electricity input of its own.",
        "elec_notes": "Notes on electricity",
        "allocation_used": "Allocation applied",
        "allocation_hierarchy": "Hierarchy of the standard",
        "allocation_rule": "Method the product rule requires",
        "unc_none": "Uncertainty was not assessed for this result (run `openpcf calc MODEL "
        "--uncertainty N` for a Monte Carlo analysis).",
        "iterations": "Iterations (seed)",
        "mean": "Mean",
        "sd": "Standard deviation",
        "median": "Median",
        "interval": "95% interval",
        "method": "Method",
        "variance": "Contributions to variance",
        "notes": "Notes on the calculation",
        "code": "Code",
        "message": "Message",
        "flagged": "Factors flagged in their source data",
        "flagged_none": "No factor used is flagged.",
        "violations": "Breaches of the product rule or profile",
        "violations_none": "No breach of the product rule or profile.",
        "fix": "Fix",
        "verify": "Settings of the standard not yet confirmed against its text (VERIFY)",
        "general_limits": "The footprint is an estimate of the product's life-cycle greenhouse "
        "gas emissions and removals under the stated choices; it does not address other "
        "environmental impacts.",
        "cert_none": "This footprint is not certified. The report is a draft for review; it is "
        "not a certified claim and its label is marked as such.",
        "cert_id": "Certificate id",
        "status": "Status",
        "verifier": "Verifier",
        "issued": "Issued",
        "valid_until": "Valid until",
        "fingerprint": "Signing key fingerprint",
        "signature": "Signature",
        "public_page": "Public product page",
        "software": "Software",
        "input_hash": "Input hash (SHA-256)",
        "factor_sets": "Factor sets",
        "profile_version": "Profile version",
        "files": "Model files",
        "repro_text": "The same model files, factor sets and profile reproduce this result "
        "exactly; the input hash identifies the files.",
        "page": "Page",
        "of": "of",
        "label": "Carbon label",
    },
    "zh": {
        "title": "产品碳足迹研究报告",
        "subtitle": "依据 GB/T 24067 / ISO 14067 量化的产品碳足迹（CFP）",
        "per": "每",
        "declared_unit": "声明单位",
        "du_label": "声明单位",
        "draft": "草稿 — 未认证",
        "certified": "已认证",
        "s_goal": "目的与范围",
        "s_unit": "声明单位",
        "s_boundary": "系统边界与取舍准则",
        "s_data": "数据来源与数据质量",
        "s_results": "结果",
        "s_electricity": "电力",
        "s_allocation": "分配",
        "s_uncertainty": "不确定性",
        "s_limitations": "局限性",
        "s_certificate": "证书",
        "s_reproducibility": "可复现性",
        "goal_text": "本研究依据{standard}，量化{product}每声明单位（{unit}）的碳足迹，用于该产品的"
        "碳足迹声明、碳标签及向客户披露。结果适用于模型所描述的产品、场地与时期，不作为与其他产品的比较。",
        "product": "产品",
        "product_id": "产品标识",
        "standard": "标准（方法学）",
        "rule": "产品规则",
        "rule_general": "通用（模型未指定产品规则）",
        "boundary": "系统边界",
        "boundary_unknown": "结果中未记录；涵盖阶段：{stages}",
        "gwp": "特征化因子",
        "gwp_value": "{gwp} GWP100（IPCC）",
        "factor_set": "因子集",
        "date": "报告日期",
        "unit_text": "结果以每{unit}产品的 kg CO2e 表示。",
        "unit_rule": "产品规则 {rule} 规定的声明单位为 {unit}。",
        "unit_cfp": "“从摇篮到大门”或“从大门到大门”的边界给出部分碳足迹（ISO 14067）。",
        "stages_in": "纳入的生命周期阶段",
        "stage": "阶段",
        "share": "占比",
        "excluded_stages": "方法学排除在声明碳足迹之外的阶段",
        "none": "无",
        "excluded_title": "未计入总量的部分及其估算值",
        "excluded_none": "计算所得的各部分均已计入总量。",
        "item": "项目",
        "estimate": "估算值",
        "cutoff": "取舍准则",
        "cutoff_none": "无数值取舍阈值：模型中的所有输入均已量化。",
        "cutoff_value": "被舍去的输入合计不超过总量的 {share}。",
        "primary": "初级（现场）数据",
        "primary_text": "碳足迹的 {share} 来自初级数据（供应商碳足迹、实测直接排放与现场数据），其余来自次级排放因子。",
        "dq_title": "数据质量评级",
        "dq_text": "按贡献加权的谱系评级，1（很好）至 5（很差）。",
        "dq_none": "各输入均未给出数据质量评级。",
        "indicator": "指标",
        "rating": "评级",
        "factors_title": "所用排放因子",
        "factor": "因子",
        "source": "来源",
        "year": "年份",
        "region": "地区",
        "version": "版本",
        "flags": "标记",
        "total": "合计",
        "headline": "碳足迹",
        "by_stage": "按生命周期阶段",
        "by_input": "按输入（热点）",
        "input": "输入",
        "kind": "类型",
        "other_inputs": "其他输入（{n} 项）",
        "flow": "碳足迹流向",
        "by_gas": "按温室气体",
        "gas": "气体",
        "gas_co2e_note": "“CO2e”为仅以 CO2e 给出、未分气体的排放因子所计算的部分。",
        "origins": "化石、生物源与直接土地利用变化（dLUC）",
        "origin": "来源类别",
        "inventory": "清单流（质量）",
        "kg": "kg",
        "fig_waterfall": "生命周期各阶段累计至总量",
        "fig_stages": "各阶段占比",
        "fig_inputs": "贡献最大的输入",
        "fig_sankey": "从输入经各阶段到总量",
        "fig_gases": "气体构成",
        "fig_origins": "来源类别",
        "fig_dq": "数据质量评级",
        "grid_basis": "电网平均",
        "grid_footprint": "电力碳足迹因子（全生命周期，CO2e）",
        "grid_co2": "电网 CO2 排放因子",
        "accepts": "可替代电网平均值的证明",
        "elec_inputs": "电力输入",
        "elec_none": "模型本身没有电力输入。",
        "elec_notes": "电力相关说明",
        "allocation_used": "采用的分配",
        "allocation_hierarchy": "标准规定的分配顺序",
        "allocation_rule": "产品规则要求的方法",
        "unc_none": "本结果未做不确定性分析（运行 `openpcf calc MODEL --uncertainty N` 进行蒙特卡洛分析）。",
        "iterations": "迭代次数（种子）",
        "mean": "均值",
        "sd": "标准差",
        "median": "中位数",
        "interval": "95% 区间",
        "method": "方法",
        "variance": "方差贡献",
        "notes": "计算说明",
        "code": "代码",
        "message": "说明",
        "flagged": "来源数据中带标记的因子",
        "flagged_none": "所用因子均无标记。",
        "violations": "违反产品规则或方法学之处",
        "violations_none": "未违反产品规则或方法学。",
        "fix": "修正方法",
        "verify": "尚未与标准原文核对的设定（VERIFY）",
        "general_limits": "碳足迹是在所述选择下对产品生命周期温室气体排放与清除的估算，不涉及其他环境影响。",
        "cert_none": "该碳足迹未经认证。本报告为供审阅的草稿，不构成认证声明，其标签亦标明未认证。",
        "cert_id": "证书编号",
        "status": "状态",
        "verifier": "核查机构",
        "issued": "签发日期",
        "valid_until": "有效期至",
        "fingerprint": "签名密钥指纹",
        "signature": "签名",
        "public_page": "公开产品页面",
        "software": "软件",
        "input_hash": "输入哈希（SHA-256）",
        "factor_sets": "因子集",
        "profile_version": "方法学版本",
        "files": "模型文件",
        "repro_text": "相同的模型文件、因子集与方法学可完全复现本结果；输入哈希用于识别文件。",
        "page": "第",
        "of": "页，共",
        "label": "碳标签",
    },
}

_STAGE_ZH = dict(charts.LABELS_ZH.stages)
_STAGE_EN = dict(charts.LABELS_EN.stages)
_BOUNDARY = {
    "en": {"cradle-to-gate": "cradle to gate", "cradle-to-grave": "cradle to grave",
           "gate-to-gate": "gate to gate"},
    "zh": {"cradle-to-gate": "从摇篮到大门", "cradle-to-grave": "从摇篮到坟墓",
           "gate-to-gate": "从大门到大门"},
}  # fmt: skip
_EXCLUDED_ZH = {"biogenic CO2": "生物源 CO2", "land-use change": "土地利用变化"}


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = charts.fmt
    env.filters["pct"] = charts.pct
    return env


def _electricity_notes(result: Result) -> list:
    words = ("ELECTRICITY", "GRID", "CERTIFICATE", "GREEN", "DIRECT_CONNECTION", "PPA")
    return [n for n in result.warnings if any(w in n.code for w in words)]


def report_context_data(result: Result, lang: str, ctx: ReportContext) -> dict:
    """Everything the template prints, derived from the result and the context."""
    if lang not in LANGS:
        raise ValueError(f"report language '{lang}': expected one of {', '.join(LANGS)}")
    t = TEXT[lang]
    labels = charts.chart_labels(lang)
    stage_names = _STAGE_ZH if lang == "zh" else _STAGE_EN
    standard = ctx.profile.name if ctx.profile else STANDARD_NAMES.get(result.profile,
                                                                         result.profile)  # fmt: skip
    du = declared_unit_text(result)
    by_input = sorted(result.contributions, key=lambda c: abs(c.kg_co2e), reverse=True)[:15]
    flagged = [f for f in result.factors if f.flags]
    verify: list[tuple[str, str, str]] = []
    for owner in (ctx.profile, ctx.rule):
        if owner is not None:
            for c in owner.sources:
                if c.flags:
                    verify.append((owner.id, c.topic, c.source))
    boundary = ctx.boundary or (ctx.rule.boundary if ctx.rule else None)
    stages_list = ", ".join(stage_names.get(s, s) for s in result.stages)
    cert = ctx.certificate
    cert_status = status_text(cert.status) if cert else None
    svg_charts = {k: Markup(v) for k, v in charts.all_charts(result, lang).items()}
    label = label_svg(result, certificate=cert, public_url=ctx.public_url)
    return {
        "t": t,
        "lang": lang,
        "r": result,
        "ctx": ctx,
        "sections": SECTIONS,
        "standard": standard,
        "standard_short": STANDARD_NAMES.get(result.profile, standard),
        "du": du,
        "value_label": label_value(result.pcf.value),
        "stage_names": stage_names,
        "stage_colours": charts.STAGE_COLOURS,
        "stages": [(s, result.stages[s]) for s in charts._ordered_stages(result.stages)],
        "by_input": by_input,
        "rest": result.pcf.value - sum(c.kg_co2e for c in by_input),
        "rest_n": len(result.contributions) - len(by_input),
        "gases": sorted(result.gases.items(), key=lambda kv: (kv[0] == "CO2e", -abs(kv[1]))),
        "origin_names": labels.origins,
        "excluded": [
            (
                _EXCLUDED_ZH.get(k, stage_names.get(k, k))
                if lang == "zh"
                else stage_names.get(k, k),
                v,
            )
            for k, v in result.excluded.items()
        ],
        "boundary": _BOUNDARY[lang].get(boundary, boundary) if boundary else None,
        "boundary_unknown": t["boundary_unknown"].format(stages=stages_list),
        "partial": boundary != "cradle-to-grave",
        "electricity": [c for c in result.contributions if c.kind == "electricity"],
        "electricity_notes": _electricity_notes(result),
        "flagged": flagged,
        "verify": verify,
        "dq_rows": [(labels.dq[k], getattr(result.data_quality, k)) for k in charts._DQ_KEYS]
        if result.data_quality
        else [],
        "charts": svg_charts,
        "label": Markup(label),
        "cert": cert,
        "cert_status": cert_status,
        "cert_url": product_page_url(ctx.public_url, cert.id) if cert else None,
        "generated": ctx.generated.strftime("%Y-%m-%d"),
        "goal_text": t["goal_text"].format(product=result.product, unit=du, standard=standard),
    }


def render_report_html(result: Result, lang: str = "en", ctx: ReportContext | None = None) -> str:
    """The study report as a standalone HTML document (screen and print styles inline)."""
    data = report_context_data(result, lang, ctx or ReportContext())
    css = (TEMPLATES / "report.css").read_text("utf-8")
    return _environment().get_template("report.html.j2").render(css=Markup(css), **data)
