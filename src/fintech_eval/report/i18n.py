"""Every label, title and explanation of the reports in Chinese and English, and numbers per locale.

``t("total_score", "zh")`` → ``"总分"``; ``t("rank_of", "en", rank=3, n=51)`` → ``"3 of 51"``. A missing key
or language is an error at once (a KeyError naming it), never an English fallback in a Chinese report.

Numbers: both locales group thousands with commas (the usage of Chinese financial statements);
amounts in yuan are shown in 亿元 (zh) / CNY 100 million (en) or 万元 / CNY 10 thousand; percentages
take a value in [0, 1] (``fmt_pct(0.123)`` → ``"12.3%"``); missing values print as an em dash.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import pandas as pd

LANGS: tuple[str, ...] = ("zh", "en")
MISSING = "—"

# key → (zh, en). Placeholders are str.format fields.
_T: dict[str, tuple[str, str]] = {
    # report kinds and their titles
    "kind.scorecard": ("机构评价记分卡", "Entity scorecard"),
    "kind.ranking": ("总体排名报告", "Ranking report"),
    "kind.region": ("区域评价报告", "Regional report"),
    "title.scorecard": ("{entity} 评价记分卡", "Scorecard: {entity}"),
    "title.ranking": ("{name}：总体排名", "{name}: overall ranking"),
    "title.region": ("{name}：分省（区、市）结果", "{name}: results by province"),
    "subtitle": ("评价：{name}　|　生成时间：{date}　|　fintech-eval {version}",
                 "Evaluation: {name}  |  generated {date}  |  fintech-eval {version}"),
    "period_label": ("评价期：{period}", "Period: {period}"),
    "toc": ("目录", "Contents"),
    # sections
    "sec.summary": ("概览", "Summary"),
    "sec.scores": ("各层级得分与排名", "Scores and ranks at every level"),
    "sec.radar": ("一级指标得分与{ref}对比", "Level-1 scores against the {ref}"),
    "sec.distribution": ("得分分布", "Score distributions"),
    "sec.strengths": ("优势与短板指标", "Strengths and weaknesses"),
    "sec.trend": ("同比变化", "Year-on-year change"),
    "sec.gaps": ("数据缺失与插补", "Data gaps and imputed values"),
    "sec.ranking": ("总体排名", "Overall ranking"),
    "sec.groups": ("分组比较", "Comparison by group"),
    "sec.map": ("分省（区、市）得分地图", "Map of scores by province"),
    "sec.region_table": ("分省（区、市）得分与排名", "Scores and ranks by province"),
    "sec.macro": ("四大区域比较", "The four macro-regions"),
    "sec.unresolved": ("未能识别的地区名称", "Region names not resolved"),
    "sec.availability": ("数据完整性", "Data availability"),
    "sec.appendix": ("方法附录", "Method appendix"),
    "sec.tree": ("指标体系与权重", "Framework and weights"),
    "sec.spec": ("评价设定（spec.yaml）", "Evaluation spec (spec.yaml)"),
    "sec.treatment": ("异常值处理记录", "Outlier treatment log"),
    "sec.imputation": ("插补记录", "Imputation log"),
    "sec.sources": ("数据来源", "Data sources"),
    "sec.software": ("软件版本与可复现性", "Software version and reproducibility"),
    "sec.warnings": ("运行警告", "Run warnings"),
    "sec.records": ("其他过程记录", "Other stage records"),
    # key figures
    "total_score": ("总分", "Total score"),
    "overall_rank": ("总排名", "Overall rank"),
    "group_rank": ("组内排名（{group}）", "Rank within {group}"),
    "rank_interval": ("排名区间（{pct} 的合理选择）", "Rank interval ({pct} of plausible choices)"),
    "interval_sentence": ("排名第 {rank}，{pct} 的合理方法选择使其排名位于第 {lo} 至 {hi} 名之间",
                          "rank {rank}, {pct} of plausible choices put it between {lo} and {hi}"),
    "rank_of": ("第 {rank} 名 / 共 {n} 个", "{rank} of {n}"),
    "change_prev": ("较上期变化", "Change on the previous period"),
    "n_units": ("参评单位数", "Units evaluated"),
    "n_indicators": ("指标数", "Indicators"),
    "median_score": ("总分中位数", "Median total score"),
    "top_unit": ("第一名", "Ranked first"),
    "provinces_covered": ("覆盖省（区、市）数", "Provinces covered"),
    "best_province": ("得分最高地区", "Highest-scoring province"),
    "data_coverage": ("原始数据完整率", "Raw data coverage"),
    "imputed_cells": ("插补值个数", "Imputed values"),
    # table columns
    "col.rank": ("排名", "Rank"),
    "col.code": ("代码", "Code"),
    "col.name": ("名称", "Name"),
    "col.unit": ("单位", "Unit"),
    "col.score": ("得分", "Score"),
    "col.level": ("层级", "Level"),
    "col.parent": ("上级", "Parent"),
    "col.weight": ("权重（同级）", "Weight (within parent)"),
    "col.eff_weight": ("有效权重（占总分）", "Effective weight (in the total)"),
    "col.direction": ("方向", "Direction"),
    "col.group_rank": ("组内排名", "Rank in group"),
    "col.group": ("分组", "Group"),
    "col.median": ("全体中位数", "Median (all)"),
    "col.group_median": ("组中位数", "Group median"),
    "col.diff_median": ("与中位数之差", "Difference from median"),
    "col.of": ("参评数", "Out of"),
    "col.raw_value": ("原始值", "Raw value"),
    "col.flag": ("标记", "Flag"),
    "col.period": ("期间", "Period"),
    "col.change": ("变化", "Change"),
    "col.rank_change": ("名次变化", "Rank change"),
    "col.province": ("省（区、市）", "Province"),
    "col.province_code": ("行政区划代码", "GB/T 2260 code"),
    "col.macro_region": ("区域", "Macro-region"),
    "col.count": ("数量", "Count"),
    "col.mean": ("平均分", "Mean score"),
    "col.best": ("最高分", "Best score"),
    "col.value": ("值", "Value"),
    "col.method": ("方法", "Method"),
    "col.source": ("依据", "Source"),
    "col.indicator": ("指标", "Indicator"),
    "col.status": ("状态", "Status"),
    "col.coverage": ("数据完整率", "Coverage"),
    "col.n_imputed": ("插补个数", "Imputed"),
    "col.rank_lo": ("排名区间（高）", "Rank interval, best"),
    "col.rank_hi": ("排名区间（低）", "Rank interval, worst"),
    "col.file": ("文件", "File"),
    "col.sha256": ("SHA-256", "SHA-256"),
    "col.item": ("项目", "Item"),
    "col.treated": ("是否处理", "Treated"),
    "col.points": ("处理点数", "Points treated"),
    "col.reason": ("原因", "Reason"),
    "col.skew_before": ("处理前偏度", "Skewness before"),
    "col.kurt_before": ("处理前峰度", "Kurtosis before"),
    "col.nwin": ("缩尾点数", "Points winsorised"),
    "col.skew_after": ("处理后偏度", "Skewness after"),
    "col.kurt_after": ("处理后峰度", "Kurtosis after"),
    "col.pass_after": ("处理后通过检验", "Passes after"),
    "col.value_text": ("取值", "Value"),
    # flags and words
    "flag.imputed": ("插补", "imputed"),
    "flag.missing": ("缺失", "missing"),
    "strength": ("优势指标（排名最前）", "Strengths (best-ranked indicators)"),
    "weakness": ("短板指标（排名最后）", "Weaknesses (worst-ranked indicators)"),
    "overall_median": ("全体中位数", "median of all units"),
    "group_median_of": ("{group}组中位数", "{group} median"),
    "entity_series": ("本单位", "This unit"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "direction.pos": ("正向", "positive"),
    "direction.neg": ("逆向", "reverse"),
    "no_data": ("无数据", "no data"),
    "stage": ("阶段", "Stage"),
    "rows_cols": ("{rows} 行 × {cols} 列", "{rows} rows × {cols} columns"),
    # explanations
    "explain.scores": (
        "得分为标准化后逐级加权聚合的结果；排名中 1 为最好，并列取最小名次。",
        "Scores are the normalised values aggregated up the tree with the weights below; rank 1 is best, ties share the lowest rank.",
    ),
    "explain.radar": (
        "雷达图比较本单位的一级指标得分与{ref}；越靠外越好。",
        "The radar compares this unit's level-1 scores with the {ref}; further out is better.",
    ),
    "explain.strengths": (
        "按本单位在各底层指标上的排名选出最靠前和最靠后的 {n} 个指标（与 COINr 的 get_str_weak 相同思路；"
        "取值种类少于参评单位一半的指标不参与）。标记“插补”的值并非实际报送数据。",
        "The {n} indicators where this unit ranks best and worst (as COINr's get_str_weak; indicators whose "
        "values are mostly identical are left out). Values marked 'imputed' were not reported but estimated.",
    ),
    "explain.gaps": (
        "以下指标在原始数据中缺失，评价中使用了插补值（方法见“依据”）。",
        "These indicators were missing in the raw data; the evaluation used imputed values (method in 'Source').",
    ),
    "explain.no_gaps": ("本单位适用指标的原始数据无缺失，未使用插补值。",
                        "No raw value of this unit's applicable indicators was missing; nothing was imputed."),
    "explain.no_panel": (
        "本次评价只有一期数据，无法计算同比变化。",
        "This evaluation has a single period: there is no year-on-year change to show.",
    ),
    "explain.no_interval": ("", ""),
    "explain.interval": (
        "排名区间来自不确定性分析：在标准化、权重、加总等方法的合理变动下，本单位 {pct} 的排名落在此区间内（区间越窄，排名越稳健）。",
        "The rank interval comes from the uncertainty analysis: under plausible changes of normalisation, weights, aggregation and "
        "the other declared choices, {pct} of this unit's ranks fall in it (the narrower, the more robust the rank).",
    ),
    "explain.group_unknown": (
        "分组信息不可得（结果未保存分组），此处以全体中位数作为参照。",
        "Group membership is not available (the result does not carry it): the reference is the median of all units.",
    ),
    "explain.map": (
        "颜色越深得分越高；灰色表示无数据。边界数据来自 echarts@4.9.0（Apache-2.0），仅用于示意；正式发布需使用经审核的地图（审图号）。",
        "Darker means a higher score; grey means no data. Boundaries from echarts@4.9.0 (Apache-2.0), for illustration; "
        "publication in China needs approved map data (with a map review number).",
    ),
    "explain.region_aggregated": (
        "参评单位为机构：按其所属省（区、市）（分组列 {col}）汇总，地图显示各省机构总分的平均值。",
        "The units are institutions: they are summarised by their province (group column {col}); the map shows the mean total score of each province's institutions.",
    ),
    "explain.unresolved": (
        "以下名称无法对应到 31 个省（区、市）之一，未在地图中显示：",
        "These names do not resolve to one of the 31 provincial-level divisions and are not on the map:",
    ),
    "explain.all_resolved": ("全部地区名称均已识别。", "Every region name resolved."),
    "explain.appendix": (
        "本附录列出复现以上数字所需的全部信息：指标体系、评价设定、权重、处理与插补记录、数据来源及软件版本。"
        "以相同的设定和数据运行 `fintech-eval evaluate` 可得到相同结果（见得分文件的 SHA-256）。",
        "This appendix holds everything needed to reproduce the numbers above: the framework, the spec, the weights, "
        "the treatment and imputation logs, the data sources and the software version. Running `fintech-eval evaluate` "
        "with the same spec and data gives the same result (compare the SHA-256 of the scores).",
    ),
    "explain.eff_weight": (
        "有效权重 = 沿指标体系各层同级权重（归一化后）的乘积，即各指标对总分的名义贡献。",
        "Effective weight = the product of the (normalised) sibling weights along the path to the index: each indicator's nominal share of the total.",
    ),
    "explain.no_treatment": ("本次评价未做异常值处理。", "No outlier treatment was applied."),
    "explain.no_imputation": ("本次评价没有插补任何数值。", "No value was imputed."),
    "explain.treatment": (
        "共 {n} 个指标经过处理（缩尾或对数变换）；其余指标保持不变。",
        "{n} indicators were treated (winsorised or log-transformed); the others were left as they were.",
    ),
    "explain.imputation": ("共插补 {n} 个数值，明细如下。", "{n} values were imputed; they are listed below."),
    "explain.sources_frame": (
        "数据由调用方以内存表格（DataFrame）传入，无输入文件。",
        "The data were passed in memory as DataFrames: there is no input file.",
    ),
    "explain.excel": (
        "本工作簿包含报告中的全部表格，以及评价每一阶段的完整数据（每阶段一个工作表）。",
        "This workbook holds every table of the report and every stage's full data set (one sheet per stage).",
    ),
    "explain.ranking": (
        "按总分从高到低排列。",
        "Units ordered by total score, highest first.",
    ),
    "explain.ranking_chart": ("总分前 {n} 名。", "The top {n} by total score."),
    "sec.plan": ("提升路径", "Improvement plan"),
    "sec.gains": ("各指标的提升潜力", "What each indicator would add"),
    "explain.plan": (
        "若以下 {n} 项指标改进至表中数值（各指标在其可行范围内移动相同比例），总分将为 {score}，排名第 {rank}，达到目标：{target}。"
        "每个数字均为以改变后的数据完整重算评价所得。",
        "If the {n} indicator(s) below improve to the values shown (each moved the same share of its feasible room), the "
        "total score becomes {score} and the rank {rank}, reaching the target: {target}. Every figure is an exact re-run of "
        "the evaluation with the changed data.",
    ),
    "explain.plan_met": ("已达到目标：{target}。", "The target is already met: {target}."),
    "explain.plan_none": ("在可行范围内，改进至多 {k} 项指标均无法达到目标：{target}。",
                          "No set of up to {k} indicator(s) within their feasible bounds reaches the target: {target}."),
    "explain.plan_bounds": (
        "可行范围：指标只向改进方向变动（反向指标只降低），最多达到参评单位中的最优观测值，或评价方给定的上下限。",
        "Feasible means: an indicator only moves in its better direction (a reverse indicator only falls), at most to "
        "the best value observed among the units, or to the bounds the evaluator gave.",
    ),
    "explain.gains": (
        "每项指标单独改进至其可行最优值时总分的提升，以及原始值每改进一个单位带来的总分变化（以观测范围的 1% 为步长计算）。",
        "The total score each indicator would add on its own at its feasible bound, and the change of the total per "
        "unit of its raw value (measured with a step of 1% of its observed range).",
    ),
    "target.rank": ("第 {n} 名或更好", "rank {n} or better"),
    "target.group_rank": ("所在组（{group}：{value}）前 {n} 名", "top {n} in its group ({group}: {value})"),
    "target.score": ("总分不低于 {x}", "a total score of {x} or more"),
    "col.now": ("当前值", "Now"),
    "col.to": ("目标值", "To"),
    "col.bound": ("可行最优值", "Best feasible value"),
    "col.share_of_room": ("可行空间占比", "Share of its room"),
    "col.gain_to_bound": ("达到最优值时总分提升", "Gain at its best value"),
    "col.gain_per_unit": ("每单位提升", "Gain per unit"),
    "explain.ranking_intervals": (
        "排名区间来自不确定性分析：在标准化、权重、加总等方法的合理变动下，各单位 {pct} 的排名落在其区间内；"
        "区间宽的单位排名对方法选择敏感，解读时应谨慎。",
        "Rank intervals come from the uncertainty analysis: under plausible changes of normalisation, weights, aggregation "
        "and the other declared choices, {pct} of each unit's ranks fall in its interval; a wide interval means a rank "
        "that depends on the choice of method, to be read with care.",
    ),
    "explain.availability": (
        "原始数据完整率 = 适用指标中已报送原始数据的比例（不适用的指标不计入分母）；插补个数来自插补记录。",
        "Coverage = the share of the applicable indicators whose raw value was reported (not-applicable indicators "
        "are not counted); imputed counts come from the imputation log.",
    ),
    # software and sources
    "software": ("软件", "Software"),
    "scores_sha256": ("得分文件 SHA-256", "SHA-256 of the scores"),
    "data_format": ("数据格式", "Data format"),
    "evaluation_name": ("评价名称", "Evaluation"),
    "datasets": ("各阶段数据集", "Stage data sets"),
    "generated": ("生成时间", "Generated"),
    "excel.contents": ("内容", "Contents"),
    "excel.sheet": ("工作表", "Sheet"),
    # stages and records
    "stage.Raw": ("原始数据", "Raw data"),
    "stage.Denominated": ("分母化", "Denominated"),
    "stage.Screened": ("筛选后", "Screened"),
    "stage.Imputed": ("插补后", "Imputed"),
    "stage.Treated": ("异常值处理后", "Treated"),
    "stage.Normalised": ("标准化后", "Normalised"),
    "stage.Aggregated": ("聚合结果", "Aggregated"),
    "record.impute_log": ("插补记录", "Imputation log"),
    "record.treat_details": ("异常值处理明细", "Treatment details"),
    "record.treat_points": ("异常值处理点", "Treated points"),
    "record.screen_summary": ("筛选摘要", "Screening summary"),
    "record.aggregation_report": ("聚合报告", "Aggregation report"),
    "record.weights": ("权重记录", "Weights record"),
    "record.ahp": ("层次分析法", "AHP"),
    # macro-regions
    "macro.east": ("东部", "East"),
    "macro.central": ("中部", "Central"),
    "macro.west": ("西部", "West"),
    "macro.northeast": ("东北", "Northeast"),
    # chart labels
    "chart.score": ("得分", "Score"),
    "chart.total": ("总分", "Total score"),
    "chart.rank": ("排名", "Rank"),
    "chart.rank_now": ("本次排名", "Rank"),
    "chart.rank_median": ("排名中位数", "Median rank"),
    "chart.rank_band": ("{pct} 区间", "{pct} interval"),
    "chart.rank_intervals": ("前 {n} 名的排名及其 {pct} 区间", "Ranks of the top {n} and their {pct} intervals"),
    "chart.period": ("期间", "Period"),
    "chart.count": ("单位数", "Units"),
    # industry report (one sector, JR/T 0201 block H)
    "kind.industry": ("行业评价报告", "Industry report"),
    "kind.vendor": ("金融科技服务能力评级报告", "Vendor capability rating report"),
    "title.industry": ("{sector}：行业金融科技发展评价", "{sector}: FinTech development of the industry"),
    "sec.h_indicators": ("行业指标（H）得分", "Industry indicators (H)"),
    "sec.h_level1": ("一级指标得分", "Level-1 scores"),
    "sec.industry_trend": ("行业指标历年变化", "Industry indicators over time"),
    "sec.institutions": ("本行业机构得分分布", "Distribution of the sector's institutions"),
    "sec.leaders": ("本行业领先机构（按机构指标 J 总分前 10 名）", "Leaders of the sector (top 10 by the institution score J)"),
    "sec.plan_tasks": ("《金融科技发展规划（2019—2021年）》重点任务进展", "Progress on the tasks of the FinTech Development Plan (2019-2021)"),
    "industry_rank": ("行业间排名", "Rank among industries"),
    "n_institutions": ("本行业参评机构数", "Institutions of the sector"),
    "inst_median": ("机构总分中位数", "Median institution score"),
    "inst_leader": ("得分最高机构", "Highest-scoring institution"),
    "tasks_measured": ("有数据的规划任务", "Plan tasks with data"),
    "col.sector_value": ("本行业得分", "Score of the sector"),
    "col.industry_median": ("各行业中位数", "Median of the industries"),
    "col.best_industry": ("得分最高行业", "Best industry"),
    "col.sector_rank": ("行业内排名", "Rank in the sector"),
    "col.overall_rank": ("全体排名", "Overall rank"),
    "col.p25": ("下四分位数", "25th percentile"),
    "col.p75": ("上四分位数", "75th percentile"),
    "col.min": ("最低分", "Lowest score"),
    "col.task_no": ("序号", "No."),
    "col.task": ("重点任务", "Task"),
    "col.clause": ("规划条款", "Plan clause"),
    "col.n_linked": ("关联指标数", "Linked indicators"),
    "col.n_present": ("有数据指标数", "With data"),
    "col.task_score": ("平均标准化得分", "Mean normalised score"),
    "col.h_part": ("行业指标（H）平均", "Industry indicators (H)"),
    "col.j_part": ("本行业机构指标（J）平均", "Institution indicators (J), sector mean"),
    "col.indicators_used": ("所用指标", "Indicators used"),
    "col.note": ("说明", "Note"),
    "task.no_link": ("规划任务未关联 JR/T 0201 指标", "no JR/T 0201 indicator is linked to this task"),
    "task.not_present": ("关联指标不在本结果中", "none of the linked indicators is in this result"),
    "explain.industry": (
        "行业得分为 H 块指标（按行业计算）标准化后逐级加权聚合的结果，排名为该行业在各行业之间的位置（1 为最好）。",
        "The sector's scores are its block-H indicators (computed per industry), normalised and aggregated up the tree; "
        "its rank is its place among the industries (1 is best).",
    ),
    "explain.h_indicators": (
        "表中列出 H 块全部指标及其各级汇总得分；“原始值”为标准化前的行业指标值。",
        "Every indicator of block H with its aggregates at every level; 'Raw value' is the industry's value before normalisation.",
    ),
    "explain.no_institutions": (
        "未提供同期机构（J 块）结果，无法显示本行业机构的分布与领先机构。"
        "（Python：build_report(..., institutions=J 结果)；命令行：--with J 结果目录）",
        "No institution (block J) result of the same period was given: the distribution and the leaders of the sector's "
        "institutions are not shown. (Python: build_report(..., institutions=<J result>); CLI: --with <J result folder>)",
    ),
    "explain.institutions": (
        "本行业机构（{col}：{sector}）的 J 块总分及一级指标得分分布；箱线图显示中位数、四分位距与离群值。",
        "The block-J total and level-1 scores of the sector's institutions ({col}: {sector}); "
        "each box shows the median, the interquartile range and the outliers.",
    ),
    "explain.plan_tasks": (
        "按《金融科技发展规划（2019—2021年）》的 27 项重点任务，取与各任务关联、且在本结果中有数据的 JR/T 0201 指标，"
        "计算其标准化得分（0～100）的平均值：行业指标（H）取本行业的得分，机构指标（J）取本行业机构的平均得分。"
        "未关联指标或关联指标均无数据的任务如实标注。",
        "For each of the 27 tasks of the FinTech Development Plan (2019-2021): the mean normalised score (0-100) of the "
        "JR/T 0201 indicators linked to it that this result has: industry indicators (H) at the sector's score, "
        "institution indicators (J) at the mean of the sector's institutions. Tasks with no linked indicator, or "
        "none with data, are marked as such.",
    ),
    "explain.not_industry": (
        "行业报告需要 H 块（行业指标）的结果：其评价单位为行业（bank、securities、insurance、payment）。",
        "An industry report needs a result of block H (industry indicators), whose units are the industries "
        "(bank, securities, insurance, payment).",
    ),
    # vendor rating report
    "sec.vendor_models": ("各模型评级并列", "The models side by side"),
    "sec.vendor_method": ("定级方法", "How the level is determined"),
    "col.model": ("评价模型", "Model"),
    "col.cap_level": ("能力等级", "Level"),
    "col.level_name": ("等级名称", "Level name"),
    "col.band_level": ("分数区间对应等级", "Level of the score band"),
    "col.req_level": ("必备要求对应等级", "Level of the requirements"),
    "col.next_level": ("下一等级", "Next level"),
    "col.score_gap": ("距下一级分差", "Points to the next band"),
    "col.reqs_met": ("已满足必备要求", "Requirements met"),
    "col.reqs_missing": ("未满足必备要求", "Requirements missing"),
    # groups, sectors and completeness (one language: group names and values translated)
    "group_is": ("{group}：{value}", "{group}: {value}"),
    "group.sector": ("行业", "Sector"),
    "group.province": ("省（区、市）", "Province"),
    "sector.bank": ("银行业", "Banking"),
    "sector.securities": ("证券业", "Securities"),
    "sector.insurance": ("保险业", "Insurance"),
    "sector.payment": ("非银行支付行业", "Non-bank payment"),
    "sector.other": ("其他", "Other"),
    "colon": ("：", ":"),
    "full_stop": ("。", "."),
    "title.index": ("{name}：报告索引", "{name}: reports"),
    "index.search": ("按名称、代码、行业或省份搜索", "Search by name, code, sector or province"),
    "index.all": ("全部", "All"),
    "index.shown": ("份报告", "reports"),
    "index.appendix": ("方法附录", "Method appendix"),
    "index.report": ("报告", "Report"),
    "title.method": ("{name}：方法附录", "{name}: method appendix"),
    "kind.method": ("方法附录", "Method appendix"),
    "explain.shared_appendix": (
        "本报告与同批其他报告共用一份方法附录（指标体系与权重、评价设定、处理与插补记录、数据来源、软件版本）：见同目录下的 {file}。",
        "This report shares one method appendix with the other reports of its batch (framework and weights, spec, "
        "treatment and imputation logs, data sources, software version): see {file} in the same folder.",
    ),
    "sep": ("　|　", "  |  "),
    "format.frame": ("内存数据表（DataFrame）", "in-memory data frames"),
    "format.coinr": ("COINr 输入文件（iData、iMeta）", "COINr input files (iData, iMeta)"),
    "format.store": ("数据库中已导入的数据（按指标框架派生）", "the data imported into the database (derived with the framework)"),
    "data.idata": ("数据文件（iData）", "Data file (iData)"),
    "data.imeta": ("指标元数据文件（iMeta）", "Indicator metadata file (iMeta)"),
    "data.period": ("评价期", "Period"),
    "data.db": ("数据库", "Database"),
    "data.framework": ("指标框架", "Indicator framework"),
    "data.block": ("指标板块", "Block"),
    "coverage_note": ("适用指标 {n} 个，已报送 {present} 个", "{present} of {n} applicable indicators reported"),
    "flag.imputed_title": ("插补值", "Imputed values"),
    "flag.missing_title": ("缺失且未插补的指标", "Missing, not imputed"),
    "flag.dropped_title": ("已报送但未计入得分的指标", "Reported but left out of the scores"),
    "flag.na_title": ("不适用的指标", "Not applicable"),
    "explain.imputed": (
        "以下 {n} 个适用指标在原始数据中缺失，评价中使用了插补值（方法见“依据”）。",
        "These {n} applicable indicators were missing in the raw data; the evaluation used imputed values (method in 'Source').",
    ),
    "explain.missing": (
        "以下 {n} 个适用指标在原始数据中缺失且未插补：它们不计入本单位的汇总得分（其余指标的权重按比例放大）。",
        "These {n} applicable indicators were missing and not imputed: they are left out of this unit's aggregates "
        "(the other indicators' weights are scaled up).",
    ),
    "explain.dropped": (
        "以下 {n} 个指标本单位已报送，但评价的某一步骤未给出其标准化得分（例如同组内各单位取值相同、有效值过少），因此未计入得分；原因见“评价说明”。",
        "This unit reported these {n} indicators, but a step of the evaluation gave them no normalised score "
        "(e.g. every unit of its group has the same value, or too few values): they are left out of the scores; see 'Notes'.",
    ),
    "explain.not_applicable": (
        "以下 {n} 个指标不适用于本单位（按指标体系的适用范围），既不计为缺失，也不计入得分。",
        "These {n} indicators do not apply to this unit (by the framework's scope of each indicator): they count "
        "neither as missing nor in the scores.",
    ),
    "rule.sectors": ("仅适用于：{sectors}", "applies only to: {sectors}"),
    "rule.not_applicable": ("评价数据标记为不适用", "marked not applicable in the evaluation's data"),
    "col.rule": ("排除依据", "Excluded by"),
    "sec.notes": ("评价说明", "Notes"),
    "explain.notes": ("评价过程中与本单位（所属分组及适用指标）有关的提示：",
                      "What the evaluation reported about this unit's groups and indicators:"),
    "explain.no_notes": ("评价过程未报告与本单位有关的问题。", "The evaluation reported nothing that concerns this unit."),
    "all_units": ("全体单位", "all units"),
    "note.dropped_constant": (
        "{code} {name}：{where}的全部单位取值相同（无差异），标准化无法区分，该指标未计入本单位得分。",
        "{code} {name}: every unit of {where} has the same value (no spread), so normalisation cannot tell them apart; "
        "the indicator is left out of this unit's scores.",
    ),
    "note.dropped_few": (
        "{code} {name}：{where}中有效值过少（少于 2 个），无法标准化，该指标未计入本单位得分。",
        "{code} {name}: {where} has too few values (fewer than 2) to normalise; the indicator is left out of this unit's scores.",
    ),
    "note.dropped_unknown": (
        "{code} {name}：本单位已报送，但评价未给出其标准化得分，未计入得分（见方法附录中的运行警告）。",
        "{code} {name}: reported, but the evaluation gave it no normalised score; it is left out of the scores "
        "(see the run warnings in the method appendix).",
    ),
    "col.n_applicable": ("适用指标数", "Applicable"),
    "col.n_not_applicable": ("不适用指标数", "Not applicable"),
    "col.n_institutions": ("机构数", "Institutions"),
    "col.province_median": ("本省中位数", "Median in the province"),
    "flag.small_n": ("机构少于 {n} 家，不排名", "fewer than {n} institutions: not ranked"),
    "provinces_small": ("未排名省份（机构过少）", "Provinces not ranked (too few institutions)"),
    "provinces_small_note": ("少于 {n} 家机构", "fewer than {n} institutions"),
    "explain.small_n": (
        "{k} 个省（区、市）参评机构少于 {n} 家：其平均分代表性不足，表中列出并标注，但不参与排名（最少机构数可设置：--min-n）。",
        "{k} provinces have fewer than {n} institutions: their mean says little, so they are listed and flagged but "
        "not ranked (the minimum is configurable: --min-n).",
    ),
    # units of amounts
    "unit.yi": ("亿元", "CNY 100 million"),
    "unit.wan": ("万元", "CNY 10 thousand"),
    "unit.yuan": ("元", "CNY"),
}


def t(key: str, lang: str, **fields: Any) -> str:
    """The text of ``key`` in ``lang`` with ``fields`` filled in."""
    if lang not in LANGS:
        raise KeyError(f"unknown language {lang!r}; choose one of {', '.join(LANGS)}")
    zh, en = _T[key]
    text = zh if lang == "zh" else en
    return text.format(**fields) if fields else text


def has(key: str) -> bool:
    return key in _T


def keys() -> list[str]:
    return sorted(_T)


def label_or(key: str, lang: str, default: str) -> str:
    """The text of ``key`` when it is a known label (e.g. ``stage.Imputed``), else ``default``."""
    return t(key, lang) if key in _T else default


def _is_missing(x: Any) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    return isinstance(x, Real) and not isinstance(x, bool) and math.isnan(float(x))


def fmt_number(x: Any, lang: str = "zh", digits: int = 2) -> str:
    """``1234.5`` → ``"1,234.50"`` (thousands grouped with commas in both locales); missing → ``"—"``."""
    del lang  # same grouping in zh and en; kept for a uniform signature
    if _is_missing(x):
        return MISSING
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return MISSING
    out = f"{v:,.{digits}f}"
    return "0" + out[2:] if out.startswith("-0") and float(out.replace(",", "")) == 0 else out


def fmt_int(x: Any, lang: str = "zh") -> str:
    if _is_missing(x):
        return MISSING
    try:
        return f"{round(float(x)):,d}"
    except (TypeError, ValueError):
        return str(x)


def fmt_pct(x: Any, lang: str = "zh", digits: int = 1) -> str:
    """A share in [0, 1] as a percentage: ``0.1234`` → ``"12.3%"``."""
    if _is_missing(x):
        return MISSING
    return f"{float(x) * 100:,.{digits}f}%"


def fmt_signed(x: Any, lang: str = "zh", digits: int = 2) -> str:
    """A change with its sign: ``+1.20``, ``−0.35`` (a true minus sign), ``0.00``."""
    if _is_missing(x):
        return MISSING
    v = float(x)
    body = fmt_number(abs(v), lang, digits)
    if round(v, digits) > 0:
        return "+" + body
    if round(v, digits) < 0:
        return "−" + body
    return body


_SCALES = {"yi": 1e8, "wan": 1e4, "yuan": 1.0}


def fmt_amount(yuan: Any, lang: str = "zh", *, scale: str = "yi", digits: int = 2) -> str:
    """An amount in yuan in 亿元 / CNY 100 million (``scale="yi"``), 万元 (``"wan"``) or 元 (``"yuan"``).

    >>> fmt_amount(1.2345e10, "zh")
    '123.45 亿元'
    >>> fmt_amount(1.2345e10, "en")
    '123.45 (CNY 100 million)'
    """
    if _is_missing(yuan):
        return MISSING
    n = fmt_number(float(yuan) / _SCALES[scale], lang, digits)
    if lang == "zh":
        return f"{n} {t('unit.' + scale, 'zh')}"
    return f"CNY {n}" if scale == "yuan" else f"{n} ({t('unit.' + scale, 'en')})"


def fmt_rank(rank: Any, n: Any, lang: str) -> str:
    if _is_missing(rank):
        return MISSING
    return t("rank_of", lang, rank=fmt_int(rank, lang), n=fmt_int(n, lang))


def fmt_value(x: Any, kind: str, lang: str) -> str:
    """Format one cell by column kind: score, rank, int, pct, signed, rank_change, amount, float3, text."""
    if isinstance(x, str):
        return x
    if kind == "text":
        return MISSING if _is_missing(x) else str(x)
    if kind == "score":
        return fmt_number(x, lang, 2)
    if kind in ("rank", "int"):
        return fmt_int(x, lang)
    if kind == "pct":
        return fmt_pct(x, lang)
    if kind == "signed":
        return fmt_signed(x, lang)
    if kind == "rank_change":  # a rank that improved from 5 to 3 shows +2
        return MISSING if _is_missing(x) else (f"+{int(x)}" if x > 0 else (f"−{abs(int(x))}" if x < 0 else "0"))
    if kind == "amount":
        return fmt_amount(x, lang)
    if kind == "float3":
        return fmt_number(x, lang, 3)
    if kind == "float4":
        return fmt_number(x, lang, 4)
    if kind == "auto":
        if _is_missing(x):
            return MISSING
        if isinstance(x, bool):
            return t("yes" if x else "no", lang)
        if isinstance(x, Real):
            v = float(x)
            return fmt_int(v, lang) if v == int(v) and abs(v) < 1e15 else fmt_number(v, lang, 3 if abs(v) < 1000 else 2)
        return str(x)
    raise ValueError(f"unknown column kind {kind!r}")


EXCEL_FORMATS: dict[str, str] = {
    "score": "#,##0.00",
    "rank": "0",
    "int": "#,##0",
    "pct": "0.0%",
    "signed": "+#,##0.00;-#,##0.00;0.00",
    "rank_change": "+0;-0;0",
    "amount": "#,##0.00",
    "float3": "#,##0.000",
    "float4": "0.0000",
    "auto": "General",
    "text": "@",
}
