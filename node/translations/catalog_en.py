"""The node's English strings: msgid (the UI's source language, zh-CN) -> English.

The string table of :mod:`update` (``python node/translations/update.py`` fills the
catalog from it), kept apart from its machinery so that each stays within the house
limit of 400 lines as the UI grows. One line per string, ``中文<TAB>English``; a string
the table lacks is printed "untranslated" by the update and shows in Chinese.
"""

from __future__ import annotations

#: msgid -> English; a trailing ":" gets the space the sentence after it needs
EN = dict((k, v + " " if v.endswith(":") else v) for k, v in (
    line.split("\t", 1) for line in """渠道	Channel
当场答复	Answered on the spot
转询审批部门	Referred to department
服务事项	Service item
姓名	Name
联系方式	Contact
咨询问题	Question
结果	Result
答复内容	Answer
对应咨询	Consultation
服务方式	Service mode
委托事项及权限	Scope of entrustment
已收材料（每行一项）	Materials received (one per line)
服务对象签字	Applicant's signature
备注	Note
台账编号	Ledger number
委托期限至	Entrusted until
办理区域	Zone
承诺时限（工作日）	Promised time limit (working days)
理由	Reasons
不予受理原因	Reasons for refusal
材料	Materials
材料提交期限	Materials due
扫描件	Scans
期限	Due
详细说明	Details
审批部门	Approval department
对应补正通知	Correction request
问题描述	Problem
问题编号	Problem no.
类别	Category
进展	Progress
状态	Status
处理结果说明	Result
部门收件编号	Department receipt no.
批准文号	Approval document no.
内容	Text
原因	Reason
续办期限	Resumption deadline
中止原因消除日期	Cause removed on
新的办理时限（工作日）	New time limit (working days)
移交机构	From institution
接收机构	To institution
移交层级	From tier
接收层级	To tier
移交原因	Reason for hand-over
交还材料（每行一项）	Materials returned (one per line)
审批结果文件（每行一项）	Approval documents (one per line)
档案号	Archive no.
评价等级	Rating
评价意见	Comment
投诉人	Complainant
对应投诉	Complaint
查阅目的	Purpose
查阅字段	Fields read
咨询	Consultation
咨询答复	Reply
申请	Application
委托（附录C）	Entrustment (form C)
受理（附录A）	Acceptance (form A)
不予受理	Refusal
一次性告知	One-time notification
材料接收	Materials received
催告	Reminder
补正通知	Correction requested
补正材料接收	Correction received
问题登记	Problem opened
问题进展	Problem update
问题办结	Problem resolved
报送审批部门	Submitted to department
审批决定	Department decision
工作日志	Work log
中止（附录D）	Suspension (form D)
续办（附录E）	Resumption (form E)
帮办转代办	Convert to proxy
上报	Hand up
下派	Hand down
办结（附录B）	Completion (form B)
终止（附录B）	Termination (form B)
归档	Archive
好差评	Rating
投诉	Complaint
投诉处理	Complaint handled
查阅个人信息	Access to personal data
同步中	Syncing
本机已停用	Device revoked
离线	Offline
已同步	Synced
未同步	Not synced
帮办代办	Bangban
跳到正文	Skip to content
主菜单	Main menu
首页	Home
登记咨询	New consultation
办件	Cases
下辖协调	Coordination
同步	Sync
标准字号	Normal text
大字模式	Large text
锁定	Lock
依据 DB4106/T 101—2023《政务服务帮办代办服务规范》	After DB4106/T 101—2023, Specification for assisted and proxy handling of government services
快捷键：Alt+字母	Shortcuts: Alt+letter
需复核	Needs review
服务对象	Applicant
联系电话	Phone
（未定）	(not chosen)
服务类型	Service type
帮办	Assisted
代办	Proxy
受理机构	Institution
登记时间	Opened
打印	Print
一次性告知单	One-time notification
受理单（附录A）	Acceptance slip (A)
办结（终止）单（附录B）	Completion slip (B)
委托书（附录C）	Entrustment (C)
中止单（附录D）	Suspension slip (D)
续办委托书（附录E）	Resumption (E)
办理步骤	Steps
办理记录	History
签名	Signature
暂无记录	Nothing recorded yet
按编号、姓名、证件号或电话查找	Find by case number, name, ID number or phone
范围	Scope
全部	All
在办	Open
今日	Today
即将到期	Due soon
已超期	Overdue
上下移交	Handed over
已移交他处	Handed to others
仅列出上报或移交来的办件。	Only cases that came by a hand-over.
待上传	Not uploaded
查找	Search
查找条件已清除（应用已锁定或重启），请重新输入。	The search was cleared (the app locked or restarted): type it again.
下一页	Next page
登记咨询（一次性告知）	New consultation (one-time notification)
请修改以下内容后再保存：	Please fix the following, then save again:
服务对象姓名（或企业名称）	Applicant's name (or enterprise)
证件号码	ID number
服务对象类型	Applicant kind
特殊群体	Special groups
咨询渠道	Channel
（暂不确定）	(not sure yet)
尚未从平台同步事项清单，暂用内置示例清单。	The catalog has not been synced from the hub yet; showing the built-in sample catalog.
所需材料（勾选已带齐的；未勾选的列入一次性告知单）	Required materials (tick what was brought; the rest goes on the one-time notification)
法定时限	Statutory limit
个工作日	working days
原件	original
获取方式	How to obtain
办理条件	Conditions
办理流程	Procedure
服务事项清单未列明，请向审批部门咨询	The service catalog does not say; ask the approval department
已当场答复（否则须在 1 个工作日内答复，10.1.1.3）	Answered on the spot (otherwise reply within 1 working day, 10.1.1.3)
答复结果	Outcome
保存	Save
取消	Cancel
出错了	Something went wrong
返回首页	Back to home
今日工作	Today
今日新登记办件	Cases opened today
在办件	Open cases
查找办件	Find cases
编号	Case no.
类型	Type
机构	Institution
没有办件	No cases
未保存，请修改后再提交：	Not saved, please fix:
本事项没有材料清单	This item has no materials list
在此签名（键盘用户按回车确认签署）	Sign here (keyboard: press Enter to sign)
清除签名	Clear signature
扫描件（高拍仪图片或 PDF，加密保存）	Scans (document camera images or PDF, stored encrypted)
返回	Back
与平台同步	Sync with the hub
上次成功	Last success
从未	Never
上次尝试	Last attempt
已上传 / 已下载	Uploaded / downloaded
进度	Progress
错误	Error
平台	Hub
设备	Device
平台未接收的记录	Documents refused by the hub
平台发来的记录未通过签名校验，已拒收	Documents from the hub that failed their signature check (refused)
立即同步	Sync now
上报在办	Handed up, open
上报超期	Handed up, overdue
各村（社区）	Villages
下辖乡镇（街道）及村（社区）	Towns and villages below
下辖在办	Open below
下辖超期	Overdue below
中止	Suspended
待复核	Needs review
近 30 日办结	Finished (30 days)
其中按时	On time
看板更新于	Board as of
暂无看板（无在办件，或尚未同步）	No board (no open cases, or not synced yet)
下辖在办件	Open cases below
来自平台的看板：只有办件编号、事项、状态、经办人和期限，不含个人信息；有期限已过的在前。办件详情在村（社区）上报后可见。	From the hub's boards: case number, item, status, staff and deadlines only, no personal data; those with a passed deadline first. A case's details are visible once the village hands it up.
办件编号	Case number
催办	Urge
已催办	Urged
已催办：	Urged:
催办原因	Reason to urge
上级催办	Notices from above
时间	Time
来自	From
事由	Reason
经办人	Staff
看板每站最多列出期限最近的 %(m)s 件	A board lists at most the %(m)s cases due first of each station
（看板列出 %(n)s）	(%(n)s on the board)
按办件编号查找	Find by case number
查找	Find
清除	Clear
按姓名、证件号查找上报的办件请用办件页的搜索。	To find a case handed up by name or ID number, search on the cases page.
共 %(n)s 件	%(n)s cases
第 %(i)s / %(k)s 页	page %(i)s of %(k)s
上一页	Previous page
看板每站最多带来期限最近的 %(m)s 件，以下站点另有办件未随看板下发、不在上表中（请向该站了解）：	A board brings at most the %(m)s cases due first of each station; these stations have more open cases, not on their boards and not listed above (ask the station):
件	cases
催办所列全部 %(n)s 件超期办件	Urge all %(n)s overdue cases listed
向 %(n)s 件超期办件所在站点各发一条催办？	Send one notice for each of the %(n)s overdue cases to its station?
每件发一条“办理时限已过”的催办；今天已催办的不重复发送。	One notice "time limit passed" for each; a case urged today is not urged again.
已催办 %(n)s 件超期办件（今天已催办的不重复发送）。	%(n)s overdue cases urged (those urged today were not urged again).
超期	Overdue
暂无	None
上报（移交）的办件	Cases handed over
在办件页选择“下派”把工作分配给村（社区）。	Use "Hand down" on a case page to assign work to a village.
解锁	Unlock
输入口令解锁	Unlock with your passphrase
本机尚未登记到平台：请先运行 bangban node init。	This laptop is not enrolled: run bangban node init first.
本机已被平台停用，密钥和本机数据已清除。	This device was revoked; its keys and local data were wiped.
个人信息已加密保存。解锁后才能查看和登记办件。	Personal data is stored encrypted. Unlock to see and record cases.
口令	Passphrase
咨询已登记。	Consultation recorded.
一次性告知单可以打印。	The one-time notification is ready to print.
已保存：	Saved:
口令不正确，请重新输入。	Wrong passphrase, please try again.
平台发来了 %(n)s 条本机未写过、却以本设备名义签名的记录：本机的节点文件夹多半被复制到了另一台电脑，两台会给出相同的办件编号。请立即停用其中一台，并联系管理员。	The hub sent %(n)s documents signed as this device that this laptop never wrote: its node folder was most likely copied onto another laptop, and both give out the same case numbers. Stop using one of them now and call the operator.
忘记口令？口令无法找回或重置。请不要删除本机文件或重装程序：锁定时本机仍会自动把已登记的办件上传到平台。请联系管理员。	Forgot the passphrase? It cannot be recovered or reset. Do not delete this laptop's files or reinstall the program: while locked, the laptop still uploads the recorded cases to the hub by itself. Call the operator.
已锁定。	Locked.
同步完成。	Sync done.
同步失败，稍后自动重试：	Sync failed, will retry:
本件已无可办理的步骤	No further steps for this case
其他步骤（当前状态下不可办理）	Other steps (not allowed in the current state)
服务对象姓名	Applicant's name
企业名称	Enterprise name
证件类型	ID type
住址	Address
代理人	Agent
代理人姓名	Agent's name
他人代为办理时填写，如企业派来办事的人、老人的子女	filled in when someone acts for the applicant: a firm's employee, an old person's son or daughter
不予受理告知单	Notice of refusal
服务对象评价为不满意：请回访服务对象，了解原因并改进，回访情况记入工作日志，类型选“联系服务对象”（11.2.1）。	The applicant rated the service as unsatisfactory: call them back, learn why and improve, and record the call in the work log as "contact with applicant" (11.2.1).
离线，自动重试	Offline, retrying by itself
平台拒绝本设备，请联系管理员	The hub refused this device: call the operator
平台出错：本机的节点文件夹可能被复制，请停用其中一台并联系管理员	Hub error: this node folder may have been copied onto another laptop; stop using one of them and call the operator
平台出错，请告知平台管理员，自动重试	The hub answered with an error: tell the hub's operator; retrying by itself
本机磁盘已满，请清理磁盘空间	This laptop's disk is full: free some space
同步出错，自动重试	Sync failed, retrying by itself
节点文件夹被复制	Node folder copied
请立即停用其中一台电脑，并联系管理员：管理员在平台停用本设备，继续使用的电脑重新登记为新设备；两台给出的相同办件编号由管理员核对。处理完毕后点击下面的按钮清除本提示，重启本程序不会清除它。	Stop using one of the two laptops now and call the operator: the operator stops this device at the hub and the laptop that goes on is enrolled again as a new device; the case numbers both gave out are checked by the operator. Once that is done, clear this warning with the button below; restarting the program does not clear it.
已处理，清除提示	Dealt with: clear the warning
已清除节点文件夹被复制的提示。	The warning of a copied node folder is cleared.
（请选择）	(choose)
连接平台	Connecting to the hub
上传	Upload
下载	Download
咨询答复期限（10.1.1.3）	Reply due (10.1.1.3)
材料提交期限（10.1.4）	Materials due (10.1.4)
办理时限（10.1.3）	Time limit ends (10.1.3)
续办期限（10.2.5）	Resumption deadline (10.2.5)
（本件没有待处理的此项）	(none open in this case)
该步骤须出具纸质表单，请打印后由服务对象签字：	This step issues a paper form: print it for the applicant to sign:
附录	form
转询审批部门（未能当场答复时）	Department asked (when not answered on the spot)
本机时钟比平台%(offset)s，办理时间将记错：请校准电脑的日期和时间。	This laptop's clock is %(offset)s compared with the hub's: the times of the steps you record will be wrong. Please set the computer's date and time.
本机时钟	This laptop's clock
未核对	Not checked yet
准确	Right
核对于	checked
待上传办件	Cases to upload
待上传记录	Records to upload
已开始同步，结果见本页与右上角的同步状态。	Sync started; this page and the sync status at the top right tell how it goes.
更正服务对象信息	Correct the applicant's particulars
更正	correct
纸质表单上的日期	Date on the paper form
纸质表单上的日期（须早于今天；当天的事直接登记，不填此项）	Date on the paper form (before today; leave empty for what happens today)
补录：此步骤在启用本系统前已在纸质台账办理	Entered from the paper ledger: this step was done on paper before the station went live
补录：纸质台账上尚未办结的办件（启用本系统前受理）	Entered from the paper ledger: a case still open on paper (taken in before the station went live)
服务对象信息已更正。	The applicant's particulars were corrected.
更正后打印的表单使用新信息；原信息加密保留在办件记录中。	Forms printed from now on use the corrected particulars; the replaced ones are kept, encrypted, in the case's record.
办理时限已过仍在办理（与监督平台超期同一口径）	Past the time limit and still being handled (overdue as the oversight counts it)
待办到期	Deadlines passed
任一期限已过：办理时限、材料提交、咨询答复、续办期限	Any deadline passed: time limit, materials, consultation reply, resumption
办理时限已过	time limit passed
任一期限已过（材料、答复、续办、办理时限）	any deadline passed (materials, reply, resumption, time limit)
已超期（超过办理时限）	Overdue (past the time limit)
待办到期（任一期限已过）	Deadlines passed (any deadline)
已超期：办理时限（10.1.3）已过仍在办理的办件，与监督平台“超期未办结”同一口径。材料、答复、续办期限已过的见“待办到期”。	Overdue: cases still being handled after their time limit (10.1.3), as the oversight counts them. Passed materials, reply or resumption deadlines are under "Deadlines passed".
待办到期：任一期限已过（办理时限、材料提交、咨询答复、续办期限），是待办提醒，不都是超期。	Deadlines passed: any deadline has passed (time limit, materials, consultation reply, resumption); a to-do list, not all of them overdue.
仅列出以下机构登记的办件：	Only the cases registered at:
已过期	Passed
已过期限	Deadlines passed
办理时限已过即超期；咨询答复、续办期限已过另列，不计超期	A passed time limit is overdue; a passed consultation reply or resumption deadline is listed too but is not overdue
最近期限	Next deadline
办理时限	Time limit
任一期限中最近的一个：办理时限、材料提交、咨询答复、续办期限	The nearest of the deadlines: time limit, materials, consultation reply, resumption
期限已过，见首页“待办到期”；已超期只指办理时限	This deadline has passed (see "Deadlines passed" on the home page); overdue means the time limit only
本中心现持有、尚在办理的该村（社区）上报办件；已下派回村或已办结的不计	Cases this station handed up that this centre holds and is still handling; those handed back down or finished are not counted
本中心现持有、尚在办理的上报（移交）办件	Cases handed up (or over) that this centre holds and is still handling
其中办理时限已过的（与监督平台超期同一口径）	Of those, past the time limit (overdue as the oversight counts it)
在办、超期等列来自平台看板（该村（社区）持有的办件）；“上报在办”是本中心现持有、尚在办理的该村上报办件，与上方“上报在办”同一口径（已下派回村或已办结的不计）。超期均指办理时限已过。	Open, overdue and the next columns come from the hub's board (the cases the station holds); "Handed up, open" counts the station's cases this centre holds and is still handling, as the tile above does (those handed back down or finished are not counted). Overdue always means past the time limit.
当前经办人	Staff at the window
当前经办人：	Staff at the window:
名册为空：以设备记录	No roster: steps are recorded under the device
以设备记录	Recorded under the device
请选择	Choose
确定	Set
登记经办人	Registered by
这张表刚才已经保存过，没有重复保存；以下是保存的结果。	This form was saved already and was not saved twice; here is what it saved.
刚才填写的内容没有保存：应用已锁定（或已重新启动）。解锁后请重新填写。	What you were entering was NOT saved: the app locked (or restarted). Unlock, then enter it again.
%(dates)s 是预计日期：%(years)s 年的法定节假日安排尚未公布，暂按周一至周五计算，公布后日期可能变动。	%(dates)s: estimated. The public holidays of %(years)s are not published yet, so Monday to Friday are counted as working days; the dates may change once they are.
咨询答复期限	Reply due
签字人身份	Signed as
签字人姓名（非本人签字时填写）	Signer's name (when not the applicant in person)
以指印代替签字	Thumbprint instead of a signature
该服务对象的其他办件	This applicant's other cases
办件列表	Cases
各机构统计	Per institution
必须先选择当前经办人，才能保存	Choose the staff member at the window first: nothing is saved without one
按证件号码（企业为统一社会信用代码）查找	found by ID number (a firm's unified social credit code)
等待	Waiting on
本人信息副本	Applicant's copy
服务对象要求查阅、复制本人信息时打印（个人信息保护法第 45 条）	Print when the applicant asks to see or copy their personal information (PIPL art. 45)
服务对象本人信息副本	The applicant's copy of their personal information
本页列出本服务站电脑中以该服务对象名义保存的全部个人信息（按证件号码查找其全部办件）、每一办理环节所记内容，以及谁在何时因何查阅过。	This page lists all personal information this station's laptop holds in the applicant's name (every case found by their ID number), what each step recorded, and who read it, when and why.
出具机构	Issued by
本次出具已记入各办件的查阅记录。	This copy is recorded in each case's record of readings.
更正：信息有误的，由工作人员在办件页点“更正”改正，原值按档案要求保留在办件历史中。	Correction: wrong particulars are corrected by staff with "correct" on the case page; the old value stays in the case's history, as the archive rules require.
删除：办理记录属于政务服务档案，须按归档规定（10.1.6、11.1 e）保存，保存期内不能删除；保存期满后由档案管理部门按规定处置。	Deletion: the case record is a government service archive, kept as the archiving rules require (10.1.6, 11.1 e); it cannot be deleted within the retention period, after which the archives authority disposes of it.
查阅记录	Record of readings
目的	Purpose
需复核的步骤	Step to review
复核结论	Decision
冲突复核	Conflict review
需复核：以下步骤未计入办件状态	Needs review: these steps do not count in the case's state
电脑	laptop
未计入（需复核）	Not counted (to review)
未计入（已复核）	Not counted (reviewed)
本机时钟早于上次成功同步的时间（%(at)s）：电脑的日期或时间可能被重置，办理时间将记错。请校准电脑的日期和时间。	This laptop's clock is earlier than its last good sync (%(at)s): its date or time may have been reset, and the times of the steps will be wrong. Please set the computer's date and time.
本机另有 %(n)s 件办件按姓名、证件号或电话查不到：个人信息加密保存，本机没有能解开它们的密钥（密钥尚未同步到本机，或办件不由本机构经办），无法为其建立检索记录。请按编号查找（编号在服务对象手中的告知单或受理单上），或在“今日”“在办”列表中打开。	%(n)s other cases here cannot be found by name, ID number or phone: personal data is sealed, and no key here opens them (their key has not reached this laptop yet, or the case is not handled by this institution), so no search entry could be made for them. Search by the case number (on the applicant's notification or form A), or open them from the Today and Open lists.
本机正在为 %(n)s 件办件建立检索记录：完成前按姓名、证件号或电话查找可能漏掉它们，按编号可以查到。	A search by name, ID number or phone may miss %(n)s cases still being indexed on this laptop; their case numbers find them.
本机现在离线：其他电脑离线后登记的办件，联网同步后才会出现在本机。	This laptop is offline: cases the other laptops registered since they went offline appear here only after a sync.
可能重复登记	Possibly registered twice
同一服务对象、同一事项有两件在办件：可能是服务对象来了两次，本站两台电脑各登记了一件。核对后保留一件继续办理，另一件办理“终止”，原因选“其他”，注明“重复登记，以某某号办件为准”；两件的记录都会保留。	One applicant has two open cases for one item: they may have come twice and each laptop of the station opened one. Check, keep one, and end the other (终止, reason 其他, noting "registered twice, case no. … goes on"); the records of both are kept.
这通常是本站两台电脑断网时各自为同一办件记录了步骤，联网同步后才发现冲突。以上步骤已保存为记录，不会删除，但办件状态、期限和打印的表单都不按它计算。	Usually two laptops of this station recorded steps of the same case while offline; the clash showed when they synced. These steps are kept as records, never deleted, but the case's state, deadlines and printed forms do not count them.
请与记录它的同事核对：如已据此向服务对象出具纸质表单（如受理单），请收回，按本页重新打印交给服务对象；如该步骤仍需办理，请按现在的状态重新登记。核对后点“冲突复核”记录结论，需复核标记随之消除。	Check with the colleague who recorded it: if a paper form (form A, say) went to the applicant on its strength, take it back and give them this page's print instead; if the step is still needed, record it again as the case stands now. Then record a conflict review with what you decided, and the mark goes away.
撤销办结	Withdraw the completion
撤销办结只用于误点办结：撤销后本件恢复为“办理中”，办理时限照常计算；办结和撤销都留在办理记录中，撤销原因监督部门可见。确定撤销？	Withdraw a completion only when it was recorded by mistake: the case is then in handling again and its time limit keeps running; the completion and its withdrawal both stay in the record, and supervisors see the reason. Withdraw it?
我确认撤销该办结	I confirm the withdrawal of this completion
已撤销	Withdrawn
已存的证件号码未通过校验：	The ID number on file fails its check:
其他信息可照常更正；改动证件号码时须改为通过校验的号码。	The other particulars can be corrected as usual; an ID number changed must be changed to one that passes the check.
未通过校验，请核对后更正	fails its check: verify it and correct it
已移交到该机构，该机构尚无人记录办理步骤	Handed over to this institution; nobody there has recorded a step yet
待接办	Not yet taken up
""".strip("\n").splitlines()))
