"""The generator of the demo catalog, `catalog/data/demo_catalog.csv` (committed).

    .venv/bin/python -m yibao.catalog.demo_data        # rewrite the CSV

Made-up but plausible: several hundred items of every list type with valid national code
formats, realistic Chinese names, classes, ratios, price caps and restrictions, plus the
diagnosis, operation, 门慢特, 按病种 and 日间手术 codes the demo city's visits use. The
simulator's built-in items (`yibao.simulate.clinical.BUILTIN_ITEMS`) appear with the same codes,
names, caps and restrictions, so the demo bills settle against codes the platform knows.
Deterministic: running it twice writes the same file.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Final

OUT: Final = Path(__file__).parent / "data" / "demo_catalog.csv"

HEADER: Final = (
    "catalog_kind",
    "hilist_code",
    "hilist_name",
    "list_type",
    "med_chrgitm_type",
    "chrgitm_lv",
    "selfpay_prop",
    "selfpay_prop_psn",
    "hilist_pric_uplmt_amt",
    "prcunt",
    "spec",
    "dosform_name",
    "lmt_used_flag",
    "bas_medn_flag",
    "hi_nego_drug_flag",
    "chld_medc_flag",
    "lmt_gend",
    "lmt_age_min",
    "lmt_age_max",
    "lmt_hosp_lv",
    "lmt_med_type",
    "lmt_diag_codes",
    "lmt_days",
    "lmt_cnt",
    "memo",
    "begndate",
    "enddate",
)

BEGIN: Final = "2020-01-01"

# ----------------------------------------------------------------------------------------------
# The simulator's built-in items: code | name | list_type | med_chrgitm_type | lv | cap | ratio |
# gend | age_min | age_max | unit. Keep in step with yibao.simulate.clinical.BUILTIN_ITEMS.
# ----------------------------------------------------------------------------------------------
BUILTIN: Final = """
110200001000000|普通门诊诊查费|201|02|01|50.00|0||||次
110200002000000|副主任医师门诊诊查费|201|02|01|80.00|0||||次
110200005000000|一般诊疗费|201|12|01|10.00|0||||次
250101015000000|血细胞分析(血常规)|201|04|01|25.00|0||||项
250102001000000|尿液常规检查|201|04|01|12.00|0||||项
250301001000000|肝功能检测|201|04|01|70.00|0||||项
250302001000000|葡萄糖测定(血糖)|201|04|01|10.00|0||||项
250302003000000|糖化血红蛋白测定|201|04|01|80.00|0||||项
250303001000000|血脂四项|201|04|01|48.00|0||||项
250404001000000|前列腺特异性抗原测定|201|04|01|100.00|0|1|||项
270300001000000|宫颈细胞学检查|201|04|01|120.00|0|2|||项
210102001000000|胸部X线摄影|201|03|01|100.00|0||||次
210300001000000|CT平扫|201|03|02|300.00|0.10||||部位
220201001000000|彩色多普勒超声检查|201|03|01|180.00|0||||部位
310701001000000|常规心电图检查|201|03|01|30.00|0||||次
120400001000000|静脉输液|201|05|01|18.00|0||||组
430000001000000|针刺治疗|201|05|01|45.00|0||||次
440000001000000|推拿治疗|201|05|01|65.00|0||||次
340200001000000|中频脉冲电治疗|201|05|01|35.00|0||||次
310513001000000|龋齿充填术|201|05|01|150.00|0||||牙
311201001000000|阴道冲洗上药|201|05|01|35.00|0|2|||次
110900001000000|床位费(三人间)|201|01|01|50.00|0||||日
120100002000000|一级护理|201|07|01|39.00|0||||日
120100003000000|二级护理|201|07|01|26.00|0||||日
331003001000000|阑尾切除术|201|06|01|2000.00|0||||次
331506001000000|骨折切开复位内固定术|201|06|01|3800.00|0||||次
331203001000000|单胎顺产接生|201|06|01|1600.00|0|2|||次
330900001000000|经尿道前列腺电切术|201|06|01|3200.00|0|1|||次
C0101010100100000001|一次性使用输液器|301|08|01|4.00|0||||套
C0202010200200000002|静脉留置针|301|08|02|30.00|0.10||||支
C0303020100100000003|可吸收外科缝线|301|08|02|150.00|0.10||||根
C1001030100100000004|金属接骨板|301|08|02|3200.00|0.30||||块
XJ01CAA040E001010100001|阿莫西林胶囊|101|09|01|0.80|0||||粒
XJ01DDC104A001010100002|头孢克肟分散片|101|09|02|3.80|0.05||||片
XM01AEB060E002010100003|布洛芬缓释胶囊|101|09|01|1.10|0||||粒
XR05XAA070A001010100004|氨酚伪麻美芬片|101|09|01|1.00|0||||片
ZA01AAL018E001010100005|连花清瘟胶囊|101|11|02|0.90|0.05||||粒
XA02BCA022E001010100006|奥美拉唑肠溶胶囊|101|09|01|1.50|0||||粒
XC08CAA116A001010100007|苯磺酸氨氯地平片|101|09|01|0.60|0||||片
XC08CAN079A002010100008|硝苯地平控释片|101|09|02|3.20|0.05||||片
XA10BAE052A001010100009|盐酸二甲双胍片|101|09|01|0.40|0||||片
XA10AEG006B002010100010|甘精胰岛素注射液|101|09|02|82.00|0.10||||支
XB01ACA056A001010100011|阿司匹林肠溶片|101|09|01|0.20|0||||片
XC10AAA168A001010100012|阿托伐他汀钙片|101|09|01|1.40|0||||片
ZC01AAF079M001010100013|复方丹参滴丸|101|11|01|0.30|0||||丸
XR03BBT022L001010100014|噻托溴铵粉吸入剂|101|09|02|5.50|0.10||||粒
XG04CAT006E001010100015|盐酸坦索罗辛缓释胶囊|101|09|02|4.00|0.05|1|||粒
XG01AFX122V001010100016|硝酸咪康唑栓|101|09|01|5.00|0|2|||枚
XR05XAX123K001010100017|小儿氨酚黄那敏颗粒|101|09|01|0.90|0|||14|袋
XS01AEZ151G001010100018|左氧氟沙星滴眼液|101|09|01|20.00|0||||支
XD07XCM145H001010100019|糠酸莫米松乳膏|101|09|02|25.00|0.05||||支
XM01ABS036A001010100020|双氯芬酸钠缓释片|101|09|01|1.20|0||||片
XB05BBL001B001010100021|0.9%氯化钠注射液|101|09|01|3.50|0||||袋
XJ01DDT001B001010100022|注射用头孢曲松钠|101|09|02|14.00|0.05||||支
XH01BBS055B001010100023|缩宫素注射液|101|09|01|7.00|0|2|||支
XB05AAR001B001010100024|人血白蛋白|101|09|02|420.00|0.20||||瓶
"""

#: Restrictions added to built-in items that the simulator uses only within them.
BUILTIN_EXTRA: Final = {
    "XA10AEG006B002010100010": {"lmt_diag_codes": "E10,E11", "memo": "限1型或2型糖尿病"},
    "XR03BBT022L001010100014": {"lmt_diag_codes": "J44", "memo": "限慢性阻塞性肺疾病"},
    "XJ01DDC104A001010100002": {"selfpay_prop_psn": "1300:0"},
}

# ----------------------------------------------------------------------------------------------
# More western drugs: ATC level 4 (5 chars) | generic letter+3 digits | form code | name | spec |
# unit | form | lv | ratio | cap | flags: bas(基药) nego(国谈) | restrictions k=v;k=v
# ----------------------------------------------------------------------------------------------
DRUGS: Final = """
J01CR|A041|A001|阿莫西林克拉维酸钾片|0.375g*12片|片|片剂|01|0|1.60|1|
J01FA|A012|A001|阿奇霉素片|0.25g*6片|片|片剂|01|0|2.50|1|
J01FA|K013|K001|阿奇霉素干混悬剂|0.1g*6袋|袋|颗粒剂|01|0|2.20|1|lmt_age_max=14
J01MA|L022|A001|左氧氟沙星片|0.5g*4片|片|片剂|01|0|3.00|1|lmt_age_min=18
J01MA|M023|E001|盐酸莫西沙星片|0.4g*3片|片|片剂|02|0.10|9.80||lmt_age_min=18
J01DC|C031|A001|头孢呋辛酯片|0.25g*12片|片|片剂|01|0|1.90|1|
J01DB|C011|E001|头孢氨苄胶囊|0.25g*24粒|粒|胶囊剂|01|0|0.40|1|
J01DD|C105|B001|注射用头孢他啶|1.0g|支|注射剂|02|0.10|18.00||lmt_med_type=ipt
J01DH|M201|B001|注射用美罗培南|0.5g|支|注射剂|02|0.20|65.00||lmt_med_type=ipt;lmt_hosp_lv=2,3;memo=限多重耐药的重症感染
J02AC|F041|E001|氟康唑胶囊|50mg*6粒|粒|胶囊剂|01|0|2.10|1|
J05AB|A071|A001|阿昔洛韦片|0.2g*24片|片|片剂|01|0|0.50|1|
J05AH|O151|E001|磷酸奥司他韦胶囊|75mg*10粒|粒|胶囊剂|02|0.10|4.80||lmt_diag_codes=J09,J10,J11;memo=限流行性感冒
J05AH|O152|K001|磷酸奥司他韦颗粒|15mg*10袋|袋|颗粒剂|02|0.10|3.20||lmt_age_max=14;lmt_diag_codes=J09,J10,J11
N02BE|P011|A001|对乙酰氨基酚片|0.5g*12片|片|片剂|01|0|0.20|1|
N02BE|P012|X001|对乙酰氨基酚混悬滴剂|15ml|瓶|滴剂|01|0|12.00|1|lmt_age_max=3
M01AE|B061|X002|布洛芬混悬液|100ml|瓶|混悬剂|01|0|14.00|1|lmt_age_max=14
M01AH|S171|E001|塞来昔布胶囊|0.2g*6粒|粒|胶囊剂|02|0.10|3.60||lmt_age_min=18
M01AB|L121|A001|洛索洛芬钠片|60mg*20片|片|片剂|01|0|0.60||
A02BC|P031|E001|泮托拉唑钠肠溶片|40mg*14片|片|片剂|01|0|1.30||
A02BC|E041|E001|艾司奥美拉唑镁肠溶片|20mg*7片|片|片剂|02|0.10|4.50|0 1|
A02BC|O022|B001|注射用奥美拉唑钠|40mg|支|注射剂|02|0.10|8.00||lmt_med_type=ipt;lmt_diag_codes=K25,K26,K27,K92;memo=限消化道出血或溃疡的住院患者
A03FA|M091|A001|多潘立酮片|10mg*30片|片|片剂|01|0|0.30|1|
A03FA|M092|A001|枸橼酸莫沙必利片|5mg*24片|片|片剂|01|0|0.90||
A07DA|L051|E001|盐酸洛哌丁胺胶囊|2mg*6粒|粒|胶囊剂|01|0|1.20|1|
A07BC|M151|K001|蒙脱石散|3g*10袋|袋|散剂|01|0|1.50|1|
A06AD|L191|X003|乳果糖口服溶液|100ml|瓶|口服溶液剂|01|0|30.00|1|
A10BB|G111|A001|格列美脲片|2mg*30片|片|片剂|01|0|0.90|1|
A10BF|A081|A001|阿卡波糖片|50mg*30片|片|片剂|01|0|1.20|1|
A10BH|S191|A001|磷酸西格列汀片|100mg*7片|片|片剂|02|0.10|3.80|0 1|lmt_diag_codes=E11;memo=限二线用药
A10BK|D081|A001|达格列净片|10mg*14片|片|片剂|02|0.10|4.30|0 1|lmt_diag_codes=E11;memo=限2型糖尿病
A10BJ|L131|B002|利拉鲁肽注射液|3ml:18mg|支|注射剂|02|0.20|280.00|0 1|lmt_diag_codes=E11;lmt_hosp_lv=2,3;memo=限二甲双胍等治疗后血糖控制不佳的2型糖尿病
A10AB|M201|B002|门冬胰岛素注射液|3ml:300单位|支|注射剂|02|0.10|55.00||lmt_diag_codes=E10,E11
C09AA|E061|A001|马来酸依那普利片|10mg*16片|片|片剂|01|0|0.30|1|
C09CA|L101|A001|氯沙坦钾片|50mg*7片|片|片剂|01|0|1.20|1|
C09CA|V051|E001|缬沙坦胶囊|80mg*7粒|粒|胶囊剂|01|0|1.50|1|
C09CA|I071|A001|厄贝沙坦片|0.15g*7片|片|片剂|01|0|1.10|1|
C07AB|M121|A001|酒石酸美托洛尔片|25mg*20片|片|片剂|01|0|0.20|1|
C07AB|B141|A001|富马酸比索洛尔片|5mg*10片|片|片剂|01|0|1.40|1|
C03AA|H111|A001|氢氯噻嗪片|25mg*100片|片|片剂|01|0|0.05|1|
C03CA|F111|A001|呋塞米片|20mg*100片|片|片剂|01|0|0.05|1|
C10AA|R121|A001|瑞舒伐他汀钙片|10mg*7片|片|片剂|01|0|1.30|1|
C10AA|S101|A001|辛伐他汀片|20mg*7片|片|片剂|01|0|0.60|1|
B01AC|L161|A001|硫酸氢氯吡格雷片|75mg*7片|片|片剂|02|0.05|3.00||lmt_diag_codes=I20,I21,I25,I63,I70;memo=限冠心病、缺血性脑卒中或外周动脉疾病
B01AF|L171|A001|利伐沙班片|10mg*5片|片|片剂|02|0.10|8.00|0 1|lmt_diag_codes=I26,I48,I80,Z96;memo=限髋/膝关节置换术后或房颤
B01AB|E071|B002|依诺肝素钠注射液|0.4ml:4000IU|支|注射剂|02|0.10|28.00||lmt_med_type=ipt
C01DA|X041|A001|单硝酸异山梨酯缓释片|40mg*24片|片|片剂|01|0|0.90|1|
C01DA|N021|A003|硝酸甘油舌下片|0.5mg*100片|片|片剂|01|0|0.10|1|
C01EB|T161|A001|曲美他嗪片|20mg*30片|片|片剂|02|0.10|0.90||lmt_diag_codes=I20,I25
R06AX|L141|A001|氯雷他定片|10mg*6片|片|片剂|01|0|1.30|1|
R06AE|C061|A001|盐酸西替利嗪片|10mg*12片|片|片剂|01|0|1.00|1|
R05CB|A161|A001|盐酸氨溴索片|30mg*20片|片|片剂|01|0|0.30|1|
R05CB|A162|X004|盐酸氨溴索口服溶液|100ml|瓶|口服溶液剂|01|0|15.00|1|lmt_age_max=14
R05DA|D071|A001|氢溴酸右美沙芬片|15mg*24片|片|片剂|01|0|0.30|1|
R03AC|S011|L002|硫酸沙丁胺醇吸入气雾剂|100μg*200揿|瓶|气雾剂|01|0|25.00|1|
R03BA|B081|L003|吸入用布地奈德混悬液|2ml:1mg|支|吸入剂|02|0.10|6.50||lmt_diag_codes=J44,J45,J20,J21
R03DC|M031|A001|孟鲁司特钠片|10mg*5片|片|片剂|02|0.10|4.00||lmt_diag_codes=J45
R03DC|M032|A004|孟鲁司特钠咀嚼片|4mg*5片|片|片剂|02|0.10|3.60||lmt_age_max=14;lmt_diag_codes=J45
H02AB|P081|A001|醋酸泼尼松片|5mg*100片|片|片剂|01|0|0.10|1|
H02AB|D051|B001|地塞米松磷酸钠注射液|1ml:5mg|支|注射剂|01|0|0.80|1|
H03AA|L041|A001|左甲状腺素钠片|50μg*100片|片|片剂|01|0|0.40|1|
N05BA|A091|A001|阿普唑仑片|0.4mg*20片|片|片剂|01|0|0.30|1|lmt_days=7;memo=精神药品,每次处方不超过7日量
N05CF|Z011|A001|酒石酸唑吡坦片|10mg*7片|片|片剂|02|0.10|2.30||lmt_days=7
N06AB|S091|A001|盐酸舍曲林片|50mg*14片|片|片剂|02|0.05|3.20||
N06AB|E151|A001|草酸艾司西酞普兰片|10mg*7片|片|片剂|02|0.10|4.60|0 1|
N03AX|G021|E001|加巴喷丁胶囊|0.1g*50粒|粒|胶囊剂|02|0.10|0.60||
N03AF|C021|A001|卡马西平片|0.1g*100片|片|片剂|01|0|0.15|1|
N04BA|D101|A001|多巴丝肼片|0.25g*40片|片|片剂|01|0|1.20|1|
N06DA|D131|A001|盐酸多奈哌齐片|5mg*7片|片|片剂|02|0.10|4.20||lmt_diag_codes=F00,G30;memo=限明确诊断的阿尔茨海默病
G03AC|L071|A001|左炔诺孕酮片|1.5mg*1片|片|片剂|03|1|||lmt_gend=2;memo=紧急避孕药,医保不予支付
G03DA|P121|E001|黄体酮软胶囊|0.1g*10粒|粒|胶囊剂|02|0.10|3.50||lmt_gend=2
G03CA|E021|A001|戊酸雌二醇片|1mg*21片|片|片剂|02|0.10|1.20||lmt_gend=2
G02CB|B041|A001|甲磺酸溴隐亭片|2.5mg*30片|片|片剂|01|0|1.30||
G04BE|S111|A001|枸橼酸西地那非片|0.1g*1片|片|片剂|03|1|||lmt_gend=1;memo=医保不予支付
G04CB|F031|A001|非那雄胺片|5mg*10片|片|片剂|02|0.10|2.80||lmt_gend=1;lmt_diag_codes=N40
L04AX|M111|A001|甲氨蝶呤片|2.5mg*100片|片|片剂|01|0|0.30|1|lmt_hosp_lv=2,3
L01XE|Y011|A001|甲磺酸伊马替尼片|0.1g*60片|片|片剂|02|0.10|26.00|0 1|lmt_hosp_lv=3;lmt_diag_codes=C92.1,C88;memo=限慢性髓性白血病
L01XC|B021|B002|贝伐珠单抗注射液|4ml:100mg|瓶|注射剂|02|0.20|1198.00|0 1|lmt_hosp_lv=3;lmt_med_type=ipt,14;lmt_diag_codes=C18,C19,C20,C34;memo=国谈药,限晚期结直肠癌或非小细胞肺癌
L03AB|P091|B002|聚乙二醇干扰素α-2a注射液|180μg|支|注射剂|02|0.20|680.00|0 1|lmt_hosp_lv=2,3;lmt_diag_codes=B18
S01ED|T121|G002|马来酸噻吗洛尔滴眼液|5ml:25mg|支|滴眼剂|01|0|3.00|1|
S01XA|S161|G003|玻璃酸钠滴眼液|0.3%*5ml|支|滴眼剂|02|0.20|23.00||lmt_diag_codes=H04.1,H16,H19
D06AX|M181|H002|莫匹罗星软膏|5g|支|软膏剂|01|0|12.00|1|
D01AC|B111|H002|联苯苄唑乳膏|15g|支|乳膏剂|01|0|9.00|1|
V03AB|N011|B001|盐酸纳洛酮注射液|1ml:0.4mg|支|注射剂|01|0|4.50|1|lmt_med_type=13,ipt
N01BB|L011|B001|盐酸利多卡因注射液|5ml:0.1g|支|注射剂|01|0|0.60|1|
B03AA|F051|A001|硫酸亚铁片|0.3g*100片|片|片剂|01|0|0.05|1|
B03BB|F061|A001|叶酸片|0.4mg*31片|片|片剂|01|0|0.10|1|lmt_gend=2
A11CC|A131|E003|阿法骨化醇软胶囊|0.25μg*20粒|粒|胶囊剂|02|0.10|1.40||lmt_age_min=50
M05BA|A141|A001|阿仑膦酸钠片|70mg*1片|片|片剂|02|0.10|18.00||lmt_diag_codes=M80,M81
A12AX|C111|A004|碳酸钙D3咀嚼片|600mg*60片|片|片剂|03|1|||memo=保健类, 医保不予支付
B05XA|K031|B003|氯化钾注射液|10ml:1.5g|支|注射剂|01|0|0.70|1|
B05BA|P041|B003|复方氨基酸注射液(18AA)|250ml|瓶|注射剂|02|0.20|35.00||lmt_med_type=ipt;memo=限经营养风险筛查有营养风险的住院患者
B05CB|G061|B003|5%葡萄糖注射液|250ml|袋|注射剂|01|0|3.20|1|
"""

#: A drug whose cap changed on 2025-01-01: two terms of one code (a versioned example).
REPRICED: Final = (
    ("XC08CAN080A001010200025", "硝苯地平缓释片(Ⅱ)", "01", "0", "0.90", BEGIN, "2024-12-31"),
    ("XC08CAN080A001010200025", "硝苯地平缓释片(Ⅱ)", "01", "0", "0.65", "2025-01-01", ""),
)

# 中成药: category (5) | generic (letter+3) | form | name | spec | unit | lv | ratio | cap | restrictions
PATENT: Final = """
A01AA|G012|K001|感冒清热颗粒|12g*10袋|袋|01|0|1.20|
A01AB|Y021|A001|银翘解毒片|0.5g*24片|片|01|0|0.25|
A01AB|S111|X001|双黄连口服液|10ml*10支|支|01|0|1.80|
A01BA|P031|K001|蒲地蓝消炎片|0.3g*48片|片|02|0.10|0.35|
A04BA|X071|A001|小柴胡颗粒|10g*10袋|袋|01|0|1.40|
A05AA|X121|A001|香砂养胃丸|9g*10袋|袋|01|0|1.10|
A06AA|B021|A001|保和丸|6g*10袋|袋|01|0|0.90|
A09AA|L061|A001|六味地黄丸|200丸|瓶|01|0|18.00|
A09AB|J041|A001|金匮肾气丸|200丸|瓶|01|0|22.00|
A10AA|B031|K001|补中益气颗粒|3g*12袋|袋|02|0.10|1.60|
A12BA|X111|A001|血府逐瘀胶囊|0.4g*24粒|粒|02|0.10|0.80|lmt_diag_codes=I20,I25
A12BA|S051|E001|麝香保心丸|22.5mg*42丸|丸|01|0|0.90|
A12BA|T031|E001|通心络胶囊|0.26g*30粒|粒|02|0.10|1.20|lmt_diag_codes=I20,I25,I63
A12CA|D021|B002|丹红注射液|10ml|支|02|0.20|24.00|lmt_med_type=ipt;lmt_hosp_lv=2,3;lmt_diag_codes=I63;memo=限二级及以上医疗机构住院的缺血性脑卒中
A14AA|Q011|A001|清开灵胶囊|0.25g*24粒|粒|01|0|0.45|
A15AA|Y041|A001|云南白药胶囊|0.25g*32粒|粒|01|0|1.60|
A16AA|G041|H001|麝香追风止痛膏|7cm*10cm*4贴|贴|02|0.10|2.50|
A17AA|F021|A001|妇科千金片|0.32g*72片|片|01|0|0.30|lmt_gend=2
A17AB|G051|A001|桂枝茯苓胶囊|0.31g*60粒|粒|01|0|0.55|lmt_gend=2
A18AA|X051|K001|小儿豉翘清热颗粒|2g*6袋|袋|02|0.05|2.80|lmt_age_max=14
A18AA|X052|K001|小儿肺咳颗粒|3g*6袋|袋|02|0.10|2.60|lmt_age_max=14
A19AA|Q021|A001|前列通片|0.34g*54片|片|02|0.10|0.60|lmt_gend=1
A20AA|M031|A001|明目地黄丸|6g*10袋|袋|01|0|1.00|
A21AA|K031|A001|口炎清颗粒|10g*10袋|袋|01|0|1.20|
A22AA|P051|A001|皮肤病血毒丸|200丸|瓶|02|0.10|16.00|
"""

# 中药饮片 (102): code T + 9 digits | name | lv | ratio | cap (per 克) | memo
HERBS: Final = """
黄芪|01|0|0.12
当归|01|0|0.35
党参|01|0|0.28
白术|01|0|0.16
茯苓|01|0|0.10
甘草|01|0|0.08
川芎|01|0|0.14
白芍|01|0|0.12
熟地黄|01|0|0.10
陈皮|01|0|0.06
法半夏|01|0|0.30
柴胡|01|0|0.45
黄芩|01|0|0.12
金银花|01|0|0.60
连翘|01|0|0.30
板蓝根|01|0|0.08
丹参|01|0|0.10
红花|01|0|0.90
桃仁|01|0|0.20
枸杞子|01|0|0.25
山药|01|0|0.12
麦冬|01|0|0.40
五味子|01|0|0.35
菊花|01|0|0.30
薄荷|01|0|0.06
葛根|01|0|0.05
桂枝|01|0|0.05
麻黄|01|0|0.10
苦杏仁|01|0|0.12
桔梗|01|0|0.15
大枣|01|0|0.05
生姜|01|0|0.03
制附子|01|0|0.30
酸枣仁|01|0|1.20
三七粉|02|0.20|2.20
人参|03|1|
西洋参|03|1|
冬虫夏草|03|1|
阿胶|03|1|
鹿茸|03|1|
"""

# 医疗机构制剂 (103): code | name | spec | unit | cap
PREPARATIONS: Final = """
ZJ3701001|清肺止咳合剂|100ml|瓶|18.00
ZJ3701002|健脾消食颗粒|10g*10袋|袋|1.50
ZJ3701003|活血止痛膏|10贴|贴|2.00
ZJ3701004|复方薄荷脑软膏|20g|支|8.00
ZJ3701005|炉甘石洗剂|100ml|瓶|6.00
ZJ3701006|小儿退热贴|4贴|贴|2.50
"""

# 医疗服务项目 (201): 9-digit price item | name | med_chrgitm_type | lv | ratio | cap | unit | restrictions
SERVICES: Final = """
110200003|主任医师门诊诊查费|02|01|0|100.00|次|
110200004|急诊诊查费|02|01|0|30.00|次|lmt_med_type=13
110300001|院际会诊|02|01|0|200.00|次|
110900002|床位费(双人间)|01|01|0|70.00|日|lmt_med_type=ipt
110900004|重症监护床位费|01|01|0|150.00|日|lmt_med_type=ipt;lmt_hosp_lv=2,3
120100001|特级护理|07|01|0|70.00|日|lmt_med_type=ipt
120100004|三级护理|07|01|0|14.00|日|lmt_med_type=ipt
120200001|气管切开护理|07|01|0|30.00|日|lmt_med_type=ipt
120400002|肌肉注射|05|01|0|3.00|次|
120400003|静脉注射|05|01|0|5.00|次|
120500001|换药(小)|05|01|0|15.00|次|
120600001|氧气吸入|05|01|0|3.00|小时|lmt_cnt=24
120900001|雾化吸入|05|01|0|8.00|次|
121100001|导尿|05|01|0|20.00|次|
210103001|腰椎正侧位X线摄影|03|01|0|120.00|次|
210200001|乳腺钼靶摄影|03|01|0|180.00|次|lmt_gend=2
210300002|CT增强扫描|03|02|0.10|450.00|部位|
210400001|磁共振平扫|03|02|0.10|600.00|部位|lmt_hosp_lv=2,3
210400002|磁共振增强扫描|03|02|0.10|900.00|部位|lmt_hosp_lv=2,3
210500001|正电子发射计算机断层显像(PET-CT)|03|03|1|7000.00|次|lmt_hosp_lv=3;memo=限三级医院,医保不予支付
220100001|腹部B超|03|01|0|80.00|次|
220300001|心脏彩色多普勒超声|03|01|0|220.00|次|
220600001|经阴道B超|03|01|0|100.00|次|lmt_gend=2
230100001|胃镜检查|03|01|0|260.00|次|
230100002|结肠镜检查|03|01|0|320.00|次|
250104001|粪便常规|04|01|0|8.00|项|
250201001|凝血功能四项|04|01|0|90.00|项|
250305001|肾功能检测|04|01|0|45.00|项|
250306001|电解质测定|04|01|0|40.00|项|
250307001|甲状腺功能五项|04|01|0|150.00|项|
250401001|C反应蛋白测定|04|01|0|30.00|项|
250402001|降钙素原测定|04|02|0.10|150.00|项|
250403001|乙型肝炎病毒表面抗原测定|04|01|0|20.00|项|
250404002|癌胚抗原测定|04|01|0|60.00|项|
250404003|甲胎蛋白测定|04|01|0|60.00|项|
250501001|新型冠状病毒核酸检测|04|01|0|40.00|次|
250502001|甲型/乙型流感病毒抗原检测|04|01|0|60.00|次|
250601001|人绒毛膜促性腺激素测定|04|01|0|40.00|项|lmt_gend=2
250701001|精液常规检查|04|01|0|40.00|次|lmt_gend=1
270200001|病理活检|04|01|0|200.00|例|
310100001|脑电图|03|01|0|100.00|次|
310702001|动态心电图|03|01|0|180.00|次|
310703001|平板运动试验|03|01|0|200.00|次|lmt_age_max=75
310800001|肺功能检查|03|01|0|150.00|次|
311000001|骨密度测定|03|02|0.20|100.00|部位|lmt_age_min=50
311300001|眼底检查|03|01|0|20.00|次|
311400001|电测听|03|01|0|40.00|次|
311500001|血液透析|05|01|0|420.00|次|lmt_diag_codes=N18,N17;memo=限肾功能衰竭
311600001|高压氧治疗|05|02|0.10|120.00|次|lmt_cnt=1;lmt_days=30
320100001|冠状动脉造影术|06|01|0|2500.00|次|lmt_hosp_lv=3;lmt_med_type=ipt
320100002|经皮冠状动脉支架置入术|06|01|0|6500.00|次|lmt_hosp_lv=3;lmt_med_type=ipt;lmt_diag_codes=I20,I21,I25
330100001|局部浸润麻醉|06|01|0|50.00|次|
330100002|全身麻醉|06|01|0|900.00|小时|lmt_med_type=ipt,28
330200001|颅内血肿清除术|06|01|0|6000.00|次|lmt_hosp_lv=3;lmt_med_type=ipt
331001001|胆囊切除术|06|01|0|2800.00|次|lmt_med_type=ipt,28
331001002|腹腔镜下胆囊切除术|06|01|0|3500.00|次|lmt_med_type=ipt,28
331002001|腹股沟疝修补术|06|01|0|1800.00|次|lmt_med_type=ipt,28
331101001|痔切除术|06|01|0|1200.00|次|
331204001|剖宫产术|06|01|0|2200.00|次|lmt_gend=2;lmt_med_type=ipt
331205001|人工流产术|06|01|0|400.00|次|lmt_gend=2
331301001|白内障超声乳化摘除术|06|01|0|2500.00|次|lmt_med_type=ipt,28
331507001|人工全髋关节置换术|06|01|0|8000.00|次|lmt_hosp_lv=2,3;lmt_med_type=ipt
331508001|膝关节镜检查术|06|01|0|2000.00|次|
340100001|运动疗法|05|01|0|40.00|次|lmt_days=90
340100002|作业疗法|05|01|0|35.00|次|
340200002|超短波治疗|05|01|0|20.00|次|
340300001|颈椎牵引|05|01|0|20.00|次|lmt_cnt=2
410000001|中医辨证论治|02|01|0|30.00|次|
430000002|电针治疗|05|01|0|50.00|次|
430000003|艾灸|05|01|0|30.00|次|
430000004|拔罐|05|01|0|15.00|次|
440000002|小儿推拿|05|01|0|50.00|次|lmt_age_max=14
450000001|中药熏洗治疗|05|02|0.20|40.00|次|
480000001|心理咨询|05|03|1|100.00|次|memo=医保不予支付
"""

# 医用耗材 (301): code C + 19 digits | name | lv | ratio | cap | unit | restrictions
CONSUMABLES: Final = """
C0101010200100000005|一次性使用注射器|01|0|0.80|支|
C0101020100100000006|一次性使用输血器|01|0|8.00|套|
C0102010100100000007|医用外科口罩|01|0|0.50|个|
C0102020100100000008|一次性使用无菌手套|01|0|1.50|副|
C0201010100100000009|一次性使用导尿包|01|0|25.00|套|
C0202020100100000010|中心静脉导管|02|0.20|380.00|套|lmt_med_type=ipt
C0301010100100000011|医用纱布敷料|01|0|2.00|块|
C0301020100100000012|透明敷贴|01|0|6.00|贴|
C0302010100100000013|皮肤缝合器|02|0.20|260.00|个|
C0401010100100000014|一次性使用吸痰管|01|0|3.00|根|
C0402010100100000015|气管插管|01|0|45.00|根|lmt_med_type=ipt,13
C0501010100100000016|一次性使用胃管|01|0|12.00|根|
C0601010100100000017|医用弹力绷带|01|0|15.00|卷|
C0701010100100000018|血糖试纸|02|0.30|2.50|条|lmt_diag_codes=E10,E11,O24
C0801010100100000019|人工晶状体|02|0.30|1800.00|个|lmt_hosp_lv=2,3
C0901010100100000020|吻合器|02|0.30|2600.00|个|lmt_med_type=ipt,28
C1001030200100000021|髓内钉|02|0.30|4500.00|根|lmt_hosp_lv=2,3;lmt_med_type=ipt
C1002010100100000022|人工髋关节假体|02|0.30|25000.00|套|lmt_hosp_lv=2,3;lmt_med_type=ipt
C1101010100100000023|冠脉药物洗脱支架|02|0.30|800.00|个|lmt_hosp_lv=3;lmt_med_type=ipt;memo=国家集采,限三级医院
C1102010100100000024|PTCA球囊扩张导管|02|0.30|1500.00|根|lmt_hosp_lv=3;lmt_med_type=ipt
C1201010100100000025|一次性使用血液透析器|02|0.20|120.00|个|lmt_diag_codes=N17,N18
C1301010100100000026|一次性使用腹腔镜穿刺器|02|0.20|600.00|套|lmt_med_type=ipt,28
C1401010100100000027|宫内节育器|01|0|80.00|个|lmt_gend=2
C1501010100100000028|医用冷敷贴|03|1|30.00|贴|memo=医保不予支付
C1601010100100000029|一次性使用鼻氧管|01|0|4.00|根|
C1701010100100000030|静脉输液港|02|0.30|6000.00|套|lmt_hosp_lv=3;lmt_diag_codes=C00,C01,C02,C15,C16,C18,C20,C34,C50
"""

# Code catalogs: kind | code | name | gend | memo
DISEASES: Final = """
diagnosis|J06.900|急性上呼吸道感染||
diagnosis|J06.901|小儿急性上呼吸道感染||
diagnosis|J20.900|急性支气管炎||
diagnosis|J18.900|肺炎||
diagnosis|J18.900x001|社区获得性肺炎||
diagnosis|J44.900|慢性阻塞性肺疾病||
diagnosis|J45.900|支气管哮喘||
diagnosis|J11.100|流行性感冒||
diagnosis|K29.700|胃炎||
diagnosis|K25.900|胃溃疡||
diagnosis|K35.800|急性阑尾炎||
diagnosis|K80.200|胆囊结石||
diagnosis|K02.900|龋病||
diagnosis|M54.500|腰痛||
diagnosis|M81.900|骨质疏松||
diagnosis|H10.900|结膜炎||
diagnosis|H25.900|老年性白内障||
diagnosis|L30.900|皮炎||
diagnosis|N40.x00|前列腺增生|1|
diagnosis|N76.000|阴道炎|2|
diagnosis|N18.500|慢性肾脏病5期||
diagnosis|Z00.000|一般医学检查||
diagnosis|I10.x00|原发性高血压||
diagnosis|I10.x00x002|高血压2级||
diagnosis|E11.900|2型糖尿病||
diagnosis|E10.900|1型糖尿病||
diagnosis|I25.100|冠状动脉粥样硬化性心脏病||
diagnosis|I20.000|不稳定型心绞痛||
diagnosis|I21.900|急性心肌梗死||
diagnosis|I48.x00|心房颤动||
diagnosis|I63.900|脑梗死||
diagnosis|S52.500|桡骨下端骨折||
diagnosis|S72.000|股骨颈骨折||
diagnosis|O80.000|单胎顺产|2|
diagnosis|O82.000|剖宫产|2|
diagnosis|C34.900|支气管或肺恶性肿瘤||
diagnosis|C18.900|结肠恶性肿瘤||
diagnosis|C50.900|乳房恶性肿瘤||
diagnosis|F32.900|抑郁发作||
diagnosis|G30.900|阿尔茨海默病||
diagnosis|B18.100|慢性乙型病毒性肝炎||
operation|47.0900|阑尾切除术||
operation|47.0100|腹腔镜下阑尾切除术||
operation|51.2300|腹腔镜下胆囊切除术||
operation|53.0000|腹股沟疝单侧修补术||
operation|79.3200|桡骨和尺骨骨折切开复位内固定术||
operation|81.5100|全髋关节置换||
operation|73.5900|手法助产|2|
operation|74.1000|低位子宫下段剖宫产|2|
operation|60.2900|经尿道前列腺电切术|1|
operation|13.4100|白内障晶状体超声乳化和抽吸||
operation|36.0700x001|经皮冠状动脉药物洗脱支架置入术||
operation|88.5500|单根导管的冠状动脉造影术||
operation|39.9500|血液透析||
chronic_disease|M03900|高血压||
chronic_disease|M01600|糖尿病||
chronic_disease|M02300|冠心病||
chronic_disease|M04800|脑卒中后遗症||
chronic_disease|M05300|慢性阻塞性肺疾病||
chronic_disease|M07800|慢性肾功能衰竭(透析)||
chronic_disease|M00500|恶性肿瘤门诊治疗||
chronic_disease|M02100|慢性心力衰竭||
chronic_disease|M06900|阿尔茨海默病||
chronic_disease|M08300|精神分裂症||
disease_payment|K35.800|急性阑尾炎(阑尾切除术)||
disease_payment|K80.200|胆囊结石(腹腔镜胆囊切除术)||
disease_payment|O80.000|单胎顺产|2|
disease_payment|O82.000|剖宫产|2|
disease_payment|H25.900|老年性白内障(超声乳化)||
day_surgery|51.2300|腹腔镜下胆囊切除术||
day_surgery|13.4100|白内障晶状体超声乳化和抽吸||
day_surgery|53.0000|腹股沟疝单侧修补术||
day_surgery|45.4200|内镜下结肠息肉切除术||
"""


def _rows() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []

    def add(**values: str) -> None:
        row = dict.fromkeys(HEADER, "")
        row["catalog_kind"] = "hilist"
        row["begndate"] = BEGIN
        row.update(values)
        rows.append(row)

    def restrictions(text: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for part in filter(None, text.split(";")):
            key, _, value = part.partition("=")
            out[key.strip()] = value.strip()
        return out

    for line in filter(None, BUILTIN.strip().splitlines()):
        code, name, lt, med, lv, cap, ratio, gend, age_min, age_max, unit = line.split("|")
        add(
            hilist_code=code,
            hilist_name=name,
            list_type=lt,
            med_chrgitm_type=med,
            chrgitm_lv=lv,
            selfpay_prop=ratio,
            hilist_pric_uplmt_amt=cap,
            prcunt=unit,
            lmt_gend=gend,
            lmt_age_min=age_min,
            lmt_age_max=age_max,
            chld_medc_flag="1" if age_max else "0",
            **BUILTIN_EXTRA.get(code, {}),
        )

    for i, line in enumerate(filter(None, DRUGS.strip().splitlines()), start=101):
        atc, generic, form, name, spec, unit, dosform, lv, ratio, cap, flags, extra = line.split(
            "|"
        )
        bas, nego = [*flags.split(" "), "0", "0"][:2] if flags else ["0", "0"]
        code = f"X{atc}{generic}{form}0101{i:05d}"
        r = restrictions(extra)
        add(
            hilist_code=code,
            hilist_name=name,
            list_type="101",
            med_chrgitm_type="09",
            chrgitm_lv=lv,
            selfpay_prop=ratio,
            selfpay_prop_psn="1300:0" if lv == "02" else "",
            hilist_pric_uplmt_amt=cap,
            prcunt=unit,
            spec=spec,
            dosform_name=dosform,
            bas_medn_flag=bas or "0",
            hi_nego_drug_flag=nego or "0",
            chld_medc_flag="1" if "lmt_age_max" in r else "0",
            lmt_used_flag="1" if "lmt_diag_codes" in r else "0",
            **r,
        )

    for code, name, lv, ratio, cap, begn, end in REPRICED:
        add(
            hilist_code=code,
            hilist_name=name,
            list_type="101",
            med_chrgitm_type="09",
            chrgitm_lv=lv,
            selfpay_prop=ratio,
            hilist_pric_uplmt_amt=cap,
            prcunt="片",
            spec="20mg*30片",
            dosform_name="缓释片",
            bas_medn_flag="1",
            memo="2025年起降价 (price cap lowered from 2025)",
            begndate=begn,
            enddate=end,
        )

    for i, line in enumerate(filter(None, PATENT.strip().splitlines()), start=301):
        cat, generic, form, name, spec, unit, lv, ratio, cap, extra = line.split("|")
        r = restrictions(extra)
        add(
            hilist_code=f"Z{cat}{generic}{form}0101{i:05d}",
            hilist_name=name,
            list_type="101",
            med_chrgitm_type="11",
            chrgitm_lv=lv,
            selfpay_prop=ratio,
            hilist_pric_uplmt_amt=cap,
            prcunt=unit,
            spec=spec,
            chld_medc_flag="1" if "lmt_age_max" in r else "0",
            lmt_used_flag="1" if "lmt_diag_codes" in r else "0",
            **r,
        )

    for i, line in enumerate(filter(None, HERBS.strip().splitlines()), start=1):
        name, lv, ratio, cap = line.split("|")
        add(
            hilist_code=f"T{i:04d}00{i * 7 % 997:03d}",
            hilist_name=name,
            list_type="102",
            med_chrgitm_type="10",
            chrgitm_lv=lv,
            selfpay_prop=ratio,
            hilist_pric_uplmt_amt=cap,
            prcunt="克",
            memo="单味使用不予支付" if lv == "03" else "",
        )

    for line in filter(None, PREPARATIONS.strip().splitlines()):
        code, name, spec, unit, cap = line.split("|")
        add(
            hilist_code=code,
            hilist_name=name,
            list_type="103",
            med_chrgitm_type="11",
            chrgitm_lv="02",
            selfpay_prop="0.10",
            hilist_pric_uplmt_amt=cap,
            prcunt=unit,
            spec=spec,
            memo="本统筹区医疗机构制剂",
        )

    for line in filter(None, SERVICES.strip().splitlines()):
        code9, name, med, lv, ratio, cap, unit, extra = line.split("|")
        add(
            hilist_code=f"{code9}000000",
            hilist_name=name,
            list_type="201",
            med_chrgitm_type=med,
            chrgitm_lv=lv,
            selfpay_prop=ratio,
            hilist_pric_uplmt_amt=cap,
            prcunt=unit,
            **restrictions(extra),
        )

    for line in filter(None, CONSUMABLES.strip().splitlines()):
        code, name, lv, ratio, cap, unit, extra = line.split("|")
        add(
            hilist_code=code,
            hilist_name=name,
            list_type="301",
            med_chrgitm_type="08",
            chrgitm_lv=lv,
            selfpay_prop=ratio,
            selfpay_prop_psn="1300:0" if lv == "02" else "",
            hilist_pric_uplmt_amt=cap,
            prcunt=unit,
            **restrictions(extra),
        )

    for line in filter(None, DISEASES.strip().splitlines()):
        kind, code, name, gend, memo = line.split("|")
        row = dict.fromkeys(HEADER, "")
        row.update(
            catalog_kind=kind,
            hilist_code=code,
            hilist_name=name,
            lmt_gend=gend,
            memo=memo,
            begndate=BEGIN,
        )
        rows.append(row)
    return rows


def render() -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_rows())
    return buffer.getvalue()


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = render()
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({text.count(chr(10)) - 1} rows)")


if __name__ == "__main__":
    main()
