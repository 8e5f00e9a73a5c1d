"""Controlled vocabularies (codes stored in documents, with zh-CN and English labels).

Codes are English identifiers so documents stay ASCII-keyed; labels follow the
standard's wording (standard.md) for forms and the UI.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

#: 6.1 / 4.3: the tiers, top down.
TIERS = {"city": ("市政务服务中心", "city center"),
         "county": ("县（区）政务服务中心", "county/district center"),
         "town": ("乡镇（街道）便民服务中心", "town service center"),
         "village": ("村（社区）便民服务站", "village service station")}
TIER_ORDER = ["city", "county", "town", "village"]

#: 3 Terms.
#: 7.1: the roles of a service point's staff (the roster on the institution document, 8.1.2)
STAFF_ROLES = {"assistant": ("帮办员", "assistant"), "proxy": ("代办员", "proxy agent"),
               "both": ("帮办代办员", "assistant and proxy agent")}
SERVICE_TYPES = {"assist": ("帮办", "assisted handling"), "proxy": ("代办", "proxy handling")}
#: 9: service modes.
MODES = {"door": ("上门办", "door-to-door"), "online": ("网上办", "online"),
         "nearby": ("就近办", "nearby")}
#: 9.1 / 9.2: focus areas.
FOCUS_AREAS = {"enterprise": ("涉企服务", "enterprise-related"),
               "livelihood": ("民生服务", "livelihood")}
#: 9.2: special groups served (cleartext: they decide door-to-door routing and 9.2 oversight).
SPECIAL_GROUPS = {"elderly": ("老年人", "elderly"), "disabled": ("残疾人", "disabled"),
                  "other": ("其他特殊群体", "other special group")}
APPLICANT_KINDS = {"person": ("个人", "person"), "enterprise": ("企业", "enterprise")}
ID_TYPES = {"resident_id": ("居民身份证", "resident ID card"),
            "uscc": ("统一社会信用代码", "unified social credit code"),
            "passport": ("护照", "passport"),
            "hk_macao": ("港澳居民来往内地通行证", "HK/Macao permit"),
            "taiwan": ("台湾居民来往大陆通行证", "Taiwan permit")}
#: 10.1.5, 10.2.2, 10.2.5: in what capacity the person who signed a form did (schemas.event_signed):
#: the applicant in person, a firm's legal representative or the employee it sent (9.1), a
#: relative or guardian of an old or disabled person (9.2)
SIGNERS = {"self": ("本人", "the applicant in person"),
           "legal_rep": ("法定代表人", "legal representative"),
           "agent": ("委托代理人", "authorised agent"),
           "guardian": ("监护人", "guardian")}
CHANNELS = {"window": ("窗口", "window"), "phone": ("电话", "phone"),
            "online": ("网上", "online"), "door": ("上门", "door-to-door")}
#: 11.1: how a complaint was made (on-site checks, phone, written and online reports).
COMPLAINT_CHANNELS = {**CHANNELS, "written": ("书面", "written")}
#: 10.1.3: the zones an applicant is directed to.
ZONES = {"online_zone": ("网办区", "online-handling zone"),
         "kiosk_zone": ("自助机服务区", "self-service kiosk zone"),
         "assisted_zone": ("帮办代办系统办理区", "assisted-system zone")}
REFUSAL_REASONS = {"not_in_catalog": ("不属于帮办代办事项清单", "not in the catalog"),
                   "not_eligible": ("不符合受理条件", "not eligible"),
                   "not_voluntary": ("非服务对象自愿", "not voluntary"),
                   "materials_insufficient": ("基本材料不足", "basic materials insufficient"),
                   "other": ("其他", "other")}
#: 10.2.5.1 a–d.
SUSPENSION_REASONS = {
    "a": ("服务对象未在规定期限内提交材料，或经催告仍未提交", "materials not submitted in time"),
    "b": ("未按时缴纳行政事业性收费或其他应缴费用", "fees not paid in time"),
    "c": ("服务对象要求暂停办理", "applicant asked to pause"),
    "d": ("不可抗力", "force majeure"),
}
TERMINATION_REASONS = {
    "applicant_withdrew": ("服务对象撤回", "applicant withdrew"),
    "not_approved": ("审批部门不予批准", "not approved by the department"),
    "not_eligible": ("不符合条件", "not eligible"),
    "resumption_deadline_passed": ("超过续办期限，视为终止（10.2.5.2）",
                                   "resumption deadline passed (10.2.5.2)"),
    "other": ("其他", "other"),
}
DECISIONS = {"approved": ("批准", "approved"), "rejected": ("不予批准", "rejected"),
             "returned": ("退回补正", "returned for correction")}
PROBLEM_CATEGORIES = {"materials": ("材料", "materials"), "department": ("审批部门", "department"),
                      "applicant": ("服务对象", "applicant"), "system": ("系统", "system"),
                      "other": ("其他", "other")}
PROBLEM_STATUSES = {"open": ("待处理", "open"), "in_progress": ("处理中", "in progress")}
PROBLEM_RESULTS = {"resolved": ("已解决", "resolved"), "unresolvable": ("无法解决", "unresolvable"),
                   "withdrawn": ("已撤销", "withdrawn")}
HANDOVER_REASONS = {"beyond_authority": ("超出本级权限", "beyond this tier's authority"),
                    "needs_coordination": ("需上级协调", "needs coordination"),
                    "door_service": ("需下级上门服务", "door-to-door by the lower tier"),
                    "returned": ("退回", "returned"), "other": ("其他", "other")}
WORK_LOG_KINDS = {"tracking": ("跟踪", "tracking"), "coordination": ("协调", "coordination"),
                  "contact": ("联系服务对象", "contact with applicant"),
                  "handover": ("资料移交", "handover of materials"), "other": ("其他", "other")}
#: 11.2.1: 好差评, five levels.
RATING_LEVELS = {"very_satisfied": ("非常满意", "very satisfied"),
                 "satisfied": ("满意", "satisfied"),
                 "basic": ("基本满意", "basically satisfied"),
                 "dissatisfied": ("不满意", "dissatisfied"),
                 "very_dissatisfied": ("非常不满意", "very dissatisfied")}
BAD_RATINGS = ("dissatisfied", "very_dissatisfied")
#: What counts as following up a bad rating (11.2.1: the institution improves accordingly):
#: the hub's 差评已回访 (hub/oversight/facts.py) and the station's call-back reminder
#: (node/views/cases.py) both read :func:`schemas.state.followed_up`.
FOLLOW_UP_EVENTS = ("work_log", "complaint_handled")
#: The work-log kinds that are a call-back (回访: the station speaks with the applicant).
#: Any entry counted, so a 跟踪 note on the approval's progress written after a 不满意
#: rating marked it 已回访 at the hub and silenced the station's reminder.
FOLLOW_UP_WORK_LOG_KINDS = ("contact",)
#: 11.1 c and b: what complaints are about.
COMPLAINT_CATEGORIES = {"inaction": ("不作为", "inaction"), "misconduct": ("乱作为", "misconduct"),
                        "bribery": ("吃拿卡要", "bribery"), "overdue": ("超期办理", "overdue"),
                        "attitude": ("服务态度", "attitude"), "other": ("其他", "other")}
COMPLAINT_RESULTS = {"upheld": ("属实", "upheld"), "partly_upheld": ("部分属实", "partly upheld"),
                     "rejected": ("不属实", "not upheld")}
#: design.md §5: why personal data was decrypted.
ACCESS_PURPOSES = {"handling": ("办理", "handling"), "printing": ("打印表单", "printing forms"),
                   "handover": ("移交", "handover"), "supervision": ("监督检查", "supervision"),
                   "audit": ("审计", "audit"), "export": ("导出", "export")}
SUBMIT_CHANNELS = {"online": ("网上提交", "online"), "window": ("窗口提交", "at the window"),
                   "mail": ("邮寄", "by mail")}
#: design.md §3: what a coordinator decided about events the fold could not apply
REVIEW_DECISIONS = {"kept_as_record": ("保留为记录，不影响办件状态", "kept as a record only"),
                    "redo_recorded": ("已按正确顺序重新登记", "re-recorded in the right order"),
                    "other": ("其他", "other")}
#: why a completion was withdrawn (撤销办结, schemas.withdraw): a code in clear, so the hub's
#: supervisors can count and read it; the clerk's own words go in the sealed ``details``
WITHDRAWAL_REASONS = {"wrong_case": ("误点了其他办件的办结", "completed the wrong case"),
                      "not_finished": ("事项尚未办完，误点办结", "completed before it was finished"),
                      "other": ("其他", "other")}
