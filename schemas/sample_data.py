"""Static sample data: Hebi's (鹤壁市) divisions, towns, villages and a catalog of service items.

County-level codes are the real GB/T 2260 codes (410602 鹤山区, 410603 山城区, 410611 淇滨区,
410621 浚县, 410622 淇县). Town and street names are real; their 9-digit codes and the villages'
12-digit codes are shaped like the statistical division codes but numbered here. Village names
are the seat villages and other villages of those towns as far as known; treat them as sample
data, not as an authoritative gazetteer. Time limits are representative of Henan's published
catalogs (statutory limits in working days), not a legal reference.
"""

from __future__ import annotations

CITY = ("410600", "鹤壁市")

#: county code -> (name, [(town name, [village names])])
COUNTIES: dict[str, tuple[str, list[tuple[str, list[str]]]]] = {
    "410602": ("鹤山区", [
        ("鹤壁集镇", ["鹤壁集村", "东头村", "西头村"]),
        ("姬家山乡", ["姬家山村", "西顶村"]),
        ("中山路街道", ["中山社区"]),
    ]),
    "410603": ("山城区", [
        ("石林镇", ["石林村", "张家沟村", "大胡村"]),
        ("鹿楼街道", ["鹿楼村", "大湖村"]),
        ("汤河街街道", ["汤河社区"]),
    ]),
    "410611": ("淇滨区", [
        ("大河涧乡", ["大河涧村", "弓家庄村", "赵庄村"]),
        ("上峪乡", ["上峪村", "桑园村"]),
        ("钜桥镇", ["钜桥村", "岗坡村", "西小庄村"]),
        ("金山街道", ["金山社区"]),
    ]),
    "410621": ("浚县", [
        ("善堂镇", ["善堂村", "西杨庄村", "前屯村", "东张庄村"]),
        ("屯子镇", ["屯子村", "裴圪垱村", "郭厂村"]),
        ("新镇镇", ["新镇村", "酸枣庙村"]),
        ("小河镇", ["小河村", "白毛村"]),
        ("王庄镇", ["王庄村", "中鹤村"]),
        ("卫贤镇", ["卫贤村", "大赉店村"]),
        ("白寺镇", ["白寺村", "枋城村"]),
        ("浚州街道", ["东关社区"]),
    ]),
    "410622": ("淇县", [
        ("北阳镇", ["北阳村", "油城村", "武庄村", "卧羊湾村"]),
        ("西岗镇", ["西岗村", "赵庄村"]),
        ("高村镇", ["高村村", "思德村", "东掌村"]),
        ("庙口镇", ["庙口村", "大石岩村"]),
        ("黄洞乡", ["黄洞村", "纣王殿村"]),
        ("朝歌街道", ["南关社区"]),
    ]),
}

# -- the catalog (清单, 6.2.4) ---------------------------------------------------------------------
# (code, name, department, focus, assist, proxy, tiers, time limit, fees, [(material, how to obtain)])
_ID = ("申请人身份证明", "本人居民身份证原件，现场由高拍仪采集")
_HUKOU = ("户口簿", "本人户口簿原件")
_BANK = ("银行账户信息", "本人社会保障卡或银行卡（开户行网点办理）")
_PHOTO = ("近期免冠照片", "照相馆拍摄，或服务站现场采集")
_LEASE = ("住所（经营场所）使用证明", "不动产权证书复印件或租赁合同，由产权人签字")
_LICENSE = ("营业执照", "市场监督管理部门核发，可在河南政务服务网下载电子营业执照")
_ALL_TIERS = ["village", "town", "county", "city"]
_UPPER = ["county", "city"]

CATALOG: list[tuple[str, str, str, str, bool, bool, list[str], int, bool, list[tuple[str, str]]]] = [
    ("QY-001", "企业设立登记", "市场监督管理局", "enterprise", True, True, _UPPER, 3, False,
     [("公司登记（备案）申请书", "河南省企业登记全程电子化平台填报打印"),
      ("公司章程", "全体股东签署，可使用平台提供的章程范本"),
      ("股东主体资格证明", "自然人股东提供身份证复印件；法人股东提供营业执照复印件"), _LEASE]),
    ("QY-002", "个体工商户设立登记", "市场监督管理局", "enterprise", True, True, _ALL_TIERS, 1, False,
     [("个体工商户登记申请书", "窗口领取或网上填报"), _ID, _LEASE]),
    ("QY-003", "食品经营许可", "市场监督管理局", "enterprise", True, True, _UPPER, 10, False,
     [("食品经营许可申请书", "河南政务服务网下载"), _LICENSE,
      ("食品安全管理制度文本", "按市场监管局提供的模板编制"),
      ("经营场所平面布局图", "申请人自行绘制，标明设备设施位置")]),
    ("QY-004", "企业投资项目备案", "发展和改革委员会", "enterprise", True, True, _UPPER, 3, False,
     [("项目备案信息表", "河南省投资项目在线审批监管平台填报"), _LICENSE]),
    ("QY-005", "建设工程规划许可证核发", "自然资源和规划局", "enterprise", True, True, _UPPER, 20,
     True, [("建设工程规划许可申请表", "窗口领取"), ("建设项目用地批准文件", "自然资源和规划局档案室调取"),
            ("建设工程设计方案", "具有资质的设计单位出具")]),
    ("QY-006", "建筑工程施工许可证核发", "住房和城乡建设局", "enterprise", True, True, _UPPER, 7,
     False, [("施工许可申请表", "工程建设项目审批管理系统填报"), ("建设工程规划许可证", "自然资源和规划局核发"),
             ("施工合同", "建设单位与施工单位签订"), ("施工图审查合格书", "施工图审查机构出具")]),
    ("QY-007", "公共场所卫生许可", "卫生健康委员会", "enterprise", True, True, _UPPER, 20, False,
     [("卫生许可申请书", "窗口领取"), _LICENSE, ("从业人员健康合格证明", "疾病预防控制机构体检后出具")]),
    ("QY-008", "排污许可", "生态环境局", "enterprise", True, True, _UPPER, 20, False,
     [("排污许可证申请表", "全国排污许可证管理信息平台填报"), ("环境影响评价审批文件", "生态环境局出具")]),
    ("QY-009", "道路货物运输经营许可", "交通运输局", "enterprise", True, True, _UPPER, 20, False,
     [("道路货物运输经营申请表", "窗口领取"), ("车辆行驶证", "公安交管部门核发"),
      ("驾驶员从业资格证", "交通运输部门核发")]),
    ("QY-010", "药品零售企业许可", "市场监督管理局", "enterprise", True, True, _UPPER, 30, False,
     [("药品经营许可证申请表", "窗口领取"), ("执业药师注册证", "药品监督管理部门核发"), _LEASE]),
    ("QY-011", "企业注销登记", "市场监督管理局", "enterprise", True, True, _UPPER, 3, False,
     [("注销登记申请书", "全程电子化平台填报"), ("清算报告", "清算组出具并经股东会确认"),
      ("清税证明", "税务部门出具，可网上申请")]),
    ("QY-012", "烟草专卖零售许可证核发", "烟草专卖局", "enterprise", True, True, _ALL_TIERS, 20,
     False, [("烟草专卖零售许可证申请表", "窗口领取或网上下载"), _ID, _LEASE]),
    ("QY-013", "取水许可", "水利局", "enterprise", True, True, _UPPER, 20, True,
     [("取水申请书", "窗口领取"), ("建设项目水资源论证报告", "具有资质的单位编制")]),
    ("QY-014", "特种设备使用登记", "市场监督管理局", "enterprise", True, True, _UPPER, 15, False,
     [("特种设备使用登记表", "特种设备安全监管平台填报"), ("产品合格证", "设备制造单位提供"),
      ("监督检验证明", "特种设备检验机构出具")]),
    ("QY-015", "人力资源服务许可", "人力资源和社会保障局", "enterprise", True, True, _UPPER, 20,
     False, [("人力资源服务许可申请书", "窗口领取"), _LICENSE, ("专职工作人员资格证明", "申请单位提供")]),
    ("MS-001", "城乡居民基本养老保险参保登记", "人力资源和社会保障局", "livelihood", True, True,
     _ALL_TIERS, 1, True, [_ID, _HUKOU]),
    ("MS-002", "城乡居民养老保险待遇申领", "人力资源和社会保障局", "livelihood", True, True,
     _ALL_TIERS, 10, False, [_ID, _HUKOU, _BANK]),
    ("MS-003", "残疾人证新办", "残疾人联合会", "livelihood", True, True, _ALL_TIERS, 20, False,
     [_ID, _HUKOU, _PHOTO, ("残疾评定表", "县残联指定的评定医院评定后出具")]),
    ("MS-004", "高龄津贴申领", "民政局", "livelihood", True, True, _ALL_TIERS, 20, False,
     [_ID, _HUKOU, _BANK]),
    ("MS-005", "最低生活保障申请", "民政局", "livelihood", True, True, _ALL_TIERS, 30, False,
     [_ID, _HUKOU, ("家庭经济状况核对授权书", "乡镇便民服务中心领取，家庭成员签字"),
      ("收入证明", "所在单位或村（居）委会出具")]),
    ("MS-006", "特困人员救助供养申请", "民政局", "livelihood", True, True, _ALL_TIERS, 30, False,
     [_ID, _HUKOU, ("特困人员救助供养申请书", "村（社区）便民服务站领取")]),
    ("MS-007", "临时救助申请", "民政局", "livelihood", True, True, _ALL_TIERS, 15, False,
     [_ID, ("临时救助申请书", "村（社区）便民服务站领取"), ("困难情况证明材料", "医院票据、事故证明等")]),
    ("MS-008", "城乡居民医疗保险参保登记", "医疗保障局", "livelihood", True, True, _ALL_TIERS, 1,
     True, [_ID, _HUKOU]),
    ("MS-009", "门诊慢特病待遇认定", "医疗保障局", "livelihood", True, True, _ALL_TIERS, 15, False,
     [_ID, ("病历及诊断证明", "二级及以上定点医疗机构出具"), ("检查化验报告", "就诊医院打印")]),
    ("MS-010", "居民身份证换领", "公安局", "livelihood", True, False, ["town", "county"], 20, True,
     [_HUKOU, ("原居民身份证", "本人携带")]),
    ("MS-011", "生育登记", "卫生健康委员会", "livelihood", True, True, _ALL_TIERS, 1, False,
     [("夫妻双方身份证", "本人携带原件"), ("结婚证", "本人携带原件")]),
    ("MS-012", "不动产转移登记", "自然资源和规划局", "livelihood", True, True, _UPPER, 5, True,
     [("不动产登记申请书", "窗口领取"), ("不动产权证书", "权利人持有"), ("买卖合同", "网签备案合同")]),
    ("MS-013", "农村村民宅基地和建房（规划许可）审批", "农业农村局", "livelihood", True, True,
     ["village", "town"], 20, False,
     [("农村宅基地和建房（规划许可）申请表", "村（社区）便民服务站领取"), _HUKOU,
      ("村民小组会议记录", "村民小组组织讨论后出具")]),
    ("MS-014", "困难残疾人生活补贴和重度残疾人护理补贴申请", "民政局", "livelihood", True, True,
     _ALL_TIERS, 20, False, [_ID, ("残疾人证", "县残联核发"), _BANK]),
    ("MS-015", "退役军人优待证申领", "退役军人事务局", "livelihood", True, True, _ALL_TIERS, 20,
     False, [_ID, _PHOTO, ("退役证件", "本人持有的退伍证或转业证")]),
    ("MS-016", "独生子女父母奖励申请", "卫生健康委员会", "livelihood", True, True, _ALL_TIERS, 20,
     False, [_ID, ("独生子女父母光荣证", "本人持有"), _HUKOU]),
]

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
            "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英玉兰建国建华志强海燕红梅春花淑珍凤英"
         "德明文华国庆晓东晓燕子涵宇航浩然欣怡梓萱一鸣雨桐")
ENTERPRISE_WORDS = ("鑫源", "豫北", "淇河", "朝歌", "黎阳", "云梦", "大伾", "泰和", "中鹤", "恒达")
ENTERPRISE_KINDS = ("农业科技有限公司", "食品有限公司", "商贸有限公司", "建材有限公司", "物流有限公司",
                    "养殖专业合作社", "餐饮店", "家庭农场")
#: mobile number prefixes in use in Henan (three big carriers)
MOBILE_PREFIXES = ("134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158",
                   "159", "182", "183", "187", "188", "130", "131", "132", "155", "156", "185",
                   "186", "133", "153", "180", "181", "189", "177", "199")
